//! Object names in an encrypted locker.
//!
//! The code above the storage speaks of objects by their *logical* paths, the layout of a
//! plaintext locker (`blobs/sha256/ab/<sha256>`, `catalog/log/<device>/<seq>.json`…). In an
//! encrypted locker each is stored under a *physical* name below `sealed/`, in which every
//! identifying piece (a blob's SHA-256, a device id, a snapshot's name) is replaced by its
//! AES-SIV encryption (RFC 5297, deterministic authenticated encryption) under the locker's
//! name key, in lowercase base32. Deterministic, so two devices with the key name the same blob
//! alike and still deduplicate; keyed, so the provider cannot compute the name of a file whose
//! public SHA-256 it knows; and reversible by whoever has the key, so listing a folder still
//! says what is in it (garbage collection and checks work by listing). Sequence numbers and
//! part indexes stay as they are: the provider sees how many there are anyway.

use aes_siv::KeyInit;
use aes_siv::siv::Aes256Siv;
use data_encoding::BASE32_NOPAD;

use super::Vault;
use crate::error::{LockerError, Result};
use crate::format;

pub(crate) const SEALED_DIR: &str = "sealed/";
const SEALED_BLOBS: &str = "sealed/blobs/";
const SEALED_PARTS: &str = "sealed/parts/";
const SEALED_CATALOG: &str = "sealed/catalog/";
const SEALED_LOG: &str = "sealed/catalog/log/";
const SEALED_SNAPSHOTS: &str = "sealed/catalog/snapshot/";
const SEALED_DEVICES: &str = "sealed/catalog/devices/";
const CATALOG_DIR: &str = "catalog/";

/// What a sealed name stands for; the label is AES-SIV's associated data, so a name of one
/// kind never decrypts as another.
#[derive(Debug, Clone, Copy)]
enum NameKind {
    Blob,
    Device,
    Snapshot,
}

impl NameKind {
    fn label(self) -> &'static [u8] {
        match self {
            NameKind::Blob => b"loft-locker/v1 name blob",
            NameKind::Device => b"loft-locker/v1 name device",
            NameKind::Snapshot => b"loft-locker/v1 name snapshot",
        }
    }
}

/// Objects that keep their names and contents in an encrypted locker: `locker.json` (it holds
/// what is needed to unlock the rest), staging objects (already sealed by the time they are
/// staged) and the inbox (other tools write it).
pub(crate) fn stays_plain(logical: &str) -> bool {
    logical == format::LOCKER_FILE
        || logical.starts_with(format::TMP_DIR)
        || logical.starts_with(format::INBOX_DIR)
}

impl Vault {
    fn seal_name(&self, kind: NameKind, plain: &[u8]) -> Result<String> {
        let mut siv = Aes256Siv::new((&*self.names).into());
        let sealed = siv
            .encrypt([kind.label()], plain)
            .map_err(|_| LockerError::InvalidInput("a name could not be encrypted".into()))?;
        Ok(BASE32_NOPAD.encode(&sealed).to_ascii_lowercase())
    }

    fn open_name(&self, kind: NameKind, name: &str) -> Option<Vec<u8>> {
        // Only the canonical (lowercase) spelling is a name, so one object has one name.
        if name.bytes().any(|byte| byte.is_ascii_uppercase()) {
            return None;
        }
        let sealed = BASE32_NOPAD.decode(name.to_ascii_uppercase().as_bytes()).ok()?;
        let mut siv = Aes256Siv::new((&*self.names).into());
        siv.decrypt([kind.label()], &sealed).ok()
    }

    fn blob_name(&self, sha256: &str) -> Result<String> {
        let raw = data_encoding::HEXLOWER
            .decode(sha256.as_bytes())
            .map_err(|_| LockerError::InvalidInput(format!("'{sha256}' is not a SHA-256")))?;
        self.seal_name(NameKind::Blob, &raw)
    }

    fn blob_of_name(&self, name: &str) -> Option<String> {
        let raw = self.open_name(NameKind::Blob, name)?;
        (raw.len() == 32).then(|| data_encoding::HEXLOWER.encode(&raw))
    }

