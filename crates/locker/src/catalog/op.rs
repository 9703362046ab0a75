//! Ops, the clock that orders them, and what a reader checks before an op may touch anything.
//!
//! Every op read from the locker is checked by [`Op::check`] before it is applied: its ids have
//! the forms that name things safely, its numbers fit, its texts are bounded. The checks depend
//! on the op alone, never on this device's clock or state, so every device keeps or skips the
//! same ops and the merge still converges. Ops of a kind this version does not know are kept
//! as they are ([`Change::Unknown`]) and carried into snapshots for a newer client.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::format::{MAX_BLOB_SIZE, is_plain_id, is_sha256_hex};

/// The latest wall time an op may carry: the last millisecond of the year 9999. A device whose
/// clock is wildly wrong still fits; a value that would overflow arithmetic does not.
pub const MAX_WALL_MS: u64 = 253_402_300_799_999;
/// Fields one op may set, and how large one field's value may be (as JSON).
pub const MAX_FIELDS: usize = 64;
pub const MAX_FIELD_BYTES: usize = 4096;
/// The longest playlist name, and the longest position string.
pub const MAX_NAME_BYTES: usize = 1024;
pub const MAX_POSITION_LEN: usize = 1024;
/// The largest op of an unknown kind kept for newer clients (as JSON).
pub const MAX_UNKNOWN_OP_BYTES: usize = 64 * 1024;
/// The most plays one device may count for one track: far beyond a lifetime of listening.
pub const MAX_PLAYS: u64 = 1_000_000_000;
/// The largest smart playlist rule (as JSON).
pub const MAX_RULE_BYTES: usize = 16 * 1024;

/// A hybrid logical clock reading: wall-clock milliseconds, and a counter that orders events
/// within one millisecond or while the wall clock lags a clock already seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hlc {
    pub wall_ms: u64,
    pub counter: u32,
}

/// Hands out readings that are strictly increasing and later than every reading observed.
#[derive(Debug, Clone, Default)]
pub struct HlcClock {
    last: Hlc,
}

impl HlcClock {
    pub fn new(last: Hlc) -> HlcClock {
        HlcClock { last }
    }

    pub fn last(&self) -> Hlc {
        self.last
    }

    pub fn tick(&mut self, wall_ms: u64) -> Hlc {
        self.last = if wall_ms > self.last.wall_ms {
            Hlc { wall_ms, counter: 0 }
        } else if self.last.counter < u32::MAX {
            Hlc { wall_ms: self.last.wall_ms, counter: self.last.counter + 1 }
        } else {
            // Four billion ticks in one millisecond: borrow the next one rather than wrap.
            Hlc { wall_ms: self.last.wall_ms.saturating_add(1), counter: 0 }
        };
        self.last
    }

    /// Moves the clock past a reading seen in the locker. Only checked readings come here
    /// (at most [`MAX_WALL_MS`]), so ticking after them never overflows.
    pub fn observe(&mut self, seen: Hlc) {
        if seen > self.last {
            self.last = seen;
        }
    }
}

pub fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Who wrote a value, and when: the total order in which writes win.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    pub hlc: Hlc,
    pub device: String,
}

/// One change to the catalog, as written in a device's log.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub hlc: Hlc,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    /// The track (its blob's SHA-256) is in the locker, with these fields.
    TrackPut {
        track: String,
        size: u64,
        fields: BTreeMap<String, Value>,
    },
    /// Fields of a track changed (tag edits); `null` clears a field.
    TrackEdit {
        track: String,
        fields: BTreeMap<String, Value>,
    },
    /// The track was removed from the locker; its blob is collected after a grace period.
    TrackRemove {
        track: String,
    },
    PlaylistCreate {
        playlist: String,
        name: String,
    },
    PlaylistRename {
        playlist: String,
        name: String,
    },
    PlaylistDelete {
        playlist: String,
    },
    PlaylistAdd {
        playlist: String,
        entry: String,
        track: String,
        position: String,
    },
    PlaylistMove {
        playlist: String,
        entry: String,
        position: String,
    },
    PlaylistRemove {
        playlist: String,
        entry: String,
    },
    /// This device has played the track `plays` times in all (a running total, so the ops of
    /// one device merge by taking the largest), the last time at `last_played_ms`.
    TrackPlayed {
        track: String,
        plays: u64,
        last_played_ms: u64,
    },
    /// The user loved the track (a heart), or took it back.
    TrackLoved {
        track: String,
        loved: bool,
    },
    /// The user's rating, 0 to 5, or none.
    TrackRated {
        track: String,
        rating: Option<u8>,
    },
    /// Where to go on from in a long track (0: from the start).
    TrackResume {
        track: String,
        position_ms: u64,
    },
    /// A rule playlist: its name and its rule (fields, operators and values, a sort and a
    /// limit: the library reads the rule; the catalog only carries it).
    SmartPlaylistPut {
        playlist: String,
        name: String,
        rule: Value,
    },
    SmartPlaylistDelete {
        playlist: String,
    },
    /// An op of a kind this version does not know, kept whole (without its `hlc`) so that it
    /// survives into snapshots for the clients that do.
    #[serde(skip)]
    Unknown {
        kind: String,
        body: serde_json::Map<String, Value>,
    },
}

