//! The Loft locker: storage the user owns (an S3-compatible bucket, a WebDAV server or a plain
//! folder) used as a deduplicated music store whose catalog every device shares, with no server
//! of ours. Devices coordinate through the storage alone: content-addressed blobs, one
//! append-only log per device, a deterministic merge. docs/locker-format.md describes the layout.
//!
//! Everything is async on tokio (a multi-threaded runtime: hashing, file reads and tag parsing
//! run on its blocking pool). Start with [`Locker::open`]:
//!
//! ```text
//! let credentials = Credentials::resolve(url)?;          // environment, then the OS keychain
//! credentials.save_to_keychain(url)?;                    // `loft locker connect` (fails plainly without one)
//! let locker = Locker::open(url, credentials, device_id, &state_dir).await?;
//! let report = locker.upload(&paths, Some(progress)).await;  // uploaded / duplicates / failed, bytes_sent
//! let changes = locker.sync().await?;                    // pull + inbox import: upsert tracks_changed,
//!                                                        // delete tracks_removed, same for playlists
//! locker.status().await?;                                // usage, quota, tracks, devices, last sync
//! locker.set_quota(parse_size("5GiB")?).await?;
//! locker.remove_track(&track_id).await?;
//! locker.gc(DEFAULT_GC_GRACE).await?;
//! locker.open_blob(&track_id).await?.read_range(start, end).await?;
//! ```

mod blob;
mod cache;
mod catalog;
mod check;
mod crypt;
mod encryption;
mod error;
mod format;
mod gc;
mod http;
mod inbox;
mod local;
mod location;
mod locker;
mod log;
mod probe;
#[cfg(test)]
mod proptests;
mod quota;
mod storage;
mod stream;
mod sync;
mod tags;
mod upload;

pub use blob::BlobReader;
pub use cache::{CacheState, CacheSummary, OfflineCache};
pub use catalog::{
    CatalogState, Change, Hlc, Listening, Op, Playlist, PlaylistEntry, SmartPlaylist, Track, TrackTags,
    position_between,
};
pub use check::{CheckProgress, CheckReport, Finding, FindingKind};
pub use crypt::{LockerSecret, RecoveryKey, check_new_passphrase};
pub use encryption::{EncryptOptions, EncryptProgress, EncryptReport, EncryptionState};
pub use error::{ErrorKind, LockerError, Result};
pub use format::{DEFAULT_PART_SIZE, FORMAT_VERSION, MAX_BLOB_SIZE};
pub use gc::{DEFAULT_GC_GRACE, GcOptions, GcReport};
pub use inbox::{ImportedFile, InboxIssue, InboxReport};
pub use location::{Credentials, LockerLocation};
pub use locker::{DeviceInfo, Locker, LockerStatus, OpenOptions};
pub use probe::{ConnectionCheck, check_connection};
pub use quota::{BackendQuota, DEFAULT_QUOTA, format_size, parse_size};
pub use storage::{CreateOnly, RetryPolicy};
pub use stream::{BlobStream, DownloadProgress, LockerOpener, StreamOptions};
pub use sync::{LISTENING_BATCH, SyncReport};
pub use upload::{FailedUpload, ProgressCallback, UploadProgress, UploadReport, UploadedFile};
