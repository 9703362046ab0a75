//! The format table: every audio format Loft recognises by name or content, and whether the
//! engine plays it. "Playable" means symphonia, with the features the workspace enables, plus
//! the libopus adapter decodes it and lofty reads its tags; `crates/audio/tests/formats.rs`
//! decodes a real file of every playable row to keep that true.

use std::ffi::OsStr;
use std::path::Path;

use lofty::file::FileType;

/// One audio format.
#[derive(Debug, PartialEq, Eq)]
pub struct Format {
    /// What people call it, for messages: "FLAC", "WavPack".
    pub name: &'static str,
    /// File extensions, lowercase, the usual one first.
    pub extensions: &'static [&'static str],
    /// The container as the library index records it (lofty's naming: "mpeg", "mp4", "vorbis").
    pub container: &'static str,
    /// The codec or codecs the container holds here.
    pub codec: &'static str,
    /// How lofty knows it; `None` when lofty cannot read it at all.
    pub file_type: Option<FileType>,
    /// Whether the audio engine decodes it.
    pub playable: bool,
    /// Whether the demuxer reads the end of the file before it plays (MP4's index may sit at
    /// the end, Ogg readers probe the length there, ADTS samples the whole file): a stream
    /// fetches the tail early for these.
    pub needs_tail: bool,
    pub mime: &'static str,
}

/// Every format, playable ones first. Where several rows share a container or a lofty file
/// type, the first is the one a lookup by them returns.
pub static FORMATS: &[Format] = &[
    Format {
        name: "MP3",
        extensions: &["mp3"],
        container: "mpeg",
        codec: "MPEG-1/2 Layer III",
        file_type: Some(FileType::Mpeg),
        playable: true,
        needs_tail: false,
        mime: "audio/mpeg",
    },
    Format {
        name: "FLAC",
        extensions: &["flac"],
        container: "flac",
        codec: "FLAC",
        file_type: Some(FileType::Flac),
        playable: true,
        needs_tail: false,
        mime: "audio/flac",
    },
    Format {
        name: "MPEG-4 audio",
        extensions: &["m4a", "m4b", "mp4"],
        container: "mp4",
        codec: "AAC or ALAC",
        file_type: Some(FileType::Mp4),
        playable: true,
        needs_tail: true,
        mime: "audio/mp4",
    },
    Format {
        name: "AAC",
        extensions: &["aac"],
        container: "aac",
        codec: "AAC (ADTS)",
        file_type: Some(FileType::Aac),
        playable: true,
        needs_tail: true,
        mime: "audio/aac",
    },
    Format {
        name: "Ogg Vorbis",
        extensions: &["ogg", "oga"],
        container: "vorbis",
        codec: "Vorbis",
        file_type: Some(FileType::Vorbis),
        playable: true,
        needs_tail: true,
        mime: "audio/ogg",
    },
    Format {
        name: "Opus",
        extensions: &["opus"],
        container: "opus",
        codec: "Opus",
        file_type: Some(FileType::Opus),
        playable: true,
        needs_tail: true,
        mime: "audio/ogg",
    },
    Format {
        name: "WAV",
        extensions: &["wav", "wave"],
        container: "wav",
        codec: "PCM",
        file_type: Some(FileType::Wav),
        playable: true,
        needs_tail: false,
        mime: "audio/wav",
    },
    Format {
        name: "AIFF",
        extensions: &["aiff", "aif", "aifc"],
        container: "aiff",
        codec: "PCM",
        file_type: Some(FileType::Aiff),
        playable: true,
        needs_tail: false,
        mime: "audio/aiff",
    },
    Format {
        name: "Protected AAC",
        extensions: &["m4p"],
        container: "mp4",
        codec: "AAC with FairPlay encryption",
        file_type: Some(FileType::Mp4),
        playable: false,
        needs_tail: true,
        mime: "audio/mp4",
    },
    Format {
        name: "WavPack",
        extensions: &["wv"],
        container: "wavpack",
        codec: "WavPack",
        file_type: Some(FileType::WavPack),
        playable: false,
        needs_tail: false,
        mime: "audio/wavpack",
    },
    Format {
        name: "Monkey's Audio",
        extensions: &["ape"],
        container: "ape",
        codec: "Monkey's Audio",
        file_type: Some(FileType::Ape),
        playable: false,
        needs_tail: false,
        mime: "audio/ape",
    },
    Format {
        name: "Musepack",
        extensions: &["mpc", "mp+", "mpp"],
        container: "mpc",
        codec: "Musepack",
        file_type: Some(FileType::Mpc),
        playable: false,
        needs_tail: false,
        mime: "audio/musepack",
    },
    Format {
        name: "Speex",
        extensions: &["spx"],
        container: "speex",
        codec: "Speex",
        file_type: Some(FileType::Speex),
        playable: false,
        needs_tail: true,
        mime: "audio/ogg",
    },
    Format {
        name: "Windows Media Audio",
        extensions: &["wma"],
        // lofty has no name for it; this is what the index has recorded for uploads of it.
        container: "wma",
        codec: "WMA",
        file_type: None,
        playable: false,
        needs_tail: false,
        mime: "audio/x-ms-wma",
    },
];

