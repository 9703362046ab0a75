//! Reading tags, from a local file or from an object in the locker through range reads.
//! Everything here blocks; callers run it on tokio's blocking pool.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use bytes::Bytes;
use lofty::prelude::{Accessor, AudioFile, ItemKey, TaggedFileExt};
use lofty::probe::Probe;

use crate::catalog::TrackTags;
use crate::error::{LockerError, Result};
use crate::storage::Storage;

/// Reads the tags of a local audio file; anything lofty cannot parse as audio is `NotAudio`.
pub(crate) fn read_local(path: &Path) -> Result<TrackTags> {
    let file = std::fs::File::open(path)
        .map_err(|error| LockerError::io(format!("cannot open {}", path.display()), error))?;
    read_tags(std::io::BufReader::new(file), path)
}

/// Reads the tags of an object in the locker without downloading it: lofty seeks through the
/// object and only the blocks it touches are fetched. Must run on a blocking thread.
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
    read_tags(reader, Path::new(object))
}

/// Reads tags, with a parser panic on hostile bytes turned into "not audio" rather than
/// taking the thread (and the sync or upload it serves) down with it.
fn read_tags<R: Read + Seek>(reader: R, name: &Path) -> Result<TrackTags> {
    let guarded =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_tags_unguarded(reader, name)));
    guarded.unwrap_or_else(|_| {
        tracing::warn!(file = %name.display(), "the tag reader failed on this file");
        Err(LockerError::NotAudio { path: name.to_owned(), reason: "its tags cannot be read".into() })
    })
}

fn read_tags_unguarded<R: Read + Seek>(reader: R, name: &Path) -> Result<TrackTags> {
    let not_audio = |reason: String| LockerError::NotAudio { path: name.to_owned(), reason };
    let probe = Probe::new(reader)
        .guess_file_type()
        .map_err(|error| LockerError::io(format!("cannot read {}", name.display()), error))?;
    if probe.file_type().is_none() {
        return Err(not_audio("its content is not a known audio format".into()));
    }
    let tagged = probe.read().map_err(|error| {
        // An I/O failure underneath (the storage, for a remote object) is not the file's fault.
        let mut source = std::error::Error::source(&error);
        while let Some(inner) = source {
            if inner.is::<std::io::Error>() {
                return LockerError::Storage(format!("reading {} failed: {error}", name.display()));
            }
            source = inner.source();
        }
        not_audio(error.to_string())
    })?;
    let duration = tagged.properties().duration();
    let mut tags = TrackTags {
        duration_ms: (!duration.is_zero()).then_some(duration.as_millis() as u64),
        ..TrackTags::default()
    };
    if let Some(tag) = tagged.primary_tag().or_else(|| tagged.first_tag()) {
        let text = |value: Option<std::borrow::Cow<'_, str>>| {
            value.map(|value| value.trim().to_owned()).filter(|value| !value.is_empty())
        };
        tags.title = text(tag.title());
        tags.artist = text(tag.artist());
        tags.album = text(tag.album());
        tags.genre = text(tag.genre());
        tags.album_artist = tag.get_string(ItemKey::AlbumArtist).map(str::to_owned);
        tags.track_number = tag.track();
        tags.disc_number = tag.disk();
        tags.year = tag.date().map(|date| u32::from(date.year));
    }
    Ok(tags)
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
