//! Pulling other devices' ops, snapshots and compaction.
//!
//! The catalog's lock is taken only to read or change local state, never while a request is on
//! the network: a pull lists and fetches first, then applies under the lock, and checks each
//! file against the frontier as it is then (a push may have moved it meanwhile).

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::catalog::{
    CatalogState, Change, Hlc, Listening, Op, Playlist, SmartPlaylist, Subject, Track, wall_clock_ms,
};
use crate::error::{LockerError, Result};

/// How long plays and resume positions wait in the outbox for company before a routine sync
/// writes them on their own (see [`Locker::routine_sync`]).
pub const LISTENING_BATCH: std::time::Duration = std::time::Duration::from_secs(30 * 60);
use crate::format;
use crate::inbox::InboxReport;
use crate::local::{CacheFile, to_json, write_state_file};
use crate::locker::{DeviceInfo, Locker};
use crate::log::RawLogFile;

/// `catalog/snapshot/<wall>-<counter>-<device>.json`: the merged catalog up to `frontier`.
#[derive(Serialize, Deserialize)]
pub(crate) struct SnapshotFile {
    pub format: u32,
    pub locker_id: String,
    pub device: String,
    pub hlc: Hlc,
    /// For each device, the highest seq of its log whose ops are in `state`.
    pub frontier: BTreeMap<String, u64>,
    pub state: crate::catalog::WireState,
}

/// A snapshot read and checked: its state rebuilt, ready to replace the local one.
pub(crate) struct Snapshot {
    pub path: String,
    pub hlc: Hlc,
    pub frontier: BTreeMap<String, u64>,
    pub catalog: CatalogState,
}

/// What changed in the merged catalog since the previous sync — other devices' ops and this
/// device's own uploads and edits alike: exactly what a local index has to apply.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// Ops from logs (any device's, this one's included) newly applied.
    pub ops_applied: usize,
    /// Tracks added or changed: upsert these.
    pub tracks_changed: Vec<Track>,
    /// Tracks no longer in the locker: delete these.
    pub tracks_removed: Vec<String>,
    pub playlists_changed: Vec<Playlist>,
    pub playlists_deleted: Vec<String>,
    /// Tracks whose plays, heart, rating or resume position changed.
    pub listening_changed: Vec<Listening>,
    /// Rule playlists created or changed, and deleted.
    pub smart_changed: Vec<SmartPlaylist>,
    pub smart_deleted: Vec<String>,
    /// Catalog files that could not be read (corrupt, half-written by a crashed client, too
    /// large, or a gap in a log), each named. That device's later ops wait until it is readable;
    /// nothing is skipped. While there are any, nothing is garbage-collected.
    pub problems: Vec<String>,
    /// The log files those problems are about (the first file of each device that waits).
    pub unread_logs: Vec<String>,
    /// Ops that are not valid (a bad id, a number out of range), each named: skipped the same
    /// way by every device.
    pub rejected_ops: Vec<String>,
    /// Snapshots passed over because they could not be read; an older one was used.
    pub unreadable_snapshots: Vec<String>,
    /// Whether the catalog was rebuilt from a snapshot (a new device, or one that fell behind
    /// compaction): the changes then list everything.
    pub rebuilt_from_snapshot: bool,
    pub snapshot_written: bool,
    /// Ops of this device still waiting to be written to its log (the locker could not take
    /// them, or the push was not tried).
    pub pending_ops: usize,
    pub inbox: InboxReport,
}

/// Log files fetched at once during a sync.
const FETCHES_IN_FLIGHT: usize = 16;
/// Snapshots tried, newest first, before a sync gives up on rebuilding from one.
const SNAPSHOTS_TRIED: usize = 5;

/// The logs in the locker: for each device, its files by seq (path and listed size).
type LogListing = BTreeMap<String, BTreeMap<u64, (String, u64)>>;

impl Locker {
    /// Writes this device's waiting ops, pulls every device's new ops, imports the inbox, and
    /// returns what changed. A failure in the inbox never loses what the pull found: it is in
    /// the report's `inbox.failed`.
    pub async fn sync(&self) -> Result<SyncReport> {
        self.sync_pushing(true).await
    }

    /// [`Locker::sync`] for a loop that runs every minute or so: it writes the outbox only when
    /// it holds an edit other than plays and resume positions, or when the oldest of those has
    /// waited [`LISTENING_BATCH`] (and at the first such sync of a process), so music playing
    /// all day adds a log file every half hour, not one per song. Edits go out at once.
    pub async fn routine_sync(&self) -> Result<SyncReport> {
        let first = !self.inner.routine_synced.swap(true, std::sync::atomic::Ordering::SeqCst);
        let due = first || self.outbox_due().await;
        self.sync_pushing(due).await
    }

