//! Reading a blob back, by byte range: what playback and streaming build on.

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::error::{LockerError, Result};
use crate::format::{self, BlobManifest};
use crate::locker::Locker;
use crate::storage::Storage;
use crate::upload::hex;

/// An audio file in the locker, readable by range. Reads go straight to the storage; parts are
/// fetched concurrently when a range spans several.
#[derive(Clone)]
pub struct BlobReader {
    storage: Storage,
    manifest: BlobManifest,
}

impl BlobReader {
    pub fn size(&self) -> u64 {
        self.manifest.size
    }

    pub fn sha256(&self) -> &str {
        &self.manifest.sha256
    }

    /// Bytes `start..end` of the audio file (clamped to its size).
    pub async fn read_range(&self, start: u64, end: u64) -> Result<Bytes> {
        let end = end.min(self.manifest.size);
        if start >= end {
            return Ok(Bytes::new());
        }
        let part_size = self.manifest.part_size;
        let first = start / part_size;
        let last = (end - 1) / part_size;
        let pieces: Vec<Result<Bytes>> = futures::stream::iter(first..=last)
            .map(|index| {
                let storage = self.storage.clone();
                let sha256 = self.manifest.sha256.clone();
                let part_hash = self.manifest.parts.get(index as usize).cloned().unwrap_or_default();
                let part_len = self.manifest.part_len(index);
                async move {
                    let part_start = index * part_size;
                    let from = start.max(part_start) - part_start;
                    let to = end.min(part_start + part_size) - part_start;
                    storage
                        .read_part_range(&format::part_path(&sha256, index), &part_hash, part_len, from, to)
                        .await
                }
            })
            .buffered(4)
            .collect()
            .await;
        let mut out = BytesMut::with_capacity((end - start) as usize);
        for piece in pieces {
            out.extend_from_slice(&piece?);
        }
        Ok(out.freeze())
    }

    /// One whole part, checked against the manifest's hash.
    pub async fn read_part_verified(&self, index: u64) -> Result<Bytes> {
        let path = format::part_path(&self.manifest.sha256, index);
        let expected = self
            .manifest
            .parts
            .get(index as usize)
            .ok_or_else(|| LockerError::InvalidInput(format!("the blob has no part {index}")))?;
        let length = self.manifest.part_len(index);
        let data = self.storage.read_part(&path, expected, length).await?.ok_or_else(|| {
            LockerError::NotFound(format!(
                "part {index} of blob {} is missing from the locker",
                self.manifest.sha256
            ))
        })?;
        if hex(&Sha256::digest(&data)) != *expected {
            return Err(LockerError::Integrity(format!(
                "part {index} of the locker's copy of {} does not match its hash",
                self.manifest.sha256
            )));
        }
        Ok(data)
    }

    pub fn part_count(&self) -> u64 {
        self.manifest.parts.len() as u64
    }

    pub(crate) fn manifest(&self) -> &BlobManifest {
        &self.manifest
    }
}

impl Locker {
    /// Opens the blob of a track (its SHA-256) for range reads.
    pub async fn open_blob(&self, track_id: &str) -> Result<BlobReader> {
        if !format::is_sha256_hex(track_id) {
            return Err(LockerError::InvalidInput(format!(
                "'{track_id}' is not a track id (a SHA-256 in hex)"
            )));
        }
        let manifest = self
            .blob_manifest(track_id)
            .await?
            .ok_or_else(|| LockerError::NotFound(format!("the locker has no blob for track {track_id}")))?;
        Ok(BlobReader { storage: self.storage().clone(), manifest })
    }

    /// A reader from a manifest kept by the offline cache: no round trip before the first read.
    pub(crate) fn blob_from_manifest(&self, manifest: BlobManifest) -> BlobReader {
        BlobReader { storage: self.storage().clone(), manifest }
    }
}
