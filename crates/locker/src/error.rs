//! The locker's one error type. Every failure has an [`ErrorKind`], decided from the error's
//! type and the storage's answer (its HTTP status, its error code), never from the wording of
//! a message. `to_string()` is one sentence for the user; what the storage said in detail is in
//! the error's `source()` and goes to the log.

use std::path::PathBuf;

use serde::Serialize;

/// What kind of failure an error is: stable, machine-readable, serialized in snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The storage refused the credentials, or none could be found.
    Credentials,
    /// The credentials were accepted but may not do this (a read-only key, a folder's mode).
    Permission,
    /// The OS keychain is not usable here (no Secret Service on a bare Linux box, for example).
    Keychain,
    /// The bucket, folder, track or blob does not exist.
    NotFound,
    /// The endpoint could not be reached, or kept failing after retries: worth trying later.
    Network,
    /// The upload would go over the locker's quota.
    Quota,
    /// The storage itself is full (WebDAV 507, a full disk).
    StorageFull,
    /// The locker's layout is newer than this client understands, or a file in it is malformed.
    Format,
    /// Bytes in the locker do not match the hash that names them, or encrypted bytes fail
    /// their authentication (changed, reordered or cut short by someone without the key).
    Integrity,
    /// The locker is encrypted and this device has not unlocked it (no passphrase given, none in
    /// the environment, no key in the OS keychain).
    Locked,
    /// The passphrase or recovery key given does not unlock the locker.
    WrongPassphrase,
    /// An object that must be written only once exists already with other content.
    Conflict,
    /// The file is not audio that Loft can read.
    NotAudio,
    /// The file changed on disk while it was being uploaded.
    FileChanged,
    /// The user cancelled.
    Cancelled,
    /// The caller passed something unusable.
    InvalidInput,
    /// Local file I/O (the file being uploaded, the state directory).
    Io,
    /// Any other failure reported by the storage backend.
    Storage,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Credentials => "credentials",
            ErrorKind::Permission => "permission",
            ErrorKind::Keychain => "keychain",
            ErrorKind::NotFound => "not_found",
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
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Io => "io",
            ErrorKind::Storage => "storage",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Everything the locker can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LockerError {
    #[error("{0}")]
    Credentials(String),
    #[error("{0}")]
    Keychain(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Network(String),
    #[error(
        "{path} needs {} but only {} of the locker's {} quota is left",
        crate::quota::format_size(*.needed),
        crate::quota::format_size(*.available),
        crate::quota::format_size(*.quota)
    )]
    Quota { path: PathBuf, needed: u64, available: u64, quota: u64 },
    #[error("{0}")]
    Format(String),
    #[error("{0}")]
    Integrity(String),
    #[error("{0}")]
    Locked(String),
    #[error("{0}")]
    WrongPassphrase(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{path} is not an audio file Loft can read: {reason}")]
    NotAudio { path: PathBuf, reason: String },
    #[error("{0} changed while it was being uploaded; nothing was published, upload it again")]
    FileChanged(PathBuf),
    #[error("the upload of {0} was cancelled; nothing was published")]
    Cancelled(PathBuf),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("storage error: {0}")]
    Storage(String),
    /// A request to the storage failed. `message` is the sentence for the user; the storage's
    /// own answer is the source.
    #[error("{message}")]
    Backend {
        kind: ErrorKind,
        message: String,
        #[source]
        source: opendal::Error,
    },
}

pub type Result<T, E = LockerError> = std::result::Result<T, E>;

