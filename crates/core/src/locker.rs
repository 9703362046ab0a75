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

use std::future::Future;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use loft_locker::{Credentials, Locker};

use crate::{CoreError, Loft};

/// Worker threads of the service's runtime: the locker's work is network- and disk-bound, and
/// the desktop and CLI share two cores with playback.
const RUNTIME_WORKERS: usize = 2;

/// The locker side of the service: the runtime and the open locker, both made on first use.
pub(crate) struct LockerService {
    runtime: OnceLock<tokio::runtime::Runtime>,
    /// The locker named by the settings, once opened.
    open: Mutex<Option<Locker>>,
}

impl LockerService {
    pub(crate) fn new() -> Self {
        LockerService { runtime: OnceLock::new(), open: Mutex::new(None) }
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

    fn open(&self) -> MutexGuard<'_, Option<Locker>> {
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for LockerService {
    fn drop(&mut self) {
        // An upload or sync still running must not hold up closing the app.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// The connected locker and the service's runtime, for modules that work with the locker
/// directly (the playlists keep theirs in the locker's catalog). Cheap to clone.
#[derive(Clone)]
pub struct LockerHandle {
    locker: Locker,
    runtime: tokio::runtime::Handle,
}

impl LockerHandle {
    /// The open locker: its catalog, playlists and edits ([`loft_locker::Locker`]).
    pub fn locker(&self) -> &Locker {
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

    /// The locker the settings name, opening it (credentials from the environment, then the
    /// keychain) if this process has not yet.
    pub(crate) fn open_locker(&self) -> Result<Option<Locker>, CoreError> {
        let Some(url) = self.settings().locker_url else {
            *self.locker.open() = None;
            return Ok(None);
        };
        let mut open = self.locker.open();
        if let Some(locker) = open.as_ref().filter(|locker| locker.url() == url) {
            return Ok(Some(locker.clone()));
        }
        let credentials = Credentials::resolve(&url)?;
        let locker = self.open_locker_at(&url, credentials)?;
        *open = Some(locker.clone());
        Ok(Some(locker))
    }

    fn open_locker_at(&self, url: &str, credentials: Credentials) -> Result<Locker, CoreError> {
        let device = self.profile().device_id()?;
        let state_dir = self.profile().locker_state_dir();
        Ok(self.locker.runtime().block_on(Locker::open(url, credentials, &device, &state_dir))?)
    }
}
