//! Listening state — plays, hearts, ratings, resume positions — kept by content (SHA-256), so
//! it follows a song from one copy to another and from one device to another.
//!
//! Everything the user does is recorded here at once. With a locker, the catalog merges the
//! same state over every device (plays add up, the last heart wins); what a sync brings is
//! applied with [`Library::apply_listening`], and this device's own plays (the part it adds) are
//! kept apart so they can be given to a locker connected later.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::error::{LibraryError, Result};
use crate::query::TRACK_COLUMNS;
use crate::{Library, Track};

/// The merged listening state of one song.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listening {
    pub sha256: String,
    pub play_count: u64,
    pub last_played_ms: Option<u64>,
    pub loved: bool,
    /// 0 to 5, or none.
    pub rating: Option<u8>,
    pub resume_ms: Option<u64>,
}

/// This device's own plays of one song, for a locker that has not counted them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnPlays {
    pub sha256: String,
    pub plays: u64,
    pub last_played_ms: Option<u64>,
}

impl Library {
    /// The content hash of a track, hashing its local file now if the background hasher has not.
    fn listening_key(&self, track_id: i64) -> Result<String> {
        self.content_hashes(&[track_id])?.pop().flatten().ok_or_else(|| {
            LibraryError::InvalidInput(format!(
                "track {track_id} has no file to read its content from, so it cannot be counted"
            ))
        })
    }

    /// Counts one play of a track on this device at `at_ms` (milliseconds since the epoch).
    /// Returns the track's content hash, the key the locker's catalog counts it under.
    pub fn record_play(&self, track_id: i64, at_ms: u64) -> Result<String> {
        let sha256 = self.listening_key(track_id)?;
        let at = i64::try_from(at_ms).unwrap_or(i64::MAX);
        self.writer().execute(
            "INSERT INTO listening (sha256, play_count, own_plays, last_played_ms) VALUES (?1, 1, 1, ?2)
             ON CONFLICT(sha256) DO UPDATE SET play_count = play_count + 1, own_plays = own_plays + 1,
                 last_played_ms = MAX(COALESCE(last_played_ms, 0), ?2)",
            params![sha256, at],
        )?;
        Ok(sha256)
    }

    /// Loves a track (a heart), or takes the heart back. Returns its content hash.
    pub fn set_loved(&self, track_id: i64, loved: bool) -> Result<String> {
        let sha256 = self.listening_key(track_id)?;
        self.writer().execute(
            "INSERT INTO listening (sha256, loved) VALUES (?1, ?2)
             ON CONFLICT(sha256) DO UPDATE SET loved = ?2",
            params![sha256, loved],
        )?;
        Ok(sha256)
    }

    /// Rates a track 0 to 5, or clears the rating. Returns its content hash.
    pub fn set_rating(&self, track_id: i64, rating: Option<u8>) -> Result<String> {
        if rating.is_some_and(|rating| rating > 5) {
            return Err(LibraryError::InvalidInput("a rating is 0 to 5 stars".into()));
        }
        let sha256 = self.listening_key(track_id)?;
        self.writer().execute(
            "INSERT INTO listening (sha256, rating) VALUES (?1, ?2)
             ON CONFLICT(sha256) DO UPDATE SET rating = ?2",
            params![sha256, rating],
        )?;
        Ok(sha256)
    }

    /// Keeps where a long track was left (0: play it from the start next time). Returns its
    /// content hash.
    pub fn set_resume(&self, track_id: i64, position_ms: u64) -> Result<String> {
        let sha256 = self.listening_key(track_id)?;
        let position = (position_ms > 0).then(|| i64::try_from(position_ms).unwrap_or(i64::MAX));
        self.writer().execute(
            "INSERT INTO listening (sha256, resume_ms) VALUES (?1, ?2)
             ON CONFLICT(sha256) DO UPDATE SET resume_ms = ?2",
            params![sha256, position],
        )?;
        Ok(sha256)
    }

    /// The listening state of a song, by content hash.
    pub fn listening(&self, sha256: &str) -> Result<Option<Listening>> {
        self.read(|db| {
            Ok(db
                .prepare_cached(
                    "SELECT sha256, play_count, last_played_ms, loved, rating, resume_ms FROM listening
                     WHERE sha256 = ?1",
                )?
                .query_row(params![sha256], |row| {
                    Ok(Listening {
                        sha256: row.get(0)?,
                        play_count: row.get(1)?,
                        last_played_ms: row.get(2)?,
                        loved: row.get(3)?,
                        rating: row.get(4)?,
                        resume_ms: row.get(5)?,
                    })
                })
                .optional()?)
        })
    }

    /// Sets the state a locker sync merged over every device (this device's own plays are part
    /// of the merged count, so the local count is replaced, not added to). Returns how many songs
    /// changed.
    pub fn apply_listening(&self, merged: &[Listening]) -> Result<u64> {
        let mut writer = self.writer();
        let transaction = writer.transaction()?;
        let mut changed = 0;
        {
            let mut upsert = transaction.prepare_cached(
                "INSERT INTO listening (sha256, play_count, last_played_ms, loved, rating, resume_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(sha256) DO UPDATE SET play_count = ?2, last_played_ms = ?3, loved = ?4,
                     rating = ?5, resume_ms = ?6
                 WHERE (play_count, last_played_ms, loved, rating, resume_ms) IS NOT (?2, ?3, ?4, ?5, ?6)",
            )?;
            for state in merged {
                let clamp = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
                changed += upsert.execute(params![
                    state.sha256,
                    clamp(state.play_count),
                    state.last_played_ms.map(clamp),
                    state.loved,
                    state.rating.filter(|rating| *rating <= 5),
                    state.resume_ms.map(clamp),
                ])? as u64;
            }
        }
        transaction.commit()?;
        Ok(changed)
    }

    /// This device's own plays, for giving to a locker connected after they were counted.
    pub fn own_plays(&self) -> Result<Vec<OwnPlays>> {
        self.read(|db| {
            let mut statement = db.prepare_cached(
                "SELECT sha256, own_plays, last_played_ms FROM listening WHERE own_plays > 0 ORDER BY sha256",
            )?;
            let rows = statement.query_map([], |row| {
                Ok(OwnPlays { sha256: row.get(0)?, plays: row.get(1)?, last_played_ms: row.get(2)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Every song's listening state that says anything (for giving to a newly connected locker).
    pub fn all_listening(&self) -> Result<Vec<Listening>> {
        self.read(|db| {
            let mut statement = db.prepare_cached(
                "SELECT sha256, play_count, last_played_ms, loved, rating, resume_ms FROM listening
                 ORDER BY sha256",
            )?;
            let rows = statement.query_map([], |row| {
                Ok(Listening {
                    sha256: row.get(0)?,
                    play_count: row.get(1)?,
                    last_played_ms: row.get(2)?,
                    loved: row.get(3)?,
                    rating: row.get(4)?,
                    resume_ms: row.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// The tracks played most recently, latest first.
    pub fn history(&self, limit: u64) -> Result<Vec<Track>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|db| {
            let sql = format!(
                "SELECT {TRACK_COLUMNS} FROM tracks t WHERE t.last_played_ms IS NOT NULL
                 ORDER BY t.last_played_ms DESC, t.id LIMIT ?1"
            );
            let mut statement = db.prepare_cached(&sql)?;
            let rows = statement.query_map(params![limit], crate::query::track_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}
