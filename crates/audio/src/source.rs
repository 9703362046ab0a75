//! Where the engine reads encoded audio from. A queue item carries an opener rather than an
//! open reader so the engine can reopen it (after a device change, on "previous", on repeat).

use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;

use crate::AudioError;

/// A readable, seekable stream of encoded audio. Local files implement it; the locker's
/// range-read stream will too. Reads may block (a slow network); the engine shows that as
/// buffering.
pub trait MediaStream: Read + Seek + Send {
    /// The total length in bytes, when known.
    fn byte_len(&self) -> Option<u64>;
}

impl MediaStream for std::fs::File {
    fn byte_len(&self) -> Option<u64> {
        self.metadata().ok().map(|m| m.len())
    }
}

impl<T: AsRef<[u8]> + Send> MediaStream for std::io::Cursor<T> {
    fn byte_len(&self) -> Option<u64> {
        Some(self.get_ref().as_ref().len() as u64)
    }
}

/// Opens a fresh stream of one piece of media each time it is called.
pub trait MediaOpener: Send + Sync {
    /// A name for messages and events: the file path or the locker key.
    fn name(&self) -> String;
    /// A file extension that helps the format probe ("flac", "mp3"), when known.
    fn extension(&self) -> Option<String>;
    fn open(&self) -> Result<Box<dyn MediaStream>, AudioError>;
}

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

    fn open(&self) -> Result<Box<dyn MediaStream>, AudioError> {
        let file = std::fs::File::open(&self.path)
            .map_err(|source| AudioError::Open { name: self.name(), source })?;
        Ok(Box::new(file))
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
