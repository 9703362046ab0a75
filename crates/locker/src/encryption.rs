//! An encrypted locker from the [`Locker`]'s side: unlocking, the passphrase and recovery key,
//! following another device's conversion, and converting a plaintext locker
//! (docs/locker-format.md, "Encryption").

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::crypt::{self, EncryptionInfo, LockerSecret, MasterKey, Vault};
use crate::error::{LockerError, Result};
use crate::format::{self, BlobManifest, LockerFile};
use crate::locker::{Locker, OpenOptions};
use crate::storage::{Crypt, Storage};
use crate::upload::{blocking, hex};

/// Whether a locker is encrypted, and whether this device can read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct EncryptionState {
    pub encrypted: bool,
    /// This device holds the key (always true of a plaintext locker).
    pub unlocked: bool,
    /// A conversion from plaintext is under way: plaintext objects are still read.
    pub converting: bool,
}

/// How to convert a plaintext locker.
#[derive(Debug, Clone, Default)]
pub struct EncryptOptions {
    /// The passphrase of the new key; needed to start a conversion, not to continue one.
    pub passphrase: Option<Zeroizing<String>>,
    /// Devices not to wait for (lost, or retired): the conversion finishes without them having
    /// unlocked the locker. Their edits already in the locker are kept.
    pub without_devices: Vec<String>,
}

/// What a conversion did; run it again to continue.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct EncryptReport {
    /// The recovery key, when this run created the locker's key: shown once, to write down.
    pub recovery_key: Option<String>,
    /// Blobs in the locker in plaintext when this run looked, and how many of them it sealed.
    pub blobs_total: usize,
    pub blobs_sealed: usize,
    pub bytes_sealed: u64,
    pub catalog_files_sealed: usize,
    /// Tracks whose plaintext copy is damaged (a part does not match its hash): not sealed, and
    /// the conversion does not finish until they are uploaded again or removed.
    pub damaged: Vec<String>,
    /// Devices that have not unlocked the locker yet: the plaintext stays until they have.
    pub waiting_for: Vec<String>,
    /// Every device has moved and the plaintext objects are gone.
    pub finished: bool,
    pub plaintext_deleted: usize,
}

/// Refuses a locker.json that undoes what this device saw before (`kept`, its copy): an
/// encrypted locker said to be plaintext, or a finished conversion said to be under way again.
/// Either would make the device read or write plaintext that the provider (or whoever put an
/// old copy back) controls; the MAC cannot catch an old genuine copy, this device's memory can.
pub(crate) fn refuse_downgrade(kept: &LockerFile, now: &LockerFile) -> Result<()> {
    match (&kept.encryption, &now.encryption) {
        (Some(_), None) => Err(LockerError::Integrity(
            "locker.json no longer says this locker is encrypted: someone without its key rewrote it, \
             so Loft will not use it; restore locker.json from another device"
                .into(),
        )),
        (Some(before), Some(after))
            if before.converting_since_ms.is_none() && after.converting_since_ms.is_some() =>
        {
            Err(rolled_back())
        }
        _ => Ok(()),
    }
}

fn rolled_back() -> LockerError {
    LockerError::Integrity(
        "locker.json is an older copy from before the locker's encryption finished (someone put it \
         back); Loft will not read plaintext from the locker again"
            .into(),
    )
}

/// `(blobs done, blobs in all)` as a conversion goes.
pub type EncryptProgress = dyn Fn(usize, usize) + Send + Sync;

/// Sets how `storage` treats objects for the locker `file` describes: plaintext, or sealed
/// with the key found (`new_key` when this device just made it; else `secret`, the keychain,
/// then the environment), or locked when there is none.
pub(crate) async fn install_crypt(
    storage: &Storage,
    file: &LockerFile,
    options: &OpenOptions,
    secret: Option<&LockerSecret>,
    new_key: Option<MasterKey>,
) -> Result<()> {
    let keychain = options.use_keychain;
    let Some(info) = &file.encryption else {
        storage.set_crypt(Crypt::Plain);
        return Ok(());
    };
    let plaintext_readable = info.converting_since_ms.is_some();
    let key = match new_key {
        Some(key) => {
            if keychain {
                store_in_keychain(&file.locker_id, &key).await;
            }
            Some(key)
        }
        None => find_key(file, secret.or(options.secret.as_ref()), keychain).await?,
    };
    storage.set_crypt(match key {
        Some(key) => Crypt::Sealed { vault: Arc::new(Vault::new(key, file.part_size)), plaintext_readable },
        None => {
            tracing::info!(locker = %file.locker_id, "the locker is encrypted and no key was found; it stays locked");
            Crypt::Locked { plaintext_readable }
        }
    });
    Ok(())
}

