//! The index's mirror of the offline cache: which blobs have a complete or pinned copy. The
//! cache (in the locker crate) is the truth; the service copies its state here so that track
//! lists can show "downloaded" badges and the Offline filter in the same SQL that pages them.

use rusqlite::params;
use serde::Serialize;

use crate::Library;
use crate::error::Result;

/// One blob the offline cache holds something of.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OfflineCopy {
    pub sha256: String,
    /// Kept for offline use: never evicted, downloaded in full.
    pub pinned: bool,
    /// Every byte is cached and matched the hash: it plays with no network.
    pub complete: bool,
}

/// What a track list says of a track's offline copy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum OfflineState {
    /// Nothing complete in the cache (a partly played stream counts as nothing).
    #[default]
    None,
    /// Complete in the cache because it was played; may be evicted.
    Cached,
    /// Pinned, still downloading.
    Downloading,
    /// Pinned and complete: kept for offline use.
    Pinned,
}

impl OfflineState {
    /// From the `pinned * 2 + complete` the track queries select (NULL when not cached).
    pub(crate) fn from_flags(flags: Option<i64>) -> OfflineState {
        match flags {
            Some(3) => OfflineState::Pinned,
            Some(2) => OfflineState::Downloading,
            Some(1) => OfflineState::Cached,
            _ => OfflineState::None,
        }
    }
}

impl Library {
    /// The mirror as it stands, sorted.
    pub fn offline_copies(&self) -> Result<Vec<OfflineCopy>> {
        self.read(|db| {
            let mut statement =
                db.prepare_cached("SELECT sha256, pinned, complete FROM offline_copies ORDER BY sha256")?;
            let rows = statement.query_map([], |row| {
                Ok(OfflineCopy { sha256: row.get(0)?, pinned: row.get(1)?, complete: row.get(2)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Replaces the mirror of the offline cache with `copies` (entries neither pinned nor
    /// complete are left out: they make no difference to a list).
    pub fn set_offline_copies(&self, copies: &[OfflineCopy]) -> Result<()> {
        let mut writer = self.writer();
        let transaction = writer.transaction()?;
        transaction.execute("DELETE FROM offline_copies", [])?;
        {
            let mut insert = transaction.prepare(
                "INSERT OR REPLACE INTO offline_copies (sha256, pinned, complete) VALUES (?1, ?2, ?3)",
            )?;
            for copy in copies.iter().filter(|copy| copy.pinned || copy.complete) {
                insert.execute(params![copy.sha256, copy.pinned, copy.complete])?;
            }
        }
        transaction.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_map_to_states() {
        assert_eq!(OfflineState::from_flags(None), OfflineState::None);
        assert_eq!(OfflineState::from_flags(Some(0)), OfflineState::None);
        assert_eq!(OfflineState::from_flags(Some(1)), OfflineState::Cached);
        assert_eq!(OfflineState::from_flags(Some(2)), OfflineState::Downloading);
        assert_eq!(OfflineState::from_flags(Some(3)), OfflineState::Pinned);
    }
}
