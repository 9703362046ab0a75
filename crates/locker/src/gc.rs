//! Garbage collection: deleting blobs no device can still reference, in two phases.
//!
//! A collection refuses to run while this device cannot see the whole catalog: any log it could
//! not read or that has a gap, any device record it cannot read, any device with a log but no
//! record. Then it *marks*: each blob no present track references is noted, in this device's
//! state folder, with the storage's clock at that moment (the modification time of an object
//! written just then) and the catalog's last word on the track (the removal, if any). A later
//! collection *sweeps* a marked blob only if all of these still hold: no present track
//! references it, the catalog's last word on it is the one marked (a put and a new removal in
//! between start the wait again), the grace period has passed on the storage's clock since the
//! mark, and its manifest has not been written since the mark (an upload that deduplicates
//! against a blob writes its manifest again, so a collection never sweeps a blob under an
//! upload; the upload also checks the manifest is still there once its catalog entry is in).
//!
//! No clock value from the catalog decides anything: a device with a wrong clock, or a hostile
//! op, cannot make a blob look old.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::catalog::{Hlc, Stamp};
use crate::error::Result;
use crate::format;
use crate::local::{to_json, write_state_file};
use crate::locker::Locker;

const MARKS_FILE: &str = "gc-marks.json";
/// Staged writes take seconds; one an hour old belongs to a client that died.
const STAGING_GRACE_MS: i64 = 3_600_000;

/// How to collect.
#[derive(Debug, Clone, Copy)]
pub struct GcOptions {
    /// How long a blob must have been unreferenced before it is deleted.
    pub grace: Duration,
    /// Say what would be deleted, delete nothing (marks are still recorded).
    pub dry_run: bool,
}

