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
    pub fn kind(&self) -> &'static str {
        match self {
            AudioError::Open { .. } => "open",
            AudioError::Unsupported { .. } => "unsupported",
            AudioError::Corrupt { .. } => "corrupt",
            AudioError::Seek { .. } => "seek",
            AudioError::Fault { .. } => "fault",
            AudioError::Resample(_) => "resample",
            AudioError::NoDevice | AudioError::UnknownDevice(_) | AudioError::Device(_) => "device",
            AudioError::Write { .. } => "write",
            AudioError::InvalidInput(_) => "invalid_input",
            AudioError::EngineStopped => "engine_stopped",
        }
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
