//! The locker as the service offers it: connecting, uploads, sync into the index, and the
//! background loop that keeps the index in step with the other devices.
//!
//! The locker is async (tokio); the service owns a small multi-threaded runtime (two workers,
//! started on first use) and exposes blocking methods, which front ends call off their UI
//! threads like every other blocking call of [`Loft`].
//!
//! Other modules of the service that keep their data in the locker when one is connected (the
//! playlists) reach it through [`Loft::locker`]:
//!
//! ```text
//! match loft.locker()? {
//!     Some(handle) => handle.run(handle.locker().create_playlist("Road trip"))?,  // blocks
//!     None => /* no locker connected: local only */,
//! }
//! ```
//!
//! Every sync applies the catalog's track changes to the index first, then hands its playlist
//! changes to the playlists module ([`crate::playlists::mirror_locker_playlists`]).

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use loft_library::{Library, LockerApplied, LockerCopy};
use loft_locker::{Credentials, LockerError, LockerStatus, UploadReport};
use serde::Serialize;

use crate::{CoreError, Event, Loft, Profile, SharedSink};

/// Worker threads of the service's runtime: the locker's work is network- and disk-bound, and
/// the desktop and CLI share two cores with playback.
const RUNTIME_WORKERS: usize = 2;
/// How often the background loop syncs while the app runs.
const SYNC_INTERVAL: Duration = Duration::from_secs(60);
/// How often it tries again while the locker cannot be reached, so that the window stops
/// greying out tracks, and downloads and uploads go on, soon after the network returns.
const PROBE_INTERVAL: Duration = Duration::from_secs(10);
/// The background loop collects unreferenced blobs once every this many syncs (about hourly).
const GC_EVERY_SYNCS: u32 = 60;

/// What one sync did, for front ends: counts, not the full lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct SyncSummary {
    /// Catalog ops newly applied, from every device.
    pub ops_applied: usize,
    /// Locker tracks added or changed, and removed, according to the catalog.
    pub tracks_changed: usize,
    pub tracks_removed: usize,
    pub playlists_changed: usize,
    pub playlists_deleted: usize,
    /// What that did to the library: tracks that appeared, changed or left.
    pub library: LockerApplied,
    /// Local files found to be tracks of the locker and merged with them.
    pub merged: u64,
    /// Files another tool put in the locker's inbox, imported by this sync.
    pub inbox_imported: usize,
    /// Catalog files that could not be read (each named); their device's later ops wait.
    pub problems: Vec<String>,
}

/// The locker side of the service: the runtime, made on first use, the state that the
/// background loop shares with the blocking methods, and the loop itself.
pub(crate) struct LockerService {
    runtime: OnceLock<tokio::runtime::Runtime>,
    shared: OnceLock<Arc<Shared>>,
    sync_loop: Mutex<Option<SyncLoop>>,
    /// Whether the front end wants the background loop (the desktop does, `loft` does not):
    /// a locker connected later starts it then.
    loop_wanted: std::sync::atomic::AtomicBool,
}

/// What the blocking methods, the background loop and the upload queue all use.
pub(crate) struct Shared {
    pub(crate) profile: Profile,
    pub(crate) library: Library,
    pub(crate) events: SharedSink,
    /// The service's runtime, for the upload queue's senders.
    pub(crate) runtime: tokio::runtime::Handle,
    /// The uploads panel's queue ([`crate::uploads`]).
    pub(crate) uploads: crate::uploads::UploadQueue,
    /// The open locker. An async mutex, held while opening, so one process never opens the
    /// same locker twice (two handles would each count this device's log on their own).
    open: tokio::sync::Mutex<Option<loft_locker::Locker>>,
    /// `<profile>/locker/open.lock`, held while this process may write to the locker: the
    /// profile is one device, and two processes writing one device's log would overwrite
    /// each other's ops.
    device_lock: Mutex<Option<std::fs::File>>,
    /// Whether the last call reached the locker; `None` before the first.
    reachable: Mutex<Option<bool>>,
    /// The offline cache, once the streaming side opened it: its fetchers see the locker fail
    /// first while playing, and it must hear when the locker answers again.
    cache: Mutex<Option<loft_locker::OfflineCache>>,
}

struct SyncLoop {
    task: tokio::task::JoinHandle<()>,
    wake: Arc<tokio::sync::Notify>,
    url: String,
}

