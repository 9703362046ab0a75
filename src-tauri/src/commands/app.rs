use loft_core::{AppInfo, Loft, Settings, SharedPlayer};
use tauri::{AppHandle, Manager, State};

use super::{CommandResult, blocking};

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
    let players = app.clone();
    blocking(app, move |loft| {
        let settings = loft.set_volume(volume)?;
        if let Some(player) = players.state::<SharedPlayer>().running() {
            player.apply_settings(&settings)?;
        }
        Ok(settings)
    })
    .await
}
