//! The snapshot form of the catalog: device ids interned, so 100,000 tracks stay a few tens of
//! megabytes. Reading one checks every value as strictly as an op is checked: a snapshot is
//! content another device wrote.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::op::{MAX_NAME_BYTES, MAX_PLAYS, MAX_RULE_BYTES, MAX_WALL_MS, check_fields, check_position};
use super::{
    CatalogState, EntryState, Hlc, ListeningState, Op, PlaylistState, Register, SmartState, Stamp, TrackState,
};
use crate::format::{MAX_BLOB_SIZE, is_plain_id, is_sha256_hex};

#[derive(Serialize, Deserialize)]
pub(crate) struct WireState {
    devices: Vec<String>,
    tracks: Vec<WireTrack>,
    playlists: Vec<WirePlaylist>,
    /// Ops of kinds this version does not apply: `[device index, wall_ms, counter, op]`, the op
    /// without its `hlc`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    unknown: Vec<(u32, u64, u32, Value)>,
    /// Listening state by track (format 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    listening: Vec<WireListening>,
    /// Rule playlists (format 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    smart: Vec<WireSmart>,
}

#[derive(Serialize, Deserialize)]
struct WireListening {
    id: String,
    /// `[device index, plays]`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    plays: Vec<(u32, u64)>,
    #[serde(default, skip_serializing_if = "is_zero")]
    last_played_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    loved: Option<WireRegister<bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rating: Option<WireRegister<Option<u8>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resume: Option<WireRegister<u64>>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

#[derive(Serialize, Deserialize)]
struct WireSmart {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exists: Option<WireRegister<bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<WireRegister<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rule: Option<WireRegister<Value>>,
}

/// `[value, wall_ms, counter, device index]`
#[derive(Serialize, Deserialize)]
struct WireRegister<T>(T, u64, u32, u32);

#[derive(Default)]
struct Interner {
    devices: Vec<String>,
    index_of: BTreeMap<String, u32>,
}

impl Interner {
    fn index(&mut self, device: &str) -> u32 {
        if let Some(index) = self.index_of.get(device) {
            return *index;
        }
        let index = u32::try_from(self.devices.len()).unwrap_or(u32::MAX);
        self.devices.push(device.to_owned());
        self.index_of.insert(device.to_owned(), index);
        index
    }

