//! The locker's storage through OpenDAL: one [`Storage`] per open locker, whatever the backend.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use opendal::layers::{HttpClientLayer, RetryLayer, TimeoutLayer};
use opendal::raw::HttpClient;
use opendal::{ErrorKind, Operator};

use crate::crypt::{self, Vault};
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
    create_only: Arc<std::sync::atomic::AtomicU8>,
    /// For the WebDAV requests OpenDAL has no call for (a MOVE that must not overwrite).
    http: reqwest::Client,
    /// Whether objects are sealed, shared by every clone: when another device encrypts the
    /// locker, every reader and writer of this one switches at once.
    crypt: Arc<RwLock<Crypt>>,
}

/// How the storage treats the objects of the layout (docs/locker-format.md, "Encryption").
#[derive(Clone)]
pub(crate) enum Crypt {
    /// A plaintext locker.
    Plain,
    /// An encrypted locker, unlocked: every object of the layout is sealed on its way out and
    /// opened (authenticated) on its way in, under its sealed name. While a conversion from
    /// plaintext is under way, a read that finds no sealed object reads the plaintext one.
    Sealed { vault: Arc<Vault>, plaintext_readable: bool },
    /// An encrypted locker this device has not unlocked: nothing is written, and only what is
    /// left in plaintext from before a conversion can be read.
    Locked { plaintext_readable: bool },
}