impl LockerError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            LockerError::Credentials(_) => ErrorKind::Credentials,
            LockerError::Keychain(_) => ErrorKind::Keychain,
            LockerError::NotFound(_) => ErrorKind::NotFound,
            LockerError::Network(_) => ErrorKind::Network,
            LockerError::Quota { .. } => ErrorKind::Quota,
            LockerError::Format(_) => ErrorKind::Format,
            LockerError::Integrity(_) => ErrorKind::Integrity,
            LockerError::Locked(_) => ErrorKind::Locked,
            LockerError::WrongPassphrase(_) => ErrorKind::WrongPassphrase,
            LockerError::Conflict(_) => ErrorKind::Conflict,
            LockerError::NotAudio { .. } => ErrorKind::NotAudio,
            LockerError::FileChanged(_) => ErrorKind::FileChanged,
            LockerError::Cancelled(_) => ErrorKind::Cancelled,
            LockerError::InvalidInput(_) => ErrorKind::InvalidInput,
            LockerError::Io { .. } => ErrorKind::Io,
            LockerError::Storage(_) => ErrorKind::Storage,
            LockerError::Backend { kind, .. } => *kind,
        }
    }

    /// Whether trying the same thing again later may succeed.
    pub fn is_transient(&self) -> bool {
        self.kind() == ErrorKind::Network
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        LockerError::Io { context: context.into(), source }
    }

    /// Translates an OpenDAL error into ours, naming what was being done (`doing`, e.g.
    /// "reading locker.json") so the message says which object failed.
    pub(crate) fn storage(doing: impl std::fmt::Display, error: opendal::Error) -> Self {
        let kind = classify(&error);
        tracing::debug!(%doing, ?kind, error = %error, "storage request failed");
        let message = match kind {
            ErrorKind::Credentials => format!(
                "The storage refused the credentials while {doing}; check the access key and secret, \
                 or the user name and password"
            ),
            ErrorKind::Permission => {
                format!("The storage does not allow {doing} with these credentials")
            }
            ErrorKind::NotFound => match status_of(&error).and_then(|status| status.code.as_deref()) {
                Some("NoSuchBucket") => format!("The bucket does not exist ({doing})"),
                _ => format!("Not found while {doing}"),
            },
            ErrorKind::Network => format!(
                "The storage could not be reached while {doing} ({}); Loft tries again",
                network_cause(&error)
            ),
            ErrorKind::StorageFull => format!("The storage is full ({doing}); free some space there"),
            ErrorKind::Conflict => format!("Someone else wrote it first ({doing})"),
            ErrorKind::InvalidInput => format!("The locker's settings are not usable ({doing})"),
            _ => format!("The storage failed while {doing}"),
        };
        LockerError::Backend { kind, message, source: error }
    }

    /// The whole chain of causes, for the log.
    pub fn detail(&self) -> String {
        crate::http::error_chain(self)
    }
}

/// The HTTP answer a storage request got, attached by our HTTP client to the errors it makes
/// for refusals, so the classification reads the status and the S3 error code from a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpRefusal {
    pub status: u16,
    /// The `<Code>` of an S3 error document (`AccessDenied`, `NoSuchBucket`…), when given.
    pub code: Option<String>,
}

impl std::fmt::Display for HttpRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(code) => write!(f, "HTTP {} {code}", self.status),
            None => write!(f, "HTTP {}", self.status),
        }
    }
}

impl std::error::Error for HttpRefusal {}

fn causes(error: &opendal::Error) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
    let first: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    std::iter::successors(first, |cause| cause.source())
}

fn status_of(error: &opendal::Error) -> Option<&HttpRefusal> {
    causes(error).find_map(|cause| cause.downcast_ref::<HttpRefusal>())
}

/// Decides the kind of a storage failure from what it is made of: the HTTP refusal our client
/// saw, OpenDAL's own kind, and the transport error underneath.
fn classify(error: &opendal::Error) -> ErrorKind {
    use opendal::ErrorKind as Dal;
    if let Some(refusal) = status_of(error) {
        return match (refusal.status, refusal.code.as_deref()) {
            (401, _) => ErrorKind::Credentials,
            (
                403,
                Some(
                    "InvalidAccessKeyId"
                    | "SignatureDoesNotMatch"
                    | "InvalidToken"
                    | "ExpiredToken"
                    | "InvalidSecurity",
                ),
            ) => ErrorKind::Credentials,
            // A HEAD answer has no body to say which refusal it is; a wrong key is far more
            // common than a key without read access.
            (403, None) => ErrorKind::Credentials,
            (403, _) => ErrorKind::Permission,
            (404, _) => ErrorKind::NotFound,
            (507, _) => ErrorKind::StorageFull,
            _ => ErrorKind::Storage,
        };
    }
    match error.kind() {
        Dal::PermissionDenied => return ErrorKind::Permission,
        Dal::NotFound => return ErrorKind::NotFound,
        Dal::ConditionNotMatch => return ErrorKind::Conflict,
        Dal::ConfigInvalid => return ErrorKind::InvalidInput,
        Dal::RateLimited => return ErrorKind::Network,
        _ => {}
    }
    for cause in causes(error) {
        if let Some(transport) = cause.downcast_ref::<reqwest::Error>()
            && (transport.is_connect()
                || transport.is_timeout()
                || transport.is_request()
                || transport.is_body())
        {
            return ErrorKind::Network;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as Io;
            match io.kind() {
                Io::StorageFull | Io::QuotaExceeded => return ErrorKind::StorageFull,
                Io::ConnectionRefused
                | Io::ConnectionReset
                | Io::ConnectionAborted
                | Io::NotConnected
                | Io::TimedOut
                | Io::HostUnreachable
                | Io::NetworkUnreachable
                | Io::NetworkDown
                | Io::BrokenPipe
                | Io::UnexpectedEof => return ErrorKind::Network,
                Io::PermissionDenied | Io::ReadOnlyFilesystem => return ErrorKind::Permission,
                _ => {}
            }
        }
    }
    if error.is_temporary() { ErrorKind::Network } else { ErrorKind::Storage }
}

