//! Reading one audio file: its tags and audio properties (lofty), its embedded cover, and the
//! cheap content fingerprint that recognizes it after a move.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::panic::AssertUnwindSafe;
use std::path::Path;

use lofty::config::ParseOptions;
use lofty::file::{AudioFile, FileType, TaggedFile, TaggedFileExt};
use lofty::picture::PictureType;
use lofty::probe::Probe;
use lofty::tag::{Accessor, ItemKey, Tag};

/// How much of each end of a file goes into the fingerprint.
const FINGERPRINT_SPAN: u64 = 16 * 1024;

/// Everything the index stores about one file's content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileTags {
    pub title: String,
    pub artist: String,
    pub artists: Vec<String>,
    pub album: String,
    pub album_artist: String,
    pub track_no: Option<u32>,
    pub track_total: Option<u32>,
    pub disc_no: Option<u32>,
    pub disc_total: Option<u32>,
    pub year: Option<i32>,
    pub date: String,
    pub genre: String,
    pub composer: String,
    pub duration_ms: u64,
    pub sample_rate: Option<u32>,
    pub channels: Option<u32>,
    pub bit_depth: Option<u32>,
    pub bitrate_kbps: Option<u32>,
    pub rg_track_gain: Option<f64>,
    pub rg_track_peak: Option<f64>,
    pub rg_album_gain: Option<f64>,
    pub rg_album_peak: Option<f64>,
    pub mb_recording_id: String,
    pub mb_track_id: String,
    pub mb_release_id: String,
    pub mb_artist_id: String,
    pub mb_release_artist_id: String,
    pub compilation: bool,
    pub format: String,
}

/// The result of reading one file.
#[derive(Debug)]
pub struct ReadFile {
    pub tags: FileTags,
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
        return Err("empty file (0 bytes)".to_owned());
    }
    let mut file = File::open(path).map_err(|e| describe_io(&e))?;
    let fingerprint = fingerprint(&mut file, size).map_err(|e| describe_io(&e))?;
    file.seek(SeekFrom::Start(0)).map_err(|e| describe_io(&e))?;
    let extension_type = FileType::from_path(path);
    let parsed = std::panic::catch_unwind(AssertUnwindSafe(move || {
        let reader = BufReader::with_capacity(32 * 1024, file);
        let probe = match extension_type {
            Some(file_type) => Probe::with_file_type(reader, file_type),
            None => Probe::new(reader),
        };
        probe.options(ParseOptions::new().read_cover_art(true)).guess_file_type()?.read()
    }));
    let tagged = match parsed {
        Ok(Ok(tagged)) => tagged,
        Ok(Err(error)) => return Err(describe_lofty(&error)),
        Err(_) => return Err("the tag reader failed on this file (damaged or unusual tags)".to_owned()),
    };
    let (tags, embedded_cover) = extract(&tagged);
    if tags.sample_rate.unwrap_or(0) == 0 && tags.duration_ms == 0 {
        return Err("no audio found: not an audio file, or a damaged one".to_owned());
    }
    Ok(ReadFile { tags, fingerprint, embedded_cover })
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

fn describe_lofty(error: &lofty::error::FileParseError) -> String {
    use lofty::error::{NotEnoughDataError, SizeMismatchError, TooMuchDataError, UnknownFormatError};
    let mut chain = error.to_string();
    let mut verdict = None;
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        if cause.is::<UnknownFormatError>() {
            verdict = Some("not an audio file, or not one Loft reads");
        } else if cause.is::<NotEnoughDataError>() || cause.is::<SizeMismatchError>() {
            verdict = verdict.or(Some("truncated or damaged"));
        } else if cause.is::<TooMuchDataError>() {
            verdict = verdict.or(Some("tags too large to read"));
        }
        source = cause.source();
    }
    match verdict {
        Some(verdict) => format!("{verdict} ({chain})"),
        None => format!("not readable as audio ({chain})"),
    }
}

