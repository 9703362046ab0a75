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

/// What kind of failure an error is, for front ends to decide how to show it (a banner, a
/// dialog, an exit code) and for code to decide what to do (retry later, ask for a passphrase).
/// Serialized in snake_case: the IPC contract's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The profile's data directory cannot be used or found.
    DataDir,
    /// The settings file is unreadable.
    Settings,
    /// The caller passed something unusable.
    InvalidInput,
    /// A track, playlist, folder, bucket or blob that does not exist.
    NotFound,
    /// The library's SQLite database failed.
    LibraryDatabase,
    /// Watching the music folders for changes failed.
    LibraryWatch,
    /// Local file input/output.
    Io,
    /// Decoding or playing audio.
    Audio,
    /// The locker refused the credentials, or none could be found.
    Credentials,
    /// The credentials were accepted but may not do this.
    Permission,
    /// The OS keychain is not usable here.
    Keychain,
    /// The locker cannot be reached: worth trying later.
    Network,
    /// The upload would go over the locker's quota.
    Quota,
    /// The storage itself is full.
    StorageFull,
    /// The locker's layout is newer than this client, or a file in it is malformed.
    Format,
    /// Bytes in the locker do not match their hash or fail authentication.
    Integrity,
    /// The locker is encrypted and this device has not unlocked it.
    Locked,
    /// The passphrase or recovery key given does not unlock the locker.
    WrongPassphrase,
    /// An object that is written only once exists already with other content.
    Conflict,
    /// The file is not audio that Loft can read.
    NotAudio,
    /// The file changed on disk while it was being uploaded.
    FileChanged,
    /// The user cancelled.
    Cancelled,
    /// Any other failure of the storage backend.
    Storage,
    /// A failure inside Loft itself (a task that panicked, a system dialog that broke).
    Internal,
}

impl ErrorKind {
    /// The kind's name as it crosses IPC and appears in `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::DataDir => "data_dir",
            ErrorKind::Settings => "settings",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::LibraryDatabase => "library_database",
            ErrorKind::LibraryWatch => "library_watch",
            ErrorKind::Io => "io",
            ErrorKind::Audio => "audio",
            ErrorKind::Credentials => "credentials",
            ErrorKind::Permission => "permission",
            ErrorKind::Keychain => "keychain",
            ErrorKind::Network => "network",
            ErrorKind::Quota => "quota",
            ErrorKind::StorageFull => "storage_full",
            ErrorKind::Format => "format",
            ErrorKind::Integrity => "integrity",
            ErrorKind::Locked => "locked",
            ErrorKind::WrongPassphrase => "wrong_passphrase",
            ErrorKind::Conflict => "conflict",
            ErrorKind::NotAudio => "not_audio",
            ErrorKind::FileChanged => "file_changed",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Storage => "storage",
            ErrorKind::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lets tests and callers compare a kind with its name.
impl PartialEq<&str> for ErrorKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<loft_locker::ErrorKind> for ErrorKind {
    fn from(kind: loft_locker::ErrorKind) -> Self {
        use loft_locker::ErrorKind as Locker;
        match kind {
            Locker::Credentials => ErrorKind::Credentials,
            Locker::Permission => ErrorKind::Permission,
            Locker::Keychain => ErrorKind::Keychain,
            Locker::NotFound => ErrorKind::NotFound,
            Locker::Network => ErrorKind::Network,
            Locker::Quota => ErrorKind::Quota,
            Locker::StorageFull => ErrorKind::StorageFull,
            Locker::Format => ErrorKind::Format,
            Locker::Integrity => ErrorKind::Integrity,
            Locker::Locked => ErrorKind::Locked,
            Locker::WrongPassphrase => ErrorKind::WrongPassphrase,
            Locker::Conflict => ErrorKind::Conflict,
            Locker::NotAudio => ErrorKind::NotAudio,
            Locker::FileChanged => ErrorKind::FileChanged,
            Locker::Cancelled => ErrorKind::Cancelled,
            Locker::InvalidInput => ErrorKind::InvalidInput,
            Locker::Io => ErrorKind::Io,
            Locker::Storage => ErrorKind::Storage,
        }
    }
}

fn library_kind(error: &loft_library::LibraryError) -> ErrorKind {
    use loft_library::LibraryError as Library;
    match error {
        Library::Database { .. } | Library::Sql(_) => ErrorKind::LibraryDatabase,
        Library::FolderUnreadable { .. }
        | Library::NotAFolder { .. }
        | Library::FolderAlreadyCovered { .. }
        | Library::UnknownFolder { .. }
        | Library::UnknownSortField(_)
        | Library::InvalidSource(_)
        | Library::InvalidPlaylist(_)
        | Library::InvalidInput(_)
        | Library::InvalidRule(_) => ErrorKind::InvalidInput,
        Library::UnknownTrack(_) | Library::UnknownPlaylist(_) | Library::UnknownPlaylistEntry { .. } => {
            ErrorKind::NotFound
        }
        Library::Watch(_) => ErrorKind::LibraryWatch,
        Library::Io(_) | Library::PlaylistFile { .. } => ErrorKind::Io,
    }
}

impl CoreError {
    /// What kind of failure this is, classified by the error's type (and, for the locker, by
    /// the status the storage answered), never by its message.
    pub fn kind(&self) -> ErrorKind {
        match self {
            CoreError::DataDir { .. } | CoreError::NoDataDir => ErrorKind::DataDir,
            CoreError::Settings { .. } => ErrorKind::Settings,
            CoreError::InvalidInput(_) => ErrorKind::InvalidInput,
            CoreError::Library(error) => library_kind(error),
            CoreError::Io(_) => ErrorKind::Io,
            CoreError::Audio(_) => ErrorKind::Audio,
            CoreError::Locker(error) => error.kind().into(),
        }
    }

    pub fn payload(&self) -> ErrorPayload {
        ErrorPayload { kind: self.kind(), message: self.to_string() }
    }
}

/// The shape in which an error crosses the IPC boundary: `{kind, message}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct ErrorPayload {
    pub kind: ErrorKind,
    pub message: String,
}

impl ErrorPayload {
    /// A failure inside Loft itself, told to the user in one sentence (the caller logs the
    /// detail).
    pub fn internal(message: impl Into<String>) -> ErrorPayload {
        ErrorPayload { kind: ErrorKind::Internal, message: message.into() }
    }
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
    fn each_kind_serializes_as_its_name() {
        use ErrorKind::*;
        let every = [
            DataDir,
            Settings,
            InvalidInput,
            NotFound,
            LibraryDatabase,
            LibraryWatch,
            Io,
            Audio,
            Credentials,
            Permission,
            Keychain,
            Network,
            Quota,
            StorageFull,
            Format,
            Integrity,
            Locked,
            WrongPassphrase,
            Conflict,
            NotAudio,
            FileChanged,
            Cancelled,
            Storage,
            Internal,
        ];
        for kind in every {
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.as_str()));
            let back: ErrorKind = serde_json::from_value(serde_json::json!(kind.as_str())).unwrap();
            assert_eq!(back, kind);
        }
    }

    #[test]
    fn a_locker_error_keeps_its_kind_whatever_its_message_says() {
        // Classification by type: a message naming a network failure does not make one.
        let error = CoreError::from(loft_locker::LockerError::InvalidInput(
            "s3://connect-timeout-dns/bucket is not a locker URL".into(),
        ));
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        let error = CoreError::from(loft_locker::LockerError::WrongPassphrase("no".into()));
        assert_eq!(error.payload().kind, ErrorKind::WrongPassphrase);
    }

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
