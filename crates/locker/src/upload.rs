//! Uploads: hash, skip what the locker already has, check the quota, send the parts (one on the
//! wire while the next are read ahead, resumably), verify, publish the blob manifest, then
//! record the track in the catalog.

use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use futures::StreamExt;
use loft_media::{Format, Walk, WalkItem};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::{Change, TrackTags};
use crate::error::{ErrorKind, LockerError, Result};
use crate::format::{self, BlobManifest};
use crate::http;
use crate::local::{to_json, write_state_file};
use crate::locker::Locker;

/// Where an upload has got to; passed to the progress callback after every part and file, and
/// over HTTP also while a part is on the wire (about every 100 ms).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UploadProgress {
    pub files_done: usize,
    pub files_total: usize,
    /// Audio bytes sent so far in this upload (duplicates and resumed parts send none).
    pub bytes_sent: u64,
    pub current_file: Option<PathBuf>,
}

pub type ProgressCallback = Arc<dyn Fn(&UploadProgress) + Send + Sync>;

#[derive(Debug, Clone, Default, Serialize)]
pub struct UploadReport {
    pub uploaded: Vec<UploadedFile>,
    /// Files the locker already had: no audio bytes were sent for them.
    pub duplicates: Vec<UploadedFile>,
    /// Files the locker had, damaged (a part missing or not matching its hash, a wrong
    /// manifest): the damaged pieces were sent again.
    pub repaired: Vec<UploadedFile>,
    pub failed: Vec<FailedUpload>,
    pub bytes_sent: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadedFile {
    pub path: PathBuf,
    pub track_id: String,
    pub size: u64,
    pub bytes_sent: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedUpload {
    pub path: PathBuf,
    /// [`LockerError::kind`] of the failure.
    pub kind: ErrorKind,
    pub message: String,
}

impl FailedUpload {
    fn new(path: PathBuf, error: &LockerError) -> FailedUpload {
        FailedUpload { path, kind: error.kind(), message: error.to_string() }
    }
}

/// `<state_dir>/uploads/<hash of the source path>.json`: enough to resume an interrupted
/// upload without hashing the file again, as long as it has not changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Journal {
    source: PathBuf,
    size: u64,
    modified_ns: u128,
    sha256: String,
    part_size: u64,
    part_hashes: Vec<String>,
    done: BTreeSet<u64>,
}

/// What the files of one upload share: the progress shown to the caller and the bytes reserved
/// against the quota by files whose ops are not committed yet.
pub(crate) struct UploadContext {
    progress: ProgressReporter,
    reserved: std::sync::Mutex<u64>,
    /// Set by the caller to stop: checked before each part and before publishing.
    cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// Blobs the last `check` found damaged: a file of one is verified part by part (its
    /// parts downloaded and hashed) even though the catalog lists it, and repaired.
    damaged: BTreeSet<String>,
}

/// The progress of one upload and who hears of it; shared with the connection sending a part.
#[derive(Clone)]
struct ProgressReporter {
    progress: Arc<std::sync::Mutex<UploadProgress>>,
    callback: Option<ProgressCallback>,
}

impl ProgressReporter {
    fn update(&self, change: impl FnOnce(&mut UploadProgress)) {
        let snapshot = {
            let mut progress = self.progress.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            change(&mut progress);
            progress.clone()
        };
        if let Some(callback) = &self.callback {
            callback(&snapshot);
        }
    }
}

impl UploadContext {
    pub fn new(files_total: usize, callback: Option<ProgressCallback>) -> UploadContext {
        UploadContext {
            progress: ProgressReporter {
                progress: Arc::new(std::sync::Mutex::new(UploadProgress {
                    files_total,
                    ..UploadProgress::default()
                })),
                callback,
            },
            reserved: std::sync::Mutex::new(0),
            cancel: None,
            damaged: BTreeSet::new(),
        }
    }

    /// Fails with [`LockerError::Cancelled`] once the caller asked to stop.
    fn check_cancelled(&self, source: &Path) -> Result<()> {
        match &self.cancel {
            Some(flag) if flag.load(std::sync::atomic::Ordering::SeqCst) => {
                Err(LockerError::Cancelled(source.to_owned()))
            }
            _ => Ok(()),
        }
    }

    fn update(&self, change: impl FnOnce(&mut UploadProgress)) {
        self.progress.update(change);
    }

