//! The objects of the locker layout (docs/locker-format.md) and where they live.

use serde::{Deserialize, Serialize};

use crate::error::{LockerError, Result};

/// The newest format this client reads and writes. Format 2 adds op kinds to the catalog (plays,
/// hearts, ratings, resume positions, rule playlists); the layout is the same, so `locker.json`,
/// manifests and catalog files without the new kinds keep saying 1, for clients that read only 1.
/// Format 3 is the encrypted locker: only its `locker.json` says 3 (a client that does not know
/// encryption must not touch it); what is sealed inside keeps the numbers above.
pub const FORMAT_VERSION: u32 = 3;
/// What objects say that a first-format client can read whole.
pub const FIRST_FORMAT: u32 = 1;
/// What catalog files holding the second format's op kinds say (never 3: encryption is a
/// property of the locker, not of what is sealed inside it).
pub const CATALOG_FORMAT: u32 = 2;
/// What `locker.json` says of an encrypted locker.
pub const ENCRYPTED_FORMAT: u32 = 3;

/// Audio is cut into parts of this size unless locker.json says otherwise. Big enough that a
/// typical track is one or a few parts, small enough that a resumed upload repeats little.
pub const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;

pub const LOCKER_FILE: &str = "locker.json";
pub const LOG_DIR: &str = "catalog/log/";
pub const SNAPSHOT_DIR: &str = "catalog/snapshot/";
pub const DEVICES_DIR: &str = "catalog/devices/";
pub const INBOX_DIR: &str = "inbox/";
pub const BLOBS_DIR: &str = "blobs/sha256/";
pub const PARTS_DIR: &str = "parts/sha256/";
pub const TMP_DIR: &str = "tmp/";

/// The smallest and largest part size a locker may have.
pub const MIN_PART_SIZE: u64 = 64 * 1024;
pub const MAX_PART_SIZE: u64 = 1024 * 1024 * 1024;
/// The most parts a blob may have, and so the largest manifest a reader has to hold.
pub const MAX_PARTS: u64 = 65_536;
/// The largest blob: an audio file is never near this, a hostile size always is.
pub const MAX_BLOB_SIZE: u64 = 256 * 1024 * 1024 * 1024;
/// The highest seq a log may use: far beyond any real log, and far from overflowing.
pub const MAX_SEQ: u64 = 1_000_000_000_000_000;

/// How large each kind of object may be before a reader refuses it unread.
pub const MAX_LOCKER_FILE_BYTES: u64 = 64 * 1024;
pub const MAX_MANIFEST_BYTES: u64 = 8 * 1024 * 1024;
pub const MAX_LOG_FILE_BYTES: u64 = 16 * 1024 * 1024;
pub const MAX_DEVICE_FILE_BYTES: u64 = 1024 * 1024;
pub const MAX_SNAPSHOT_BYTES: u64 = 512 * 1024 * 1024;

/// `locker.json`: what every client reads first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockerFile {
    pub format: u32,
    pub locker_id: String,
    pub quota_bytes: u64,
    pub part_size: u64,
    pub created_ms: u64,
    /// How to unlock an encrypted locker (docs/locker-format.md, "Encryption").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<crate::crypt::EncryptionInfo>,
}

impl LockerFile {
    pub fn parse(bytes: &[u8]) -> Result<LockerFile> {
        // Read the version alone first, so a newer layout is refused by what it says it is rather
        // than by whichever of its fields this client happens not to know.
        #[derive(Deserialize)]
        struct VersionOnly {
            format: u32,
        }
        let version: VersionOnly = serde_json::from_slice(bytes).map_err(|error| {
            LockerError::Format(format!("locker.json is not a Loft locker file: {error}"))
        })?;
        check_version("locker.json", version.format)?;
        let file: LockerFile = serde_json::from_slice(bytes)
            .map_err(|error| LockerError::Format(format!("locker.json is malformed: {error}")))?;
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&file.part_size) {
            return Err(LockerError::Format(format!(
                "locker.json gives a part size of {} bytes; it must be between 64 KiB and 1 GiB",
                file.part_size
            )));
        }
        if !is_plain_id(&file.locker_id) {
            return Err(LockerError::Format(
                "locker.json has a locker_id that is not 1 to 64 letters, digits, '-' or '_'".into(),
            ));
        }
        match (&file.encryption, file.format >= ENCRYPTED_FORMAT) {
            (Some(encryption), true) => encryption.check_scheme()?,
            (None, false) => {}
            (Some(_), false) => {
                return Err(LockerError::Format(format!(
                    "locker.json describes encryption but says format {}; an encrypted locker is format {ENCRYPTED_FORMAT}",
                    file.format
                )));
            }
            (None, true) => {
                return Err(LockerError::Format(
                    "locker.json says the locker is encrypted but does not say how to unlock it".into(),
                ));
            }
        }
        Ok(file)
    }

    pub(crate) fn facts(&self) -> crate::crypt::LockerFacts<'_> {
        crate::crypt::LockerFacts {
            locker_id: &self.locker_id,
            part_size: self.part_size,
            created_ms: self.created_ms,
        }
    }
}

