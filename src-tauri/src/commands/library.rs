use std::path::PathBuf;

use loft_core::SearchResults;
use loft_core::library_types::{
    Album, AlbumKey, Artist, Folder, Page, ScanReport, SourceFilter, Track, TrackQuery,
};
use tauri::AppHandle;
use tauri_plugin_dialog::DialogExt;

use super::{CommandResult, blocking};

#[tauri::command]
#[specta::specta]
pub async fn library_folders(app: AppHandle) -> CommandResult<Vec<Folder>> {
    blocking(app, |loft| loft.library_folders()).await
}

#[tauri::command]
#[specta::specta]
pub async fn add_library_folder(app: AppHandle, path: PathBuf) -> CommandResult<Folder> {
    blocking(app, move |loft| loft.add_library_folder(&path)).await
}

#[tauri::command]
#[specta::specta]
pub async fn remove_library_folder(app: AppHandle, path: PathBuf) -> CommandResult<u64> {
    blocking(app, move |loft| loft.remove_library_folder(&path)).await
}

/// Asks the user for a folder with the system's dialog; `None` when they cancel.
#[tauri::command]
#[specta::specta]
pub async fn pick_folder(app: AppHandle) -> CommandResult<Option<PathBuf>> {
    let dialog = app.dialog().file().set_title("Add a music folder");
    let picked = tauri::async_runtime::spawn_blocking(move || dialog.blocking_pick_folder()).await;
    match picked {
        Ok(folder) => Ok(folder.and_then(|f| f.into_path().ok())),
        Err(error) => {
            tracing::error!(%error, "the folder dialog failed");
            Err(loft_core::ErrorPayload::internal("The system's folder dialog failed to open."))
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn scan_library(app: AppHandle) -> CommandResult<ScanReport> {
    blocking(app, |loft| loft.scan_library()).await
}

#[tauri::command]
#[specta::specta]
pub async fn tracks(app: AppHandle, query: TrackQuery) -> CommandResult<Vec<Track>> {
    blocking(app, move |loft| loft.tracks(&query)).await
}

/// How many tracks the Songs list shows with the given source filter (all by default).
#[tauri::command]
#[specta::specta]
pub async fn track_count(app: AppHandle, source: Option<SourceFilter>) -> CommandResult<u64> {
    blocking(app, move |loft| loft.count_tracks(source.unwrap_or_default())).await
}

#[tauri::command]
#[specta::specta]
pub async fn search(app: AppHandle, text: String, limit: u64) -> CommandResult<SearchResults> {
    blocking(app, move |loft| loft.search_grouped(&text, limit)).await
}

#[tauri::command]
#[specta::specta]
pub async fn albums(app: AppHandle, page: Page) -> CommandResult<Vec<Album>> {
    blocking(app, move |loft| loft.albums(page)).await
}

#[tauri::command]
#[specta::specta]
pub async fn album_tracks(app: AppHandle, key: AlbumKey) -> CommandResult<Vec<Track>> {
    blocking(app, move |loft| loft.album_tracks(&key)).await
}

#[tauri::command]
#[specta::specta]
pub async fn artists(app: AppHandle, page: Page) -> CommandResult<Vec<Artist>> {
    blocking(app, move |loft| loft.artists(page)).await
}

#[tauri::command]
#[specta::specta]
pub async fn artist_tracks(app: AppHandle, artist: String) -> CommandResult<Vec<Track>> {
    blocking(app, move |loft| loft.artist_tracks(&artist)).await
}

/// Opens the system file manager at the track's local file, with the file selected.
#[tauri::command]
#[specta::specta]
pub async fn show_in_folder(app: AppHandle, track_id: i64) -> CommandResult<()> {
    blocking(app, move |loft| {
        let path = loft.library().track_path(track_id)?.ok_or_else(|| {
            loft_core::CoreError::InvalidInput(format!("track {track_id} has no copy on this computer"))
        })?;
        tauri_plugin_opener::reveal_item_in_dir(&path).map_err(|error| {
            loft_core::CoreError::InvalidInput(format!(
                "cannot show {} in its folder: {error}",
                path.display()
            ))
        })
    })
    .await
}
