use std::path::PathBuf;

/// Everything the locker can fail with. `to_string()` is written for the user; [`LockerError::kind`]
/// is a stable name front ends switch on.
#[derive(Debug, thiserror::Error)]
pub enum LockerError {
    /// The storage refused the credentials, or none could be found.
    #[error("{0}")]
    Credentials(String),
    /// The OS keychain is not usable here (no Secret Service on a bare Linux box, for example).
    #[error("{0}")]
    Keychain(String),
    /// The bucket, folder, track or blob does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The endpoint could not be reached, or kept failing after retries.
    #[error("{0}")]
    Network(String),
    /// The upload would go over the locker's quota.
    #[error(
        "{path} needs {} but only {} of the locker's {} quota is left",
        crate::quota::format_size(*.needed),
        crate::quota::format_size(*.available),
        crate::quota::format_size(*.quota)
    )]
    Quota { path: PathBuf, needed: u64, available: u64, quota: u64 },
    /// The locker's layout is newer than this client understands, or a file in it is malformed.
    #[error("{0}")]
    Format(String),
    /// The file is not audio that Loft can read.
    #[error("{path} is not an audio file Loft can read: {reason}")]
    NotAudio { path: PathBuf, reason: String },
    /// The file changed on disk while it was being uploaded.
    #[error("{0} changed while it was being uploaded; nothing was published, upload it again")]
    FileChanged(PathBuf),
    /// The user cancelled the upload of this file before it was published.
    #[error("the upload of {0} was cancelled; nothing was published")]
    Cancelled(PathBuf),
    /// The caller passed something unusable (a malformed URL, an unknown playlist entry, a bad size).
    #[error("{0}")]
    InvalidInput(String),
    /// Local file I/O (the file being uploaded, the state directory).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Any other failure reported by the storage backend.
    #[error("storage error: {0}")]
    Storage(String),
}

pub type Result<T, E = LockerError> = std::result::Result<T, E>;

impl LockerError {
    /// A stable, machine-readable name for the kind of failure.
    pub fn kind(&self) -> &'static str {
        match self {
            LockerError::Credentials(_) => "credentials",
            LockerError::Keychain(_) => "keychain",
            LockerError::NotFound(_) => "not_found",
            LockerError::Network(_) => "network",
            LockerError::Quota { .. } => "quota",
            LockerError::Format(_) => "format",
            LockerError::NotAudio { .. } => "not_audio",
            LockerError::FileChanged(_) => "file_changed",
            LockerError::Cancelled(_) => "cancelled",
            LockerError::InvalidInput(_) => "invalid_input",
            LockerError::Io { .. } => "io",
            LockerError::Storage(_) => "storage",
        }
    }

    /// Whether trying the same thing again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, LockerError::Network(_))
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        LockerError::Io { context: context.into(), source }
    }

    /// Translates an OpenDAL error into ours, naming what was being done (`doing`) so the message
    /// says which object failed.
    pub(crate) fn storage(doing: impl std::fmt::Display, error: opendal::Error) -> Self {
        use opendal::ErrorKind;
        let detail = error.to_string();
        // WebDAV refusals reach us as `Unexpected` errors carrying the HTTP status.
        let refused = detail.contains("status: 401") || detail.contains("status: 403");
        match error.kind() {
            ErrorKind::PermissionDenied | ErrorKind::Unexpected
                if refused || error.kind() == ErrorKind::PermissionDenied =>
            {
                LockerError::Credentials(format!(
                    "the storage refused the credentials while {doing}; check the access key/secret or \
                 user/password ({detail})"
                ))
            }
            // OpenDAL files S3's NoSuchBucket under ConfigInvalid; to the user it is a missing bucket.
            ErrorKind::NotFound | ErrorKind::ConfigInvalid
                if error.kind() == ErrorKind::NotFound || detail.contains("NoSuchBucket") =>
            {
                LockerError::NotFound(format!("not found while {doing} ({detail})"))
            }
            ErrorKind::ConfigInvalid => LockerError::InvalidInput(format!("{doing}: {detail}")),
            _ if error.is_temporary() || looks_like_network(&detail) => {
                LockerError::Network(format!("the storage could not be reached while {doing} ({detail})"))
            }
            _ => LockerError::Storage(format!("{doing}: {detail}")),
        }
    }
}

/// OpenDAL reports a refused or reset connection as an `Unexpected` error once its retries are
/// spent; the message is the only place that says it was the network.
fn looks_like_network(detail: &str) -> bool {
    let lower = detail.to_ascii_lowercase();
    lower.contains(&crate::http::NETWORK_FAILURE.to_ascii_lowercase())
        || ["connect", "connection", "timed out", "timeout", "dns", "unreachable"]
            .iter()
            .any(|needle| lower.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_message_says_what_is_needed_and_left() {
        let error = LockerError::Quota {
            path: PathBuf::from("/music/a.flac"),
            needed: 30 * 1024 * 1024,
            available: 1024 * 1024,
            quota: 5 * 1024 * 1024 * 1024,
        };
        assert_eq!(error.kind(), "quota");
        assert_eq!(
            error.to_string(),
            "/music/a.flac needs 30.0 MiB but only 1.0 MiB of the locker's 5.0 GiB quota is left"
        );
    }

    #[test]
    fn permission_denied_maps_to_credentials() {
        let error = LockerError::storage(
            "reading locker.json",
            opendal::Error::new(opendal::ErrorKind::PermissionDenied, "403"),
        );
        assert_eq!(error.kind(), "credentials");
    }
}
