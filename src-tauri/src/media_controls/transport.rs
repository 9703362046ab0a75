//! The OS media controls on Windows and macOS, through souvlaki: Windows' System Media
//! Transport Controls (the media overlay, the lock screen, the keyboard's media keys; bound to
//! the main window's HWND) and macOS's Now Playing (`MPNowPlayingInfoCenter` for what shows,
//! `MPRemoteCommandCenter` for the keys, the Touch Bar and Control Center). Linux has the
//! richer MPRIS module instead.
//!
//! As in [`super::mpris`], translating is pure ([`playback`], [`Metadata`], [`command_for`]), so
//! the mapping is tested on every platform; the module is compiled in Linux test builds against
//! souvlaki's own backend for that.

// In a Linux test build only the mapping is used; the rest is compiled to be checked.
#![cfg_attr(all(test, target_os = "linux"), allow(dead_code))]

use std::sync::Arc;
use std::time::Duration;

use souvlaki::{
    MediaControlEvent, MediaControls, MediaMetadata, MediaPlayback, MediaPosition, SeekDirection,
};
use tauri::{AppHandle, Manager};

use super::actions::{Action, perform_in_background};
use super::now_playing::{Change, NowPlaying, PlayState, TrackInfo};
use super::{Control, MediaState};

/// How far Windows' fast-forward and rewind buttons jump, which name no amount.
const SKIP_SECS: f64 = 10.0;

/// The state the OS shows, with where playback is.
pub fn playback(now: &NowPlaying) -> MediaPlayback {
    let progress = Some(MediaPosition(Duration::from_secs_f64(now.position_secs.max(0.0))));
    match (now.state, now.track.is_some()) {
        (_, false) | (PlayState::Stopped, _) => MediaPlayback::Stopped,
        (PlayState::Playing, true) => MediaPlayback::Playing { progress },
        (PlayState::Paused, true) => MediaPlayback::Paused { progress },
    }
}

/// A track's tags as the OS shows them; souvlaki's [`MediaMetadata`] borrows from this.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    pub title: String,
    pub artist: String,
    pub album: String,
    pub cover_url: Option<String>,
    pub duration: Option<Duration>,
}

impl Metadata {
    pub fn of(track: &TrackInfo) -> Metadata {
        Metadata {
            title: track.title.clone(),
            artist: track.artists.join(", "),
            album: track.album.clone(),
            cover_url: track.art_path.as_deref().and_then(cover_url),
            duration: track
                .length_secs
                .filter(|secs| secs.is_finite() && *secs > 0.0)
                .map(Duration::from_secs_f64),
        }
    }

    /// Every text is given, empty ones too: Windows keeps a field it is not given, so a track
    /// without an album would otherwise show the previous track's. (A cover cannot be taken
    /// back through souvlaki: a track without one keeps showing the last cover on Windows.)
    pub fn as_souvlaki(&self) -> MediaMetadata<'_> {
        MediaMetadata {
            title: Some(&self.title),
            artist: Some(&self.artist),
            album: Some(&self.album),
            cover_url: self.cover_url.as_deref(),
            duration: self.duration,
        }
    }
}

/// The cover as each platform's backend in souvlaki reads a local file. Windows strips
/// `file://` and opens the rest as a path, so the path goes in as it is; macOS parses a real
/// URL (`NSURL URLWithString:`), in which a space or an accent must be percent-encoded.
pub fn cover_url(path: &std::path::Path) -> Option<String> {
    if !path.is_file() {
        return None;
    }
    if cfg!(target_os = "windows") {
        path.is_absolute().then(|| path.to_str().map(|text| format!("file://{text}")))?
    } else {
        super::file_url(path)
    }
}

/// What an OS media control asks of the app.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command {
    Act(Action),
    Raise,
    Quit,
}

/// Turns an event from the OS into what the app does, given what plays now; `None` for what
/// Loft does not offer (opening a URI) or what makes no sense now (seeking with nothing loaded).
pub fn command_for(event: &MediaControlEvent, now: &NowPlaying) -> Option<Command> {
    let seek_by = |secs: f64| {
        let track = now.track.as_ref()?;
        let target = now.position_secs + secs;
        // Past the end is the next track, as a skip forward on the last seconds means.
        if track.length_secs.is_some_and(|length| target >= length) {
            return Some(Command::Act(Action::Next));
        }
        Some(Command::Act(Action::SeekTo(target.max(0.0))))
    };
    let signed = |direction: &SeekDirection, secs: f64| match direction {
        SeekDirection::Forward => secs,
        SeekDirection::Backward => -secs,
    };
    match event {
        MediaControlEvent::Play => Some(Command::Act(Action::Play)),
        MediaControlEvent::Pause => Some(Command::Act(Action::Pause)),
        MediaControlEvent::Toggle => Some(Command::Act(Action::PlayPause)),
        MediaControlEvent::Next => Some(Command::Act(Action::Next)),
        MediaControlEvent::Previous => Some(Command::Act(Action::Previous)),
        MediaControlEvent::Stop => Some(Command::Act(Action::Stop)),
        MediaControlEvent::Seek(direction) => seek_by(signed(direction, SKIP_SECS)),
        MediaControlEvent::SeekBy(direction, by) => seek_by(signed(direction, by.as_secs_f64())),
        MediaControlEvent::SetPosition(MediaPosition(position)) => {
            let track = now.track.as_ref()?;
            let secs = position.as_secs_f64();
            let inside = track.length_secs.is_none_or(|length| secs <= length);
            inside.then_some(Command::Act(Action::SeekTo(secs)))
        }
        MediaControlEvent::SetVolume(volume) if volume.is_finite() => {
            Some(Command::Act(Action::SetVolume(volume.clamp(0.0, 1.0))))
        }
        MediaControlEvent::SetShuffle(on) => Some(Command::Act(Action::SetShuffle(*on))),
        MediaControlEvent::Raise => Some(Command::Raise),
        MediaControlEvent::Quit => Some(Command::Quit),
        _ => None,
    }
}

