//! The background hasher: the SHA-256 of every local file, the key that later merges a local
//! file with its locker copy. It works at a capped rate, steps aside while a scan runs, and
//! resumes after a restart with whatever tracks still have no hash.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::{HashReport, Library, paths};

const CHUNK: usize = 256 * 1024;
const BATCH: i64 = 64;
/// How long the background hasher rests when there is nothing to hash.
const IDLE_POLL: Duration = Duration::from_secs(10);

/// How fast hashing may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashPace {
    pub max_bytes_per_second: Option<u64>,
}

impl HashPace {
    /// As fast as the disk and one core allow; for tests and tools.
    pub const UNLIMITED: HashPace = HashPace { max_bytes_per_second: None };
    /// Gentle enough to leave the disk and the CPU to playback and scanning.
    pub const BACKGROUND: HashPace = HashPace { max_bytes_per_second: Some(24 * 1024 * 1024) };
}

/// The running background hasher. Dropping it stops it (within one chunk).
pub struct Hasher {
    stop: Arc<AtomicBool>,
    wake: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher").finish_non_exhaustive()
    }
}

impl Hasher {
    /// Looks for unhashed files now instead of at the next poll (after a scan, say).
    pub fn nudge(&self) {
        let (flag, condvar) = &*self.wake;
        *flag.lock().unwrap_or_else(|p| p.into_inner()) = true;
        condvar.notify_all();
    }
}

impl Drop for Hasher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.nudge();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the library hasher thread panicked");
        }
    }
}

pub(crate) enum Hashed {
    Digest(String),
    Stopped,
}

