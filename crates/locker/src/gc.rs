//! Garbage collection of blobs nothing references any more.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;

use crate::catalog::wall_clock_ms;
use crate::error::Result;
use crate::format;
use crate::locker::Locker;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GcReport {
    pub blobs_deleted: usize,
    pub bytes_freed: u64,
    /// Parts of uploads that never completed, deleted once older than the grace period.
    pub abandoned_parts_deleted: usize,
    pub staging_deleted: usize,
}

/// The grace period the app uses: a removal can be undone, and a device that deduplicated
/// against a blob just before its removal has time to sync, for a week.
pub const DEFAULT_GC_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

impl Locker {
    /// Deletes blobs that no track references and that have been unreferenced for `grace`,
    /// parts of uploads abandoned for `grace`, and stale staging objects. Pulls first, so the
    /// decision is made on the newest catalog this device can see.
    pub async fn gc(&self, grace: Duration) -> Result<GcReport> {
        self.pull().await?;
        let storage = self.storage().clone();
        let now = wall_clock_ms() as i64;
        let grace_ms = grace.as_millis() as i64;
        let old_enough = |since: Option<i64>| since.is_some_and(|since| now - since >= grace_ms);
        let mut report = GcReport::default();

        let catalog = self.catalog().await;
        let mut published = BTreeSet::new();
        for object in storage.list_files(format::BLOBS_DIR).await? {
            let Some(id) = object.path.rsplit('/').next().filter(|id| format::is_sha256_hex(id)) else {
                continue;
            };
            if catalog.is_present(id) {
                published.insert(id.to_owned());
                continue;
            }
            let since = catalog.removed_at(id).map(|hlc| hlc.wall_ms as i64).or(object.modified_ms);
            if !old_enough(since) {
                published.insert(id.to_owned());
                continue;
            }
            let size = self.blob_manifest(id).await.ok().flatten().map_or(0, |manifest| manifest.size);
            // The manifest goes first: from then on the blob does not exist for anyone, and
            // its parts are merely garbage.
            storage.delete(&object.path).await?;
            for part in storage.list_files(&format!("{}{}/{id}/", format::PARTS_DIR, &id[..2])).await? {
                storage.delete(&part.path).await?;
            }
            report.blobs_deleted += 1;
            report.bytes_freed += size;
        }

        let mut orphans: BTreeMap<String, Vec<(String, Option<i64>)>> = BTreeMap::new();
        for part in storage.list_files(format::PARTS_DIR).await? {
            if let Some(id) = format::blob_of_part_path(&part.path)
                && !published.contains(id)
            {
                orphans.entry(id.to_owned()).or_default().push((part.path.clone(), part.modified_ms));
            }
        }
        for (id, parts) in orphans {
            let newest = parts.iter().filter_map(|(_, modified)| *modified).max();
            if !old_enough(newest) || storage.stat(&format::blob_path(&id)).await?.is_some() {
                continue;
            }
            for (path, _) in parts {
                storage.delete(&path).await?;
                report.abandoned_parts_deleted += 1;
            }
        }

        for object in storage.list_files(format::TMP_DIR).await? {
            // Staged writes take seconds; an hour-old one belongs to a client that died.
            if object.modified_ms.is_some_and(|modified| now - modified >= 3_600_000.min(grace_ms.max(1))) {
                storage.delete(&object.path).await?;
                report.staging_deleted += 1;
            }
        }
        Ok(report)
    }
}