    fn reporter(&self) -> ProgressReporter {
        self.progress.clone()
    }

    /// Claims `size` bytes of the quota, or says how much is missing — before any byte is sent.
    fn reserve(&self, source: &Path, size: u64, usage: u64, quota: u64) -> Result<()> {
        let mut reserved = self.reserved.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let used = usage.saturating_add(*reserved);
        if used.saturating_add(size) > quota {
            return Err(LockerError::Quota {
                path: source.to_owned(),
                needed: size,
                available: quota.saturating_sub(used),
                quota,
            });
        }
        *reserved += size;
        Ok(())
    }

    fn release(&self, size: u64) {
        let mut reserved = self.reserved.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *reserved = reserved.saturating_sub(size);
    }
}

/// Shows the caller the part being sent as it goes onto the wire (S3 and WebDAV: the HTTP
/// client reports each slice of the body the connection takes), at most every
/// [`WIRE_PROGRESS_EVERY`], so a file smaller than a part does not sit at 0 until it is done.
struct PartOnTheWire {
    state: Arc<std::sync::Mutex<WireState>>,
}

struct WireState {
    /// Bytes of this part added to the caller's `bytes_sent` so far.
    shown: u64,
    last_shown_at: Option<std::time::Instant>,
    /// Cleared once the part is finished, so a late report from the connection changes nothing.
    open: bool,
    progress: ProgressReporter,
    /// The part's length, and what it takes on the wire.
    length: u64,
    stored: u64,
}

const WIRE_PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

impl PartOnTheWire {
    /// For a part of `length` bytes that goes on the wire as `stored` bytes (more when it is
    /// sealed): what is shown is the share of the part's own bytes.
    fn new(context: &UploadContext, length: u64, stored: u64) -> PartOnTheWire {
        let state = WireState {
            shown: 0,
            last_shown_at: None,
            open: true,
            progress: context.reporter(),
            length,
            stored: stored.max(1),
        };
        PartOnTheWire { state: Arc::new(std::sync::Mutex::new(state)) }
    }

    fn callback(&self) -> http::BodyProgress {
        let state = Arc::clone(&self.state);
        Arc::new(move |on_the_wire| {
            let mut state = state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let taken = if state.stored == state.length {
                on_the_wire
            } else {
                ((u128::from(on_the_wire) * u128::from(state.length)) / u128::from(state.stored)) as u64
            };
            // A retried request starts again from 0: that is shown at once, growth at a pace.
            let due = taken < state.shown
                || state.last_shown_at.is_none_or(|at| at.elapsed() >= WIRE_PROGRESS_EVERY);
            if !state.open || taken == state.shown || !due {
                return;
            }
            let shown = state.shown;
            state.progress.update(|progress| progress.bytes_sent = progress.bytes_sent - shown + taken);
            state.shown = taken;
            state.last_shown_at = Some(std::time::Instant::now());
        })
    }

    /// Ends the reports; returns how much of the part they showed.
    fn stop(self) -> u64 {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        state.open = false;
        state.shown
    }
}

pub(crate) struct Uploaded {
    pub track_id: String,
    pub size: u64,
    pub bytes_sent: u64,
    pub outcome: Outcome,
    /// The catalog op to commit, or `None` when the catalog has the track already.
    pub change: Option<Change>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The blob was sent (some or all of it).
    Sent,
    /// The locker had the blob, intact: nothing was sent.
    Duplicate,
    /// The catalog listed the track but its blob was damaged; the damage was sent again.
    Repaired,
}

/// What storing a blob did.
struct Stored {
    bytes_sent: u64,
    /// The manifest was there already, agreeing with the file.
    manifest_agreed: bool,
}

impl Locker {
    /// Uploads files and folders (recursively, audio files only). Each file either lands
    /// (uploaded or recognised as a duplicate) or is reported failed with its reason; a failure
    /// never stops the others. Catalog ops are committed in batches as files land.
    pub async fn upload(&self, paths: &[PathBuf], progress: Option<ProgressCallback>) -> UploadReport {
        self.upload_cancellable(paths, progress, None).await
    }

