//! The play queue: what plays and in which order. Pure bookkeeping, owned by the engine's
//! decoder thread so the next item is known early enough to join it gaplessly.

use crate::source::QueueItem;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RepeatMode {
    #[default]
    Off,
    /// The current track again when it ends ("next" still moves on).
    One,
    /// The whole queue again from the start.
    All,
}

impl RepeatMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RepeatMode::Off => "off",
            RepeatMode::One => "one",
            RepeatMode::All => "all",
        }
    }
}

impl std::str::FromStr for RepeatMode {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "off" => Ok(RepeatMode::Off),
            "one" => Ok(RepeatMode::One),
            "all" => Ok(RepeatMode::All),
            other => Err(format!("unknown repeat mode {other:?}: use off, one or all")),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Queue {
    items: Vec<QueueItem>,
    /// Indices into `items` in play order: identity, or a shuffle.
    order: Vec<usize>,
    /// The playing item's index into `items`.
    current: Option<usize>,
    shuffle: bool,
    repeat: RepeatMode,
    seed: u64,
}

impl Queue {
    pub(crate) fn new() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        Queue { seed: seed | 1, ..Queue::default() }
    }

    pub(crate) fn items(&self) -> &[QueueItem] {
        &self.items
    }

    pub(crate) fn get(&self, index: usize) -> Option<&QueueItem> {
        self.items.get(index)
    }

    #[cfg(test)]
    pub(crate) fn current(&self) -> Option<usize> {
        self.current
    }

    pub(crate) fn set_current(&mut self, index: Option<usize>) {
        self.current = index.filter(|&i| i < self.items.len());
    }

    pub(crate) fn shuffle(&self) -> bool {
        self.shuffle
    }

    pub(crate) fn repeat(&self) -> RepeatMode {
        self.repeat
    }

    pub(crate) fn set_repeat(&mut self, repeat: RepeatMode) {
        self.repeat = repeat;
    }

    /// Replaces everything; `start` becomes current.
    pub(crate) fn replace(&mut self, items: Vec<QueueItem>, start: usize) {
        self.items = items;
        self.current = (start < self.items.len()).then_some(start);
        self.rebuild_order();
    }

    pub(crate) fn append(&mut self, items: Vec<QueueItem>) {
        let first = self.items.len();
        self.items.extend(items);
        let added: Vec<usize> = (first..self.items.len()).collect();
        if self.shuffle {
            // New items land at random places among the not-yet-played part.
            let after = self.order_position().map_or(0, |p| p + 1);
            for index in added {
                let span = (self.order.len() - after + 1) as u64;
                let at = after + (self.next_random() % span) as usize;
                self.order.insert(at, index);
            }
        } else {
            self.order.extend(added);
        }
    }

    /// Inserts `items` to play right after the current one.
    pub(crate) fn play_next(&mut self, items: Vec<QueueItem>) {
        let count = items.len();
        let at_item = self.current.map_or(self.items.len(), |c| c + 1);
        self.items.splice(at_item..at_item, items);
        for index in &mut self.order {
            if *index >= at_item {
                *index += count;
            }
        }
        let at_order = self.order_position().map_or(self.order.len(), |p| p + 1);
        self.order.splice(at_order..at_order, at_item..at_item + count);
    }

    /// Removes the item at `index`; returns whether it was the current one.
    pub(crate) fn remove(&mut self, index: usize) -> Option<bool> {
        if index >= self.items.len() {
            return None;
        }
        let was_current = self.current == Some(index);
        let position = self.order.iter().position(|&i| i == index);
        self.items.remove(index);
        if let Some(p) = position {
            self.order.remove(p);
        }
        for i in &mut self.order {
            if *i > index {
                *i -= 1;
            }
        }
        self.current = match self.current {
            Some(c) if c == index => None,
            Some(c) if c > index => Some(c - 1),
            other => other,
        };
        Some(was_current)
    }

    /// Moves the item at `from` to `to` (both item positions as the user sees the list).
    pub(crate) fn move_item(&mut self, from: usize, to: usize) -> bool {
        if from >= self.items.len() || to >= self.items.len() {
            return false;
        }
        let item = self.items.remove(from);
        self.items.insert(to, item);
        let remap = |i: usize| -> usize {
            if i == from {
                to
            } else if from < to && i > from && i <= to {
                i - 1
            } else if to < from && i >= to && i < from {
                i + 1
            } else {
                i
            }
        };
        self.current = self.current.map(remap);
        if self.shuffle {
            for i in &mut self.order {
                *i = remap(*i);
            }
        } else {
            self.rebuild_order();
        }
        true
    }

    pub(crate) fn clear(&mut self) {
        self.items.clear();
        self.order.clear();
        self.current = None;
    }

