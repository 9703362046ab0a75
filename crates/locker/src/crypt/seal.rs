//! Object contents in an encrypted locker: the STREAM construction (Hoang, Reyhanitabar,
//! Rogaway and Vizár, 2015; the one age uses) over ChaCha20-Poly1305.
//!
//! A plaintext is cut into chunks of 64 KiB (the last may be shorter, or empty when the
//! plaintext is). Chunk `i` is sealed with the object's key and the 12-byte nonce
//! `i` as 11 bytes big-endian followed by `0x01` for the last chunk and `0x00` for the others,
//! so any chunk can be opened alone (a range read maps to whole chunks), and a chunk moved to
//! another position, a chunk from another object, or an object cut short at a chunk boundary
//! all fail authentication.
//!
//! Each object has its own key, HKDF-SHA256 of the locker's object key with the object's salt
//! and its logical path (so bytes moved to another name do not open there):
//! - catalog files and manifests: a random 32-byte salt, stored in front of the chunks;
//! - audio parts: the SHA-256 of the part's plaintext as the salt, not stored: the manifest,
//!   itself sealed, lists it. Two devices with the key seal the same part to the same bytes,
//!   and a reader opens any chunk of a part with no header to fetch first.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::Vault;
use super::keys::LABEL;
use crate::error::{LockerError, Result};

/// Plaintext bytes per chunk.
pub(crate) const CHUNK: u64 = 64 * 1024;
/// The Poly1305 tag after each chunk.
pub(crate) const TAG: u64 = 16;
/// The random salt in front of a catalog file or manifest.
pub(crate) const SALT: u64 = 32;
/// Audio parts are padded to a multiple of this (or to the part size, when that is smaller),
/// so the provider learns a file's size only to within 256 KiB.
pub(crate) const PART_PADDING: u64 = 256 * 1024;
/// Catalog files and manifests are padded to at least this, then by Padmé.
const MIN_OBJECT_PADDING: u64 = 512;

/// How many chunks a plaintext of `len` bytes has (an empty one has one, empty).
pub(crate) fn chunk_count(len: u64) -> u64 {
    len.div_ceil(CHUNK).max(1)
}

/// The stored size of a sealed stream of `len` plaintext bytes.
pub(crate) fn stream_len(len: u64) -> u64 {
    len.saturating_add(TAG.saturating_mul(chunk_count(len)))
}

/// Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication
/// with PURBs", 2019): rounds `len` up so that only O(log log len) bits of it remain, costing
/// at most 12 % (and less the larger the object).
pub(crate) fn padme(len: u64) -> u64 {
    if len < 2 {
        return len;
    }
    let exponent = 63 - u64::from(len.leading_zeros());
    let bits_of_exponent = 64 - u64::from(exponent.leading_zeros());
    let zeroed = exponent - bits_of_exponent;
    let mask = (1u64 << zeroed) - 1;
    len.saturating_add(mask) & !mask
}

/// The padded plaintext length of a catalog file or manifest of `len` bytes (which gains at
/// least the one byte that marks where the padding starts).
pub(crate) fn object_padded_len(len: u64) -> u64 {
    padme(len.saturating_add(1)).max(MIN_OBJECT_PADDING)
}

fn nonce(index: u64, last: bool) -> Nonce {
    let mut nonce = [0u8; 12];
    nonce[3..11].copy_from_slice(&index.to_be_bytes());
    nonce[11] = u8::from(last);
    Nonce::from(nonce)
}

/// The chunks of a part that bytes `from..to` of its plaintext fall in, and where they are in
/// the stored object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkSpan {
    pub first: u64,
    pub last: u64,
    /// Which chunk is the part's last (sealed as such).
    pub final_chunk: u64,
    pub stored_start: u64,
    pub stored_end: u64,
    /// Where the first chunk's plaintext starts within the part.
    pub plain_start: u64,
}

impl Vault {
    fn object_key(&self, salt: &[u8], logical: &str) -> Zeroizing<[u8; 32]> {
        let mut key = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(Some(salt), &self.objects[..])
            .expand(format!("{LABEL}object {logical}").as_bytes(), &mut key[..])
            .expect("32 bytes is within HKDF's reach");
        key
    }

