//! The offline cache of locker audio: every byte fetched while streaming or downloading is
//! written, as it arrives, into a sparse file per blob, next to a small record of the byte
//! ranges present. The record is rewritten after each write, so a restart finds a partial
//! entry where it was left and completes it instead of starting over. A complete file is
//! checked against its SHA-256 before it counts; a mismatch is thrown away and fetched again.
//!
//! Entries not pinned are evicted, least recently played first, to stay under the size cap.
//! Everything here is blocking file I/O: it runs on the decoder thread or a fetch thread,
//! never on an async worker.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::wall_clock_ms;
use crate::error::{LockerError, Result};
use crate::format::{self, BlobManifest};
use crate::upload::hex;

/// Where one blob stands in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CacheState {
    None,
    /// Some bytes are cached; the rest comes from the locker when played.
    Partial {
        bytes: u64,
        size: u64,
    },
    /// The whole file is cached and matched its hash.
    Complete {
        size: u64,
    },
    /// Kept for offline use and never evicted; `bytes` of `size` are downloaded so far.
    Pinned {
        bytes: u64,
        size: u64,
        complete: bool,
    },
}

/// Totals for `loft cache status` and the settings page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct CacheSummary {
    pub limit_bytes: u64,
    pub used_bytes: u64,
    pub entries: usize,
    pub complete: usize,
    pub pinned: usize,
    pub pinned_bytes: u64,
}

/// The persisted record of one entry: `<sha256>.json` next to the data file `<sha256>.audio`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct EntryRecord {
    manifest: BlobManifest,
    /// Sorted, disjoint, non-adjacent half-open byte ranges present in the data file.
    ranges: Vec<(u64, u64)>,
    complete: bool,
    pinned: bool,
    last_played_ms: u64,
    /// Parts whose bytes were checked against the manifest's hash.
    #[serde(default)]
    verified_parts: std::collections::BTreeSet<u64>,
}

impl EntryRecord {
    fn present_bytes(&self) -> u64 {
        self.ranges.iter().map(|(start, end)| end - start).sum()
    }

    fn insert(&mut self, start: u64, end: u64) {
        insert_range(&mut self.ranges, start, end);
    }
}

fn insert_range(ranges: &mut Vec<(u64, u64)>, start: u64, end: u64) {
    if start >= end {
        return;
    }
    let (mut start, mut end) = (start, end);
    let mut kept = Vec::with_capacity(ranges.len() + 1);
    for &(s, e) in ranges.iter() {
        if e < start || s > end {
            kept.push((s, e));
        } else {
            start = start.min(s);
            end = end.max(e);
        }
    }
    kept.push((start, end));
    kept.sort_unstable();
    *ranges = kept;
}

/// Takes `start..end` out of the ranges present.
fn remove_range(ranges: &mut Vec<(u64, u64)>, start: u64, end: u64) {
    let mut kept = Vec::with_capacity(ranges.len() + 1);
    for &(s, e) in ranges.iter() {
        if e <= start || s >= end {
            kept.push((s, e));
            continue;
        }
        if s < start {
            kept.push((s, start));
        }
        if e > end {
            kept.push((end, e));
        }
    }
    *ranges = kept;
}

/// Bytes present from `offset` on without a gap.
fn contiguous_from(ranges: &[(u64, u64)], offset: u64) -> u64 {
    ranges.iter().find(|(s, e)| *s <= offset && offset < *e).map_or(0, |(_, e)| e - offset)
}

/// The first missing range inside `from..to`, at most `max_len` long.
fn first_gap(ranges: &[(u64, u64)], from: u64, to: u64, max_len: u64) -> Option<(u64, u64)> {
    let mut cursor = from;
    for &(s, e) in ranges {
        if e <= cursor {
            continue;
        }
        if s > cursor {
            break;
        }
        cursor = e;
    }
    if cursor >= to {
        return None;
    }
    let gap_end = ranges.iter().map(|&(s, _)| s).find(|&s| s > cursor).unwrap_or(u64::MAX).min(to);
    Some((cursor, gap_end.min(cursor + max_len.max(1))))
}

