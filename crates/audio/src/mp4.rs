//! Just enough of the MP4 box structure to read the sound track's edit list, which symphonia's
//! reader parses but does not apply: it is where ffmpeg and most non-Apple encoders state the
//! AAC encoder delay.

use std::io::{Read, Seek, SeekFrom};

/// A `moov` larger than this is not read (a long file's sample tables take a few MiB).
const MAX_MOOV_BYTES: u64 = 64 << 20;
/// Files put `moov` among the first few top-level boxes; a walk longer than this is not MP4.
const MAX_TOP_LEVEL_BOXES: usize = 64;
/// Edit lists longer than this are not a gapless trim anyway.
const MAX_EDITS: usize = 16;

/// The one edit of a plain gapless edit list, in the file's own time units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edit {
    /// Where presentation starts in the media, in `media_timescale` units.
    pub media_time: u64,
    pub media_timescale: u32,
    /// How long presentation lasts, in `movie_timescale` units; 0 when not stated.
    pub duration: u64,
    pub movie_timescale: u32,
}

/// The edit of the first sound track, when its edit list is a single plain segment.
pub(crate) fn sound_track_edit(stream: &mut (impl Read + Seek + ?Sized)) -> Option<Edit> {
    let moov = read_top_level(stream, b"moov")?;
    parse_moov(&moov)
}

fn read_top_level(stream: &mut (impl Read + Seek + ?Sized), wanted: &[u8; 4]) -> Option<Vec<u8>> {
    stream.seek(SeekFrom::Start(0)).ok()?;
    for _ in 0..MAX_TOP_LEVEL_BOXES {
        let mut header = [0u8; 8];
        stream.read_exact(&mut header).ok()?;
        let kind = &header[4..8];
        let (size, header_len) = match u32::from_be_bytes(header[..4].try_into().ok()?) {
            1 => {
                let mut large = [0u8; 8];
                stream.read_exact(&mut large).ok()?;
                (u64::from_be_bytes(large), 16)
            }
            // "To the end of the file": only the last box says so, and it is not the one wanted.
            0 => return None,
            size => (u64::from(size), 8),
        };
        let payload = size.checked_sub(header_len)?;
        if kind == wanted {
            if payload > MAX_MOOV_BYTES {
                return None;
            }
            let mut buffer = vec![0u8; usize::try_from(payload).ok()?];
            stream.read_exact(&mut buffer).ok()?;
            return Some(buffer);
        }
        stream.seek(SeekFrom::Current(i64::try_from(payload).ok()?)).ok()?;
    }
    None
}

/// The boxes directly inside `buffer`, as (type, payload).
fn boxes(buffer: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut rest = buffer;
    std::iter::from_fn(move || {
        let (size, header_len) = match be_u32(rest, 0)? {
            1 => (usize::try_from(be_u64(rest, 8)?).ok()?, 16),
            0 => (rest.len(), 8),
            size => (usize::try_from(size).ok()?, 8),
        };
        if size < header_len || size > rest.len() {
            return None;
        }
        let (this, next) = rest.split_at(size);
        rest = next;
        Some((&this[4..8], &this[header_len..]))
    })
}

fn child<'a>(buffer: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(buffer).find(|(k, _)| k == kind).map(|(_, payload)| payload)
}