/// The op kinds this version applies; anything else is [`Change::Unknown`].
const KNOWN_KINDS: &[&str] = &[
    "track_played",
    "track_loved",
    "track_rated",
    "track_resume",
    "smart_playlist_put",
    "smart_playlist_delete",
    "track_put",
    "track_edit",
    "track_remove",
    "playlist_create",
    "playlist_rename",
    "playlist_delete",
    "playlist_add",
    "playlist_move",
    "playlist_remove",
];

impl Serialize for Op {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let mut object = match &self.change {
            Change::Unknown { body, .. } => body.clone(),
            known => match serde_json::to_value(known).map_err(S::Error::custom)? {
                Value::Object(object) => object,
                _ => return Err(S::Error::custom("an op serializes to an object")),
            },
        };
        object.insert("hlc".to_owned(), serde_json::to_value(self.hlc).map_err(S::Error::custom)?);
        object.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Op {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Op, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Op::from_value(value).map_err(serde::de::Error::custom)
    }
}

impl Op {
    /// Reads one op from its JSON form; an op of an unknown kind becomes [`Change::Unknown`].
    pub fn from_value(value: Value) -> Result<Op, String> {
        let Value::Object(mut object) = value else { return Err("an op must be a JSON object".into()) };
        let hlc = object.remove("hlc").ok_or("the op has no hlc")?;
        let hlc: Hlc =
            serde_json::from_value(hlc).map_err(|error| format!("its hlc is not valid: {error}"))?;
        let kind = match object.get("op") {
            Some(Value::String(kind)) => kind.clone(),
            _ => return Err("the op has no kind (\"op\")".into()),
        };
        let change = if KNOWN_KINDS.contains(&kind.as_str()) {
            serde_json::from_value(Value::Object(object))
                .map_err(|error| format!("a {kind} op is malformed: {error}"))?
        } else {
            Change::Unknown { kind, body: object }
        };
        Ok(Op { hlc, change })
    }