impl LockerService {
    pub(crate) fn new() -> Self {
        LockerService {
            runtime: OnceLock::new(),
            shared: OnceLock::new(),
            sync_loop: Mutex::new(None),
            loop_wanted: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(RUNTIME_WORKERS)
                .thread_name("loft-locker")
                .enable_all()
                .build()
                .expect("the locker runtime starts (threads and a timer are all it needs)")
        })
    }

    fn sync_loop(&self) -> MutexGuard<'_, Option<SyncLoop>> {
        self.sync_loop.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn stop_loop(&self) {
        if let Some(running) = self.sync_loop().take() {
            running.task.abort();
        }
    }
}

impl Drop for LockerService {
    fn drop(&mut self) {
        self.stop_loop();
        if let Some(shared) = self.shared.get() {
            shared.uploads.close();
        }
        // An upload or sync still running must not hold up closing the app; an interrupted
        // upload resumes at the next start.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// The connected locker and the service's runtime, for modules that work with the locker
/// directly (the playlists keep theirs in the locker's catalog). Cheap to clone.
#[derive(Clone)]
pub struct LockerHandle {
    locker: loft_locker::Locker,
    runtime: tokio::runtime::Handle,
}

impl LockerHandle {
    /// The open locker: its catalog, playlists and edits ([`loft_locker::Locker`]).
    pub fn locker(&self) -> &loft_locker::Locker {
        &self.locker
    }

    /// Runs a locker future to completion on the service's runtime and returns its output.
    /// Blocks the calling thread, so call it where the other blocking methods of [`Loft`] are
    /// called (a front end's worker thread), never from inside an async task.
    pub fn run<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

impl Loft {
    /// The connected locker, opened on first use; `Ok(None)` when no locker is connected.
    /// Fails when one is connected but cannot be opened (unreachable, credentials gone).
    pub fn locker(&self) -> Result<Option<LockerHandle>, CoreError> {
        let Some(locker) = self.open_locker()? else { return Ok(None) };
        Ok(Some(LockerHandle { locker, runtime: self.locker.runtime().handle().clone() }))
    }

    /// Connects the locker at `url` (`s3://bucket/prefix?endpoint=…&region=…`,
    /// `webdav+https://host/path`, `file:///path`), creating it in an empty location, and
    /// brings its tracks into the library. `credentials` are what the user typed: they are
    /// stored in the OS keychain, and where there is none the connection is refused with a
    /// message saying to use the environment variables instead (never a file). Without
    /// them, the environment's or the keychain's are used.
    pub fn connect_locker(
        &self,
        url: &str,
        credentials: Option<Credentials>,
    ) -> Result<LockerStatus, CoreError> {
        let url = url.trim().to_owned();
        let shared = self.locker_shared().clone();
        let from_user = credentials.is_some();
        let previous = self.settings().locker_url;
        let locker = self.locker.runtime().block_on(async {
            let credentials = match credentials {
                Some(given) => given,
                None => resolve_credentials(&url).await?,
            };
            let locker = shared.open_at(&url, credentials.clone()).await?;
            if from_user {
                let key = url.clone();
                blocking(move || credentials.save_to_keychain(&key)).await.map_err(|error| {
                    LockerError::Credentials(format!(
                        "Loft cannot keep these credentials: {error}. Set {} in the environment \
                         instead (Loft never writes them to a file)",
                        env_names(&url)
                    ))
                })?;
            }
            Ok::<_, CoreError>(locker)
        })?;
        if previous.as_deref() != Some(url.as_str()) {
            // The index holds the copies of one locker at a time.
            self.locker.stop_loop();
            let removed = self.library().clear_locker_copies()?;
            if removed > 0 {
                self.events().emit(Event::LibraryChanged { added: 0, updated: 0, moved: 0, removed });
            }
        }
        self.update_settings(|settings| settings.locker_url = Some(url.clone()))?;
        tracing::info!(%url, "locker connected");
        let runtime = self.locker.runtime();
        runtime.block_on(shared.sync_and_apply(&locker, true))?;
        if self.locker.loop_wanted.load(std::sync::atomic::Ordering::SeqCst) {
            self.start_locker_sync();
        }
        Ok(runtime.block_on(locker.status())?)
    }

    /// Tries the locker at `url` step by step without connecting it ("Test connection"): the
    /// answer names the step that failed (name resolution, connection, TLS, credentials,
    /// bucket, permission) with a message for the user. `credentials` are what the user typed;
    /// without them, the environment's or the keychain's are tried.
    pub fn test_locker_connection(
        &self,
        url: &str,
        credentials: Option<Credentials>,
    ) -> Result<loft_locker::ConnectionCheck, CoreError> {
        let url = url.trim().to_owned();
        self.locker.runtime().block_on(async {
            let credentials = match credentials {
                Some(given) => given,
                None => match resolve_credentials(&url).await {
                    Ok(found) => found,
                    Err(error) => {
                        return Ok(loft_locker::ConnectionCheck {
                            ok: false,
                            step: "credentials",
                            message: error.to_string(),
                            locker_exists: false,
                        });
                    }
                },
            };
            Ok(loft_locker::check_connection(&url, &credentials).await)
        })
    }

    /// Disconnects the locker: its tracks leave the library (local files stay), nothing in the
    /// locker changes. Returns how many tracks left the library.
    pub fn disconnect_locker(&self) -> Result<u64, CoreError> {
        self.locker.stop_loop();
        self.update_settings(|settings| settings.locker_url = None)?;
        let shared = self.locker_shared();
        *self.locker.runtime().block_on(shared.open.lock()) = None;
        *shared.device_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
        let removed = self.library().clear_locker_copies()?;
        if removed > 0 {
            self.events().emit(Event::LibraryChanged { added: 0, updated: 0, moved: 0, removed });
        }
        tracing::info!(removed, "locker disconnected");
        Ok(removed)
    }

    /// Usage, quota, tracks, devices and the last sync of the connected locker; `None` when
    /// none is connected.
    pub fn locker_status(&self) -> Result<Option<LockerStatus>, CoreError> {
        let Some(locker) = self.open_locker()? else { return Ok(None) };
        let status = self.locker.runtime().block_on(async {
            locker.refresh_locker_file().await?;
            locker.status().await
        });
        Ok(Some(self.locker_shared().note(status)?))
    }

    /// Changes the locker's quota, for every device.
    pub fn set_locker_quota(&self, bytes: u64) -> Result<LockerStatus, CoreError> {
        let locker = self.connected_locker()?;
        let status = self.locker.runtime().block_on(async {
            locker.set_quota(bytes).await?;
            locker.status().await
        });
        self.locker_shared().note(status)
    }

    /// Uploads files and folders (recursively, audio files only), reporting `UploadProgress`
    /// events and an `UploadFinished` one. Files already in the locker send no audio; a file
    /// that fails (over the quota, not audio, changed while sending) is reported with its
    /// reason and the others go on. Uploaded tracks join the library at once.
    pub fn upload(&self, paths: &[PathBuf]) -> Result<UploadReport, CoreError> {
        let locker = self.connected_locker()?;
        let shared = self.locker_shared().clone();
        // The index knows files by their canonical path: an upload of a library file given as
        // `music/a.flac` must find it.
        let paths =
            paths.iter().map(|path| std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())).collect();
        self.locker.runtime().block_on(shared.upload_and_apply(&locker, paths, None, None))
    }

    /// Pulls what every device changed (and imports the inbox) and applies it to the library.
    pub fn sync_locker(&self) -> Result<SyncSummary, CoreError> {
        let url = self.settings().locker_url.ok_or_else(not_connected)?;
        let shared = self.locker_shared().clone();
        self.locker.runtime().block_on(async {
            // Not `locker()`: its sync on opening would leave this one nothing to report.
            let (locker, _) = shared.open_or_reuse(&url).await?;
            shared.sync_and_apply(&locker, false).await
        })
    }

    /// Reads the whole locker back and reports what is damaged, missing or unreadable (and what
    /// is merely unreferenced), as `loft locker check` does. Every referenced blob is
    /// downloaded and hashed, so this takes as long as downloading the locker. `progress` hears
    /// blobs verified, blobs to verify and bytes read. The result is kept for
    /// [`Loft::last_locker_check`].
    pub fn check_locker(
        &self,
        progress: Option<Arc<loft_locker::CheckProgress>>,
    ) -> Result<loft_locker::CheckReport, CoreError> {
        let locker = self.connected_locker()?;
        let shared = self.locker_shared().clone();
        self.locker.runtime().block_on(async {
            let report = shared.note(locker.check(progress).await)?;
            // The check pulled the catalog itself: bring the index up to what it saw.
            shared.sync_and_apply(&locker, false).await?;
            Ok(report)
        })
    }

    /// The result of the last check of the connected locker on this device, if one ran.
    pub fn last_locker_check(&self) -> Result<Option<loft_locker::CheckReport>, CoreError> {
        let Some(locker) = self.open_locker()? else { return Ok(None) };
        Ok(self.locker.runtime().block_on(locker.last_check()))
    }

    /// Collects unreferenced blobs (see [`loft_locker::Locker::gc`]): deletes what no device can
    /// still reference once the grace period has passed on the storage's clock, or says why it
    /// will not run.
    pub fn collect_locker_garbage(
        &self,
        options: loft_locker::GcOptions,
    ) -> Result<loft_locker::GcReport, CoreError> {
        let locker = self.connected_locker()?;
        let shared = self.locker_shared().clone();
        self.locker.runtime().block_on(async {
            let report = shared.note(locker.gc(options).await)?;
            shared.sync_and_apply(&locker, false).await?;
            Ok(report)
        })
    }

    /// Writes a snapshot of the catalog and deletes the log files every device has applied.
    pub fn compact_locker(&self) -> Result<(), CoreError> {
        let locker = self.connected_locker()?;
        let shared = self.locker_shared().clone();
        self.locker.runtime().block_on(async { shared.note(locker.snapshot_and_compact().await) })
    }

    /// Removes a library track's copy from the locker (for every device). A local file of it
    /// stays, and so does the track; a track only in the locker leaves the library.
    pub fn remove_from_locker(&self, track_id: i64) -> Result<LockerApplied, CoreError> {
        let locker = self.connected_locker()?;
        let copy = self
            .library()
            .locker_copy(track_id)?
            .ok_or_else(|| LockerError::NotFound(format!("track {track_id} is not in the locker")))?;
        let removed = self.locker.runtime().block_on(locker.remove_track(&copy.id));
        self.locker_shared().note(removed)?;
        let applied = self.library().apply_locker_changes(&[], std::slice::from_ref(&copy.id))?;
        self.locker_shared().emit_library_changed(&applied, 0);
        Ok(applied)
    }

    /// Starts the background loop (the desktop app calls this once at start): it resumes
    /// interrupted uploads, syncs at once and then every minute, and whenever
    /// [`Loft::request_locker_sync`] asks. Does nothing when no locker is connected or the loop
    /// runs already; a locker connected later starts it then. `LockerUnreachable` and
    /// `LockerReachable` events tell when the locker stops or starts answering.
    pub fn start_locker_sync(&self) {
        self.locker.loop_wanted.store(true, std::sync::atomic::Ordering::SeqCst);
        let Some(url) = self.settings().locker_url else { return };
        let mut running = self.locker.sync_loop();
        if running.as_ref().is_some_and(|running| running.url == url && !running.task.is_finished()) {
            return;
        }
        if let Some(old) = running.take() {
            old.task.abort();
        }
        let wake = Arc::new(tokio::sync::Notify::new());
        let task =
            self.locker.runtime().spawn(self.locker_shared().clone().run_loop(url.clone(), wake.clone()));
        *running = Some(SyncLoop { task, wake, url });
    }

    /// Asks the background loop to sync now (after the user pressed "sync", or the window came
    /// back to the front).
    pub fn request_locker_sync(&self) {
        if let Some(running) = self.locker.sync_loop().as_ref() {
            running.wake.notify_one();
        }
    }

    pub fn stop_locker_sync(&self) {
        self.locker.loop_wanted.store(false, std::sync::atomic::Ordering::SeqCst);
        self.locker.stop_loop();
    }

    /// Whether the connected locker answered the last time this process asked (true when
    /// none is connected or nothing was asked yet): what the window's offline indicator shows.
    pub fn locker_reachable(&self) -> bool {
        self.locker_shared().seems_reachable()
    }

    /// Lets the locker side tell the offline cache when the locker answers again or stops.
    pub(crate) fn share_cache_with_locker(&self, cache: &loft_locker::OfflineCache) {
        *self.locker_shared().cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) =
            Some(cache.clone());
    }

    /// The locker the settings name, opening it (credentials from the environment, then the
    /// keychain) if this process has not yet.
    pub(crate) fn open_locker(&self) -> Result<Option<loft_locker::Locker>, CoreError> {
        let Some(url) = self.settings().locker_url else { return Ok(None) };
        let shared = self.locker_shared().clone();
        self.locker.runtime().block_on(shared.locker(&url)).map(Some)
    }

    fn connected_locker(&self) -> Result<loft_locker::Locker, CoreError> {
        self.open_locker()?.ok_or_else(not_connected)
    }

    /// The service's runtime for locker work.
    pub(crate) fn locker_runtime(&self) -> &tokio::runtime::Runtime {
        self.locker.runtime()
    }

    pub(crate) fn locker_shared(&self) -> &Arc<Shared> {
        self.locker.shared.get_or_init(|| {
            Arc::new(Shared {
                profile: self.profile().clone(),
                library: self.library().clone(),
                events: self.events().clone(),
                open: tokio::sync::Mutex::new(None),
                device_lock: Mutex::new(None),
                reachable: Mutex::new(None),
                cache: Mutex::new(None),
                runtime: self.locker.runtime().handle().clone(),
                uploads: crate::uploads::UploadQueue::default(),
            })
        })
    }
}

impl Shared {
    /// The open locker at `url`, opening it with the credentials the environment or the
    /// keychain give. Opening syncs: the catalog a locker starts from is the one its last sync
    /// cached, which lacks what this device wrote since (in another process, say), and every
    /// edit, upload and status needs the current one.
    async fn locker(&self, url: &str) -> Result<loft_locker::Locker, CoreError> {
        let (locker, opened) = self.open_or_reuse(url).await?;
        if opened {
            self.sync_and_apply(&locker, false).await?;
        }
        Ok(locker)
    }

