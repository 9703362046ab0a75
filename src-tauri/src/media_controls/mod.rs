//! The OS media controls: MPRIS 2 on Linux (the media keys, the desktop's media widget,
//! `playerctl`), the System Media Transport Controls on Windows and Now Playing on macOS
//! ([`transport`]), the tray's "now playing" line, no sleep while music plays, and on Linux
//! notifications. One thread follows the service's events (the same `loft://event` the window
//! receives), looks up the tags of each new track, and hands the result to each control. The
//! controls' commands go to the same player the window drives ([`actions`]).

// What only MPRIS and the Linux notifications read (the track's file, the repeat mode, the
// queue's length) is unused on Windows and macOS, whose controls show less.
#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

pub mod actions;
mod keep_awake;
#[cfg(target_os = "linux")]
mod mpris;
#[cfg(target_os = "linux")]
mod notify;
pub mod now_playing;
#[cfg(any(target_os = "windows", target_os = "macos", test))]
mod transport;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use loft_core::Loft;
use loft_core::library_types::CoverSize;
use tauri::{AppHandle, Listener, Manager};

use crate::events::LoftEvent;
use now_playing::{Change, NowPlaying, TrackInfo, TrackStarted};

/// What every control reads: the one picture of what plays, behind a lock held only to copy
/// or change it.
#[derive(Default)]
pub struct MediaState {
    now: Mutex<NowPlaying>,
    /// Where changes go to the controls' thread, once it runs.
    changes: Mutex<Option<Sender<Change>>>,
}

