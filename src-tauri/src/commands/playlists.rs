use std::path::PathBuf;

use loft_core::M3u8ImportReport;
use loft_core::library_types::{M3u8Export, Playlist, PlaylistEntry};
use tauri::AppHandle;
use tauri_plugin_dialog::DialogExt;

use super::{CommandResult, blocking};

#[tauri::command]
#[specta::specta]
pub async fn playlists(app: AppHandle) -> CommandResult<Vec<Playlist>> {
    blocking(app, |loft| loft.playlists()).await
}

#[tauri::command]
#[specta::specta]
pub async fn playlist_tracks(app: AppHandle, id: String) -> CommandResult<Vec<PlaylistEntry>> {
    blocking(app, move |loft| loft.playlist_tracks(&id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn create_playlist(app: AppHandle, name: String) -> CommandResult<Playlist> {
    blocking(app, move |loft| loft.create_playlist(&name)).await
}

#[tauri::command]
#[specta::specta]
pub async fn rename_playlist(app: AppHandle, id: String, name: String) -> CommandResult<Playlist> {
    blocking(app, move |loft| loft.rename_playlist(&id, &name)).await
}

#[tauri::command]
#[specta::specta]
pub async fn delete_playlist(app: AppHandle, id: String) -> CommandResult<()> {
    blocking(app, move |loft| loft.delete_playlist(&id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn playlist_add(
    app: AppHandle,
    id: String,
    track_ids: Vec<i64>,
    at: Option<usize>,
) -> CommandResult<Vec<String>> {
    blocking(app, move |loft| loft.playlist_add(&id, &track_ids, at)).await
}

#[tauri::command]
#[specta::specta]
pub async fn playlist_remove(app: AppHandle, id: String, entry_ids: Vec<String>) -> CommandResult<u64> {
    blocking(app, move |loft| loft.playlist_remove(&id, &entry_ids)).await
}

#[tauri::command]
#[specta::specta]
pub async fn playlist_move(app: AppHandle, id: String, entry_id: String, to: usize) -> CommandResult<()> {
    blocking(app, move |loft| loft.playlist_move(&id, &entry_id, to)).await
}

/// Asks for an .m3u8 file and imports it; `None` when the user cancels.
#[tauri::command]
#[specta::specta]
pub async fn import_m3u8(app: AppHandle) -> CommandResult<Option<M3u8ImportReport>> {
    let dialog = app.dialog().file().set_title("Import a playlist").add_filter("Playlists", &["m3u8", "m3u"]);
    let Some(path) = pick(move || dialog.blocking_pick_file()).await? else {
        return Ok(None);
    };
    blocking(app, move |loft| loft.import_m3u8(&path, None).map(Some)).await
}

/// Asks where to save and writes the playlist as .m3u8; `None` when the user cancels.
#[tauri::command]
#[specta::specta]
pub async fn export_m3u8(app: AppHandle, id: String, name: String) -> CommandResult<Option<M3u8Export>> {
    let dialog = app
        .dialog()
        .file()
        .set_title("Export the playlist")
        .set_file_name(format!("{name}.m3u8"))
        .add_filter("Playlists", &["m3u8"]);
    let Some(path) = pick(move || dialog.blocking_save_file()).await? else {
        return Ok(None);
    };
    blocking(app, move |loft| loft.export_m3u8(&id, &path).map(Some)).await
}

async fn pick(
    show: impl FnOnce() -> Option<tauri_plugin_dialog::FilePath> + Send + 'static,
) -> CommandResult<Option<PathBuf>> {
    match tauri::async_runtime::spawn_blocking(show).await {
        Ok(picked) => Ok(picked.and_then(|p| p.into_path().ok())),
        Err(error) => {
            tracing::error!(%error, "the file dialog failed");
            Err(loft_core::ErrorPayload::internal("The system's file dialog failed to open."))
        }
    }
}