/// Where a logical path is, as the storage holds it now.
enum Target {
    /// Stored as it is, under its own name.
    Plain(String),
    /// Sealed under `physical`; `legacy` is the plaintext name still readable during a
    /// conversion.
    Sealed { physical: String, vault: Arc<Vault>, legacy: Option<String> },
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
    /// Its logical path (the plaintext layout's name, whatever it is stored under).
    pub path: String,
    /// The bytes it takes in the storage (sealed objects are larger than their plaintext).
    pub size: u64,
    pub modified_ms: Option<i64>,
    /// Whether it is stored sealed (else: in the clear, in a plaintext locker or left from
    /// before a conversion).
    pub sealed: bool,
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
            crypt: Arc::new(RwLock::new(Crypt::Plain)),
            http: reqwest::Client::builder().timeout(retry.request_timeout).build().map_err(|error| {
                LockerError::InvalidInput(format!("cannot set up the HTTP client: {error}"))
            })?,
        })
    }

    /// The crypt state every clone of this storage shares.
    pub fn crypt(&self) -> Crypt {
        self.crypt.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    pub fn set_crypt(&self, crypt: Crypt) {
        *self.crypt.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = crypt;
    }

    /// The vault, when the locker is encrypted and unlocked.
    pub fn vault(&self) -> Option<Arc<Vault>> {
        match self.crypt() {
            Crypt::Sealed { vault, .. } => Some(vault),
            _ => None,
        }
    }

    /// Where `logical` is stored now; `writing` refuses a locked locker's objects outright.
    fn target(&self, logical: &str, writing: bool) -> Result<Target> {
        if crypt::stays_plain(logical) {
            return Ok(Target::Plain(logical.to_owned()));
        }
        match self.crypt() {
            Crypt::Plain => Ok(Target::Plain(logical.to_owned())),
            Crypt::Sealed { vault, plaintext_readable } => {
                let physical = vault.physical(logical)?.unwrap_or_else(|| logical.to_owned());
                Ok(Target::Sealed { physical, vault, legacy: plaintext_readable.then(|| logical.to_owned()) })
            }
            Crypt::Locked { plaintext_readable } if plaintext_readable && !writing => {
                Ok(Target::Plain(logical.to_owned()))
            }
            Crypt::Locked { .. } => Err(locked()),
        }
    }

    /// Reads an object that must be at most `cap` bytes (`what` names it in the message);
    /// `None` when it does not exist. `known_size` is the size a listing gave, saving a stat.
    /// A larger object is refused unread, so a hostile one cannot make a reader hold gigabytes.
    /// In an encrypted locker the object is opened (and so authenticated) before it is
    /// returned.
    pub async fn read_capped(
        &self,
        path: &str,
        known_size: Option<u64>,
        cap: u64,
        what: &str,
    ) -> Result<Option<Bytes>> {
        match self.target(path, false)? {
            Target::Plain(path) => self.read_capped_raw(&path, known_size, cap, what, &path).await,
            Target::Sealed { physical, vault, legacy } => {
                let stored =
                    self.read_capped_raw(&physical, None, vault.object_stored_cap(cap), what, path).await?;
                match (stored, legacy) {
                    (Some(stored), _) => {
                        let logical = path.to_owned();
                        let plain =
                            open_off_worker(stored.len(), move || vault.open_object(&logical, &stored))
                                .await?;
                        if plain.len() as u64 > cap {
                            return Err(LockerError::Format(format!(
                                "{what} {path} is larger than the {cap} bytes it may be"
                            )));
                        }
                        Ok(Some(Bytes::from(plain)))
                    }
                    (None, Some(legacy)) => self.read_capped_raw(&legacy, None, cap, what, path).await,
                    (None, None) => Ok(None),
                }
            }
        }
    }

    /// [`Storage::read_capped`] of an object under its stored name; `shown` names it in messages.
    async fn read_capped_raw(
        &self,
        path: &str,
        known_size: Option<u64>,
        cap: u64,
        what: &str,
        shown: &str,
    ) -> Result<Option<Bytes>> {
        let too_large = |size: u64| {
            LockerError::Format(format!(
                "{what} {shown} is {} long, more than the {} such a file may be; it was not read",
                crate::quota::format_size(size),
                crate::quota::format_size(cap)
            ))
        };
        let size = match (known_size, &self.location) {
            (Some(size), _) => size,
            (None, LockerLocation::Folder { .. }) => match self.size_of_raw(path).await? {
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
                        None => Err(LockerError::storage(format!("reading {shown}"), error)),
                    },
                };
            }
        };
        if size > cap {
            return Err(too_large(size));
        }
        let data = if size == 0 {
            match self.op.read(path).await {
                Ok(buffer) => buffer.to_bytes(),
                Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
                Err(error) => return Err(LockerError::storage(format!("reading {shown}"), error)),
            }
        } else {
            // The range keeps the read to the size checked, even if the object grew since.
            match self.op.read_with(path).range(0..size).await {
                Ok(buffer) => buffer.to_bytes(),
                Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
                Err(error) => return Err(LockerError::storage(format!("reading {shown}"), error)),
            }
        };
        if data.len() as u64 > cap {
            return Err(LockerError::Format(format!(
                "{what} {shown} is larger than the {cap} bytes it may be"
            )));
        }
        Ok(Some(data))
    }

    /// Writes `data` to `path` only if no object is there, atomically: a log file, once
    /// written, is never replaced (docs/locker-format.md, "Writing once"). In an encrypted
    /// locker the object is sealed first (what is compared on a read-back is the plaintext).
    pub async fn put_new(&self, path: &str, data: Bytes) -> Result<Created> {
        match self.target(path, true)? {
            Target::Plain(path) => self.put_new_raw(&path, data).await,
            Target::Sealed { physical, vault, .. } => {
                let sealed = seal_object_off_worker(&vault, path, data).await?;
                self.put_new_raw(&physical, sealed).await
            }
        }
    }

    async fn put_new_raw(&self, path: &str, data: Bytes) -> Result<Created> {
        if self.create_only().await == CreateOnly::LookFirst {
            if self.stat_raw(path).await?.is_some() {
                return Ok(Created::Exists);
            }
            self.put_raw(path, data).await?;
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

    /// Bytes `start..end` of an object kept in the clear (the inbox, a plaintext locker's
    /// objects). Parts of blobs are read with [`Storage::read_part_range`].
    pub async fn read_range(&self, path: &str, start: u64, end: u64) -> Result<Bytes> {
        match self.target(path, false)? {
            Target::Plain(path) => self
                .read_range_raw(&path, start, end)
                .await?
                .ok_or_else(|| LockerError::NotFound(format!("{path} is not in the locker"))),
            Target::Sealed { .. } => Err(LockerError::InvalidInput(format!(
                "{path} is sealed in this locker and cannot be read by plain byte range"
            ))),
        }
    }

    async fn read_range_raw(&self, path: &str, start: u64, end: u64) -> Result<Option<Bytes>> {
        match self.op.read_with(path).range(start..end).await {
            Ok(buffer) => Ok(Some(buffer.to_bytes())),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(LockerError::storage(format!("reading bytes {start}..{end} of {path}"), error)),
        }
    }

    /// One whole part of a blob, `part_len` bytes whose SHA-256 the manifest says is
    /// `part_hash`; `None` when it is missing. In an encrypted locker every chunk is
    /// authenticated on the way (the caller still checks the hash).
    pub async fn read_part(&self, path: &str, part_hash: &str, part_len: u64) -> Result<Option<Bytes>> {
        match self.target(path, false)? {
            Target::Plain(path) => self.read_capped_raw(&path, None, part_len, "the part", &path).await,
            Target::Sealed { physical, vault, legacy } => {
                let stored_len = vault.part_stored_len(part_len);
                match self.read_capped_raw(&physical, None, stored_len, "the part", path).await? {
                    Some(stored) => {
                        let hash = part_hash_bytes(path, part_hash)?;
                        let logical = path.to_owned();
                        let plain = open_off_worker(stored.len(), move || {
                            let span = vault.part_span(part_len, 0, part_len.max(1));
                            let mut plain = vault.open_part_span(&logical, &hash, &span, &stored)?;
                            plain.truncate(part_len as usize);
                            Ok(plain)
                        })
                        .await?;
                        Ok(Some(Bytes::from(plain)))
                    }
                    None => match legacy {
                        Some(legacy) => self.read_capped_raw(&legacy, None, part_len, "the part", path).await,
                        None => Ok(None),
                    },
                }
            }
        }
    }

    /// Bytes `from..to` of a part (see [`Storage::read_part`]): in an encrypted locker, the
    /// whole chunks they fall in are fetched in one request and opened, and nothing that fails
    /// authentication is returned.
    pub async fn read_part_range(
        &self,
        path: &str,
        part_hash: &str,
        part_len: u64,
        from: u64,
        to: u64,
    ) -> Result<Bytes> {
        let missing = || LockerError::NotFound(format!("{path} is missing from the locker"));
        let to = to.min(part_len);
        if from >= to {
            return Ok(Bytes::new());
        }
        match self.target(path, false)? {
            Target::Plain(path) => match self.read_range_raw(&path, from, to).await {
                Ok(found) => found.ok_or_else(missing),
                Err(error) if !error.is_transient() => match self.size_of_raw(&path).await {
                    Ok(Some(size)) if size != part_len => Err(LockerError::Integrity(format!(
                        "{path} in the locker holds {size} bytes instead of {part_len}"
                    ))),
                    _ => Err(error),
                },
                Err(error) => Err(error),
            },
            Target::Sealed { physical, vault, legacy } => {
                let span = vault.part_span(part_len, from, to);
                let stored = match self.read_range_raw(&physical, span.stored_start, span.stored_end).await {
                    Ok(Some(stored)) => stored,
                    Ok(None) => {
                        return match legacy {
                            Some(legacy) => self.read_range_raw(&legacy, from, to).await?.ok_or_else(missing),
                            None => Err(missing()),
                        };
                    }
                    // A range past the end of an object cut short is refused by some storages
                    // (416, or an early end of the body): that is the object's fault, not the
                    // network's, and trying again would not change it.
                    Err(error) if !error.is_transient() => {
                        return match self.size_of_raw(&physical).await {
                            Ok(Some(size)) if size != vault.part_stored_len(part_len) => {
                                Err(LockerError::Integrity(format!(
                                    "{path} in the locker fails its authentication: it was cut short"
                                )))
                            }
                            _ => Err(error),
                        };
                    }
                    Err(error) => return Err(error),
                };
                let hash = part_hash_bytes(path, part_hash)?;
                let logical = path.to_owned();
                let plain = open_off_worker(stored.len(), move || {
                    vault.open_part_span(&logical, &hash, &span, &stored)
                })
                .await?;
                let offset = (from - span.plain_start) as usize;
                let wanted = (to - from) as usize;
                plain.get(offset..offset + wanted).map(Bytes::copy_from_slice).ok_or_else(|| {
                    LockerError::Integrity(format!("{path} in the locker is shorter than its manifest says"))
                })
            }
        }
    }

    /// Whether a complete part of `part_len` bytes is stored under `path` (sealed, in an
    /// encrypted locker: a plaintext part left from before a conversion does not count).
    pub async fn has_part(&self, path: &str, part_len: u64) -> Result<bool> {
        match self.target(path, false)? {
            Target::Plain(path) => Ok(self.size_of_raw(&path).await? == Some(part_len)),
            Target::Sealed { physical, vault, .. } => {
                Ok(self.size_of_raw(&physical).await? == Some(vault.part_stored_len(part_len)))
            }
        }
    }

    /// Whether the sealed form of `path` exists (false in a plaintext locker).
    pub async fn has_sealed(&self, path: &str) -> Result<bool> {
        match self.target(path, false)? {
            Target::Sealed { physical, .. } => Ok(self.size_of_raw(&physical).await?.is_some()),
            Target::Plain(_) => Ok(false),
        }
    }

    /// An object in the clear under its own name, whatever the locker is (a conversion reads
    /// what it seals this way).
    pub async fn read_plaintext(&self, path: &str, cap: u64, what: &str) -> Result<Option<Bytes>> {
        self.read_capped_raw(path, None, cap, what, path).await
    }

    /// What a part of `part_len` bytes written now takes in the storage.
    pub fn stored_len_of_new_part(&self, part_len: u64) -> u64 {
        match self.vault() {
            Some(vault) => vault.part_stored_len(part_len),
            None => part_len,
        }
    }

    /// The size a complete part of `part_len` bytes has when stored sealed or not.
    pub fn stored_part_len(&self, sealed: bool, part_len: u64) -> u64 {
        match (sealed, self.vault()) {
            (true, Some(vault)) => vault.part_stored_len(part_len),
            _ => part_len,
        }
    }

    /// Writes one part of a blob: sealed in an encrypted locker, under a key of its own
    /// content, so the same part is always the same bytes.
    pub async fn put_part(&self, path: &str, data: Bytes) -> Result<()> {
        match self.target(path, true)? {
            Target::Plain(path) => self.put_raw(&path, data).await,
            Target::Sealed { physical, vault, .. } => {
                let logical = path.to_owned();
                let sealed = crate::upload::blocking(move || Ok(vault.seal_part(&logical, &data))).await?;
                self.put_raw(&physical, Bytes::from(sealed)).await
            }
        }
    }

    /// The size of an object as stored, or `None` when it does not exist.
    async fn size_of_raw(&self, path: &str) -> Result<Option<u64>> {
        match self.op.stat(path).await {
            Ok(meta) => Ok(Some(meta.content_length())),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(LockerError::storage(format!("looking up {path}"), error)),
        }
    }

    /// The object at a logical path (its sealed form first, during a conversion its plaintext
    /// one when there is no sealed one yet).
    pub async fn stat(&self, path: &str) -> Result<Option<ListedObject>> {
        match self.target(path, false)? {
            Target::Plain(physical) => Ok(self.stat_raw(&physical).await?.map(|object| ListedObject {
                path: path.to_owned(),
                sealed: false,
                ..object
            })),
            Target::Sealed { physical, legacy, .. } => {
                if let Some(object) = self.stat_raw(&physical).await? {
                    return Ok(Some(ListedObject { path: path.to_owned(), sealed: true, ..object }));
                }
                match legacy {
                    Some(legacy) => Ok(self.stat_raw(&legacy).await?),
                    None => Ok(None),
                }
            }
        }
    }

    async fn stat_raw(&self, path: &str) -> Result<Option<ListedObject>> {
        match self.op.stat(path).await {
            Ok(meta) => Ok(Some(ListedObject {
                path: path.to_owned(),
                size: meta.content_length(),
                modified_ms: meta.last_modified().map(|at| at.into_inner().as_millisecond()),
                sealed: false,
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
        let physical = match (object.sealed, self.target(&object.path, false)?) {
            (true, Target::Sealed { physical, .. }) => physical,
            _ => object.path.clone(),
        };
        Ok(self.stat_raw(&physical).await?.and_then(|found| found.modified_ms))
    }

    /// Writes an object so that no reader ever sees it half-written under `path`, sealed in
    /// an encrypted locker.
    pub async fn put(&self, path: &str, data: Bytes) -> Result<()> {
        match self.target(path, true)? {
            Target::Plain(path) => self.put_raw(&path, data).await,
            Target::Sealed { physical, vault, .. } => {
                let sealed = seal_object_off_worker(&vault, path, data).await?;
                self.put_raw(&physical, sealed).await
            }
        }
    }

    async fn put_raw(&self, path: &str, data: Bytes) -> Result<()> {
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

    /// Deletes the object at a logical path (during a conversion, its plaintext form too).
    pub async fn delete(&self, path: &str) -> Result<()> {
        match self.target(path, true)? {
            Target::Plain(path) => self.delete_raw(&path).await,
            Target::Sealed { physical, legacy, .. } => {
                self.delete_raw(&physical).await?;
                match legacy {
                    Some(legacy) => self.delete_raw(&legacy).await,
                    None => Ok(()),
                }
            }
        }
    }

    /// Deletes an object in the clear under its own name, whatever the locker is: what is
    /// left in plaintext once a conversion has finished.
    pub async fn delete_plaintext(&self, path: &str) -> Result<()> {
        self.delete_raw(path).await
    }

    async fn delete_raw(&self, path: &str) -> Result<()> {
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

    /// Every object under the logical folder `dir` (which ends with '/'), at any depth, by
    /// logical path. In an encrypted locker: the sealed objects whose names this key opens
    /// (anything else there is not ours and is left out), and during a conversion also the
    /// plaintext ones that have no sealed form yet. A missing folder is empty.
    pub async fn list_files(&self, dir: &str) -> Result<Vec<ListedObject>> {
        match self.target(dir, false)? {
            Target::Plain(dir) => self.list_raw(&dir).await,
            Target::Sealed { physical, vault, legacy } => {
                let mut listed: Vec<ListedObject> = Vec::new();
                for object in self.list_raw(&physical).await? {
                    match vault.logical(&object.path) {
                        Some(logical) if logical.starts_with(dir) => {
                            listed.push(ListedObject { path: logical, sealed: true, ..object });
                        }
                        _ => tracing::debug!(path = %object.path, "an object this locker's key did not name"),
                    }
                }
                if let Some(legacy) = legacy {
                    let sealed: std::collections::HashSet<String> =
                        listed.iter().map(|object| object.path.clone()).collect();
                    listed.extend(
                        self.list_raw(&legacy)
                            .await?
                            .into_iter()
                            .filter(|object| !sealed.contains(&object.path)),
                    );
                }
                Ok(listed)
            }
        }
    }

    /// The objects stored in the clear under `dir`, whatever the locker is: what a conversion
    /// still has to seal, or to delete once it has finished.
    pub async fn list_plaintext(&self, dir: &str) -> Result<Vec<ListedObject>> {
        self.list_raw(dir).await
    }

    async fn list_raw(&self, dir: &str) -> Result<Vec<ListedObject>> {
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
                sealed: false,
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

fn locked() -> LockerError {
    LockerError::Locked(
        "This locker is encrypted and this device has not unlocked it; enter its passphrase".into(),
    )
}

/// The 32 bytes of a part's SHA-256 from its manifest (validated there, so this fails only on
/// a caller's mistake).
fn part_hash_bytes(path: &str, part_hash: &str) -> Result<[u8; 32]> {
    data_encoding::HEXLOWER
        .decode(part_hash.as_bytes())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
        .ok_or_else(|| LockerError::Format(format!("the manifest gives {path} a hash that is not a SHA-256")))
}

/// Objects above this are sealed and opened on the blocking pool, not on a runtime worker.
const CRYPT_INLINE_BYTES: usize = 256 * 1024;

async fn open_off_worker<T: Send + 'static>(
    len: usize,
    open: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    if len <= CRYPT_INLINE_BYTES { open() } else { crate::upload::blocking(open).await }
}

async fn seal_object_off_worker(vault: &Arc<Vault>, path: &str, data: Bytes) -> Result<Bytes> {
    let (vault, logical) = (vault.clone(), path.to_owned());
    open_off_worker(data.len(), move || vault.seal_object(&logical, &data).map(Bytes::from)).await
}
