//! `loft locker check`: reads the whole locker back and says what is wrong with it, as a backup
//! tool checks its repository. Every blob a present track references is verified — its
//! manifest there and valid, every part there, each part's bytes matching the manifest's hash,
//! the whole file matching the track's id — and every log, snapshot and device record is read.
//! Unreferenced manifests and parts are listed too (garbage collection removes them after the
//! grace period; they are not damage).
//!
//! The result is kept in the state folder: the cloud pane shows it, and an upload of a file
//! whose blob it found damaged verifies that blob in full and repairs it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::wall_clock_ms;
use crate::error::Result;
use crate::format::{self, BlobManifest};
use crate::local::{to_json, write_state_file};
use crate::locker::Locker;
use crate::upload::hex;

const LAST_CHECK_FILE: &str = "last-check.json";
/// Parts read at once while checking.
const PARTS_IN_FLIGHT: usize = 4;

/// What a check found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct CheckReport {
    /// When the check ended (this device's clock).
    pub checked_ms: u64,
    /// Blobs of present tracks that were verified.
    pub blobs_checked: usize,
    pub parts_checked: u64,
    pub bytes_read: u64,
    /// Everything wrong, and everything merely unreferenced.
    pub findings: Vec<Finding>,
}

impl CheckReport {
    /// Whether anything is wrong: damage, missing pieces, files that cannot be read.
    /// Unreferenced blobs and parts are not damage.
    pub fn has_damage(&self) -> bool {
        self.findings.iter().any(|finding| finding.kind.is_damage())
    }

