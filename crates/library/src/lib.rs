//! The Loft library: the user's music folders, scanned into a tag index in SQLite, kept in step
//! with the disk by a watcher, and searchable as the user types.
//!
//! [`Library`] is a cheap, cloneable handle that any thread can use: one connection writes
//! (behind a mutex), a small pool of connections reads, so browsing stays fast while a scan
//! writes.

mod cloud;
mod covers;
mod error;
mod folders;
mod hasher;
mod listening;
mod m3u8;
mod model;
mod offline;
mod paths;
mod playlists;
mod query;
mod scan;
mod schema;
mod smart;
mod tags;
mod watch;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;

pub use cloud::{LockerApplied, LockerCopy, SourceFilter, TrackSource};
pub use error::{LibraryError, Result};
pub use hasher::{HashPace, Hasher};
pub use listening::{Listening, OwnPlays};
pub use m3u8::{M3u8Export, M3u8Import, NotExported, Unmatched, m3u_file_paths};
pub use model::{
    Album, AlbumKey, Artist, CoverImage, CoverSize, Folder, HashReport, MusicBrainzIds, Page, ReplayGain,
    ScanError, ScanProgress, ScanReport, SortField, Track, TrackQuery, UNKNOWN_ALBUM, UNKNOWN_ARTIST,
    VARIOUS_ARTISTS,
};
pub use offline::{OfflineCopy, OfflineState};
pub use playlists::{
    MirroredEntry, MirroredPlaylist, Playlist, PlaylistEntry, clean_playlist_name, new_playlist_id,
};
pub use query::SEARCH_CANDIDATES;
pub use schema::SCHEMA_VERSION;
#[cfg(feature = "ipc-types")]
pub use smart::ConditionValue;
pub use smart::{
    Condition, Match, RuleField, RuleOp, RuleSort, SMART_LIMIT_MAX, SmartPlaylistInfo, SmartRule,
    builtin_smart_playlists,
};
pub use watch::{LibraryWatcher, WatchEvent};

/// Read connections kept open for reuse; more are opened when threads need them at once.
const IDLE_READERS: usize = 4;

/// The library index. Clones share one database.
#[derive(Clone)]
pub struct Library {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// One scan at a time: the watcher's and the user's would otherwise race on the same files.
    scan_lock: Mutex<()>,
    /// Scans in progress; the background hasher pauses while this is non-zero.
    scans_running: AtomicUsize,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library").field("path", &self.inner.path).finish_non_exhaustive()
    }
}

impl Library {
    /// Opens (or creates) the index at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        let writer = schema::open_writer(&path)?;
        Ok(Library {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                scan_lock: Mutex::new(()),
                scans_running: AtomicUsize::new(0),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Returns the SQLite page caches to the allocator (after a full scan or a bulk load);
    /// they fill again as needed.
    pub fn release_memory(&self) {
        if let Err(error) = self.writer().execute_batch("PRAGMA shrink_memory") {
            tracing::debug!(%error, "shrinking the writer's cache failed");
        }
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        // Every write runs in a transaction that rolls back when it is dropped unfinished, so a
        // panic while the lock was held leaves nothing half-written.
        self.inner.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `read` on a pooled read connection.
    fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.inner.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let connection = match pooled {
            Some(connection) => connection,
            None => schema::open_reader(&self.inner.path)?,
        };
        let result = read(&connection);
        let mut idle = self.inner.readers.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(connection);
        }
        result
    }
}

/// Seconds since the Unix epoch.
fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Library>();
    }
}
