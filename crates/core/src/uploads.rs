//! The uploads panel's queue: files dropped on the window or picked with the dialog wait here,
//! go to the locker a few at a time in the background, and each shows its own state and bytes.
//! A queued file can be cancelled, a failed or cancelled one retried. What was still waiting
//! or sending when the app stopped is written to `<profile>/locker/upload-queue.json` and goes
//! on at the next start (the locker's own journal makes a half-sent file resume, not restart).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::ErrorKind;
use crate::hub::Hub;
use crate::index::{emit_library_changed, locker_copy};
use crate::session::blocking;
use crate::{CoreError, Event, Loft};

/// Files sent at once: enough to overlap each file's round trips on a slow link, few enough
/// that each shows steady progress.
const FILES_IN_FLIGHT: usize = 2;
/// Finished entries kept for the panel; older ones are dropped first.
const FINISHED_KEPT: usize = 500;
/// Progress-only changes reach the window at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(150);

/// Where one file of the queue stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum UploadState {
    Queued,
    Sending,
    /// Sent and in the catalog.
    Done,
    /// The locker had it already: no audio was sent.
    Duplicate,
    Failed,
    Cancelled,
}

impl UploadState {
    fn finished(self) -> bool {
        !matches!(self, UploadState::Queued | UploadState::Sending)
    }
}

/// One file in the uploads panel.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct UploadItem {
    pub id: u64,
    pub path: PathBuf,
    pub size: u64,
    pub bytes_sent: u64,
    pub state: UploadState,
    /// Why it failed ([`loft_locker::LockerError::kind`] and the message), when it did.
    pub error_kind: Option<ErrorKind>,
    pub message: Option<String>,
}

/// `upload-queue.json`: the files still to send, and those the user cancelled (so the
/// locker's journal of a half-sent file does not bring them back).
#[derive(Debug, Default, Serialize, Deserialize)]
struct SavedQueue {
    pending: Vec<PathBuf>,
    cancelled: Vec<PathBuf>,
}

/// The queue and the senders that work through it.
pub(crate) struct Uploads {
    hub: Arc<Hub>,
    pub(crate) queue: UploadQueue,
}

#[derive(Default)]
pub(crate) struct UploadQueue {
    state: Mutex<QueueState>,
    /// Held while the queue file is written, with the snapshot taken under it, so the file
    /// always ends up with the newest snapshot.
    saving: Mutex<()>,
    /// Set when the service shuts down: uploads cut short by the shutdown are neither failed
    /// nor saved as such; they stay pending for the next start.
    closing: std::sync::atomic::AtomicBool,
}