    /// Blobs with a missing or damaged manifest or part.
    pub fn damaged_blobs(&self) -> BTreeSet<String> {
        self.findings
            .iter()
            .filter(|finding| finding.kind.is_blob_damage())
            .map(|finding| finding.id.clone())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct Finding {
    pub kind: FindingKind,
    /// The blob (a SHA-256), or the object's path for logs, snapshots and device records.
    pub id: String,
    /// What is wrong, for people.
    pub detail: String,
    /// What to do about it.
    pub repair: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    MissingManifest,
    DamagedManifest,
    MissingPart,
    DamagedPart,
    UnreadableLog,
    UnreadableSnapshot,
    UnreadableDevice,
    UnreferencedManifest,
    UnreferencedParts,
}

impl FindingKind {
    pub fn is_damage(self) -> bool {
        !matches!(self, FindingKind::UnreferencedManifest | FindingKind::UnreferencedParts)
    }

    fn is_blob_damage(self) -> bool {
        matches!(
            self,
            FindingKind::MissingManifest
                | FindingKind::DamagedManifest
                | FindingKind::MissingPart
                | FindingKind::DamagedPart
        )
    }
}

/// Progress of a check: blobs verified so far of those to verify, and bytes read.
pub type CheckProgress = dyn Fn(usize, usize, u64) + Send + Sync;

fn blob_repair(name: Option<&str>) -> String {
    match name {
        Some(name) => {
            format!("upload the file ({name}) again from any device that has it: Loft repairs the blob")
        }
        None => "upload the file again from any device that has it: Loft repairs the blob".to_owned(),
    }
}

impl Locker {
    /// Verifies the whole locker (see the module documentation) and keeps the result.
    pub async fn check(&self, progress: Option<Arc<CheckProgress>>) -> Result<CheckReport> {
        let pulled = self.pull().await?;
        let mut report = CheckReport::default();
        for (path, problem) in pulled.unread_logs.into_iter().zip(pulled.problems) {
            report.findings.push(Finding {
                kind: FindingKind::UnreadableLog,
                id: path,
                detail: problem,
                repair: "the device that wrote it must write it again; until then its later edits wait, and \
                         nothing is garbage-collected"
                    .into(),
            });
        }
        for (path, size) in self.snapshot_names().await? {
            if let Err(error) = self.read_snapshot(&path, size).await {
                if error.is_transient() {
                    return Err(error);
                }
                report.findings.push(Finding {
                    kind: FindingKind::UnreadableSnapshot,
                    id: path,
                    detail: error.to_string(),
                    repair: "nothing to do: an older snapshot and the logs are used instead, and the next \
                             compaction writes a new one"
                        .into(),
                });
            }
        }
        for path in self.device_files().await?.1 {
            report.findings.push(Finding {
                kind: FindingKind::UnreadableDevice,
                detail: format!("the device record {path} cannot be read"),
                id: path,
                repair: "that device rewrites it at its next sync; until then logs are not compacted".into(),
            });
        }

        let storage = self.storage().clone();
        let mut manifests: BTreeSet<String> = BTreeSet::new();
        for object in storage.list_files(format::BLOBS_DIR).await? {
            if let Some(id) = format::blob_of_manifest_path(&object.path) {
                manifests.insert(id.to_owned());
            }
        }
        let mut parts: BTreeMap<String, BTreeMap<u64, (u64, bool)>> = BTreeMap::new();
        for object in storage.list_files(format::PARTS_DIR).await? {
            if let Some((id, index)) = format::part_of_path(&object.path) {
                parts.entry(id.to_owned()).or_default().insert(index, (object.size, object.sealed));
            }
        }

        let tracks = self.tracks().await;
        let total = tracks.len();
        for (done, track) in tracks.iter().enumerate() {
            let repair = blob_repair(track.file_name.as_deref());
            if !manifests.contains(&track.id) {
                report.findings.push(Finding {
                    kind: FindingKind::MissingManifest,
                    id: track.id.clone(),
                    detail: format!("the blob of {} has no manifest", describe(track)),
                    repair,
                });
                continue;
            }
            let manifest = match self.blob_manifest(&track.id).await {
                Ok(Some(manifest)) => manifest,
                Ok(None) => continue,
                Err(error) if error.is_transient() => return Err(error),
                Err(error) => {
                    report.findings.push(Finding {
                        kind: FindingKind::DamagedManifest,
                        id: track.id.clone(),
                        detail: error.to_string(),
                        repair,
                    });
                    continue;
                }
            };
            let listed = parts.get(&track.id).cloned().unwrap_or_default();
            self.check_blob(&manifest, &listed, describe(track), &repair, &mut report).await?;
            report.blobs_checked += 1;
            if let Some(progress) = &progress {
                progress(done + 1, total, report.bytes_read);
            }
        }

        let referenced: BTreeSet<&str> = tracks.iter().map(|track| track.id.as_str()).collect();
        for id in &manifests {
            if !referenced.contains(id.as_str()) {
                report.findings.push(Finding {
                    kind: FindingKind::UnreferencedManifest,
                    id: id.clone(),
                    detail: "a blob no track refers to (removed, or uploaded without its catalog entry)"
                        .into(),
                    repair: "`loft locker gc` removes it once it has been unreferenced for the grace period"
                        .into(),
                });
            }
        }
        for (id, found) in &parts {
            if !manifests.contains(id) {
                report.findings.push(Finding {
                    kind: FindingKind::UnreferencedParts,
                    id: id.clone(),
                    detail: format!("{} part(s) with no manifest (an upload that never finished)", found.len()),
                    repair: "an upload of the file finishes it; else `loft locker gc` removes them after the grace \
                             period"
                        .into(),
                });
            }
        }
        report.checked_ms = wall_clock_ms();
        write_state_file(&self.inner.state_dir.join(LAST_CHECK_FILE), to_json(&report), false).await?;
        Ok(report)
    }

    /// Reads every part of one blob and checks it against the manifest, then the whole file
    /// against the blob's name.
    async fn check_blob(
        &self,
        manifest: &BlobManifest,
        listed: &BTreeMap<u64, (u64, bool)>,
        name: String,
        repair: &str,
        report: &mut CheckReport,
    ) -> Result<()> {
        let storage = self.storage().clone();
        let count = manifest.parts.len() as u64;
        let mut whole = Sha256::new();
        let mut whole_complete = true;
        let mut reads = futures::stream::iter(0..count)
            .map(|index| {
                let storage = storage.clone();
                let length = manifest.part_len(index);
                let expected_hash = manifest.parts[index as usize].clone();
                let present = listed
                    .get(&index)
                    .map(|(size, sealed)| (*size, storage.stored_part_len(*sealed, length)));
                let path = format::part_path(&manifest.sha256, index);
                async move {
                    if present.is_none_or(|(size, complete)| size != complete) {
                        return (index, Ok(None), present);
                    }
                    (index, storage.read_part(&path, &expected_hash, length).await, present)
                }
            })
            .buffered(PARTS_IN_FLIGHT);
        while let Some((index, read, present)) = reads.next().await {
            let expected = &manifest.parts[index as usize];
            let damage = match read {
                Ok(Some(bytes)) => {
                    report.parts_checked += 1;
                    report.bytes_read += bytes.len() as u64;
                    let matches = hex(&Sha256::digest(&bytes)) == *expected;
                    if matches && whole_complete {
                        whole.update(&bytes);
                    }
                    (!matches).then(|| {
                        (FindingKind::DamagedPart, format!("part {index} of {name} does not match its hash"))
                    })
                }
                Ok(None) => Some((
                    FindingKind::MissingPart,
                    match present {
                        Some((size, complete)) => {
                            format!("part {index} of {name} takes {size} bytes instead of {complete}")
                        }
                        None => format!("part {index} of {name} is missing"),
                    },
                )),
                Err(error) if error.is_transient() => return Err(error),
                Err(error) => Some((FindingKind::DamagedPart, format!("part {index} of {name}: {error}"))),
            };
            if let Some((kind, detail)) = damage {
                whole_complete = false;
                report.findings.push(Finding {
                    kind,
                    id: manifest.sha256.clone(),
                    detail,
                    repair: repair.to_owned(),
                });
            }
        }
        if whole_complete && hex(&whole.finalize()) != manifest.sha256 {
            report.findings.push(Finding {
                kind: FindingKind::DamagedManifest,
                id: manifest.sha256.clone(),
                detail: format!("the parts of {name} match its manifest, but together they are not the file"),
                repair: repair.to_owned(),
            });
        }
        Ok(())
    }

    /// The result of the last check on this device, if one ran.
    pub async fn last_check(&self) -> Option<CheckReport> {
        let bytes = tokio::fs::read(self.inner.state_dir.join(LAST_CHECK_FILE)).await.ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Blobs the last check found damaged and no upload has repaired since.
    pub(crate) async fn damaged_blobs(&self) -> BTreeSet<String> {
        self.last_check().await.map(|report| report.damaged_blobs()).unwrap_or_default()
    }

    /// Records that these blobs were repaired, so the last check no longer lists them.
    pub(crate) async fn forget_damage(&self, repaired: &[String]) {
        let Some(mut report) = self.last_check().await else { return };
        report.findings.retain(|finding| !(finding.kind.is_blob_damage() && repaired.contains(&finding.id)));
        if let Err(error) =
            write_state_file(&self.inner.state_dir.join(LAST_CHECK_FILE), to_json(&report), false).await
        {
            tracing::warn!(%error, "could not update the last check's result");
        }
    }
}

fn describe(track: &crate::catalog::Track) -> String {
    match (&track.title, &track.file_name) {
        (Some(title), _) => format!("'{title}' ({})", &track.id[..12]),
        (None, Some(name)) => format!("{name} ({})", &track.id[..12]),
        (None, None) => track.id[..12].to_owned(),
    }
}
