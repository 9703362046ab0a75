//! The URL that names a locker, and the secrets that open it.
//!
//! `s3://bucket/prefix?endpoint=…&region=…`, `webdav+https://host/path`, `webdav+http://…` and
//! `file:///path` are the forms. Secrets come from the environment first (headless use), then
//! from the OS keychain; they are never written to a file.

use std::path::PathBuf;

use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::error::{LockerError, Result};

/// Where a locker lives, parsed from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockerLocation {
    S3 {
        bucket: String,
        /// The folder inside the bucket, without leading or trailing slashes ("" for the root).
        prefix: String,
        /// For S3-compatible services (R2, B2, MinIO, Garage…); AWS when absent.
        endpoint: Option<String>,
        region: Option<String>,
        virtual_host_style: bool,
    },
    WebDav {
        /// `https://host[:port]`, the server without the path.
        server: String,
        /// The collection the locker lives in, e.g. `/remote.php/dav/files/me/Loft`.
        path: String,
    },
    Folder {
        path: PathBuf,
    },
}

impl LockerLocation {
    pub fn parse(url: &str) -> Result<Self> {
        let invalid = |why: &str| {
            LockerError::InvalidInput(format!(
                "'{url}' is not a locker URL ({why}); use s3://bucket/prefix?endpoint=…&region=…, \
                 webdav+https://host/path, webdav+http://host/path or file:///path"
            ))
        };
        let parsed = Url::parse(url).map_err(|error| invalid(&error.to_string()))?;
        match parsed.scheme() {
            "s3" => {
                let bucket =
                    parsed.host_str().filter(|host| !host.is_empty()).ok_or_else(|| invalid("no bucket"))?;
                let mut endpoint = None;
                let mut region = None;
                let mut virtual_host_style = false;
                for (key, value) in parsed.query_pairs() {
                    match key.as_ref() {
                        "endpoint" => endpoint = Some(value.into_owned()),
                        "region" => region = Some(value.into_owned()),
                        "virtual_host" | "virtual_host_style" => virtual_host_style = value == "true",
                        other => return Err(invalid(&format!("unknown option '{other}'"))),
                    }
                }
                Ok(LockerLocation::S3 {
                    bucket: bucket.to_owned(),
                    prefix: parsed.path().trim_matches('/').to_owned(),
                    endpoint,
                    region,
                    virtual_host_style,
                })
            }
            "webdav+https" | "webdav+http" => {
                let scheme = parsed.scheme().trim_start_matches("webdav+");
                let host = parsed.host_str().ok_or_else(|| invalid("no host"))?;
                let host = if host.contains(':') { format!("[{host}]") } else { host.to_owned() };
                let server = match parsed.port() {
                    Some(port) => format!("{scheme}://{host}:{port}"),
                    None => format!("{scheme}://{host}"),
                };
                let path = format!("/{}", parsed.path().trim_matches('/'));
                Ok(LockerLocation::WebDav { server, path })
            }
            "file" => {
                let path = parsed.to_file_path().map_err(|_| invalid("not an absolute local path"))?;
                Ok(LockerLocation::Folder { path })
            }
            other => Err(invalid(&format!("unknown scheme '{other}'"))),
        }
    }

    /// A short name for messages: "S3 bucket music", "WebDAV collection `https://dav.example.com/loft`".
    pub fn describe(&self) -> String {
        match self {
            LockerLocation::S3 { bucket, .. } => format!("S3 bucket '{bucket}'"),
            LockerLocation::WebDav { server, path } => format!("WebDAV collection {server}{path}"),
            LockerLocation::Folder { path } => format!("folder {}", path.display()),
        }
    }
}

/// The secret that opens a locker.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credentials {
    /// A folder, or a WebDAV server that needs no login.
    None,
    S3 {
        access_key_id: String,
        secret_access_key: String,
    },
    WebDav {
        user: String,
        password: String,
    },
}

impl std::fmt::Debug for Credentials {
    // Secrets must not end up in logs through a stray `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => f.write_str("Credentials::None"),
            Credentials::S3 { access_key_id, .. } => {
                write!(f, "Credentials::S3 {{ access_key_id: {access_key_id}, .. }}")
            }
            Credentials::WebDav { user, .. } => write!(f, "Credentials::WebDav {{ user: {user}, .. }}"),
        }
    }
}

const KEYCHAIN_SERVICE: &str = "loft-locker";

impl Credentials {
    /// The credentials the environment gives for this kind of locker, if any:
    /// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or LOFT_WEBDAV_USER/LOFT_WEBDAV_PASSWORD.
    pub fn from_env(location: &LockerLocation) -> Option<Credentials> {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        match location {
            LockerLocation::S3 { .. } => Some(Credentials::S3 {
                access_key_id: var("AWS_ACCESS_KEY_ID")?,
                secret_access_key: var("AWS_SECRET_ACCESS_KEY")?,
            }),
            LockerLocation::WebDav { .. } => Some(Credentials::WebDav {
                user: var("LOFT_WEBDAV_USER")?,
                password: var("LOFT_WEBDAV_PASSWORD").unwrap_or_default(),
            }),
            LockerLocation::Folder { .. } => Some(Credentials::None),
        }
    }