pub fn check_version(what: &str, format: u32) -> Result<()> {
    if format > FORMAT_VERSION {
        return Err(LockerError::Format(format!(
            "{what} uses locker format {format}, but this version of Loft understands only up to \
             {FORMAT_VERSION}; update Loft to use this locker"
        )));
    }
    if format == 0 {
        return Err(LockerError::Format(format!("{what} has no valid format version")));
    }
    Ok(())
}

/// `blobs/sha256/ab/<hex>`: the published form of one audio file. It exists only once every
/// part has been uploaded and checked, so its presence means the blob is complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobManifest {
    pub format: u32,
    pub sha256: String,
    pub size: u64,
    pub part_size: u64,
    /// The SHA-256 of each part, in order.
    pub parts: Vec<String>,
}

impl BlobManifest {
    /// Parses the manifest read under the name `expected_sha256` and checks everything a
    /// reader relies on: that it names the blob it was read under (its `sha256` names files and
    /// paths), and that its sizes and part hashes are consistent and bounded.
    pub fn parse(expected_sha256: &str, bytes: &[u8]) -> Result<BlobManifest> {
        let path = blob_path(expected_sha256);
        let manifest: BlobManifest = serde_json::from_slice(bytes).map_err(|error| {
            LockerError::Format(format!("the blob manifest {path} is malformed: {error}"))
        })?;
        check_version(&path, manifest.format)?;
        manifest
            .validate(expected_sha256)
            .map_err(|why| LockerError::Format(format!("the blob manifest {path} is not valid: {why}")))?;
        Ok(manifest)
    }

    /// What [`BlobManifest::parse`] checks, for manifests kept elsewhere (the offline cache).
    pub fn validate(&self, expected_sha256: &str) -> std::result::Result<(), String> {
        if !is_sha256_hex(expected_sha256) || self.sha256 != expected_sha256 {
            return Err("it names another blob".into());
        }
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&self.part_size) {
            return Err(format!("its part size {} is out of range", self.part_size));
        }
        if self.size > MAX_BLOB_SIZE {
            return Err(format!("its size {} is beyond any audio file", self.size));
        }
        let expected_parts = part_count(self.size, self.part_size);
        if expected_parts > MAX_PARTS || self.parts.len() as u64 != expected_parts {
            return Err(format!(
                "it lists {} parts for {} bytes in parts of {}",
                self.parts.len(),
                self.size,
                self.part_size
            ));
        }
        if !self.parts.iter().all(|part| is_sha256_hex(part)) {
            return Err("a part hash is not a SHA-256 in hex".into());
        }
        Ok(())
    }

    /// The byte length of part `index`.
    pub fn part_len(&self, index: u64) -> u64 {
        let start = index.saturating_mul(self.part_size);
        self.part_size.min(self.size.saturating_sub(start))
    }
}

pub fn part_count(size: u64, part_size: u64) -> u64 {
    if part_size == 0 { 0 } else { size.div_ceil(part_size) }
}

/// Whether `text` is a lowercase hex SHA-256, the only form of track id and blob name.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `text` is 1 to 64 of `A-Z a-z 0-9 - _`: the alphabet of device ids, and of every
/// other id that may end up in a name (playlists, entries, the locker's own id).
pub fn is_plain_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// The blob path of a SHA-256 in hex; callers pass ids they checked with [`is_sha256_hex`]
/// (an id that is not one gets a path that names no blob rather than a panic).
pub fn blob_path(sha256: &str) -> String {
    format!("{BLOBS_DIR}{}/{sha256}", fanout(sha256))
}

pub fn part_path(sha256: &str, index: u64) -> String {
    format!("{PARTS_DIR}{}/{sha256}/{index:06}", fanout(sha256))
}

/// The folder holding a blob's parts.
pub fn parts_dir(sha256: &str) -> String {
    format!("{PARTS_DIR}{}/{sha256}/", fanout(sha256))
}

fn fanout(sha256: &str) -> &str {
    sha256.get(..2).unwrap_or("__")
}