async fn find_key(
    file: &LockerFile,
    secret: Option<&LockerSecret>,
    keychain: bool,
) -> Result<Option<MasterKey>> {
    if let Some(secret) = secret {
        return unlock_with(file, secret, keychain).await.map(Some);
    }
    if !keychain {
        return match LockerSecret::from_env() {
            Some(secret) => unlock_with(file, &secret?, false).await.map(Some),
            None => Ok(None),
        };
    }
    let (locker_id, for_check) = (file.locker_id.clone(), file.clone());
    let kept = blocking(move || {
        Ok(crypt::keychain_load(&locker_id).filter(|key| match &for_check.encryption {
            Some(info) => info.check_mac(key, &for_check.facts()).is_ok(),
            None => false,
        }))
    })
    .await?;
    if kept.is_some() {
        return Ok(kept);
    }
    match LockerSecret::from_env() {
        Some(secret) => unlock_with(file, &secret?, true).await.map(Some),
        None => Ok(None),
    }
}

/// Unwraps the key (Argon2id runs on the blocking pool) and keeps it in the keychain.
async fn unlock_with(file: &LockerFile, secret: &LockerSecret, keychain: bool) -> Result<MasterKey> {
    let (file, secret) = (file.clone(), secret.clone());
    let key = blocking(move || {
        let info = file.encryption.as_ref().ok_or_else(not_encrypted)?;
        let key = info.unlock(&file.facts(), &secret)?;
        Ok((key, file.locker_id))
    })
    .await?;
    if keychain {
        store_in_keychain(&key.1, &key.0).await;
    }
    Ok(key.0)
}

async fn store_in_keychain(locker_id: &str, key: &MasterKey) {
    let (locker_id, key) = (locker_id.to_owned(), key.clone());
    let _ = blocking(move || Ok(crypt::keychain_store(&locker_id, &key))).await;
}

fn not_encrypted() -> LockerError {
    LockerError::InvalidInput("This locker is not encrypted".into())
}

impl Locker {
    pub fn encryption(&self) -> EncryptionState {
        match self.storage().crypt() {
            Crypt::Plain => EncryptionState { encrypted: false, unlocked: true, converting: false },
            Crypt::Sealed { plaintext_readable, .. } => {
                EncryptionState { encrypted: true, unlocked: true, converting: plaintext_readable }
            }
            Crypt::Locked { plaintext_readable } => {
                EncryptionState { encrypted: true, unlocked: false, converting: plaintext_readable }
            }
        }
    }

    /// An encrypted locker this device has not unlocked.
    pub fn is_locked(&self) -> bool {
        matches!(self.storage().crypt(), Crypt::Locked { .. })
    }

    /// Unlocks an encrypted locker with its passphrase or recovery key, and keeps the key in
    /// the OS keychain (where there is one) so the next start needs neither.
    pub async fn unlock(&self, secret: &LockerSecret) -> Result<()> {
        let file = match self.read_locker_file().await {
            Ok(file) => file,
            Err(error) if error.is_transient() => self.locker_file(),
            Err(error) => return Err(error),
        };
        if file.encryption.is_none() {
            return Err(not_encrypted());
        }
        install_crypt(self.storage(), &file, &self.inner.options, Some(secret), None).await?;
        if !self.inner.seq_checked.load(std::sync::atomic::Ordering::SeqCst)
            && let Err(error) = self.recover_next_seq().await
        {
            // Checked again at the first push.
            tracing::info!(%error, "the log's next seq could not be checked yet");
        }
        Ok(())
    }

    /// Removes this device's copy of the key from the keychain: the next start asks for the
    /// passphrase again.
    pub async fn forget_key(&self) {
        if !self.inner.options.use_keychain {
            return;
        }
        let locker_id = self.locker_id();
        let _ = blocking(move || {
            crypt::keychain_forget(&locker_id);
            Ok(())
        })
        .await;
    }