    /// [`Locker::upload`], stopping each file not yet published once `cancel` is set: those
    /// fail with kind "cancelled", nothing of them reaches the catalog, and their journal is
    /// removed so they are not resumed.
    pub async fn upload_cancellable(
        &self,
        paths: &[PathBuf],
        progress: Option<ProgressCallback>,
        cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
    ) -> UploadReport {
        let mut report = UploadReport::default();
        let (files, unusable) = expand_paths(paths.to_vec()).await;
        report.failed.extend(unusable);
        let mut context = UploadContext::new(files.len(), progress);
        context.cancel = cancel;
        context.damaged = self.damaged_blobs().await;
        let mut pending: Vec<(Change, UploadedFile, Outcome)> = Vec::new();
        // Several files at once, so per-file round trips (stat, manifest, verify) overlap on a
        // high-latency link; each file has its own parts in flight as well.
        let mut outcomes = futures::stream::iter(files)
            .map(|file| {
                let context = &context;
                async move {
                    context.update(|state| state.current_file = Some(file.clone()));
                    let name = file.file_name().map(|name| name.to_string_lossy().into_owned());
                    let outcome = self.upload_file(&file, name, None, context).await;
                    (file, outcome)
                }
            })
            .buffer_unordered(self.inner.options.files_in_flight);
        while let Some((file, outcome)) = outcomes.next().await {
            match outcome {
                Ok(uploaded) => {
                    report.bytes_sent += uploaded.bytes_sent;
                    let entry = UploadedFile {
                        path: file,
                        track_id: uploaded.track_id.clone(),
                        size: uploaded.size,
                        bytes_sent: uploaded.bytes_sent,
                    };
                    match (uploaded.change, uploaded.outcome) {
                        (Some(change), outcome) => pending.push((change, entry, outcome)),
                        (None, Outcome::Repaired) => report.repaired.push(entry),
                        (None, _) => report.duplicates.push(entry),
                    }
                }
                Err(error) => report.failed.push(FailedUpload::new(file, &error)),
            }
            context.update(|state| state.files_done += 1);
            if pending.len() >= self.inner.options.ops_per_log_file {
                self.commit_uploads(std::mem::take(&mut pending), &mut report, &context).await;
            }
        }
        drop(outcomes);
        self.commit_uploads(pending, &mut report, &context).await;
        if !report.repaired.is_empty() {
            let repaired: Vec<String> = report.repaired.iter().map(|file| file.track_id.clone()).collect();
            self.forget_damage(&repaired).await;
        }
        report
    }

    async fn commit_uploads(
        &self,
        pending: Vec<(Change, UploadedFile, Outcome)>,
        report: &mut UploadReport,
        context: &UploadContext,
    ) {
        if pending.is_empty() {
            return;
        }
        let changes = pending.iter().map(|(change, _, _)| change.clone()).collect();
        let outcome = self.commit(changes).await;
        // Committed files now count in the catalog's usage, failed ones not at all: either way
        // their reservation ends.
        context.release(pending.iter().map(|(_, file, _)| file.size).sum());
        if let Err(error) = &outcome {
            // The ops are in the outbox and in this device's catalog: the files are uploaded,
            // and their catalog entries reach the locker with the next push.
            tracing::warn!(%error, "uploaded files wait for their catalog entries to be written");
        }
        for (_, file, outcome) in pending {
            if outcome == Outcome::Duplicate {
                // The blob was there before this upload: a garbage collection that started
                // earlier may have swept it in the meantime. Put it back if so.
                match self.storage().stat(&format::blob_path(&file.track_id)).await {
                    Ok(None) => match self.upload_file(&file.path, None, None, context).await {
                        Ok(_) => {
                            tracing::info!(blob = %file.track_id, "restored a blob collected during its upload")
                        }
                        Err(error) => {
                            report.failed.push(FailedUpload::new(file.path, &error));
                            continue;
                        }
                    },
                    Ok(Some(_)) => {}
                    Err(error) => tracing::debug!(%error, "could not confirm a deduplicated blob"),
                }
                report.duplicates.push(file);
            } else {
                report.uploaded.push(file);
            }
        }
    }

    /// The files an upload of `paths` would send: named files as they are, folders walked for
    /// audio files, in a stable order; plus the paths that cannot be read. Front ends use it to
    /// know the total size before they start.
    pub async fn upload_candidates(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<FailedUpload>) {
        expand_paths(paths.to_vec()).await
    }