    pub(crate) fn set_shuffle(&mut self, shuffle: bool) {
        self.shuffle = shuffle;
        self.rebuild_order();
    }

    /// What follows `index` in play order. `natural` is true when the track simply ended
    /// (repeat-one replays it); false for an explicit "next".
    pub(crate) fn after(&mut self, index: usize, natural: bool) -> Option<usize> {
        if natural && self.repeat == RepeatMode::One {
            return Some(index);
        }
        let position = self.order.iter().position(|&i| i == index)?;
        if let Some(&next) = self.order.get(position + 1) {
            return Some(next);
        }
        if self.repeat == RepeatMode::Off || self.items.is_empty() {
            return None;
        }
        if self.shuffle {
            // A new round: every track once more, in a fresh order, not starting with the
            // one that just played when that can be avoided.
            self.shuffle_from(None);
            if self.order.len() > 1 && self.order[0] == index {
                self.order.swap(0, 1);
            }
        }
        self.order.first().copied()
    }

    /// What precedes `index` in play order.
    pub(crate) fn before(&self, index: usize) -> Option<usize> {
        let position = self.order.iter().position(|&i| i == index)?;
        if position > 0 {
            return Some(self.order[position - 1]);
        }
        (self.repeat == RepeatMode::All).then(|| *self.order.last().expect("the order holds index"))
    }

    fn order_position(&self) -> Option<usize> {
        let current = self.current?;
        self.order.iter().position(|&i| i == current)
    }

    fn rebuild_order(&mut self) {
        if self.shuffle {
            self.shuffle_from(self.current);
        } else {
            self.order = (0..self.items.len()).collect();
        }
    }

    /// A fresh permutation; `first`, when given, leads it (the track playing keeps playing).
    fn shuffle_from(&mut self, first: Option<usize>) {
        let mut rest: Vec<usize> = (0..self.items.len()).filter(|&i| Some(i) != first).collect();
        for i in (1..rest.len()).rev() {
            let j = (self.next_random() % (i as u64 + 1)) as usize;
            rest.swap(i, j);
        }
        self.order = first.into_iter().chain(rest).collect();
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64: shuffling needs spread, not cryptographic strength.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<QueueItem> {
        (0..n).map(|i| QueueItem::file(format!("/music/{i}.flac"))).collect()
    }

    fn names(queue: &Queue) -> Vec<String> {
        queue.items().iter().map(|i| i.name()).collect()
    }

    #[test]
    fn plays_in_order_and_stops_or_wraps_by_repeat_mode() {
        let mut queue = Queue::new();
        queue.replace(items(3), 0);
        assert_eq!(queue.after(0, true), Some(1));
        assert_eq!(queue.after(2, true), None);
        queue.set_repeat(RepeatMode::All);
        assert_eq!(queue.after(2, true), Some(0));
        assert_eq!(queue.before(0), Some(2));
        queue.set_repeat(RepeatMode::One);
        assert_eq!(queue.after(1, true), Some(1));
        assert_eq!(queue.after(1, false), Some(2));
    }

    #[test]
    fn shuffle_plays_each_track_once_per_round() {
        let mut queue = Queue::new();
        queue.replace(items(20), 5);
        queue.set_shuffle(true);
        queue.set_repeat(RepeatMode::All);
        let mut index = 5;
        let mut seen = vec![index];
        for _ in 0..19 {
            index = queue.after(index, true).unwrap();
            seen.push(index);
        }
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..20).collect::<Vec<_>>(), "one round played {seen:?}");
        assert_ne!(seen, (0..20).collect::<Vec<_>>());
        let next_round_first = queue.after(index, true).unwrap();
        assert_ne!(next_round_first, index, "a new round does not repeat the last track at once");
    }

    #[test]
    fn play_next_append_remove_and_move_keep_the_current_track() {
        let mut queue = Queue::new();
        queue.replace(items(3), 1);
        queue.play_next(vec![QueueItem::file("/music/next.flac")]);
        assert_eq!(queue.after(1, false), Some(2));
        assert_eq!(queue.get(2).unwrap().name(), "/music/next.flac");
        queue.append(vec![QueueItem::file("/music/last.flac")]);
        assert_eq!(names(&queue).last().unwrap(), "/music/last.flac");
        assert_eq!(queue.remove(0), Some(false));
        assert_eq!(queue.current(), Some(0));
        assert!(queue.move_item(0, 3));
        assert_eq!(queue.current(), Some(3));
        assert_eq!(queue.get(3).unwrap().name(), "/music/1.flac");
        assert_eq!(queue.remove(3), Some(true));
        assert_eq!(queue.current(), None);
        assert_eq!(queue.remove(10), None);
        queue.clear();
        assert!(queue.items().is_empty());
    }
}
