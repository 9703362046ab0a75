//! What the OS media controls show, kept up to date from the service's events: the state, the
//! track with its tags, where it is, shuffle, repeat and volume. Folding an event in is pure,
//! and says which of the things the controls show changed, so each platform's module only
//! translates ([`super::mpris`] on Linux).

use std::path::PathBuf;

use loft_core::player::{PlaybackState, RepeatMode};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PlayState {
    Playing,
    Paused,
    #[default]
    Stopped,
}

impl PlayState {
    /// Buffering counts as playing, which is what the user asked.
    fn from_engine(state: PlaybackState) -> PlayState {
        match state {
            PlaybackState::Playing | PlaybackState::Buffering => PlayState::Playing,
            PlaybackState::Paused => PlayState::Paused,
            PlaybackState::Stopped => PlayState::Stopped,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Repeat {
    #[default]
    Off,
    One,
    All,
}

impl Repeat {
    fn from_engine(repeat: RepeatMode) -> Repeat {
        match repeat {
            RepeatMode::One => Repeat::One,
            RepeatMode::All => Repeat::All,
            RepeatMode::Off => Repeat::Off,
        }
    }
}

/// The track the controls show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackInfo {
    /// Its place in the queue: what tells two plays of one track apart.
    pub index: usize,
    /// The library's id; 0 for a file outside the library.
    pub track_id: i64,
    pub title: String,
    pub artists: Vec<String>,
    pub album: String,
    pub length_secs: Option<f64>,
    /// The cover thumbnail written out as a file, for controls that take a URL.
    pub art_path: Option<PathBuf>,
    /// The file played, when it is one on this computer.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NowPlaying {
    pub state: PlayState,
    pub track: Option<TrackInfo>,
    pub position_secs: f64,
    pub queue_len: usize,
    pub shuffle: bool,
    pub repeat: Repeat,
    /// The volume slider, 0.0 to 1.0.
    pub volume: f64,
}

/// Which of the things the controls show an event changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    State,
    /// A new track started; its tags are to be looked up ([`TrackStarted`]).
    Track(TrackStarted),
    /// Playback jumped (a seek) to this position.
    Seeked(f64),
    Queue,
    Volume,
}

/// A track that reached the speakers, before its tags are known.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackStarted {
    pub index: usize,
    pub track_id: i64,
    /// The engine's name for it: a file's path, or the track's description.
    pub name: String,
    pub duration_secs: Option<f64>,
}

/// The part of the service's events the controls follow, read back from the JSON the window
/// receives. Anything else, and anything malformed, is ignored.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Followed {
    PlaybackState { state: PlaybackState },
    PlaybackPosition { index: usize, position_secs: f64 },
    TrackChanged { index: usize, track_id: i64, name: String, duration_secs: Option<f64> },
    QueueChanged { track_ids: Vec<i64>, shuffle: bool, repeat: RepeatMode },
    QueueEnded,
    SettingsChanged { settings: FollowedSettings },
}

#[derive(Debug, Deserialize)]
struct FollowedSettings {
    volume: f64,
}

/// A jump in position this much larger than the time that passed is a seek, not playback.
const SEEK_TOLERANCE_SECS: f64 = 1.5;

impl NowPlaying {
    /// Folds in one event, as the JSON the window receives; `elapsed_secs` is the time since
    /// the previous position report, which tells playback from a seek.
    pub fn apply_json(&mut self, json: &str, elapsed_secs: f64) -> Option<Change> {
        let followed: Followed = serde_json::from_str(json).ok()?;
        self.apply(followed, elapsed_secs)
    }

    /// Takes in the player's whole status, for a change that came with no events the controls
    /// could follow (a queue restored before they listened, or loaded paused).
    pub fn apply_status(&mut self, status: &loft_core::PlaybackStatus) -> Vec<Change> {
        let queue = Followed::QueueChanged {
            track_ids: status.queue.clone(),
            shuffle: status.shuffle,
            repeat: status.repeat,
        };
        let mut changes: Vec<Change> = self.apply(queue, 0.0).into_iter().collect();
        if let (Some(index), Some(name)) = (status.index, status.name.clone()) {
            let track_id = status.track_id.unwrap_or(0);
            let track = Followed::TrackChanged { index, track_id, name, duration_secs: status.duration_secs };
            changes.extend(self.apply(track, 0.0));
            if status.position_secs.is_finite() && status.position_secs > 0.0 {
                self.position_secs = status.position_secs;
            }
        }
        changes.extend(self.apply(Followed::PlaybackState { state: status.state }, 0.0));
        changes
    }