pub(crate) struct Entry {
    pub(crate) sha256: String,
    pub(crate) data_path: PathBuf,
    record_path: PathBuf,
    state: Mutex<EntryState>,
    /// Signalled whenever bytes arrive or the entry is reset.
    arrived: Condvar,
}

struct EntryState {
    record: EntryRecord,
    /// Streams and downloads holding the entry; an entry in use is never evicted.
    users: usize,
    /// Completed copies that did not match the hash; after two the locker's copy is bad.
    failed_checks: u32,
}

impl Entry {
    fn lock(&self) -> MutexGuard<'_, EntryState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn manifest(&self) -> BlobManifest {
        self.lock().record.manifest.clone()
    }

    pub(crate) fn size(&self) -> u64 {
        self.lock().record.manifest.size
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.lock().record.complete
    }

    pub(crate) fn is_corrupt(&self) -> bool {
        self.lock().failed_checks >= 2
    }

    /// Whether a part or the whole file failed a hash check since this run opened the entry.
    pub(crate) fn has_failed_checks(&self) -> bool {
        self.lock().failed_checks > 0
    }

    /// Waits up to `timeout` for bytes to arrive or the entry to be reset.
    pub(crate) fn wait_for_change(&self, timeout: Duration) {
        let state = self.lock();
        let _ = self.arrived.wait_timeout(state, timeout);
    }

    pub(crate) fn present_bytes(&self) -> u64 {
        self.lock().record.present_bytes()
    }

    pub(crate) fn first_gap(&self, from: u64, to: u64, max_len: u64) -> Option<(u64, u64)> {
        let state = self.lock();
        let to = to.min(state.record.manifest.size);
        if from >= to {
            return None;
        }
        first_gap(&state.record.ranges, from, to, max_len)
    }

    /// Waits up to `timeout` until bytes at `offset` are present; returns how many follow it
    /// contiguously (0 when none arrived in time).
    pub(crate) fn wait_for(&self, offset: u64, timeout: Duration) -> u64 {
        let state = self.lock();
        let available = contiguous_from(&state.record.ranges, offset);
        if available > 0 {
            return available;
        }
        let (state, _) =
            self.arrived.wait_timeout(state, timeout).unwrap_or_else(|poisoned| poisoned.into_inner());
        contiguous_from(&state.record.ranges, offset)
    }

    /// Stores bytes fetched from the locker at `offset`, records them, and once the file is
    /// whole checks it against the hash: kept if it matches, reset and fetched again if not.
    pub(crate) fn write_at(&self, offset: u64, data: &[u8]) -> Result<()> {
        let io = |error| {
            LockerError::io(format!("cannot write the cache file {}", self.data_path.display()), error)
        };
        {
            let mut file = std::fs::OpenOptions::new().write(true).open(&self.data_path).map_err(io)?;
            file.seek(SeekFrom::Start(offset)).map_err(io)?;
            file.write_all(data).map_err(io)?;
        }
        let end = offset + data.len() as u64;
        let finished_parts = {
            let mut state = self.lock();
            state.record.insert(offset, end);
            let record = &state.record;
            let part_size = record.manifest.part_size.max(1);
            let last = end.saturating_sub(1) / part_size;
            (offset / part_size..=last)
                .filter(|index| !record.verified_parts.contains(index))
                .filter(|index| {
                    let start = index * part_size;
                    contiguous_from(&record.ranges, start) >= record.manifest.part_len(*index)
                })
                .collect::<Vec<u64>>()
        };
        // Each part is checked against the manifest as soon as it is whole, so a damaged part is
        // fetched again at once (and a part damaged in the locker itself fails the stream after
        // two tries) instead of only when the whole file is in.
        for index in finished_parts {
            let (start, length, expected) = {
                let state = self.lock();
                let manifest = &state.record.manifest;
                (
                    index * manifest.part_size,
                    manifest.part_len(index),
                    manifest.parts.get(index as usize).cloned(),
                )
            };
            let matches = expected.is_some_and(|expected| {
                range_sha256(&self.data_path, start, length).is_ok_and(|found| found == expected)
            });
            let mut state = self.lock();
            if matches {
                state.record.verified_parts.insert(index);
            } else {
                tracing::warn!(blob = %self.sha256, part = index, "a fetched part does not match its hash; fetching it again");
                remove_range(&mut state.record.ranges, start, start + length);
                state.failed_checks += 1;
            }
        }
        let whole = {
            let state = self.lock();
            !state.record.complete && state.record.present_bytes() >= state.record.manifest.size
        };
        if whole {
            let matches = file_sha256(&self.data_path).map_err(io)? == self.sha256;
            let mut state = self.lock();
            if matches {
                state.record.complete = true;
            } else {
                tracing::warn!(blob = %self.sha256, "cached copy does not match its hash; fetching it again");
                state.record.ranges.clear();
                state.record.verified_parts.clear();
                state.failed_checks += 1;
            }
        }
        self.persist()?;
        self.arrived.notify_all();
        Ok(())
    }

    /// Wakes readers waiting for bytes, so they notice a fetch that failed for good.
    pub(crate) fn wake_readers(&self) {
        self.arrived.notify_all();
    }

    fn persist(&self) -> Result<()> {
        let record = self.lock().record.clone();
        let bytes = serde_json::to_vec(&record).expect("cache records serialize to JSON");
        let staging = self.record_path.with_extension("json.tmp");
        std::fs::write(&staging, bytes).and_then(|()| std::fs::rename(&staging, &self.record_path)).map_err(
            |error| {
                LockerError::io(
                    format!("cannot write the cache record {}", self.record_path.display()),
                    error,
                )
            },
        )
    }

    fn state_for_user(&self) -> CacheState {
        let state = self.lock();
        let record = &state.record;
        let (bytes, size) = (record.present_bytes(), record.manifest.size);
        match (record.pinned, record.complete) {
            (true, complete) => CacheState::Pinned { bytes, size, complete },
            (false, true) => CacheState::Complete { size },
            (false, false) if bytes > 0 => CacheState::Partial { bytes, size },
            (false, false) => CacheState::None,
        }
    }
}

