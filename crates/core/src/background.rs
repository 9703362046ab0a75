//! The background loop the desktop app runs: sync every minute or when asked (every few seconds
//! while the locker cannot be reached, so edits made offline go out soon after it is back),
//! resume uploads that were interrupted, and collect unreferenced blobs now and then. Failures
//! are logged and tried again.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::hub::Hub;
use crate::uploads::Uploads;

/// How often the loop syncs while the locker answers.
const SYNC_INTERVAL: Duration = Duration::from_secs(60);
/// How often it tries again while the locker cannot be reached.
const PROBE_INTERVAL: Duration = Duration::from_secs(10);
/// The loop collects unreferenced blobs once every this many syncs (about hourly).
const GC_EVERY_SYNCS: u32 = 60;

/// The loop, when it runs.
#[derive(Default)]
pub(crate) struct SyncLoop {
    running: Mutex<Option<Running>>,
    /// Whether the front end wants the loop (the desktop does, `loft` does not): a locker
    /// connected later starts it then.
    wanted: std::sync::atomic::AtomicBool,
}

struct Running {
    task: tokio::task::JoinHandle<()>,
    wake: Arc<tokio::sync::Notify>,
    url: String,
}

impl SyncLoop {
    fn running(&self) -> MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn wanted(&self) -> bool {
        self.wanted.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Starts the loop for the locker at `url`, unless it runs for it already.
    pub(crate) fn start(&self, hub: &Arc<Hub>, uploads: &Arc<Uploads>, url: &str) {
        self.wanted.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut running = self.running();
        if running.as_ref().is_some_and(|running| running.url == url && !running.task.is_finished()) {
            return;
        }
        if let Some(old) = running.take() {
            old.task.abort();
        }
        let wake = Arc::new(tokio::sync::Notify::new());
        let task = hub.runtime.spawn(run(hub.clone(), uploads.clone(), url.to_owned(), wake.clone()));
        *running = Some(Running { task, wake, url: url.to_owned() });
    }

    /// Notes that the front end wants the loop, for when a locker is connected.
    pub(crate) fn want(&self) {
        self.wanted.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Asks the loop to sync now.
    pub(crate) fn wake(&self) {
        if let Some(running) = self.running().as_ref() {
            running.wake.notify_one();
        }
    }

    /// Stops the loop; `forget` also stops a later connect from starting it.
    pub(crate) fn stop(&self, forget: bool) {
        if forget {
            self.wanted.store(false, std::sync::atomic::Ordering::SeqCst);
        }
        if let Some(running) = self.running().take() {
            running.task.abort();
        }
    }
}

async fn run(hub: Arc<Hub>, uploads: Arc<Uploads>, url: String, wake: Arc<tokio::sync::Notify>) {
    let mut reconciled = false;
    let mut syncs: u32 = 0;
    loop {
        match hub.session.locker(&url).await {
            Ok(opened) => {
                let locker = opened.locker;
                match hub.routine_sync_and_apply(&locker, !reconciled).await {
                    Ok(_) => reconciled = true,
                    Err(error) => tracing::warn!(%error, "locker sync failed"),
                }
                if hub.session.seems_reachable() {
                    uploads.resume(&url, &locker).await;
                }
                syncs = syncs.wrapping_add(1);
                if syncs.is_multiple_of(GC_EVERY_SYNCS) {
                    // The collection pulls the catalog itself; what that pull brought is
                    // reported again by the next sync, since nothing applied it.
                    match locker.gc(loft_locker::GcOptions::default()).await {
                        Ok(report) => tracing::info!(?report, "locker blobs collected"),
                        Err(error) => tracing::warn!(%error, "locker garbage collection failed"),
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot open the locker"),
        }
        let pause = if hub.session.seems_reachable() { SYNC_INTERVAL } else { PROBE_INTERVAL };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = wake.notified() => {}
        }
    }
}
