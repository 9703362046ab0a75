//! Where the engine reads encoded audio from: the queue's items, each carrying a
//! [`MediaOpener`] (the trait lives in loft-media, so the storage crate can offer streams
//! without depending on the engine).

use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;

pub use loft_media::{MediaOpener, MediaStream};

/// A file on a local disk.
#[derive(Debug, Clone)]
pub struct FileOpener {
    path: PathBuf,
}

impl FileOpener {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileOpener { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl MediaOpener for FileOpener {
    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn extension(&self) -> Option<String> {
        self.path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase)
    }

    fn open(&self) -> std::io::Result<Box<dyn MediaStream>> {
        Ok(Box::new(std::fs::File::open(&self.path)?))
    }
}

/// One entry of a play queue: something to open, plus what the front end wants back in
/// events (its own id for the track).
#[derive(Clone)]
pub struct QueueItem {
    /// The front end's identifier, echoed in events (a library track id, or 0 for a bare file).
    pub track_id: i64,
    pub opener: Arc<dyn MediaOpener>,
}

impl QueueItem {
    pub fn file(path: impl Into<PathBuf>) -> Self {
        QueueItem { track_id: 0, opener: Arc::new(FileOpener::new(path)) }
    }

    pub fn name(&self) -> String {
        self.opener.name()
    }
}

impl fmt::Debug for QueueItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueItem").field("track_id", &self.track_id).field("name", &self.name()).finish()
    }
}

/// Adapts a [`MediaStream`] to symphonia's source trait, which also wants `Sync`. The mutex is
/// only ever taken by the decoder thread, so it never contends.
pub(crate) struct SymphoniaSource {
    stream: Mutex<Box<dyn MediaStream>>,
    byte_len: Option<u64>,
}

impl SymphoniaSource {
    pub(crate) fn new(stream: Box<dyn MediaStream>) -> Self {
        let byte_len = stream.byte_len();
        SymphoniaSource { stream: Mutex::new(stream), byte_len }
    }

    fn stream(&mut self) -> &mut Box<dyn MediaStream> {
        self.stream.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Read for SymphoniaSource {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.stream().read(buf)
    }
}

impl Seek for SymphoniaSource {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.stream().seek(pos)
    }
}

impl symphonia::core::io::MediaSource for SymphoniaSource {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        self.byte_len
    }
}
