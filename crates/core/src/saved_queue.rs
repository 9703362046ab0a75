//! The play queue kept across restarts: what was queued (library tracks by id, other files by
//! path), which entry was playing and where, shuffle and repeat. A front end saves it as
//! playback goes and restores it paused on start ([`Loft::restore_play_queue`]).

use std::path::{Path, PathBuf};

use loft_audio::{PlayerStatus, QueueItem, RepeatMode};
use serde::{Deserialize, Serialize};

use crate::{CoreError, Loft, Player};

/// The most entries restored: the file is read from disk and must not exhaust memory.
const MAX_SAVED_ENTRIES: usize = crate::MAX_OPENED_FILES;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SavedEntry {
    Track(i64),
    File(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedQueue {
    pub entries: Vec<SavedEntry>,
    pub index: usize,
    pub position_secs: f64,
    #[serde(default)]
    pub shuffle: bool,
    /// "off", "one" or "all".
    #[serde(default)]
    pub repeat: String,
}

impl SavedQueue {
    /// What the engine's status says to keep; `None` when nothing is loaded.
    pub fn from_status(status: &PlayerStatus) -> Option<SavedQueue> {
        let index = status.index?;
        let entries: Vec<SavedEntry> = status
            .queue_track_ids
            .iter()
            .zip(&status.queue)
            .map(|(&track_id, name)| {
                if track_id > 0 { SavedEntry::Track(track_id) } else { SavedEntry::File(PathBuf::from(name)) }
            })
            .collect();
        (index < entries.len()).then(|| SavedQueue {
            entries,
            index,
            position_secs: status.position_secs,
            shuffle: status.shuffle,
            repeat: status.repeat.as_str().to_owned(),
        })
    }
}

fn repeat_mode(name: &str) -> RepeatMode {
    match name {
        "one" => RepeatMode::One,
        "all" => RepeatMode::All,
        _ => RepeatMode::Off,
    }
}

impl Loft {
    fn saved_queue_path(&self) -> PathBuf {
        self.profile().root().join("play-queue.json")
    }

    /// Keeps what the player holds for the next start; an empty player forgets the saved queue.
    pub fn save_play_queue(&self, status: &PlayerStatus) -> Result<(), CoreError> {
        let path = self.saved_queue_path();
        let Some(saved) = SavedQueue::from_status(status) else {
            return match std::fs::remove_file(&path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
                _ => Ok(()),
            };
        };
        let json = serde_json::to_vec(&saved).map_err(|error| CoreError::InvalidInput(error.to_string()))?;
        let partial = path.with_extension("json.tmp");
        std::fs::write(&partial, json)?;
        std::fs::rename(&partial, &path)?;
        Ok(())
    }

    /// The saved queue, if any; a file that cannot be read is logged and ignored.
    pub fn saved_play_queue(&self) -> Option<SavedQueue> {
        let path = self.saved_queue_path();
        let bytes = std::fs::read(&path).ok()?;
        match serde_json::from_slice::<SavedQueue>(&bytes) {
            Ok(mut saved) => {
                saved.entries.truncate(MAX_SAVED_ENTRIES);
                Some(saved)
            }
            Err(error) => {
                tracing::warn!(%error, path = %path.display(), "cannot read the saved play queue");
                None
            }
        }
    }

    /// Queue items for a saved queue, and the place of the saved entry among them (`None`
    /// when it is gone): entries whose track or file is gone are left out. `None` when nothing
    /// of it can play.
    pub fn saved_queue_items(&self, saved: &SavedQueue) -> Option<(Vec<QueueItem>, Option<usize>)> {
        let mut items = Vec::with_capacity(saved.entries.len());
        let mut start = None;
        for (place, entry) in saved.entries.iter().enumerate() {
            let item = match entry {
                SavedEntry::Track(id) => self.queue_items(&[*id]).ok().and_then(|mut found| found.pop()),
                SavedEntry::File(path) => Path::new(path).is_file().then(|| QueueItem::file(path)),
            };
            if let Some(item) = item {
                if place == saved.index {
                    start = Some(items.len());
                }
                items.push(item);
            }
        }
        if items.is_empty() {
            return None;
        }
        Some((items, start))
    }

    /// Loads the saved queue into `player`, paused where it was left (at the start of the
    /// track when that track is gone). Returns whether there was one to load.
    pub fn restore_play_queue(&self, player: &Player) -> Result<bool, CoreError> {
        let Some(saved) = self.saved_play_queue() else { return Ok(false) };
        let Some((items, start)) = self.saved_queue_items(&saved) else { return Ok(false) };
        let (start, position) = match start {
            Some(start) => (start, saved.position_secs),
            None => (0, 0.0),
        };
        player.set_shuffle(saved.shuffle)?;
        player.set_repeat(repeat_mode(&saved.repeat))?;
        player.cue(items, start, position)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loft_audio::PlaybackState;

    fn status(index: Option<usize>) -> PlayerStatus {
        PlayerStatus {
            state: PlaybackState::Paused,
            index,
            track_id: Some(0),
            position_secs: 42.5,
            duration_secs: Some(180.0),
            queue: vec!["/m/a.flac".into(), "Artist - Title".into()],
            queue_track_ids: vec![0, 7],
            shuffle: true,
            repeat: RepeatMode::All,
            device: None,
            output_rate: None,
            underruns: 0,
        }
    }

    #[test]
    fn the_queue_is_saved_read_back_and_forgotten_when_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let loft = Loft::open(tmp.path().join("profile")).unwrap();
        assert_eq!(loft.saved_play_queue(), None);
        loft.save_play_queue(&status(Some(0))).unwrap();
        let saved = loft.saved_play_queue().unwrap();
        assert_eq!(saved.entries, vec![SavedEntry::File("/m/a.flac".into()), SavedEntry::Track(7)]);
        assert_eq!((saved.index, saved.position_secs, saved.shuffle), (0, 42.5, true));
        assert_eq!(saved.repeat, "all");
        loft.save_play_queue(&status(None)).unwrap();
        assert_eq!(loft.saved_play_queue(), None);
    }

    #[test]
    fn gone_entries_are_left_out_and_the_place_follows() {
        let tmp = tempfile::tempdir().unwrap();
        let loft = Loft::open(tmp.path().join("profile")).unwrap();
        let song = tmp.path().join("song.flac");
        std::fs::write(&song, b"x").unwrap();
        let saved = SavedQueue {
            entries: vec![
                SavedEntry::File(tmp.path().join("gone.flac")),
                SavedEntry::Track(99),
                SavedEntry::File(song.clone()),
            ],
            index: 2,
            position_secs: 10.0,
            shuffle: false,
            repeat: "off".into(),
        };
        let (items, start) = loft.saved_queue_items(&saved).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].name(), song.display().to_string());
        assert_eq!(start, Some(0));
        let elsewhere = SavedQueue { index: 0, ..saved.clone() };
        assert_eq!(loft.saved_queue_items(&elsewhere).unwrap().1, None, "the saved entry is gone");
        let nothing = SavedQueue { entries: vec![SavedEntry::Track(5)], index: 0, ..saved };
        assert!(loft.saved_queue_items(&nothing).is_none());
    }

    #[test]
    fn a_damaged_file_is_no_queue() {
        let tmp = tempfile::tempdir().unwrap();
        let loft = Loft::open(tmp.path().join("profile")).unwrap();
        std::fs::write(tmp.path().join("profile/play-queue.json"), b"{\"entries\": [").unwrap();
        assert_eq!(loft.saved_play_queue(), None);
    }
}