    /// Checks everything applying this op relies on; the reason names what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if self.hlc.wall_ms > MAX_WALL_MS {
            return Err(format!("its clock reading {} ms is beyond the year 9999", self.hlc.wall_ms));
        }
        let track = |id: &str| -> Result<(), String> {
            if is_sha256_hex(id) { Ok(()) } else { Err("its track id is not a SHA-256 in hex".into()) }
        };
        let id = |what: &str, id: &str| -> Result<(), String> {
            if is_plain_id(id) {
                Ok(())
            } else {
                Err(format!("its {what} id is not 1 to 64 letters, digits, '-' or '_'"))
            }
        };
        let name = |name: &str| -> Result<(), String> {
            if name.len() <= MAX_NAME_BYTES {
                Ok(())
            } else {
                Err(format!("its name is longer than {MAX_NAME_BYTES} bytes"))
            }
        };
        match &self.change {
            Change::TrackPut { track: id, size, fields } => {
                track(id)?;
                if *size > MAX_BLOB_SIZE {
                    return Err(format!("its size {size} is beyond any audio file"));
                }
                check_fields(fields)
            }
            Change::TrackEdit { track: id, fields } => {
                track(id)?;
                check_fields(fields)
            }
            Change::TrackRemove { track: id } => track(id),
            Change::PlaylistCreate { playlist, name: text }
            | Change::PlaylistRename { playlist, name: text } => {
                id("playlist", playlist)?;
                name(text)
            }
            Change::PlaylistDelete { playlist } => id("playlist", playlist),
            Change::PlaylistAdd { playlist, entry, track: track_id, position } => {
                id("playlist", playlist)?;
                id("entry", entry)?;
                track(track_id)?;
                check_position(position)
            }
            Change::PlaylistMove { playlist, entry, position } => {
                id("playlist", playlist)?;
                id("entry", entry)?;
                check_position(position)
            }
            Change::PlaylistRemove { playlist, entry } => {
                id("playlist", playlist)?;
                id("entry", entry)
            }
            Change::TrackPlayed { track: id, plays, last_played_ms } => {
                track(id)?;
                if *plays > MAX_PLAYS || *plays == 0 {
                    return Err(format!("its play count {plays} is out of range"));
                }
                if *last_played_ms > MAX_WALL_MS {
                    return Err("its time of last play is beyond the year 9999".into());
                }
                Ok(())
            }
            Change::TrackLoved { track: id, .. } | Change::TrackResume { track: id, .. } => track(id),
            Change::TrackRated { track: id, rating } => {
                track(id)?;
                match rating {
                    Some(rating) if *rating > 5 => Err(format!("its rating {rating} is not 0 to 5")),
                    _ => Ok(()),
                }
            }
            Change::SmartPlaylistPut { playlist, name: text, rule } => {
                id("playlist", playlist)?;
                name(text)?;
                let size = serde_json::to_vec(rule).map_or(usize::MAX, |bytes| bytes.len());
                if !rule.is_object() || size > MAX_RULE_BYTES {
                    return Err(format!("its rule is not an object of at most {MAX_RULE_BYTES} bytes"));
                }
                Ok(())
            }
            Change::SmartPlaylistDelete { playlist } => id("playlist", playlist),
            Change::Unknown { kind, body } => {
                if kind.is_empty() || kind.len() > 64 {
                    return Err("its kind is not a name".into());
                }
                let size = serde_json::to_vec(body).map_or(usize::MAX, |bytes| bytes.len());
                if size > MAX_UNKNOWN_OP_BYTES {
                    return Err(format!(
                        "an op of the unknown kind {kind} is larger than {MAX_UNKNOWN_OP_BYTES} bytes"
                    ));
                }
                Ok(())
            }
        }
    }
}

/// Track fields: a bounded number of names of `a-z 0-9 _`, each value bounded in size.
pub(crate) fn check_fields(fields: &BTreeMap<String, Value>) -> Result<(), String> {
    if fields.len() > MAX_FIELDS {
        return Err(format!("it sets {} fields; at most {MAX_FIELDS} are allowed", fields.len()));
    }
    for (name, value) in fields {
        let named = !name.is_empty()
            && name.len() <= 64
            && name.bytes().all(|byte| matches!(byte, b'a'..=b'z' | b'0'..=b'9' | b'_'));
        if !named {
            return Err("a field name is not 1 to 64 of a-z, 0-9 and '_'".into());
        }
        if json_size(value) > MAX_FIELD_BYTES {
            return Err(format!("the field {name} is larger than {MAX_FIELD_BYTES} bytes"));
        }
    }
    Ok(())
}

/// About how many bytes `value` takes as JSON, without writing it out for the common small
/// values (a sync checks every field of every op).
fn json_size(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => 24,
        Value::String(text) => text.len() + 2,
        Value::Array(_) | Value::Object(_) => serde_json::to_vec(value).map_or(usize::MAX, |bytes| bytes.len()),
    }
}

/// Positions are non-empty strings of `0-9 a-z` not ending in '0' (so one always fits between).
pub(crate) fn check_position(position: &str) -> Result<(), String> {
    let valid = !position.is_empty()
        && position.len() <= MAX_POSITION_LEN
        && !position.ends_with('0')
        && position.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'z'));
    if valid { Ok(()) } else { Err("its position is not a string of 0-9 and a-z not ending in 0".into()) }
}

