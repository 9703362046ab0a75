//! The locker as the service offers it to front ends: connecting, status, quota, uploads, sync,
//! removal, check, collection and compaction. Each is a blocking call (front ends call it off
//! their UI threads); the work runs on the service's runtime, through the session that owns the
//! open locker ([`crate::session`]). The URL lives in `settings.json`; credentials come from the
//! environment or the OS keychain, never a file.

use std::path::PathBuf;
use std::sync::Arc;

use loft_library::LockerApplied;
use loft_locker::{Credentials, LockerError, LockerStatus, UploadReport};

use crate::session::{Opened, blocking, resolve_credentials};
use crate::sync::SyncSummary;
use crate::{CoreError, Event, Loft};

impl Loft {
    /// Connects the locker at `url` (`s3://bucket/prefix?endpoint=…&region=…`,
    /// `webdav+https://host/path`, `file:///path`), creating it in an empty location, and
    /// brings its tracks into the library. `credentials` are what the user typed: they are
    /// stored in the OS keychain, and where there is none the connection is refused with a
    /// message saying to use the environment variables instead (never a file). Without them,
    /// the environment's or the keychain's are used.
    pub fn connect_locker(
        &self,
        url: &str,
        credentials: Option<Credentials>,
    ) -> Result<LockerStatus, CoreError> {
        self.connect_locker_with(url, credentials, LockerKeying::default())
    }

    /// [`Loft::connect_locker`] for an encrypted locker: `keying` gives the passphrase of an
    /// existing one, or the passphrase to create one with in an empty location. An encrypted
    /// locker with no passphrase given, in the environment or in the keychain connects locked
    /// (its status says so; [`Loft::unlock_locker`] opens it).
    pub fn connect_locker_with(
        &self,
        url: &str,
        credentials: Option<Credentials>,
        keying: LockerKeying,
    ) -> Result<LockerStatus, CoreError> {
        let url = url.trim().to_owned();
        let previous = self.settings().locker_url;
        let hub = self.hub.clone();
        let opened = self.hub.block_on(async {
            let from_user = credentials.is_some();
            let credentials = match credentials {
                Some(given) => given,
                None => resolve_credentials(&url).await?,
            };
            let given = crate::session::Given {
                credentials: Some(credentials.clone()),
                secret: keying.passphrase.map(loft_locker::LockerSecret::passphrase),
                new_passphrase: keying.create_with,
            };
            let opened = hub.session.open_with(&url, given).await?;
            if from_user {
                let key = url.clone();
                blocking(move || credentials.save_to_keychain(&key)).await.map_err(|error| {
                    LockerError::Credentials(format!(
                        "Loft cannot keep these credentials ({error}); set {} in the environment \
                         instead (Loft never writes them to a file)",
                        env_names(&url)
                    ))
                })?;
            }
            Ok::<_, CoreError>(opened)
        })?;
        if previous.as_deref() != Some(url.as_str()) {
            // The index holds the copies of one locker at a time.
            self.background.stop(false);
            let removed = self.library().clear_locker_copies()?;
            if removed > 0 {
                self.events().emit(Event::LibraryChanged { added: 0, updated: 0, moved: 0, removed });
            }
        }
        self.update_settings(|settings| settings.locker_url = Some(url.clone()))?;
        tracing::info!(%url, "locker connected");
        if !opened.locker.is_locked() {
            self.hub.block_on(self.hub.sync_and_apply(&opened.locker, true))?;
        }
        if self.background.wanted() {
            self.start_locker_sync();
        }
        self.hub.block_on(async { self.hub.session.note(opened.locker.status().await) })
    }

    /// Tries the locker at `url` step by step without connecting it ("Test connection"): the
    /// answer names the step that failed (name resolution, connection, TLS, credentials,
    /// bucket, permission) with a message for the user. `credentials` are what the user typed;
    /// without them, the environment's or the keychain's are tried.
    pub fn test_locker_connection(
        &self,
        url: &str,
        credentials: Option<Credentials>,
    ) -> Result<loft_locker::ConnectionCheck, CoreError> {
        let url = url.trim().to_owned();
        self.hub.block_on(async {
            let credentials = match credentials {
                Some(given) => given,
                None => match resolve_credentials(&url).await {
                    Ok(found) => found,
                    Err(error) => {
                        return Ok(loft_locker::ConnectionCheck {
                            ok: false,
                            step: "credentials",
                            message: error.to_string(),
                            locker_exists: false,
                        });
                    }
                },
            };
            Ok(loft_locker::check_connection(&url, &credentials).await)
        })
    }

