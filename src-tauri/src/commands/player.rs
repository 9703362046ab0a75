use std::sync::Arc;

use loft_core::library_types::Track;
use loft_core::player::{PlaybackState, RepeatMode};
use loft_core::{CoreError, Loft, PlaybackStatus, Player, SharedPlayer};
use tauri::{AppHandle, Manager};

use super::{CommandResult, blocking};

/// Runs `action` on the shared player, starting it if needed. The engine takes commands in
/// on its own thread, so what changed reaches the window as events (state, track, position,
/// queue), never as a status read back here that could be older than an event already sent.
async fn with_player(
    app: AppHandle,
    action: impl FnOnce(&Loft, &Player) -> Result<(), CoreError> + Send + 'static,
) -> CommandResult<()> {
    let players = app.clone();
    blocking(app, move |loft| {
        let player: Arc<Player> = players.state::<SharedPlayer>().get_or_start(loft)?;
        action(loft, &player)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub fn player_status(app: AppHandle) -> PlaybackStatus {
    app.state::<SharedPlayer>().status()
}

#[tauri::command]
#[specta::specta]
pub async fn tracks_by_id(app: AppHandle, ids: Vec<i64>) -> CommandResult<Vec<Track>> {
    blocking(app, move |loft| {
        let mut tracks = Vec::with_capacity(ids.len());
        for id in ids {
            tracks.extend(loft.track(id)?);
        }
        Ok(tracks)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn play_tracks(app: AppHandle, ids: Vec<i64>, start: usize) -> CommandResult<()> {
    with_player(app, move |loft, player| player.play_now(loft.queue_items(&ids)?, start)).await
}

#[tauri::command]
#[specta::specta]
pub async fn queue_play_next(app: AppHandle, ids: Vec<i64>) -> CommandResult<()> {
    with_player(app, move |loft, player| player.play_next(loft.queue_items(&ids)?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn queue_append(app: AppHandle, ids: Vec<i64>) -> CommandResult<()> {
    with_player(app, move |loft, player| player.append(loft.queue_items(&ids)?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn queue_remove(app: AppHandle, index: usize) -> CommandResult<()> {
    with_player(app, move |_, player| player.remove(index)).await
}

#[tauri::command]
#[specta::specta]
pub async fn queue_move(app: AppHandle, from: usize, to: usize) -> CommandResult<()> {
    with_player(app, move |_, player| player.move_item(from, to)).await
}

#[tauri::command]
#[specta::specta]
pub async fn queue_clear(app: AppHandle) -> CommandResult<()> {
    with_player(app, |_, player| player.clear()).await
}

#[tauri::command]
#[specta::specta]
pub async fn toggle_play(app: AppHandle) -> CommandResult<()> {
    with_player(app, |_, player| match player.status().state {
        PlaybackState::Playing | PlaybackState::Buffering => player.pause(),
        PlaybackState::Paused | PlaybackState::Stopped => player.resume(),
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn next_track(app: AppHandle) -> CommandResult<()> {
    with_player(app, |_, player| player.next()).await
}

#[tauri::command]
#[specta::specta]
pub async fn previous_track(app: AppHandle) -> CommandResult<()> {
    with_player(app, |_, player| player.previous()).await
}

#[tauri::command]
#[specta::specta]
pub async fn seek(app: AppHandle, position_secs: f64) -> CommandResult<()> {
    with_player(app, move |_, player| player.seek(position_secs)).await
}

#[tauri::command]
#[specta::specta]
pub async fn set_shuffle(app: AppHandle, on: bool) -> CommandResult<()> {
    with_player(app, move |_, player| player.set_shuffle(on)).await
}

#[tauri::command]
#[specta::specta]
pub async fn set_repeat(app: AppHandle, mode: RepeatMode) -> CommandResult<()> {
    with_player(app, move |_, player| player.set_repeat(mode)).await
}

/// The tags of the file playing at `index` of the queue when it is a file outside the library
/// (opened from the file manager or the command line), so the window can show its title and
/// artist rather than its file name. `None` for a library track, another index (the queue
/// moved on), or a file whose tags cannot be read.
#[tauri::command]
#[specta::specta]
pub async fn playing_file_tags(app: AppHandle, index: usize) -> CommandResult<Option<loft_core::FileTags>> {
    let status = app.state::<SharedPlayer>().status();
    let playing_file = match (status.index, status.track_id, status.name) {
        (Some(playing), track_id, Some(name)) if playing == index && track_id.unwrap_or(0) <= 0 => name,
        _ => return Ok(None),
    };
    blocking(app, move |loft| Ok(loft.file_tags(std::path::Path::new(&playing_file)))).await
}