    /// The environment's credentials, else the keychain's. A folder needs none; a WebDAV server
    /// with nothing stored is tried without a login; S3 with nothing anywhere is an error that
    /// says where credentials can come from.
    pub fn resolve(url: &str) -> Result<Credentials> {
        let location = LockerLocation::parse(url)?;
        if let Some(found) = Credentials::from_env(&location) {
            return Ok(found);
        }
        match Credentials::from_keychain(url) {
            Ok(Some(found)) => Ok(found),
            Ok(None) => match location {
                LockerLocation::S3 { .. } => Err(LockerError::Credentials(format!(
                    "no credentials for {url}: store them with `loft locker connect`, or set \
                     AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                ))),
                _ => Ok(Credentials::None),
            },
            Err(LockerError::Keychain(reason)) => Err(LockerError::Credentials(format!(
                "{reason}; set {} in the environment instead",
                match location {
                    LockerLocation::S3 { .. } => "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                    _ => "LOFT_WEBDAV_USER and LOFT_WEBDAV_PASSWORD",
                }
            ))),
            Err(other) => Err(other),
        }
    }

    /// Reads the credentials stored for `url` in the OS keychain.
    pub fn from_keychain(url: &str) -> Result<Option<Credentials>> {
        let entry = keychain_entry(url)?;
        match entry.get_password() {
            Ok(secret) => serde_json::from_str(&secret).map(Some).map_err(|error| {
                LockerError::Format(format!("the keychain entry for {url} is not Loft's: {error}"))
            }),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(keychain_unavailable(error)),
        }
    }

    /// Stores the credentials for `url` in the OS keychain. Fails (never falls back to a file)
    /// where no keychain service runs.
    pub fn save_to_keychain(&self, url: &str) -> Result<()> {
        let secret = serde_json::to_string(self).expect("credentials serialize to JSON");
        keychain_entry(url)?.set_password(&secret).map_err(keychain_unavailable)
    }
}

fn keychain_entry(url: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(KEYCHAIN_SERVICE, url).map_err(keychain_unavailable)
}

fn keychain_unavailable(error: keyring::Error) -> LockerError {
    LockerError::Keychain(format!(
        "the OS keychain is not available (no keychain service is running on this system?): {error}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(
            LockerLocation::parse("s3://music/loft/a?endpoint=http://127.0.0.1:9000&region=eu-west-1")
                .unwrap(),
            LockerLocation::S3 {
                bucket: "music".into(),
                prefix: "loft/a".into(),
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: Some("eu-west-1".into()),
                virtual_host_style: false,
            }
        );
        assert_eq!(
            LockerLocation::parse("webdav+https://dav.example.com:8443/files/me/Loft/").unwrap(),
            LockerLocation::WebDav {
                server: "https://dav.example.com:8443".into(),
                path: "/files/me/Loft".into()
            }
        );
        assert_eq!(
            LockerLocation::parse("webdav+http://127.0.0.1:81").unwrap(),
            LockerLocation::WebDav { server: "http://127.0.0.1:81".into(), path: "/".into() }
        );
        assert_eq!(
            LockerLocation::parse("file:///srv/music").unwrap(),
            LockerLocation::Folder { path: PathBuf::from("/srv/music") }
        );
    }

    #[test]
    fn rejects_what_it_cannot_open() {
        for bad in ["ftp://host/x", "s3:///prefix", "not a url", "s3://b/p?colour=red"] {
            assert_eq!(LockerLocation::parse(bad).unwrap_err().kind(), "invalid_input", "{bad}");
        }
    }

    #[test]
    fn keychain_is_used_or_its_absence_explained() {
        // On a desktop this reads the real keychain (and finds nothing under this name); on a
        // bare box without a Secret Service it must say so plainly.
        match Credentials::from_keychain("s3://loft-test-bucket-that-is-never-stored/x") {
            Ok(found) => assert!(found.is_none()),
            Err(error) => {
                assert_eq!(error.kind(), "keychain");
                assert!(error.to_string().contains("no keychain service is running"), "{error}");
            }
        }
        assert_eq!(Credentials::resolve("file:///srv/music").unwrap(), Credentials::None);
    }

    #[test]
    fn debug_hides_secrets() {
        let credentials =
            Credentials::S3 { access_key_id: "AKIA".into(), secret_access_key: "hunter2".into() };
        assert!(!format!("{credentials:?}").contains("hunter2"));
    }
}
