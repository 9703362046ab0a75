//! The locker's storage through OpenDAL: one [`Storage`] per open locker, whatever the backend.

use std::time::Duration;

use bytes::Bytes;
use opendal::layers::{HttpClientLayer, RetryLayer, TimeoutLayer};
use opendal::raw::HttpClient;
use opendal::{ErrorKind, Operator};

use crate::error::{LockerError, Result};
use crate::http::ProgressClient;
use crate::location::{Credentials, LockerLocation};
use crate::quota::BackendQuota;

/// How hard to try before a storage request counts as failed.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts after the first one, for errors the backend marks transient (5xx, resets…).
    pub retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// A single request that takes longer than this is abandoned (and retried).
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 5,
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Storage {
    op: Operator,
    location: LockerLocation,
    credentials: Credentials,
    /// WebDAV PUTs become visible while they are written, so small objects whose partial form
    /// must never be seen go to `tmp/` first and are then moved (MOVE is atomic on the server).
    /// S3 PUTs are atomic already; the fs service writes through `tmp/` and renames by itself.
    stage_then_move: bool,
}

/// An object found by listing.
#[derive(Debug, Clone)]
pub(crate) struct ListedObject {
    pub path: String,
    pub size: u64,
    pub modified_ms: Option<i64>,
}

impl Storage {
    pub fn connect(
        location: &LockerLocation,
        credentials: &Credentials,
        retry: RetryPolicy,
    ) -> Result<Storage> {
        let op = match location {
            LockerLocation::S3 { bucket, prefix, endpoint, region, virtual_host_style } => {
                let mut builder = opendal::services::S3::default()
                    .bucket(bucket)
                    .root(&format!("/{prefix}"))
                    .region(region.as_deref().unwrap_or("us-east-1"))
                    // Only the URL and the credentials we were given count; never ~/.aws files.
                    .disable_config_load()
                    .disable_ec2_metadata();
                if let Some(endpoint) = endpoint {
                    builder = builder.endpoint(endpoint);
                }
                if *virtual_host_style {
                    builder = builder.enable_virtual_host_style();
                }
                match credentials {
                    Credentials::S3 { access_key_id, secret_access_key } => {
                        builder = builder.access_key_id(access_key_id).secret_access_key(secret_access_key);
                    }
                    Credentials::None => builder = builder.allow_anonymous(),
                    Credentials::WebDav { .. } => {
                        return Err(LockerError::Credentials(
                            "an S3 locker needs an access key and secret, not a WebDAV user".into(),
                        ));
                    }
                }
                Operator::new(builder).map(|builder| builder.finish())
            }
            LockerLocation::WebDav { server, path } => {
                let mut builder = opendal::services::Webdav::default().endpoint(server).root(path);
                match credentials {
                    Credentials::WebDav { user, password } => {
                        builder = builder.username(user).password(password);
                    }
                    Credentials::None => {}
                    Credentials::S3 { .. } => {
                        return Err(LockerError::Credentials(
                            "a WebDAV locker needs a user and password, not an S3 key".into(),
                        ));
                    }
                }
                Operator::new(builder).map(|builder| builder.finish())
            }
            LockerLocation::Folder { path } => {
                // The folder itself may be created, but not its parent: a locker on an unmounted
                // NAS must fail rather than quietly fill the local disk under the mount point.
                if !path.is_dir() {
                    std::fs::create_dir(path).map_err(|error| {
                        LockerError::io(format!("cannot create the locker folder {}", path.display()), error)
                    })?;
                }
                std::fs::create_dir_all(path.join("tmp")).map_err(|error| {
                    LockerError::io(format!("cannot use the folder {}", path.display()), error)
                })?;
                let root = path.to_string_lossy();
                let staging = path.join("tmp");
                Operator::new(
                    opendal::services::Fs::default().root(&root).atomic_write_dir(&staging.to_string_lossy()),
                )
                .map(|builder| builder.finish())
            }
        }
        .map_err(|error| LockerError::storage(format!("opening the {}", location.describe()), error))?
        .layer(HttpClientLayer::new(HttpClient::with(ProgressClient::new())))
        .layer(TimeoutLayer::new().with_io_timeout(retry.request_timeout))
        .layer(
            RetryLayer::new()
                .with_max_times(retry.retries)
                .with_min_delay(retry.min_delay)
                .with_max_delay(retry.max_delay)
                .with_jitter(),
        );
        Ok(Storage {
            op,
            location: location.clone(),
            credentials: credentials.clone(),
            stage_then_move: matches!(location, LockerLocation::WebDav { .. }),
        })
    }