/// The blob a `blobs/sha256/ab/<hex>` path names, when it is one.
pub fn blob_of_manifest_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(BLOBS_DIR)?;
    let (fan, hex) = rest.split_once('/')?;
    (is_sha256_hex(hex) && hex.starts_with(fan)).then_some(hex)
}

/// The blob and part index a `parts/sha256/ab/<hex>/<index>` path names, when it is one.
pub fn part_of_path(path: &str) -> Option<(&str, u64)> {
    let rest = path.strip_prefix(PARTS_DIR)?;
    let mut pieces = rest.split('/');
    let fan = pieces.next()?;
    let hex = pieces.next().filter(|hex| is_sha256_hex(hex) && hex.starts_with(fan))?;
    let index =
        pieces.next().filter(|index| index.len() == 6 && index.bytes().all(|b| b.is_ascii_digit()))?;
    if pieces.next().is_some() {
        return None;
    }
    Some((hex, index.parse().ok()?))
}

/// The blob a `parts/sha256/ab/<hex>/<index>` path belongs to.
pub fn blob_of_part_path(path: &str) -> Option<&str> {
    part_of_path(path).map(|(hex, _)| hex)
}

pub fn log_path(device: &str, seq: u64) -> String {
    format!("{LOG_DIR}{device}/{seq:020}.json")
}

/// Splits `catalog/log/<device>/<seq>.json` into its device and sequence number; `None` for a
/// name that is not one (a bad device id, a seq that is not 1 to 20 digits or is beyond
/// [`MAX_SEQ`]), which readers then leave alone.
pub fn parse_log_path(path: &str) -> Option<(String, u64)> {
    let rest = path.strip_prefix(LOG_DIR)?;
    let (device, file) = rest.split_once('/')?;
    let digits = file.strip_suffix(".json")?;
    if !is_plain_id(device)
        || digits.is_empty()
        || digits.len() > 20
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let seq: u64 = digits.parse().ok()?;
    (seq <= MAX_SEQ).then(|| (device.to_owned(), seq))
}

pub fn device_path(device: &str) -> String {
    format!("{DEVICES_DIR}{device}.json")
}

/// The device a `catalog/devices/<id>.json` path names.
pub fn device_of_path(path: &str) -> Option<&str> {
    let device = path.strip_prefix(DEVICES_DIR)?.strip_suffix(".json")?;
    is_plain_id(device).then_some(device)
}

/// `catalog/snapshot/<wall_ms:15>-<counter:10>-<device>.json`
pub fn snapshot_path(wall_ms: u64, counter: u32, device: &str) -> String {
    format!("{SNAPSHOT_DIR}{wall_ms:015}-{counter:010}-{device}.json")
}

/// Whether a path is a snapshot's, named as [`snapshot_path`] names them.
pub fn is_snapshot_path(path: &str) -> bool {
    let Some(name) = path.strip_prefix(SNAPSHOT_DIR).and_then(|rest| rest.strip_suffix(".json")) else {
        return false;
    };
    let mut pieces = name.splitn(3, '-');
    let digits = |piece: Option<&str>, length: usize| {
        piece.is_some_and(|piece| piece.len() == length && piece.bytes().all(|b| b.is_ascii_digit()))
    };
    digits(pieces.next(), 15) && digits(pieces.next(), 10) && pieces.next().is_some_and(is_plain_id)
}

/// A device id names folders in the locker, so it is kept to characters every backend accepts.
pub fn check_device_id(device: &str) -> Result<()> {
    if is_plain_id(device) {
        Ok(())
    } else {
        Err(LockerError::InvalidInput(format!(
            "'{device}' is not a usable device id: use 1 to 64 letters, digits, '-' or '_'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_newer_format_clearly() {
        let bytes = br#"{"format": 7, "locker_id": "x", "something_new": true}"#;
        let error = LockerFile::parse(bytes).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Format);
        assert!(error.to_string().contains("update Loft"), "{error}");
    }

    #[test]
    fn paths_round_trip() {
        let hex = "ab".repeat(32);
        assert_eq!(blob_path(&hex), format!("blobs/sha256/ab/{hex}"));
        assert_eq!(blob_of_part_path(&part_path(&hex, 3)), Some(hex.as_str()));
        assert_eq!(parse_log_path(&log_path("laptop-1", 42)), Some(("laptop-1".to_owned(), 42)));
        assert!(check_device_id("../etc").is_err());
        assert_eq!(part_count(0, 10), 0);
        assert_eq!(part_count(10, 10), 1);
        assert_eq!(part_count(11, 10), 2);
    }
}