    /// The sources of uploads that were interrupted (by a crash or a kill) and can be resumed by
    /// uploading them again.
    pub async fn interrupted_uploads(&self) -> Vec<PathBuf> {
        let dir = self.inner.state_dir.join("uploads");
        tokio::task::spawn_blocking(move || {
            let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
            entries
                .filter_map(|entry| std::fs::read(entry.ok()?.path()).ok())
                .filter_map(|bytes| serde_json::from_slice::<Journal>(&bytes).ok())
                .map(|journal| journal.source)
                .collect()
        })
        .await
        .unwrap_or_default()
    }

    /// Puts one local file in the locker's blobs and returns the catalog op that records it.
    /// `tags` are read from the file when not given.
    pub(crate) async fn upload_file(
        &self,
        source: &Path,
        file_name: Option<String>,
        tags: Option<TrackTags>,
        context: &UploadContext,
    ) -> Result<Uploaded> {
        let tags = match tags {
            Some(tags) => tags,
            None => {
                let path = source.to_owned();
                blocking(move || crate::tags::read_local(&path)).await?
            }
        };
        let part_size = self.part_size();
        let journal_path = self.journal_path(source);
        let before = file_identity(source).await?;
        let journal = match read_journal(&journal_path).await {
            Some(journal)
                if journal.source == source
                    && (journal.size, journal.modified_ns) == before
                    && journal.part_size == part_size =>
            {
                journal
            }
            _ => {
                let path = source.to_owned();
                let (sha256, part_hashes) = blocking(move || hash_file(&path, part_size)).await?;
                Journal {
                    source: source.to_owned(),
                    size: before.0,
                    modified_ns: before.1,
                    sha256,
                    part_size,
                    part_hashes,
                    done: BTreeSet::new(),
                }
            }
        };
        let sha256 = journal.sha256.clone();
        let size = journal.size;
        let mut fields = tags.to_fields();
        if let Some(name) = file_name {
            fields.insert("file_name".to_owned(), serde_json::Value::String(name));
        }
        let change = Change::TrackPut { track: sha256.clone(), size, fields };

        let (listed, usage) = {
            let local = self.inner.local.lock().await;
            (local.catalog.is_present(&sha256), local.catalog.referenced_bytes())
        };
        if listed {
            // The catalog has the track. A cheap look (the manifest and the parts' sizes) says
            // whether its blob is whole; a blob the last check found damaged is read in full.
            if !context.damaged.contains(&sha256) && self.blob_looks_intact(&journal).await? {
                remove_journal(&journal_path).await;
                return Ok(Uploaded {
                    track_id: sha256,
                    size,
                    bytes_sent: 0,
                    outcome: Outcome::Duplicate,
                    change: None,
                });
            }
            tracing::info!(blob = %sha256, "the locker's copy is damaged; repairing it from this file");
            let stored = self.store_blob(journal, &journal_path, before, context).await?;
            remove_journal(&journal_path).await;
            return Ok(Uploaded {
                track_id: sha256,
                size,
                bytes_sent: stored.bytes_sent,
                outcome: Outcome::Repaired,
                change: None,
            });
        }
        context.reserve(source, size, usage, self.quota())?;
        let outcome = self.store_blob(journal, &journal_path, before, context).await;
        if outcome.is_err() {
            context.release(size);
        }
        if matches!(outcome, Err(LockerError::Cancelled(_))) {
            remove_journal(&journal_path).await;
        }
        let stored = outcome?;
        remove_journal(&journal_path).await;
        let outcome =
            if stored.bytes_sent == 0 && stored.manifest_agreed { Outcome::Duplicate } else { Outcome::Sent };
        Ok(Uploaded { track_id: sha256, size, bytes_sent: stored.bytes_sent, outcome, change: Some(change) })
    }

    /// Whether the blob's manifest agrees with the file and every part is there with its
    /// length: two or three requests, no audio bytes.
    async fn blob_looks_intact(&self, journal: &Journal) -> Result<bool> {
        let agrees = match self.blob_manifest(&journal.sha256).await {
            Ok(Some(manifest)) => manifest_agrees(&manifest, journal),
            Ok(None) => false,
            Err(error) if error.is_transient() => return Err(error),
            Err(_) => false,
        };
        Ok(agrees && self.missing_parts(&journal.sha256, journal.size, journal.part_size).await?.is_empty())
    }

