//! The commands the UI calls. Each one is a thin call into the player service; errors cross
//! the IPC boundary as `{kind, message}`. Work that touches the disk runs on the blocking pool
//! so neither the UI thread nor the async workers wait on I/O.

use loft_core::{AppInfo, ErrorPayload, Loft, Settings};
use tauri::{AppHandle, Manager, State};

type CommandResult<T> = Result<T, ErrorPayload>;

#[tauri::command]
pub fn app_info(loft: State<'_, Loft>) -> AppInfo {
    loft.info()
}

#[tauri::command]
pub fn get_settings(loft: State<'_, Loft>) -> Settings {
    loft.settings()
}

#[tauri::command]
pub async fn set_volume(app: AppHandle, volume: f32) -> CommandResult<Settings> {
    blocking(app, move |loft| loft.set_volume(volume).map_err(ErrorPayload::from)).await
}

/// Runs `work` on the blocking pool with the service, and turns a panic in it into an error
/// the UI can show instead of letting it cross the IPC boundary.
async fn blocking<T: Send + 'static>(
    app: AppHandle,
    work: impl FnOnce(&Loft) -> CommandResult<T> + Send + 'static,
) -> CommandResult<T> {
    tauri::async_runtime::spawn_blocking(move || work(&app.state::<Loft>())).await.unwrap_or_else(
        |join_error| {
            tracing::error!(%join_error, "a command failed unexpectedly");
            Err(ErrorPayload { kind: "internal".into(), message: format!("internal error: {join_error}") })
        },
    )
}