    /// The recovery key, to show the user again.
    pub fn recovery_key(&self) -> Result<Zeroizing<String>> {
        match self.storage().crypt() {
            Crypt::Sealed { vault, .. } => Ok(vault.master().recovery_key().to_text()),
            Crypt::Locked { .. } => Err(locked()),
            Crypt::Plain => Err(not_encrypted()),
        }
    }

    /// Changes the passphrase: `current` (the passphrase, or the recovery key when it is
    /// forgotten) is checked, then the same key is wrapped under `new`. Other devices keep
    /// working with the key they hold; a device that unlocks later uses the new passphrase.
    pub async fn change_passphrase(&self, current: &LockerSecret, new: &str) -> Result<()> {
        crypt::check_new_passphrase(new)?;
        let mut file = self.read_locker_file().await?;
        let new = Zeroizing::new(new.to_owned());
        let current = current.clone();
        let file_for_wrap = file.clone();
        let info = blocking(move || {
            let mut info = file_for_wrap.encryption.clone().ok_or_else(not_encrypted)?;
            let key = info.unlock(&file_for_wrap.facts(), &current)?;
            info.change_passphrase(&key, &file_for_wrap.facts(), &new)?;
            Ok(info)
        })
        .await?;
        file.encryption = Some(info);
        self.write_locker_file(file).await
    }

    /// Follows a locker.json just read: another device may have encrypted the locker (this
    /// device unlocks it if it can, else stops writing), or finished a conversion. A change
    /// that is not authenticated by the key (a plaintext locker.json where an encrypted one
    /// was) is refused.
    pub(crate) async fn follow_encryption(&self, file: &LockerFile) -> Result<()> {
        let storage = self.storage();
        match (&file.encryption, storage.crypt()) {
            (None, Crypt::Plain) => Ok(()),
            (None, _) => Err(LockerError::Integrity(
                "locker.json no longer says this locker is encrypted: someone without its key rewrote \
                 it. Loft keeps treating the locker as encrypted"
                    .into(),
            )),
            (Some(info), Crypt::Sealed { vault, plaintext_readable }) => {
                info.check_mac(vault.master(), &file.facts())?;
                let readable = info.converting_since_ms.is_some();
                if readable && !plaintext_readable {
                    return Err(rolled_back());
                }
                if readable != plaintext_readable {
                    tracing::info!(converting = readable, "the locker's conversion state changed");
                    storage.set_crypt(Crypt::Sealed { vault, plaintext_readable: readable });
                }
                Ok(())
            }
            (Some(_), previous) => {
                install_crypt(storage, file, &self.inner.options, None, None).await?;
                if matches!(previous, Crypt::Plain) {
                    tracing::info!("another device encrypted the locker");
                }
                if self.is_locked() { Err(locked()) } else { Ok(()) }
            }
        }
    }

    /// Converts a plaintext locker into an encrypted one, or continues a conversion (see
    /// docs/locker-format.md, "Converting a locker"). Safe to stop at any point and run again;
    /// other devices keep using the locker meanwhile.
    pub async fn encrypt(
        &self,
        options: EncryptOptions,
        progress: Option<&EncryptProgress>,
    ) -> Result<EncryptReport> {
        let mut report = EncryptReport::default();
        let mut file = self.read_locker_file().await?;
        if file.encryption.is_none() {
            report.recovery_key = Some(self.start_conversion(&mut file, &options).await?);
        } else {
            self.follow_encryption(&file).await?;
        }
        let info = file.encryption.clone().ok_or_else(not_encrypted)?;
        if info.converting_since_ms.is_none() {
            // Finished before; what a run killed while deleting left is deleted now.
            report.plaintext_deleted = self.delete_plaintext_layout().await?;
            report.finished = true;
            return Ok(report);
        }
        // This device has moved: its edits go sealed, and its sealed device record says so.
        self.sync().await?;
        self.seal_plaintext(&mut report, progress).await?;

        report.waiting_for = self.devices_not_moved(&options.without_devices).await?;
        if !report.waiting_for.is_empty() || !report.damaged.is_empty() {
            return Ok(report);
        }
        // Everyone has moved: seal what was written meanwhile, then stop reading plaintext.
        self.sync().await?;
        self.seal_plaintext(&mut report, progress).await?;
        if !report.damaged.is_empty() {
            return Ok(report);
        }
        self.seal_records_of(&options.without_devices).await?;
        let mut file = self.read_locker_file().await?;
        let vault = self.storage().vault().ok_or_else(locked)?;
        let mut info = file.encryption.clone().ok_or_else(not_encrypted)?;
        info.converting_since_ms = None;
        info.seal_mac(vault.master(), &file.facts());
        file.encryption = Some(info);
        self.write_locker_file(file).await?;
        self.storage().set_crypt(Crypt::Sealed { vault, plaintext_readable: false });
        report.plaintext_deleted = self.delete_plaintext_layout().await?;
        report.finished = true;
        Ok(report)
    }

