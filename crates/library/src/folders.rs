//! The music folders the user added.

use std::path::{Path, PathBuf};

use rusqlite::{Transaction, params};

use crate::error::{LibraryError, Result};
use crate::{Folder, Library, now_seconds, paths};

impl Library {
    /// The folders in the library, in the order they were added.
    pub fn folders(&self) -> Result<Vec<Folder>> {
        self.read(|db| {
            let mut statement = db.prepare_cached("SELECT id, path, added_at FROM folders ORDER BY id")?;
            let rows = statement.query_map([], |row| {
                Ok(Folder {
                    id: row.get(0)?,
                    path: paths::from_bytes(&row.get::<_, Vec<u8>>(1)?),
                    added_at: row.get(2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Adds a music folder; nothing is indexed until the next scan. Adding a folder twice is
    /// harmless. A folder that contains library folders takes their place (their tracks stay);
    /// a folder inside one already in the library is refused.
    pub fn add_folder(&self, dir: impl AsRef<Path>) -> Result<Folder> {
        let dir = dir.as_ref();
        let canonical = std::fs::canonicalize(dir)
            .map_err(|source| LibraryError::FolderUnreadable { path: dir.to_owned(), source })?;
        if !canonical.is_dir() {
            return Err(LibraryError::NotAFolder { path: dir.to_owned() });
        }
        std::fs::read_dir(&canonical)
            .map_err(|source| LibraryError::FolderUnreadable { path: dir.to_owned(), source })?;

        let existing = self.folders()?;
        if let Some(same) = existing.iter().find(|f| f.path == canonical) {
            return Ok(same.clone());
        }
        if let Some(parent) = existing.iter().find(|f| canonical.starts_with(&f.path)) {
            return Err(LibraryError::FolderAlreadyCovered { path: canonical, parent: parent.path.clone() });
        }
        let children: Vec<&Folder> = existing.iter().filter(|f| f.path.starts_with(&canonical)).collect();

        // Not while a scan is writing files under the folders being merged.
        let _no_scan = self.inner.scan_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut writer = self.writer();
        let transaction = writer.transaction()?;
        let added_at = now_seconds();
        transaction.execute(
            "INSERT INTO folders (path, added_at) VALUES (?1, ?2)",
            params![paths::to_bytes(&canonical), added_at],
        )?;
        let id = transaction.last_insert_rowid();
        for child in children {
            transaction.execute(
                "UPDATE local_files SET folder_id = ?1 WHERE folder_id = ?2",
                params![id, child.id],
            )?;
            transaction.execute(
                "UPDATE scan_errors SET folder_id = ?1 WHERE folder_id = ?2",
                params![id, child.id],
            )?;
            transaction.execute("DELETE FROM folders WHERE id = ?1", params![child.id])?;
        }
        transaction.commit()?;
        tracing::info!(folder = %canonical.display(), "library folder added");
        Ok(Folder { id, path: canonical, added_at })
    }

    /// Removes a music folder and every track found only in it. Returns how many tracks left.
    pub fn remove_folder(&self, dir: impl AsRef<Path>) -> Result<u64> {
        let dir = dir.as_ref();
        let folder =
            self.find_folder(dir)?.ok_or_else(|| LibraryError::UnknownFolder { path: dir.to_owned() })?;
        // A scan in progress would otherwise write files into the folder being removed.
        let _no_scan = self.inner.scan_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut writer = self.writer();
        let transaction = writer.transaction()?;
        transaction.execute("DELETE FROM local_files WHERE folder_id = ?1", params![folder.id])?;
        transaction.execute("DELETE FROM scan_errors WHERE folder_id = ?1", params![folder.id])?;
        transaction.execute("DELETE FROM folders WHERE id = ?1", params![folder.id])?;
        let removed = prune_all_orphans(&transaction)?;
        transaction.commit()?;
        tracing::info!(folder = %folder.path.display(), removed, "library folder removed");
        Ok(removed)
    }

    fn find_folder(&self, dir: &Path) -> Result<Option<Folder>> {
        let mut candidates: Vec<PathBuf> = vec![dir.to_owned()];
        if let Ok(canonical) = std::fs::canonicalize(dir) {
            candidates.push(canonical);
        }
        if let Ok(absolute) = std::path::absolute(dir) {
            candidates.push(absolute);
        }
        let folders = self.folders()?;
        Ok(candidates
            .iter()
            .find_map(|candidate| {
                folders.iter().find(|f| f.path == *candidate || f.path.as_path() == candidate.as_path())
            })
            .cloned())
    }
}

/// Deletes tracks with no copy left anywhere (no local file, no locker copy), and covers no
/// track uses. Returns the number of tracks deleted.
///
/// Tracks only ever disappear here, so every kind of copy has its table in the `NOT EXISTS`
/// tests below.
pub(crate) fn prune_all_orphans(transaction: &Transaction<'_>) -> Result<u64> {
    let removed = transaction.execute(
        "DELETE FROM tracks
         WHERE NOT EXISTS (SELECT 1 FROM local_files lf WHERE lf.track_id = tracks.id)
           AND NOT EXISTS (SELECT 1 FROM locker_copies lc WHERE lc.sha256 = tracks.sha256)",
        [],
    )?;
    prune_covers(transaction)?;
    Ok(removed as u64)
}

/// Like [`prune_all_orphans`] for the given tracks only.
pub(crate) fn prune_orphans_among(transaction: &Transaction<'_>, track_ids: &[i64]) -> Result<u64> {
    let mut statement = transaction.prepare_cached(
        "DELETE FROM tracks WHERE id = ?1
           AND NOT EXISTS (SELECT 1 FROM local_files lf WHERE lf.track_id = ?1)
           AND NOT EXISTS (SELECT 1 FROM locker_copies lc WHERE lc.sha256 = tracks.sha256)",
    )?;
    let mut removed = 0;
    for id in track_ids {
        removed += statement.execute(params![id])? as u64;
    }
    Ok(removed)
}

pub(crate) fn prune_covers(transaction: &Transaction<'_>) -> Result<()> {
    transaction.execute(
        "DELETE FROM covers WHERE NOT EXISTS (SELECT 1 FROM tracks t WHERE t.cover_id = covers.id)",
        [],
    )?;
    Ok(())
}
