//! `inbox/`: audio that other tools drop into the locker is imported by whichever device syncs
//! first. Imports are idempotent (the track id is the content's hash), and the inbox file is
//! deleted only after its catalog op is in the log, so two devices racing can at worst both
//! import it — into one track — and nothing is lost.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tokio::io::AsyncWriteExt;

use crate::catalog::wall_clock_ms;
use crate::error::{LockerError, Result};
use crate::format;
use crate::locker::Locker;
use crate::upload::{UploadContext, blocking};

#[derive(Debug, Clone, Default, Serialize)]
pub struct InboxReport {
    pub imported: Vec<ImportedFile>,
    /// Files left in the inbox on purpose: not audio, or still being written.
    pub skipped: Vec<InboxIssue>,
    pub failed: Vec<InboxIssue>,
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

impl Locker {
    /// Imports every settled audio file in `inbox/`.
    pub async fn import_inbox(&self) -> Result<InboxReport> {
        let mut report = InboxReport::default();
        let settle_ms = self.inner.options.inbox_settle.as_millis() as i64;
        let now = wall_clock_ms() as i64;
        for object in self.storage().list_files(format::INBOX_DIR).await? {
            let name = object.path.rsplit('/').next().unwrap_or_default().to_owned();
            if name.is_empty() || name.starts_with('.') || name.ends_with(".part") || name.ends_with(".tmp") {
                continue;
            }
            // Listings of some backends carry no size or a coarser time than a stat; the stat
            // is what the import compares against before deleting.
            let Some(object) = self.storage().stat(&object.path).await? else { continue };
            if object.modified_ms.is_some_and(|modified| now - modified < settle_ms) {
                report.skipped.push(issue(
                    &object.path,
                    "settling",
                    "it changed less than the settle time ago",
                ));
                continue;
            }
            let key = (object.path.clone(), object.size);
            if self
                .inner
                .inbox_rejected
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .contains(&key)
            {
                report.skipped.push(issue(&object.path, "not_audio", "not an audio file Loft can read"));
                continue;
            }
            match self.import_one(&object.path, &name, object.size, object.modified_ms).await {
                Ok(Some(imported)) => report.imported.push(imported),
                Ok(None) => {
                    report.skipped.push(issue(&object.path, "taken", "another device imported it first"))
                }
                Err(error @ LockerError::NotAudio { .. }) => {
                    self.inner
                        .inbox_rejected
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .insert(key);
                    report.skipped.push(issue(&object.path, error.kind(), &error.to_string()));
                }
                Err(error) if error.is_transient() || error.kind() == "credentials" => return Err(error),
                Err(error) => report.failed.push(issue(&object.path, error.kind(), &error.to_string())),
            }
        }
        Ok(report)
    }

    /// Imports one inbox object; `None` when it vanished (another device took it) meanwhile.
    async fn import_one(
        &self,
        object: &str,
        name: &str,
        size: u64,
        modified_ms: Option<i64>,
    ) -> Result<Option<ImportedFile>> {
        // Tags first, by range reads: a non-audio file is refused without downloading it.
        let storage = self.storage().clone();
        let runtime = tokio::runtime::Handle::current();
        let path = object.to_owned();
        let tags = match blocking(move || crate::tags::read_remote(runtime, storage, &path, size)).await {
            Ok(tags) => tags,
            Err(LockerError::Storage(_) | LockerError::NotFound(_))
                if self.storage().stat(object).await?.is_none() =>
            {
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        let downloads = self.inner.state_dir.join("inbox-downloads");
        tokio::fs::create_dir_all(&downloads)
            .await
            .map_err(|error| LockerError::io(format!("cannot create {}", downloads.display()), error))?;
        let local = downloads.join(uuid::Uuid::new_v4().to_string());
        let outcome = self.import_downloaded(object, name, size, modified_ms, &local, tags).await;
        let _ = tokio::fs::remove_file(&local).await;
        outcome
    }

    async fn import_downloaded(
        &self,
        object: &str,
        name: &str,
        size: u64,
        modified_ms: Option<i64>,
        local: &Path,
        tags: crate::catalog::TrackTags,
    ) -> Result<Option<ImportedFile>> {
        if !self.download(object, size, local).await? {
            return Ok(None);
        }
        let context = UploadContext::new(1, None);
        let uploaded = self.upload_file(local, Some(name.to_owned()), Some(tags), &context).await?;
        if let Some(change) = uploaded.change {
            self.commit(vec![change]).await?;
        }
        // Delete only what was imported: if the file was replaced meanwhile, the new one stays
        // for the next sync.
        match self.storage().stat(object).await? {
            Some(now) if now.size == size && now.modified_ms == modified_ms => {
                self.storage().delete(object).await?
            }
            _ => {}
        }
        Ok(Some(ImportedFile { inbox_path: object.to_owned(), track_id: uploaded.track_id, size }))
    }

    /// Copies an object to a local file by ranges of one part; `false` when it vanished.
    async fn download(&self, object: &str, size: u64, local: &Path) -> Result<bool> {
        let mut file = tokio::fs::File::create(local)
            .await
            .map_err(|error| LockerError::io(format!("cannot create {}", local.display()), error))?;
        let step = self.part_size();
        let mut offset = 0;
        while offset < size {
            let end = (offset + step).min(size);
            let data = match self.storage().read_range(object, offset, end).await {
                Ok(data) => data,
                Err(LockerError::NotFound(_)) => return Ok(false),
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

fn issue(path: &str, kind: &str, reason: &str) -> InboxIssue {
    InboxIssue { inbox_path: path.to_owned(), kind: kind.to_owned(), reason: reason.to_owned() }
}
