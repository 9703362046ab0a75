//! Reading one audio file for the index: its tags, audio properties and embedded cover (through
//! loft-media's tag reader), and the cheap content fingerprint that recognizes it after a move.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use loft_media::{MediaError, MediaTags, ReadOptions};

/// How much of each end of a file goes into the fingerprint.
const FINGERPRINT_SPAN: u64 = 16 * 1024;

/// The result of reading one file.
#[derive(Debug)]
pub struct ReadFile {
    pub tags: MediaTags,
    pub fingerprint: [u8; 16],
    /// The embedded picture to use as cover (front cover first), if any.
    pub embedded_cover: Option<Vec<u8>>,
}

/// Why a file could not be read, in words for the user.
pub type ReadError = String;

/// Reads tags, properties, cover and fingerprint of the file at `path`, whose size the caller
/// just saw. Never panics: a panic inside the tag reader becomes an error for this file.
pub fn read_file(path: &Path, size: u64) -> Result<ReadFile, ReadError> {
    if size == 0 {
        return Err(MediaError::Empty.to_string());
    }
    let mut file = File::open(path).map_err(|e| describe_io(&e))?;
    let fingerprint = fingerprint(&mut file, size).map_err(|e| describe_io(&e))?;
    file.seek(SeekFrom::Start(0)).map_err(|e| describe_io(&e))?;
    let read = loft_media::read_tags(file, loft_media::extension_of(path), ReadOptions { cover: true })
        .map_err(|error| describe_media(&error))?;
    Ok(ReadFile { tags: read.tags, fingerprint, embedded_cover: read.cover })
}

/// Size plus a hash of the first and last 16 KiB: cheap, and enough to recognize a file that
/// was moved or renamed without reading all of it.
pub fn fingerprint(file: &mut File, size: u64) -> std::io::Result<[u8; 16]> {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(&size.to_le_bytes());
    let mut buffer = vec![0u8; FINGERPRINT_SPAN as usize];
    let head = size.min(FINGERPRINT_SPAN) as usize;
    file.read_exact(&mut buffer[..head])?;
    hasher.update(&buffer[..head]);
    if size > FINGERPRINT_SPAN {
        let tail_start = size.saturating_sub(FINGERPRINT_SPAN).max(FINGERPRINT_SPAN);
        let tail = (size - tail_start) as usize;
        file.seek(SeekFrom::Start(tail_start))?;
        file.read_exact(&mut buffer[..tail])?;
        hasher.update(&buffer[..tail]);
    }
    Ok(hasher.digest128().to_le_bytes())
}

pub fn describe_io(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "the file vanished during the scan".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::UnexpectedEof => "the file is shorter than it claims (truncated)".to_owned(),
        _ => format!("cannot read the file: {error}"),
    }
}

/// The reader's verdict, with what lofty said in parentheses: the scan report is where a user
/// looks into why a file is missing.
fn describe_media(error: &MediaError) -> String {
    match error.detail() {
        detail if detail.is_empty() => error.to_string(),
        detail => format!("{error} ({detail})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_changes_with_the_tail_and_not_with_the_name() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a.bin");
        let b = tmp.path().join("b.bin");
        let content: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&a, &content).unwrap();
        std::fs::write(&b, &content).unwrap();
        let size = content.len() as u64;
        let fa = fingerprint(&mut File::open(&a).unwrap(), size).unwrap();
        assert_eq!(fa, fingerprint(&mut File::open(&b).unwrap(), size).unwrap());
        let mut changed = content.clone();
        *changed.last_mut().unwrap() ^= 1;
        std::fs::write(&b, &changed).unwrap();
        assert_ne!(fa, fingerprint(&mut File::open(&b).unwrap(), size).unwrap());
    }

    #[test]
    fn zero_byte_and_garbage_files_are_errors_not_panics() {
        let tmp = tempfile::tempdir().unwrap();
        let empty = tmp.path().join("empty.mp3");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(read_file(&empty, 0).unwrap_err(), "empty file (0 bytes)");
        let text = tmp.path().join("notes.flac");
        std::fs::write(&text, b"these are not the sounds you are looking for\n".repeat(100)).unwrap();
        let reason = read_file(&text, 4600).unwrap_err();
        assert!(!reason.is_empty());
    }
}