    fn wire<T: Clone>(&mut self, register: &Register<T>) -> WireRegister<T> {
        let device = self.index(&register.stamp.device);
        WireRegister(register.value.clone(), register.stamp.hlc.wall_ms, register.stamp.hlc.counter, device)
    }
}

#[derive(Serialize, Deserialize)]
struct WireTrack {
    id: String,
    size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    present: Option<WireRegister<bool>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    fields: BTreeMap<String, WireRegister<Value>>,
}

#[derive(Serialize, Deserialize)]
struct WirePlaylist {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exists: Option<WireRegister<bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<WireRegister<String>>,
    entries: Vec<WireEntry>,
}

#[derive(Serialize, Deserialize)]
struct WireEntry {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    track: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    position: Option<WireRegister<String>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    removed: bool,
}

impl CatalogState {
    pub(crate) fn to_wire(&self) -> WireState {
        let mut interner = Interner::default();
        let mut tracks = Vec::with_capacity(self.tracks.len());
        for (id, state) in &self.tracks {
            let present = state.present.as_ref().map(|register| interner.wire(register));
            let fields = state
                .fields
                .iter()
                .filter_map(|(name, register)| Some((name.clone(), interner.wire(register.as_ref()?))))
                .collect();
            tracks.push(WireTrack { id: id.clone(), size: state.size, present, fields });
        }
        let mut playlists = Vec::with_capacity(self.playlists.len());
        for (id, state) in &self.playlists {
            let exists = state.exists.as_ref().map(|register| interner.wire(register));
            let name = state.name.as_ref().map(|register| interner.wire(register));
            let entries = state
                .entries
                .iter()
                .map(|(entry_id, entry)| WireEntry {
                    id: entry_id.clone(),
                    track: entry.track.clone(),
                    position: entry.position.as_ref().map(|register| interner.wire(register)),
                    removed: entry.removed,
                })
                .collect();
            playlists.push(WirePlaylist { id: id.clone(), exists, name, entries });
        }
        let mut unknown = Vec::with_capacity(self.unknown.len());
        for (stamp, op) in &self.unknown {
            if let Ok(Value::Object(mut body)) = serde_json::to_value(op) {
                body.remove("hlc");
                let device = interner.index(&stamp.device);
                unknown.push((device, stamp.hlc.wall_ms, stamp.hlc.counter, Value::Object(body)));
            }
        }
        let listening = self
            .listening
            .iter()
            .map(|(id, state)| WireListening {
                id: id.clone(),
                plays: state.plays.iter().map(|(device, plays)| (interner.index(device), *plays)).collect(),
                last_played_ms: state.last_played_ms,
                loved: state.loved.as_ref().map(|register| interner.wire(register)),
                rating: state.rating.as_ref().map(|register| interner.wire(register)),
                resume: state.resume.as_ref().map(|register| interner.wire(register)),
            })
            .collect();
        let smart = self
            .smart
            .iter()
            .map(|(id, state)| WireSmart {
                id: id.clone(),
                exists: state.exists.as_ref().map(|register| interner.wire(register)),
                name: state.name.as_ref().map(|register| interner.wire(register)),
                rule: state.rule.as_ref().map(|register| interner.wire(register)),
            })
            .collect();
        WireState { devices: interner.devices, tracks, playlists, unknown, listening, smart }
    }

