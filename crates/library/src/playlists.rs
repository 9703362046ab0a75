//! Playlists: named, ordered lists of entries, each entry pointing at a track.
//!
//! Playlists and entries have UUID ids so the same playlist can be mirrored in the locker
//! catalog under the same ids. The same track may appear any number of times; each appearance
//! is its own entry, and moves and removals name entries, never tracks.
//!
//! When a track leaves the library (its folder was removed, its file deleted), its entries stay
//! in place and are listed with `track: None` and the title, artist and duration the track had,
//! so the user sees what is missing instead of a playlist that silently shrank. An entry whose
//! track's content hash is known finds the track again when a file with the same content comes
//! back (triggers in the schema do that, whoever adds the track).

use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::Serialize;

use crate::error::{LibraryError, Result};
use crate::query::{TRACK_COLUMNS, or_default, track_from_row};
use crate::{Library, Track, UNKNOWN_ARTIST, now_seconds};

/// Longest name accepted, in characters.
const MAX_NAME_CHARS: usize = 500;

/// A playlist as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct Playlist {
    pub id: String,
    pub name: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
    /// Entries, unavailable ones included.
    pub track_count: u64,
    /// Of all entries; an unavailable one counts with the duration its track had.
    pub duration_ms: u64,
    /// Entries whose track is no longer in the library.
    pub unavailable_count: u64,
}

/// One entry of a playlist, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct PlaylistEntry {
    /// Stable for the life of the entry; moves and removals name it.
    pub entry_id: String,
    /// 0-based place in the playlist.
    pub position: u64,
    /// The track; `None` when it is no longer in the library (show the entry as unavailable).
    pub track: Option<Track>,
    /// The track's content hash when known: how the entry finds the track again, and how the
    /// locker catalog names it.
    pub sha256: Option<String>,
    /// What to show for an unavailable entry (the track's own values otherwise).
    pub title: String,
    pub artist: String,
    pub duration_ms: u64,
}

impl PlaylistEntry {
    pub fn is_available(&self) -> bool {
        self.track.is_some()
    }
}

/// An entry as another store (the locker catalog) has it: the track named by content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirroredEntry {
    pub entry_id: String,
    pub sha256: String,
    /// Shown while no track with this hash is in the library.
    pub title: String,
    pub artist: String,
    pub duration_ms: u64,
}

/// A playlist as another store has it, to be copied here exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirroredPlaylist {
    pub id: String,
    pub name: String,
    pub entries: Vec<MirroredEntry>,
}