/// The SHA-256 of `length` bytes of a file from `start`.
fn range_sha256(path: &Path, start: u64, length: u64) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(start))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut left = length;
    while left > 0 {
        let want = buffer.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let read = file.read(&mut buffer[..want])?;
        if read == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        }
        hasher.update(&buffer[..read]);
        left -= read as u64;
    }
    Ok(hex(&hasher.finalize()))
}

fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Keeps an entry from being evicted while a stream or download uses it.
pub(crate) struct EntryUse {
    pub(crate) entry: Arc<Entry>,
    cache: OfflineCache,
}

impl EntryUse {
    /// A second hold on the same entry (a stream and its fetch thread each keep one).
    pub(crate) fn another(&self) -> EntryUse {
        self.entry.lock().users += 1;
        EntryUse { entry: self.entry.clone(), cache: self.cache.clone() }
    }
}

impl Drop for EntryUse {
    fn drop(&mut self) {
        self.entry.lock().users -= 1;
        self.cache.enforce_limit();
    }
}

/// The offline cache in one folder (the profile's cache dir). Cheap to clone; clones share
/// one state, and one process should open a folder only once.
#[derive(Clone)]
pub struct OfflineCache {
    inner: Arc<CacheInner>,
}

struct CacheInner {
    dir: PathBuf,
    limit: AtomicU64,
    entries: Mutex<HashMap<String, Arc<Entry>>>,
    /// Whether the last request to the locker worked, as seen by the fetchers.
    reachable: AtomicBool,
}