    /// Puts the blob in the locker, whatever is there already: parts found present are
    /// downloaded and hashed and replaced when they differ, missing ones are sent, then the
    /// manifest is written (replacing one that disagrees, and telling a garbage collection that
    /// the blob is in use again).
    async fn store_blob(
        &self,
        journal: Journal,
        journal_path: &Path,
        before: (u64, u128),
        context: &UploadContext,
    ) -> Result<Stored> {
        let (sha256, size, part_size, source) =
            (journal.sha256.clone(), journal.size, journal.part_size, journal.source.clone());
        let manifest_agreed = match self.blob_manifest(&sha256).await {
            Ok(Some(manifest)) => manifest_agrees(&manifest, &journal),
            Ok(None) => false,
            Err(error) if error.is_transient() => return Err(error),
            Err(error) => {
                tracing::warn!(%error, "replacing a blob manifest that cannot be read");
                false
            }
        };
        write_state_file(journal_path, to_json(&journal), false).await?;
        let part_hashes = journal.part_hashes.clone();
        let mut journal = journal;
        let mut bytes_sent = self.send_parts(journal.clone(), journal_path, context).await?;
        // Parts the journal counted as sent but that are not there (collected as abandoned
        // while this upload was interrupted, say) are sent again, once.
        let missing = self.missing_parts(&sha256, size, part_size).await?;
        if !missing.is_empty() {
            journal.done =
                (0..format::part_count(size, part_size)).filter(|index| !missing.contains(index)).collect();
            bytes_sent += self.send_parts(journal, journal_path, context).await?;
            if let Some(index) = self.missing_parts(&sha256, size, part_size).await?.first() {
                return Err(LockerError::Storage(format!(
                    "verifying the upload failed: part {index} of {sha256} is not in the locker after it was sent"
                )));
            }
        }
        if file_identity(&source).await? != before {
            return Err(LockerError::FileChanged(source));
        }
        context.check_cancelled(&source)?;
        let manifest = BlobManifest {
            format: format::FIRST_FORMAT,
            sha256: sha256.clone(),
            size,
            part_size,
            parts: part_hashes,
        };
        // Publishing the manifest is what makes the blob exist; until here nothing was visible
        // under its final name.
        self.storage().put(&format::blob_path(&sha256), to_json(&manifest)).await?;
        Ok(Stored { bytes_sent, manifest_agreed })
    }

    /// Sends the parts the journal does not have yet, one body on the wire at a time: a kill
    /// loses at most the part being sent. A reader task stays ahead of the sender (checking
    /// whether each part is on the server already, then reading and re-hashing it), so the
    /// link is never idle waiting for the disk or for those checks.
    async fn send_parts(
        &self,
        journal: Journal,
        journal_path: &Path,
        context: &UploadContext,
    ) -> Result<u64> {
        let count = format::part_count(journal.size, journal.part_size);
        let todo: Vec<u64> = (0..count).filter(|index| !journal.done.contains(index)).collect();
        let journal = Arc::new(journal);
        // Parts held in memory: those queued plus the one being sent.
        let queued = self.inner.options.parts_in_flight.saturating_sub(1).max(1);
        let (ready, mut parts) = tokio::sync::mpsc::channel::<Result<(u64, Option<Bytes>)>>(queued);
        let reader = tokio::spawn(read_parts_ahead(self.storage().clone(), journal.clone(), todo, ready));
        // The reader stops by itself once this side is gone (its sends fail), but an error here
        // should not leave it reading a large file for nothing.
        let _stop_reader = AbortOnDrop(reader);
        let mut done = journal.done.clone();
        let mut sent = 0;
        while let Some(part) = parts.recv().await {
            context.check_cancelled(&journal.source)?;
            let (index, data) = part?;
            let (bytes, shown) = match data {
                Some(data) => {
                    let length = data.len() as u64;
                    let on_the_wire =
                        PartOnTheWire::new(context, length, self.storage().stored_len_of_new_part(length));
                    let part_path = format::part_path(&journal.sha256, index);
                    let put = self.storage().put_part(&part_path, data);
                    let result = http::with_body_progress(on_the_wire.callback(), put).await;
                    let shown = on_the_wire.stop();
                    if let Err(error) = result {
                        // What this part showed as sent did not land.
                        context.update(|state| state.bytes_sent -= shown);
                        return Err(error);
                    }
                    (length, shown)
                }
                None => (0, 0),
            };
            done.insert(index);
            sent += bytes;
            let mut updated = (*journal).clone();
            updated.done = done.clone();
            write_state_file(journal_path, to_json(&updated), false).await?;
            context.update(|state| state.bytes_sent = state.bytes_sent - shown + bytes);
        }
        Ok(sent)
    }

