//! "Check locker" in the cloud pane: reads the whole locker back and reports what is damaged or
//! missing, with what to do about it.

use loft_core::locker_types::CheckReport;
use tauri::AppHandle;

use super::{CommandResult, blocking};

/// Checks the connected locker (every referenced blob is downloaded and hashed, so this takes
/// as long as downloading it); a `locker_checked` event follows.
#[tauri::command]
#[specta::specta]
pub async fn check_locker(app: AppHandle) -> CommandResult<CheckReport> {
    blocking(app, |loft| loft.check_locker(None)).await
}

/// The result of the last check of the connected locker on this device; `None` when none ran
/// or no locker is connected.
#[tauri::command]
#[specta::specta]
pub async fn last_locker_check(app: AppHandle) -> CommandResult<Option<CheckReport>> {
    blocking(app, |loft| loft.last_locker_check()).await
}