fn extract(tagged: &TaggedFile) -> (FileTags, Option<Vec<u8>>) {
    // The primary tag first; the others (an ID3v1 behind an ID3v2, say) fill its gaps.
    let mut tags: Vec<&Tag> = Vec::new();
    if let Some(primary) = tagged.primary_tag() {
        tags.push(primary);
    }
    for tag in tagged.tags() {
        if !tags.iter().any(|t| std::ptr::eq(*t, tag)) {
            tags.push(tag);
        }
    }

    let strings = |key: ItemKey| -> Vec<String> {
        for tag in &tags {
            let values: Vec<String> =
                tag.get_strings(key).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
            if !values.is_empty() {
                return values;
            }
        }
        Vec::new()
    };
    let text = |key: ItemKey| strings(key).into_iter().next().unwrap_or_default();
    let number = |get: &dyn Fn(&Tag) -> Option<u32>| tags.iter().find_map(|t| get(t)).filter(|n| *n > 0);
    let float = |key: ItemKey| parse_leading_float(&text(key));

    let mut artists = strings(ItemKey::TrackArtists);
    let track_artist = strings(ItemKey::TrackArtist);
    if artists.is_empty() {
        artists = track_artist.clone();
    }
    let artist = if track_artist.is_empty() { artists.join(", ") } else { track_artist.join(", ") };

    let date_stamp = tags.iter().find_map(|t| t.date());
    let date_text =
        [ItemKey::RecordingDate, ItemKey::Year, ItemKey::ReleaseDate, ItemKey::OriginalReleaseDate]
            .into_iter()
            .map(&text)
            .find(|s| !s.is_empty())
            .unwrap_or_default();
    let year = date_stamp.map(|d| i32::from(d.year)).filter(|y| *y > 0).or_else(|| leading_year(&date_text));

    let compilation =
        matches!(text(ItemKey::FlagCompilation).to_ascii_lowercase().as_str(), "1" | "true" | "yes");

    let properties = tagged.properties();
    let bitrate = properties.audio_bitrate().or(properties.overall_bitrate()).filter(|b| *b > 0);

    let file_tags = FileTags {
        title: text(ItemKey::TrackTitle),
        artist,
        artists,
        album: text(ItemKey::AlbumTitle),
        album_artist: strings(ItemKey::AlbumArtist).join(", "),
        // Some tag formats (RIFF INFO) keep "3/11" as text that the accessors don't split.
        track_no: number(&|t| t.track()).or_else(|| split_count(&text(ItemKey::TrackNumber)).0),
        track_total: number(&|t| t.track_total()).or_else(|| split_count(&text(ItemKey::TrackNumber)).1),
        disc_no: number(&|t| t.disk()).or_else(|| split_count(&text(ItemKey::DiscNumber)).0),
        disc_total: number(&|t| t.disk_total()).or_else(|| split_count(&text(ItemKey::DiscNumber)).1),
        year,
        date: date_stamp.map(|d| d.to_string()).unwrap_or(date_text),
        genre: strings(ItemKey::Genre).join("; "),
        composer: strings(ItemKey::Composer).join(", "),
        duration_ms: u64::try_from(properties.duration().as_millis()).unwrap_or(u64::MAX),
        sample_rate: properties.sample_rate().filter(|r| *r > 0),
        channels: properties.channels().map(u32::from).filter(|c| *c > 0),
        bit_depth: properties.bit_depth().map(u32::from).filter(|b| *b > 0),
        bitrate_kbps: bitrate,
        rg_track_gain: float(ItemKey::ReplayGainTrackGain),
        rg_track_peak: float(ItemKey::ReplayGainTrackPeak),
        rg_album_gain: float(ItemKey::ReplayGainAlbumGain),
        rg_album_peak: float(ItemKey::ReplayGainAlbumPeak),
        mb_recording_id: text(ItemKey::MusicBrainzRecordingId),
        mb_track_id: text(ItemKey::MusicBrainzTrackId),
        mb_release_id: text(ItemKey::MusicBrainzReleaseId),
        mb_artist_id: text(ItemKey::MusicBrainzArtistId),
        mb_release_artist_id: text(ItemKey::MusicBrainzReleaseArtistId),
        compilation,
        format: format_name(tagged.file_type()),
    };

    let cover = tags
        .iter()
        .find_map(|t| t.get_picture_type(PictureType::CoverFront))
        .or_else(|| tags.iter().find_map(|t| t.pictures().first()))
        .map(|picture| picture.data().to_vec());
    (file_tags, cover)
}

fn format_name(file_type: FileType) -> String {
    match file_type {
        FileType::Custom(name) => name.to_ascii_lowercase(),
        other => format!("{other:?}").to_ascii_lowercase(),
    }
}

/// "-6.52 dB" → -6.52; "0.988" → 0.988.
fn parse_leading_float(text: &str) -> Option<f64> {
    let text = text.trim();
    let end = text
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || ((*c == '-' || *c == '+') && *i == 0)))
        .map_or(text.len(), |(i, _)| i);
    text[..end].parse::<f64>().ok().filter(|v| v.is_finite())
}

/// "3/11" → (3, 11); "3" → (3, none).
fn split_count(text: &str) -> (Option<u32>, Option<u32>) {
    let mut parts = text.splitn(2, '/');
    let mut next = || parts.next().and_then(|p| p.trim().parse::<u32>().ok()).filter(|n| *n > 0);
    (next(), next())
}

fn leading_year(text: &str) -> Option<i32> {
    let digits: String = text.trim().chars().take_while(char::is_ascii_digit).collect();
    if digits.len() == 4 { digits.parse().ok().filter(|y| *y > 0) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaygain_values_parse_with_or_without_units() {
        assert_eq!(parse_leading_float("-6.52 dB"), Some(-6.52));
        assert_eq!(parse_leading_float("+1.5 dB"), Some(1.5));
        assert_eq!(parse_leading_float("0.988"), Some(0.988));
        assert_eq!(parse_leading_float("loud"), None);
    }

    #[test]
    fn counts_split_on_a_slash() {
        assert_eq!(split_count("3/11"), (Some(3), Some(11)));
        assert_eq!(split_count("7"), (Some(7), None));
        assert_eq!(split_count("x"), (None, None));
    }

    #[test]
    fn years_come_from_the_start_of_a_date() {
        assert_eq!(leading_year("1997-05-21"), Some(1997));
        assert_eq!(leading_year("97"), None);
    }

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