    fn device_name(&self, device: &str) -> Result<String> {
        format::check_device_id(device)?;
        self.seal_name(NameKind::Device, device.as_bytes())
    }

    fn device_of_name(&self, name: &str) -> Option<String> {
        let device = String::from_utf8(self.open_name(NameKind::Device, name)?).ok()?;
        format::is_plain_id(&device).then_some(device)
    }

    /// Where the object (or folder, ending in '/') at `logical` is stored: `None` for the
    /// objects that stay as they are ([`stays_plain`]). A path outside the layout is refused,
    /// so nothing is ever written in the clear by mistake.
    pub(crate) fn physical(&self, logical: &str) -> Result<Option<String>> {
        if stays_plain(logical) {
            return Ok(None);
        }
        let outside = || LockerError::InvalidInput(format!("{logical} is not a name of the locker layout"));
        if logical == CATALOG_DIR {
            return Ok(Some(SEALED_CATALOG.into()));
        }
        if let Some(rest) = logical.strip_prefix(format::BLOBS_DIR) {
            if rest.is_empty() {
                return Ok(Some(SEALED_BLOBS.into()));
            }
            let sha256 = format::blob_of_manifest_path(logical).ok_or_else(outside)?;
            let name = self.blob_name(sha256)?;
            return Ok(Some(format!("{SEALED_BLOBS}{}/{name}", &name[..2])));
        }
        if let Some(rest) = logical.strip_prefix(format::PARTS_DIR) {
            if rest.is_empty() {
                return Ok(Some(SEALED_PARTS.into()));
            }
            if let Some((fan, sha256)) = rest.strip_suffix('/').and_then(|dir| dir.split_once('/'))
                && format::is_sha256_hex(sha256)
                && sha256.starts_with(fan)
            {
                let name = self.blob_name(sha256)?;
                return Ok(Some(format!("{SEALED_PARTS}{}/{name}/", &name[..2])));
            }
            let (sha256, index) = format::part_of_path(logical).ok_or_else(outside)?;
            let name = self.blob_name(sha256)?;
            return Ok(Some(format!("{SEALED_PARTS}{}/{name}/{index:06}", &name[..2])));
        }
        if let Some(rest) = logical.strip_prefix(format::LOG_DIR) {
            if rest.is_empty() {
                return Ok(Some(SEALED_LOG.into()));
            }
            if let Some(device) = rest.strip_suffix('/').filter(|device| !device.contains('/')) {
                return Ok(Some(format!("{SEALED_LOG}{}/", self.device_name(device)?)));
            }
            let (device, seq) = format::parse_log_path(logical).ok_or_else(outside)?;
            return Ok(Some(format!("{SEALED_LOG}{}/{seq:020}", self.device_name(&device)?)));
        }
        if let Some(rest) = logical.strip_prefix(format::SNAPSHOT_DIR) {
            if rest.is_empty() {
                return Ok(Some(SEALED_SNAPSHOTS.into()));
            }
            if !format::is_snapshot_path(logical) {
                return Err(outside());
            }
            let name = rest.strip_suffix(".json").ok_or_else(outside)?;
            return Ok(Some(format!(
                "{SEALED_SNAPSHOTS}{}",
                self.seal_name(NameKind::Snapshot, name.as_bytes())?
            )));
        }
        if let Some(rest) = logical.strip_prefix(format::DEVICES_DIR) {
            if rest.is_empty() {
                return Ok(Some(SEALED_DEVICES.into()));
            }
            let device = format::device_of_path(logical).ok_or_else(outside)?;
            return Ok(Some(format!("{SEALED_DEVICES}{}", self.device_name(device)?)));
        }
        Err(outside())
    }