/// A new random playlist or entry id.
pub fn new_playlist_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Trims a name and refuses one that is empty, too long or has line breaks (which would break
/// an exported playlist file).
pub fn clean_playlist_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(LibraryError::InvalidPlaylist("a playlist needs a name".to_owned()));
    }
    if name.chars().any(char::is_control) {
        return Err(LibraryError::InvalidPlaylist(
            "a playlist name cannot contain line breaks or control characters".to_owned(),
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(LibraryError::InvalidPlaylist(format!(
            "a playlist name can have at most {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_owned())
}

const SUMMARY_SQL: &str = "SELECT p.id, p.name, p.created_at, p.updated_at, COUNT(e.id),
        COALESCE(SUM(COALESCE(t.duration_ms, e.duration_ms)), 0), COUNT(e.id) - COUNT(e.track_id)
     FROM playlists p
     LEFT JOIN playlist_entries e ON e.playlist_id = p.id
     LEFT JOIN tracks t ON t.id = e.track_id";

fn summary_from_row(row: &Row<'_>) -> rusqlite::Result<Playlist> {
    Ok(Playlist {
        id: row.get(0)?,
        name: row.get(1)?,
        created_at: row.get(2)?,
        updated_at: row.get(3)?,
        track_count: row.get(4)?,
        duration_ms: row.get(5)?,
        unavailable_count: row.get(6)?,
    })
}

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<PlaylistEntry> {
    // The track's columns come first (what `track_from_row` reads), the entry's after them.
    const ENTRY: usize = crate::query::TRACK_COLUMN_COUNT;
    let track = match row.get::<_, Option<i64>>(0)? {
        Some(_) => Some(track_from_row(row)?),
        None => None,
    };
    let (title, artist, duration_ms) = match &track {
        Some(track) => (track.title.clone(), track.artist.clone(), track.duration_ms),
        None => (
            or_default(row.get(ENTRY + 3)?, "Untitled"),
            or_default(row.get(ENTRY + 4)?, UNKNOWN_ARTIST),
            row.get(ENTRY + 5)?,
        ),
    };
    Ok(PlaylistEntry {
        entry_id: row.get(ENTRY)?,
        position: row.get(ENTRY + 1)?,
        sha256: track.as_ref().and_then(|t| t.sha256.clone()).or(row.get(ENTRY + 2)?),
        track,
        title,
        artist,
        duration_ms,
    })
}

fn require_playlist(transaction: &Transaction<'_>, id: &str) -> Result<()> {
    let found: Option<i64> = transaction
        .query_row("SELECT 1 FROM playlists WHERE id = ?1", params![id], |r| r.get(0))
        .optional()?;
    found.map(|_| ()).ok_or_else(|| LibraryError::UnknownPlaylist(id.to_owned()))
}

fn touch(transaction: &Transaction<'_>, id: &str) -> Result<()> {
    transaction.execute("UPDATE playlists SET updated_at = ?2 WHERE id = ?1", params![id, now_seconds()])?;
    Ok(())
}

fn entry_ids_in_order(transaction: &Transaction<'_>, playlist: &str) -> Result<Vec<String>> {
    let mut statement = transaction
        .prepare_cached("SELECT id FROM playlist_entries WHERE playlist_id = ?1 ORDER BY position")?;
    let rows = statement.query_map(params![playlist], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
}

/// Gives the entries positions 0, 1, 2… in the order given, writing only those that moved.
fn renumber(transaction: &Transaction<'_>, playlist: &str, order: &[String]) -> Result<()> {
    let mut statement = transaction.prepare_cached(
        "UPDATE playlist_entries SET position = ?3 WHERE playlist_id = ?1 AND id = ?2 AND position != ?3",
    )?;
    for (position, entry) in order.iter().enumerate() {
        statement.execute(params![playlist, entry, position as i64])?;
    }
    Ok(())
}

impl Library {
    /// Every playlist, by name.
    pub fn playlists(&self) -> Result<Vec<Playlist>> {
        let sql = format!("{SUMMARY_SQL} GROUP BY p.id ORDER BY p.name COLLATE NOCASE, p.created_at, p.id");
        self.read(|db| {
            let mut statement = db.prepare_cached(&sql)?;
            let rows = statement.query_map([], summary_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    pub fn playlist(&self, id: &str) -> Result<Option<Playlist>> {
        let sql = format!("{SUMMARY_SQL} WHERE p.id = ?1 GROUP BY p.id");
        self.read(|db| Ok(db.prepare_cached(&sql)?.query_row(params![id], summary_from_row).optional()?))
    }

    /// Finds a playlist by id, else by name (exactly, then ignoring case). A name several
    /// playlists share is refused with their ids, so the user can pick one.
    pub fn find_playlist(&self, id_or_name: &str) -> Result<Playlist> {
        if let Some(playlist) = self.playlist(id_or_name)? {
            return Ok(playlist);
        }
        let all = self.playlists()?;
        let wanted = id_or_name.trim();
        let mut matches: Vec<&Playlist> = all.iter().filter(|p| p.name == wanted).collect();
        if matches.is_empty() {
            let folded = wanted.to_lowercase();
            matches = all.iter().filter(|p| p.name.to_lowercase() == folded).collect();
        }
        match matches.as_slice() {
            [] => Err(LibraryError::UnknownPlaylist(id_or_name.to_owned())),
            [one] => Ok((*one).clone()),
            several => Err(LibraryError::InvalidPlaylist(format!(
                "{} playlists are named {wanted:?} ({}); name one by its id",
                several.len(),
                several.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// The entries of a playlist in order.
    pub fn playlist_entries(&self, id: &str) -> Result<Vec<PlaylistEntry>> {
        let sql = format!(
            "SELECT {TRACK_COLUMNS}, e.id, e.position, e.sha256, e.title, e.artist, e.duration_ms
             FROM playlist_entries e LEFT JOIN tracks t ON t.id = e.track_id
             WHERE e.playlist_id = ?1 ORDER BY e.position"
        );
        self.read(|db| {
            let exists: Option<i64> = db
                .query_row("SELECT 1 FROM playlists WHERE id = ?1", params![id], |r| r.get(0))
                .optional()?;
            if exists.is_none() {
                return Err(LibraryError::UnknownPlaylist(id.to_owned()));
            }
            let mut statement = db.prepare_cached(&sql)?;
            let rows = statement.query_map(params![id], entry_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Creates an empty playlist with a new id.
    pub fn create_playlist(&self, name: &str) -> Result<Playlist> {
        self.create_playlist_with_id(&new_playlist_id(), name)
    }

    /// Creates an empty playlist with the given id (one the locker catalog chose).
    pub fn create_playlist_with_id(&self, id: &str, name: &str) -> Result<Playlist> {
        let name = clean_playlist_name(name)?;
        if id.trim().is_empty() {
            return Err(LibraryError::InvalidPlaylist("a playlist id cannot be empty".to_owned()));
        }
        let now = now_seconds();
        {
            let writer = self.writer();
            let inserted = writer.execute(
                "INSERT INTO playlists (id, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
                 ON CONFLICT (id) DO NOTHING",
                params![id, name, now],
            )?;
            if inserted == 0 {
                return Err(LibraryError::InvalidPlaylist(format!("a playlist with id {id} exists already")));
            }
        }
        Ok(Playlist {
            id: id.to_owned(),
            name,
            created_at: now,
            updated_at: now,
            track_count: 0,
            duration_ms: 0,
            unavailable_count: 0,
        })
    }

    pub fn rename_playlist(&self, id: &str, name: &str) -> Result<Playlist> {
        let name = clean_playlist_name(name)?;
        let changed = self.writer().execute(
            "UPDATE playlists SET name = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, name, now_seconds()],
        )?;
        if changed == 0 {
            return Err(LibraryError::UnknownPlaylist(id.to_owned()));
        }
        self.playlist(id)?.ok_or_else(|| LibraryError::UnknownPlaylist(id.to_owned()))
    }

    /// Deletes a playlist and its entries (never the tracks).
    pub fn delete_playlist(&self, id: &str) -> Result<()> {
        if !self.forget_playlist(id)? {
            return Err(LibraryError::UnknownPlaylist(id.to_owned()));
        }
        Ok(())
    }

    /// Deletes a playlist if it is here; returns whether it was.
    pub fn forget_playlist(&self, id: &str) -> Result<bool> {
        let mut writer = self.writer();
        let transaction = writer.transaction()?;
        transaction.execute("DELETE FROM playlist_entries WHERE playlist_id = ?1", params![id])?;
        let deleted = transaction.execute("DELETE FROM playlists WHERE id = ?1", params![id])?;
        transaction.commit()?;
        Ok(deleted > 0)
    }

    /// Inserts tracks at `at` (the end when `None` or past it), in the order given; a track may
    /// be added any number of times. Returns the new entries' ids. Adds all or nothing: an
    /// unknown track id fails the whole call.
    pub fn playlist_add(&self, id: &str, track_ids: &[i64], at: Option<usize>) -> Result<Vec<String>> {
        let entries: Vec<(String, i64)> = track_ids.iter().map(|&track| (new_playlist_id(), track)).collect();
        self.playlist_add_entries(id, &entries, at)?;
        Ok(entries.into_iter().map(|(entry, _)| entry).collect())
    }

    /// Like [`Library::playlist_add`] with the entry ids chosen by the caller (the locker's).
    pub fn playlist_add_entries(&self, id: &str, entries: &[(String, i64)], at: Option<usize>) -> Result<()> {
        let mut writer = self.writer();
        let transaction = writer.transaction()?;
        require_playlist(&transaction, id)?;
        let length: i64 = transaction.query_row(
            "SELECT COUNT(*) FROM playlist_entries WHERE playlist_id = ?1",
            params![id],
            |r| r.get(0),
        )?;
        let at = at.map_or(length, |at| (at as i64).min(length));
        transaction.execute(
            "UPDATE playlist_entries SET position = position + ?3 WHERE playlist_id = ?1 AND position >= ?2",
            params![id, at, entries.len() as i64],
        )?;
        {
            let mut insert = transaction.prepare_cached(
                "INSERT INTO playlist_entries (id, playlist_id, position, track_id, sha256, title, artist,
                     duration_ms)
                 SELECT ?1, ?2, ?3, t.id, t.sha256, CASE WHEN t.title = '' THEN t.sort_title ELSE t.title END,
                     t.artist, t.duration_ms
                 FROM tracks t WHERE t.id = ?4",
            )?;
            for (offset, (entry, track)) in entries.iter().enumerate() {
                if insert.execute(params![entry, id, at + offset as i64, track])? == 0 {
                    return Err(LibraryError::UnknownTrack(*track));
                }
            }
        }
        touch(&transaction, id)?;
        transaction.commit()?;
        Ok(())
    }

    /// Removes entries; the rest close up. All or nothing: an entry that is not in the
    /// playlist fails the whole call. Returns how many were removed.
    pub fn playlist_remove(&self, id: &str, entry_ids: &[String]) -> Result<u64> {
        let mut writer = self.writer();
        let transaction = writer.transaction()?;
        require_playlist(&transaction, id)?;
        let mut order = entry_ids_in_order(&transaction, id)?;
        for entry in entry_ids {
            if !order.contains(entry) {
                return Err(LibraryError::UnknownPlaylistEntry {
                    playlist: id.to_owned(),
                    entry: entry.clone(),
                });
            }
        }
        let mut removed = 0;
        for entry in entry_ids {
            removed += transaction.execute(
                "DELETE FROM playlist_entries WHERE playlist_id = ?1 AND id = ?2",
                params![id, entry],
            )? as u64;
        }
        order.retain(|entry| !entry_ids.contains(entry));
        renumber(&transaction, id, &order)?;
        touch(&transaction, id)?;
        transaction.commit()?;
        Ok(removed)
    }

    /// Moves an entry so that it ends up at 0-based position `to` (the end when past it).
    pub fn playlist_move(&self, id: &str, entry_id: &str, to: usize) -> Result<()> {
        let mut writer = self.writer();
        let transaction = writer.transaction()?;
        require_playlist(&transaction, id)?;
        let mut order = entry_ids_in_order(&transaction, id)?;
        let from = order.iter().position(|entry| entry == entry_id).ok_or_else(|| {
            LibraryError::UnknownPlaylistEntry { playlist: id.to_owned(), entry: entry_id.to_owned() }
        })?;
        let entry = order.remove(from);
        order.insert(to.min(order.len()), entry);
        renumber(&transaction, id, &order)?;
        touch(&transaction, id)?;
        transaction.commit()?;
        Ok(())
    }

    /// The content hash of each track, hashing now (at full speed) the local files the
    /// background hasher has not reached yet: the locker names tracks by hash, so a playlist
    /// edit it mirrors cannot wait for the hasher. `None` for a track with no readable file.
    /// A track found identical to another is merged into it, as the hasher would; use
    /// [`Library::track_id_for_sha256`] for the surviving id.
    pub fn content_hashes(&self, track_ids: &[i64]) -> Result<Vec<Option<String>>> {
        let mut hashes = Vec::with_capacity(track_ids.len());
        for &track in track_ids {
            let (known, files) = self.read(|db| {
                let known: Option<Option<String>> = db
                    .query_row("SELECT sha256 FROM tracks WHERE id = ?1", params![track], |r| r.get(0))
                    .optional()?;
                let mut statement = db.prepare_cached(
                    "SELECT id, path, size, mtime_ns FROM local_files WHERE track_id = ?1 ORDER BY id",
                )?;
                let files = statement
                    .query_map(params![track], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, u64>(2)?, r.get(3)?))
                    })?
                    .collect::<rusqlite::Result<Vec<(i64, Vec<u8>, u64, i64)>>>()?;
                Ok((known, files))
            })?;
            let Some(known) = known else { return Err(LibraryError::UnknownTrack(track)) };
            if known.is_some() {
                hashes.push(known);
                continue;
            }
            let mut found = None;
            for (file_id, path, size, mtime_ns) in files {
                let path = crate::paths::from_bytes(&path);
                let never_stop = std::sync::atomic::AtomicBool::new(false);
                if let Ok(crate::hasher::Hashed::Digest(digest)) =
                    self.hash_file(&path, crate::HashPace::UNLIMITED, &never_stop)
                    && crate::hasher::unchanged_since_scan(&path, size, mtime_ns)
                {
                    self.store_hash(file_id, track, &digest)?;
                    found = Some(digest);
                    break;
                }
            }
            hashes.push(found);
        }
        Ok(hashes)
    }

    /// Makes the playlist here exactly `mirrored` (created if absent): its name, and its
    /// entries in that order, each linked to the library's track with that content hash when
    /// there is one. Used to follow the locker catalog, whose merge decides.
    pub fn mirror_playlist(&self, mirrored: &MirroredPlaylist) -> Result<()> {
        let name = clean_playlist_name(&mirrored.name).unwrap_or_else(|_| "Untitled playlist".to_owned());
        let mut writer = self.writer();
        let transaction = writer.transaction()?;
        let now = now_seconds();
        transaction.execute(
            "INSERT INTO playlists (id, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at
             WHERE name != excluded.name",
            params![mirrored.id, name, now],
        )?;
        let current = entry_ids_in_order(&transaction, &mirrored.id)?;
        let wanted: Vec<String> = mirrored.entries.iter().map(|e| e.entry_id.clone()).collect();
        if current != wanted {
            transaction
                .execute("DELETE FROM playlist_entries WHERE playlist_id = ?1", params![mirrored.id])?;
            let mut insert = transaction.prepare_cached(
                "INSERT INTO playlist_entries (id, playlist_id, position, track_id, sha256, title, artist,
                     duration_ms)
                 VALUES (?1, ?2, ?3, (SELECT id FROM tracks WHERE sha256 = ?4), ?4, ?5, ?6, ?7)
                 ON CONFLICT (id) DO NOTHING",
            )?;
            for (position, entry) in mirrored.entries.iter().enumerate() {
                insert.execute(params![
                    entry.entry_id,
                    mirrored.id,
                    position as i64,
                    entry.sha256,
                    entry.title,
                    entry.artist,
                    entry.duration_ms as i64,
                ])?;
            }
            drop(insert);
            touch(&transaction, &mirrored.id)?;
        }
        transaction.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bad_ones_refused() {
        assert_eq!(clean_playlist_name("  Road trip ").unwrap(), "Road trip");
        assert!(clean_playlist_name("   ").unwrap_err().to_string().contains("needs a name"));
        assert!(clean_playlist_name("a\nb").unwrap_err().to_string().contains("line breaks"));
        assert!(clean_playlist_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
    }

    #[test]
    fn ids_are_distinct_uuids() {
        let (a, b) = (new_playlist_id(), new_playlist_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }
}
