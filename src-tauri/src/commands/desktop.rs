//! How the app lives on the desktop outside its window: the tray, what closing does,
//! notifications and the mini player.

use loft_core::{ErrorPayload, Settings};
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

/// Switches to the mini player: a small window in place of the main one.
#[tauri::command]
#[specta::specta]
pub async fn show_mini_player(app: AppHandle) -> CommandResult<()> {
    crate::mini_player::show(&app).map_err(|error| {
        tracing::error!(%error, "cannot show the mini player");
        ErrorPayload::internal("The mini player could not be opened.")
    })
}

/// Back from the mini player to the full window (which closes the mini player).
#[tauri::command]
#[specta::specta]
pub async fn show_full_player(app: AppHandle) -> CommandResult<()> {
    crate::opening::show_main_window(&app);
    Ok(())
}

/// Whether the mini player stays above other windows; applied at once if it is open.
#[tauri::command]
#[specta::specta]
pub async fn set_mini_player_on_top(app: AppHandle, on: bool) -> CommandResult<Settings> {
    let settings =
        blocking(app.clone(), move |loft| loft.update_settings(|s| s.mini_player_on_top = on)).await?;
    if let Err(error) = crate::mini_player::apply_on_top(&app, on) {
        tracing::warn!(%error, "cannot keep the mini player on top");
    }
    Ok(settings)
}

/// Remembers where the window is (a view, and the open playlist's id), to open there again.
#[tauri::command]
#[specta::specta]
pub async fn set_last_view(app: AppHandle, view: String) -> CommandResult<Settings> {
    blocking(app, move |loft| loft.set_last_view(&view)).await
}
