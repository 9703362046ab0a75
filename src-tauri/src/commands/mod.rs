//! The commands the UI calls. Each one is a thin call into the player service; errors cross
//! the IPC boundary as `{kind, message}`. Work that touches the disk runs on the blocking pool
//! so neither the UI thread nor the async workers wait on I/O.

pub mod app;
pub mod desktop;
pub mod library;
pub mod listening;
pub mod locker;
pub mod locker_check;
pub mod player;
pub mod playlists;

use std::sync::Arc;

use loft_core::{CoreError, ErrorPayload, Loft};
use tauri::{AppHandle, Manager};

pub type CommandResult<T> = Result<T, ErrorPayload>;

/// Runs `work` on the blocking pool with the service, and turns a panic in it into an error
/// the UI can show instead of letting it cross the IPC boundary.
pub async fn blocking<T: Send + 'static>(
    app: AppHandle,
    work: impl FnOnce(&Loft) -> Result<T, CoreError> + Send + 'static,
) -> CommandResult<T> {
    tauri::async_runtime::spawn_blocking(move || work(&app.state::<Arc<Loft>>()).map_err(ErrorPayload::from))
        .await
        .unwrap_or_else(|join_error| {
            tracing::error!(%join_error, "a command failed unexpectedly");
            Err(ErrorPayload::internal("Something went wrong inside Loft; the log has the details."))
        })
}
