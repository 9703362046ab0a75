//! What the OS media controls and the tray can ask of the app, carried out on the same player
//! and settings the window uses, so the window follows through the usual events.

use std::sync::Arc;

use loft_core::player::RepeatMode;
use loft_core::{CoreError, Loft, SharedPlayer};
use tauri::{AppHandle, Manager};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    PlayPause,
    Play,
    Pause,
    Stop,
    Next,
    Previous,
    /// To this position in the current track, in seconds.
    SeekTo(f64),
    /// The volume slider, 0.0 to 1.0.
    SetVolume(f64),
    SetShuffle(bool),
    SetRepeat(RepeatMode),
}

/// Carries out `action`. Blocking: starting the player or saving the settings touches the
/// disk, so callers run it off async workers and the UI thread ([`perform_in_background`]).
pub fn perform(app: &AppHandle, action: Action) -> Result<(), CoreError> {
    let loft: Arc<Loft> = Arc::clone(&app.state::<Arc<Loft>>());
    let players = app.state::<SharedPlayer>();
    if let Action::SetVolume(volume) = action {
        let settings = loft.set_volume(volume.clamp(0.0, 1.0) as f32)?;
        if let Some(player) = players.running() {
            player.apply_settings(&settings)?;
        }
        return Ok(());
    }
    let player = players.get_or_start(&loft)?;
    match action {
        Action::PlayPause => match player.status().state.as_str() {
            "playing" | "buffering" => player.pause(),
            _ => player.resume(),
        },
        Action::Play => player.resume(),
        Action::Pause => player.pause(),
        Action::Stop => player.stop(),
        Action::Next => player.next(),
        Action::Previous => player.previous(),
        Action::SeekTo(position) => player.seek(position.max(0.0)),
        Action::SetShuffle(on) => player.set_shuffle(on),
        Action::SetRepeat(mode) => player.set_repeat(mode),
        Action::SetVolume(_) => Ok(()),
    }
}

/// [`perform`] on the blocking pool, logging what fails: for controls that cannot wait.
pub fn perform_in_background(app: &AppHandle, action: Action) {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        if let Err(error) = perform(&app, action) {
            tracing::warn!(%error, ?action, "a media control's command failed");
        }
    });
}

/// [`perform`] awaited on the blocking pool, for controls that answer their caller.
pub async fn perform_async(app: &AppHandle, action: Action) -> Result<(), CoreError> {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || perform(&app, action)).await.unwrap_or_else(|join_error| {
        Err(CoreError::InvalidInput(format!("the command failed: {join_error}")))
    })
}
