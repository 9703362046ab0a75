//! Why a file's tags and properties could not be read. Each message is a short clause meant to
//! follow the file's name ("x.flac: truncated or damaged"); what the tag reader said in detail
//! is the error's source, and [`MediaError::detail`] spells the whole chain for the log.

use crate::format::Format;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("empty file (0 bytes)")]
    Empty,
    /// The format is known, and the engine cannot play it.
    #[error("{} audio, which Loft cannot play", .0.name)]
    Unplayable(&'static Format),
    #[error("not an audio file, or not one Loft reads")]
    UnknownFormat {
        #[source]
        source: Option<lofty::error::FileParseError>,
    },
    #[error("truncated or damaged")]
    Damaged {
        #[source]
        source: lofty::error::FileParseError,
    },
    #[error("tags too large to read")]
    TagsTooLarge {
        #[source]
        source: lofty::error::FileParseError,
    },
    #[error("not readable as audio")]
    Unreadable {
        #[source]
        source: lofty::error::FileParseError,
    },
    /// Reading the bytes failed underneath (the disk, or the storage behind a range reader):
    /// not the file's fault.
    #[error("cannot read the file")]
    Io {
        #[source]
        source: lofty::error::FileParseError,
    },
    /// The tags parsed but describe no audio.
    #[error("no audio found: not an audio file, or a damaged one")]
    NoAudio,
    /// The tag reader panicked on these bytes; the panic was contained.
    #[error("the tag reader failed on this file (damaged or unusual tags)")]
    Panicked,
}

impl MediaError {
    /// What the tag reader said, cause after cause ("" when it said nothing).
    pub fn detail(&self) -> String {
        let mut chain = String::new();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            if !chain.is_empty() {
                chain.push_str(": ");
            }
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        chain
    }

    /// Whether the failure lies in reading the bytes rather than in what they are.
    pub fn is_io(&self) -> bool {
        matches!(self, MediaError::Io { .. })
    }
}