    /// Rebuilds a catalog from its snapshot form, refusing (with the reason) anything an op
    /// could not have written.
    pub(crate) fn from_wire(wire: WireState) -> Result<CatalogState, String> {
        let devices = wire.devices;
        if let Some(bad) = devices.iter().find(|device| !is_plain_id(device)) {
            return Err(format!("it names a device {bad:?} that is not a valid device id"));
        }
        let stamp = |wall: u64, counter: u32, device: u32| -> Result<Stamp, String> {
            let device = devices
                .get(device as usize)
                .ok_or_else(|| format!("device index {device} is out of range"))?;
            if wall > MAX_WALL_MS {
                return Err(format!("a clock reading {wall} ms is beyond the year 9999"));
            }
            Ok(Stamp { hlc: Hlc { wall_ms: wall, counter }, device: device.clone() })
        };
        fn register<T>(
            wire: Option<WireRegister<T>>,
            stamp: &impl Fn(u64, u32, u32) -> Result<Stamp, String>,
        ) -> Result<Option<Register<T>>, String> {
            wire.map(|WireRegister(value, wall, counter, device)| {
                Ok(Register { value, stamp: stamp(wall, counter, device)? })
            })
            .transpose()
        }
        let mut state = CatalogState::default();
        for track in wire.tracks {
            if !is_sha256_hex(&track.id) {
                return Err(format!("the track id {:?} is not a SHA-256 in hex", track.id));
            }
            if track.size > MAX_BLOB_SIZE {
                return Err(format!("track {} has a size beyond any audio file", track.id));
            }
            let values: BTreeMap<String, Value> =
                track.fields.iter().map(|(name, register)| (name.clone(), register.0.clone())).collect();
            check_fields(&values).map_err(|why| format!("track {}: {why}", track.id))?;
            let mut fields = BTreeMap::new();
            for (name, value) in track.fields {
                fields.insert(name, register(Some(value), &stamp)?);
            }
            state.tracks.insert(
                track.id,
                TrackState { size: track.size, present: register(track.present, &stamp)?, fields },
            );
        }
        for playlist in wire.playlists {
            if !is_plain_id(&playlist.id) {
                return Err(format!("the playlist id {:?} is not valid", playlist.id));
            }
            if playlist.name.as_ref().is_some_and(|name| name.0.len() > MAX_NAME_BYTES) {
                return Err(format!(
                    "playlist {} has a name longer than {MAX_NAME_BYTES} bytes",
                    playlist.id
                ));
            }
            let mut entries = BTreeMap::new();
            for entry in playlist.entries {
                if !is_plain_id(&entry.id) {
                    return Err(format!("playlist {} has an entry id that is not valid", playlist.id));
                }
                if entry.track.as_ref().is_some_and(|track| !is_sha256_hex(track)) {
                    return Err(format!("entry {} names a track that is not a SHA-256 in hex", entry.id));
                }
                if let Some(position) = &entry.position {
                    check_position(&position.0).map_err(|why| format!("entry {}: {why}", entry.id))?;
                }
                entries.insert(
                    entry.id,
                    EntryState {
                        track: entry.track,
                        position: register(entry.position, &stamp)?,
                        removed: entry.removed,
                    },
                );
            }
            state.playlists.insert(
                playlist.id,
                PlaylistState {
                    exists: register(playlist.exists, &stamp)?,
                    name: register(playlist.name, &stamp)?,
                    entries,
                },
            );
        }
        for listening in wire.listening {
            if !is_sha256_hex(&listening.id) {
                return Err(format!(
                    "listening state names a track {:?} that is not a SHA-256 in hex",
                    listening.id
                ));
            }
            let mut plays = BTreeMap::new();
            for (device, count) in listening.plays {
                let device = devices
                    .get(device as usize)
                    .ok_or_else(|| format!("device index {device} is out of range"))?;
                if count > MAX_PLAYS {
                    return Err(format!("track {} has a play count out of range", listening.id));
                }
                plays.insert(device.clone(), count);
            }
            if listening.last_played_ms > MAX_WALL_MS {
                return Err(format!("track {} was last played beyond the year 9999", listening.id));
            }
            if listening.rating.as_ref().is_some_and(|rating| rating.0.is_some_and(|value| value > 5)) {
                return Err(format!("track {} has a rating that is not 0 to 5", listening.id));
            }
            state.listening.insert(
                listening.id,
                ListeningState {
                    plays,
                    last_played_ms: listening.last_played_ms,
                    loved: register(listening.loved, &stamp)?,
                    rating: register(listening.rating, &stamp)?,
                    resume: register(listening.resume, &stamp)?,
                },
            );
        }
        for smart in wire.smart {
            if !is_plain_id(&smart.id) {
                return Err(format!("the rule playlist id {:?} is not valid", smart.id));
            }
            if smart.name.as_ref().is_some_and(|name| name.0.len() > MAX_NAME_BYTES) {
                return Err(format!(
                    "rule playlist {} has a name longer than {MAX_NAME_BYTES} bytes",
                    smart.id
                ));
            }
            let rule_ok = smart.rule.as_ref().is_none_or(|rule| {
                rule.0.is_object()
                    && serde_json::to_vec(&rule.0).is_ok_and(|bytes| bytes.len() <= MAX_RULE_BYTES)
            });
            if !rule_ok {
                return Err(format!("rule playlist {} has a rule that is not valid", smart.id));
            }
            state.smart.insert(
                smart.id,
                SmartState {
                    exists: register(smart.exists, &stamp)?,
                    name: register(smart.name, &stamp)?,
                    rule: register(smart.rule, &stamp)?,
                },
            );
        }
        for (device, wall, counter, body) in wire.unknown {
            let stamp = stamp(wall, counter, device)?;
            let Value::Object(mut body) = body else { return Err("an unknown op is not an object".into()) };
            body.insert("hlc".to_owned(), serde_json::json!({"wall_ms": wall, "counter": counter}));
            let op = Op::from_value(Value::Object(body))?;
            op.check()?;
            state.apply(&stamp.device, &op);
        }
        Ok(state)
    }
}