impl OfflineCache {
    /// Opens the cache in `dir`, picking up the entries a previous run left.
    pub fn open(dir: &Path, limit_bytes: u64) -> Result<OfflineCache> {
        std::fs::create_dir_all(dir).map_err(|error| {
            LockerError::io(format!("cannot create the cache folder {}", dir.display()), error)
        })?;
        let mut entries = HashMap::new();
        let listing = std::fs::read_dir(dir).map_err(|error| {
            LockerError::io(format!("cannot read the cache folder {}", dir.display()), error)
        })?;
        let mut data_files = Vec::new();
        for item in listing.flatten() {
            let path = item.path();
            let name = item.file_name().to_string_lossy().into_owned();
            // Left by a run killed while it rewrote a record.
            if name.ends_with(".json.tmp") {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            if let Some(sha256) = name.strip_suffix(".audio") {
                data_files.push((sha256.to_owned(), path));
                continue;
            }
            let Some(sha256) = path
                .file_name()
                .and_then(|name| name.to_str())
                .and_then(|name| name.strip_suffix(".json"))
                .filter(|name| format::is_sha256_hex(name))
                .map(str::to_owned)
            else {
                continue;
            };
            let data_path = dir.join(format!("{sha256}.audio"));
            let record = std::fs::read(&path)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<EntryRecord>(&bytes).ok());
            match record {
                Some(record) if data_path.is_file() && record.manifest.validate(&sha256).is_ok() => {
                    entries.insert(sha256.clone(), Arc::new(new_entry(dir, &sha256, record)));
                }
                // A record without its data (or one that does not parse) is worth nothing.
                _ => {
                    let _ = std::fs::remove_file(&path);
                    let _ = std::fs::remove_file(&data_path);
                }
            }
        }
        // A data file without a record (its record was removed first, then the run died) holds
        // bytes nothing can vouch for.
        for (sha256, path) in data_files {
            if !entries.contains_key(&sha256) {
                let _ = std::fs::remove_file(path);
            }
        }
        let cache = OfflineCache {
            inner: Arc::new(CacheInner {
                dir: dir.to_owned(),
                limit: AtomicU64::new(limit_bytes),
                entries: Mutex::new(entries),
                reachable: AtomicBool::new(true),
            }),
        };
        cache.enforce_limit();
        Ok(cache)
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<String, Arc<Entry>>> {
        self.inner.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn limit(&self) -> u64 {
        self.inner.limit.load(Ordering::Relaxed)
    }

    /// Changes the cap and evicts at once what no longer fits.
    pub fn set_limit(&self, limit_bytes: u64) {
        self.inner.limit.store(limit_bytes, Ordering::Relaxed);
        self.enforce_limit();
    }

    /// Whether the locker answered the last request a fetcher made.
    pub fn locker_reachable(&self) -> bool {
        self.inner.reachable.load(Ordering::Relaxed)
    }

    /// Records whether the locker answered: the fetchers do after each request, and the
    /// service does when its own probe (a sync) finds the locker back or gone.
    pub fn note_reachable(&self, reachable: bool) {
        self.inner.reachable.store(reachable, Ordering::Relaxed);
    }

    pub fn state(&self, sha256: &str) -> CacheState {
        self.entries().get(sha256).map_or(CacheState::None, |entry| entry.state_for_user())
    }

    /// Every entry and its state, for mirroring into the library's index.
    pub fn states(&self) -> Vec<(String, CacheState)> {
        let entries: Vec<(String, Arc<Entry>)> =
            self.entries().iter().map(|(sha256, entry)| (sha256.clone(), entry.clone())).collect();
        entries.into_iter().map(|(sha256, entry)| (sha256, entry.state_for_user())).collect()
    }

    /// The path of a complete, verified copy, for playing it like a local file.
    pub fn complete_file(&self, sha256: &str) -> Option<PathBuf> {
        let entry = self.entries().get(sha256).cloned()?;
        entry.is_complete().then(|| entry.data_path.clone())
    }

    pub fn summary(&self) -> CacheSummary {
        let entries: Vec<Arc<Entry>> = self.entries().values().cloned().collect();
        let mut summary = CacheSummary {
            limit_bytes: self.limit(),
            used_bytes: 0,
            entries: entries.len(),
            complete: 0,
            pinned: 0,
            pinned_bytes: 0,
        };
        for entry in entries {
            let state = entry.lock();
            let bytes = state.record.present_bytes();
            summary.used_bytes += bytes;
            summary.complete += usize::from(state.record.complete);
            if state.record.pinned {
                summary.pinned += 1;
                summary.pinned_bytes += bytes;
            }
        }
        summary
    }

    /// The entry for a blob, created (empty, with a sparse data file) when missing, and held
    /// so it is not evicted while used.
    pub(crate) fn use_entry(&self, manifest: &BlobManifest) -> Result<EntryUse> {
        // The hold is taken before the map is let go: in between, a stream ending elsewhere
        // could run `enforce_limit` and evict the entry (a new one, played "now" but holding
        // no bytes yet, is still a candidate), leaving this caller with deleted files.
        let entry = {
            let mut entries = self.entries();
            let entry = match entries.get(&manifest.sha256) {
                Some(entry) => entry.clone(),
                None => {
                    // The manifest names the cache's files: it must name a blob, nothing else.
                    manifest.validate(&manifest.sha256).map_err(|why| {
                        LockerError::Format(format!(
                            "the blob manifest of {} is not valid: {why}",
                            manifest.sha256
                        ))
                    })?;
                    let record = EntryRecord {
                        manifest: manifest.clone(),
                        ranges: Vec::new(),
                        complete: false,
                        pinned: false,
                        last_played_ms: wall_clock_ms(),
                        verified_parts: Default::default(),
                    };
                    let entry = Arc::new(new_entry(&self.inner.dir, &manifest.sha256, record));
                    let file = File::create(&entry.data_path).map_err(|error| {
                        LockerError::io(
                            format!("cannot create the cache file {}", entry.data_path.display()),
                            error,
                        )
                    })?;
                    // Sparse: the bytes not fetched yet take no disk space.
                    file.set_len(manifest.size).map_err(|error| {
                        LockerError::io(
                            format!("cannot size the cache file {}", entry.data_path.display()),
                            error,
                        )
                    })?;
                    entry.persist()?;
                    entries.insert(manifest.sha256.clone(), entry.clone());
                    entry
                }
            };
            entry.lock().users += 1;
            entry
        };
        Ok(EntryUse { entry, cache: self.clone() })
    }

    /// An entry already known (from an earlier run), for opening it with no network.
    pub(crate) fn use_known(&self, sha256: &str) -> Option<EntryUse> {
        let entries = self.entries();
        let entry = entries.get(sha256).cloned()?;
        // Held before the map is let go, as in `use_entry`.
        entry.lock().users += 1;
        drop(entries);
        Some(EntryUse { entry, cache: self.clone() })
    }

    /// Marks a blob as just played: the last to be evicted.
    pub fn touch(&self, sha256: &str) {
        if let Some(entry) = self.entries().get(sha256).cloned() {
            entry.lock().record.last_played_ms = wall_clock_ms();
            let _ = entry.persist();
        }
    }

    /// Sets or clears the pin of an entry that exists; returns whether it did.
    pub(crate) fn set_pinned(&self, sha256: &str, pinned: bool) -> Result<bool> {
        let Some(entry) = self.entries().get(sha256).cloned() else { return Ok(false) };
        entry.lock().record.pinned = pinned;
        entry.persist()?;
        if !pinned {
            self.enforce_limit();
        }
        Ok(true)
    }

    /// Removes a blob from the cache unless it is pinned or in use; returns whether it did.
    pub fn remove(&self, sha256: &str) -> bool {
        let mut entries = self.entries();
        let Some(entry) = entries.get(sha256).cloned() else { return false };
        let state = entry.lock();
        if state.users > 0 || state.record.pinned {
            return false;
        }
        drop(state);
        entries.remove(sha256);
        drop(entries);
        remove_files(&entry);
        true
    }

    /// Removes everything that is neither pinned nor in use; returns the bytes freed.
    pub fn clear(&self) -> u64 {
        let shas: Vec<String> = self.entries().keys().cloned().collect();
        let mut freed = 0;
        for sha256 in shas {
            let bytes = self.entries().get(&sha256).map_or(0, |entry| entry.present_bytes());
            if self.remove(&sha256) {
                freed += bytes;
            }
        }
        freed
    }

    /// Evicts entries neither pinned nor in use, least recently played first, until the
    /// cached bytes fit under the cap.
    pub(crate) fn enforce_limit(&self) {
        let limit = self.limit();
        let mut entries = self.entries();
        let mut used = 0;
        let mut candidates = Vec::new();
        for (sha256, entry) in entries.iter() {
            let state = entry.lock();
            let bytes = state.record.present_bytes();
            used += bytes;
            if state.users == 0 && !state.record.pinned {
                candidates.push((state.record.last_played_ms, sha256.clone(), bytes));
            }
        }
        if used <= limit {
            return;
        }
        candidates.sort();
        let mut evicted = Vec::new();
        for (_, sha256, bytes) in candidates {
            if used <= limit {
                break;
            }
            if let Some(entry) = entries.remove(&sha256) {
                used -= bytes;
                evicted.push(entry);
            }
        }
        drop(entries);
        for entry in evicted {
            tracing::debug!(blob = %entry.sha256, "evicted from the offline cache");
            remove_files(&entry);
        }
    }
}

fn new_entry(dir: &Path, sha256: &str, record: EntryRecord) -> Entry {
    Entry {
        sha256: sha256.to_owned(),
        data_path: dir.join(format!("{sha256}.audio")),
        record_path: dir.join(format!("{sha256}.json")),
        state: Mutex::new(EntryState { record, users: 0, failed_checks: 0 }),
        arrived: Condvar::new(),
    }
}

fn remove_files(entry: &Entry) {
    // The record goes first: a data file without one is cleaned up on the next start.
    let _ = std::fs::remove_file(&entry.record_path);
    let _ = std::fs::remove_file(&entry.data_path);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a killed run can leave in the cache folder is removed when the cache opens: a data
    /// file whose record went first, a half-written record, a record of another blob's name.
    #[test]
    fn leftovers_of_a_killed_run_are_removed_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let sha = "ab".repeat(32);
        let other = "cd".repeat(32);
        std::fs::write(dir.path().join(format!("{sha}.audio")), b"orphaned bytes").unwrap();
        std::fs::write(dir.path().join(format!("{other}.json.tmp")), b"{\"half").unwrap();
        let lying = serde_json::json!({"manifest": {"format": 1, "sha256": "../../x", "size": 1, "part_size": 65536, "parts": [sha]},
            "ranges": [], "complete": false, "pinned": false, "last_played_ms": 0});
        std::fs::write(dir.path().join(format!("{other}.json")), lying.to_string()).unwrap();
        std::fs::write(dir.path().join(format!("{other}.audio")), b"x").unwrap();
        let cache = OfflineCache::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(cache.summary().entries, 0);
        let left: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().flatten().map(|entry| entry.file_name()).collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn ranges_merge_and_gaps_are_found() {
        let mut ranges = Vec::new();
        insert_range(&mut ranges, 10, 20);
        insert_range(&mut ranges, 30, 40);
        insert_range(&mut ranges, 20, 25);
        assert_eq!(ranges, vec![(10, 25), (30, 40)]);
        assert_eq!(contiguous_from(&ranges, 12), 13);
        assert_eq!(contiguous_from(&ranges, 27), 0);
        assert_eq!(first_gap(&ranges, 0, 100, 1000), Some((0, 10)));
        assert_eq!(first_gap(&ranges, 10, 100, 1000), Some((25, 30)));
        assert_eq!(first_gap(&ranges, 30, 100, 5), Some((40, 45)));
        assert_eq!(first_gap(&ranges, 30, 40, 5), None);
        insert_range(&mut ranges, 0, 100);
        assert_eq!(ranges, vec![(0, 100)]);
        remove_range(&mut ranges, 20, 30);
        assert_eq!(ranges, vec![(0, 20), (30, 100)]);
        remove_range(&mut ranges, 0, 25);
        assert_eq!(ranges, vec![(30, 100)]);
        remove_range(&mut ranges, 90, 200);
        assert_eq!(ranges, vec![(30, 90)]);
    }
}
