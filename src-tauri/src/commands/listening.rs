//! Hearts, ratings, the listening history and rule playlists ("smart playlists").

use loft_core::library_types::{SmartPlaylistInfo, SmartRule, Track};
use tauri::AppHandle;

use super::{CommandResult, blocking};

/// The most history entries one call returns: the window shows a page, not the whole past.
const HISTORY_LIMIT_MAX: u64 = 10_000;

/// Gives the tracks a heart, or takes it back; returns them as they are now.
#[tauri::command]
#[specta::specta]
pub async fn set_loved(app: AppHandle, track_ids: Vec<i64>, loved: bool) -> CommandResult<Vec<Track>> {
    blocking(app, move |loft| loft.set_loved_tracks(&track_ids, loved)).await
}

/// Rates the tracks 0 to 5 stars, or clears their rating (`None`); returns them as they are now.
#[tauri::command]
#[specta::specta]
pub async fn set_rating(
    app: AppHandle,
    track_ids: Vec<i64>,
    rating: Option<u8>,
) -> CommandResult<Vec<Track>> {
    blocking(app, move |loft| loft.set_rating_tracks(&track_ids, rating)).await
}

/// The tracks played most recently, latest first.
#[tauri::command]
#[specta::specta]
pub async fn history(app: AppHandle, limit: u64) -> CommandResult<Vec<Track>> {
    blocking(app, move |loft| loft.history(limit.min(HISTORY_LIMIT_MAX))).await
}

/// The built-in rule playlists, then the user's by name.
#[tauri::command]
#[specta::specta]
pub async fn smart_playlists(app: AppHandle) -> CommandResult<Vec<SmartPlaylistInfo>> {
    blocking(app, |loft| loft.smart_playlists()).await
}

/// The tracks a rule playlist picks now.
#[tauri::command]
#[specta::specta]
pub async fn smart_playlist_tracks(app: AppHandle, id: String) -> CommandResult<Vec<Track>> {
    blocking(app, move |loft| loft.smart_playlist_tracks(&id)).await
}

/// Makes a rule playlist (`id` absent) or changes one; every device gets it through the locker.
#[tauri::command]
#[specta::specta]
pub async fn save_smart_playlist(
    app: AppHandle,
    id: Option<String>,
    name: String,
    rule: SmartRule,
) -> CommandResult<SmartPlaylistInfo> {
    blocking(app, move |loft| loft.save_smart_playlist(id.as_deref(), &name, &rule)).await
}

#[tauri::command]
#[specta::specta]
pub async fn delete_smart_playlist(app: AppHandle, id: String) -> CommandResult<()> {
    blocking(app, move |loft| loft.delete_smart_playlist(&id)).await
}