/// The innermost cause of a network failure, in a few words ("Connection refused").
fn network_cause(error: &opendal::Error) -> String {
    causes(error).last().map(|cause| cause.to_string()).unwrap_or_else(|| "the request failed".to_owned())
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
        assert_eq!(error.kind(), ErrorKind::Quota);
        assert_eq!(
            error.to_string(),
            "/music/a.flac needs 30.0 MiB but only 1.0 MiB of the locker's 5.0 GiB quota is left"
        );
    }

    #[test]
    fn permission_denied_maps_to_permission() {
        let error = LockerError::storage(
            "reading locker.json",
            opendal::Error::new(opendal::ErrorKind::PermissionDenied, "403"),
        );
        assert_eq!(error.kind(), ErrorKind::Permission);
    }

    fn refused(status: u16, code: Option<&str>) -> opendal::Error {
        opendal::Error::new(opendal::ErrorKind::Unexpected, "refused")
            .set_source(HttpRefusal { status, code: code.map(str::to_owned) })
    }

    #[test]
    fn refusals_are_classified_by_status_and_code() {
        let kind = |status, code| LockerError::storage("writing x", refused(status, code)).kind();
        assert_eq!(kind(401, None), ErrorKind::Credentials);
        assert_eq!(kind(403, Some("SignatureDoesNotMatch")), ErrorKind::Credentials);
        assert_eq!(kind(403, Some("AccessDenied")), ErrorKind::Permission);
        assert_eq!(kind(404, Some("NoSuchBucket")), ErrorKind::NotFound);
        assert_eq!(kind(507, None), ErrorKind::StorageFull);
    }

    /// Words that once decided the kind ("connect", "dns", "timeout", "status: 401") may be in
    /// a URL, a bucket or a server's page; they change nothing now.
    #[test]
    fn words_in_messages_and_urls_do_not_decide_the_kind() {
        for text in [
            "https://connect.example.com/dns-timeout-bucket",
            "status: 401 NoSuchBucket connection refused",
            "bucket timeout-dns-connect",
        ] {
            let error = opendal::Error::new(opendal::ErrorKind::Unexpected, text).with_context("url", text);
            let ours = LockerError::storage(format!("reading {text}"), error);
            assert_eq!(ours.kind(), ErrorKind::Storage, "{text}");
        }
        let missing = opendal::Error::new(opendal::ErrorKind::NotFound, "gone")
            .with_context("url", "https://unreachable.example/timeout");
        assert_eq!(LockerError::storage("reading a", missing).kind(), ErrorKind::NotFound);
    }

    #[test]
    fn a_refused_connection_is_the_network_by_its_io_kind() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let error = opendal::Error::new(opendal::ErrorKind::Unexpected, "send failed").set_source(io);
        let ours = LockerError::storage("listing the locker", error);
        assert_eq!(ours.kind(), ErrorKind::Network);
        assert!(ours.is_transient());
        assert!(ours.to_string().starts_with("The storage could not be reached while listing the locker"));
    }

    #[test]
    fn kinds_serialize_in_snake_case() {
        assert_eq!(serde_json::to_string(&ErrorKind::StorageFull).unwrap(), "\"storage_full\"");
        assert_eq!(ErrorKind::NotAudio, "not_audio");
    }
}
