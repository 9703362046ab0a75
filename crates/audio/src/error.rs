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
            AudioError::Resample(_) => "resample",
            AudioError::NoDevice | AudioError::UnknownDevice(_) | AudioError::Device(_) => "device",
            AudioError::Write { .. } => "write",
            AudioError::InvalidInput(_) => "invalid_input",
            AudioError::EngineStopped => "engine_stopped",
        }
    }
}