    pub async fn read(&self, path: &str) -> Result<Option<Bytes>> {
        match self.op.read(path).await {
            Ok(buffer) => Ok(Some(buffer.to_bytes())),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(LockerError::storage(format!("reading {path}"), error)),
        }
    }

    pub async fn read_range(&self, path: &str, start: u64, end: u64) -> Result<Bytes> {
        self.op
            .read_with(path)
            .range(start..end)
            .await
            .map(|buffer| buffer.to_bytes())
            .map_err(|error| LockerError::storage(format!("reading bytes {start}..{end} of {path}"), error))
    }

    /// The size of an object, or `None` when it does not exist.
    pub async fn size_of(&self, path: &str) -> Result<Option<u64>> {
        match self.op.stat(path).await {
            Ok(meta) => Ok(Some(meta.content_length())),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(LockerError::storage(format!("looking up {path}"), error)),
        }
    }

    pub async fn stat(&self, path: &str) -> Result<Option<ListedObject>> {
        match self.op.stat(path).await {
            Ok(meta) => Ok(Some(ListedObject {
                path: path.to_owned(),
                size: meta.content_length(),
                modified_ms: meta.last_modified().map(|at| at.into_inner().as_millisecond()),
            })),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(LockerError::storage(format!("looking up {path}"), error)),
        }
    }

    /// Writes an object so that no reader ever sees it half-written under `path`.
    pub async fn put(&self, path: &str, data: Bytes) -> Result<()> {
        if self.stage_then_move {
            let staging = format!("tmp/{}", uuid::Uuid::new_v4());
            self.op
                .write(&staging, data)
                .await
                .map_err(|error| LockerError::storage(format!("writing {path}"), error))?;
            if let Err(error) = self.op.rename(&staging, path).await {
                // The staged copy is garbage now; removing it is best effort, gc sweeps tmp/ too.
                let _ = self.op.delete(&staging).await;
                return Err(LockerError::storage(format!("publishing {path}"), error));
            }
            Ok(())
        } else {
            self.op
                .write(path, data)
                .await
                .map(|_| ())
                .map_err(|error| LockerError::storage(format!("writing {path}"), error))
        }
    }

    pub async fn delete(&self, path: &str) -> Result<()> {
        match self.op.delete(path).await {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(()),
            Err(error) => Err(LockerError::storage(format!("deleting {path}"), error)),
        }
    }

    /// Fails with `NotFound` when the bucket or collection itself is missing (an empty one
    /// lists fine).
    pub async fn check_container(&self) -> Result<()> {
        use futures::TryStreamExt;
        // One page is enough to know the container is there: `list_with` would walk every
        // page of a full locker (and some servers repeat the last page of a one-key listing
        // forever).
        let mut lister = self
            .op
            .lister_with("/")
            .limit(1)
            .await
            .map_err(|error| LockerError::storage("listing the locker", error))?;
        lister.try_next().await.map(|_| ()).map_err(|error| LockerError::storage("listing the locker", error))
    }

    /// Every object under `dir` (which ends with '/'), at any depth. A missing folder is empty.
    pub async fn list_files(&self, dir: &str) -> Result<Vec<ListedObject>> {
        let entries = match self.op.list_with(dir).recursive(true).await {
            Ok(entries) => entries,
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(LockerError::storage(format!("listing {dir}"), error)),
        };
        Ok(entries
            .into_iter()
            .filter(|entry| entry.metadata().mode().is_file())
            .map(|entry| ListedObject {
                path: entry.path().to_owned(),
                size: entry.metadata().content_length(),
                modified_ms: entry.metadata().last_modified().map(|at| at.into_inner().as_millisecond()),
            })
            .collect())
    }

    /// The quota the backend itself reports, where it has one (WebDAV, RFC 4331).
    pub async fn backend_quota(&self) -> Result<Option<BackendQuota>> {
        match (&self.location, &self.credentials) {
            (LockerLocation::WebDav { server, path }, credentials) => {
                let (user, password) = match credentials {
                    Credentials::WebDav { user, password } => (Some(user.as_str()), Some(password.as_str())),
                    _ => (None, None),
                };
                let url = format!("{server}{}/", path.trim_end_matches('/'));
                crate::quota::webdav_quota(&url, user, password).await
            }
            _ => Ok(None),
        }
    }
}