    fn apply(&mut self, event: Followed, elapsed_secs: f64) -> Option<Change> {
        match event {
            Followed::PlaybackState { state } => {
                let state = PlayState::from_engine(state);
                (state != self.state).then(|| {
                    self.state = state;
                    Change::State
                })
            }
            Followed::PlaybackPosition { index, position_secs } => {
                if !position_secs.is_finite() || position_secs < 0.0 {
                    return None;
                }
                let same_track = self.track.as_ref().is_some_and(|track| track.index == index);
                let expected = self.position_secs
                    + if self.state == PlayState::Playing { elapsed_secs.max(0.0) } else { 0.0 };
                let jumped = same_track && (position_secs - expected).abs() > SEEK_TOLERANCE_SECS;
                self.position_secs = position_secs;
                jumped.then_some(Change::Seeked(position_secs))
            }
            Followed::TrackChanged { index, track_id, name, duration_secs } => {
                self.position_secs = 0.0;
                let duration_secs = duration_secs.filter(|secs| secs.is_finite() && *secs > 0.0);
                // Until the tags are read, the controls show the engine's name for the track.
                self.track = Some(TrackInfo {
                    index,
                    track_id,
                    title: display_name(&name),
                    length_secs: duration_secs,
                    ..TrackInfo::default()
                });
                Some(Change::Track(TrackStarted { index, track_id, name, duration_secs }))
            }
            Followed::QueueChanged { track_ids, shuffle, repeat } => {
                self.queue_len = track_ids.len();
                self.shuffle = shuffle;
                self.repeat = Repeat::from_engine(repeat);
                Some(Change::Queue)
            }
            Followed::QueueEnded => {
                self.state = PlayState::Stopped;
                self.position_secs = 0.0;
                Some(Change::State)
            }
            Followed::SettingsChanged { settings } => {
                let volume = if settings.volume.is_finite() { settings.volume.clamp(0.0, 1.0) } else { 0.0 };
                ((volume - self.volume).abs() > f64::EPSILON).then(|| {
                    self.volume = volume;
                    Change::Volume
                })
            }
        }
    }

    /// Whether there is a track after the current one to go to.
    pub fn can_go_next(&self) -> bool {
        match &self.track {
            Some(track) => self.repeat != Repeat::Off || self.shuffle || track.index + 1 < self.queue_len,
            None => false,
        }
    }

    /// Previous restarts the current track when there is no earlier one, so it is always
    /// possible while a track is loaded.
    pub fn can_go_previous(&self) -> bool {
        self.track.is_some()
    }
}