    /// Seals a catalog file or manifest stored under `logical`: a random salt, then the stream
    /// of the content padded with `0x80` and zeros (ISO/IEC 7816-4) to its padded length.
    pub(crate) fn seal_object(&self, logical: &str, data: &[u8]) -> Result<Vec<u8>> {
        let mut salt = [0u8; SALT as usize];
        super::keys::random(&mut salt)?;
        Ok(self.seal_object_with_salt(logical, data, salt))
    }

    pub(crate) fn seal_object_with_salt(
        &self,
        logical: &str,
        data: &[u8],
        salt: [u8; SALT as usize],
    ) -> Vec<u8> {
        let padded_len = object_padded_len(data.len() as u64) as usize;
        let mut padded = Zeroizing::new(Vec::with_capacity(padded_len));
        padded.extend_from_slice(data);
        padded.push(0x80);
        padded.resize(padded_len, 0);
        let key = self.object_key(&salt, logical);
        let mut out = Vec::with_capacity(SALT as usize + stream_len(padded_len as u64) as usize);
        out.extend_from_slice(&salt);
        seal_stream(&key, &padded, &mut out);
        out
    }

    /// Opens what [`Vault::seal_object`] sealed; fails with an integrity error when a byte was
    /// changed, a chunk moved or the object cut short, or it was sealed for another name.
    pub(crate) fn open_object(&self, logical: &str, stored: &[u8]) -> Result<Vec<u8>> {
        let broken = || {
            LockerError::Integrity(format!(
                "{logical} in the locker fails its authentication: it was changed, cut short or \
                 written without the locker's key"
            ))
        };
        if (stored.len() as u64) < SALT + TAG {
            return Err(broken());
        }
        let (salt, body) = stored.split_at(SALT as usize);
        let chunks = (body.len() as u64).div_ceil(CHUNK + TAG);
        let key = self.object_key(salt, logical);
        let mut plain = open_stream(&key, body, 0, chunks - 1).ok_or_else(broken)?;
        // Undo the padding: zeros, then the 0x80 that marks where it starts.
        let content_len = plain.iter().rposition(|byte| *byte != 0).ok_or_else(broken)?;
        if plain[content_len] != 0x80 {
            return Err(broken());
        }
        plain.truncate(content_len);
        Ok(plain)
    }

    /// The most a sealed object of at most `cap` plaintext bytes can take in the locker.
    pub(crate) fn object_stored_cap(&self, cap: u64) -> u64 {
        SALT.saturating_add(stream_len(object_padded_len(cap)))
    }

    /// The padded plaintext length of a part of `len` bytes.
    pub(crate) fn part_padded_len(&self, len: u64) -> u64 {
        len.div_ceil(PART_PADDING).saturating_mul(PART_PADDING).min(self.part_size.max(len))
    }

    /// What a part of `len` bytes takes in the locker.
    pub(crate) fn part_stored_len(&self, len: u64) -> u64 {
        stream_len(self.part_padded_len(len))
    }

    /// Seals one part of a blob, stored under `logical`: its key comes from its own SHA-256.
    pub(crate) fn seal_part(&self, logical: &str, data: &[u8]) -> Vec<u8> {
        let hash: [u8; 32] = Sha256::digest(data).into();
        self.seal_part_with_hash(logical, data, &hash)
    }

    pub(crate) fn seal_part_with_hash(&self, logical: &str, data: &[u8], hash: &[u8; 32]) -> Vec<u8> {
        let padded_len = self.part_padded_len(data.len() as u64) as usize;
        let key = self.object_key(hash, logical);
        let mut out = Vec::with_capacity(stream_len(padded_len as u64) as usize);
        if padded_len == data.len() {
            seal_stream(&key, data, &mut out);
        } else {
            let mut padded = Vec::with_capacity(padded_len);
            padded.extend_from_slice(data);
            padded.resize(padded_len, 0);
            seal_stream(&key, &padded, &mut out);
        }
        out
    }

