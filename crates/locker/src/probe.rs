//! "Test connection": tries a locker location step by step, as the connect form needs it, and
//! says which step failed — the name, the connection, TLS, the credentials, the bucket or
//! collection, the permission to write — instead of one opaque storage error.

use std::time::Duration;

use bytes::Bytes;
use reqwest::Url;
use serde::Serialize;

use crate::error::{ErrorKind, LockerError};
use crate::format::{LOCKER_FILE, LockerFile, TMP_DIR};
use crate::location::{Credentials, LockerLocation};
use crate::storage::{RetryPolicy, Storage};

/// How long each network step may take before it counts as failed.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// What a connection test found. `step` names the step that failed, or is "ok".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct ConnectionCheck {
    pub ok: bool,
    /// "ok", or the failed step: "url", "name_resolution", "connection", "tls", "credentials",
    /// "bucket", "permission", "format" or "storage".
    pub step: &'static str,
    /// For the user: what worked, or what failed and what to do about it.
    pub message: String,
    /// Whether the location already holds a Loft locker (else connecting creates one).
    pub locker_exists: bool,
}

impl ConnectionCheck {
    fn failed(step: &'static str, message: String) -> ConnectionCheck {
        ConnectionCheck { ok: false, step, message, locker_exists: false }
    }
}

/// Tries the locker at `url` with `credentials`, changing nothing there but a probe object
/// it writes and deletes again under `tmp/`.
pub async fn check_connection(url: &str, credentials: &Credentials) -> ConnectionCheck {
    let location = match LockerLocation::parse(url) {
        Ok(location) => location,
        Err(error) => return ConnectionCheck::failed("url", error.to_string()),
    };
    if let Some(endpoint) = network_endpoint(&location)
        && let Err(failed) = check_network(&endpoint).await
    {
        return failed;
    }
    let retry = RetryPolicy { retries: 0, request_timeout: STEP_TIMEOUT, ..RetryPolicy::default() };
    let storage = match Storage::connect(&location, credentials, retry) {
        Ok(storage) => storage,
        Err(error) => return from_storage_error(&location, error, false),
    };
    if let Err(error) = storage.check_container().await {
        return from_storage_error(&location, error, false);
    }
    let locker_exists = match storage
        .read_capped(LOCKER_FILE, None, crate::format::MAX_LOCKER_FILE_BYTES, "the locker file")
        .await
    {
        Ok(Some(bytes)) => match LockerFile::parse(&bytes) {
            Ok(_) => true,
            Err(error) => return ConnectionCheck::failed("format", error.to_string()),
        },
        Ok(None) => false,
        Err(error) => return from_storage_error(&location, error, false),
    };
    let probe = format!("{TMP_DIR}connection-test-{}", uuid::Uuid::new_v4());
    if let Err(error) = storage.put(&probe, Bytes::from_static(b"loft")).await {
        return from_storage_error(&location, error, true);
    }
    if let Err(error) = storage.delete(&probe).await {
        return from_storage_error(&location, error, true);
    }
    let message = if locker_exists {
        format!("Connected: the {} holds a Loft locker, readable and writable.", location.describe())
    } else {
        format!(
            "Connected: the {} is readable and writable; connecting makes a new locker there.",
            location.describe()
        )
    };
    ConnectionCheck { ok: true, step: "ok", message, locker_exists }
}

/// The HTTP(S) endpoint a network locker talks to; `None` for a folder.
fn network_endpoint(location: &LockerLocation) -> Option<String> {
    match location {
        LockerLocation::S3 { endpoint: Some(endpoint), .. } => Some(endpoint.clone()),
        LockerLocation::S3 { endpoint: None, region, .. } => {
            Some(format!("https://s3.{}.amazonaws.com", region.as_deref().unwrap_or("us-east-1")))
        }
        LockerLocation::WebDav { server, .. } => Some(server.clone()),
        LockerLocation::Folder { .. } => None,
    }
}