    /// Makes the key, writes it (wrapped) into locker.json with the conversion started, and
    /// switches this device to sealed writes. Returns the recovery key.
    async fn start_conversion(&self, file: &mut LockerFile, options: &EncryptOptions) -> Result<String> {
        let passphrase = options.passphrase.clone().ok_or_else(|| {
            LockerError::InvalidInput("Choose a passphrase to encrypt the locker with".into())
        })?;
        crypt::check_new_passphrase(&passphrase)?;
        let key = MasterKey::generate()?;
        let since = self.storage().storage_now().await?;
        let (for_wrap, facts_file) = (key.clone(), file.clone());
        let info = blocking(move || {
            let mut info = EncryptionInfo::create(&for_wrap, &facts_file.facts(), &passphrase)?;
            info.converting_since_ms = Some(since);
            info.seal_mac(&for_wrap, &facts_file.facts());
            Ok(info)
        })
        .await?;
        file.format = format::ENCRYPTED_FORMAT;
        file.encryption = Some(info);
        self.write_locker_file(file.clone()).await?;
        // Two devices starting at the same moment: the locker.json that stayed is the locker's.
        let landed = self.read_locker_file().await?;
        if landed.encryption != file.encryption {
            return Err(LockerError::Conflict(
                "Another device started encrypting this locker at the same moment; unlock it with \
                 that device's passphrase"
                    .into(),
            ));
        }
        install_crypt(self.storage(), file, &self.inner.options, None, Some(key.clone())).await?;
        Ok(key.recovery_key().to_text().to_string())
    }

    /// Seals every object still in plaintext that has no sealed form: catalog logs and
    /// snapshots as they are, blobs part by part (each checked against its hash) and then
    /// their manifests.
    async fn seal_plaintext(
        &self,
        report: &mut EncryptReport,
        progress: Option<&EncryptProgress>,
    ) -> Result<()> {
        let storage = self.storage().clone();
        for object in storage.list_plaintext(format::LOG_DIR).await? {
            if format::parse_log_path(&object.path).is_none() || storage.has_sealed(&object.path).await? {
                continue;
            }
            let Some(bytes) = storage
                .read_plaintext(&object.path, format::MAX_LOG_FILE_BYTES, "the catalog log file")
                .await?
            else {
                continue;
            };
            // Create-only: the device itself may have written this seq sealed meanwhile.
            storage.put_new(&object.path, bytes).await?;
            report.catalog_files_sealed += 1;
        }
        for object in storage.list_plaintext(format::SNAPSHOT_DIR).await? {
            if !format::is_snapshot_path(&object.path) || storage.has_sealed(&object.path).await? {
                continue;
            }
            if let Some(bytes) =
                storage.read_plaintext(&object.path, format::MAX_SNAPSHOT_BYTES, "the snapshot").await?
            {
                storage.put(&object.path, bytes).await?;
                report.catalog_files_sealed += 1;
            }
        }
        let manifests: Vec<String> = storage
            .list_plaintext(format::BLOBS_DIR)
            .await?
            .into_iter()
            .filter_map(|object| format::blob_of_manifest_path(&object.path).map(str::to_owned))
            .collect();
        report.blobs_total = report.blobs_total.max(manifests.len());
        for (done, blob) in manifests.iter().enumerate() {
            if let Some(progress) = progress {
                progress(done, manifests.len());
            }
            if storage.has_sealed(&format::blob_path(blob)).await? {
                continue;
            }
            match self.seal_blob(blob).await? {
                Some(bytes) => {
                    report.blobs_sealed += 1;
                    report.bytes_sealed = report.bytes_sealed.saturating_add(bytes);
                }
                None => {
                    if !report.damaged.contains(blob) {
                        report.damaged.push(blob.clone());
                    }
                }
            }
        }
        if let Some(progress) = progress {
            progress(manifests.len(), manifests.len());
        }
        Ok(())
    }

