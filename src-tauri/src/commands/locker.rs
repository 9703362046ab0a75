use std::path::PathBuf;
use std::sync::Arc;

use loft_core::locker_types::{ConnectionCheck, Credentials, LockerStatus};
use loft_core::locker_types::{EncryptProgress, EncryptReport, LockerSecret, RecoveryKey};
use loft_core::{CacheStatus, Event, LockerKeying, Loft, TrackAvailability, UploadItem};
use serde::Deserialize;
use tauri::{AppHandle, Manager};
use tauri_plugin_dialog::DialogExt;

use super::{CommandResult, blocking};

/// What the connect form sends: secrets are only ever passed on to the keychain.
#[derive(Debug, Deserialize, specta::Type)]
// The contract tests write an example out and compare it after a round trip; the app itself
// never serializes a secret.
#[cfg_attr(test, derive(PartialEq, Eq, serde::Serialize))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GivenCredentials {
    None,
    S3 { access_key_id: String, secret_access_key: String },
    WebDav { user: String, password: String },
}

impl From<GivenCredentials> for Option<Credentials> {
    fn from(given: GivenCredentials) -> Self {
        match given {
            GivenCredentials::None => None,
            GivenCredentials::S3 { access_key_id, secret_access_key } => {
                Some(Credentials::S3 { access_key_id, secret_access_key })
            }
            GivenCredentials::WebDav { user, password } => Some(Credentials::WebDav { user, password }),
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn locker_status(app: AppHandle) -> CommandResult<Option<LockerStatus>> {
    blocking(app, |loft| loft.locker_status()).await
}

/// The connect form's encryption choice: the passphrase of an encrypted locker, and whether
/// to create the locker encrypted when the location is empty.
#[derive(Debug, Deserialize, specta::Type)]
#[cfg_attr(test, derive(PartialEq, Eq, serde::Serialize))]
pub struct GivenKeying {
    pub passphrase: Option<String>,
    pub encrypt: bool,
}

impl From<GivenKeying> for LockerKeying {
    fn from(given: GivenKeying) -> Self {
        let create_with = if given.encrypt { given.passphrase.clone() } else { None };
        LockerKeying { passphrase: given.passphrase, create_with }
    }
}

/// What unlocks an encrypted locker: its passphrase, or the recovery key written down when it
/// was made.
#[derive(Debug, Deserialize, specta::Type)]
#[cfg_attr(test, derive(PartialEq, Eq, serde::Serialize))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GivenSecret {
    Passphrase { passphrase: String },
    RecoveryKey { recovery_key: String },
}

impl TryFrom<GivenSecret> for LockerSecret {
    type Error = loft_core::CoreError;

    fn try_from(given: GivenSecret) -> Result<Self, Self::Error> {
        match given {
            GivenSecret::Passphrase { passphrase } => Ok(LockerSecret::passphrase(passphrase)),
            GivenSecret::RecoveryKey { recovery_key } => Ok(LockerSecret::RecoveryKey(
                RecoveryKey::parse(&recovery_key).map_err(loft_core::CoreError::from)?,
            )),
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn connect_locker(
    app: AppHandle,
    url: String,
    credentials: GivenCredentials,
    keying: GivenKeying,
) -> CommandResult<LockerStatus> {
    blocking(app, move |loft| {
        let status = loft.connect_locker_with(&url, credentials.into(), keying.into())?;
        loft.start_locker_sync();
        Ok(status)
    })
    .await
}

/// Opens the connected encrypted locker on this device; the key is kept in the OS keychain.
#[tauri::command]
#[specta::specta]
pub async fn unlock_locker(app: AppHandle, secret: GivenSecret) -> CommandResult<LockerStatus> {
    blocking(app, move |loft| {
        let status = loft.unlock_locker(secret.try_into()?)?;
        loft.start_locker_sync();
        Ok(status)
    })
    .await
}

/// Starts or continues encrypting the connected locker; `passphrase` starts one. Progress
/// arrives as `locker_encryption_progress` events, the end as a `locker_encryption` event.
#[tauri::command]
#[specta::specta]
pub async fn encrypt_locker(
    app: AppHandle,
    passphrase: Option<String>,
    without_devices: Vec<String>,
) -> CommandResult<EncryptReport> {
    blocking(app, move |loft| {
        let events = loft.events().clone();
        let progress: Arc<EncryptProgress> = Arc::new(move |sealed, total| {
            events.emit(Event::LockerEncryptionProgress { blobs_sealed: sealed, blobs_total: total });
        });
        loft.encrypt_locker(passphrase, without_devices, Some(progress))
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn change_locker_passphrase(
    app: AppHandle,
    current: GivenSecret,
    new_passphrase: String,
) -> CommandResult<()> {
    blocking(app, move |loft| loft.change_locker_passphrase(current.try_into()?, &new_passphrase)).await
}

/// The recovery key of the connected encrypted locker, shown again on request.
#[tauri::command]
#[specta::specta]
pub async fn locker_recovery_key(app: AppHandle) -> CommandResult<String> {
    blocking(app, |loft| loft.locker_recovery_key()).await
}

/// Forgets this device's copy of the key: the locker asks for the passphrase at the next start.
#[tauri::command]
#[specta::specta]
pub async fn forget_locker_key(app: AppHandle) -> CommandResult<()> {
    blocking(app, |loft| loft.forget_locker_key()).await
}

/// "Test connection" in the connect form: which step works and which fails, without
/// connecting or storing anything.
#[tauri::command]
#[specta::specta]
pub async fn test_locker_connection(
    app: AppHandle,
    url: String,
    credentials: GivenCredentials,
) -> CommandResult<ConnectionCheck> {
    blocking(app, move |loft| loft.test_locker_connection(&url, credentials.into())).await
}

#[tauri::command]
#[specta::specta]
pub async fn disconnect_locker(app: AppHandle) -> CommandResult<u64> {
    blocking(app, |loft| loft.disconnect_locker()).await
}

#[tauri::command]
#[specta::specta]
pub async fn set_locker_quota(app: AppHandle, bytes: u64) -> CommandResult<LockerStatus> {
    blocking(app, move |loft| loft.set_locker_quota(bytes)).await
}

/// Queues files and folders for upload and returns the new queue entries at once; what
/// happens to them arrives as `uploads_changed` events. A drop over the quota is refused whole.
#[tauri::command]
#[specta::specta]
pub async fn upload_paths(app: AppHandle, paths: Vec<PathBuf>) -> CommandResult<Vec<UploadItem>> {
    blocking(app, move |loft| loft.enqueue_uploads(&paths)).await
}

/// The upload queue, oldest first (the panel's first look; then events).
#[tauri::command]
#[specta::specta]
pub async fn uploads(app: AppHandle) -> CommandResult<Vec<UploadItem>> {
    blocking(app, |loft| Ok(loft.uploads())).await
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_upload(app: AppHandle, id: u64) -> CommandResult<UploadItem> {
    blocking(app, move |loft| loft.cancel_upload(id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn retry_upload(app: AppHandle, id: u64) -> CommandResult<UploadItem> {
    blocking(app, move |loft| loft.retry_upload(id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn clear_finished_uploads(app: AppHandle) -> CommandResult<()> {
    blocking(app, |loft| {
        loft.clear_finished_uploads();
        Ok(())
    })
    .await
}

/// Asks for files with the system dialog and queues them; `None` when the user cancels.
#[tauri::command]
#[specta::specta]
pub async fn pick_and_upload(app: AppHandle) -> CommandResult<Option<Vec<UploadItem>>> {
    let dialog = app.dialog().file().set_title("Upload to your locker");
    let picked = tauri::async_runtime::spawn_blocking(move || dialog.blocking_pick_files()).await;
    let paths: Vec<PathBuf> = match picked {
        Ok(Some(files)) => files.into_iter().filter_map(|f| f.into_path().ok()).collect(),
        Ok(None) => return Ok(None),
        Err(error) => {
            tracing::error!(%error, "the file dialog failed");
            return Err(loft_core::ErrorPayload::internal("The system's file dialog failed to open."));
        }
    };
    blocking(app, move |loft| loft.enqueue_uploads(&paths).map(Some)).await
}

#[tauri::command]
#[specta::specta]
pub async fn sync_locker(app: AppHandle) -> CommandResult<loft_core::SyncSummary> {
    blocking(app, |loft| loft.sync_locker()).await
}

#[tauri::command]
#[specta::specta]
pub async fn remove_from_locker(app: AppHandle, track_id: i64) -> CommandResult<()> {
    blocking(app, move |loft| loft.remove_from_locker(track_id).map(|_| ())).await
}

/// Starts downloading tracks for offline use; progress arrives as events.
#[tauri::command]
#[specta::specta]
pub fn pin_tracks(app: AppHandle, track_ids: Vec<i64>) {
    app.state::<Arc<Loft>>().pin_in_background(track_ids);
}

#[tauri::command]
#[specta::specta]
pub async fn unpin_tracks(app: AppHandle, track_ids: Vec<i64>) -> CommandResult<()> {
    blocking(app, move |loft| loft.unpin(&track_ids)).await
}

#[tauri::command]
#[specta::specta]
pub async fn cache_status(app: AppHandle) -> CommandResult<CacheStatus> {
    blocking(app, |loft| loft.cache_status()).await
}

#[tauri::command]
#[specta::specta]
pub async fn set_cache_limit(app: AppHandle, bytes: u64) -> CommandResult<()> {
    blocking(app, move |loft| loft.set_cache_limit(bytes)).await
}

#[tauri::command]
#[specta::specta]
pub async fn clear_cache(app: AppHandle) -> CommandResult<u64> {
    blocking(app, |loft| loft.clear_cache()).await
}

#[tauri::command]
#[specta::specta]
pub async fn track_availability(
    app: AppHandle,
    track_ids: Vec<i64>,
) -> CommandResult<Vec<TrackAvailability>> {
    blocking(app, move |loft| loft.track_availability(&track_ids)).await
}