    async fn outbox_due(&self) -> bool {
        let local = self.inner.local.lock().await;
        if local.outbox.sealed.is_some() {
            return true;
        }
        let waits =
            |change: &Change| matches!(change, Change::TrackPlayed { .. } | Change::TrackResume { .. });
        if local.outbox.ops.iter().any(|op| !waits(&op.change)) {
            return true;
        }
        let now = wall_clock_ms();
        let batch = u64::try_from(LISTENING_BATCH.as_millis()).unwrap_or(u64::MAX);
        local.outbox.ops.iter().any(|op| now.saturating_sub(op.hlc.wall_ms) >= batch)
    }

    async fn sync_pushing(&self, push: bool) -> Result<SyncReport> {
        let pushed = if push { self.push().await } else { Ok(()) };
        let mut report = self.pull().await?;
        if let Err(error) = pushed {
            tracing::warn!(%error, "this device's edits could not be written to its log yet");
        }
        let inbox = self.import_inbox().await;
        if !inbox.imported.is_empty() {
            let local = self.inner.local.lock().await;
            for imported in &inbox.imported {
                report.tracks_removed.retain(|id| *id != imported.track_id);
                report.tracks_changed.retain(|track| track.id != imported.track_id);
                if let Some(track) = local.catalog.track(&imported.track_id) {
                    report.tracks_changed.push(track);
                }
            }
        }
        report.inbox = inbox;
        report.pending_ops = self.pending_ops().await;
        Ok(report)
    }

    /// Says that the changes of the last sync (or pull) are applied where the caller keeps them
    /// (the library's index): until then, every later sync reports them again, even after a
    /// restart.
    pub async fn report_applied(&self) -> Result<()> {
        let bytes = {
            let mut local = self.inner.local.lock().await;
            if local.undelivered.is_empty() {
                return Ok(());
            }
            local.undelivered.clear();
            local.undelivered_file(&self.locker_id())
        };
        write_state_file(&self.inner.state_dir.join(crate::local::UNDELIVERED_FILE), bytes, false).await
    }

