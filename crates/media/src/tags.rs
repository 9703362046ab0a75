//! The tag reader: tags, audio properties and the embedded cover of one file (lofty), from any
//! `Read + Seek` (a local file, or an object in the locker read by range). The content decides
//! the format; a name's extension only helps the probe, and refuses formats the engine cannot
//! play before a byte is read.

use std::io::{BufReader, Read, Seek};
use std::panic::AssertUnwindSafe;

use lofty::config::ParseOptions;
use lofty::error::{
    FileParseError, NotEnoughDataError, SizeMismatchError, TooMuchDataError, UnknownFormatError,
};
use lofty::file::{AudioFile, TaggedFile, TaggedFileExt};
use lofty::picture::PictureType;
use lofty::probe::Probe;
use lofty::tag::{Accessor, ItemKey, Tag};

use crate::error::MediaError;
use crate::format::Format;

/// Everything the library index stores about one file's content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaTags {
    pub title: String,
    /// The track artists as one line ("A, B").
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
    /// The container, as [`Format::container`] names it.
    pub format: String,
}

/// What reading one file found.
#[derive(Debug)]
pub struct MediaFile {
    pub tags: MediaTags,
    /// The format the content turned out to be (always a playable one).
    pub format: &'static Format,
    /// The embedded picture to use as cover (the front cover first, else the first picture),
    /// when [`ReadOptions::cover`] asked for it.
    pub cover: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Read the embedded cover. Without it, pictures are skipped, not fetched.
    pub cover: bool,
}

/// Reads the tags and properties of the file `reader` holds. `extension` (the name's, without
/// the dot) helps the probe when the content alone does not say. A format the engine cannot
/// play is refused ([`MediaError::Unplayable`]), whether its name or its content says so.
/// Never panics: a panic inside the tag reader becomes [`MediaError::Panicked`].
pub fn read_tags<R: Read + Seek>(
    reader: R,
    extension: Option<&str>,
    options: ReadOptions,
) -> Result<MediaFile, MediaError> {
    let named = extension.and_then(Format::by_extension);
    if let Some(format) = named.filter(|format| !format.playable) {
        return Err(MediaError::Unplayable(format));
    }
    let hint = named.and_then(|format| format.file_type);
    let read = std::panic::catch_unwind(AssertUnwindSafe(move || read_unguarded(reader, hint, options)));
    read.unwrap_or_else(|_| {
        tracing::warn!(?extension, "the tag reader panicked on a file");
        Err(MediaError::Panicked)
    })
}

fn read_unguarded<R: Read + Seek>(
    reader: R,
    hint: Option<lofty::file::FileType>,
    options: ReadOptions,
) -> Result<MediaFile, MediaError> {
    let reader = BufReader::with_capacity(32 * 1024, reader);
    let probe = match hint {
        Some(file_type) => Probe::with_file_type(reader, file_type),
        None => Probe::new(reader),
    };
    let probe = probe
        .options(ParseOptions::new().read_cover_art(options.cover))
        .guess_file_type()
        .map_err(|error| classify(FileParseError::from(error)))?;
    let Some(file_type) = probe.file_type() else {
        return Err(MediaError::UnknownFormat { source: None });
    };
    let format = Format::by_file_type(file_type).ok_or(MediaError::UnknownFormat { source: None })?;
    if !format.playable {
        return Err(MediaError::Unplayable(format));
    }
    let tagged = probe.read().map_err(classify)?;
    // The content read may differ from the guess only in lofty's own fallbacks; trust it.
    let format = Format::by_file_type(tagged.file_type()).unwrap_or(format);
    let (mut tags, cover) = extract(&tagged, options);
    tags.format = format.container.to_owned();
    if tags.sample_rate.unwrap_or(0) == 0 && tags.duration_ms == 0 {
        return Err(MediaError::NoAudio);
    }
    Ok(MediaFile { tags, format, cover })
}

/// Sorts a parse failure by what its causes are, never by their wording.
fn classify(error: FileParseError) -> MediaError {
    let mut source = std::error::Error::source(&error);
    let mut verdict: Option<fn(FileParseError) -> MediaError> = None;
    while let Some(cause) = source {
        if cause.is::<UnknownFormatError>() {
            return MediaError::UnknownFormat { source: Some(error) };
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            // Running out of bytes is the file's fault (truncated); anything else is the
            // medium's, and says nothing about the file.
            if io.kind() != std::io::ErrorKind::UnexpectedEof {
                return MediaError::Io { source: error };
            }
            verdict = verdict.or(Some(|source| MediaError::Damaged { source }));
        } else if cause.is::<NotEnoughDataError>() || cause.is::<SizeMismatchError>() {
            verdict = verdict.or(Some(|source| MediaError::Damaged { source }));
        } else if cause.is::<TooMuchDataError>() {
            verdict = verdict.or(Some(|source| MediaError::TagsTooLarge { source }));
        }
        source = cause.source();
    }
    match verdict {
        Some(verdict) => verdict(error),
        None => MediaError::Unreadable { source: error },
    }
}

