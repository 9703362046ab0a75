//! The library as the service offers it: folders, scans, browsing and search, and the
//! background work (watching the folders, hashing files) that reports through events.

use std::path::Path;
use std::sync::Mutex;

use loft_library::{
    Album, AlbumKey, Artist, CoverImage, CoverSize, Folder, HashPace, Hasher, Library, LibraryWatcher, Page,
    ScanReport, SourceFilter, Track, TrackQuery, WatchEvent,
};

use crate::{CoreError, Event, Loft, SharedSink};

/// The library index plus its background workers.
pub(crate) struct LibraryService {
    library: Library,
    watcher: Mutex<Option<LibraryWatcher>>,
    hasher: Mutex<Option<Hasher>>,
}

impl LibraryService {
    pub(crate) fn open(database: &Path) -> Result<Self, CoreError> {
        Ok(LibraryService {
            library: Library::open(database)?,
            watcher: Mutex::new(None),
            hasher: Mutex::new(None),
        })
    }

    pub(crate) fn library(&self) -> &Library {
        &self.library
    }
}

fn finished_event(report: &ScanReport) -> Event {
    Event::ScanFinished {
        files_seen: report.files_seen,
        added: report.added,
        updated: report.updated,
        moved: report.moved,
        removed: report.removed,
        errors: report.errors.len() as u64,
        seconds: report.seconds,
    }
}

fn changed_event(report: &ScanReport) -> Event {
    Event::LibraryChanged {
        added: report.added,
        updated: report.updated,
        moved: report.moved,
        removed: report.removed,
    }
}

