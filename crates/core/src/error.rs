use serde::Serialize;

/// Everything the player service can fail with. Front ends show `to_string()` to the user and
/// use [`CoreError::kind`] to decide how (a banner, a dialog, an exit code).
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("cannot use the data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no data directory could be determined for this user; pass --data-dir or set LOFT_DATA_DIR")]
    NoDataDir,
    #[error("the settings file {path} is unreadable: {reason}")]
    Settings { path: std::path::PathBuf, reason: String },
    #[error("{0}")]
    InvalidInput(String),
    #[error(transparent)]
    Library(#[from] loft_library::LibraryError),
    #[error("input/output error: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Audio(#[from] loft_audio::AudioError),
    #[error(transparent)]
    Locker(#[from] loft_locker::LockerError),
}

impl CoreError {
    /// A stable, machine-readable name for the kind of failure.
    pub fn kind(&self) -> &'static str {
        match self {
            CoreError::DataDir { .. } | CoreError::NoDataDir => "data_dir",
            CoreError::Settings { .. } => "settings",
            CoreError::InvalidInput(_) => "invalid_input",
            // The library's own kinds: "invalid_input", "not_found", "library_database",
            // "library_watch", "io".
            CoreError::Library(error) => error.kind(),
            CoreError::Io(_) => "io",
            CoreError::Audio(_) => "audio",
            // The locker's own kinds: "credentials", "keychain", "not_found", "network",
            // "quota", "format", "not_audio", "file_changed", "invalid_input", "io", "storage".
            CoreError::Locker(error) => error.kind().as_str(),
        }
    }

    pub fn payload(&self) -> ErrorPayload {
        ErrorPayload { kind: self.kind().to_owned(), message: self.to_string() }
    }
}

/// The shape in which an error crosses the IPC boundary: `{kind, message}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct ErrorPayload {
    pub kind: String,
    pub message: String,
}

impl From<CoreError> for ErrorPayload {
    fn from(error: CoreError) -> Self {
        error.payload()
    }
}

impl std::fmt::Display for ErrorPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_serializes_kind_and_message() {
        let error = CoreError::InvalidInput("volume must be between 0 and 1".into());
        let json = serde_json::to_value(error.payload()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "invalid_input", "message": "volume must be between 0 and 1"})
        );
    }
}