    /// The logical path of a stored object, when it is one this key sealed; `None` for
    /// anything else (another key's objects, names someone else put there).
    pub(crate) fn logical(&self, physical: &str) -> Option<String> {
        if !physical.starts_with(SEALED_DIR) {
            return None;
        }
        if let Some(rest) = physical.strip_prefix(SEALED_BLOBS) {
            let (fan, name) = rest.split_once('/')?;
            if fan.len() != 2 || !name.starts_with(fan) {
                return None;
            }
            return self.blob_of_name(name).map(|sha256| format::blob_path(&sha256));
        }
        if let Some(rest) = physical.strip_prefix(SEALED_PARTS) {
            let mut pieces = rest.split('/');
            let (fan, name, index) = (pieces.next()?, pieces.next()?, pieces.next()?);
            if pieces.next().is_some()
                || fan.len() != 2
                || !name.starts_with(fan)
                || index.len() != 6
                || !index.bytes().all(|byte| byte.is_ascii_digit())
            {
                return None;
            }
            let sha256 = self.blob_of_name(name)?;
            return Some(format::part_path(&sha256, index.parse().ok()?));
        }
        if let Some(rest) = physical.strip_prefix(SEALED_LOG) {
            let (name, seq) = rest.split_once('/')?;
            if seq.len() != 20 || !seq.bytes().all(|byte| byte.is_ascii_digit()) {
                return None;
            }
            let seq: u64 = seq.parse().ok()?;
            if seq > format::MAX_SEQ {
                return None;
            }
            return Some(format::log_path(&self.device_of_name(name)?, seq));
        }
        if let Some(name) = physical.strip_prefix(SEALED_SNAPSHOTS) {
            let plain = String::from_utf8(self.open_name(NameKind::Snapshot, name)?).ok()?;
            let path = format!("{}{plain}.json", format::SNAPSHOT_DIR);
            return format::is_snapshot_path(&path).then_some(path);
        }
        if let Some(name) = physical.strip_prefix(SEALED_DEVICES) {
            return Some(format::device_path(&self.device_of_name(name)?));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypt::MasterKey;

    #[test]
    fn every_layout_name_maps_and_maps_back() {
        let vault = Vault::new(MasterKey::from_bytes([9; 32]), 1 << 20);
        let sha = "ab".repeat(32);
        for logical in [
            format::blob_path(&sha),
            format::part_path(&sha, 12),
            format::log_path("laptop-1", 42),
            format::snapshot_path(1_763_740_800_000, 3, "laptop-1"),
            format::device_path("laptop-1"),
        ] {
            let physical = vault.physical(&logical).unwrap().unwrap();
            assert!(physical.starts_with(SEALED_DIR), "{physical}");
            assert!(!physical.contains(&sha[..8]) && !physical.contains("laptop"), "{physical}");
            assert!(physical.split('/').all(|piece| piece.len() <= 255));
            assert_eq!(vault.logical(&physical).as_deref(), Some(logical.as_str()), "{physical}");
        }
        // Folders map to the folders their objects are in.
        let part = vault.physical(&format::part_path(&sha, 0)).unwrap().unwrap();
        assert!(part.starts_with(&vault.physical(&format::parts_dir(&sha)).unwrap().unwrap()));
        let log = vault.physical(&format::log_path("laptop-1", 0)).unwrap().unwrap();
        assert!(log.starts_with(&vault.physical("catalog/log/laptop-1/").unwrap().unwrap()));
        assert_eq!(vault.physical("locker.json").unwrap(), None);
        assert_eq!(vault.physical("tmp/abc").unwrap(), None);
        assert!(vault.physical("elsewhere/x").is_err());
        assert!(vault.physical("blobs/sha256/zz/../../x").is_err());
    }

    #[test]
    fn names_from_another_key_or_tampered_are_not_ours() {
        let vault = Vault::new(MasterKey::from_bytes([9; 32]), 1 << 20);
        let other = Vault::new(MasterKey::from_bytes([8; 32]), 1 << 20);
        let physical = vault.physical(&format::blob_path(&"cd".repeat(32))).unwrap().unwrap();
        assert_eq!(other.logical(&physical), None);
        let mut tampered = physical.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'a' { b'b' } else { b'a' };
        assert_eq!(vault.logical(&String::from_utf8(tampered).unwrap()), None);
        assert_eq!(vault.logical(&physical.to_ascii_uppercase()), None);
        assert_eq!(vault.logical("sealed/catalog/log/zzzz/00000000000000000001"), None);
    }
}