// A poisoned lock only means a thread panicked while swapping a worker handle in or out;
// the Option inside is whole either way.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Loft {
    /// The library index itself, for what the methods below don't cover.
    pub fn library(&self) -> &Library {
        &self.library.library
    }

    pub fn library_folders(&self) -> Result<Vec<Folder>, CoreError> {
        Ok(self.library().folders()?)
    }

    /// Adds a music folder (scan to index it). A running watcher starts watching it too.
    pub fn add_library_folder(&self, dir: impl AsRef<Path>) -> Result<Folder, CoreError> {
        let folder = self.library().add_folder(dir)?;
        self.rewatch()?;
        Ok(folder)
    }

    /// Removes a music folder and its tracks; returns how many tracks left the library.
    pub fn remove_library_folder(&self, dir: impl AsRef<Path>) -> Result<u64, CoreError> {
        let removed = self.library().remove_folder(dir)?;
        self.rewatch()?;
        if removed > 0 {
            self.events().emit(Event::LibraryChanged { added: 0, updated: 0, moved: 0, removed });
        }
        Ok(removed)
    }

    /// Scans every library folder, reporting progress through events. Blocks until done: call
    /// it off any async runtime's worker threads.
    pub fn scan_library(&self) -> Result<ScanReport, CoreError> {
        let events = self.events().clone();
        let report = self.library().scan(&move |progress| {
            events.emit(Event::ScanProgress {
                files_seen: progress.files_seen,
                files_to_read: progress.files_to_read,
                files_read: progress.files_read,
            });
        })?;
        self.events().emit(finished_event(&report));
        if report.changed_anything() {
            self.events().emit(changed_event(&report));
            if let Some(hasher) = lock(&self.library.hasher).as_ref() {
                hasher.nudge();
            }
        }
        Ok(report)
    }

    /// One page of tracks in the given order.
    pub fn tracks(&self, query: &TrackQuery) -> Result<Vec<Track>, CoreError> {
        self.refresh_offline_index()?;
        Ok(self.library().tracks(query)?)
    }

    /// How many tracks a list with this source filter holds.
    pub fn count_tracks(&self, source: SourceFilter) -> Result<u64, CoreError> {
        if source == SourceFilter::Offline {
            self.refresh_offline_index()?;
        }
        Ok(self.library().count_tracks(source)?)
    }

    pub fn track(&self, id: i64) -> Result<Option<Track>, CoreError> {
        self.refresh_offline_index()?;
        Ok(self.library().track(id)?)
    }

    /// Tracks matching what the user typed (prefix words, any case, any accents), best first.
    pub fn search(&self, text: &str, limit: u64) -> Result<Vec<Track>, CoreError> {
        self.refresh_offline_index()?;
        Ok(self.library().search(text, limit)?)
    }

    pub fn albums(&self, page: Page) -> Result<Vec<Album>, CoreError> {
        Ok(self.library().albums(page)?)
    }

    pub fn album_tracks(&self, album: &AlbumKey) -> Result<Vec<Track>, CoreError> {
        self.refresh_offline_index()?;
        Ok(self.library().album_tracks(album)?)
    }

    pub fn artists(&self, page: Page) -> Result<Vec<Artist>, CoreError> {
        Ok(self.library().artists(page)?)
    }

    pub fn artist_tracks(&self, artist: &str) -> Result<Vec<Track>, CoreError> {
        self.refresh_offline_index()?;
        Ok(self.library().artist_tracks(artist)?)
    }

    pub fn cover(&self, cover_id: i64, size: CoverSize) -> Result<Option<CoverImage>, CoreError> {
        Ok(self.library().cover(cover_id, size)?)
    }

    /// Starts watching the library folders: changes on disk are scanned within a few seconds
    /// and reported as `ScanFinished` and `LibraryChanged` events. Does nothing if watching.
    pub fn start_watching(&self) -> Result<(), CoreError> {
        let mut watcher = lock(&self.library.watcher);
        if watcher.is_none() {
            *watcher = Some(self.new_watcher()?);
        }
        Ok(())
    }

    pub fn stop_watching(&self) {
        let stopped = lock(&self.library.watcher).take();
        drop(stopped);
    }

    pub fn is_watching(&self) -> bool {
        lock(&self.library.watcher).is_some()
    }

    /// Starts the background SHA-256 hasher (low rate; pauses during scans). Does nothing if
    /// it runs already.
    pub fn start_hashing(&self) {
        let mut hasher = lock(&self.library.hasher);
        if hasher.is_none() {
            let events = self.events().clone();
            *hasher = Some(self.library().start_hasher(HashPace::BACKGROUND, move |report| {
                // Merged duplicates change what lists show; fresh hashes alone do not.
                if report.merged > 0 {
                    events.emit(Event::LibraryChanged {
                        added: 0,
                        updated: report.merged,
                        moved: 0,
                        removed: 0,
                    });
                }
            }));
        }
    }

    pub fn stop_hashing(&self) {
        let stopped = lock(&self.library.hasher).take();
        drop(stopped);
    }

    fn new_watcher(&self) -> Result<LibraryWatcher, CoreError> {
        let events: SharedSink = self.events().clone();
        Ok(self.library().watch(move |event| match event {
            WatchEvent::Scanned(report) => {
                events.emit(finished_event(&report));
                if report.changed_anything() {
                    events.emit(changed_event(&report));
                }
            }
            WatchEvent::Failed(message) => {
                tracing::warn!(%message, "library watcher");
                events.emit(Event::LibraryWatchFailed { message });
            }
        })?)
    }

    /// A watcher watches the folders it started with; after the folders change, replace it.
    fn rewatch(&self) -> Result<(), CoreError> {
        let mut watcher = lock(&self.library.watcher);
        if watcher.is_some() {
            watcher.take();
            *watcher = Some(self.new_watcher()?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, mpsc};

    use super::*;

    #[test]
    fn folders_scan_and_events_through_the_service() {
        let tmp = tempfile::tempdir().unwrap();
        let music = tmp.path().join("music");
        std::fs::create_dir_all(&music).unwrap();
        let (sender, receiver) = mpsc::channel();
        let loft = Loft::open_with_events(tmp.path().join("profile"), Arc::new(sender)).unwrap();
        let folder = loft.add_library_folder(&music).unwrap();
        assert_eq!(loft.library_folders().unwrap(), vec![folder]);
        let report = loft.scan_library().unwrap();
        assert_eq!(report.files_seen, 0);
        let events: Vec<Event> = receiver.try_iter().collect();
        assert!(events.iter().any(|e| matches!(e, Event::ScanFinished { files_seen: 0, .. })), "{events:?}");
        assert!(!events.iter().any(|e| matches!(e, Event::LibraryChanged { .. })), "{events:?}");

        loft.start_watching().unwrap();
        assert!(loft.is_watching());
        loft.stop_watching();
        loft.start_hashing();
        loft.stop_hashing();

        let error = loft.add_library_folder(tmp.path().join("absent")).unwrap_err();
        assert_eq!(error.kind(), "invalid_input");
        assert_eq!(loft.remove_library_folder(&music).unwrap(), 0);
        assert!(loft.library_folders().unwrap().is_empty());
    }

    #[test]
    fn the_service_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Loft>();
    }
}
