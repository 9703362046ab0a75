//! Playback as a long-running front end (the desktop app) uses it: one player started on
//! first use and shared, a serializable status, and library tracks turned into queue items.

use std::sync::{Arc, Mutex};

use loft_audio::{PlayerStatus, QueueItem};
use serde::Serialize;

use crate::{CoreError, Loft, Player};

/// What the window shows about playback; the same facts the engine's events carry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct PlaybackStatus {
    pub state: loft_audio::PlaybackState,
    pub index: Option<usize>,
    pub track_id: Option<i64>,
    /// What the engine calls the current entry: for a file played from outside the library
    /// (track id 0), its path, which is all there is to name it by.
    pub name: Option<String>,
    pub position_secs: f64,
    pub duration_secs: Option<f64>,
    /// Track ids in queue order.
    pub queue: Vec<i64>,
    pub shuffle: bool,
    pub repeat: loft_audio::RepeatMode,
}

impl PlaybackStatus {
    /// Before anything was ever played.
    pub fn idle() -> Self {
        PlaybackStatus {
            state: loft_audio::PlaybackState::Stopped,
            index: None,
            track_id: None,
            name: None,
            position_secs: 0.0,
            duration_secs: None,
            queue: Vec::new(),
            shuffle: false,
            repeat: loft_audio::RepeatMode::Off,
        }
    }
}

impl From<PlayerStatus> for PlaybackStatus {
    fn from(status: PlayerStatus) -> Self {
        PlaybackStatus {
            state: status.state,
            index: status.index,
            track_id: status.track_id,
            name: status.index.and_then(|index| status.queue.get(index).cloned()),
            position_secs: status.position_secs,
            duration_secs: status.duration_secs,
            queue: status.queue_track_ids,
            shuffle: status.shuffle,
            repeat: status.repeat,
        }
    }
}

/// The player of a long-running front end. It starts on first use rather than with the app,
/// so a machine with no usable output still opens the window (and says why it can't play
/// when asked to), and a failed start is tried again on the next use.
#[derive(Default)]
pub struct SharedPlayer {
    slot: Mutex<Option<Arc<Player>>>,
}

impl SharedPlayer {
    pub fn get_or_start(&self, loft: &Loft) -> Result<Arc<Player>, CoreError> {
        let mut slot = self.slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(player) = slot.as_ref() {
            return Ok(player.clone());
        }
        let player = Arc::new(Player::start(loft)?);
        *slot = Some(player.clone());
        Ok(player)
    }

    /// The player if it started already.
    pub fn running(&self) -> Option<Arc<Player>> {
        self.slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    pub fn status(&self) -> PlaybackStatus {
        self.running().map(|p| p.status().into()).unwrap_or_else(PlaybackStatus::idle)
    }
}

impl Loft {
    /// Queue items for library tracks, in the given order, each from its best copy (local
    /// file, complete cached copy, locker stream). A track with no playable copy is an error
    /// that names it, and nothing is queued.
    pub fn queue_items(&self, track_ids: &[i64]) -> Result<Vec<QueueItem>, CoreError> {
        self.playable_items(track_ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_status_serializes_for_the_window() {
        let json = serde_json::to_value(PlaybackStatus::idle()).unwrap();
        assert_eq!(json["state"], "stopped");
        assert_eq!(json["queue"], serde_json::json!([]));
        assert_eq!(json["repeat"], "off");
    }

    #[test]
    fn unknown_tracks_are_refused_by_id() {
        let tmp = tempfile::tempdir().unwrap();
        let loft = Loft::open(tmp.path()).unwrap();
        let error = loft.queue_items(&[7]).unwrap_err();
        assert_eq!(error.kind(), "invalid_input");
        assert!(error.to_string().contains("track 7"), "{error}");
        assert!(loft.queue_items(&[]).unwrap().is_empty());
    }
}
