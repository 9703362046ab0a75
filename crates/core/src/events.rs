//! What the service tells its front ends while it runs: scan progress, library changes,
//! playback position and state, upload progress, errors. The desktop shell forwards each
//! event to the UI; the CLI prints the ones a command waits on.

use std::sync::Arc;

use serde::Serialize;

/// One thing that happened. Serialized with a `type` tag so the UI can switch on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Settings changed (from any front end of this process).
    SettingsChanged { settings: crate::Settings },
    /// An upload is running: after every part sent and every file done. `current` is the file
    /// being sent; `bytes_total` is the size of all files, of which files already in the
    /// locker send nothing.
    UploadProgress {
        files_done: usize,
        files_total: usize,
        bytes_sent: u64,
        bytes_total: u64,
        current: Option<std::path::PathBuf>,
    },
    /// The upload queue changed: a file was queued, started, progressed (throttled), landed,
    /// failed, was cancelled or retried. The whole queue, oldest first.
    UploadsChanged { items: Vec<crate::UploadItem> },
    /// An upload ended: files sent, files the locker had already, files that failed.
    UploadFinished { uploaded: usize, duplicates: usize, failed: usize, bytes_sent: u64 },
    /// A locker sync ended (started by a front end or by the background loop). `problems`
    /// name catalog files that could not be read yet.
    SyncFinished {
        ops_applied: usize,
        tracks_changed: usize,
        tracks_removed: usize,
        playlists_changed: usize,
        playlists_deleted: usize,
        inbox_imported: usize,
        problems: Vec<String>,
    },
    /// A check of the locker ended; `damaged` when it found damage (the cloud pane shows it).
    LockerChecked { damaged: bool },
    /// A run of the locker's conversion to encrypted ended: `converting` while plaintext is
    /// still there, `waiting_for` the devices that have not unlocked it yet.
    LockerEncryption { converting: bool, waiting_for: Vec<String> },
    /// A conversion to encrypted goes on: blobs sealed so far of those in all.
    LockerEncryptionProgress { blobs_sealed: usize, blobs_total: usize },
    /// This device's edits waiting to be written to the locker (0 once all are in).
    PendingChanges { count: usize },
    /// The locker stopped answering (network down, server gone); syncs retry every minute.
    LockerUnreachable { message: String },
    /// The locker answers again.
    LockerReachable,
    /// Where playback is, about four times a second while playing.
    PlaybackPosition { index: usize, track_id: i64, position_secs: f64, duration_secs: Option<f64> },
    /// A new track reached the speakers. `index` is its place in the queue.
    TrackChanged { index: usize, track_id: i64, name: String, duration_secs: Option<f64> },
    /// "playing", "paused", "buffering" or "stopped".
    PlaybackState { state: String },
    /// A track could not be played (`name` says which); playback moved on.
    PlaybackError { index: Option<usize>, name: String, kind: String, message: String },
    /// The last track of the queue has played.
    QueueEnded,
    /// The play queue changed: its track ids in order, shuffle and repeat ("off", "one", "all").
    QueueChanged { track_ids: Vec<i64>, shuffle: bool, repeat: String },
    /// A library scan is running. `files_to_read` is known once the folders are walked.
    ScanProgress { files_seen: u64, files_to_read: u64, files_read: u64 },
    /// A library scan finished, started by a front end or by the folder watcher.
    ScanFinished {
        files_seen: u64,
        added: u64,
        updated: u64,
        moved: u64,
        removed: u64,
        errors: u64,
        seconds: f64,
    },
    /// Tracks were added, changed, moved or removed, or merged by content: lists should reload.
    LibraryChanged { added: u64, updated: u64, moved: u64, removed: u64 },
    /// Watching the library folders failed; the message says why. Watching goes on.
    LibraryWatchFailed { message: String },
    /// A track is being downloaded into the offline cache (pinned): `bytes` of `size` are there.
    DownloadProgress { track_id: i64, bytes: u64, size: u64 },
    /// What the offline cache holds changed (pinned, unpinned, cleared, cap changed): reload
    /// the cache state of `track_ids`, or of everything when it is empty.
    CacheChanged { track_ids: Vec<i64> },
    /// Playlists were created, renamed, edited or deleted (here, or by another device through
    /// the locker): reload the list, and any open playlist whose id is in `ids`.
    PlaylistsChanged { ids: Vec<String> },
}

/// Receives events. Implementations must return quickly and never block: they are called
/// from the service's worker threads.
pub trait EventSink: Send + Sync + 'static {
    fn emit(&self, event: Event);
}

/// Discards everything; for front ends that don't listen.
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _event: Event) {}
}

/// Sends events down a channel, for front ends that consume them on their own thread.
impl EventSink for std::sync::mpsc::Sender<Event> {
    fn emit(&self, event: Event) {
        // A closed receiver means nobody listens any more; that is not an error.
        let _ = self.send(event);
    }
}

pub type SharedSink = Arc<dyn EventSink>;