    /// The parts of a blob that are not in the locker with their length.
    async fn missing_parts(&self, sha256: &str, size: u64, part_size: u64) -> Result<Vec<u64>> {
        let count = format::part_count(size, part_size);
        let storage = self.storage().clone();
        let mut checks = futures::stream::iter(0..count)
            .map(|index| {
                let storage = storage.clone();
                let path = format::part_path(sha256, index);
                async move {
                    let expected = part_size.min(size - index * part_size);
                    storage.has_part(&path, expected).await.map(|present| (!present).then_some(index))
                }
            })
            .buffer_unordered(16);
        let mut missing = Vec::new();
        while let Some(result) = checks.next().await {
            missing.extend(result?);
        }
        missing.sort_unstable();
        Ok(missing)
    }

    /// The manifest of a blob, read under its name and checked to name that blob.
    pub(crate) async fn blob_manifest(&self, sha256: &str) -> Result<Option<BlobManifest>> {
        if !format::is_sha256_hex(sha256) {
            return Err(LockerError::InvalidInput(format!("'{sha256}' is not a SHA-256 in hex")));
        }
        let path = format::blob_path(sha256);
        match self.storage().read_capped(&path, None, format::MAX_MANIFEST_BYTES, "the blob manifest").await?
        {
            Some(bytes) => Ok(Some(BlobManifest::parse(sha256, &bytes)?)),
            None => Ok(None),
        }
    }

    fn journal_path(&self, source: &Path) -> PathBuf {
        let digest = Sha256::digest(source.to_string_lossy().as_bytes());
        self.inner.state_dir.join("uploads").join(format!("{}.json", &hex(&digest)[..32]))
    }
}

/// Runs blocking work (file I/O, hashing, tag parsing) on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        LockerError::io("a background task failed", std::io::Error::other(error.to_string()))
    })?
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

/// The SHA-256 of the whole file and of each part.
fn hash_file(path: &Path, part_size: u64) -> Result<(String, Vec<String>)> {
    let mut file = std::fs::File::open(path)
        .map_err(|error| LockerError::io(format!("cannot open {}", path.display()), error))?;
    let mut whole = Sha256::new();
    let mut part = Sha256::new();
    let mut in_part = 0u64;
    let mut parts = Vec::new();
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let want = buffer.len().min((part_size - in_part) as usize);
        let read = file
            .read(&mut buffer[..want])
            .map_err(|error| LockerError::io(format!("cannot read {}", path.display()), error))?;
        if read == 0 {
            break;
        }
        whole.update(&buffer[..read]);
        part.update(&buffer[..read]);
        in_part += read as u64;
        if in_part == part_size {
            parts.push(hex(&std::mem::take(&mut part).finalize()));
            in_part = 0;
        }
    }
    if in_part > 0 {
        parts.push(hex(&part.finalize()));
    }
    Ok((hex(&whole.finalize()), parts))
}

/// Reads one part and checks it still hashes as it did: a file edited mid-upload is caught here
/// rather than published with mixed content.
fn read_part(path: &Path, start: u64, length: u64, expected_sha256: &str) -> Result<Bytes> {
    let mut file = std::fs::File::open(path)
        .map_err(|error| LockerError::io(format!("cannot open {}", path.display()), error))?;
    let mut data = vec![0u8; length as usize];
    file.seek(SeekFrom::Start(start)).and_then(|_| file.read_exact(&mut data)).map_err(
        |error| match error.kind() {
            std::io::ErrorKind::UnexpectedEof => LockerError::FileChanged(path.to_owned()),
            _ => LockerError::io(format!("cannot read {}", path.display()), error),
        },
    )?;
    if hex(&Sha256::digest(&data)) != expected_sha256 {
        return Err(LockerError::FileChanged(path.to_owned()));
    }
    Ok(Bytes::from(data))
}

/// Feeds the sender the parts in `todo`, in order: `None` for a part the server has complete
/// already (sent just before a crash, or by another device uploading the same file), else its
/// bytes. It takes a queue slot before reading, so at most the queue's capacity is in memory.
async fn read_parts_ahead(
    storage: crate::storage::Storage,
    journal: Arc<Journal>,
    todo: Vec<u64>,
    ready: tokio::sync::mpsc::Sender<Result<(u64, Option<Bytes>)>>,
) {
    for index in todo {
        let Ok(slot) = ready.reserve().await else { return };
        let part = read_part_unless_present(&storage, &journal, index).await;
        let failed = part.is_err();
        slot.send(part.map(|data| (index, data)));
        if failed {
            return;
        }
    }
}