impl MediaState {
    pub fn snapshot(&self) -> NowPlaying {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, NowPlaying> {
        self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Something that shows what plays: told of each change once the state has it.
pub trait Control: Send {
    fn changed(&mut self, now: &NowPlaying, change: &Change);
}

/// Starts following playback for the controls this platform has, plus `extra` (the tray).
pub fn start(app: &AppHandle, extra: Vec<Box<dyn Control>>) {
    let state = Arc::new(MediaState::default());
    state.lock().volume = f64::from(app.state::<Arc<Loft>>().settings().volume);
    app.manage(state.clone());

    let (changes, received) = mpsc::channel::<Change>();
    *state.changes.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(changes.clone());
    follow_events(app, state.clone(), changes);

    let app = app.clone();
    let spawned = std::thread::Builder::new().name("loft-media-controls".into()).spawn(move || {
        let mut controls = extra;
        #[cfg(target_os = "linux")]
        match mpris::Mpris::start(&app) {
            Ok(mpris) => controls.push(Box::new(mpris)),
            Err(error) => tracing::warn!(%error, "cannot offer MPRIS media controls on D-Bus"),
        }
        #[cfg(any(target_os = "windows", target_os = "macos"))]
        match transport::Transport::start(&app) {
            Ok(transport) => controls.push(Box::new(transport)),
            Err(error) => tracing::warn!(%error, "cannot offer the system's media controls"),
        }
        controls.push(Box::new(keep_awake::KeepAwake::default()));
        #[cfg(target_os = "linux")]
        controls.push(Box::new(notify::Notifier::new(app.clone())));
        run(&app, &state, &received, &mut controls);
    });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the media controls");
    }
}

/// Shows the player's whole status in the controls: for a queue loaded without the events
/// that usually tell them (restored paused at start-up).
pub fn show_player_status(app: &AppHandle) {
    let Some(state) = app.try_state::<Arc<MediaState>>() else { return };
    let status = app.state::<loft_core::SharedPlayer>().status();
    let changes = state.lock().apply_status(&status);
    if let Some(sender) = state.changes.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).as_ref() {
        for change in changes {
            let _ = sender.send(change);
        }
    }
}

/// Folds every event the window receives into the state, passing on what changed. Runs on the
/// emitting thread, so it only parses and sends.
fn follow_events(app: &AppHandle, state: Arc<MediaState>, changes: Sender<Change>) {
    let last_event = Mutex::new(Instant::now());
    let name = <LoftEvent as tauri_specta::Event>::NAME;
    app.listen_any(name, move |event| {
        let elapsed = {
            let mut last = last_event.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let elapsed = last.elapsed().as_secs_f64();
            if event.payload().contains("\"playback_position\"") {
                *last = Instant::now();
            }
            elapsed
        };
        let change = state.lock().apply_json(event.payload(), elapsed);
        if let Some(change) = change {
            let _ = changes.send(change);
        }
    });
}

fn run(app: &AppHandle, state: &MediaState, received: &Receiver<Change>, controls: &mut [Box<dyn Control>]) {
    while let Ok(change) = received.recv() {
        if let Change::Track(started) = &change {
            let info = describe_track(app, started);
            let mut now = state.lock();
            // A later track may have started while this one's tags were read.
            if now.track.as_ref().is_some_and(|track| track.index == info.index) {
                now.track = Some(info);
            }
        }
        let now = state.snapshot();
        for control in controls.iter_mut() {
            control.changed(&now, &change);
        }
    }
}

/// The tags and cover of a track that started: from the library for a library track, from
/// the file itself otherwise.
fn describe_track(app: &AppHandle, started: &TrackStarted) -> TrackInfo {
    let loft = app.state::<Arc<Loft>>();
    let mut info = TrackInfo {
        index: started.index,
        track_id: started.track_id,
        title: now_playing::display_name(&started.name),
        length_secs: started.duration_secs,
        ..TrackInfo::default()
    };
    if started.track_id > 0 {
        match loft.track(started.track_id) {
            Ok(Some(track)) => {
                if !track.title.is_empty() {
                    info.title = track.title;
                }
                info.artists = if track.artists.is_empty() { vec![track.artist] } else { track.artists };
                info.album = track.album;
                if info.length_secs.is_none() && track.duration_ms > 0 {
                    info.length_secs = Some(track.duration_ms as f64 / 1000.0);
                }
                info.file = track.path.map(PathBuf::from);
                info.art_path = track.cover_id.and_then(|cover| cover_file(&loft, cover));
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, track = started.track_id, "cannot read the playing track"),
        }
    } else {
        let path = Path::new(&started.name);
        if path.is_file() {
            info.file = Some(path.to_owned());
            if let Some(tags) = loft.file_tags(path) {
                if !tags.title.is_empty() {
                    info.title = tags.title;
                }
                if !tags.artist.is_empty() {
                    info.artists = vec![tags.artist];
                }
                info.album = tags.album;
                info.length_secs = info.length_secs.or(tags.duration_secs);
            }
        }
    }
    info.artists.retain(|artist| !artist.is_empty());
    info
}

/// The cover thumbnail as a file in the profile's cache, written the first time it is asked
/// for: the OS controls take art as a URL, not as bytes.
fn cover_file(loft: &Loft, cover_id: i64) -> Option<PathBuf> {
    let folder = loft.profile().cache_dir().join("media-controls-art");
    let written_before = ["jpg", "png"].map(|extension| folder.join(format!("{cover_id}.{extension}")));
    if let Some(path) = written_before.into_iter().find(|path| path.is_file()) {
        return Some(path);
    }
    let image = match loft.cover(cover_id, CoverSize::Thumbnail) {
        Ok(Some(image)) => image,
        Ok(None) => return None,
        Err(error) => {
            tracing::warn!(%error, cover_id, "cannot read a cover for the media controls");
            return None;
        }
    };
    let extension = if image.mime == "image/png" { "png" } else { "jpg" };
    let path = folder.join(format!("{cover_id}.{extension}"));
    let written = std::fs::create_dir_all(&folder).and_then(|()| {
        let partial = path.with_extension("part");
        std::fs::write(&partial, &image.bytes)?;
        std::fs::rename(&partial, &path)
    });
    match written {
        Ok(()) => Some(path),
        Err(error) => {
            tracing::warn!(%error, "cannot write a cover for the media controls");
            None
        }
    }
}

/// A `file://` URL for an absolute path, with what URLs cannot hold escaped.
pub fn file_url(path: &Path) -> Option<String> {
    if !path.is_absolute() {
        return None;
    }
    let text = path.to_str()?;
    let mut url = String::from("file://");
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    Some(url)
}