    /// The open locker at `url`, or a newly opened one (then `true`), without syncing.
    pub(crate) async fn open_or_reuse(&self, url: &str) -> Result<(loft_locker::Locker, bool), CoreError> {
        {
            let open = self.open.lock().await;
            if let Some(locker) = open.as_ref().filter(|locker| locker.url() == url) {
                return Ok((locker.clone(), false));
            }
        }
        let credentials = resolve_credentials(url).await?;
        Ok((self.open_at(url, credentials).await?, true))
    }

    /// Opens the locker at `url` with `credentials` and keeps it as the open one.
    async fn open_at(&self, url: &str, credentials: Credentials) -> Result<loft_locker::Locker, CoreError> {
        let mut open = self.open.lock().await;
        if let Some(locker) = open.as_ref().filter(|locker| locker.url() == url) {
            return Ok(locker.clone());
        }
        let device = self.profile.device_id()?;
        let state_dir = self.profile.locker_state_dir();
        self.lock_device(&state_dir)?;
        let opened = loft_locker::Locker::open(url, credentials, &device, &state_dir).await;
        let locker = self.note(opened)?;
        *open = Some(locker.clone());
        Ok(locker)
    }

    /// Takes this profile's device lock, or says which other program holds it.
    fn lock_device(&self, state_dir: &std::path::Path) -> Result<(), CoreError> {
        let mut held = self.device_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if held.is_some() {
            return Ok(());
        }
        std::fs::create_dir_all(state_dir)
            .map_err(|source| CoreError::DataDir { path: state_dir.to_owned(), source })?;
        let path = state_dir.join("open.lock");
        let file = std::fs::File::create(&path)
            .map_err(|source| CoreError::DataDir { path: path.clone(), source })?;
        match file.try_lock() {
            Ok(()) => {
                *held = Some(file);
                Ok(())
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(CoreError::InvalidInput(format!(
                "another Loft using the profile {} has its locker open (the desktop app, or another \
                 `loft` command); use the locker from there, or close it first",
                self.profile.root().display()
            ))),
            Err(std::fs::TryLockError::Error(source)) => Err(CoreError::DataDir { path, source }),
        }
    }

    /// Passes a locker call's result through, telling the front ends when the locker stopped
    /// or started answering.
    pub(crate) fn note<T>(&self, result: Result<T, LockerError>) -> Result<T, CoreError> {
        let reached = match &result {
            Ok(_) => Some(true),
            Err(error) if error.is_transient() => Some(false),
            Err(_) => None,
        };
        if let Some(reached) = reached {
            let cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
            let cache_reachable = cache.as_ref().is_none_or(|cache| cache.locker_reachable());
            if let Some(cache) = &cache {
                cache.note_reachable(reached);
            }
            let before =
                self.reachable.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).replace(reached);
            // A stream that failed while playing counts as the locker having gone.
            let before = before.map(|before| before && cache_reachable);
            match (before, &result) {
                (Some(true) | None, Err(error)) if !reached => {
                    tracing::warn!(%error, "the locker is unreachable");
                    self.events.emit(Event::LockerUnreachable { message: error.to_string() });
                }
                (Some(false), Ok(_)) => {
                    tracing::info!("the locker is reachable again");
                    self.events.emit(Event::LockerReachable);
                }
                _ => {}
            }
        }
        Ok(result?)
    }

