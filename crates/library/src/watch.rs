//! Watching the library folders: changes on disk reach the index (and through the callback,
//! the UI) within a few seconds.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use crate::error::{LibraryError, Result};
use crate::{Library, ScanReport};

/// How long the disk must be quiet before changes are scanned: long enough that a file being
/// copied is read once, finished, rather than many times half-written.
const DEBOUNCE: Duration = Duration::from_millis(1000);
/// Past this many changed paths in one batch, rescanning the folders is quicker.
const MAX_TARGETED_PATHS: usize = 2000;

/// What the watcher reports.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent {
    /// Changes on disk were scanned into the index.
    Scanned(ScanReport),
    /// Watching or scanning failed; watching goes on.
    Failed(String),
}

/// Watches while it lives; dropping it stops watching (after a scan in progress finishes).
pub struct LibraryWatcher {
    watcher: Option<RecommendedWatcher>,
    worker: Option<JoinHandle<()>>,
    watched: Vec<PathBuf>,
    batches: Arc<AtomicU64>,
}

impl std::fmt::Debug for LibraryWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibraryWatcher").field("watched", &self.watched).finish_non_exhaustive()
    }
}

impl LibraryWatcher {
    /// The folders being watched.
    pub fn watched(&self) -> &[PathBuf] {
        &self.watched
    }

    /// How many batches of changes were scanned so far, whether or not they changed the
    /// index: a library at rest must stay at zero.
    pub fn batches_scanned(&self) -> u64 {
        self.batches.load(Ordering::SeqCst)
    }
}

/// Whether a file-system event can mean an audio file or folder appeared, changed or left.
/// Reading does not: inotify reports every open and close, and atime updates, so without
/// this filter a scan's own reads would come back as changes and the watcher would rescan a
/// large library forever.
fn is_change(kind: &EventKind) -> bool {
    match kind {
        // A file written and closed is complete: the moment to read it.
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        _ => true,
    }
}

impl Drop for LibraryWatcher {
    fn drop(&mut self) {
        // Dropping the watcher closes the channel, which ends the worker's loop.
        self.watcher.take();
        if let Some(worker) = self.worker.take()
            && worker.join().is_err()
        {
            tracing::error!("the library watcher thread panicked");
        }
    }
}

impl Library {
    /// Starts watching every library folder. `on_event` is called on the watcher's thread
    /// after each batch of changes is scanned. Folders added later need a new watcher.
    pub fn watch(&self, on_event: impl Fn(WatchEvent) + Send + 'static) -> Result<LibraryWatcher> {
        let (sender, receiver) = mpsc::channel::<notify::Result<Vec<PathBuf>>>();
        let mut watcher = notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
            let forwarded = match result {
                Ok(event) if is_change(&event.kind) => Ok(event.paths),
                Ok(_) => return,
                Err(error) => Err(error),
            };
            // The worker is gone only when the watcher is being dropped.
            let _ = sender.send(forwarded);
        })
        .map_err(|e| LibraryError::Watch(e.to_string()))?;
        let mut watched = Vec::new();
        for folder in self.folders()? {
            match watcher.watch(&folder.path, RecursiveMode::Recursive) {
                Ok(()) => watched.push(folder.path),
                // A missing folder (an unplugged drive) must not stop the others being watched.
                Err(error) => {
                    on_event(WatchEvent::Failed(format!("cannot watch {}: {error}", folder.path.display())))
                }
            }
        }
        let library = self.clone();
        let batches = Arc::new(AtomicU64::new(0));
        let counted = batches.clone();
        let worker = std::thread::Builder::new()
            .name("loft-library-watch".to_owned())
            .spawn(move || library.watch_loop(&receiver, &on_event, &counted))?;
        Ok(LibraryWatcher { watcher: Some(watcher), worker: Some(worker), watched, batches })
    }

    fn watch_loop(
        &self,
        receiver: &mpsc::Receiver<notify::Result<Vec<PathBuf>>>,
        on_event: &dyn Fn(WatchEvent),
        batches: &AtomicU64,
    ) {
        while let Ok(first) = receiver.recv() {
            // Debounce: collect until the disk has been quiet for DEBOUNCE.
            let mut paths: HashSet<PathBuf> = HashSet::new();
            let mut next = Some(first);
            while let Some(result) = next.take() {
                match result {
                    Ok(changed) => paths.extend(changed),
                    Err(error) => {
                        on_event(WatchEvent::Failed(format!("watching the library failed: {error}")))
                    }
                }
                next = receiver.recv_timeout(DEBOUNCE).ok();
            }
            let changed: Vec<PathBuf> = paths.into_iter().collect();
            if changed.is_empty() {
                continue;
            }
            batches.fetch_add(1, Ordering::SeqCst);
            let scanned = if changed.len() > MAX_TARGETED_PATHS {
                self.scan(&|_| {})
            } else {
                self.scan_paths(&changed, &|_| {})
            };
            match scanned {
                Ok(report) if report.changed_anything() || !report.errors.is_empty() => {
                    on_event(WatchEvent::Scanned(report));
                }
                Ok(_) => {}
                Err(error) => on_event(WatchEvent::Failed(format!("scanning changes failed: {error}"))),
            }
        }
    }
}
