//! The encrypted locker as the service offers it: unlocking, converting a plaintext locker,
//! the passphrase and the recovery key. Like the rest of the locker's calls, each blocks its
//! caller and runs on the service's runtime through the session that owns the open locker.

use std::sync::Arc;

use loft_locker::{EncryptOptions, EncryptProgress, EncryptReport, LockerSecret, LockerStatus};

use crate::{CoreError, Event, Loft};

impl Loft {
    /// Unlocks the connected encrypted locker with its passphrase (or its recovery key), keeps
    /// the key in the OS keychain where there is one, and syncs.
    pub fn unlock_locker(&self, secret: LockerSecret) -> Result<LockerStatus, CoreError> {
        let locker = self.connected_locker()?;
        self.hub.block_on(async {
            locker.unlock(&secret).await?;
            if let Err(error) = self.hub.sync_and_apply(&locker, true).await {
                tracing::info!(%error, "the locker was unlocked but could not be synced yet");
            }
            self.hub.session.note(locker.status().await)
        })
    }

    /// Encrypts the connected plaintext locker, or continues its conversion (see
    /// [`loft_locker::Locker::encrypt`]): `passphrase` is needed to start one. Other devices
    /// keep working; the plaintext is deleted once every device has unlocked the locker
    /// (`without` names devices not to wait for). `progress` hears blobs sealed and blobs in
    /// all. Run it again to go on; the report says what is left.
    pub fn encrypt_locker(
        &self,
        passphrase: Option<String>,
        without: Vec<String>,
        progress: Option<Arc<EncryptProgress>>,
    ) -> Result<EncryptReport, CoreError> {
        let locker = self.connected_locker()?;
        let options =
            EncryptOptions { passphrase: passphrase.map(zeroize::Zeroizing::new), without_devices: without };
        self.hub.block_on(async {
            let report = self.hub.session.note(locker.encrypt(options, progress.as_deref()).await)?;
            self.hub.sync_and_apply(&locker, false).await?;
            self.events().emit(Event::LockerEncryption {
                converting: !report.finished,
                waiting_for: report.waiting_for.clone(),
            });
            Ok(report)
        })
    }

    /// Changes the passphrase of the connected encrypted locker; `current` is its passphrase,
    /// or the recovery key when that is forgotten.
    pub fn change_locker_passphrase(&self, current: LockerSecret, new: &str) -> Result<(), CoreError> {
        let locker = self.connected_locker()?;
        self.hub.block_on(async { self.hub.session.note(locker.change_passphrase(&current, new).await) })
    }

    /// The recovery key of the connected encrypted locker, to show again.
    pub fn locker_recovery_key(&self) -> Result<String, CoreError> {
        let locker = self.connected_locker()?;
        Ok(locker.recovery_key()?.to_string())
    }

    /// Forgets this device's copy of the locker key (in the OS keychain): the next start asks
    /// for the passphrase again.
    pub fn forget_locker_key(&self) -> Result<(), CoreError> {
        let locker = self.connected_locker()?;
        self.hub.block_on(locker.forget_key());
        Ok(())
    }
}