    fn emit_library_changed(&self, applied: &LockerApplied, merged: u64) {
        if applied.changed_anything() || merged > 0 {
            self.events.emit(Event::LibraryChanged {
                added: applied.added,
                updated: applied.updated + merged,
                moved: 0,
                removed: applied.removed,
            });
        }
    }

    /// Syncs and applies the changes to the index. `reconcile` compares the whole catalog
    /// with the index instead of trusting that it saw every earlier report (a process that
    /// died between a sync and its apply, a locker connected again); it is also done whenever
    /// the counts disagree.
    async fn sync_and_apply(
        &self,
        locker: &loft_locker::Locker,
        reconcile: bool,
    ) -> Result<SyncSummary, CoreError> {
        let report = self.note(locker.sync().await)?;
        let mut summary = SyncSummary {
            ops_applied: report.ops_applied,
            tracks_changed: report.tracks_changed.len(),
            tracks_removed: report.tracks_removed.len(),
            playlists_changed: report.playlists_changed.len(),
            playlists_deleted: report.playlists_deleted.len(),
            inbox_imported: report.inbox.imported.len(),
            problems: report.problems.clone(),
            ..SyncSummary::default()
        };
        let changed: Vec<LockerCopy> = report.tracks_changed.iter().map(locker_copy).collect();
        let removed = report.tracks_removed;
        let library = self.library.clone();
        let applied = blocking(move || library.apply_locker_changes(&changed, &removed)).await?;
        summary.library = applied;
        let catalog_tracks = locker.track_count().await as u64;
        let library = self.library.clone();
        if reconcile || blocking(move || library.locker_copy_count()).await? != catalog_tracks {
            let extra = self.reconcile(locker).await?;
            summary.library.added += extra.added;
            summary.library.updated += extra.updated;
            summary.library.removed += extra.removed;
        }
        let library = self.library.clone();
        summary.merged = blocking(move || library.hash_locker_twins()).await?.merged;
        // Playlists after tracks, so their entries find the tracks.
        let playlists_changed = if reconcile { locker.playlists().await } else { report.playlists_changed };
        let (library, events) = (self.library.clone(), self.events.clone());
        let playlists_deleted = report.playlists_deleted;
        blocking(move || {
            crate::playlists::mirror_locker_playlists(
                &library,
                &events,
                &playlists_changed,
                &playlists_deleted,
            )
        })
        .await?;
        self.emit_library_changed(&summary.library, summary.merged);
        // Everything the report named is in the index now; until this, a later sync (in this
        // process or the next) reports it again.
        if let Err(error) = locker.report_applied().await {
            tracing::warn!(%error, "cannot record that the sync was applied; the next sync reports it again");
        }
        self.events.emit(Event::SyncFinished {
            ops_applied: summary.ops_applied,
            tracks_changed: summary.tracks_changed,
            tracks_removed: summary.tracks_removed,
            playlists_changed: summary.playlists_changed,
            playlists_deleted: summary.playlists_deleted,
            inbox_imported: summary.inbox_imported,
            problems: summary.problems.clone(),
        });
        Ok(summary)
    }