async fn read_part_unless_present(
    storage: &crate::storage::Storage,
    journal: &Journal,
    index: u64,
) -> Result<Option<Bytes>> {
    let start = index * journal.part_size;
    let length = journal.part_size.min(journal.size - start);
    let expected = journal.part_hashes[index as usize].clone();
    let path = format::part_path(&journal.sha256, index);
    // A part found in the locker counts only if its bytes have the hash this file's part has:
    // the right length alone says nothing (another tool may have put anything there).
    if storage.has_part(&path, length).await? {
        match storage.read_part(&path, &expected, length).await {
            Ok(Some(found)) if hex(&Sha256::digest(&found)) == expected => return Ok(None),
            Ok(_) => tracing::warn!(%path, "a part in the locker does not match its hash; replacing it"),
            Err(error) if error.is_transient() => return Err(error),
            Err(error) => tracing::warn!(%path, %error, "a part in the locker cannot be read; replacing it"),
        }
    }
    let source = journal.source.clone();
    blocking(move || read_part(&source, start, length, &expected)).await.map(Some)
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Size and modification time: what says a file is still the one that was hashed.
async fn file_identity(path: &Path) -> Result<(u64, u128)> {
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|error| LockerError::io(format!("cannot read {}", path.display()), error))?;
    if !meta.is_file() {
        return Err(LockerError::InvalidInput(format!("{} is not a file", path.display())));
    }
    let modified = meta
        .modified()
        .ok()
        .and_then(|time| time.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |elapsed| elapsed.as_nanos());
    Ok((meta.len(), modified))
}

async fn read_journal(path: &Path) -> Option<Journal> {
    let bytes = tokio::fs::read(path).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

async fn remove_journal(path: &Path) {
    // A journal left behind only means a later upload of that file re-checks its parts.
    let _ = tokio::fs::remove_file(path).await;
}

/// Files to upload: named files as they are, folders walked for audio files, in a stable order.
/// A folder's files in formats Loft knows but cannot play are kept, so their upload is refused
/// with that reason rather than skipped without a word.
async fn expand_paths(paths: Vec<PathBuf>) -> (Vec<PathBuf>, Vec<FailedUpload>) {
    tokio::task::spawn_blocking(move || {
        let mut files = Vec::new();
        let mut failed = Vec::new();
        // One walk for every dropped folder: a folder reached twice (through a link, or dropped
        // along with its parent) is listed once.
        let mut walk = Walk::new().files_named(|name| Format::of_path(Path::new(name)).is_some());
        for path in paths {
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => {
                    walk.add_root(&path);
                    for item in walk.by_ref() {
                        match item {
                            WalkItem::Folder(folder) => {
                                files.extend(folder.files.into_iter().map(|file| file.path))
                            }
                            WalkItem::Unreadable { path, error, .. } => {
                                let error = LockerError::io(format!("cannot read {}", path.display()), error);
                                failed.push(FailedUpload::new(path, &error));
                            }
                        }
                    }
                }
                Ok(_) => files.push(path),
                Err(error) => {
                    let error = LockerError::io(format!("cannot read {}", path.display()), error);
                    failed.push(FailedUpload::new(path, &error));
                }
            }
        }
        (files, failed)
    })
    .await
    .unwrap_or_default()
}

/// Whether a manifest found in the locker describes exactly this file's parts.
fn manifest_agrees(manifest: &BlobManifest, journal: &Journal) -> bool {
    manifest.size == journal.size
        && manifest.part_size == journal.part_size
        && manifest.parts == journal.part_hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_parts_and_the_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let data: Vec<u8> = (0..250_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let (whole, parts) = hash_file(&path, 100_000).unwrap();
        assert_eq!(whole, hex(&Sha256::digest(&data)));
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2], hex(&Sha256::digest(&data[200_000..])));
        assert!(read_part(&path, 100_000, 100_000, &parts[1]).is_ok());
        std::fs::write(&path, vec![0u8; 250_000]).unwrap();
        assert_eq!(read_part(&path, 100_000, 100_000, &parts[1]).unwrap_err().kind(), "file_changed");
    }
}
