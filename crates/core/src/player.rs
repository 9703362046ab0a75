//! Playback for front ends: the audio engine, fed from the profile's settings, reporting
//! through the service's event sink.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::listening::{PlayTracker, carry_out};

/// The engine crate, for front ends that render offline or build queue items themselves.
pub use loft_audio as audio;
pub use loft_audio::{DeviceInfo, PlaybackState, PlayerStatus, RepeatMode};
use loft_audio::{Engine, EngineConfig, EngineEvent, GainSettings, QueueItem};

use crate::{CoreError, Event, Loft, ReplayGainMode, Settings, SharedSink};

/// The player of one process. Front ends create it once, after opening [`Loft`]. It counts
/// the plays it makes and keeps where long tracks were left ([`crate::listening`]).
pub struct Player {
    engine: Arc<Engine>,
}

/// The engine's gain settings for the user's ReplayGain choice.
pub fn gain_settings(settings: &Settings) -> GainSettings {
    let mode = match settings.replaygain {
        ReplayGainMode::Off => loft_audio::ReplayGainMode::Off,
        ReplayGainMode::Track => loft_audio::ReplayGainMode::Track,
        ReplayGainMode::Album => loft_audio::ReplayGainMode::Album,
    };
    GainSettings { mode, preamp_db: 0.0 }
}

/// Turns a command-line or IPC argument into something to play: an existing file path, or
/// the id of a library track (played from its first local copy).
pub fn resolve_item(loft: &Loft, argument: &str) -> Result<QueueItem, CoreError> {
    let path = Path::new(argument);
    if path.is_file() {
        return Ok(QueueItem::file(path));
    }
    let Ok(track_id) = argument.parse::<i64>() else {
        return Err(CoreError::InvalidInput(format!("{argument} is neither a file nor a track id")));
    };
    // The track's best copy: local file, cached copy or locker stream.
    let mut items = loft.queue_items(&[track_id])?;
    Ok(items.remove(0))
}

/// The output devices cpal sees.
pub fn output_devices() -> Result<Vec<DeviceInfo>, CoreError> {
    Ok(loft_audio::list_devices()?)
}

impl Player {
    /// Starts the engine with the profile's volume, ReplayGain mode and output device; events
    /// go to the service's sink.
    pub fn start(loft: &Loft) -> Result<Player, CoreError> {
        Self::start_with_events(loft, loft.events().clone())
    }

