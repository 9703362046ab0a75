//! Reading tags, from a local file or from an object in the locker through range reads, with
//! loft-media's tag reader. A format the engine cannot play is refused here, by its name or its
//! content, so neither an upload nor an inbox import sends or keeps a track that will not play.
//! Everything here blocks; callers run it on tokio's blocking pool.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use bytes::Bytes;
use loft_media::{MediaError, MediaTags, ReadOptions};

use crate::catalog::TrackTags;
use crate::error::{LockerError, Result};
use crate::storage::Storage;

/// Reads the tags of a local audio file; anything that is not audio the engine plays is
/// `NotAudio`.
pub(crate) fn read_local(path: &Path) -> Result<TrackTags> {
    let file = std::fs::File::open(path)
        .map_err(|error| LockerError::io(format!("cannot open {}", path.display()), error))?;
    read_tags(file, path).map_err(|error| match error {
        MediaError::Io { .. } => LockerError::io(
            format!("cannot read the tags of {}", path.display()),
            std::io::Error::other(error.detail()),
        ),
        error => not_audio(path, &error),
    })
}

/// Reads the tags of an object in the locker without downloading it: the reader seeks through
/// the object and only the blocks it touches are fetched. Must run on a blocking thread.
pub(crate) fn read_remote(
    runtime: tokio::runtime::Handle,
    storage: Storage,
    object: &str,
    size: u64,
) -> Result<TrackTags> {
    let reader = RangeReader {
        runtime,
        storage,
        object: object.to_owned(),
        size,
        position: 0,
        blocks: HashMap::new(),
    };
    read_tags(reader, Path::new(object)).map_err(|error| match error {
        // A failure of the storage underneath is not the object's fault.
        MediaError::Io { .. } => LockerError::Storage(format!("reading {object} failed: {}", error.detail())),
        error => not_audio(Path::new(object), &error),
    })
}

fn read_tags<R: Read + Seek>(reader: R, name: &Path) -> std::result::Result<TrackTags, MediaError> {
    let read = loft_media::read_tags(reader, loft_media::extension_of(name), ReadOptions::default())?;
    Ok(track_tags(read.tags))
}

fn not_audio(name: &Path, error: &MediaError) -> LockerError {
    tracing::info!(file = %name.display(), %error, detail = %error.detail(), "not audio Loft plays");
    let reason = match error {
        MediaError::Unplayable(format) => format!("it is {} audio, which Loft cannot play", format.name),
        error => error.to_string(),
    };
    LockerError::NotAudio { path: name.to_owned(), reason }
}

/// The tags the catalog records, of those the reader found.
fn track_tags(tags: MediaTags) -> TrackTags {
    let text = |value: String| Some(value).filter(|value| !value.is_empty());
    TrackTags {
        title: text(tags.title),
        artist: text(tags.artist),
        album: text(tags.album),
        album_artist: text(tags.album_artist),
        genre: text(tags.genre),
        year: tags.year.and_then(|year| u32::try_from(year).ok()),
        track_number: tags.track_no,
        disc_number: tags.disc_no,
        duration_ms: Some(tags.duration_ms).filter(|duration| *duration > 0),
    }
}

const BLOCK: u64 = 64 * 1024;

/// `Read + Seek` over an object in the locker, fetching 64 KiB blocks by range as they are read.
struct RangeReader {
    runtime: tokio::runtime::Handle,
    storage: Storage,
    object: String,
    size: u64,
    position: u64,
    blocks: HashMap<u64, Bytes>,
}

impl RangeReader {
    fn block(&mut self, index: u64) -> std::io::Result<Bytes> {
        if let Some(block) = self.blocks.get(&index) {
            return Ok(block.clone());
        }
        let start = index * BLOCK;
        let end = (start + BLOCK).min(self.size);
        let storage = self.storage.clone();
        let object = self.object.clone();
        let block = self
            .runtime
            .block_on(async move { storage.read_range(&object, start, end).await })
            .map_err(std::io::Error::other)?;
        self.blocks.insert(index, block.clone());
        Ok(block)
    }
}

impl Read for RangeReader {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.position >= self.size || buffer.is_empty() {
            return Ok(0);
        }
        let index = self.position / BLOCK;
        let block = self.block(index)?;
        let offset = (self.position - index * BLOCK) as usize;
        if offset >= block.len() {
            return Ok(0);
        }
        let count = buffer.len().min(block.len() - offset);
        buffer[..count].copy_from_slice(&block[offset..offset + count]);
        self.position += count as u64;
        Ok(count)
    }
}

impl Seek for RangeReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.size.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        self.position = target
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.position)
    }
}