impl Format {
    /// The format a file extension names (any case, without the dot).
    pub fn by_extension(extension: &str) -> Option<&'static Format> {
        FORMATS
            .iter()
            .find(|format| format.extensions.iter().any(|known| known.eq_ignore_ascii_case(extension)))
    }

    /// The format a file's name says it is.
    pub fn of_path(path: &Path) -> Option<&'static Format> {
        extension_of(path).and_then(Format::by_extension)
    }

    /// The format the index recorded as `container` ("mpeg", "mp4", "vorbis").
    pub fn by_container(container: &str) -> Option<&'static Format> {
        FORMATS.iter().find(|format| format.container == container)
    }

    /// The format lofty found in a file's content.
    pub fn by_file_type(file_type: FileType) -> Option<&'static Format> {
        FORMATS.iter().find(|format| format.file_type == Some(file_type))
    }

    /// The extension a file of this format usually has.
    pub fn extension(&self) -> &'static str {
        self.extensions[0]
    }
}

/// A path's extension, when it has one that is valid Unicode.
pub fn extension_of(path: &Path) -> Option<&str> {
    path.extension().and_then(OsStr::to_str)
}

/// Whether a file's name says it is in a format the engine plays.
pub fn is_playable(path: &Path) -> bool {
    Format::of_path(path).is_some_and(|format| format.playable)
}

/// The extensions of every playable format, for file dialogs' filters.
pub fn playable_extensions() -> Vec<&'static str> {
    FORMATS
        .iter()
        .filter(|format| format.playable)
        .flat_map(|format| format.extensions.iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_lowercase_and_name_one_format() {
        let mut seen = std::collections::HashSet::new();
        for format in FORMATS {
            assert!(!format.extensions.is_empty(), "{} has no extension", format.name);
            for extension in format.extensions {
                assert_eq!(*extension, extension.to_ascii_lowercase());
                assert!(seen.insert(*extension), "{extension} is in two rows");
            }
        }
    }

    #[test]
    fn lookups_find_the_row() {
        assert_eq!(Format::by_extension("MP3").unwrap().container, "mpeg");
        assert_eq!(Format::of_path(Path::new("/m/a.M4B")).unwrap().container, "mp4");
        assert!(Format::of_path(Path::new("/m/a")).is_none());
        assert!(Format::of_path(Path::new("/m/a.txt")).is_none());
        // A container two rows share leads to the playable one.
        assert!(Format::by_container("mp4").unwrap().playable);
        assert!(Format::by_file_type(FileType::Mp4).unwrap().playable);
        assert!(!Format::by_extension("m4p").unwrap().playable);
        assert_eq!(Format::by_container("vorbis").unwrap().extension(), "ogg");
        assert!(Format::by_container("tracker-module").is_none());
    }

    #[test]
    fn every_file_type_lofty_reads_has_a_row() {
        for file_type in [
            FileType::Aac,
            FileType::Aiff,
            FileType::Ape,
            FileType::Flac,
            FileType::Mpeg,
            FileType::Mp4,
            FileType::Mpc,
            FileType::Opus,
            FileType::Vorbis,
            FileType::Speex,
            FileType::Wav,
            FileType::WavPack,
        ] {
            let format =
                Format::by_file_type(file_type).unwrap_or_else(|| panic!("{file_type:?} has no row"));
            // The index has always recorded lofty's own name for the type.
            assert_eq!(format.container, format!("{file_type:?}").to_ascii_lowercase());
        }
    }

    #[test]
    fn lofty_agrees_with_the_extensions_it_knows() {
        for format in FORMATS {
            for extension in format.extensions {
                if let Some(file_type) = FileType::from_ext(extension) {
                    assert_eq!(
                        Some(file_type),
                        format.file_type,
                        "lofty reads .{extension} as {file_type:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn dialogs_offer_only_playable_extensions() {
        let offered = playable_extensions();
        for extension in ["mp3", "flac", "m4a", "ogg", "opus", "wav", "aiff"] {
            assert!(offered.contains(&extension), "{extension} missing");
        }
        for extension in ["wv", "ape", "mpc", "wma", "m4p", "spx"] {
            assert!(!offered.contains(&extension), "{extension} offered");
        }
        assert!(is_playable(Path::new("a.FLAC")) && !is_playable(Path::new("a.wv")));
    }
}
