//! The shared catalog as a state-based CRDT: every op carries a hybrid logical clock, and applying
//! ops in any order, any number of times, gives the same state. Tracks and playlists merge per
//! field (last writer wins by clock, then device id); playlist entries have unique ids and
//! fractional positions, so concurrent adds, moves and removes all survive the merge.

mod op;
mod wire;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(crate) use op::Subject;
#[cfg(test)]
pub(crate) use op::check_position;
pub use op::{Change, Hlc, HlcClock, MAX_WALL_MS, Op, Stamp, wall_clock_ms};
pub(crate) use wire::WireState;

#[derive(Debug, Clone, PartialEq)]
struct Register<T> {
    value: T,
    stamp: Stamp,
}

/// Keeps the write with the greater stamp; equal stamps carry equal values (one op).
fn assign<T: Clone>(slot: &mut Option<Register<T>>, value: &T, stamp: &Stamp) {
    if slot.as_ref().is_none_or(|current| *stamp > current.stamp) {
        *slot = Some(Register { value: value.clone(), stamp: stamp.clone() });
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
struct TrackState {
    size: u64,
    present: Option<Register<bool>>,
    fields: BTreeMap<String, Option<Register<Value>>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct PlaylistState {
    exists: Option<Register<bool>>,
    name: Option<Register<String>>,
    entries: BTreeMap<String, EntryState>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct EntryState {
    track: Option<String>,
    position: Option<Register<String>>,
    removed: bool,
}

/// How a track has been listened to, on every device: a grow-only counter of plays per device
/// (each device counts its own; the total is their sum), the latest play, and registers for the
/// heart, the rating and the resume position. Keyed by the track's SHA-256, so it follows a song
/// that is only local on two devices as well as one in the locker.
#[derive(Debug, Clone, Default, PartialEq)]
struct ListeningState {
    plays: BTreeMap<String, u64>,
    last_played_ms: u64,
    loved: Option<Register<bool>>,
    rating: Option<Register<Option<u8>>>,
    resume: Option<Register<u64>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct SmartState {
    exists: Option<Register<bool>>,
    name: Option<Register<String>>,
    rule: Option<Register<Value>>,
}

/// The merged catalog.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogState {
    tracks: BTreeMap<String, TrackState>,
    playlists: BTreeMap<String, PlaylistState>,
    listening: BTreeMap<String, ListeningState>,
    smart: BTreeMap<String, SmartState>,
    /// Ops of kinds this version does not apply, by stamp, kept for snapshots (a newer client
    /// reading the snapshot applies them). At most [`MAX_UNKNOWN_OPS`], the earliest stamps.
    unknown: BTreeMap<Stamp, Op>,
}

/// How many ops of unknown kinds a catalog keeps; beyond that the latest are dropped, the same
/// ones on every device, so a flood of them cannot grow snapshots without bound.
pub const MAX_UNKNOWN_OPS: usize = 10_000;

impl CatalogState {
    /// Folds one op in. Commutative, associative and idempotent, which is what makes the merge
    /// independent of the order in which devices' logs arrive.
    /// Only ops that passed [`Op::check`] may come here.
    pub(crate) fn apply(&mut self, device: &str, op: &Op) -> Option<Subject> {
        let stamp = Stamp { hlc: op.hlc, device: device.to_owned() };
        match &op.change {
            Change::Unknown { .. } => {
                self.unknown.insert(stamp, op.clone());
                while self.unknown.len() > MAX_UNKNOWN_OPS {
                    self.unknown.pop_last();
                }
            }
            Change::TrackPut { track, size, fields } => {
                let state = self.tracks.entry(track.clone()).or_default();
                state.size = state.size.max(*size);
                assign(&mut state.present, &true, &stamp);
                for (name, value) in fields {
                    assign(state.fields.entry(name.clone()).or_default(), value, &stamp);
                }
            }
            Change::TrackEdit { track, fields } => {
                let state = self.tracks.entry(track.clone()).or_default();
                for (name, value) in fields {
                    assign(state.fields.entry(name.clone()).or_default(), value, &stamp);
                }
            }
            Change::TrackRemove { track } => {
                assign(&mut self.tracks.entry(track.clone()).or_default().present, &false, &stamp);
            }
            Change::PlaylistCreate { playlist, name } => {
                let state = self.playlists.entry(playlist.clone()).or_default();
                assign(&mut state.exists, &true, &stamp);
                assign(&mut state.name, name, &stamp);
            }
            Change::PlaylistRename { playlist, name } => {
                assign(&mut self.playlists.entry(playlist.clone()).or_default().name, name, &stamp);
            }
            Change::PlaylistDelete { playlist } => {
                assign(&mut self.playlists.entry(playlist.clone()).or_default().exists, &false, &stamp);
            }
            Change::PlaylistAdd { playlist, entry, track, position } => {
                let state = self.playlists.entry(playlist.clone()).or_default();
                let entry = state.entries.entry(entry.clone()).or_default();
                // Only a broken or hostile client adds one entry id twice with other tracks; the
                // smaller id wins, whatever order the adds arrive in.
                if entry.track.as_ref().is_none_or(|current| track < current) {
                    entry.track = Some(track.clone());
                }
                assign(&mut entry.position, position, &stamp);
            }
            Change::PlaylistMove { playlist, entry, position } => {
                let state = self.playlists.entry(playlist.clone()).or_default();
                assign(&mut state.entries.entry(entry.clone()).or_default().position, position, &stamp);
            }
            Change::PlaylistRemove { playlist, entry } => {
                // Entry ids are never reused, so a removal can simply win over everything.
                let state = self.playlists.entry(playlist.clone()).or_default();
                state.entries.entry(entry.clone()).or_default().removed = true;
            }
            Change::TrackPlayed { track, plays, last_played_ms } => {
                let state = self.listening.entry(track.clone()).or_default();
                let count = state.plays.entry(device.to_owned()).or_default();
                *count = (*count).max(*plays);
                state.last_played_ms = state.last_played_ms.max(*last_played_ms);
            }
            Change::TrackLoved { track, loved } => {
                assign(&mut self.listening.entry(track.clone()).or_default().loved, loved, &stamp);
            }
            Change::TrackRated { track, rating } => {
                assign(&mut self.listening.entry(track.clone()).or_default().rating, rating, &stamp);
            }
            Change::TrackResume { track, position_ms } => {
                assign(&mut self.listening.entry(track.clone()).or_default().resume, position_ms, &stamp);
            }
            Change::SmartPlaylistPut { playlist, name, rule } => {
                let state = self.smart.entry(playlist.clone()).or_default();
                assign(&mut state.exists, &true, &stamp);
                assign(&mut state.name, name, &stamp);
                assign(&mut state.rule, rule, &stamp);
            }
            Change::SmartPlaylistDelete { playlist } => {
                assign(&mut self.smart.entry(playlist.clone()).or_default().exists, &false, &stamp);
            }
        }
        op.change.subject()
    }

    pub fn track(&self, id: &str) -> Option<Track> {
        let state = self.tracks.get(id)?;
        let present = state.present.as_ref().filter(|present| present.value)?;
        let text = |name: &str| -> Option<String> {
            match state.fields.get(name)?.as_ref()?.value {
                Value::String(ref text) => Some(text.clone()),
                _ => None,
            }
        };
        let number = |name: &str| -> Option<u64> { state.fields.get(name)?.as_ref()?.value.as_u64() };
        Some(Track {
            id: id.to_owned(),
            size: state.size,
            title: text("title"),
            artist: text("artist"),
            album: text("album"),
            album_artist: text("album_artist"),
            genre: text("genre"),
            year: number("year").and_then(|year| u32::try_from(year).ok()),
            track_number: number("track_number").and_then(|n| u32::try_from(n).ok()),
            disc_number: number("disc_number").and_then(|n| u32::try_from(n).ok()),
            duration_ms: number("duration_ms"),
            file_name: text("file_name"),
            added: present.stamp.hlc,
        })
    }

    /// Every track in the locker, ordered by id.
    pub fn tracks(&self) -> Vec<Track> {
        self.tracks.keys().filter_map(|id| self.track(id)).collect()
    }

    pub fn track_count(&self) -> usize {
        self.tracks.values().filter(|state| state.present.as_ref().is_some_and(|p| p.value)).count()
    }

    /// Bytes of every blob a present track references: what counts against the quota.
    pub fn referenced_bytes(&self) -> u64 {
        self.tracks
            .values()
            .filter(|state| state.present.as_ref().is_some_and(|p| p.value))
            .fold(0u64, |total, state| total.saturating_add(state.size))
    }

    pub(crate) fn is_present(&self, id: &str) -> bool {
        self.tracks.get(id).and_then(|state| state.present.as_ref()).is_some_and(|present| present.value)
    }

    /// Who last said whether the track is in the locker (its put or its removal), and when.
    pub(crate) fn last_word(&self, id: &str) -> Option<Stamp> {
        Some(self.tracks.get(id)?.present.as_ref()?.stamp.clone())
    }

    pub fn playlist(&self, id: &str) -> Option<Playlist> {
        let state = self.playlists.get(id)?;
        if !state.exists.as_ref().is_some_and(|exists| exists.value) {
            return None;
        }
        let mut entries: Vec<(&String, &String, &str)> = state
            .entries
            .iter()
            .filter(|(_, entry)| !entry.removed)
            .filter_map(|(entry_id, entry)| {
                Some((&entry.position.as_ref()?.value, entry_id, entry.track.as_ref()?))
            })
            .map(|(position, entry_id, track): (&String, &String, &String)| {
                (position, entry_id, track.as_str())
            })
            .collect();
        // Equal positions (two devices inserting at the same spot) are ordered by entry id, which
        // every device sees the same.
        entries.sort();
        Some(Playlist {
            id: id.to_owned(),
            name: state.name.as_ref().map(|name| name.value.clone()).unwrap_or_default(),
            entries: entries
                .into_iter()
                .map(|(position, entry_id, track)| PlaylistEntry {
                    entry_id: entry_id.clone(),
                    track_id: track.to_owned(),
                    position: position.clone(),
                })
                .collect(),
        })
    }

    pub fn playlists(&self) -> Vec<Playlist> {
        self.playlists.keys().filter_map(|id| self.playlist(id)).collect()
    }

    /// How a track (by SHA-256) has been listened to on every device; `None` when never.
    pub fn listening(&self, track: &str) -> Option<Listening> {
        let state = self.listening.get(track)?;
        Some(Listening {
            track: track.to_owned(),
            play_count: state.plays.values().fold(0u64, |total, plays| total.saturating_add(*plays)),
            last_played_ms: (state.last_played_ms > 0).then_some(state.last_played_ms),
            loved: state.loved.as_ref().is_some_and(|loved| loved.value),
            rating: state.rating.as_ref().and_then(|rating| rating.value),
            resume_ms: state.resume.as_ref().map(|resume| resume.value).filter(|at| *at > 0),
        })
    }

    /// Every track's listening state, ordered by SHA-256.
    pub fn all_listening(&self) -> Vec<Listening> {
        self.listening.keys().filter_map(|track| self.listening(track)).collect()
    }

    /// How many plays of `track` this catalog counts for `device`: the running total that
    /// device's next play continues from.
    pub(crate) fn plays_by(&self, track: &str, device: &str) -> u64 {
        self.listening.get(track).and_then(|state| state.plays.get(device)).copied().unwrap_or(0)
    }

    pub fn smart_playlist(&self, id: &str) -> Option<SmartPlaylist> {
        let state = self.smart.get(id)?;
        if !state.exists.as_ref().is_some_and(|exists| exists.value) {
            return None;
        }
        Some(SmartPlaylist {
            id: id.to_owned(),
            name: state.name.as_ref().map(|name| name.value.clone()).unwrap_or_default(),
            rule: state.rule.as_ref().map(|rule| rule.value.clone()).unwrap_or(Value::Null),
        })
    }

    pub fn smart_playlists(&self) -> Vec<SmartPlaylist> {
        self.smart.keys().filter_map(|id| self.smart_playlist(id)).collect()
    }

    /// Whether the snapshot of this catalog needs the second catalog format (it holds listening
    /// state, rule playlists or ops of unknown kinds, which a first-format client would drop).
    pub(crate) fn needs_second_format(&self) -> bool {
        !(self.listening.is_empty() && self.smart.is_empty() && self.unknown.is_empty())
    }

    pub(crate) fn playlist_exists_state(&self, id: &str) -> bool {
        self.playlists.contains_key(id)
    }

    /// Every subject the catalog knows, for reporting a catalog rebuilt from a snapshot.
    pub(crate) fn subjects(&self) -> Vec<Subject> {
        let mut subjects: Vec<Subject> = self.tracks.keys().cloned().map(Subject::Track).collect();
        subjects.extend(self.playlists.keys().cloned().map(Subject::Playlist));
        subjects.extend(self.listening.keys().cloned().map(Subject::Listening));
        subjects.extend(self.smart.keys().cloned().map(Subject::Smart));
        subjects
    }
}

/// A track as the catalog has it; its id is the SHA-256 of the audio file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    pub id: String,
    pub size: u64,
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub album_artist: Option<String>,
    pub genre: Option<String>,
    pub year: Option<u32>,
    pub track_number: Option<u32>,
    pub disc_number: Option<u32>,
    pub duration_ms: Option<u64>,
    /// The name the file had when it was uploaded.
    pub file_name: Option<String>,
    /// When the track was (last) put in the locker.
    pub added: Hlc,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Playlist {
    pub id: String,
    pub name: String,
    pub entries: Vec<PlaylistEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaylistEntry {
    /// Unique for ever; moves and removals name the entry, not the track.
    pub entry_id: String,
    pub track_id: String,
    pub position: String,
}

/// How a track has been listened to, merged over every device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listening {
    /// The track's SHA-256.
    pub track: String,
    /// Plays on every device, added up.
    pub play_count: u64,
    pub last_played_ms: Option<u64>,
    pub loved: bool,
    /// 0 to 5, or none.
    pub rating: Option<u8>,
    /// Where a long track goes on from, when it was left midway.
    pub resume_ms: Option<u64>,
}

/// A rule playlist as the catalog carries it: its rule is read by the library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmartPlaylist {
    pub id: String,
    pub name: String,
    pub rule: Value,
}

/// Tags of a track, as uploads read them and edits change them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackTags {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub album_artist: Option<String>,
    pub genre: Option<String>,
    pub year: Option<u32>,
    pub track_number: Option<u32>,
    pub disc_number: Option<u32>,
    pub duration_ms: Option<u64>,
}

impl TrackTags {
    /// The fields an upload records: every tag it read (absent ones are simply not set).
    pub(crate) fn to_fields(&self) -> BTreeMap<String, Value> {
        let mut fields = BTreeMap::new();
        let mut text = |name: &str, value: &Option<String>| {
            if let Some(value) = value {
                fields.insert(name.to_owned(), Value::String(value.clone()));
            }
        };
        text("title", &self.title);
        text("artist", &self.artist);
        text("album", &self.album);
        text("album_artist", &self.album_artist);
        text("genre", &self.genre);
        for (name, value) in [
            ("year", self.year.map(u64::from)),
            ("track_number", self.track_number.map(u64::from)),
            ("disc_number", self.disc_number.map(u64::from)),
            ("duration_ms", self.duration_ms),
        ] {
            if let Some(value) = value {
                fields.insert(name.to_owned(), Value::from(value));
            }
        }
        fields
    }
}

/// A position strictly between `before` and `after` (either may be open), in the order of
/// byte strings. Digits and lowercase letters only, and never ending in '0', so there is always
/// room for another position on either side.
pub fn position_between(before: Option<&str>, after: Option<&str>) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    const BASE: u32 = 36;
    let digit = |text: &str, index: usize| -> Option<u32> {
        text.as_bytes().get(index).map(|byte| DIGITS.iter().position(|d| d == byte).unwrap_or(0) as u32)
    };
    let low = before.unwrap_or("");
    // An upper bound at or below the lower one (a position two devices chose alike) is ignored:
    // anything after `low` will do, and entry ids order the rest.
    let mut high = after.filter(|high| *high > low);
    let mut out = String::new();
    let mut index = 0;
    loop {
        let below = digit(low, index).unwrap_or(0);
        let above = high.and_then(|high| digit(high, index)).unwrap_or(BASE);
        if above > below + 1 {
            out.push(DIGITS[((below + above) / 2) as usize] as char);
            return out;
        }
        out.push(DIGITS[below as usize] as char);
        if above == below + 1 {
            // From here on only the lower bound constrains us.
            high = None;
        }
        index += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(wall_ms: u64, change: Change) -> Op {
        Op { hlc: Hlc { wall_ms, counter: 0 }, change }
    }

    #[test]
    fn positions_always_fit_between() {
        let mut positions = vec![position_between(None, None)];
        // Insert repeatedly at the front, the back and in the middle; order must hold each time.
        for round in 0..300 {
            let at = match round % 3 {
                0 => 0,
                1 => positions.len(),
                _ => positions.len() / 2,
            };
            let before = at.checked_sub(1).map(|index| positions[index].as_str());
            let after = positions.get(at).map(String::as_str);
            let new = position_between(before, after);
            assert!(before.is_none_or(|before| before < new.as_str()), "{before:?} < {new}");
            assert!(after.is_none_or(|after| new.as_str() < after), "{new} < {after:?}");
            assert!(!new.ends_with('0'));
            positions.insert(at, new);
        }
        assert!(positions.iter().all(|position| position.len() < 80));
    }

    #[test]
    fn later_write_wins_per_field_and_ties_go_to_the_greater_device() {
        let track = "t".to_owned();
        let mut fields_a = BTreeMap::new();
        fields_a.insert("title".to_owned(), Value::from("A"));
        fields_a.insert("artist".to_owned(), Value::from("Artist A"));
        let mut fields_b = BTreeMap::new();
        fields_b.insert("title".to_owned(), Value::from("B"));
        let put = op(1, Change::TrackPut { track: track.clone(), size: 10, fields: fields_a });
        let edit_b = op(2, Change::TrackEdit { track: track.clone(), fields: fields_b.clone() });
        let edit_c = op(
            2,
            Change::TrackEdit {
                track: track.clone(),
                fields: BTreeMap::from([("title".into(), Value::from("C"))]),
            },
        );

        let mut forward = CatalogState::default();
        forward.apply("a", &put);
        forward.apply("b", &edit_b);
        forward.apply("c", &edit_c);
        let mut backward = CatalogState::default();
        backward.apply("c", &edit_c);
        backward.apply("b", &edit_b);
        backward.apply("a", &put);
        backward.apply("a", &put);
        assert_eq!(forward, backward);
        let merged = forward.track(&track).unwrap();
        assert_eq!(merged.title.as_deref(), Some("C"));
        assert_eq!(merged.artist.as_deref(), Some("Artist A"));
    }

    /// A small deterministic generator, so a failing seed can be replayed exactly.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, bound: usize) -> usize {
            (self.next() % bound as u64) as usize
        }
    }

    /// Three devices each write a log of random ops against a small shared world (clocks drift,
    /// timestamps collide); the logs are then delivered in many random interleavings, with
    /// duplicates. Every delivery order must give the same state, and no device's last word on a
    /// field may be lost.
    #[test]
    fn random_interleavings_converge() {
        for seed in 1..=60u64 {
            let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
            let devices = ["dev-a", "dev-b", "dev-c"];
            let tracks = ["t1", "t2", "t3"];
            let playlists = ["p1", "p2"];
            let mut logs: Vec<(&str, Op)> = Vec::new();
            let mut entries: Vec<(String, String)> = Vec::new();
            for (device_index, device) in devices.iter().enumerate() {
                let mut clock = HlcClock::default();
                let mut wall = 1_000 + device_index as u64 * 3;
                for step in 0..40 {
                    wall += rng.below(3) as u64; // often the same millisecond
                    let track = tracks[rng.below(tracks.len())].to_owned();
                    let playlist = playlists[rng.below(playlists.len())].to_owned();
                    let change = match rng.below(9) {
                        0 => Change::TrackPut {
                            track,
                            size: 100,
                            fields: BTreeMap::from([(
                                "title".into(),
                                Value::from(format!("{device} {step}")),
                            )]),
                        },
                        1 => Change::TrackEdit {
                            track,
                            fields: BTreeMap::from([(
                                "artist".into(),
                                Value::from(format!("{device} {step}")),
                            )]),
                        },
                        2 => Change::TrackRemove { track },
                        3 => Change::PlaylistCreate { playlist, name: format!("{device} {step}") },
                        4 => Change::PlaylistRename { playlist, name: format!("renamed {device} {step}") },
                        5 => Change::PlaylistDelete { playlist },
                        6 | 7 => {
                            let entry = format!("{device}-{step}");
                            entries.push((playlist.clone(), entry.clone()));
                            let position = position_between(None, None);
                            Change::PlaylistAdd { playlist, entry, track, position }
                        }
                        _ if !entries.is_empty() => {
                            let (playlist, entry) = entries[rng.below(entries.len())].clone();
                            if rng.below(2) == 0 {
                                let position =
                                    position_between(Some("a"), Some(["b", "m", "z"][rng.below(3)]));
                                Change::PlaylistMove { playlist, entry, position }
                            } else {
                                Change::PlaylistRemove { playlist, entry }
                            }
                        }
                        _ => Change::PlaylistRename { playlist, name: "fallback".into() },
                    };
                    logs.push((device, Op { hlc: clock.tick(wall), change }));
                }
            }

            let mut reference = CatalogState::default();
            for (device, op) in &logs {
                reference.apply(device, op);
            }
            for _ in 0..8 {
                let mut delivery: Vec<&(&str, Op)> = logs.iter().collect();
                // Fisher-Yates, plus some ops delivered twice.
                for index in (1..delivery.len()).rev() {
                    delivery.swap(index, rng.below(index + 1));
                }
                for _ in 0..10 {
                    let again = delivery[rng.below(delivery.len())];
                    delivery.push(again);
                }
                let mut merged = CatalogState::default();
                for (device, op) in delivery {
                    merged.apply(device, op);
                }
                assert_eq!(merged, reference, "seed {seed}: delivery order changed the result");
                assert_eq!(merged.tracks(), reference.tracks());
                assert_eq!(merged.playlists(), reference.playlists());
            }

            // Nothing lost: each track's title is the one written by the greatest stamp.
            for track in tracks {
                let winner = logs
                    .iter()
                    .filter_map(|(device, op)| match &op.change {
                        Change::TrackPut { track: id, fields, .. } if id == track => {
                            Some(((op.hlc, device.to_string()), fields["title"].clone()))
                        }
                        _ => None,
                    })
                    .max_by(|a, b| a.0.cmp(&b.0));
                if let (Some((_, title)), Some(state)) = (winner, reference.tracks.get(track)) {
                    assert_eq!(state.fields["title"].as_ref().map(|register| &register.value), Some(&title));
                }
            }
            // Every add that was never removed is still in its playlist (if the playlist exists).
            for (device, op) in &logs {
                if let Change::PlaylistAdd { playlist, entry, .. } = &op.change {
                    let removed = logs.iter().any(|(_, other)| {
                        matches!(&other.change, Change::PlaylistRemove { entry: gone, .. } if gone == entry)
                    });
                    if let Some(view) = reference.playlist(playlist) {
                        let present = view.entries.iter().any(|seen| &seen.entry_id == entry);
                        assert_eq!(present, !removed, "seed {seed}: entry {entry} of {device}");
                    }
                }
            }
        }
    }

    /// Two devices play the same track offline, love and rate it; merged, the plays add up and
    /// the later heart and rating win, in either order, and the snapshot form keeps all of it.
    #[test]
    fn plays_add_up_and_the_later_heart_wins() {
        let track = "cd".repeat(32);
        let played =
            |plays, last_played_ms| Change::TrackPlayed { track: track.clone(), plays, last_played_ms };
        let ops = [
            ("laptop", op(10, played(1, 10))),
            ("laptop", op(20, played(3, 20))),
            ("phone", op(15, played(2, 15))),
            ("phone", op(30, Change::TrackLoved { track: track.clone(), loved: true })),
            ("laptop", op(25, Change::TrackLoved { track: track.clone(), loved: false })),
            ("laptop", op(26, Change::TrackRated { track: track.clone(), rating: Some(4) })),
            ("phone", op(31, Change::TrackResume { track: track.clone(), position_ms: 90_000 })),
        ];
        let mut forward = CatalogState::default();
        ops.iter().for_each(|(device, op)| drop(forward.apply(device, op)));
        let mut backward = CatalogState::default();
        ops.iter().rev().for_each(|(device, op)| drop(backward.apply(device, op)));
        assert_eq!(forward, backward);
        let listening = forward.listening(&track).unwrap();
        assert_eq!(
            listening,
            Listening {
                track: track.clone(),
                play_count: 5,
                last_played_ms: Some(20),
                loved: true,
                rating: Some(4),
                resume_ms: Some(90_000)
            }
        );
        assert_eq!(forward.plays_by(&track, "laptop"), 3);
        assert!(forward.needs_second_format());
        let wire = serde_json::to_string(&forward.to_wire()).unwrap();
        assert_eq!(CatalogState::from_wire(serde_json::from_str(&wire).unwrap()).unwrap(), forward);
    }

    #[test]
    fn snapshot_form_round_trips() {
        let track = "ab".repeat(32);
        let mut state = CatalogState::default();
        state.apply("a", &op(1, Change::TrackPut { track: track.clone(), size: 5, fields: BTreeMap::new() }));
        state.apply("b", &op(2, Change::PlaylistCreate { playlist: "p".into(), name: "Road".into() }));
        state.apply(
            "b",
            &op(
                3,
                Change::PlaylistAdd {
                    playlist: "p".into(),
                    entry: "e".into(),
                    track: track.clone(),
                    position: "i".into(),
                },
            ),
        );
        state.apply("a", &op(4, Change::PlaylistRemove { playlist: "p".into(), entry: "e".into() }));
        let unknown = Op::from_value(
            serde_json::json!({"op": "future_kind", "x": 1, "hlc": {"wall_ms": 9, "counter": 2}}),
        )
        .unwrap();
        state.apply("c", &unknown);
        let json = serde_json::to_string(&state.to_wire()).unwrap();
        let back = CatalogState::from_wire(serde_json::from_str(&json).unwrap()).unwrap();
        assert_eq!(state, back);
    }
}