    /// The chunks holding bytes `from..to` (`from < to <= part_len`) of a part of `part_len`
    /// bytes.
    pub(crate) fn part_span(&self, part_len: u64, from: u64, to: u64) -> ChunkSpan {
        let padded = self.part_padded_len(part_len);
        let final_chunk = chunk_count(padded) - 1;
        let first = (from / CHUNK).min(final_chunk);
        let last = (to.saturating_sub(1) / CHUNK).clamp(first, final_chunk);
        ChunkSpan {
            first,
            last,
            final_chunk,
            stored_start: first * (CHUNK + TAG),
            stored_end: ((last + 1) * (CHUNK + TAG)).min(stream_len(padded)),
            plain_start: first * CHUNK,
        }
    }

    /// Opens the chunks of `span` of the part stored under `logical` whose plaintext has the
    /// SHA-256 `part_hash`; `stored` is exactly the bytes `span.stored_start..span.stored_end`.
    pub(crate) fn open_part_span(
        &self,
        logical: &str,
        part_hash: &[u8; 32],
        span: &ChunkSpan,
        stored: &[u8],
    ) -> Result<Vec<u8>> {
        let broken = || {
            LockerError::Integrity(format!(
                "{logical} in the locker fails its authentication: it was changed, reordered or cut short"
            ))
        };
        if stored.len() as u64 != span.stored_end - span.stored_start {
            return Err(broken());
        }
        let key = self.object_key(part_hash, logical);
        open_stream(&key, stored, span.first, span.final_chunk).ok_or_else(broken)
    }
}

fn seal_stream(key: &[u8; 32], plaintext: &[u8], out: &mut Vec<u8>) {
    let cipher = ChaCha20Poly1305::new(key.into());
    let chunks = chunk_count(plaintext.len() as u64);
    for index in 0..chunks {
        let start = (index * CHUNK) as usize;
        let end = (start + CHUNK as usize).min(plaintext.len());
        let sealed = cipher
            .encrypt(&nonce(index, index + 1 == chunks), Payload { msg: &plaintext[start..end], aad: b"" })
            .expect("ChaCha20-Poly1305 seals any chunk of 64 KiB");
        out.extend_from_slice(&sealed);
    }
}

