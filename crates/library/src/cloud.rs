//! The locker's copies of tracks in the index. A copy refers to its track by SHA-256, so a
//! file that is on disk and in the locker is one track; a track only in the locker gets its
//! tags from the locker's catalog and has no path.

use std::path::Path;

use loft_media::{Format, MediaTags};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::error::Result;
use crate::folders::{prune_covers, prune_orphans_among};
use crate::scan::{Derived, insert_track, update_track};
use crate::{Library, now_seconds};

/// One track of the locker's catalog, as the index stores it. The catalog's track id is the
/// SHA-256 of the audio, which is how it finds a local copy of the same file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LockerCopy {
    /// The catalog's track id: the lowercase hex SHA-256 of the file.
    pub id: String,
    pub size: u64,
    /// The name the file had when it was uploaded (its extension gives the format).
    pub file_name: Option<String>,
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub album_artist: Option<String>,
    pub genre: Option<String>,
    pub year: Option<u32>,
    pub track_no: Option<u32>,
    pub disc_no: Option<u32>,
    pub duration_ms: Option<u64>,
    /// When it was put in the locker, in milliseconds since the Unix epoch.
    pub added_ms: u64,
}

/// What applying the locker's changes did to the index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct LockerApplied {
    /// Tracks that were not in the library before (locker-only tracks).
    pub added: u64,
    /// Tracks whose locker copy was added or changed while the track was already there.
    pub updated: u64,
    /// Tracks that left the library because their last copy left the locker.
    pub removed: u64,
}

impl LockerApplied {
    pub fn changed_anything(&self) -> bool {
        self.added + self.updated + self.removed > 0
    }
}

/// Which copies a track list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SourceFilter {
    /// Every track.
    #[default]
    All,
    /// Tracks with a file on this computer.
    Local,
    /// Tracks in the locker (whether or not they are on this computer too).
    Locker,
    /// Tracks that play with no network: a file on this computer, or a complete copy in the
    /// offline cache (see [`crate::Library::set_offline_copies`]).
    Offline,
}

impl SourceFilter {
    pub const NAMES: &[&str] = &["all", "local", "locker", "offline"];

    /// The condition on `tracks t` that keeps the tracks this filter shows.
    pub(crate) fn condition(self) -> &'static str {
        match self {
            SourceFilter::All => "1",
            SourceFilter::Local => "EXISTS (SELECT 1 FROM local_files lf WHERE lf.track_id = t.id)",
            SourceFilter::Locker => "EXISTS (SELECT 1 FROM locker_copies lc WHERE lc.sha256 = t.sha256)",
            SourceFilter::Offline => {
                "(EXISTS (SELECT 1 FROM local_files lf WHERE lf.track_id = t.id)
                  OR EXISTS (SELECT 1 FROM offline_copies oc WHERE oc.sha256 = t.sha256 AND oc.complete))"
            }
        }
    }
}

impl std::str::FromStr for SourceFilter {
    type Err = crate::LibraryError;

    fn from_str(name: &str) -> std::result::Result<Self, Self::Err> {
        match name.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(SourceFilter::All),
            "local" | "computer" | "this-computer" | "this_computer" => Ok(SourceFilter::Local),
            "locker" | "cloud" => Ok(SourceFilter::Locker),
            "offline" | "downloaded" => Ok(SourceFilter::Offline),
            _ => Err(crate::LibraryError::InvalidSource(name.to_owned())),
        }
    }
}

/// Where a track's copies are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum TrackSource {
    /// A file on this computer only.
    Local,
    /// Only in the locker: it plays by streaming (or from the offline cache).
    Locker,
    /// On this computer and in the locker.
    Both,
}

impl TrackSource {
    pub(crate) fn of(local: bool, in_locker: bool) -> TrackSource {
        match (local, in_locker) {
            (true, true) => TrackSource::Both,
            (false, true) => TrackSource::Locker,
            _ => TrackSource::Local,
        }
    }
}

