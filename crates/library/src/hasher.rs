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

enum Hashed {
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

    fn hash_file(&self, path: &Path, pace: HashPace, stop: &AtomicBool) -> std::io::Result<Hashed> {
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
    fn store_hash(&self, file_id: i64, track_id: i64, digest: &str) -> Result<bool> {
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

fn unchanged_since_scan(path: &Path, size: u64, mtime_ns: i64) -> bool {
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