    /// Pulls every device's new ops into the local catalog, without touching the inbox.
    pub async fn pull(&self) -> Result<SyncReport> {
        self.refresh_locker_file().await?;
        let storage = self.storage().clone();
        let logs = self.list_logs().await?;
        let mut report = SyncReport::default();

        let (frontier, rebuild) = {
            let local = self.inner.local.lock().await;
            let rebuild = local.frontier.is_empty() || has_gap(&logs, &local.frontier);
            (local.frontier.clone(), rebuild)
        };
        let snapshot =
            if rebuild { self.newest_usable_snapshot(&mut report.unreadable_snapshots).await? } else { None };
        let base = snapshot.as_ref().map_or(&frontier, |snapshot| &snapshot.frontier);

        // Fetch every file past the frontier, all devices at once; apply later, under the lock.
        let mut wanted = Vec::new();
        for (device, seqs) in &logs {
            let applied = base.get(device).copied();
            for (seq, (path, size)) in seqs {
                if applied.is_none_or(|applied| *seq > applied) {
                    wanted.push((device.clone(), *seq, path.clone(), *size));
                }
            }
        }
        let mut fetched: Vec<_> = futures::stream::iter(wanted)
            .map(|(device, seq, path, size)| {
                let storage = storage.clone();
                async move {
                    let read = storage
                        .read_capped(&path, Some(size), format::MAX_LOG_FILE_BYTES, "the catalog log file")
                        .await;
                    let parsed = match read {
                        Ok(Some(bytes)) => RawLogFile::parse(&path, &device, seq, &bytes),
                        Ok(None) => Err(LockerError::NotFound(format!("{path} disappeared while syncing"))),
                        Err(error) => Err(error),
                    };
                    (device, seq, path, parsed)
                }
            })
            .buffered(FETCHES_IN_FLIGHT)
            .collect()
            .await;
        // The locker went away mid-sync: nothing is applied, the next sync tries again.
        if let Some(position) =
            fetched.iter().position(|(.., parsed)| parsed.as_ref().is_err_and(LockerError::is_transient))
            && let (.., Err(error)) = fetched.swap_remove(position)
        {
            return Err(error);
        }

        let mut local = self.inner.local.lock().await;
        let mut touched: BTreeSet<Subject> = std::mem::take(&mut local.unreported);
        touched.extend(local.undelivered.iter().cloned());
        if let Some(snapshot) = snapshot {
            touched.extend(local.catalog.subjects());
            touched.extend(snapshot.catalog.subjects());
            local.catalog = snapshot.catalog;
            // This device's ops not yet in its log, or written since its cache was saved, may be
            // in no snapshot: apply them again.
            let own: Vec<Op> = local.outbox.landed.iter().chain(&local.outbox.ops).cloned().collect();
            for op in &own {
                local.catalog.apply(&self.inner.device, op);
            }
            local.snapshot_frontier = snapshot.frontier.clone();
            local.frontier = snapshot.frontier;
            local.clock.observe(snapshot.hlc);
            report.rebuilt_from_snapshot = true;
            tracing::info!(snapshot = %snapshot.path, "rebuilt the catalog from a snapshot");
        }
        let mut stopped: BTreeSet<String> = BTreeSet::new();
        for (device, seq, path, parsed) in fetched {
            if stopped.contains(&device) {
                continue;
            }
            let expected = local.frontier.get(&device).map_or(0, |applied| applied + 1);
            if seq < expected {
                continue; // applied meanwhile (this device's own push)
            }
            if seq > expected {
                report.problems.push(format!(
                    "the log of device {device} jumps from seq {} to {seq}; its ops in between are \
                     missing from the locker and no snapshot covers them",
                    expected.saturating_sub(1)
                ));
                report.unread_logs.push(path);
                stopped.insert(device);
                continue;
            }
            match parsed {
                Ok(file) => {
                    for (index, value) in file.ops.into_iter().enumerate() {
                        let op = Op::from_value(value).and_then(|op| op.check().map(|()| op));
                        match op {
                            Ok(op) => {
                                local.clock.observe(op.hlc);
                                touched.extend(local.catalog.apply(&device, &op));
                                report.ops_applied += 1;
                            }
                            Err(why) => {
                                report.rejected_ops.push(format!("op {index} of {path} was skipped: {why}"))
                            }
                        }
                    }
                    local.frontier.insert(device, seq);
                }
                Err(error) => {
                    tracing::warn!(%error, "a catalog log file cannot be read; its device's later ops wait");
                    report.problems.push(error.to_string());
                    report.unread_logs.push(path);
                    stopped.insert(device);
                }
            }
        }
        for rejected in &report.rejected_ops {
            tracing::warn!(%rejected, "skipped an op that is not valid");
        }

        local.undelivered = touched.clone();
        let undelivered = local.undelivered_file(&self.locker_id());
        for subject in touched {
            match subject {
                Subject::Track(id) => match local.catalog.track(&id) {
                    Some(track) => report.tracks_changed.push(track),
                    None => report.tracks_removed.push(id),
                },
                Subject::Playlist(id) => match local.catalog.playlist(&id) {
                    Some(playlist) => report.playlists_changed.push(playlist),
                    None => report.playlists_deleted.push(id),
                },
                Subject::Listening(id) => report.listening_changed.extend(local.catalog.listening(&id)),
                Subject::Smart(id) => match local.catalog.smart_playlist(&id) {
                    Some(playlist) => report.smart_changed.push(playlist),
                    None => report.smart_deleted.push(id),
                },
            }
        }
        let now = wall_clock_ms();
        local.last_sync_ms = Some(now);
        let frontier = local.frontier.clone();
        let pending_logs: usize = logs
            .iter()
            .map(|(device, seqs)| {
                let covered = local.snapshot_frontier.get(device).copied();
                seqs.keys().filter(|seq| covered.is_none_or(|covered| **seq > covered)).count()
            })
            .sum();
        // The cache is rewritten only when the catalog changed: for a large catalog it is tens
        // of megabytes, and most periodic syncs find nothing new. The clock is kept each time.
        let changed = !(report.tracks_changed.is_empty()
            && report.tracks_removed.is_empty()
            && report.playlists_changed.is_empty()
            && report.playlists_deleted.is_empty()
            && report.listening_changed.is_empty()
            && report.smart_changed.is_empty()
            && report.smart_deleted.is_empty()
            && report.ops_applied == 0
            && !report.rebuilt_from_snapshot);
        let clock_file = local.clock_file(&self.locker_id());
        let outbox_empty = local.outbox.ops.is_empty();
        drop(local);

        // Before the cache: once the cache says these changes were pulled, only this file
        // says they still have to be applied.
        write_state_file(&self.inner.state_dir.join(crate::local::UNDELIVERED_FILE), undelivered, false)
            .await?;
        write_state_file(&self.inner.state_dir.join(crate::local::CLOCK_FILE), clock_file, false).await?;
        if changed {
            self.save_catalog_cache().await?;
        }
        let me = DeviceInfo { device: self.inner.device.clone(), last_sync_ms: now, seen: frontier };
        storage.put(&format::device_path(&self.inner.device), to_json(&me)).await?;

        // A snapshot holds only what is in logs, so it waits until this device's edits are.
        if pending_logs >= self.inner.options.snapshot_after_log_files
            && report.problems.is_empty()
            && outbox_empty
        {
            self.snapshot_and_compact().await?;
            report.snapshot_written = true;
        }
        Ok(report)
    }

