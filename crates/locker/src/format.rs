//! The objects of the locker layout (docs/locker-format.md) and where they live.

use serde::{Deserialize, Serialize};

use crate::error::{LockerError, Result};

/// The newest layout this client reads and writes.
pub const FORMAT_VERSION: u32 = 1;

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

/// `locker.json`: what every client reads first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockerFile {
    pub format: u32,
    pub locker_id: String,
    pub quota_bytes: u64,
    pub part_size: u64,
    pub created_ms: u64,
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
        if file.part_size < 64 * 1024 {
            return Err(LockerError::Format(format!(
                "locker.json gives a part size of {} bytes; the minimum is 64 KiB",
                file.part_size
            )));
        }
        Ok(file)
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
    pub fn parse(path: &str, bytes: &[u8]) -> Result<BlobManifest> {
        let manifest: BlobManifest = serde_json::from_slice(bytes).map_err(|error| {
            LockerError::Format(format!("the blob manifest {path} is malformed: {error}"))
        })?;
        check_version(path, manifest.format)?;
        let expected_parts = part_count(manifest.size, manifest.part_size);
        if manifest.part_size == 0 || manifest.parts.len() as u64 != expected_parts {
            return Err(LockerError::Format(format!(
                "the blob manifest {path} lists {} parts for {} bytes in parts of {}",
                manifest.parts.len(),
                manifest.size,
                manifest.part_size
            )));
        }
        Ok(manifest)
    }
}

pub fn part_count(size: u64, part_size: u64) -> u64 {
    if part_size == 0 { 0 } else { size.div_ceil(part_size) }
}

/// Whether `text` is a lowercase hex SHA-256, the only form of track id and blob name.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}

pub fn blob_path(sha256: &str) -> String {
    format!("{BLOBS_DIR}{}/{sha256}", &sha256[..2])
}

pub fn part_path(sha256: &str, index: u64) -> String {
    format!("{PARTS_DIR}{}/{sha256}/{index:06}", &sha256[..2])
}

/// The blob a `parts/sha256/ab/<hex>/<index>` path belongs to.
pub fn blob_of_part_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(PARTS_DIR)?;
    let mut pieces = rest.split('/');
    let _fanout = pieces.next()?;
    pieces.next().filter(|hex| is_sha256_hex(hex))
}

pub fn log_path(device: &str, seq: u64) -> String {
    format!("{LOG_DIR}{device}/{seq:020}.json")
}

/// Splits `catalog/log/<device>/<seq>.json` into its device and sequence number.
pub fn parse_log_path(path: &str) -> Option<(String, u64)> {
    let rest = path.strip_prefix(LOG_DIR)?;
    let (device, file) = rest.split_once('/')?;
    let seq = file.strip_suffix(".json")?.parse().ok()?;
    Some((device.to_owned(), seq))
}

pub fn device_path(device: &str) -> String {
    format!("{DEVICES_DIR}{device}.json")
}

/// A device id names folders in the locker, so it is kept to characters every backend accepts.
pub fn check_device_id(device: &str) -> Result<()> {
    let valid = !device.is_empty()
        && device.len() <= 64
        && device.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if valid {
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
        assert_eq!(error.kind(), "format");
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
