//! `inbox/`: audio that other tools drop into the locker is imported by whichever device syncs
//! first. Imports are idempotent (the track id is the content's hash), and the inbox file is
//! deleted only after its catalog op is in the log, so two devices racing can at worst both
//! import it — into one track — and nothing is lost.
//!
//! Everything in the inbox is someone else's: its size and the quota are checked before a byte
//! is downloaded, an object that cannot be imported is reported once and then left alone (until
//! it changes), and one bad object never stops the others.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use crate::catalog::wall_clock_ms;
use crate::error::{ErrorKind, LockerError, Result};
use crate::format;
use crate::local::{to_json, write_state_file};
use crate::locker::Locker;
use crate::storage::ListedObject;
use crate::upload::{UploadContext, blocking};

/// Where inbox objects are downloaded to before they are imported (emptied at every start).
pub(crate) const DOWNLOADS_DIR: &str = "inbox-downloads";
/// Inbox objects that could not be imported, so later syncs leave them alone.
const REFUSED_FILE: &str = "inbox-refused.json";

#[derive(Debug, Clone, Default, Serialize)]
pub struct InboxReport {
    pub imported: Vec<ImportedFile>,
    /// Files left in the inbox on purpose: still being written, or taken by another device.
    pub skipped: Vec<InboxIssue>,
    /// Files that cannot be imported (not audio, too large, over the quota, unreadable): each
    /// reported by the sync that first met it, then left alone until it changes.
    pub failed: Vec<InboxIssue>,
    /// Files refused by an earlier sync and left alone by this one.
    pub ignored: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedFile {
    pub inbox_path: String,
    pub track_id: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxIssue {
    pub inbox_path: String,
    pub kind: String,
    pub reason: String,
}

/// `<state_dir>/inbox-refused.json`: for each refused object, the size and time it had then
/// and, for one refused for the quota, the quota then (raising it makes the object worth
/// another try).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Refused {
    locker_id: String,
    objects: BTreeMap<String, (u64, Option<i64>, Option<u64>)>,
}

impl Locker {
    /// Imports every settled audio file in `inbox/`. Never fails as a whole: a failure to list
    /// the inbox, or to reach the locker midway, is in the report, with what was done before.
    pub async fn import_inbox(&self) -> InboxReport {
        let mut report = InboxReport::default();
        let listed = match self.storage().list_files(format::INBOX_DIR).await {
            Ok(listed) => listed,
            Err(error) => {
                report.failed.push(issue(format::INBOX_DIR, error.kind().as_str(), &error.to_string()));
                return report;
            }
        };
        let mut refused = self.load_refused().await;
        let settle_ms = i64::try_from(self.inner.options.inbox_settle.as_millis()).unwrap_or(i64::MAX);
        let now = i64::try_from(wall_clock_ms()).unwrap_or(i64::MAX);
        let mut refused_changed = false;
        for object in listed {
            let name = object.path.rsplit('/').next().unwrap_or_default().to_owned();
            if name.is_empty() || name.starts_with('.') || name.ends_with(".part") || name.ends_with(".tmp") {
                continue;
            }
            // Listings of some backends carry no size or a coarser time than a stat; the stat
            // is what the import compares against before deleting.
            let object = match self.storage().stat(&object.path).await {
                Ok(Some(object)) => object,
                Ok(None) => continue,
                Err(error) if error.is_transient() => {
                    report.failed.push(issue(&object.path, error.kind().as_str(), &error.to_string()));
                    break;
                }
                Err(error) => {
                    report.failed.push(issue(&object.path, error.kind().as_str(), &error.to_string()));
                    continue;
                }
            };
            let quota = self.quota();
            let still_refused =
                refused.objects.get(&object.path).is_some_and(|(size, modified, refused_quota)| {
                    (*size, *modified) == (object.size, object.modified_ms)
                        && refused_quota.is_none_or(|q| q == quota)
                });
            if still_refused {
                report.ignored += 1;
                continue;
            }
            if object.modified_ms.is_some_and(|modified| now.saturating_sub(modified) < settle_ms) {
                report.skipped.push(issue(
                    &object.path,
                    "settling",
                    "it changed less than the settle time ago",
                ));
                continue;
            }
            match self.import_one(&object, &name).await {
                Ok(Some(imported)) => report.imported.push(imported),
                Ok(None) => {
                    report.skipped.push(issue(&object.path, "taken", "another device imported it first"))
                }
                Err(error) if error.is_transient() => {
                    report.failed.push(issue(&object.path, error.kind().as_str(), &error.to_string()));
                    break;
                }
                Err(error) => {
                    tracing::warn!(object = %object.path, %error, "an inbox object cannot be imported");
                    report.failed.push(issue(&object.path, error.kind().as_str(), &error.to_string()));
                    if refuses_for_good(error.kind()) {
                        let quota = (error.kind() == ErrorKind::Quota).then_some(quota);
                        refused.objects.insert(object.path.clone(), (object.size, object.modified_ms, quota));
                        refused_changed = true;
                    }
                }
            }
        }
        if refused_changed
            && let Err(error) =
                write_state_file(&self.inner.state_dir.join(REFUSED_FILE), to_json(&refused), false).await
        {
            tracing::warn!(%error, "cannot remember the refused inbox objects");
        }
        report
    }