    /// Disconnects the locker: its tracks leave the library (local files stay), nothing in the
    /// locker changes. Returns how many tracks left the library.
    pub fn disconnect_locker(&self) -> Result<u64, CoreError> {
        self.background.stop(false);
        self.update_settings(|settings| settings.locker_url = None)?;
        self.hub.block_on(self.hub.session.close());
        let removed = self.library().clear_locker_copies()?;
        if removed > 0 {
            self.events().emit(Event::LibraryChanged { added: 0, updated: 0, moved: 0, removed });
        }
        tracing::info!(removed, "locker disconnected");
        Ok(removed)
    }

    /// Usage, quota, tracks, devices, the last sync and the edits waiting to be written, of the
    /// connected locker; `None` when none is connected. Out of reach, what this device knows.
    pub fn locker_status(&self) -> Result<Option<LockerStatus>, CoreError> {
        let Some(opened) = self.connected()? else { return Ok(None) };
        let locker = opened.locker;
        self.hub.block_on(async {
            let fresh = async {
                locker.refresh_locker_file().await?;
                locker.status().await
            };
            match self.hub.session.note(fresh.await) {
                Ok(status) => Ok(Some(status)),
                // Out of reach, or encrypted and not unlocked here: what this device knows,
                // with the status saying which.
                Err(CoreError::Locker(error))
                    if error.is_transient() || error.kind() == loft_locker::ErrorKind::Locked =>
                {
                    Ok(Some(locker.known_status().await))
                }
                Err(error) => Err(error),
            }
        })
    }

    /// This device's copy of the connected locker's catalog (what it merged at its last sync,
    /// with its own edits since); `None` when no locker is connected.
    pub fn locker_catalog(&self) -> Result<Option<loft_locker::CatalogState>, CoreError> {
        let Some(opened) = self.connected()? else { return Ok(None) };
        Ok(Some(self.hub.block_on(opened.locker.catalog())))
    }

    /// Changes the locker's quota, for every device.
    pub fn set_locker_quota(&self, bytes: u64) -> Result<LockerStatus, CoreError> {
        let locker = self.connected_locker()?;
        let status = self.hub.block_on(async {
            locker.set_quota(bytes).await?;
            locker.status().await
        });
        self.hub.session.note(status)
    }

