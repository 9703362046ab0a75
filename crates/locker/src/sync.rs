//! Pulling other devices' ops, snapshots and compaction.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::catalog::{CatalogState, Hlc, Playlist, Subject, Track, wall_clock_ms};
use crate::error::{LockerError, Result};
use crate::format::{self, FORMAT_VERSION};
use crate::inbox::InboxReport;
use crate::locker::{CacheFile, DeviceInfo, Locker, LogFile, to_json, write_state_file};

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
    /// Log files that could not be read (corrupt, or half-written by a crashed client), each
    /// naming the file. That device's later ops wait until it is readable; nothing is skipped.
    pub problems: Vec<String>,
    /// Whether the catalog was rebuilt from a snapshot (a new device, or one that fell behind
    /// compaction): the changes then list everything.
    pub rebuilt_from_snapshot: bool,
    pub snapshot_written: bool,
    pub inbox: InboxReport,
}

/// Log files fetched at once during a sync.
const FETCHES_IN_FLIGHT: usize = 16;

impl Locker {
    /// Pulls every device's new ops, imports the inbox, and returns what changed.
    pub async fn sync(&self) -> Result<SyncReport> {
        let mut report = self.pull().await?;
        let inbox = self.import_inbox().await?;
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
        Ok(report)
    }

    /// Pulls every device's new ops into the local catalog, without touching the inbox.
    pub async fn pull(&self) -> Result<SyncReport> {
        self.refresh_locker_file().await?;
        let storage = self.storage().clone();
        let mut logs: BTreeMap<String, BTreeMap<u64, String>> = BTreeMap::new();
        for object in storage.list_files(format::LOG_DIR).await? {
            if let Some((device, seq)) = format::parse_log_path(&object.path) {
                logs.entry(device).or_default().insert(seq, object.path);
            }
        }
        let mut report = SyncReport::default();
        let mut local = self.inner.local.lock().await;

        let has_gap = |frontier: &BTreeMap<String, u64>| {
            logs.iter().any(|(device, seqs)| {
                let first = *seqs.keys().next().expect("devices are listed only with files");
                frontier.get(device).map_or(first > 0, |applied| first > applied + 1)
            })
        };
        let mut touched: BTreeSet<Subject> = std::mem::take(&mut local.unreported);
        if (local.frontier.is_empty() || has_gap(&local.frontier))
            && let Some(snapshot) = self.latest_snapshot().await?
        {
            let rebuilt = CatalogState::from_wire(snapshot.state)
                .map_err(|error| LockerError::Format(format!("the newest snapshot is malformed: {error}")))?;
            touched.extend(subjects_of(&local.catalog));
            touched.extend(subjects_of(&rebuilt));
            local.catalog = rebuilt;
            local.snapshot_frontier = snapshot.frontier.clone();
            local.frontier = snapshot.frontier;
            local.clock.observe(snapshot.hlc);
            report.rebuilt_from_snapshot = true;
        }

        // Fetch every file past the frontier, all devices at once, then apply each device's files
        // in seq order, stopping a device at its first unreadable file or missing seq.
        let mut wanted = Vec::new();
        for (device, seqs) in &logs {
            let applied = local.frontier.get(device).copied();
            for (seq, path) in seqs {
                if applied.is_none_or(|applied| *seq > applied) {
                    wanted.push((device.clone(), *seq, path.clone()));
                }
            }
        }
        let fetched: Vec<_> = futures::stream::iter(wanted)
            .map(|(device, seq, path)| {
                let storage = storage.clone();
                async move {
                    let result = storage.read(&path).await;
                    (device, seq, path, result)
                }
            })
            .buffered(FETCHES_IN_FLIGHT)
            .collect()
            .await;
        let mut stopped: BTreeSet<String> = BTreeSet::new();
        for (device, seq, path, result) in fetched {
            if stopped.contains(&device) {
                continue;
            }
            let expected = local.frontier.get(&device).map_or(0, |applied| applied + 1);
            if seq != expected {
                report.problems.push(format!(
                    "the log of device {device} jumps from seq {} to {seq}; its ops in between are \
                     missing from the locker and no snapshot covers them",
                    expected.saturating_sub(1)
                ));
                stopped.insert(device);
                continue;
            }
            let parsed = match result {
                Ok(Some(bytes)) => parse_log_file(&path, &device, seq, &bytes),
                Ok(None) => Err(LockerError::NotFound(format!("{path} disappeared while syncing"))),
                Err(error) if error.is_transient() => return Err(error),
                Err(error) => Err(error),
            };
            match parsed {
                Ok(file) => {
                    for op in &file.ops {
                        local.clock.observe(op.hlc);
                        touched.insert(local.catalog.apply(&device, op));
                    }
                    report.ops_applied += file.ops.len();
                    local.frontier.insert(device, seq);
                }
                Err(error) => {
                    tracing::warn!(%error, "skipping an unreadable catalog log file for now");
                    report.problems.push(error.to_string());
                    stopped.insert(device);
                }
            }
        }

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
        // of megabytes, and most periodic syncs find nothing new.
        let changed = !(report.tracks_changed.is_empty()
            && report.tracks_removed.is_empty()
            && report.playlists_changed.is_empty()
            && report.playlists_deleted.is_empty()
            && report.ops_applied == 0);
        let cache = changed.then(|| CacheFile {
            locker_id: self.locker_id(),
            frontier: frontier.clone(),
            last_sync_ms: local.last_sync_ms,
            state: local.catalog.to_wire(),
        });
        drop(local);

        if let Some(cache) = cache {
            let bytes = crate::upload::blocking(move || Ok(to_json(&cache))).await?;
            write_state_file(&self.inner.state_dir.join("catalog-cache.json"), bytes).await?;
        }
        let me = DeviceInfo { device: self.inner.device.clone(), last_sync_ms: now, seen: frontier };
        storage.put(&format::device_path(&self.inner.device), to_json(&me)).await?;

        if pending_logs >= self.inner.options.snapshot_after_log_files {
            self.snapshot_and_compact().await?;
            report.snapshot_written = true;
        }
        Ok(report)
    }

