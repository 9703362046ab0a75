//! The locker's copies of tracks in the index. A copy refers to its track by SHA-256, so a
//! file that is on disk and in the locker is one track; a track only in the locker gets its
//! tags from the locker's catalog and has no path.

use std::path::Path;

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::error::Result;
use crate::folders::{prune_covers, prune_orphans_among};
use crate::scan::{Derived, insert_track, update_track};
use crate::tags::FileTags;
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

/// The format name the index uses (lofty's), guessed from an uploaded file's extension.
pub(crate) fn format_from_name(file_name: &str) -> String {
    let extension = Path::new(file_name)
        .extension()
        .map(|ext| ext.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "mp3" | "mp2" | "mpga" => "mpeg",
        "m4a" | "m4b" | "mp4" | "alac" => "mp4",
        "ogg" | "oga" => "vorbis",
        "aif" | "aiff" | "aifc" => "aiff",
        "wv" => "wavpack",
        "" => "unknown",
        other => other,
    }
    .to_owned()
}

impl LockerCopy {
    /// The tags a track that is only in the locker shows.
    fn file_tags(&self) -> FileTags {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let artist = text(&self.artist);
        FileTags {
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
            ..FileTags::default()
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
        let mut writer = self.writer();
        let transaction = writer.transaction()?;
        let mut applied = LockerApplied::default();
        let now = now_seconds();
        for copy in changed {
            match upsert_copy(&transaction, copy, now)? {
                Upserted::NewTrack => applied.added += 1,
                Upserted::Updated => applied.updated += 1,
                Upserted::Unchanged => {}
            }
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

    #[test]
    fn formats_follow_lofty_names() {
        assert_eq!(format_from_name("a.MP3"), "mpeg");
        assert_eq!(format_from_name("b.flac"), "flac");
        assert_eq!(format_from_name("c.m4a"), "mp4");
        assert_eq!(format_from_name("d.ogg"), "vorbis");
        assert_eq!(format_from_name("e.opus"), "opus");
        assert_eq!(format_from_name("f"), "unknown");
    }

    #[test]
    fn source_filters_parse() {
        assert_eq!("locker".parse::<SourceFilter>().unwrap(), SourceFilter::Locker);
        assert_eq!("this-computer".parse::<SourceFilter>().unwrap(), SourceFilter::Local);
        assert_eq!("all".parse::<SourceFilter>().unwrap(), SourceFilter::All);
        assert!("cloudy".parse::<SourceFilter>().is_err());
    }
}