    /// Makes the index's locker copies exactly the catalog's tracks.
    async fn reconcile(&self, locker: &loft_locker::Locker) -> Result<LockerApplied, CoreError> {
        let tracks = locker.tracks().await;
        let library = self.library.clone();
        blocking(move || {
            let present: std::collections::HashSet<&str> = tracks.iter().map(|t| t.id.as_str()).collect();
            let gone: Vec<String> =
                library.locker_copy_ids()?.into_iter().filter(|id| !present.contains(id.as_str())).collect();
            let copies: Vec<LockerCopy> = tracks.iter().map(locker_copy).collect();
            library.apply_locker_changes(&copies, &gone)
        })
        .await
    }

    /// Uploads and brings what landed into the index. `each_progress` also hears the
    /// locker's progress reports (the upload queue follows one file with it).
    pub(crate) async fn upload_and_apply(
        &self,
        locker: &loft_locker::Locker,
        paths: Vec<PathBuf>,
        each_progress: Option<loft_locker::ProgressCallback>,
        cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
    ) -> Result<UploadReport, CoreError> {
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
        let events = self.events.clone();
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
            let _ = self.note::<()>(Err(LockerError::Network(failed.message.clone())));
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
        let library = self.library.clone();
        let applied = blocking(move || {
            for (path, sha256) in &landed {
                library.record_file_hash(path, sha256)?;
            }
            library.apply_locker_changes(&copies, &[])
        })
        .await?;
        self.emit_library_changed(&applied, 0);
        self.events.emit(Event::UploadFinished {
            uploaded: report.uploaded.len(),
            duplicates: report.duplicates.len(),
            failed: report.failed.len(),
            bytes_sent: report.bytes_sent,
        });
        Ok(report)
    }

