//! Cover art: each distinct image is stored once, keyed by a hash of its bytes, with a small
//! JPEG thumbnail for lists and grids.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use image::{ImageFormat, ImageReader, Limits};

/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIZE: u32 = 256;
/// Images larger than this are not decoded (they are most likely damaged or hostile).
const MAX_IMAGE_BYTES: usize = 32 * 1024 * 1024;

pub type CoverHash = [u8; 16];

pub fn hash(bytes: &[u8]) -> CoverHash {
    xxhash_rust::xxh3::xxh3_128(bytes).to_le_bytes()
}

/// A cover ready to be stored.
#[derive(Debug)]
pub struct PreparedCover {
    pub hash: CoverHash,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    pub image: Vec<u8>,
    pub thumbnail: Vec<u8>,
}

/// Decodes `bytes` enough to make the thumbnail. JPEG and PNG only; anything else is skipped.
pub fn prepare(bytes: Vec<u8>) -> Result<PreparedCover, String> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(format!("cover image too large ({} bytes)", bytes.len()));
    }
    let format = image::guess_format(&bytes).map_err(|e| format!("unrecognized cover image: {e}"))?;
    let mime = match format {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Png => "image/png",
        other => return Err(format!("unsupported cover image format {other:?}")),
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(12_000);
    limits.max_image_height = Some(12_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    let mut reader = ImageReader::with_format(Cursor::new(&bytes), format);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| format!("damaged cover image: {e}"))?;
    let thumbnail = decoded.thumbnail(THUMBNAIL_SIZE, THUMBNAIL_SIZE).into_rgb8();
    let mut encoded = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, 85)
        .encode_image(&thumbnail)
        .map_err(|e| format!("cannot make a thumbnail: {e}"))?;
    Ok(PreparedCover {
        hash: hash(&bytes),
        mime,
        width: decoded.width(),
        height: decoded.height(),
        image: bytes,
        thumbnail: encoded,
    })
}

/// What a reader thread found as a file's cover.
#[derive(Debug)]
pub enum CoverFound {
    /// An image already stored, or being prepared by another thread; the writer resolves it.
    Known(CoverHash),
    New(PreparedCover),
}

/// Shared by the reader threads of one scan so each distinct image is decoded once.
pub struct CoverDedup {
    /// Hashes stored or being prepared; `false` for images that failed to decode.
    seen: Mutex<HashMap<CoverHash, bool>>,
    /// Folder cover files already looked at.
    folder_covers: Mutex<HashMap<PathBuf, Option<CoverHash>>>,
}

impl CoverDedup {
    pub fn new(stored: impl IntoIterator<Item = CoverHash>) -> Self {
        CoverDedup {
            seen: Mutex::new(stored.into_iter().map(|h| (h, true)).collect()),
            folder_covers: Mutex::new(HashMap::new()),
        }
    }

    /// The cover for image `bytes`: prepared when nobody has seen it, else a reference.
    pub fn offer(&self, bytes: Vec<u8>) -> Option<CoverFound> {
        let key = hash(&bytes);
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            match seen.get(&key) {
                Some(true) => return Some(CoverFound::Known(key)),
                Some(false) => return None,
                None => {
                    seen.insert(key, true);
                }
            }
        }
        match prepare(bytes) {
            Ok(cover) => Some(CoverFound::New(cover)),
            Err(reason) => {
                tracing::debug!(%reason, "cover skipped");
                self.seen.lock().unwrap_or_else(|p| p.into_inner()).insert(key, false);
                None
            }
        }
    }

    /// The cover from a folder image file (cover.jpg and friends), read once per scan.
    pub fn offer_folder_image(&self, image_path: &Path) -> Option<CoverFound> {
        let mut folders = self.folder_covers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(known) = folders.get(image_path) {
            return known.map(CoverFound::Known);
        }
        let bytes = match std::fs::read(image_path) {
            Ok(bytes) if bytes.len() <= MAX_IMAGE_BYTES => bytes,
            _ => {
                folders.insert(image_path.to_owned(), None);
                return None;
            }
        };
        let key = hash(&bytes);
        let found = self.offer(bytes);
        let usable = found.is_some();
        folders.insert(image_path.to_owned(), usable.then_some(key));
        found
    }
}