    /// The newest snapshot in the locker.
    pub(crate) async fn latest_snapshot(&self) -> Result<Option<SnapshotFile>> {
        let mut names: Vec<_> = self
            .storage()
            .list_files(format::SNAPSHOT_DIR)
            .await?
            .into_iter()
            .map(|object| object.path)
            .filter(|path| path.ends_with(".json"))
            .collect();
        names.sort();
        let Some(newest) = names.pop() else { return Ok(None) };
        let Some(bytes) = self.storage().read(&newest).await? else { return Ok(None) };
        let snapshot = tokio::task::spawn_blocking(move || serde_json::from_slice::<SnapshotFile>(&bytes))
            .await
            .map_err(|error| LockerError::Format(format!("reading the snapshot failed: {error}")))?
            .map_err(|error| LockerError::Format(format!("the snapshot {newest} is malformed: {error}")))?;
        format::check_version(&newest, snapshot.format)?;
        if snapshot.locker_id != self.locker_id() {
            return Err(LockerError::Format(format!("the snapshot {newest} belongs to another locker")));
        }
        Ok(Some(snapshot))
    }

    /// Writes a snapshot of the merged catalog, then deletes log files that the snapshot holds
    /// and every known device has already applied (but never a device's newest one), and all
    /// but the two newest snapshots.
    pub async fn snapshot_and_compact(&self) -> Result<()> {
        let storage = self.storage().clone();
        let (snapshot_path, snapshot_frontier, snapshot) = {
            let mut local = self.inner.local.lock().await;
            let hlc = local.clock.tick(wall_clock_ms());
            let snapshot = SnapshotFile {
                format: FORMAT_VERSION,
                locker_id: self.locker_id(),
                device: self.inner.device.clone(),
                hlc,
                frontier: local.frontier.clone(),
                state: local.catalog.to_wire(),
            };
            local.snapshot_frontier = snapshot.frontier.clone();
            let path = format!(
                "{}{:015}-{:010}-{}.json",
                format::SNAPSHOT_DIR,
                hlc.wall_ms,
                hlc.counter,
                self.inner.device
            );
            (path, snapshot.frontier.clone(), snapshot)
        };
        let bytes = crate::upload::blocking(move || Ok(to_json(&snapshot))).await?;
        storage.put(&snapshot_path, bytes).await?;

        let devices = self.devices().await?;
        let logs: Vec<(String, u64, String)> = storage
            .list_files(format::LOG_DIR)
            .await?
            .into_iter()
            .filter_map(|object| {
                let (device, seq) = format::parse_log_path(&object.path)?;
                Some((device, seq, object.path))
            })
            .collect();
        let mut newest: BTreeMap<&str, u64> = BTreeMap::new();
        for (device, seq, _) in &logs {
            let entry = newest.entry(device.as_str()).or_insert(*seq);
            *entry = (*entry).max(*seq);
        }
        for (device, seq, path) in &logs {
            // Each device's newest file stays: it is how a device that lost its local state
            // learns which seq to continue from.
            if newest.get(device.as_str()) == Some(seq) {
                continue;
            }
            let (device, seq) = (device.clone(), *seq);
            let in_snapshot = snapshot_frontier.get(&device).is_some_and(|covered| seq <= *covered);
            let seen_by_all =
                devices.iter().all(|known| known.seen.get(&device).is_some_and(|seen| seq <= *seen));
            if in_snapshot && seen_by_all {
                storage.delete(path).await?;
            }
        }
        let mut snapshots: Vec<_> =
            storage.list_files(format::SNAPSHOT_DIR).await?.into_iter().map(|object| object.path).collect();
        snapshots.sort();
        let keep = 2;
        if snapshots.len() > keep {
            for old in &snapshots[..snapshots.len() - keep] {
                storage.delete(old).await?;
            }
        }
        Ok(())
    }
}

fn parse_log_file(path: &str, device: &str, seq: u64, bytes: &[u8]) -> Result<LogFile> {
    let file: LogFile = serde_json::from_slice(bytes).map_err(|error| {
        LockerError::Format(format!("the catalog log file {path} is corrupt or incomplete: {error}"))
    })?;
    format::check_version(path, file.format)?;
    if file.device != device || file.seq != seq {
        return Err(LockerError::Format(format!(
            "the catalog log file {path} says it is seq {} of device {}",
            file.seq, file.device
        )));
    }
    Ok(file)
}

fn subjects_of(catalog: &CatalogState) -> Vec<Subject> {
    let mut subjects: Vec<Subject> = catalog.known_track_ids().into_iter().map(Subject::Track).collect();
    subjects.extend(catalog.playlist_ids().into_iter().map(Subject::Playlist));
    subjects
}