/// The container name the index uses (the format table's), from an uploaded file's name. A name
/// the table does not know keeps its extension, so it is not lost.
pub(crate) fn format_from_name(file_name: &str) -> String {
    let path = Path::new(file_name);
    match (Format::of_path(path), loft_media::extension_of(path)) {
        (Some(format), _) => format.container.to_owned(),
        (None, Some(extension)) if !extension.is_empty() => extension.to_ascii_lowercase(),
        (None, _) => "unknown".to_owned(),
    }
}

impl LockerCopy {
    /// The tags a track that is only in the locker shows.
    fn file_tags(&self) -> MediaTags {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let artist = text(&self.artist);
        MediaTags {
            title: text(&self.title),
            artists: if artist.is_empty() { Vec::new() } else { vec![artist.clone()] },
            artist,
            album: text(&self.album),
            album_artist: text(&self.album_artist),
            genre: text(&self.genre),
            year: self.year.and_then(|year| i32::try_from(year).ok()),
            date: self.year.map(|year| year.to_string()).unwrap_or_default(),
            track_no: self.track_no,
            disc_no: self.disc_no,
            duration_ms: self.duration_ms.unwrap_or(0),
            format: self.format(),
            ..MediaTags::default()
        }
    }

    fn format(&self) -> String {
        format_from_name(self.file_name.as_deref().unwrap_or(""))
    }
}

impl Library {
    /// Applies what a locker sync reported: `changed` copies are added or updated, `removed`
    /// ones (catalog track ids) deleted. A copy whose content matches a track already in the
    /// library joins that track; tracks left with no copy anywhere leave the library.
    pub fn apply_locker_changes(&self, changed: &[LockerCopy], removed: &[String]) -> Result<LockerApplied> {
        self.apply_locker_changes_with(changed, removed, BULK_LOAD_MIN_COPIES)
    }