/// Name resolution, then a TCP connection, then (for https) a TLS handshake: each failure is
/// its own answer, since each has its own fix.
async fn check_network(endpoint: &str) -> Result<(), ConnectionCheck> {
    let url = Url::parse(endpoint).map_err(|error| {
        ConnectionCheck::failed("url", format!("the endpoint {endpoint} is not a URL: {error}"))
    })?;
    let host = url
        .host_str()
        .ok_or_else(|| ConnectionCheck::failed("url", format!("the endpoint {endpoint} names no host")))?
        .trim_matches(|c| c == '[' || c == ']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses = match tokio::time::timeout(STEP_TIMEOUT, tokio::net::lookup_host((host.as_str(), port)))
        .await
    {
        Ok(Ok(addresses)) => addresses.collect::<Vec<_>>(),
        Ok(Err(error)) => {
            return Err(ConnectionCheck::failed(
                "name_resolution",
                format!("The name {host} cannot be resolved ({error}). Check the spelling and the network."),
            ));
        }
        Err(_) => {
            return Err(ConnectionCheck::failed(
                "name_resolution",
                format!("Resolving {host} took over {} s. Check the network.", STEP_TIMEOUT.as_secs()),
            ));
        }
    };
    let Some(address) = addresses.first() else {
        return Err(ConnectionCheck::failed("name_resolution", format!("The name {host} has no address.")));
    };
    match tokio::time::timeout(STEP_TIMEOUT, tokio::net::TcpStream::connect(address)).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => {
            return Err(ConnectionCheck::failed(
                "connection",
                format!(
                    "Nothing answers at {host}:{port} ({error}). Is the server running, and the port right?"
                ),
            ));
        }
        Err(_) => {
            return Err(ConnectionCheck::failed(
                "connection",
                format!("{host}:{port} did not answer within {} s (a firewall?).", STEP_TIMEOUT.as_secs()),
            ));
        }
    }
    if url.scheme() == "https" {
        let client = reqwest::Client::builder()
            .timeout(STEP_TIMEOUT)
            .build()
            .map_err(|error| ConnectionCheck::failed("tls", format!("cannot set up TLS: {error}")))?;
        // Any HTTP answer, even a refusal, proves the handshake; the TCP connection worked a
        // moment ago, so a failure to connect now is the TLS layer's.
        if let Err(error) = client.head(url.clone()).send().await
            && (error.is_connect() || error.is_request())
        {
            return Err(ConnectionCheck::failed(
                "tls",
                format!(
                    "The secure connection to {host}:{port} failed ({}). Check that the server speaks \
                     HTTPS on that port and that its certificate is valid for {host}.",
                    crate::http::error_chain(&error)
                ),
            ));
        }
    }
    Ok(())
}

/// Names the step a storage error belongs to. `writing` tells a refusal to write (permission)
/// from a refusal of the credentials themselves.
fn from_storage_error(location: &LockerLocation, error: LockerError, writing: bool) -> ConnectionCheck {
    let detail = error.to_string();
    tracing::info!(error = %error.detail(), "the connection test failed");
    match error.kind() {
        ErrorKind::Credentials if !writing => ConnectionCheck::failed(
            "credentials",
            format!(
                "The {} refused the credentials. Check the access key and secret, or the user name and password.",
                location.describe()
            ),
        ),
        ErrorKind::Credentials | ErrorKind::Permission => ConnectionCheck::failed(
            "permission",
            format!(
                "The credentials were accepted, but they may not {} the {}.",
                if writing { "write to" } else { "list" },
                location.describe()
            ),
        ),
        ErrorKind::NotFound => ConnectionCheck::failed(
            "bucket",
            format!("The {} does not exist. Create it first, or check its name.", location.describe()),
        ),
        ErrorKind::Network => ConnectionCheck::failed("connection", detail),
        ErrorKind::Format => ConnectionCheck::failed("format", detail),
        ErrorKind::Io if writing => ConnectionCheck::failed(
            "permission",
            format!("The {} cannot be written to ({detail}).", location.describe()),
        ),
        // A folder that cannot be made: its parent (a NAS mount, say) is missing.
        ErrorKind::Io => ConnectionCheck::failed("bucket", detail),
        _ => ConnectionCheck::failed("storage", detail),
    }
}