fn extract(tagged: &TaggedFile, options: ReadOptions) -> (MediaTags, Option<Vec<u8>>) {
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

    let media_tags = MediaTags {
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
        format: String::new(),
    };

    let cover = options
        .cover
        .then(|| {
            tags.iter()
                .find_map(|t| t.get_picture_type(PictureType::CoverFront))
                .or_else(|| tags.iter().find_map(|t| t.pictures().first()))
                .map(|picture| picture.data().to_vec())
        })
        .flatten();
    (media_tags, cover)
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
    use std::io::Cursor;
    use std::process::Command;

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

    /// A real FLAC file with tags and a cover, made by ffmpeg.
    fn tagged_flac(dir: &std::path::Path) -> Vec<u8> {
        let cover = dir.join("cover.png");
        let flac = dir.join("tone.flac");
        let run = |args: &[&str]| {
            let output = Command::new("ffmpeg")
                .args(["-hide_banner", "-loglevel", "error", "-y"])
                .args(args)
                .output()
                .expect("the tests need ffmpeg on PATH (scripts/install-deps.sh --for-tests)");
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        };
        run(&["-f", "lavfi", "-i", "color=c=red:s=8x8", "-frames:v", "1", cover.to_str().unwrap()]);
        run(&[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=44100:duration=1",
            "-i",
            cover.to_str().unwrap(),
            "-map",
            "0:a",
            "-map",
            "1:v",
            "-c:a",
            "flac",
            "-c:v",
            "png",
            "-disposition:v",
            "attached_pic",
            "-metadata",
            "title=Glósóli",
            "-metadata",
            "artist=Sigur Rós",
            "-metadata",
            "track=2/11",
            flac.to_str().unwrap(),
        ]);
        std::fs::read(flac).unwrap()
    }

    #[test]
    fn reads_tags_properties_and_cover_from_any_reader() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = tagged_flac(dir.path());
        // No name at all: the content says what it is.
        let read = read_tags(Cursor::new(&bytes), None, ReadOptions { cover: true }).unwrap();
        assert_eq!(read.format.container, "flac");
        assert_eq!(read.tags.format, "flac");
        assert_eq!(read.tags.title, "Glósóli");
        assert_eq!(read.tags.artist, "Sigur Rós");
        assert_eq!((read.tags.track_no, read.tags.track_total), (Some(2), Some(11)));
        assert_eq!(read.tags.sample_rate, Some(44_100));
        assert!((900..=1100).contains(&read.tags.duration_ms), "{}", read.tags.duration_ms);
        assert!(read.cover.is_some_and(|cover| cover.starts_with(b"\x89PNG")));
        // A misleading name does not change what the content is; no cover unless asked.
        let read = read_tags(Cursor::new(&bytes), Some("mp3"), ReadOptions::default()).unwrap();
        assert_eq!(read.tags.format, "flac");
        assert!(read.cover.is_none());
    }

    #[test]
    fn unplayable_formats_are_refused_by_name_or_content() {
        let error = read_tags(Cursor::new(b"anything"), Some("WMA"), ReadOptions::default()).unwrap_err();
        assert!(matches!(error, MediaError::Unplayable(format) if format.name == "Windows Media Audio"));
        assert_eq!(error.to_string(), "Windows Media Audio audio, which Loft cannot play");
        // A WavPack header under a FLAC name: lofty knows it by content.
        let mut wavpack = b"wvpk".to_vec();
        wavpack.extend_from_slice(&[0u8; 60]);
        let error = read_tags(Cursor::new(wavpack), Some("flac"), ReadOptions::default()).unwrap_err();
        assert!(
            matches!(error, MediaError::Unplayable(format) if format.container == "wavpack"),
            "{error:?}"
        );
    }

    #[test]
    fn hostile_bytes_are_errors_not_panics() {
        let text = b"these are not the sounds you are looking for\n".repeat(100);
        for extension in [None, Some("flac"), Some("mp3"), Some("m4a"), Some("ogg"), Some("wav")] {
            let error = read_tags(Cursor::new(&text), extension, ReadOptions::default()).unwrap_err();
            assert!(!error.to_string().is_empty());
            assert!(!error.is_io(), "{extension:?}: {error:?}");
        }
        let error = read_tags(Cursor::new(b""), None, ReadOptions::default()).unwrap_err();
        assert!(matches!(error, MediaError::UnknownFormat { .. }), "{error:?}");
    }

    #[test]
    fn a_truncated_file_is_damaged_and_a_failing_medium_is_io() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = tagged_flac(dir.path());
        let error = read_tags(Cursor::new(&bytes[..200]), Some("flac"), ReadOptions::default()).unwrap_err();
        assert!(!error.is_io(), "{error:?}");

        /// Reads the first 60 bytes, then fails as a broken disk or network would.
        struct Failing(Cursor<Vec<u8>>);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.position() >= 60 {
                    return Err(std::io::Error::other("the connection was reset"));
                }
                let room = (60 - self.0.position()) as usize;
                let take = buf.len().min(room);
                self.0.read(&mut buf[..take])
            }
        }
        impl Seek for Failing {
            fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
                self.0.seek(to)
            }
        }
        let error = read_tags(Failing(Cursor::new(bytes)), Some("flac"), ReadOptions::default()).unwrap_err();
        assert!(error.is_io(), "{error:?}");
        assert!(error.detail().contains("the connection was reset"), "{}", error.detail());
    }
}