    /// [`Library::apply_locker_changes`], loading in bulk when at least `bulk_from` of the
    /// changed copies can be new tracks and they are many next to the tracks the index has.
    pub(crate) fn apply_locker_changes_with(
        &self,
        changed: &[LockerCopy],
        removed: &[String],
        bulk_from: usize,
    ) -> Result<LockerApplied> {
        let mut writer = self.writer();
        // Copies the index has already are mostly what a repeated report holds, so what is left
        // bounds how many tracks the load can add; bulk pays when that is many, and many next to
        // the tracks whose index entries it rebuilds.
        let bulk = changed.len() >= bulk_from && {
            let (tracks, copies): (i64, i64) = writer.query_row(
                "SELECT (SELECT COUNT(*) FROM tracks), (SELECT COUNT(*) FROM locker_copies)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let new_at_most = changed.len() as i64 - copies;
            new_at_most >= bulk_from as i64 && new_at_most * 2 >= tracks
        };
        let cache_size: i64 = writer.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        if bulk {
            // Rebuilding the sort indexes and loading the full-text rows at the end read the
            // whole table at once; a larger cache for this one transaction keeps that in memory.
            writer.pragma_update(None, "cache_size", BULK_CACHE_SIZE)?;
        }
        let outcome = apply_in_transaction(&mut writer, changed, removed, bulk);
        if bulk {
            writer.pragma_update(None, "cache_size", cache_size)?;
        }
        outcome
    }

    /// Forgets every locker copy (the locker was disconnected, or another one connected):
    /// tracks only in the locker leave the library, local ones stay. Returns how many left.
    pub fn clear_locker_copies(&self) -> Result<u64> {
        let mut writer = self.writer();
        let transaction = writer.transaction()?;
        let track_ids: Vec<i64> = {
            let mut statement = transaction
                .prepare("SELECT t.id FROM locker_copies lc JOIN tracks t ON t.sha256 = lc.sha256")?;
            let rows = statement.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        transaction.execute("DELETE FROM locker_copies", [])?;
        let removed = prune_orphans_among(&transaction, &track_ids)?;
        if removed > 0 {
            prune_covers(&transaction)?;
        }
        transaction.commit()?;
        Ok(removed)
    }

    /// The locker's copy of a track, if it has one.
    pub fn locker_copy(&self, track_id: i64) -> Result<Option<LockerCopy>> {
        self.read(|db| {
            Ok(db
                .prepare_cached(
                    "SELECT lc.locker_track_id, lc.size, lc.file_name, lc.title, lc.artist, lc.album,
                        lc.album_artist, lc.genre, lc.year, lc.track_no, lc.disc_no, lc.duration_ms,
                        lc.added_ms
                     FROM locker_copies lc JOIN tracks t ON t.sha256 = lc.sha256 WHERE t.id = ?1",
                )?
                .query_row(params![track_id], |row| {
                    let file_name: String = row.get(2)?;
                    Ok(LockerCopy {
                        id: row.get(0)?,
                        size: row.get(1)?,
                        file_name: Some(file_name).filter(|name| !name.is_empty()),
                        title: row.get(3)?,
                        artist: row.get(4)?,
                        album: row.get(5)?,
                        album_artist: row.get(6)?,
                        genre: row.get(7)?,
                        year: row.get(8)?,
                        track_no: row.get(9)?,
                        disc_no: row.get(10)?,
                        duration_ms: row.get(11)?,
                        added_ms: row.get(12)?,
                    })
                })
                .optional()?)
        })
    }

    /// The library track whose content has this SHA-256.
    pub fn track_id_for_sha256(&self, sha256: &str) -> Result<Option<i64>> {
        self.read(|db| {
            Ok(db
                .prepare_cached("SELECT id FROM tracks WHERE sha256 = ?1")?
                .query_row(params![sha256.to_ascii_lowercase()], |r| r.get(0))
                .optional()?)
        })
    }

    /// The catalog track ids of every locker copy the index holds.
    pub fn locker_copy_ids(&self) -> Result<Vec<String>> {
        self.read(|db| {
            let mut statement = db.prepare_cached("SELECT locker_track_id FROM locker_copies")?;
            let rows = statement.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// How many tracks have a locker copy.
    pub fn locker_copy_count(&self) -> Result<u64> {
        self.read(|db| Ok(db.query_row("SELECT COUNT(*) FROM locker_copies", [], |r| r.get(0))?))
    }
}

/// From this many copies in one sync, the index is loaded in bulk (a new device's first sync,
/// or a newly connected locker): below it, keeping every index up to date row by row is cheaper
/// than rebuilding them.
const BULK_LOAD_MIN_COPIES: usize = 2_000;

/// The page cache during a bulk load, in KiB (SQLite's negative form): 256 MiB at most, given
/// back when the load ends.
const BULK_CACHE_SIZE: i64 = -262_144;

fn apply_in_transaction(
    writer: &mut rusqlite::Connection,
    changed: &[LockerCopy],
    removed: &[String],
    bulk: bool,
) -> Result<LockerApplied> {
    let transaction = writer.transaction()?;
    let mut applied = LockerApplied::default();
    let now = now_seconds();
    let deferred = if bulk { Some(BulkLoad::begin(&transaction)?) } else { None };
    for copy in changed {
        match upsert_copy(&transaction, copy, now)? {
            Upserted::NewTrack => applied.added += 1,
            Upserted::Updated => applied.updated += 1,
            Upserted::Unchanged => {}
        }
    }
    if let Some(deferred) = deferred {
        deferred.finish(&transaction)?;
    }
    let mut orphan_candidates = Vec::new();
    for locker_track_id in removed {
        if let Some(track_id) = remove_copy(&transaction, locker_track_id)? {
            orphan_candidates.push(track_id);
            applied.updated += 1;
        }
    }
    let pruned = prune_orphans_among(&transaction, &orphan_candidates)?;
    if pruned > 0 {
        prune_covers(&transaction)?;
    }
    applied.removed = pruned;
    applied.updated -= pruned;
    transaction.commit()?;
    Ok(applied)
}

/// What a bulk load puts off until its rows are in: the sort indexes of `tracks` (built once
/// from sorted rows instead of one random B-tree insert per row and index) and the full-text
/// rows of the new tracks (written in one statement instead of a trigger per row). Everything
/// happens inside the load's transaction, so a failure leaves the index as it was.
struct BulkLoad {
    /// Name and SQL of each index dropped, recreated as they were.
    indexes: Vec<(String, String)>,
    /// The full-text insert trigger, recreated as it was.
    fts_trigger: Option<String>,
    /// Tracks inserted from here on are new (rowids only grow), so theirs are the full-text
    /// rows to write.
    first_new_id: i64,
}

/// The trigger that writes a new track's full-text row (schema.rs).
const FTS_INSERT_TRIGGER: &str = "tracks_fts_insert";

impl BulkLoad {
    fn begin(transaction: &Transaction<'_>) -> Result<BulkLoad> {
        // Read from the schema rather than copied from it, so an index added later is dropped
        // and rebuilt too. The UNIQUE index on sha256 has no SQL and stays: every copy looks
        // its track up by it.
        let indexes: Vec<(String, String)> = {
            let mut statement = transaction.prepare(
                "SELECT name, sql FROM sqlite_master
                 WHERE type = 'index' AND tbl_name = 'tracks' AND sql IS NOT NULL",
            )?;
            let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (name, _) in &indexes {
            transaction.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
        }
        let fts_trigger: Option<String> = transaction
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
                params![FTS_INSERT_TRIGGER],
                |r| r.get(0),
            )
            .optional()?;
        if fts_trigger.is_some() {
            transaction.execute_batch(&format!("DROP TRIGGER {FTS_INSERT_TRIGGER}"))?;
        }
        let first_new_id: i64 =
            transaction.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM tracks", [], |r| r.get(0))?;
        Ok(BulkLoad { indexes, fts_trigger, first_new_id })
    }

    fn finish(self, transaction: &Transaction<'_>) -> Result<()> {
        if let Some(trigger) = &self.fts_trigger {
            // The same row the trigger writes. A new track updated again in the same load (a
            // copy listed twice) got its row from the update trigger already.
            transaction.execute(
                "INSERT INTO tracks_fts(rowid, title, artist, album, album_artist, genre, composer)
                 SELECT id, CASE WHEN title = '' THEN sort_title ELSE title END,
                        artist, album, album_artist, genre, composer
                 FROM tracks
                 WHERE id >= ?1 AND id NOT IN (SELECT rowid FROM tracks_fts WHERE rowid >= ?1)
                 ORDER BY id",
                params![self.first_new_id],
            )?;
            transaction.execute_batch(trigger)?;
        }
        for (_, sql) in &self.indexes {
            transaction.execute_batch(sql)?;
        }
        Ok(())
    }
}

enum Upserted {
    NewTrack,
    Updated,
    Unchanged,
}

fn upsert_copy(transaction: &Transaction<'_>, copy: &LockerCopy, now: i64) -> Result<Upserted> {
    let sha256 = copy.id.to_ascii_lowercase();
    let tags = copy.file_tags();
    let file_name = copy.file_name.clone().unwrap_or_default();
    let derived = Derived::new(&tags, Path::new(&file_name));
    let existing: Option<(i64, bool, Option<i64>)> = transaction
        .prepare_cached(
            "SELECT t.id, EXISTS (SELECT 1 FROM local_files lf WHERE lf.track_id = t.id), t.cover_id
             FROM tracks t WHERE t.sha256 = ?1",
        )?
        .query_row(params![sha256], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let outcome = match existing {
        None => {
            let added_at = i64::try_from(copy.added_ms / 1000).unwrap_or(now);
            insert_track(transaction, &tags, &derived, None, added_at, Some(&sha256))?;
            Upserted::NewTrack
        }
        Some(_) if same_copy(transaction, copy, &sha256)? => return Ok(Upserted::Unchanged),
        Some((track_id, has_local_file, cover_id)) => {
            // A local file's own tags win; a track only in the locker follows the catalog
            // (edits made on another device).
            if !has_local_file {
                update_track(transaction, track_id, &tags, &derived, cover_id, false)?;
            }
            Upserted::Updated
        }
    };
    transaction
        .prepare_cached(
            "INSERT INTO locker_copies (locker_track_id, sha256, size, format, file_name, title, artist,
             album, album_artist, genre, year, track_no, disc_no, duration_ms, added_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (locker_track_id) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size,
             format = excluded.format, file_name = excluded.file_name, title = excluded.title,
             artist = excluded.artist, album = excluded.album, album_artist = excluded.album_artist,
             genre = excluded.genre, year = excluded.year, track_no = excluded.track_no,
             disc_no = excluded.disc_no, duration_ms = excluded.duration_ms, added_ms = excluded.added_ms",
        )?
        .execute(params![
            copy.id,
            sha256,
            copy.size,
            copy.format(),
            file_name,
            copy.title,
            copy.artist,
            copy.album,
            copy.album_artist,
            copy.genre,
            copy.year,
            copy.track_no,
            copy.disc_no,
            copy.duration_ms,
            copy.added_ms,
        ])?;
    Ok(outcome)
}

/// Whether the stored copy already says what `copy` says (a sync repeating what it reported).
fn same_copy(transaction: &Transaction<'_>, copy: &LockerCopy, sha256: &str) -> Result<bool> {
    let stored: Option<LockerCopy> = transaction
        .prepare_cached(
            "SELECT size, file_name, title, artist, album, album_artist, genre, year, track_no, disc_no,
                 duration_ms, added_ms
             FROM locker_copies WHERE sha256 = ?1",
        )?
        .query_row(params![sha256], |row| {
            let file_name: String = row.get(1)?;
            Ok(LockerCopy {
                id: copy.id.clone(),
                size: row.get(0)?,
                file_name: Some(file_name).filter(|name| !name.is_empty()),
                title: row.get(2)?,
                artist: row.get(3)?,
                album: row.get(4)?,
                album_artist: row.get(5)?,
                genre: row.get(6)?,
                year: row.get(7)?,
                track_no: row.get(8)?,
                disc_no: row.get(9)?,
                duration_ms: row.get(10)?,
                added_ms: row.get(11)?,
            })
        })
        .optional()?;
    Ok(stored.as_ref() == Some(copy))
}

/// Deletes one locker copy; returns the id of the track it belonged to.
fn remove_copy(transaction: &Transaction<'_>, locker_track_id: &str) -> Result<Option<i64>> {
    let track_id: Option<i64> = transaction
        .query_row(
            "SELECT t.id FROM locker_copies lc JOIN tracks t ON t.sha256 = lc.sha256
             WHERE lc.locker_track_id = ?1",
            params![locker_track_id],
            |r| r.get(0),
        )
        .optional()?;
    transaction.execute("DELETE FROM locker_copies WHERE locker_track_id = ?1", params![locker_track_id])?;
    Ok(track_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Copies as a catalog has them: missing titles and artists, diacritics, a leading "The",
    /// and the same track listed twice with different tags (an edit reported in the same sync).
    fn catalog(count: u64) -> Vec<LockerCopy> {
        let mut copies: Vec<LockerCopy> = (0..count)
            .map(|i| LockerCopy {
                id: format!("{:064x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
                size: 1_000 + i,
                file_name: (i % 5 != 0).then(|| format!("{i:04} Night Song.flac")),
                title: (i % 7 != 0).then(|| format!("Canción {i}")),
                artist: (i % 11 != 0)
                    .then(|| ["The Beatles", "Björk", "Sigur Rós"][i as usize % 3].to_owned()),
                album: Some(format!("Album {}", i / 10)),
                genre: (i % 2 == 0).then(|| "Rock".to_owned()),
                year: (i % 3 != 0).then_some(1960 + i as u32 % 60),
                track_no: Some(i as u32 % 12 + 1),
                duration_ms: Some(180_000 + i),
                added_ms: 1_700_000_000_000 + i * 1000,
                ..LockerCopy::default()
            })
            .collect();
        let mut edited = copies[3].clone();
        edited.title = Some("Renamed".to_owned());
        copies.push(edited);
        copies
    }

    /// Every row the index holds that a load writes, and the schema, as text.
    fn dump(library: &Library) -> Vec<String> {
        library
            .read(|db| {
                let mut rows = Vec::new();
                for sql in [
                    "SELECT * FROM tracks ORDER BY id",
                    "SELECT rowid, * FROM tracks_fts ORDER BY rowid",
                    "SELECT * FROM locker_copies ORDER BY locker_track_id",
                    "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
                ] {
                    let mut statement = db.prepare(sql)?;
                    let columns = statement.column_count();
                    let mut query = statement.query([])?;
                    while let Some(row) = query.next()? {
                        let values: Vec<String> = (0..columns)
                            .map(|at| row.get_ref(at).map(|value| format!("{value:?}")))
                            .collect::<rusqlite::Result<_>>()?;
                        rows.push(values.join("|"));
                    }
                }
                Ok(rows)
            })
            .unwrap()
    }

    #[test]
    fn a_bulk_load_gives_the_index_an_incremental_load_gives() {
        let dir = tempfile::tempdir().unwrap();
        let copies = catalog(400);
        let bulk = Library::open(dir.path().join("bulk.sqlite3")).unwrap();
        let applied = bulk.apply_locker_changes_with(&copies, &[], 1).unwrap();
        let incremental = Library::open(dir.path().join("incremental.sqlite3")).unwrap();
        let mut summed = LockerApplied::default();
        for chunk in copies.chunks(7) {
            let step = incremental.apply_locker_changes_with(chunk, &[], usize::MAX).unwrap();
            summed.added += step.added;
            summed.updated += step.updated;
        }
        assert_eq!((applied.added, applied.updated), (400, 1));
        assert_eq!(applied, summed);
        let (bulk_rows, incremental_rows) = (dump(&bulk), dump(&incremental));
        assert!(bulk_rows.len() > 3 * 400);
        assert_eq!(bulk_rows, incremental_rows);
        // The rebuilt indexes and the full-text rows written in one go are consistent with the
        // tables, and they answer queries.
        for library in [&bulk, &incremental] {
            // The full-text check is written as an INSERT, so it needs the writing connection.
            let db = library.writer();
            db.execute("INSERT INTO tracks_fts(tracks_fts) VALUES ('integrity-check')", []).unwrap();
            let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
            assert_eq!(check, "ok");
        }
        let found = |library: &Library, text: &str| -> Vec<i64> {
            library.search(text, 1000).unwrap().into_iter().map(|track| track.id).collect()
        };
        for text in ["cancion 12", "bjork", "renamed", "night song", "sigur"] {
            let hits = found(&bulk, text);
            assert!(!hits.is_empty(), "{text}");
            assert_eq!(hits, found(&incremental, text), "{text}");
        }

        // A second sync repeating the catalog as it ended (without the superseded copy)
        // changes nothing.
        let settled: Vec<LockerCopy> =
            copies.iter().enumerate().filter(|(at, _)| *at != 3).map(|(_, copy)| copy.clone()).collect();
        let again = bulk.apply_locker_changes_with(&settled, &[], 1).unwrap();
        assert!(!again.changed_anything());
        assert_eq!(dump(&bulk), incremental_rows);
    }

    #[test]
    fn formats_follow_the_format_table() {
        assert_eq!(format_from_name("a.MP3"), "mpeg");
        assert_eq!(format_from_name("b.flac"), "flac");
        assert_eq!(format_from_name("c.m4a"), "mp4");
        assert_eq!(format_from_name("d.ogg"), "vorbis");
        assert_eq!(format_from_name("e.opus"), "opus");
        assert_eq!(format_from_name("f"), "unknown");
        assert_eq!(format_from_name("g.wv"), "wavpack");
        assert_eq!(format_from_name("h.XM"), "xm");
    }

    #[test]
    fn source_filters_parse() {
        assert_eq!("locker".parse::<SourceFilter>().unwrap(), SourceFilter::Locker);
        assert_eq!("this-computer".parse::<SourceFilter>().unwrap(), SourceFilter::Local);
        assert_eq!("all".parse::<SourceFilter>().unwrap(), SourceFilter::All);
        assert!("cloudy".parse::<SourceFilter>().is_err());
    }
}