fn be_u32(buffer: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(buffer.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(buffer: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(buffer.get(at..at + 8)?.try_into().ok()?))
}

/// `mvhd` and `mdhd` keep their timescale after the version, flags and two times of 4 bytes
/// (version 0) or 8 (version 1).
fn timescale(full_box: &[u8]) -> Option<u32> {
    let at = if *full_box.first()? == 1 { 20 } else { 12 };
    be_u32(full_box, at).filter(|&t| t > 0)
}

fn parse_moov(moov: &[u8]) -> Option<Edit> {
    let movie_timescale = timescale(child(moov, b"mvhd")?)?;
    let is_sound = |trak: &&[u8]| {
        child(trak, b"mdia").and_then(|m| child(m, b"hdlr")).and_then(|h| h.get(8..12)) == Some(b"soun")
    };
    let trak = boxes(moov).filter(|(kind, _)| kind == b"trak").map(|(_, payload)| payload).find(is_sound)?;
    let media_timescale = timescale(child(child(trak, b"mdia")?, b"mdhd")?)?;
    let elst = child(child(trak, b"edts")?, b"elst")?;
    let version = *elst.first()?;
    let count = usize::try_from(be_u32(elst, 4)?).ok()?;
    if count > MAX_EDITS {
        return None;
    }
    let entry_len = if version == 1 { 20 } else { 12 };
    let mut edits = (0..count).map(|i| {
        let at = 8 + i * entry_len;
        let (duration, media_time) = if version == 1 {
            (be_u64(elst, at)?, be_u64(elst, at + 8)? as i64)
        } else {
            (u64::from(be_u32(elst, at)?), i64::from(be_u32(elst, at + 4)? as i32))
        };
        Some((duration, media_time, be_u32(elst, at + entry_len - 4)?))
    });
    // Leading empty edits (media time -1) only delay the track against others in the movie.
    let (duration, media_time, rate) = edits.find(|edit| edit.is_none_or(|(_, time, _)| time != -1))??;
    // A second segment or another rate than 1.0 is an edit, not a gapless trim.
    if media_time < 0 || rate != 0x0001_0000 || edits.next().is_some() {
        return None;
    }
    Some(Edit { media_time: media_time as u64, media_timescale, duration, movie_timescale })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
        out
    }

    /// A movie with one sound track whose edit list holds `edits` (duration, media time).
    fn movie(edits: &[(u32, i32)]) -> Vec<u8> {
        let mut mvhd = vec![0u8; 12];
        mvhd.extend_from_slice(&1000u32.to_be_bytes());
        mvhd.extend_from_slice(&[0u8; 84]);
        let mut mdhd = vec![0u8; 12];
        mdhd.extend_from_slice(&44_100u32.to_be_bytes());
        mdhd.extend_from_slice(&[0u8; 8]);
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(b"soun");
        hdlr.extend_from_slice(&[0u8; 13]);
        let mut elst = vec![0u8; 4];
        elst.extend_from_slice(&(edits.len() as u32).to_be_bytes());
        for &(duration, media_time) in edits {
            elst.extend_from_slice(&duration.to_be_bytes());
            elst.extend_from_slice(&media_time.to_be_bytes());
            elst.extend_from_slice(&0x0001_0000u32.to_be_bytes());
        }
        let mdia = [mp4_box(b"mdhd", &mdhd), mp4_box(b"hdlr", &hdlr)].concat();
        let trak = [mp4_box(b"edts", &mp4_box(b"elst", &elst)), mp4_box(b"mdia", &mdia)].concat();
        let moov = [mp4_box(b"mvhd", &mvhd), mp4_box(b"trak", &trak)].concat();
        // The media data first, as ffmpeg writes it, so the walk has to step over it.
        [mp4_box(b"ftyp", b"M4A \0\0\0\0"), mp4_box(b"mdat", &[0u8; 5000]), mp4_box(b"moov", &moov)].concat()
    }

    #[test]
    fn a_plain_edit_after_the_media_data_is_found() {
        let file = movie(&[(2000, 1024)]);
        let edit = sound_track_edit(&mut std::io::Cursor::new(file));
        assert_eq!(
            edit,
            Some(Edit { media_time: 1024, media_timescale: 44_100, duration: 2000, movie_timescale: 1000 })
        );
        // A leading empty edit is skipped.
        let file = movie(&[(5, -1), (2000, 1024)]);
        assert_eq!(sound_track_edit(&mut std::io::Cursor::new(file)).map(|e| e.media_time), Some(1024));
    }

    #[test]
    fn two_segments_or_a_file_that_is_not_mp4_give_nothing() {
        let file = movie(&[(1000, 1024), (1000, 90_000)]);
        assert_eq!(sound_track_edit(&mut std::io::Cursor::new(file)), None);
        let adts = vec![0xFFu8, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC, 0x21, 0x00, 0x49];
        assert_eq!(sound_track_edit(&mut std::io::Cursor::new(adts)), None);
    }
}