    /// Whether the locker answered the last time anything asked, as far as this process knows.
    pub(crate) fn seems_reachable(&self) -> bool {
        let synced = *self.reachable.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) != Some(false);
        let streamed = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
            .is_none_or(|cache| cache.locker_reachable());
        synced && streamed
    }

    /// The background loop: sync every minute or when woken (every few seconds while the
    /// locker cannot be reached), resume uploads that were interrupted (by a kill, a crash or
    /// the network) whenever none is running, and collect unreferenced blobs now and then.
    /// Failures are reported and retried.
    async fn run_loop(self: Arc<Self>, url: String, wake: Arc<tokio::sync::Notify>) {
        let mut reconciled = false;
        let mut syncs: u32 = 0;
        loop {
            match self.open_or_reuse(&url).await.map(|(locker, _)| locker) {
                Ok(locker) => {
                    match self.sync_and_apply(&locker, !reconciled).await {
                        Ok(_) => reconciled = true,
                        Err(error) => tracing::warn!(%error, "locker sync failed"),
                    }
                    if self.seems_reachable() {
                        self.resume_uploads(&url, &locker).await;
                    }
                    syncs = syncs.wrapping_add(1);
                    if syncs.is_multiple_of(GC_EVERY_SYNCS) {
                        // gc pulls the catalog itself; what that pull brought is reported again
                        // by the next sync, since nothing applied it.
                        match locker.gc(loft_locker::GcOptions::default()).await {
                            Ok(report) => tracing::info!(?report, "locker blobs collected"),
                            Err(error) => tracing::warn!(%error, "locker garbage collection failed"),
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot open the locker"),
            }
            let pause = if self.seems_reachable() { SYNC_INTERVAL } else { PROBE_INTERVAL };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = wake.notified() => {}
            }
        }
    }
}

/// The index's view of a catalog track.
pub(crate) fn locker_copy(track: &loft_locker::Track) -> LockerCopy {
    LockerCopy {
        id: track.id.clone(),
        size: track.size,
        file_name: track.file_name.clone(),
        title: track.title.clone(),
        artist: track.artist.clone(),
        album: track.album.clone(),
        album_artist: track.album_artist.clone(),
        genre: track.genre.clone(),
        year: track.year,
        track_no: track.track_number,
        disc_no: track.disc_number,
        duration_ms: track.duration_ms,
        added_ms: track.added.wall_ms,
    }
}

pub(crate) fn not_connected() -> CoreError {
    CoreError::InvalidInput(
        "no locker is connected; connect one first (`loft locker connect URL`)".to_owned(),
    )
}

/// The environment's credentials, else the keychain's (which may block on the OS service).
async fn resolve_credentials(url: &str) -> Result<Credentials, CoreError> {
    let url = url.to_owned();
    blocking(move || Credentials::resolve(&url)).await
}

/// The environment variables that give credentials for this kind of locker.
fn env_names(url: &str) -> &'static str {
    if url.starts_with("s3:") {
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    } else {
        "LOFT_WEBDAV_USER and LOFT_WEBDAV_PASSWORD"
    }
}

/// Runs blocking work (SQLite, the keychain, file metadata) off the runtime's workers.
pub(crate) async fn blocking<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, CoreError>
where
    T: Send + 'static,
    E: Into<CoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(Into::into),
        Err(error) => Err(CoreError::Io(std::io::Error::other(format!("a background task failed: {error}")))),
    }
}