    /// Writes the merged catalog, the frontiers and the clock to the state folder, so a restart
    /// starts from here instead of fetching everything again.
    pub(crate) async fn save_catalog_cache(&self) -> Result<()> {
        let (cache, clock_file, landed) = {
            let local = self.inner.local.lock().await;
            let cache = CacheFile {
                locker_id: self.locker_id(),
                frontier: local.frontier.clone(),
                snapshot_frontier: local.snapshot_frontier.clone(),
                last_sync_ms: local.last_sync_ms,
                state: local.catalog.to_wire(),
            };
            (cache, local.clock_file(&self.locker_id()), local.outbox.landed.len())
        };
        let bytes = crate::upload::blocking(move || Ok(to_json(&cache))).await?;
        write_state_file(&self.inner.state_dir.join(crate::local::CACHE_FILE), bytes, false).await?;
        // The cache holds the ops written so far: they need not be kept apart any more.
        if landed > 0 {
            let mut local = self.inner.local.lock().await;
            let mut outbox = local.outbox.clone();
            outbox.landed.drain(..landed.min(outbox.landed.len()));
            write_state_file(&self.inner.state_dir.join(crate::local::OUTBOX_FILE), to_json(&outbox), true)
                .await?;
            local.outbox = outbox;
        }
        write_state_file(&self.inner.state_dir.join(crate::local::CLOCK_FILE), clock_file, false).await
    }

    /// Every log file in the locker whose name is a log file's; anything else under
    /// `catalog/log/` is not read.
    pub(crate) async fn list_logs(&self) -> Result<LogListing> {
        let mut logs: LogListing = BTreeMap::new();
        for object in self.storage().list_files(format::LOG_DIR).await? {
            if let Some((device, seq)) = format::parse_log_path(&object.path) {
                logs.entry(device).or_default().insert(seq, (object.path, object.size));
            }
        }
        Ok(logs)
    }

    /// The snapshots in the locker, newest name first (names that are not a snapshot's are
    /// left alone).
    pub(crate) async fn snapshot_names(&self) -> Result<Vec<(String, u64)>> {
        let mut names: Vec<(String, u64)> = self
            .storage()
            .list_files(format::SNAPSHOT_DIR)
            .await?
            .into_iter()
            .filter(|object| format::is_snapshot_path(&object.path))
            .map(|object| (object.path, object.size))
            .collect();
        names.sort();
        names.reverse();
        Ok(names)
    }

    /// The newest snapshot that can be read and belongs to this locker; the ones passed over
    /// are named in `unreadable`.
    pub(crate) async fn newest_usable_snapshot(
        &self,
        unreadable: &mut Vec<String>,
    ) -> Result<Option<Snapshot>> {
        for (path, size) in self.snapshot_names().await?.into_iter().take(SNAPSHOTS_TRIED) {
            match self.read_snapshot(&path, size).await {
                Ok(snapshot) => return Ok(Some(snapshot)),
                Err(error) if error.is_transient() => return Err(error),
                Err(error) => {
                    tracing::warn!(%error, "passing over a snapshot that cannot be used");
                    unreadable.push(error.to_string());
                }
            }
        }
        Ok(None)
    }