    /// Uploads files and folders (recursively, audio files only), reporting `UploadProgress`
    /// events and an `UploadFinished` one. Files already in the locker send no audio; a file
    /// that fails (over the quota, not audio, changed while sending) is reported with its
    /// reason and the others go on. Uploaded tracks join the library at once.
    pub fn upload(&self, paths: &[PathBuf]) -> Result<UploadReport, CoreError> {
        let locker = self.connected_locker()?;
        // The index knows files by their canonical path: an upload of a library file given as
        // `music/a.flac` must find it.
        let paths =
            paths.iter().map(|path| std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())).collect();
        self.hub.block_on(self.uploads.upload_and_apply(&locker, paths, None, None))
    }

    /// Writes this device's waiting edits, pulls what every device changed (and imports the
    /// inbox) and applies it to the library.
    pub fn sync_locker(&self) -> Result<SyncSummary, CoreError> {
        let url = self.settings().locker_url.ok_or_else(not_connected)?;
        self.hub.block_on(async {
            let opened = self.hub.session.locker(&url).await?;
            self.hub.sync_and_apply(&opened.locker, false).await
        })
    }

    /// Reads the whole locker back and reports what is damaged, missing or unreadable (and what
    /// is merely unreferenced), as `loft locker check` does. Every referenced blob is downloaded
    /// and hashed, so this takes as long as downloading the locker. `progress` hears blobs
    /// verified, blobs to verify and bytes read. The result is kept for
    /// [`Loft::last_locker_check`].
    pub fn check_locker(
        &self,
        progress: Option<Arc<loft_locker::CheckProgress>>,
    ) -> Result<loft_locker::CheckReport, CoreError> {
        let locker = self.connected_locker()?;
        self.hub.block_on(async {
            let report = self.hub.session.note(locker.check(progress).await)?;
            // The check pulled the catalog itself: bring the index up to what it saw.
            self.hub.sync_and_apply(&locker, false).await?;
            self.events().emit(Event::LockerChecked { damaged: report.has_damage() });
            Ok(report)
        })
    }

    /// The result of the last check of the connected locker on this device, if one ran.
    pub fn last_locker_check(&self) -> Result<Option<loft_locker::CheckReport>, CoreError> {
        let Some(opened) = self.connected()? else { return Ok(None) };
        Ok(self.hub.block_on(opened.locker.last_check()))
    }

    /// Collects unreferenced blobs (see [`loft_locker::Locker::gc`]): deletes what no device can
    /// still reference once the grace period has passed on the storage's clock, or says why it
    /// will not run.
    pub fn collect_locker_garbage(
        &self,
        options: loft_locker::GcOptions,
    ) -> Result<loft_locker::GcReport, CoreError> {
        let locker = self.connected_locker()?;
        self.hub.block_on(async {
            let report = self.hub.session.note(locker.gc(options).await)?;
            self.hub.sync_and_apply(&locker, false).await?;
            Ok(report)
        })
    }

    /// Writes a snapshot of the catalog and deletes the log files every device has applied.
    pub fn compact_locker(&self) -> Result<(), CoreError> {
        let locker = self.connected_locker()?;
        self.hub.block_on(async { self.hub.session.note(locker.snapshot_and_compact().await) })
    }

    /// Removes a library track's copy from the locker (for every device). A local file of it
    /// stays, and so does the track; a track only in the locker leaves the library. Works out
    /// of reach too: the removal waits in the outbox.
    pub fn remove_from_locker(&self, track_id: i64) -> Result<LockerApplied, CoreError> {
        let locker = self.connected_locker()?;
        let copy = self
            .library()
            .locker_copy(track_id)?
            .ok_or_else(|| LockerError::NotFound(format!("track {track_id} is not in the locker")))?;
        self.hub.block_on(async { self.hub.session.note(locker.remove_track(&copy.id).await) })?;
        let applied = self.library().apply_locker_changes(&[], std::slice::from_ref(&copy.id))?;
        crate::index::emit_library_changed(self.events(), &applied, 0);
        self.hub.block_on(self.hub.emit_pending(&locker));
        Ok(applied)
    }

    /// Starts the background loop (the desktop app calls this once at start): it resumes
    /// interrupted uploads, syncs at once and then every minute, and whenever
    /// [`Loft::request_locker_sync`] asks. Does nothing when no locker is connected or the loop
    /// runs already; a locker connected later starts it then. `LockerUnreachable` and
    /// `LockerReachable` events tell when the locker stops or starts answering.
    pub fn start_locker_sync(&self) {
        // From now on edits return at once and the loop writes them (woken by each edit).
        self.hub.session.push_in_background(true);
        match self.settings().locker_url {
            Some(url) => self.background.start(&self.hub, &self.uploads, &url),
            None => self.background.want(),
        }
    }

    /// Asks the background loop to sync now (after the user pressed "sync", or the window came
    /// back to the front).
    pub fn request_locker_sync(&self) {
        self.background.wake();
    }

    pub fn stop_locker_sync(&self) {
        self.background.stop(true);
        self.hub.session.push_in_background(false);
    }

    /// Whether the connected locker answered the last time this process asked (true when
    /// none is connected or nothing was asked yet): what the window's offline indicator shows.
    pub fn locker_reachable(&self) -> bool {
        self.hub.session.seems_reachable()
    }

    /// The open locker the settings name, opened now if this process has not yet (with the
    /// environment's or the keychain's credentials; from what this device kept when the locker
    /// is out of reach). A locker opened by this call is synced first: the catalog it starts
    /// from is the one its last sync kept, which lacks what other devices did since. `None`
    /// when no locker is connected.
    pub(crate) fn connected(&self) -> Result<Option<Opened>, CoreError> {
        let Some(url) = self.settings().locker_url else { return Ok(None) };
        self.hub.block_on(async {
            let opened = self.hub.session.locker(&url).await?;
            if opened.fresh
                && !opened.locker.is_locked()
                && let Err(error) = self.hub.sync_and_apply(&opened.locker, false).await
            {
                // Out of reach, or locked (another device encrypted it): what this device knows
                // will do; the status says which, and the loop syncs later.
                let waits = |locker: &LockerError| {
                    locker.is_transient() || locker.kind() == loft_locker::ErrorKind::Locked
                };
                if !matches!(&error, CoreError::Locker(locker) if waits(locker)) {
                    return Err(error);
                }
            }
            Ok(Some(opened))
        })
    }

    pub(crate) fn connected_locker(&self) -> Result<loft_locker::Locker, CoreError> {
        Ok(self.connected()?.ok_or_else(not_connected)?.locker)
    }
}

/// How to open an encrypted locker when connecting it.
#[derive(Debug, Clone, Default)]
pub struct LockerKeying {
    /// The passphrase of an encrypted locker that exists.
    pub passphrase: Option<String>,
    /// Create the locker encrypted, with this passphrase, when the location is empty.
    pub create_with: Option<String>,
}

pub(crate) fn not_connected() -> CoreError {
    CoreError::InvalidInput(
        "No locker is connected; connect one first (`loft locker connect URL`)".to_owned(),
    )
}

/// The environment variables that give credentials for this kind of locker.
fn env_names(url: &str) -> &'static str {
    if url.starts_with("s3:") {
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    } else {
        "LOFT_WEBDAV_USER and LOFT_WEBDAV_PASSWORD"
    }
}