impl Default for GcOptions {
    fn default() -> Self {
        GcOptions { grace: DEFAULT_GC_GRACE, dry_run: false }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GcReport {
    /// Why nothing was collected, when the collection refused to run.
    pub refused: Option<String>,
    pub dry_run: bool,
    /// Blobs deleted (or, in a dry run, that would be).
    pub blobs_deleted: Vec<String>,
    pub bytes_freed: u64,
    /// Unreferenced blobs seen for the first time: deleted after the grace period.
    pub blobs_marked: usize,
    /// Unreferenced blobs still waiting out the grace period.
    pub blobs_waiting: usize,
    /// Parts of uploads that never completed, deleted once untouched for the grace period.
    pub abandoned_parts_deleted: usize,
    pub staging_deleted: usize,
}

/// The grace period the app uses: a removal can be undone, and a device that deduplicated
/// against a blob just before its removal has time to sync, for a week.
pub const DEFAULT_GC_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

/// `<state_dir>/gc-marks.json`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Marks {
    locker_id: String,
    blobs: BTreeMap<String, Mark>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Mark {
    /// The storage's clock when the blob was first seen unreferenced.
    marked_at_ms: i64,
    /// The stamp of the catalog's last word on the track then (`None`: never mentioned).
    last_word: Option<(Hlc, String)>,
}

impl Locker {
    /// Collects what no device can still reference (see the module documentation).
    pub async fn gc(&self, options: GcOptions) -> Result<GcReport> {
        let mut report = GcReport { dry_run: options.dry_run, ..GcReport::default() };
        if let Some(reason) = self.why_not_collect().await? {
            tracing::info!(%reason, "not collecting garbage");
            report.refused = Some(reason);
            return Ok(report);
        }
        let storage = self.storage().clone();
        let now = storage.storage_now().await?;
        let grace_ms = i64::try_from(options.grace.as_millis()).unwrap_or(i64::MAX);
        let waited = |since: i64| now.saturating_sub(since) >= grace_ms;

        let catalog = self.catalog().await;
        let mut marks = self.load_marks().await;
        let mut still_marked = BTreeMap::new();
        let mut manifests: BTreeSet<String> = BTreeSet::new();
        for object in storage.list_files(format::BLOBS_DIR).await? {
            let Some(id) = format::blob_of_manifest_path(&object.path) else { continue };
            manifests.insert(id.to_owned());
            if catalog.is_present(id) {
                continue;
            }
            let last_word = catalog.last_word(id).map(|Stamp { hlc, device }| (hlc, device));
            let modified = storage.modified_ms(&object).await?;
            let mark = match marks.blobs.remove(id) {
                Some(mark) if mark.last_word == last_word && untouched_since(modified, mark.marked_at_ms) => {
                    mark
                }
                _ => {
                    report.blobs_marked += 1;
                    Mark { marked_at_ms: now, last_word }
                }
            };
            if !(waited(mark.marked_at_ms) && untouched_since(modified, mark.marked_at_ms)) {
                report.blobs_waiting += 1;
                still_marked.insert(id.to_owned(), mark);
                continue;
            }
            let size = self.blob_manifest(id).await.ok().flatten().map_or(0, |manifest| manifest.size);
            if !options.dry_run {
                // The manifest goes first: from then on the blob does not exist for anyone, and
                // its parts are merely garbage.
                storage.delete(&object.path).await?;
                for part in storage.list_files(&format::parts_dir(id)).await? {
                    storage.delete(&part.path).await?;
                }
            }
            report.blobs_deleted.push(id.to_owned());
            report.bytes_freed = report.bytes_freed.saturating_add(size);
        }
        marks.blobs = still_marked;
        self.save_marks(&marks).await?;

        let mut orphans: BTreeMap<String, Vec<(String, Option<i64>)>> = BTreeMap::new();
        for part in storage.list_files(format::PARTS_DIR).await? {
            if let Some(id) = format::blob_of_part_path(&part.path)
                && !manifests.contains(id)
            {
                let modified = storage.modified_ms(&part).await?;
                orphans.entry(id.to_owned()).or_default().push((part.path.clone(), modified));
            }
        }
        for (id, parts) in orphans {
            // Untouched for the grace period on the storage's clock: an upload still going on
            // keeps writing (or resumes and writes) its parts.
            let newest = parts.iter().filter_map(|(_, modified)| *modified).max();
            if !newest.is_some_and(waited) || storage.stat(&format::blob_path(&id)).await?.is_some() {
                continue;
            }
            for (path, _) in parts {
                if !options.dry_run {
                    storage.delete(&path).await?;
                }
                report.abandoned_parts_deleted += 1;
            }
        }

        for object in storage.list_files(format::TMP_DIR).await? {
            let stale = storage.modified_ms(&object).await?.is_some_and(|modified| {
                now.saturating_sub(modified) >= STAGING_GRACE_MS.min(grace_ms.max(1))
            });
            if stale {
                if !options.dry_run {
                    storage.delete(&object.path).await?;
                }
                report.staging_deleted += 1;
            }
        }
        tracing::info!(?report, "garbage collection done");
        Ok(report)
    }

    /// Why a collection must not run now, if it must not: anything that could hide a
    /// reference from this device.
    async fn why_not_collect(&self) -> Result<Option<String>> {
        let pulled = self.pull().await?;
        if let Some(problem) = pulled.problems.first() {
            return Ok(Some(format!(
                "{} catalog file(s) cannot be read yet, so a track that needs a blob may be unknown here: {problem}",
                pulled.problems.len()
            )));
        }
        if self.pending_ops().await > 0 {
            return Ok(Some("this device's own edits are not all in the locker yet".into()));
        }
        let (devices, unreadable) = self.device_files().await?;
        if let Some(path) = unreadable.first() {
            return Ok(Some(format!(
                "the device record {path} cannot be read, so that device's state is unknown"
            )));
        }
        let recorded: BTreeSet<&str> = devices.iter().map(|device| device.device.as_str()).collect();
        if let Some(device) =
            self.list_logs().await?.keys().find(|device| !recorded.contains(device.as_str()))
        {
            return Ok(Some(format!("device {device} has written to the catalog but has no device record")));
        }
        Ok(None)
    }

    async fn load_marks(&self) -> Marks {
        let locker_id = self.locker_id();
        let read = tokio::fs::read(self.inner.state_dir.join(MARKS_FILE)).await.ok();
        read.and_then(|bytes| serde_json::from_slice::<Marks>(&bytes).ok())
            .filter(|marks| marks.locker_id == locker_id)
            .unwrap_or(Marks { locker_id, blobs: BTreeMap::new() })
    }

    async fn save_marks(&self, marks: &Marks) -> Result<()> {
        write_state_file(&self.inner.state_dir.join(MARKS_FILE), to_json(marks), false).await
    }
}

/// Whether an object last modified at `modified` has not been written since `marked_at`.
/// Storages give times in whole seconds in some answers and finer in others, so both are cut to
/// seconds, and a write in the same second as the mark counts as after it.
fn untouched_since(modified: Option<i64>, marked_at: i64) -> bool {
    modified.is_some_and(|modified| modified.div_euclid(1000) < marked_at.div_euclid(1000))
}