    /// Seals one plaintext blob; `None` when its plaintext is damaged (it is left as it is).
    async fn seal_blob(&self, blob: &str) -> Result<Option<u64>> {
        let storage = self.storage();
        let path = format::blob_path(blob);
        let Some(bytes) =
            storage.read_plaintext(&path, format::MAX_MANIFEST_BYTES, "the blob manifest").await?
        else {
            return Ok(Some(0));
        };
        let manifest = match BlobManifest::parse(blob, &bytes) {
            Ok(manifest) => manifest,
            Err(error) => {
                tracing::warn!(%error, blob, "a plaintext manifest cannot be sealed");
                return Ok(None);
            }
        };
        let mut sent = 0u64;
        for (index, expected) in manifest.parts.iter().enumerate() {
            let index = index as u64;
            let part = format::part_path(blob, index);
            let length = manifest.part_len(index);
            if storage.has_part(&part, length).await? {
                continue;
            }
            let data = storage.read_plaintext(&part, length, "the part").await?;
            let Some(data) =
                data.filter(|data| data.len() as u64 == length && hex(&Sha256::digest(data)) == *expected)
            else {
                tracing::warn!(blob, index, "a plaintext part is missing or does not match its hash");
                return Ok(None);
            };
            storage.put_part(&part, data).await?;
            sent = sent.saturating_add(length);
        }
        storage.put(&path, bytes).await?;
        Ok(Some(sent))
    }

    /// Devices with a plaintext record and no sealed one: they have not unlocked the locker.
    async fn devices_not_moved(&self, without: &[String]) -> Result<Vec<String>> {
        let storage = self.storage();
        let plain: BTreeSet<String> = storage
            .list_plaintext(format::DEVICES_DIR)
            .await?
            .iter()
            .filter_map(|object| format::device_of_path(&object.path).map(str::to_owned))
            .collect();
        let sealed: BTreeSet<String> = storage
            .list_files(format::DEVICES_DIR)
            .await?
            .iter()
            .filter(|object| object.sealed)
            .filter_map(|object| format::device_of_path(&object.path).map(str::to_owned))
            .collect();
        Ok(plain.into_iter().filter(|device| !sealed.contains(device) && !without.contains(device)).collect())
    }

    /// Seals the plaintext device records of `devices` (left out of the conversion), so the
    /// catalog still knows what they had seen: without a record, a device that wrote logs
    /// would keep garbage collection from ever running.
    async fn seal_records_of(&self, devices: &[String]) -> Result<()> {
        let storage = self.storage();
        for object in storage.list_plaintext(format::DEVICES_DIR).await? {
            let Some(device) = format::device_of_path(&object.path) else { continue };
            if !devices.iter().any(|left_out| left_out == device) || storage.has_sealed(&object.path).await? {
                continue;
            }
            if let Some(bytes) = storage
                .read_plaintext(&object.path, format::MAX_DEVICE_FILE_BYTES, "the device record")
                .await?
            {
                storage.put(&object.path, bytes).await?;
            }
        }
        Ok(())
    }

    /// Deletes the plaintext layout: only ever called once locker.json says the conversion
    /// finished, so no device reads it any more.
    async fn delete_plaintext_layout(&self) -> Result<usize> {
        let storage = self.storage();
        let mut deleted = 0;
        for dir in [format::BLOBS_DIR, format::PARTS_DIR, "catalog/"] {
            for object in storage.list_plaintext(dir).await? {
                storage.delete_plaintext(&object.path).await?;
                deleted += 1;
            }
        }
        if deleted > 0 {
            tracing::info!(deleted, "deleted the plaintext objects of the converted locker");
        }
        Ok(deleted)
    }
}

fn locked() -> LockerError {
    LockerError::Locked(
        "This locker is encrypted and this device has not unlocked it; enter its passphrase".into(),
    )
}