#[derive(Debug)]
pub enum StartError {
    /// Windows binds its controls to a window, and the main one has no handle yet.
    NoWindow,
    Platform(souvlaki::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::NoWindow => formatter.write_str("the main window has no native handle"),
            StartError::Platform(error) => write!(formatter, "{error}"),
        }
    }
}

/// The OS controls, told of each change by the controls' thread.
pub struct Transport {
    controls: MediaControls,
}

impl Transport {
    pub fn start(app: &AppHandle) -> Result<Transport, StartError> {
        let hwnd = main_window_handle(app);
        if cfg!(target_os = "windows") && hwnd.is_none() {
            return Err(StartError::NoWindow);
        }
        let config = souvlaki::PlatformConfig { display_name: "Loft", dbus_name: "app.loft.player", hwnd };
        let mut controls = MediaControls::new(config).map_err(StartError::Platform)?;
        let handler_app = app.clone();
        controls.attach(move |event| handle(&handler_app, &event)).map_err(StartError::Platform)?;
        Ok(Transport { controls })
    }
}

/// The main window's HWND, which Windows' controls are bound to.
#[cfg(target_os = "windows")]
fn main_window_handle(app: &AppHandle) -> Option<*mut std::ffi::c_void> {
    let window = app.get_webview_window("main")?;
    window.hwnd().ok().map(|hwnd| hwnd.0)
}

#[cfg(not(target_os = "windows"))]
fn main_window_handle(_app: &AppHandle) -> Option<*mut std::ffi::c_void> {
    None
}

/// Runs on the OS's thread: reads the shared state and hands the work to the blocking pool
/// or the main thread, never waiting on either.
fn handle(app: &AppHandle, event: &MediaControlEvent) {
    let Some(state) = app.try_state::<Arc<MediaState>>() else { return };
    match command_for(event, &state.snapshot()) {
        Some(Command::Act(action)) => perform_in_background(app, action),
        Some(Command::Raise) => {
            let window_app = app.clone();
            let _ = app.run_on_main_thread(move || crate::opening::show_main_window(&window_app));
        }
        Some(Command::Quit) => app.exit(0),
        None => tracing::debug!(?event, "a media control Loft does not offer"),
    }
}