    /// Reads and checks one snapshot.
    pub(crate) async fn read_snapshot(&self, path: &str, size: u64) -> Result<Snapshot> {
        let bytes = self
            .storage()
            .read_capped(path, Some(size), format::MAX_SNAPSHOT_BYTES, "the snapshot")
            .await?
            .ok_or_else(|| LockerError::NotFound(format!("the snapshot {path} disappeared")))?;
        let locker_id = self.locker_id();
        let path_owned = path.to_owned();
        crate::upload::blocking(move || {
            let path = path_owned;
            let file: SnapshotFile = serde_json::from_slice(&bytes)
                .map_err(|error| LockerError::Format(format!("the snapshot {path} is malformed: {error}")))?;
            format::check_version(&path, file.format)?;
            if file.locker_id != locker_id {
                return Err(LockerError::Format(format!("the snapshot {path} belongs to another locker")));
            }
            let valid_frontier = file
                .frontier
                .iter()
                .all(|(device, seq)| format::is_plain_id(device) && *seq <= format::MAX_SEQ);
            if !valid_frontier
                || !format::is_plain_id(&file.device)
                || file.hlc.wall_ms > crate::catalog::MAX_WALL_MS
            {
                return Err(LockerError::Format(format!("the snapshot {path} has an invalid header")));
            }
            let catalog = CatalogState::from_wire(file.state)
                .map_err(|why| LockerError::Format(format!("the snapshot {path} is not valid: {why}")))?;
            Ok(Snapshot { path, hlc: file.hlc, frontier: file.frontier, catalog })
        })
        .await
    }

    /// Writes a snapshot of the merged catalog, then deletes log files that the snapshot holds
    /// and every known device has already applied (but never a device's newest one), and all
    /// snapshots older than the one before it. Nothing is deleted while any device's record
    /// cannot be read: its device might still need those files.
    pub async fn snapshot_and_compact(&self) -> Result<()> {
        self.push().await?;
        let storage = self.storage().clone();
        let (snapshot_path, snapshot_frontier, snapshot) = {
            let mut local = self.inner.local.lock().await;
            if !local.outbox.ops.is_empty() {
                return Err(LockerError::Network(
                    "this device's edits are not all in its log yet; the snapshot waits for them".into(),
                ));
            }
            let hlc = local.clock.tick(wall_clock_ms());
            let snapshot = SnapshotFile {
                format: if local.catalog.needs_second_format() {
                    format::CATALOG_FORMAT
                } else {
                    format::FIRST_FORMAT
                },
                locker_id: self.locker_id(),
                device: self.inner.device.clone(),
                hlc,
                frontier: local.frontier.clone(),
                state: local.catalog.to_wire(),
            };
            local.snapshot_frontier = snapshot.frontier.clone();
            let path = format::snapshot_path(hlc.wall_ms, hlc.counter, &self.inner.device);
            (path, snapshot.frontier.clone(), snapshot)
        };
        let bytes = crate::upload::blocking(move || Ok(to_json(&snapshot))).await?;
        storage.put(&snapshot_path, bytes).await?;
        // The snapshot's frontier decides when the next one is due: keep it across a restart.
        self.save_catalog_cache().await?;

        let (devices, unreadable) = self.device_files().await?;
        if !unreadable.is_empty() {
            tracing::warn!(?unreadable, "not compacting: some device records cannot be read");
            return Ok(());
        }
        let logs = self.list_logs().await?;
        for (device, seqs) in &logs {
            // Each device's newest file stays: it is how a device that lost its local state
            // learns which seq to continue from.
            let newest = seqs.keys().next_back().copied();
            for (seq, (path, _)) in seqs {
                if Some(*seq) == newest {
                    continue;
                }
                let in_snapshot = snapshot_frontier.get(device).is_some_and(|covered| seq <= covered);
                let seen_by_all =
                    devices.iter().all(|known| known.seen.get(device).is_some_and(|seen| seq <= seen));
                if in_snapshot && seen_by_all {
                    storage.delete(path).await?;
                }
            }
        }
        // Older snapshots than the one before ours go. One named later than ours (a device
        // with a clock ahead, or something that is not a snapshot at all) is not ours to judge.
        let names: Vec<String> = self.snapshot_names().await?.into_iter().map(|(path, _)| path).collect();
        let older: Vec<&String> = names.iter().filter(|path| **path < snapshot_path).collect();
        for old in older.iter().skip(1) {
            storage.delete(old).await?;
        }
        Ok(())
    }
}

/// Whether some device's listed log starts past where this device's frontier ends (files were
/// compacted away that this device has not applied).
fn has_gap(logs: &LogListing, frontier: &BTreeMap<String, u64>) -> bool {
    logs.iter().any(|(device, seqs)| {
        let Some(first) = seqs.keys().next() else { return false };
        frontier.get(device).map_or(*first > 0, |applied| *first > applied.saturating_add(1))
    })
}
