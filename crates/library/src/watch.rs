//! Watching the library folders: changes on disk reach the index (and through the callback,
//! the UI) within a few seconds.

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

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
    debouncer: Option<Debouncer<RecommendedWatcher>>,
    worker: Option<JoinHandle<()>>,
    watched: Vec<PathBuf>,
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
}

impl Drop for LibraryWatcher {
    fn drop(&mut self) {
        // Dropping the debouncer closes the channel, which ends the worker's loop.
        self.debouncer.take();
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
        let (sender, receiver) = mpsc::channel::<DebounceEventResult>();
        let mut debouncer =
            new_debouncer(DEBOUNCE, sender).map_err(|e| LibraryError::Watch(e.to_string()))?;
        let mut watched = Vec::new();
        for folder in self.folders()? {
            match debouncer.watcher().watch(&folder.path, RecursiveMode::Recursive) {
                Ok(()) => watched.push(folder.path),
                // A missing folder (an unplugged drive) must not stop the others being watched.
                Err(error) => {
                    on_event(WatchEvent::Failed(format!("cannot watch {}: {error}", folder.path.display())))
                }
            }
        }
        let library = self.clone();
        let worker = std::thread::Builder::new()
            .name("loft-library-watch".to_owned())
            .spawn(move || library.watch_loop(&receiver, &on_event))?;
        Ok(LibraryWatcher { debouncer: Some(debouncer), worker: Some(worker), watched })
    }

    fn watch_loop(&self, receiver: &mpsc::Receiver<DebounceEventResult>, on_event: &dyn Fn(WatchEvent)) {
        while let Ok(first) = receiver.recv() {
            let mut changed: Vec<PathBuf> = Vec::new();
            let mut batch = Some(first);
            while let Some(result) = batch.take().or_else(|| receiver.try_recv().ok()) {
                match result {
                    Ok(events) => changed.extend(events.into_iter().map(|e| e.path)),
                    Err(error) => {
                        on_event(WatchEvent::Failed(format!("watching the library failed: {error}")))
                    }
                }
            }
            if changed.is_empty() {
                continue;
            }
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
