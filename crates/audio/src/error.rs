use std::path::PathBuf;

/// Everything the audio engine can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("cannot open {name}: {source}")]
    Open {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{name} is not a supported audio file: {reason}")]
    Unsupported { name: String, reason: String },
    #[error("{name} is corrupt or truncated: {reason}")]
    Corrupt { name: String, reason: String },
    #[error("cannot seek in {name}: {reason}")]
    Seek { name: String, reason: String },
    /// Opening, reading or decoding panicked: a decoder meeting bytes it was not written for,
    /// or a stream failing in a way its code did not foresee. What the panic said is logged.
    #[error("reading or decoding {name} failed unexpectedly")]
    Fault { name: String },
    #[error("resampling failed: {0}")]
    Resample(String),
    #[error("no audio output device is available")]
    NoDevice,
    #[error("no audio output device is named {0:?}")]
    UnknownDevice(String),
    #[error("the audio output device failed: {0}")]
    Device(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    InvalidInput(String),
    #[error("the audio engine has stopped")]
    EngineStopped,
}

impl AudioError {
    /// A stable, machine-readable name for the kind of failure.
    pub fn kind(&self) -> AudioErrorKind {
        match self {
            AudioError::Open { .. } => AudioErrorKind::Open,
            AudioError::Unsupported { .. } => AudioErrorKind::Unsupported,
            AudioError::Corrupt { .. } => AudioErrorKind::Corrupt,
            AudioError::Seek { .. } => AudioErrorKind::Seek,
            AudioError::Fault { .. } => AudioErrorKind::Fault,
            AudioError::Resample(_) => AudioErrorKind::Resample,
            AudioError::NoDevice | AudioError::UnknownDevice(_) | AudioError::Device(_) => {
                AudioErrorKind::Device
            }
            AudioError::Write { .. } => AudioErrorKind::Write,
            AudioError::InvalidInput(_) => AudioErrorKind::InvalidInput,
            AudioError::EngineStopped => AudioErrorKind::EngineStopped,
        }
    }
}

/// What kind of failure an [`AudioError`] is; serialized in snake_case, as a track's failure
/// reaches the window and `loft render --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AudioErrorKind {
    /// The file or stream could not be opened.
    Open,
    /// A format or codec the decoder does not support.
    Unsupported,
    /// The bytes are not valid audio of their format.
    Corrupt,
    Seek,
    /// The decoder or a stream panicked on this track; the engine went on.
    Fault,
    Resample,
    /// No output device, or the device failed.
    Device,
    /// Writing the rendered file failed.
    Write,
    InvalidInput,
    EngineStopped,
}

impl AudioErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AudioErrorKind::Open => "open",
            AudioErrorKind::Unsupported => "unsupported",
            AudioErrorKind::Corrupt => "corrupt",
            AudioErrorKind::Seek => "seek",
            AudioErrorKind::Fault => "fault",
            AudioErrorKind::Resample => "resample",
            AudioErrorKind::Device => "device",
            AudioErrorKind::Write => "write",
            AudioErrorKind::InvalidInput => "invalid_input",
            AudioErrorKind::EngineStopped => "engine_stopped",
        }
    }
}

/// Lets tests compare a kind with its name.
impl PartialEq<&str> for AudioErrorKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Runs `work`, which opens, reads or decodes the media called `name`, and turns a panic in it
/// into [`AudioError::Fault`]: symphonia on hostile bytes and a [`crate::MediaStream`] from
/// another crate are code the engine cannot vouch for, and one bad track must not take the
/// player down. Whatever `work` was changing is left half-done, so the caller drops it.
pub(crate) fn contain<T>(
    name: impl FnOnce() -> String,
    work: impl FnOnce() -> Result<T, AudioError>,
) -> Result<T, AudioError> {
    catch_panic(work).unwrap_or_else(|panic| {
        // The name comes from the same foreign code that just panicked.
        let name = catch_panic(name).unwrap_or_else(|_| "a queue item".to_owned());
        Err(fault(name, &panic))
    })
}

/// Runs `work`, returning what its panic said if it panicked.
pub(crate) fn catch_panic<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_owned())
    })
}

/// The error for a panic met while playing `name`; what it said goes to the log.
pub(crate) fn fault(name: String, panic: &str) -> AudioError {
    tracing::error!(%name, panic, "reading or decoding panicked");
    AudioError::Fault { name }
}