/// Opens consecutive chunks starting at chunk `first`; `final_chunk` is the stream's last.
/// `None` if any chunk fails, or the bytes do not end where a chunk does.
fn open_stream(key: &[u8; 32], stored: &[u8], first: u64, final_chunk: u64) -> Option<Vec<u8>> {
    let cipher = ChaCha20Poly1305::new(key.into());
    let mut plain = Vec::with_capacity(stored.len());
    for (index, sealed) in (first..).zip(stored.chunks((CHUNK + TAG) as usize)) {
        if index > final_chunk || (sealed.len() as u64) < TAG {
            return None;
        }
        let is_last = index == final_chunk;
        // Only the stream's last chunk may be short.
        if !is_last && sealed.len() as u64 != CHUNK + TAG {
            return None;
        }
        let opened = cipher.decrypt(&nonce(index, is_last), Payload { msg: sealed, aad: b"" }).ok()?;
        plain.extend_from_slice(&opened);
    }
    if stored.is_empty() {
        return None;
    }
    Some(plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypt::MasterKey;

    fn vault(part_size: u64) -> Vault {
        Vault::new(MasterKey::from_bytes([7; 32]), part_size)
    }

    #[test]
    fn padme_keeps_few_bits_and_costs_little() {
        assert_eq!(padme(0), 0);
        assert_eq!(padme(1), 1);
        assert_eq!(padme(100), 104);
        assert_eq!(padme(1000), 1024);
        for len in [3u64, 77, 1_000, 65_537, 9_999_999, 123_456_789_012] {
            let padded = padme(len);
            assert!(padded >= len && padded - len <= len / 8 + 1, "{len} -> {padded}");
        }
    }

    #[test]
    fn objects_round_trip_and_refuse_any_change() {
        let vault = vault(1 << 20);
        for len in [0usize, 1, 511, 65_535, 65_536, 200_000] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = vault.seal_object("catalog/log/a/00000000000000000001.json", &data).unwrap();
            assert!(sealed.len() as u64 <= vault.object_stored_cap(len as u64));
            assert_eq!(vault.open_object("catalog/log/a/00000000000000000001.json", &sealed).unwrap(), data);
            // Another name, a flipped bit, a cut at a chunk boundary, a cut anywhere.
            assert!(vault.open_object("catalog/log/a/00000000000000000002.json", &sealed).is_err());
            let mut flipped = sealed.clone();
            let at = flipped.len() / 2;
            flipped[at] ^= 1;
            assert!(vault.open_object("catalog/log/a/00000000000000000001.json", &flipped).is_err());
            if sealed.len() as u64 > SALT + CHUNK + TAG {
                let cut = &sealed[..(SALT + CHUNK + TAG) as usize];
                assert!(vault.open_object("catalog/log/a/00000000000000000001.json", cut).is_err());
            }
            assert!(
                vault
                    .open_object("catalog/log/a/00000000000000000001.json", &sealed[..sealed.len() - 1])
                    .is_err()
            );
        }
    }

    #[test]
    fn parts_open_by_range_and_refuse_swapped_chunks() {
        let vault = vault(1 << 20);
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
        let hash: [u8; 32] = Sha256::digest(&data).into();
        let path = "parts/sha256/ab/x/000000";
        let sealed = vault.seal_part(path, &data);
        assert_eq!(sealed.len() as u64, vault.part_stored_len(data.len() as u64));
        assert_eq!(vault.part_padded_len(300_000), 512 * 1024);
        for (from, to) in
            [(0u64, 1u64), (65_535, 65_537), (100_000, 300_000), (0, 300_000), (299_999, 300_000)]
        {
            let span = vault.part_span(data.len() as u64, from, to);
            let stored = &sealed[span.stored_start as usize..span.stored_end as usize];
            let plain = vault.open_part_span(path, &hash, &span, stored).unwrap();
            let offset = (from - span.plain_start) as usize;
            assert_eq!(&plain[offset..offset + (to - from) as usize], &data[from as usize..to as usize]);
        }
        // Chunks 1 and 2 swapped: each fails where it now is.
        let mut swapped = sealed.clone();
        let size = (CHUNK + TAG) as usize;
        let (one, two) = (sealed[size..2 * size].to_vec(), sealed[2 * size..3 * size].to_vec());
        swapped[size..2 * size].copy_from_slice(&two);
        swapped[2 * size..3 * size].copy_from_slice(&one);
        let span = vault.part_span(data.len() as u64, CHUNK, 2 * CHUNK);
        let stored = &swapped[span.stored_start as usize..span.stored_end as usize];
        assert!(vault.open_part_span(path, &hash, &span, stored).is_err());
        // The whole part cut after its third chunk: the third was not sealed as the last.
        let span = vault.part_span(data.len() as u64, 0, data.len() as u64);
        assert!(vault.open_part_span(path, &hash, &span, &sealed[..3 * size]).is_err());
        // Another part's name.
        let stored = &sealed[span.stored_start as usize..span.stored_end as usize];
        assert!(vault.open_part_span("parts/sha256/ab/x/000001", &hash, &span, stored).is_err());
        // The same part sealed twice is the same bytes.
        assert_eq!(vault.seal_part(path, &data), sealed);
    }

    #[test]
    fn a_full_part_is_not_padded_and_a_small_part_size_caps_the_padding() {
        let vault = vault(1 << 20);
        assert_eq!(vault.part_padded_len(1 << 20), 1 << 20);
        assert_eq!(vault.part_padded_len(1), PART_PADDING);
        let small = Vault::new(MasterKey::from_bytes([7; 32]), 100_000);
        assert_eq!(small.part_padded_len(5), 100_000);
        assert_eq!(small.part_padded_len(100_000), 100_000);
    }
}
