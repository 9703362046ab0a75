//! Where the engine reads encoded audio from. A queue item carries an opener rather than an
//! open reader so the engine can reopen it (after a device change, on "previous", on repeat).
//! The traits live here, not in the engine, so the storage crate can offer its streams without
//! depending on the engine.

use std::io::{Read, Seek};

/// A readable, seekable stream of encoded audio: a local file, or the locker's range-read
/// stream. Reads may block (a slow network); the engine shows that as buffering.
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
    /// Opens the stream. The error's message is shown to the user after the name (the engine
    /// words it "cannot open NAME: ERROR"); its source chain goes to the log.
    fn open(&self) -> std::io::Result<Box<dyn MediaStream>>;
}
