use std::sync::Arc;

use loft_core::player::DeviceInfo;
use loft_core::{AppInfo, CoreError, Loft, ReplayGainMode, Settings, SharedPlayer};
use tauri::{AppHandle, Manager, State};

use super::{CommandResult, blocking};

#[tauri::command]
#[specta::specta]
pub fn app_info(loft: State<'_, Arc<Loft>>) -> AppInfo {
    loft.info()
}

#[tauri::command]
#[specta::specta]
pub fn get_settings(loft: State<'_, Arc<Loft>>) -> Settings {
    loft.settings()
}

/// Saves a settings change and hands the result to the running player, if any.
async fn change_settings(
    app: AppHandle,
    change: impl FnOnce(&Loft) -> Result<Settings, CoreError> + Send + 'static,
) -> CommandResult<Settings> {
    let players = app.clone();
    blocking(app, move |loft| {
        let settings = change(loft)?;
        if let Some(player) = players.state::<SharedPlayer>().running() {
            player.apply_settings(&settings)?;
        }
        Ok(settings)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn set_volume(app: AppHandle, volume: f32) -> CommandResult<Settings> {
    change_settings(app, move |loft| loft.set_volume(volume)).await
}

#[tauri::command]
#[specta::specta]
pub async fn set_replaygain(app: AppHandle, mode: ReplayGainMode) -> CommandResult<Settings> {
    change_settings(app, move |loft| loft.update_settings(|s| s.replaygain = mode)).await
}

/// `None` follows the system's default output.
#[tauri::command]
#[specta::specta]
pub async fn set_output_device(app: AppHandle, name: Option<String>) -> CommandResult<Settings> {
    change_settings(app, move |loft| loft.update_settings(|s| s.output_device = name)).await
}

#[tauri::command]
#[specta::specta]
pub async fn output_devices(app: AppHandle) -> CommandResult<Vec<DeviceInfo>> {
    blocking(app, |_| loft_core::player::output_devices()).await
}