impl UploadQueue {
    pub(crate) fn close(&self) {
        self.closing.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn closing(&self) -> bool {
        self.closing.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[derive(Default)]
struct QueueState {
    items: Vec<UploadItem>,
    next_id: u64,
    /// Senders running (0 when idle).
    workers: usize,
    cancelled: HashSet<PathBuf>,
    last_progress_event: Option<Instant>,
    /// Whether the saved queue of the last run was picked up.
    loaded: bool,
    /// The stop flag of each file being sent, by upload id.
    stops: std::collections::HashMap<u64, Arc<std::sync::atomic::AtomicBool>>,
}

impl UploadQueue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Loft {
    /// Adds files and folders (walked for audio files) to the upload queue and returns at
    /// once; the queue sends them in the background. A drop that cannot fit in what is left
    /// of the quota is refused whole, before anything is queued, with the numbers.
    pub fn enqueue_uploads(&self, paths: &[PathBuf]) -> Result<Vec<UploadItem>, CoreError> {
        let url = self.settings().locker_url.ok_or_else(crate::locker::not_connected)?;
        let uploads = self.uploads.clone();
        self.hub.block_on(uploads.enqueue(&url, paths))
    }

    /// The upload queue as the panel shows it, oldest first.
    pub fn uploads(&self) -> Vec<UploadItem> {
        self.uploads.queue.lock().items.clone()
    }

    /// Cancels a file: one still waiting at once, one being sent before its next part (what
    /// it sent is not published; the catalog never hears of it). A file already published
    /// stays; it can be removed from the locker.
    pub fn cancel_upload(&self, id: u64) -> Result<UploadItem, CoreError> {
        let uploads = &self.uploads;
        let item = {
            let mut queue = uploads.queue.lock();
            let Some(index) = queue.items.iter().position(|item| item.id == id) else {
                return Err(CoreError::InvalidInput(format!("there is no upload {id}")));
            };
            let state = queue.items[index].state;
            match state {
                UploadState::Queued => queue.items[index].state = UploadState::Cancelled,
                UploadState::Sending => {
                    if let Some(stop) = queue.stops.get(&id) {
                        stop.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                _ => return Ok(queue.items[index].clone()),
            }
            let item = queue.items[index].clone();
            queue.cancelled.insert(item.path.clone());
            item
        };
        uploads.queue_changed(true);
        Ok(item)
    }

    /// Queues a failed or cancelled file again.
    pub fn retry_upload(&self, id: u64) -> Result<UploadItem, CoreError> {
        let url = self.settings().locker_url.ok_or_else(crate::locker::not_connected)?;
        let uploads = self.uploads.clone();
        let item = {
            let mut queue = uploads.queue.lock();
            let Some(index) = queue.items.iter().position(|item| item.id == id) else {
                return Err(CoreError::InvalidInput(format!("there is no upload {id}")));
            };
            let path = queue.items[index].path.clone();
            let item = &mut queue.items[index];
            if matches!(item.state, UploadState::Failed | UploadState::Cancelled) {
                item.state = UploadState::Queued;
                item.bytes_sent = 0;
                item.error_kind = None;
                item.message = None;
            }
            let item = item.clone();
            queue.cancelled.remove(&path);
            item
        };
        uploads.queue_changed(true);
        uploads.start_workers(&url);
        Ok(item)
    }

    /// Forgets the finished entries (done, duplicate, failed, cancelled).
    pub fn clear_finished_uploads(&self) {
        self.uploads.queue.lock().items.retain(|item| !item.state.finished());
        self.uploads.queue_changed(true);
    }
}

impl Uploads {
    pub(crate) fn new(hub: Arc<Hub>) -> Uploads {
        Uploads { hub, queue: UploadQueue::default() }
    }

    async fn enqueue(self: &Arc<Self>, url: &str, paths: &[PathBuf]) -> Result<Vec<UploadItem>, CoreError> {
        let locker = self.hub.session.locker(url).await?.locker;
        let (files, unusable) = loft_locker::Locker::upload_candidates(paths).await;
        let library = self.hub.library.clone();
        let files: Vec<(PathBuf, u64, bool)> = blocking(move || {
            Ok::<_, CoreError>(
                files
                    .into_iter()
                    .map(|file| {
                        let size = std::fs::metadata(&file).map(|meta| meta.len()).unwrap_or(0);
                        let file = std::fs::canonicalize(&file).unwrap_or(file);
                        let known = known_in_locker(&library, &file);
                        (file, size, known)
                    })
                    .collect(),
            )
        })
        .await?;
        // With the locker unreachable the files wait in the queue; each is checked against
        // the quota again when it is sent.
        match self.hub.session.note(locker.status().await) {
            Ok(status) => {
                let new_bytes: u64 =
                    files.iter().filter(|(_, _, known)| !known).map(|(_, size, _)| size).sum();
                let left = status.quota_bytes.saturating_sub(status.usage_bytes);
                if new_bytes > left {
                    return Err(loft_locker::LockerError::Quota {
                        path: paths.first().cloned().unwrap_or_default(),
                        needed: new_bytes,
                        available: left,
                        quota: status.quota_bytes,
                    }
                    .into());
                }
            }
            Err(error) if error.kind() == ErrorKind::Network => {}
            Err(error) => return Err(error),
        }
        let added = {
            let mut queue = self.queue.lock();
            let mut added = Vec::new();
            for (path, size, _) in files {
                let waiting = queue.items.iter().any(|item| {
                    item.path == path && matches!(item.state, UploadState::Queued | UploadState::Sending)
                });
                if waiting {
                    continue;
                }
                queue.cancelled.remove(&path);
                let item = queue.push(path, size, UploadState::Queued, None, None);
                added.push(item);
            }
            for failed in unusable {
                let item = queue.push(
                    failed.path,
                    0,
                    UploadState::Failed,
                    Some(failed.kind.into()),
                    Some(failed.message),
                );
                added.push(item);
            }
            added
        };
        self.queue_changed(true);
        self.start_workers(url);
        Ok(added)
    }

    /// Picks up what the last run left in the queue and the files whose upload the locker's
    /// journal says was interrupted, unless the user cancelled them. Called by the background
    /// loop whenever the locker answers; cheap when there is nothing to do.
    pub(crate) async fn resume(self: &Arc<Self>, url: &str, locker: &loft_locker::Locker) {
        let first = {
            let mut queue = self.queue.lock();
            !std::mem::replace(&mut queue.loaded, true)
        };
        let mut again: Vec<PathBuf> = Vec::new();
        if first {
            let path = self.upload_queue_path();
            let saved: SavedQueue = tokio::fs::read(&path)
                .await
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .unwrap_or_default();
            self.queue.lock().cancelled.extend(saved.cancelled);
            again.extend(saved.pending);
        }
        again.extend(locker.interrupted_uploads().await);
        let again: Vec<PathBuf> = {
            let queue = self.queue.lock();
            let mut seen = HashSet::new();
            again
                .into_iter()
                .filter(|path| path.is_file() && !queue.cancelled.contains(path) && seen.insert(path.clone()))
                .filter(|path| !queue.items.iter().any(|item| &item.path == path && !item.state.finished()))
                .collect()
        };
        if !again.is_empty() {
            tracing::info!(files = again.len(), "continuing uploads from the last run or the network outage");
            if let Err(error) = self.enqueue(url, &again).await {
                tracing::warn!(%error, "cannot continue the uploads");
            }
        }
        // Files left queued when the locker went away start again now.
        self.start_workers(url);
    }

    fn upload_queue_path(&self) -> PathBuf {
        self.hub.profile.locker_state_dir().join("upload-queue.json")
    }

    /// Saves the queue and tells the window. `force` for state changes; progress alone is
    /// throttled.
    fn queue_changed(&self, force: bool) {
        if self.queue.closing() {
            return;
        }
        let _saving =
            force.then(|| self.queue.saving.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        let (items, saved) = {
            let mut queue = self.queue.lock();
            let now = Instant::now();
            if !force && queue.last_progress_event.is_some_and(|last| now - last < PROGRESS_EVERY) {
                return;
            }
            queue.last_progress_event = Some(now);
            queue.prune_finished();
            let saved = force.then(|| SavedQueue {
                pending: queue
                    .items
                    .iter()
                    .filter(|item| !item.state.finished())
                    .map(|item| item.path.clone())
                    .collect(),
                cancelled: queue.cancelled.iter().cloned().collect(),
            });
            (queue.items.clone(), saved)
        };
        if let Some(saved) = saved
            && let Err(error) = save_queue(&self.upload_queue_path(), &saved)
        {
            tracing::warn!(%error, "cannot save the upload queue");
        }
        self.hub.events.emit(Event::UploadsChanged { items });
    }

    /// Starts the background senders unless they run already; they stop when nothing is
    /// queued or the locker stops answering.
    fn start_workers(self: &Arc<Self>, url: &str) {
        {
            let mut queue = self.queue.lock();
            if queue.workers > 0 || !queue.items.iter().any(|item| item.state == UploadState::Queued) {
                return;
            }
            queue.workers = FILES_IN_FLIGHT;
        }
        for _ in 0..FILES_IN_FLIGHT {
            let shared = self.clone();
            let url = url.to_owned();
            self.hub.runtime.spawn(async move {
                shared.send_queued(&url).await;
                let last = {
                    let mut queue = shared.queue.lock();
                    queue.workers -= 1;
                    queue.workers == 0
                };
                // A file queued while the last sender was stopping would otherwise wait.
                if last && shared.hub.session.seems_reachable() {
                    shared.start_workers(&url);
                }
            });
        }
    }

    /// One sender: takes the oldest queued file, sends it and records how it went, until none
    /// is left or the locker stops answering.
    async fn send_queued(self: &Arc<Self>, url: &str) {
        loop {
            let next = {
                let mut queue = self.queue.lock();
                queue.items.iter_mut().find(|item| item.state == UploadState::Queued).map(|item| {
                    item.state = UploadState::Sending;
                    (item.id, item.path.clone())
                })
            };
            let Some((id, path)) = next else { return };
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            self.queue.lock().stops.insert(id, stop.clone());
            self.queue_changed(true);
            let progress: loft_locker::ProgressCallback = {
                let shared = Arc::downgrade(self);
                Arc::new(move |progress: &loft_locker::UploadProgress| {
                    if let Some(shared) = shared.upgrade() {
                        shared.set_upload(id, |item| item.bytes_sent = progress.bytes_sent);
                        shared.queue_changed(false);
                    }
                })
            };
            let outcome = match self.hub.session.locker(url).await {
                Ok(opened) => {
                    self.upload_and_apply(&opened.locker, vec![path], Some(progress), Some(stop)).await
                }
                Err(error) => Err(error),
            };
            if self.queue.closing() {
                // The shutdown cut this upload short; it is still pending in the saved queue.
                return;
            }
            let stopped = self
                .queue
                .lock()
                .stops
                .remove(&id)
                .is_some_and(|stop| stop.load(std::sync::atomic::Ordering::SeqCst));
            let network_failure = match &outcome {
                Ok(report) => report.failed.iter().any(|failed| failed.kind == "network"),
                Err(error) => error.kind() == ErrorKind::Network,
            };
            self.set_upload(id, |item| match &outcome {
                // Cancelled while sending: whatever else happened, the user's word stands.
                Ok(report) if stopped && report.uploaded.is_empty() && report.duplicates.is_empty() => {
                    item.state = UploadState::Cancelled;
                }
                Err(_) if stopped => item.state = UploadState::Cancelled,
                // The locker went away mid-file: it waits for the locker to come back, and the
                // journal makes it resume rather than start over.
                _ if network_failure => item.state = UploadState::Queued,
                Ok(report) if !report.uploaded.is_empty() => {
                    item.state = UploadState::Done;
                    item.bytes_sent = report.bytes_sent;
                }
                Ok(report) if !report.duplicates.is_empty() => item.state = UploadState::Duplicate,
                Ok(report) if report.failed.iter().any(|failed| failed.kind == "cancelled") => {
                    item.state = UploadState::Cancelled;
                }
                Ok(report) => {
                    item.state = UploadState::Failed;
                    let failed = report.failed.first();
                    item.error_kind = failed.map(|failed| failed.kind.into());
                    item.message = failed.map(|failed| failed.message.clone());
                }
                Err(error) => {
                    item.state = UploadState::Failed;
                    item.error_kind = Some(error.kind());
                    item.message = Some(error.to_string());
                }
            });
            self.queue_changed(true);
            if network_failure || !self.hub.session.seems_reachable() {
                return;
            }
        }
    }

    /// Uploads and brings what landed into the index. `each_progress` also hears the
    /// locker's progress reports (the upload queue follows one file with it).
    pub(crate) async fn upload_and_apply(
        &self,
        locker: &loft_locker::Locker,
        paths: Vec<PathBuf>,
        each_progress: Option<loft_locker::ProgressCallback>,
        cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
    ) -> Result<loft_locker::UploadReport, CoreError> {
        let (files, unusable) = loft_locker::Locker::upload_candidates(&paths).await;
        let bytes_total = {
            let files = files.clone();
            blocking(move || {
                Ok::<_, CoreError>(
                    files.iter().filter_map(|file| std::fs::metadata(file).ok()).map(|meta| meta.len()).sum(),
                )
            })
            .await?
        };
        let events = self.hub.events.clone();
        let progress: loft_locker::ProgressCallback = Arc::new(move |progress| {
            if let Some(each) = &each_progress {
                each(progress);
            }
            events.emit(Event::UploadProgress {
                files_done: progress.files_done,
                files_total: progress.files_total,
                bytes_sent: progress.bytes_sent,
                bytes_total,
                current: progress.current_file.clone(),
            });
        });
        let mut report = locker.upload_cancellable(&files, Some(progress), cancel).await;
        report.failed.splice(0..0, unusable);
        // The locker answered if anything landed; if every file failed on the network, say so.
        if report.uploaded.is_empty()
            && report.duplicates.is_empty()
            && let Some(failed) = report.failed.iter().find(|failed| failed.kind == "network")
        {
            let _ =
                self.hub.session.note::<()>(Err(loft_locker::LockerError::Network(failed.message.clone())));
        }

        // Each landed file's hash is known now: its local track (if it is in the library)
        // takes it, then the catalog's copy joins that track.
        let landed: Vec<(PathBuf, String)> = report
            .uploaded
            .iter()
            .chain(&report.duplicates)
            .chain(&report.repaired)
            .map(|file| (file.path.clone(), file.track_id.clone()))
            .collect();
        let mut copies = Vec::with_capacity(landed.len());
        for (_, track_id) in &landed {
            if let Some(track) = locker.track(track_id).await {
                copies.push(locker_copy(&track));
            }
        }
        let library = self.hub.library.clone();
        let applied = blocking(move || {
            for (path, sha256) in &landed {
                library.record_file_hash(path, sha256)?;
            }
            library.apply_locker_changes(&copies, &[])
        })
        .await?;
        emit_library_changed(&self.hub.events, &applied, 0);
        self.hub.events.emit(Event::UploadFinished {
            uploaded: report.uploaded.len(),
            duplicates: report.duplicates.len(),
            failed: report.failed.len(),
            bytes_sent: report.bytes_sent,
        });
        Ok(report)
    }

    fn set_upload(&self, id: u64, change: impl FnOnce(&mut UploadItem)) {
        if let Some(item) = self.queue.lock().items.iter_mut().find(|item| item.id == id) {
            change(item);
        }
    }
}

impl QueueState {
    fn push(
        &mut self,
        path: PathBuf,
        size: u64,
        state: UploadState,
        error_kind: Option<ErrorKind>,
        message: Option<String>,
    ) -> UploadItem {
        self.next_id += 1;
        let item = UploadItem { id: self.next_id, path, size, bytes_sent: 0, state, error_kind, message };
        self.items.push(item.clone());
        item
    }

    fn prune_finished(&mut self) {
        let finished = self.items.iter().filter(|item| item.state.finished()).count();
        let mut surplus = finished.saturating_sub(FINISHED_KEPT);
        self.items.retain(|item| {
            if surplus > 0 && item.state.finished() {
                surplus -= 1;
                false
            } else {
                true
            }
        });
    }
}

/// Whether the index already knows this local file to be in the locker (so dropping it again
/// costs no quota).
fn known_in_locker(library: &loft_library::Library, path: &Path) -> bool {
    library
        .track_id_for_path(path)
        .ok()
        .flatten()
        .and_then(|id| library.locker_copy(id).ok().flatten())
        .is_some()
}

fn save_queue(path: &Path, saved: &SavedQueue) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(saved).map_err(std::io::Error::other)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}