impl Change {
    /// Whether a client of the first catalog format knows this kind. Files and snapshots that
    /// hold anything else say format 2, so such a client refuses them plainly (it would take an
    /// unknown kind for a corrupt file) instead of dropping what it does not know.
    pub(crate) fn in_first_format(&self) -> bool {
        !matches!(
            self,
            Change::TrackPlayed { .. }
                | Change::TrackLoved { .. }
                | Change::TrackRated { .. }
                | Change::TrackResume { .. }
                | Change::SmartPlaylistPut { .. }
                | Change::SmartPlaylistDelete { .. }
                | Change::Unknown { .. }
        )
    }

    pub(crate) fn subject(&self) -> Option<Subject> {
        match self {
            Change::TrackPut { track, .. }
            | Change::TrackEdit { track, .. }
            | Change::TrackRemove { track } => Some(Subject::Track(track.clone())),
            Change::PlaylistCreate { playlist, .. }
            | Change::PlaylistRename { playlist, .. }
            | Change::PlaylistDelete { playlist }
            | Change::PlaylistAdd { playlist, .. }
            | Change::PlaylistMove { playlist, .. }
            | Change::PlaylistRemove { playlist, .. } => Some(Subject::Playlist(playlist.clone())),
            Change::TrackPlayed { track, .. }
            | Change::TrackLoved { track, .. }
            | Change::TrackRated { track, .. }
            | Change::TrackResume { track, .. } => Some(Subject::Listening(track.clone())),
            Change::SmartPlaylistPut { playlist, .. } | Change::SmartPlaylistDelete { playlist } => {
                Some(Subject::Smart(playlist.clone()))
            }
            Change::Unknown { .. } => None,
        }
    }
}

/// What an op changed, so a sync can report it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub(crate) enum Subject {
    Track(String),
    Playlist(String),
    /// The listening state of a track (plays, heart, rating, resume position).
    Listening(String),
    Smart(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_never_wraps() {
        let mut clock = HlcClock::new(Hlc { wall_ms: 5, counter: u32::MAX });
        assert_eq!(clock.tick(1), Hlc { wall_ms: 6, counter: 0 });
        let mut clock = HlcClock::new(Hlc { wall_ms: u64::MAX, counter: u32::MAX });
        assert_eq!(clock.tick(0), Hlc { wall_ms: u64::MAX, counter: 0 });
    }

    #[test]
    fn unknown_kinds_survive_a_round_trip() {
        let json = r#"{"op":"track_play","track":"x","device_count":3,"hlc":{"wall_ms":7,"counter":1}}"#;
        let op: Op = serde_json::from_str(json).unwrap();
        assert!(matches!(&op.change, Change::Unknown { kind, .. } if kind == "track_play"));
        op.check().unwrap();
        let back: Value = serde_json::to_value(&op).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(json).unwrap());
    }

    #[test]
    fn hostile_ops_are_refused_by_name() {
        let op = |json: &str| Op::from_value(serde_json::from_str(json).unwrap());
        let hlc = r#""hlc":{"wall_ms":1,"counter":0}"#;
        let sha = "ab".repeat(32);
        let cases = [
            (format!(r#"{{"op":"track_remove","track":"../../etc",{hlc}}}"#), "track id"),
            (format!(r#"{{"op":"playlist_delete","playlist":"a/b",{hlc}}}"#), "playlist id"),
            (
                format!(r#"{{"op":"playlist_move","playlist":"p","entry":"e","position":"Z0",{hlc}}}"#),
                "position",
            ),
            (
                format!(
                    r#"{{"op":"track_remove","track":"{sha}","hlc":{{"wall_ms":18446744073709551615,"counter":0}}}}"#
                ),
                "year 9999",
            ),
            (
                format!(
                    r#"{{"op":"track_put","track":"{sha}","size":18446744073709551615,"fields":{{}},{hlc}}}"#
                ),
                "size",
            ),
            (format!(r#"{{"op":"track_edit","track":"{sha}","fields":{{"../x":1}},{hlc}}}"#), "field name"),
        ];
        for (json, why) in cases {
            let error = op(&json).and_then(|op| op.check()).unwrap_err();
            assert!(error.contains(why), "{json}: {error}");
        }
        assert!(op(r#"{"op":"track_remove","track":5,"hlc":{"wall_ms":1,"counter":0}}"#).is_err());
        assert!(op(r#"{"op":"track_remove","hlc":{"wall_ms":-1,"counter":0}}"#).is_err());
        assert!(op(r#"[1,2]"#).is_err());
    }
}