    async fn load_refused(&self) -> Refused {
        let locker_id = self.locker_id();
        let read = tokio::fs::read(self.inner.state_dir.join(REFUSED_FILE)).await.ok();
        read.and_then(|bytes| serde_json::from_slice::<Refused>(&bytes).ok())
            .filter(|refused| refused.locker_id == locker_id)
            .unwrap_or(Refused { locker_id, objects: BTreeMap::new() })
    }

    /// Imports one inbox object; `None` when it vanished (another device took it) meanwhile.
    async fn import_one(&self, object: &ListedObject, name: &str) -> Result<Option<ImportedFile>> {
        if object.size > format::MAX_BLOB_SIZE {
            return Err(LockerError::InvalidInput(format!(
                "{} is {} long, larger than any audio file Loft takes",
                object.path,
                crate::quota::format_size(object.size)
            )));
        }
        let (usage, quota) = (self.usage().await, self.quota());
        if usage.saturating_add(object.size) > quota {
            return Err(LockerError::Quota {
                path: PathBuf::from(&object.path),
                needed: object.size,
                available: quota.saturating_sub(usage),
                quota,
            });
        }
        // Tags first, by range reads: a non-audio file is refused without downloading it.
        let storage = self.storage().clone();
        let runtime = tokio::runtime::Handle::current();
        let (path, size) = (object.path.clone(), object.size);
        let tags = match blocking(move || crate::tags::read_remote(runtime, storage, &path, size)).await {
            Ok(tags) => tags,
            Err(error)
                if error.kind() != ErrorKind::NotAudio
                    && self.storage().stat(&object.path).await?.is_none() =>
            {
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        let downloads = self.inner.state_dir.join(DOWNLOADS_DIR);
        tokio::fs::create_dir_all(&downloads)
            .await
            .map_err(|error| LockerError::io(format!("cannot create {}", downloads.display()), error))?;
        let local = downloads.join(uuid::Uuid::new_v4().to_string());
        let outcome = self.import_downloaded(object, name, &local, tags).await;
        let _ = tokio::fs::remove_file(&local).await;
        outcome
    }

    async fn import_downloaded(
        &self,
        object: &ListedObject,
        name: &str,
        local: &Path,
        tags: crate::catalog::TrackTags,
    ) -> Result<Option<ImportedFile>> {
        if !self.download(&object.path, object.size, local).await? {
            return Ok(None);
        }
        let context = UploadContext::new(1, None);
        let uploaded = self.upload_file(local, Some(name.to_owned()), Some(tags), &context).await?;
        if let Some(change) = uploaded.change {
            self.commit(vec![change]).await?;
        }
        // Delete only what was imported: if the file was replaced meanwhile, the new one stays
        // for the next sync.
        match self.storage().stat(&object.path).await? {
            Some(now) if now.size == object.size && now.modified_ms == object.modified_ms => {
                self.storage().delete(&object.path).await?
            }
            _ => {}
        }
        Ok(Some(ImportedFile {
            inbox_path: object.path.clone(),
            track_id: uploaded.track_id,
            size: object.size,
        }))
    }

    /// Copies an object to a local file by ranges of one part; `false` when it vanished. Every
    /// range must come back whole, so what is imported is exactly the object that was stat'ed.
    async fn download(&self, object: &str, size: u64, local: &Path) -> Result<bool> {
        let mut file = tokio::fs::File::create(local)
            .await
            .map_err(|error| LockerError::io(format!("cannot create {}", local.display()), error))?;
        let step = self.part_size();
        let mut offset = 0;
        while offset < size {
            let end = offset.saturating_add(step).min(size);
            let data = match self.storage().read_range(object, offset, end).await {
                Ok(data) => data,
                Err(error) if error.kind() == ErrorKind::NotFound => return Ok(false),
                Err(error) => return Err(error),
            };
            if data.len() as u64 != end - offset {
                return Err(LockerError::FileChanged(PathBuf::from(object)));
            }
            file.write_all(&data)
                .await
                .map_err(|error| LockerError::io(format!("cannot write {}", local.display()), error))?;
            offset = end;
        }
        file.flush()
            .await
            .map_err(|error| LockerError::io(format!("cannot write {}", local.display()), error))?;
        Ok(true)
    }
}

/// Failures that will not go away by trying the same object again.
fn refuses_for_good(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::NotAudio
            | ErrorKind::InvalidInput
            | ErrorKind::Format
            | ErrorKind::Quota
            | ErrorKind::Integrity
    )
}

fn issue(path: &str, kind: &str, reason: &str) -> InboxIssue {
    InboxIssue { inbox_path: path.to_owned(), kind: kind.to_owned(), reason: reason.to_owned() }
}