impl Library {
    /// Starts hashing in the background; `on_progress` hears after each pass that did work.
    pub fn start_hasher(&self, pace: HashPace, on_progress: impl Fn(HashReport) + Send + 'static) -> Hasher {
        let stop = Arc::new(AtomicBool::new(false));
        let wake = Arc::new((Mutex::new(false), Condvar::new()));
        let library = self.clone();
        let (thread_stop, thread_wake) = (stop.clone(), wake.clone());
        let thread = std::thread::Builder::new()
            .name("loft-library-hash".to_owned())
            .spawn(move || {
                while !thread_stop.load(Ordering::SeqCst) {
                    match library.hash_pending(pace, &thread_stop) {
                        Ok(report) if report.hashed + report.merged + report.failed > 0 => {
                            on_progress(report)
                        }
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "background hashing failed"),
                    }
                    let (flag, condvar) = &*thread_wake;
                    let mut woken = flag.lock().unwrap_or_else(|p| p.into_inner());
                    if !*woken && !thread_stop.load(Ordering::SeqCst) {
                        woken = condvar.wait_timeout(woken, IDLE_POLL).unwrap_or_else(|p| p.into_inner()).0;
                    }
                    *woken = false;
                }
            })
            .map_err(|error| tracing::error!(%error, "cannot start the library hasher"))
            .ok();
        Hasher { stop, wake, thread }
    }

    /// Hashes every local file whose track has no SHA-256 yet, until done or `stop` is set.
    /// A track whose content turns out identical to another's is merged into it (play counts
    /// add up), so each piece of music is one track.
    pub fn hash_pending(&self, pace: HashPace, stop: &AtomicBool) -> Result<HashReport> {
        let mut report = HashReport::default();
        let mut after_id = 0i64;
        loop {
            let batch: Vec<(i64, i64, Vec<u8>, u64, i64)> = self.read(|db| {
                let mut statement = db.prepare_cached(
                    "SELECT lf.id, lf.track_id, lf.path, lf.size, lf.mtime_ns
                     FROM local_files lf JOIN tracks t ON t.id = lf.track_id
                     WHERE t.sha256 IS NULL AND lf.id > ?1
                     ORDER BY lf.id LIMIT ?2",
                )?;
                let rows = statement.query_map(params![after_id, BATCH], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })?;
            if batch.is_empty() {
                return Ok(report);
            }
            for (file_id, track_id, path, size, mtime_ns) in batch {
                after_id = file_id;
                let path = paths::from_bytes(&path);
                match self.hash_file(&path, pace, stop) {
                    Ok(Hashed::Stopped) => return Ok(report),
                    Ok(Hashed::Digest(digest)) => {
                        if !unchanged_since_scan(&path, size, mtime_ns) {
                            // Changed while we read it: the next scan reads it again.
                            continue;
                        }
                        if self.store_hash(file_id, track_id, &digest)? {
                            report.merged += 1;
                        } else {
                            report.hashed += 1;
                        }
                    }
                    Err(error) => {
                        tracing::debug!(path = %path.display(), %error, "cannot hash");
                        report.failed += 1;
                    }
                }
            }
        }
    }

    /// Hashes, right away, the unhashed local files that may be copies of tracks that are only
    /// in the locker (same size), so a file uploaded from another device shows as one track
    /// as soon as a sync brings it, without waiting for the background hasher.
    pub fn hash_locker_twins(&self) -> Result<HashReport> {
        let candidates: Vec<(i64, i64, Vec<u8>, u64, i64)> = self.read(|db| {
            let mut statement = db.prepare_cached(
                "SELECT lf.id, lf.track_id, lf.path, lf.size, lf.mtime_ns
                 FROM local_files lf JOIN tracks t ON t.id = lf.track_id
                 WHERE t.sha256 IS NULL AND lf.size IN (
                     SELECT lc.size FROM locker_copies lc JOIN tracks lt ON lt.sha256 = lc.sha256
                     WHERE NOT EXISTS (SELECT 1 FROM local_files o WHERE o.track_id = lt.id))
                 ORDER BY lf.id",
            )?;
            let rows =
                statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        let mut report = HashReport::default();
        let never = AtomicBool::new(false);
        for (file_id, track_id, path, size, mtime_ns) in candidates {
            let path = paths::from_bytes(&path);
            match self.hash_file(&path, HashPace::UNLIMITED, &never) {
                Ok(Hashed::Digest(digest)) if unchanged_since_scan(&path, size, mtime_ns) => {
                    if self.store_hash(file_id, track_id, &digest)? {
                        report.merged += 1;
                    } else {
                        report.hashed += 1;
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::debug!(path = %path.display(), %error, "cannot hash");
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    /// Records the SHA-256 of a local file that was hashed elsewhere (by an upload to the
    /// locker), merging its track with the locker's copy. Does nothing for a file the index
    /// does not know, or one that changed since the last scan. Returns whether it merged.
    pub fn record_file_hash(&self, path: &Path, sha256: &str) -> Result<bool> {
        let known: Option<(i64, i64, u64, i64, Option<String>)> = self.read(|db| {
            Ok(db
                .prepare_cached(
                    "SELECT lf.id, lf.track_id, lf.size, lf.mtime_ns, t.sha256
                     FROM local_files lf JOIN tracks t ON t.id = lf.track_id WHERE lf.path = ?1",
                )?
                .query_row(params![paths::to_bytes(path)], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()?)
        })?;
        match known {
            Some((file_id, track_id, size, mtime_ns, None)) if unchanged_since_scan(path, size, mtime_ns) => {
                self.store_hash(file_id, track_id, sha256)
            }
            _ => Ok(false),
        }
    }

    pub(crate) fn hash_file(
        &self,
        path: &Path,
        pace: HashPace,
        stop: &AtomicBool,
    ) -> std::io::Result<Hashed> {
        let mut file = File::open(path)?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; CHUNK];
        let started = Instant::now();
        let mut total: u64 = 0;
        loop {
            // Scans come first: wait for them, checking now and then whether to give up.
            while self.inner.scans_running.load(Ordering::SeqCst) > 0 {
                if stop.load(Ordering::SeqCst) {
                    return Ok(Hashed::Stopped);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if stop.load(Ordering::SeqCst) {
                return Ok(Hashed::Stopped);
            }
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
            total += read as u64;
            if let Some(rate) = pace.max_bytes_per_second.filter(|r| *r > 0) {
                let due = Duration::from_secs_f64(total as f64 / rate as f64);
                if let Some(ahead) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(ahead);
                }
            }
        }
        Ok(Hashed::Digest(hex(&hasher.finalize())))
    }

    /// Records the hash of one file's track; returns whether the track was merged into another.
    pub(crate) fn store_hash(&self, file_id: i64, track_id: i64, digest: &str) -> Result<bool> {
        let mut writer = self.writer();
        let transaction = writer.transaction()?;
        let twin: Option<i64> = transaction
            .query_row(
                "SELECT id FROM tracks WHERE sha256 = ?1 AND id != ?2",
                params![digest, track_id],
                |r| r.get(0),
            )
            .optional()?;
        let merged = if let Some(twin) = twin {
            let twin_is_local: bool = transaction.query_row(
                "SELECT EXISTS (SELECT 1 FROM local_files WHERE track_id = ?1)",
                params![twin],
                |r| r.get(0),
            )?;
            if !twin_is_local {
                // The twin is only in the locker: the file's own tags (read from it, with its
                // cover and audio properties) replace what the catalog had.
                transaction.execute(
                    &format!(
                        "UPDATE tracks SET ({TAG_COLUMNS}) = (SELECT {TAG_COLUMNS} FROM tracks WHERE id = ?2),
                             added_at = MIN(added_at, (SELECT added_at FROM tracks WHERE id = ?2))
                         WHERE id = ?1"
                    ),
                    params![twin, track_id],
                )?;
            }
            transaction
                .execute("UPDATE local_files SET track_id = ?1 WHERE id = ?2", params![twin, file_id])?;
            let left: i64 = transaction.query_row(
                "SELECT COUNT(*) FROM local_files WHERE track_id = ?1",
                params![track_id],
                |r| r.get(0),
            )?;
            if left == 0 {
                transaction.execute(
                    "UPDATE tracks SET play_count = play_count + (SELECT play_count FROM tracks WHERE id = ?2)
                     WHERE id = ?1",
                    params![twin, track_id],
                )?;
                transaction.execute("DELETE FROM tracks WHERE id = ?1", params![track_id])?;
            }
            true
        } else {
            transaction.execute(
                "UPDATE tracks SET sha256 = ?2 WHERE id = ?1 AND sha256 IS NULL",
                params![track_id, digest],
            )?;
            false
        };
        transaction.commit()?;
        Ok(merged)
    }
}

/// The columns a file's tags fill (everything but identity, hash and play history).
const TAG_COLUMNS: &str = "title, artist, artists, album, album_artist, track_no, track_total, disc_no,
    disc_total, year, date, genre, composer, duration_ms, sample_rate, channels, bit_depth, bitrate_kbps,
    rg_track_gain, rg_track_peak, rg_album_gain, rg_album_peak, mb_recording_id, mb_track_id,
    mb_release_id, mb_artist_id, mb_release_artist_id, compilation, format, cover_id, group_artist,
    sort_title, sort_artist, sort_album, sort_group_artist, sort_genre";

pub(crate) fn unchanged_since_scan(path: &Path, size: u64, mtime_ns: i64) -> bool {
    let Ok(metadata) = std::fs::metadata(path) else { return false };
    let modified = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    metadata.len() == size && modified == mtime_ns
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