impl Control for Transport {
    fn changed(&mut self, now: &NowPlaying, change: &Change) {
        let result = match change {
            Change::State | Change::Seeked(_) => self.controls.set_playback(playback(now)),
            Change::Track(_) => {
                let metadata = now.track.as_ref().map(Metadata::of).unwrap_or_default();
                self.controls
                    .set_metadata(metadata.as_souvlaki())
                    .and_then(|()| self.controls.set_playback(playback(now)))
            }
            #[cfg(target_os = "macos")]
            Change::Queue => self.controls.set_shuffle(Some(now.shuffle)),
            _ => Ok(()),
        };
        if let Err(error) = result {
            tracing::debug!(%error, "the OS media controls refused an update");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn playing(position_secs: f64) -> NowPlaying {
        NowPlaying {
            state: PlayState::Playing,
            position_secs,
            queue_len: 3,
            track: Some(TrackInfo {
                index: 1,
                track_id: 7,
                title: "Hoppípolla".into(),
                artists: vec!["Sigur Rós".into(), "Guest".into()],
                album: "Takk…".into(),
                length_secs: Some(268.0),
                ..TrackInfo::default()
            }),
            ..NowPlaying::default()
        }
    }

    #[test]
    fn the_state_maps_with_its_position_and_nothing_loaded_is_stopped() {
        let position = Some(MediaPosition(Duration::from_millis(12_500)));
        assert_eq!(playback(&playing(12.5)), MediaPlayback::Playing { progress: position });
        let paused = NowPlaying { state: PlayState::Paused, ..playing(12.5) };
        assert_eq!(playback(&paused), MediaPlayback::Paused { progress: position });
        let stopped = NowPlaying { state: PlayState::Stopped, ..playing(12.5) };
        assert_eq!(playback(&stopped), MediaPlayback::Stopped);
        let empty = NowPlaying { state: PlayState::Playing, ..NowPlaying::default() };
        assert_eq!(playback(&empty), MediaPlayback::Stopped);
        let before_start = NowPlaying { position_secs: -3.0, ..playing(0.0) };
        assert_eq!(
            playback(&before_start),
            MediaPlayback::Playing { progress: Some(MediaPosition(Duration::ZERO)) }
        );
    }

    #[test]
    fn metadata_carries_the_tags_length_and_art_as_a_file_url() {
        let folder = tempfile::tempdir().unwrap();
        // Where macOS keeps it: "Application Support", with a space.
        let art = folder.path().join("Application Support").join("cover 1.jpg");
        std::fs::create_dir_all(art.parent().unwrap()).unwrap();
        std::fs::write(&art, b"jpeg").unwrap();
        let mut track = playing(0.0).track.unwrap();
        track.art_path = Some(art.clone());
        let metadata = Metadata::of(&track);
        assert_eq!(metadata.artist, "Sigur Rós, Guest");
        assert_eq!(metadata.duration, Some(Duration::from_secs(268)));
        let shown = metadata.as_souvlaki();
        assert_eq!(shown.title, Some("Hoppípolla"));
        assert_eq!(shown.album, Some("Takk…"));
        let url = shown.cover_url.unwrap();
        assert!(
            url.starts_with("file:///") && url.ends_with("/Application%20Support/cover%201.jpg"),
            "{url}"
        );

        // An empty tag is given as empty, so the last track's does not stay on show; a missing
        // or relative cover and a nonsense length are left out.
        track.album.clear();
        track.art_path = Some("relative/cover.jpg".into());
        track.length_secs = Some(f64::NAN);
        let metadata = Metadata::of(&track);
        assert_eq!(metadata.as_souvlaki().album, Some(""));
        assert_eq!(metadata.cover_url, None);
        assert_eq!(metadata.duration, None);
        track.art_path = Some(folder.path().join("gone.jpg"));
        assert_eq!(Metadata::of(&track).cover_url, None);
    }

    #[test]
    fn buttons_map_to_the_same_actions_the_window_uses() {
        let now = playing(100.0);
        let act = |event| command_for(&event, &now);
        assert_eq!(act(MediaControlEvent::Toggle), Some(Command::Act(Action::PlayPause)));
        assert_eq!(act(MediaControlEvent::Play), Some(Command::Act(Action::Play)));
        assert_eq!(act(MediaControlEvent::Pause), Some(Command::Act(Action::Pause)));
        assert_eq!(act(MediaControlEvent::Next), Some(Command::Act(Action::Next)));
        assert_eq!(act(MediaControlEvent::Previous), Some(Command::Act(Action::Previous)));
        assert_eq!(act(MediaControlEvent::Stop), Some(Command::Act(Action::Stop)));
        assert_eq!(act(MediaControlEvent::SetShuffle(true)), Some(Command::Act(Action::SetShuffle(true))));
        assert_eq!(act(MediaControlEvent::Raise), Some(Command::Raise));
        assert_eq!(act(MediaControlEvent::Quit), Some(Command::Quit));
        assert_eq!(act(MediaControlEvent::OpenUri("https://example.com/a.mp3".into())), None);
    }

    #[test]
    fn seeking_stays_inside_the_track_and_past_its_end_is_next() {
        let now = playing(100.0);
        let act = |event| command_for(&event, &now);
        assert_eq!(
            act(MediaControlEvent::Seek(SeekDirection::Forward)),
            Some(Command::Act(Action::SeekTo(110.0)))
        );
        assert_eq!(
            act(MediaControlEvent::SeekBy(SeekDirection::Backward, Duration::from_secs(30))),
            Some(Command::Act(Action::SeekTo(70.0)))
        );
        assert_eq!(
            act(MediaControlEvent::SeekBy(SeekDirection::Backward, Duration::from_secs(300))),
            Some(Command::Act(Action::SeekTo(0.0)))
        );
        assert_eq!(
            act(MediaControlEvent::SeekBy(SeekDirection::Forward, Duration::from_secs(200))),
            Some(Command::Act(Action::Next))
        );
        let to = |secs| MediaControlEvent::SetPosition(MediaPosition(Duration::from_secs(secs)));
        assert_eq!(act(to(42)), Some(Command::Act(Action::SeekTo(42.0))));
        assert_eq!(act(to(9_999)), None, "outside the track");
        let nothing = NowPlaying::default();
        assert_eq!(command_for(&MediaControlEvent::Seek(SeekDirection::Forward), &nothing), None);
        assert_eq!(command_for(&to(1), &nothing), None);
    }

    #[test]
    fn volume_is_clamped_and_nonsense_ignored() {
        let now = playing(0.0);
        assert_eq!(
            command_for(&MediaControlEvent::SetVolume(1.7), &now),
            Some(Command::Act(Action::SetVolume(1.0)))
        );
        assert_eq!(command_for(&MediaControlEvent::SetVolume(f64::NAN), &now), None);
    }
}
