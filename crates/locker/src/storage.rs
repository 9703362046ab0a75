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
    /// How [`Storage::put_new`] keeps from replacing an object, as the connect-time probe found.
    create_only: std::sync::Arc<std::sync::atomic::AtomicU8>,
    /// For the WebDAV requests OpenDAL has no call for (a MOVE that must not overwrite).
    http: reqwest::Client,
}

/// What [`Storage::put_new`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Created {
    /// The object did not exist; it does now, with the bytes given.
    New,
    /// An object exists under that name already; nothing was written.
    Exists,
}

/// How the storage writes an object only where none exists: natively (S3 `If-None-Match: *`,
/// WebDAV `MOVE` with `Overwrite: F`, a hard link in a folder), or by looking first, which
/// leaves a window only another writer of the same name could use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CreateOnly {
    Native,
    LookFirst,
}

const CREATE_ONLY_NATIVE: u8 = 1;
const CREATE_ONLY_LOOK_FIRST: u8 = 2;

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
            create_only: Default::default(),
            http: reqwest::Client::builder().timeout(retry.request_timeout).build().map_err(|error| {
                LockerError::InvalidInput(format!("cannot set up the HTTP client: {error}"))
            })?,
        })
    }

    /// Reads an object that must be at most `cap` bytes (`what` names it in the message);
    /// `None` when it does not exist. `known_size` is the size a listing gave, saving a stat.
    /// A larger object is refused unread, so a hostile one cannot make a reader hold gigabytes.
    pub async fn read_capped(
        &self,
        path: &str,
        known_size: Option<u64>,
        cap: u64,
        what: &str,
    ) -> Result<Option<Bytes>> {
        let too_large = |size: u64| {
            LockerError::Format(format!(
                "{what} {path} is {} long, more than the {} such a file may be; it was not read",
                crate::quota::format_size(size),
                crate::quota::format_size(cap)
            ))
        };
        let size = match (known_size, &self.location) {
            (Some(size), _) => size,
            (None, LockerLocation::Folder { .. }) => match self.size_of(path).await? {
                Some(size) => size,
                None => return Ok(None),
            },
            // Over HTTP, one GET whose answer is refused unread when it says it is larger than
            // the cap (and cut off if it grows past it), rather than a HEAD and then a GET: a
            // round trip less on every manifest a stream opens.
            (None, _) => {
                return match crate::http::with_read_cap(cap, self.op.read(path)).await {
                    Ok(buffer) => Ok(Some(buffer.to_bytes())),
                    Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
                    Err(error) => match crate::http::too_large(&error) {
                        Some(size) => Err(too_large(size)),
                        None => Err(LockerError::storage(format!("reading {path}"), error)),
                    },
                };
            }
        };
        if size > cap {
            return Err(too_large(size));
        }
        let data = if size == 0 {
            match self.read(path).await? {
                Some(data) => data,
                None => return Ok(None),
            }
        } else {
            // The range keeps the read to the size checked, even if the object grew since.
            match self.op.read_with(path).range(0..size).await {
                Ok(buffer) => buffer.to_bytes(),
                Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
                Err(error) => return Err(LockerError::storage(format!("reading {path}"), error)),
            }
        };
        if data.len() as u64 > cap {
            return Err(LockerError::Format(format!(
                "{what} {path} is larger than the {cap} bytes it may be"
            )));
        }
        Ok(Some(data))
    }

    /// Writes `data` to `path` only if no object is there, atomically: a log file, once
    /// written, is never replaced (docs/locker-format.md, "Writing once").
    pub async fn put_new(&self, path: &str, data: Bytes) -> Result<Created> {
        if self.create_only().await == CreateOnly::LookFirst {
            if self.stat(path).await?.is_some() {
                return Ok(Created::Exists);
            }
            self.put(path, data).await?;
            return Ok(Created::New);
        }
        match &self.location {
            LockerLocation::S3 { .. } => match self.op.write_with(path, data).if_not_exists(true).await {
                Ok(_) => Ok(Created::New),
                Err(error) if error.kind() == ErrorKind::ConditionNotMatch => Ok(Created::Exists),
                Err(error) => Err(LockerError::storage(format!("writing {path}"), error)),
            },
            LockerLocation::WebDav { .. } => {
                let staging = format!("{}{}", crate::format::TMP_DIR, uuid::Uuid::new_v4());
                self.op
                    .write(&staging, data)
                    .await
                    .map_err(|error| LockerError::storage(format!("writing {path}"), error))?;
                let moved = self.dav_move_no_overwrite(&staging, path).await;
                if !matches!(moved, Ok(Created::New)) {
                    let _ = self.op.delete(&staging).await;
                }
                moved
            }
            LockerLocation::Folder { path: root } => {
                let (root, relative) = (root.clone(), path.to_owned());
                crate::upload::blocking(move || link_new(&root, &relative, &data)).await
            }
        }
    }

    /// How this storage writes once, probing it the first time (see [`Storage::probe_create_only`]).
    pub async fn create_only(&self) -> CreateOnly {
        use std::sync::atomic::Ordering;
        match self.create_only.load(Ordering::SeqCst) {
            CREATE_ONLY_NATIVE => CreateOnly::Native,
            CREATE_ONLY_LOOK_FIRST => CreateOnly::LookFirst,
            _ => {
                let found = self.probe_create_only().await;
                let code =
                    if found == CreateOnly::Native { CREATE_ONLY_NATIVE } else { CREATE_ONLY_LOOK_FIRST };
                self.create_only.store(code, Ordering::SeqCst);
                found
            }
        }
    }

    /// Finds out whether the storage refuses to replace an object when asked to, by asking it
    /// to (under `tmp/`, cleaned up after). S3-compatible services that ignore `If-None-Match`
    /// and WebDAV servers that ignore `Overwrite: F` fall back to looking first.
    async fn probe_create_only(&self) -> CreateOnly {
        let name = format!("{}create-only-{}", crate::format::TMP_DIR, uuid::Uuid::new_v4());
        let probe = async {
            match &self.location {
                LockerLocation::S3 { .. } => {
                    let first = self.op.write_with(&name, Bytes::from_static(b"1")).if_not_exists(true).await;
                    let second =
                        self.op.write_with(&name, Bytes::from_static(b"2")).if_not_exists(true).await;
                    let _ = self.op.delete(&name).await;
                    first.is_ok() && second.is_err_and(|error| error.kind() == ErrorKind::ConditionNotMatch)
                }
                LockerLocation::WebDav { .. } => {
                    let other = format!("{name}-b");
                    let written = self.op.write(&name, Bytes::from_static(b"1")).await.is_ok()
                        && self.op.write(&other, Bytes::from_static(b"2")).await.is_ok();
                    let refused = written
                        && matches!(self.dav_move_no_overwrite(&name, &other).await, Ok(Created::Exists));
                    let _ = self.op.delete(&name).await;
                    let _ = self.op.delete(&other).await;
                    refused
                }
                LockerLocation::Folder { path: root } => {
                    let root = root.clone();
                    let relative = name.clone();
                    crate::upload::blocking(move || {
                        // Whether the file system has hard links at all (some network mounts
                        // don't): without them, `link_new` falls back to looking first.
                        let (source, link) = (root.join(&relative), root.join(format!("{relative}-link")));
                        let linked =
                            std::fs::write(&source, b"1").and_then(|()| std::fs::hard_link(&source, &link));
                        let _ = std::fs::remove_file(&source);
                        let _ = std::fs::remove_file(&link);
                        Ok(linked.is_ok())
                    })
                    .await
                    .unwrap_or(false)
                }
            }
        };
        let native = probe.await;
        tracing::info!(location = %self.location.describe(), native, "probed create-only writes");
        if native { CreateOnly::Native } else { CreateOnly::LookFirst }
    }

    /// `MOVE from to` with `Overwrite: F`: the server refuses (412) when `to` exists.
    async fn dav_move_no_overwrite(&self, from: &str, to: &str) -> Result<Created> {
        let LockerLocation::WebDav { server, path: root } = &self.location else {
            return Err(LockerError::InvalidInput("a MOVE is only for WebDAV lockers".into()));
        };
        let url = |relative: &str| -> Result<reqwest::Url> {
            let mut url = reqwest::Url::parse(server).map_err(|error| {
                LockerError::InvalidInput(format!("the WebDAV server URL is not valid: {error}"))
            })?;
            {
                let mut segments = url
                    .path_segments_mut()
                    .map_err(|_| LockerError::InvalidInput("the WebDAV server URL has no path".into()))?;
                segments.pop_if_empty();
                segments.extend(root.split('/').filter(|piece| !piece.is_empty()));
                segments.extend(relative.split('/'));
            }
            Ok(url)
        };
        let (source, destination) = (url(from)?, url(to)?);
        for attempt in 0..2 {
            let mut request = self
                .http
                .request(http::Method::from_bytes(b"MOVE").expect("MOVE is a method"), source.clone())
                .header("Destination", destination.as_str())
                .header("Overwrite", "F");
            if let Credentials::WebDav { user, password } = &self.credentials {
                request = request.basic_auth(user, Some(password));
            }
            let uri: http::Uri = source.as_str().parse().unwrap_or_default();
            let response = request.send().await.map_err(|error| {
                LockerError::storage(
                    format!("publishing {to}"),
                    crate::http::transport_error("moving", &uri, error),
                )
            })?;
            match response.status().as_u16() {
                200..=299 => return Ok(Created::New),
                412 => return Ok(Created::Exists),
                // The folder of the destination does not exist yet: make it, then try again.
                409 if attempt == 0 => {
                    let parent = to.rsplit_once('/').map_or("", |(parent, _)| parent);
                    self.op.create_dir(&format!("{parent}/")).await.map_err(|error| {
                        LockerError::storage(format!("creating the folder of {to}"), error)
                    })?;
                }
                status => {
                    let error = opendal::Error::new(ErrorKind::Unexpected, format!("MOVE answered {status}"))
                        .set_source(crate::error::HttpRefusal { status, code: None })
                        .with_temporary(status >= 500);
                    return Err(LockerError::storage(format!("publishing {to}"), error));
                }
            }
        }
        Err(LockerError::Storage(format!("publishing {to}: the server kept refusing to create its folder")))
    }

    /// The storage's own clock: the modification time it gives an object written now. Grace
    /// periods are measured with it, so a device whose clock is wrong (or a value in the
    /// catalog) cannot make anything look old.
    pub async fn storage_now(&self) -> Result<i64> {
        let probe = format!("{}clock-{}", crate::format::TMP_DIR, uuid::Uuid::new_v4());
        self.put(&probe, Bytes::from_static(b"now")).await?;
        let stat = self.stat(&probe).await;
        let _ = self.delete(&probe).await;
        stat?.and_then(|object| object.modified_ms).ok_or_else(|| {
            LockerError::Storage("the storage does not report when objects were modified".into())
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

    /// When a listed object was last modified, on the storage's clock: from the listing where it
    /// says, else from a stat (some backends list names and sizes only).
    pub async fn modified_ms(&self, object: &ListedObject) -> Result<Option<i64>> {
        if object.modified_ms.is_some() {
            return Ok(object.modified_ms);
        }
        Ok(self.stat(&object.path).await?.and_then(|found| found.modified_ms))
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
        let mut listed: Vec<ListedObject> = entries
            .into_iter()
            .filter(|entry| entry.metadata().mode().is_file())
            .map(|entry| ListedObject {
                path: entry.path().to_owned(),
                size: entry.metadata().content_length(),
                modified_ms: entry.metadata().last_modified().map(|at| at.into_inner().as_millisecond()),
            })
            .collect();
        // A folder's listing has names only; its sizes and times are a local stat away.
        if let LockerLocation::Folder { path: root } = &self.location {
            let root = root.clone();
            listed = crate::upload::blocking(move || {
                for object in &mut listed {
                    if let Ok(meta) = std::fs::metadata(root.join(&object.path)) {
                        object.size = meta.len();
                        object.modified_ms = meta
                            .modified()
                            .ok()
                            .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
                            .and_then(|since| i64::try_from(since.as_millis()).ok());
                    }
                }
                Ok(listed)
            })
            .await?;
        }
        Ok(listed)
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

/// Writes `data` under `root/relative` only if nothing is there: the bytes go to a file in
/// `tmp/` first (so no reader sees them half-written), which is then hard-linked to its name; a
/// link never replaces an existing file. Where the file system has no hard links, looks first.
fn link_new(root: &std::path::Path, relative: &str, data: &[u8]) -> Result<Created> {
    use std::io::Write;
    let target = root.join(relative);
    let io = |error: std::io::Error| LockerError::io(format!("cannot write {}", target.display()), error);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let staging = root.join(crate::format::TMP_DIR).join(uuid::Uuid::new_v4().to_string());
    let mut file = std::fs::File::create(&staging).map_err(io)?;
    file.write_all(data).and_then(|()| file.sync_all()).map_err(io)?;
    drop(file);
    let linked = std::fs::hard_link(&staging, &target);
    let outcome = match linked {
        Ok(()) => Ok(Created::New),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(Created::Exists),
        Err(_) if target.exists() => Ok(Created::Exists),
        Err(_) => std::fs::rename(&staging, &target).map(|()| Created::New).map_err(io),
    };
    let _ = std::fs::remove_file(&staging);
    outcome
}