/// What to call a track known only by the engine's name: a file's name without its folder
/// and extension.
pub fn display_name(name: &str) -> String {
    let path = std::path::Path::new(name);
    match path.file_stem() {
        Some(stem) if path.extension().is_some() => stem.to_string_lossy().into_owned(),
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track_changed(index: usize) -> String {
        format!(
            r#"{{"type":"track_changed","index":{index},"track_id":0,"name":"/m/Artist/01 Song.flac","duration_secs":180.5}}"#
        )
    }

    #[test]
    fn events_fold_into_what_the_controls_show() {
        let mut now = NowPlaying::default();
        assert_eq!(
            now.apply_json(r#"{"type":"playback_state","state":"buffering"}"#, 0.0),
            Some(Change::State)
        );
        assert_eq!(now.state, PlayState::Playing);
        assert_eq!(now.apply_json(r#"{"type":"playback_state","state":"playing"}"#, 0.0), None);

        let change = now.apply_json(&track_changed(2), 0.0).unwrap();
        assert!(matches!(change, Change::Track(TrackStarted { index: 2, track_id: 0, .. })));
        let track = now.track.clone().unwrap();
        assert_eq!(track.title, "01 Song");
        assert_eq!(track.length_secs, Some(180.5));

        let queue = r#"{"type":"queue_changed","track_ids":[0,0,0,0],"shuffle":true,"repeat":"all"}"#;
        assert_eq!(now.apply_json(queue, 0.0), Some(Change::Queue));
        assert_eq!((now.queue_len, now.shuffle, now.repeat), (4, true, Repeat::All));

        let volume = r#"{"type":"settings_changed","settings":{"volume":0.25,"replaygain":"track"}}"#;
        assert_eq!(now.apply_json(volume, 0.0), Some(Change::Volume));
        assert_eq!(now.volume, 0.25);

        assert_eq!(now.apply_json(r#"{"type":"queue_ended"}"#, 0.0), Some(Change::State));
        assert_eq!(now.state, PlayState::Stopped);
    }

    #[test]
    fn a_jump_in_position_is_a_seek_and_steady_playback_is_not() {
        let mut now = NowPlaying::default();
        now.apply_json(r#"{"type":"playback_state","state":"playing"}"#, 0.0);
        now.apply_json(&track_changed(0), 0.0);
        let at = |secs: f64| {
            format!(r#"{{"type":"playback_position","index":0,"track_id":0,"position_secs":{secs}}}"#)
        };
        assert_eq!(now.apply_json(&at(0.25), 0.25), None);
        assert_eq!(now.apply_json(&at(0.5), 0.25), None);
        assert_eq!(now.apply_json(&at(60.0), 0.25), Some(Change::Seeked(60.0)));
        assert_eq!(now.apply_json(&at(2.0), 0.25), Some(Change::Seeked(2.0)));
        // Another track's position is no seek of this one.
        assert_eq!(
            now.apply_json(r#"{"type":"playback_position","index":1,"track_id":0,"position_secs":90}"#, 0.25),
            None
        );
    }

    #[test]
    fn hostile_or_unknown_events_change_nothing() {
        let mut now = NowPlaying::default();
        for json in [
            "not json",
            r#"{"type":"scan_progress","files_seen":1,"files_to_read":1,"files_read":1}"#,
            r#"{"type":"playback_position","index":0,"track_id":0,"position_secs":-5}"#,
            r#"{"type":"track_changed","index":"zero"}"#,
        ] {
            assert_eq!(now.apply_json(json, 0.0), None, "{json}");
        }
        assert_eq!(now, NowPlaying::default());
        let volume = r#"{"type":"settings_changed","settings":{"volume":7}}"#;
        now.apply_json(volume, 0.0);
        assert_eq!(now.volume, 1.0);
    }

    #[test]
    fn a_status_loaded_paused_shows_its_track_and_place() {
        let mut now = NowPlaying::default();
        let status = loft_core::PlaybackStatus {
            state: PlaybackState::Paused,
            index: Some(1),
            track_id: Some(0),
            name: Some("/m/b.flac".into()),
            position_secs: 12.0,
            duration_secs: Some(30.0),
            queue: vec![0, 0, 0],
            shuffle: false,
            repeat: RepeatMode::Off,
        };
        let changes = now.apply_status(&status);
        assert!(
            matches!(changes.as_slice(), [Change::Queue, Change::Track(started), Change::State] if started.index == 1)
        );
        assert_eq!(now.state, PlayState::Paused);
        assert_eq!(now.position_secs, 12.0);
        assert_eq!(now.track.as_ref().map(|t| t.title.as_str()), Some("b"));
        assert_eq!(now.queue_len, 3);
    }

    #[test]
    fn next_and_previous_follow_the_queue() {
        let mut now = NowPlaying { queue_len: 2, ..NowPlaying::default() };
        assert!(!now.can_go_next() && !now.can_go_previous());
        now.track = Some(TrackInfo { index: 0, ..TrackInfo::default() });
        assert!(now.can_go_next() && now.can_go_previous());
        now.track = Some(TrackInfo { index: 1, ..TrackInfo::default() });
        assert!(!now.can_go_next());
        now.repeat = Repeat::All;
        assert!(now.can_go_next());
    }
}
