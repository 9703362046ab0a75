//! How the app lives on the desktop outside its window: the tray, what closing does, and
//! notifications.

use loft_core::Settings;
use tauri::AppHandle;

use super::{CommandResult, blocking};

/// Whether closing the window while music plays hides it in the tray instead of quitting.
#[tauri::command]
#[specta::specta]
pub async fn set_keep_playing_when_closed(app: AppHandle, on: bool) -> CommandResult<Settings> {
    blocking(app, move |loft| loft.update_settings(|s| s.keep_playing_when_closed = on)).await
}

/// Whether a notification shows each new track (Linux).
#[tauri::command]
#[specta::specta]
pub async fn set_notify_on_track_change(app: AppHandle, on: bool) -> CommandResult<Settings> {
    blocking(app, move |loft| loft.update_settings(|s| s.notify_on_track_change = on)).await
}

/// Whether files opened from outside also add their folder to the library.
#[tauri::command]
#[specta::specta]
pub async fn set_open_adds_folders(app: AppHandle, on: bool) -> CommandResult<Settings> {
    blocking(app, move |loft| loft.update_settings(|s| s.open_adds_folders = on)).await
}