    /// Like [`Player::start`], with events going to `sink` instead of the service's.
    pub fn start_with_events(loft: &Loft, sink: SharedSink) -> Result<Player, CoreError> {
        let settings = loft.settings();
        let config = EngineConfig {
            device: settings.output_device.clone(),
            volume: settings.volume,
            gain: gain_settings(&settings),
        };
        // The engine's events tell what was listened to; a long track left midway starts where
        // it was left, which needs the engine the handler is given to.
        let engine_slot: Arc<OnceLock<Weak<Engine>>> = Arc::default();
        let seek: Arc<dyn Fn(f64) + Send + Sync> = {
            let slot = engine_slot.clone();
            Arc::new(move |position| {
                if let Some(engine) = slot.get().and_then(Weak::upgrade) {
                    let _ = engine.seek(position);
                }
            })
        };
        let hub = loft.hub.clone();
        let tracker = Mutex::new(PlayTracker::default());
        let engine = Arc::new(Engine::start(config, move |event| {
            let heard = tracker.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).observe(&event);
            if !heard.is_empty() {
                carry_out(&hub, heard, seek.clone());
            }
            sink.emit(to_event(event));
        })?);
        let _ = engine_slot.set(Arc::downgrade(&engine));
        Ok(Player { engine })
    }

    /// Applies changed settings (volume, ReplayGain, device) to the running engine.
    pub fn apply_settings(&self, settings: &Settings) -> Result<(), CoreError> {
        self.engine.set_volume(settings.volume)?;
        self.engine.set_gain(gain_settings(settings))?;
        if self.engine.status().device.is_some() || settings.output_device.is_some() {
            self.engine.set_device(settings.output_device.clone())?;
        }
        Ok(())
    }

    pub fn play_now(&self, items: Vec<QueueItem>, start: usize) -> Result<(), CoreError> {
        Ok(self.engine.play_now(items, start)?)
    }

    /// Loads `items` paused at `items[start]`, `position_secs` in: a queue restored on start.
    pub fn cue(&self, items: Vec<QueueItem>, start: usize, position_secs: f64) -> Result<(), CoreError> {
        Ok(self.engine.cue(items, start, position_secs)?)
    }

    pub fn play_next(&self, items: Vec<QueueItem>) -> Result<(), CoreError> {
        Ok(self.engine.play_next(items)?)
    }

    pub fn append(&self, items: Vec<QueueItem>) -> Result<(), CoreError> {
        Ok(self.engine.append(items)?)
    }

    pub fn remove(&self, index: usize) -> Result<(), CoreError> {
        Ok(self.engine.remove(index)?)
    }

    pub fn move_item(&self, from: usize, to: usize) -> Result<(), CoreError> {
        Ok(self.engine.move_item(from, to)?)
    }

    pub fn clear(&self) -> Result<(), CoreError> {
        Ok(self.engine.clear()?)
    }

    pub fn set_shuffle(&self, shuffle: bool) -> Result<(), CoreError> {
        Ok(self.engine.set_shuffle(shuffle)?)
    }

    pub fn set_repeat(&self, repeat: RepeatMode) -> Result<(), CoreError> {
        Ok(self.engine.set_repeat(repeat)?)
    }

    pub fn next(&self) -> Result<(), CoreError> {
        Ok(self.engine.next()?)
    }

    pub fn previous(&self) -> Result<(), CoreError> {
        Ok(self.engine.previous()?)
    }

    pub fn seek(&self, position_secs: f64) -> Result<(), CoreError> {
        Ok(self.engine.seek(position_secs)?)
    }

    pub fn pause(&self) -> Result<(), CoreError> {
        Ok(self.engine.pause()?)
    }

    pub fn resume(&self) -> Result<(), CoreError> {
        Ok(self.engine.resume()?)
    }

    pub fn stop(&self) -> Result<(), CoreError> {
        Ok(self.engine.stop()?)
    }

    pub fn status(&self) -> PlayerStatus {
        self.engine.status()
    }

    /// The engine itself, for measurements (first-sample latency).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

fn to_event(event: EngineEvent) -> Event {
    match event {
        EngineEvent::Position { index, track_id, position_secs, duration_secs } => {
            Event::PlaybackPosition { index, track_id, position_secs, duration_secs }
        }
        EngineEvent::TrackChanged { index, track_id, name, duration_secs } => {
            Event::TrackChanged { index, track_id, name, duration_secs }
        }
        EngineEvent::StateChanged { state } => Event::PlaybackState { state },
        EngineEvent::Error { index, name, kind, reason } => {
            Event::PlaybackError { index, name, kind, message: reason }
        }
        EngineEvent::QueueEnded => Event::QueueEnded,
        EngineEvent::QueueChanged { track_ids, shuffle, repeat } => {
            Event::QueueChanged { track_ids, shuffle, repeat }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_resolve_to_files_or_clear_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let loft = Loft::open(tmp.path().join("profile")).unwrap();
        let file = tmp.path().join("a.flac");
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(resolve_item(&loft, file.to_str().unwrap()).unwrap().name(), file.display().to_string());
        let unknown = resolve_item(&loft, "42").unwrap_err();
        assert_eq!(unknown.kind(), "invalid_input");
        assert!(unknown.to_string().contains("track 42"), "{unknown}");
        let neither = resolve_item(&loft, "/no/such/file.mp3").unwrap_err();
        assert!(neither.to_string().contains("neither a file nor a track id"), "{neither}");
    }

    #[test]
    fn engine_events_become_service_events_that_serialize_with_a_type() {
        let event = to_event(EngineEvent::StateChanged { state: PlaybackState::Buffering });
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json, serde_json::json!({"type": "playback_state", "state": "buffering"}));
        let error = to_event(EngineEvent::Error {
            index: Some(1),
            name: "/m/bad.flac".into(),
            kind: loft_audio::AudioErrorKind::Corrupt,
            reason: "/m/bad.flac is corrupt or truncated: x".into(),
        });
        assert_eq!(serde_json::to_value(&error).unwrap()["type"], "playback_error");
    }
}
