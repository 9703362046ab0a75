//! [`Locker`]: one open locker, for one device.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::catalog::{CatalogState, Change, Playlist, Track, TrackTags, position_between, wall_clock_ms};
use crate::error::{LockerError, Result};
use crate::format::{self, LockerFile};
use crate::local::{LocalState, to_json};
use crate::location::{Credentials, LockerLocation};
use crate::quota::{BackendQuota, DEFAULT_QUOTA};
use crate::storage::{RetryPolicy, Storage};

/// How a locker is opened. The defaults suit the app; tests shrink parts and delays.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub retry: RetryPolicy,
    /// Parts of one file the upload pipeline holds at once: one being sent, the others read and
    /// checked ahead (at least one is, whatever this says). Only one part's body per file is ever
    /// on the wire, so a killed upload sends at most one part of it again when it resumes.
    pub parts_in_flight: usize,
    /// Files uploaded at once.
    pub files_in_flight: usize,
    /// The part size written into locker.json when this device creates the locker.
    pub new_locker_part_size: u64,
    /// The quota written into locker.json when this device creates the locker.
    pub new_locker_quota: u64,
    /// Create locker.json when the location has none (connecting to an empty bucket or folder).
    pub create_if_missing: bool,
    /// An inbox file is imported only once it has not changed for this long, so a file still
    /// being copied in by another tool is left alone.
    pub inbox_settle: Duration,
    /// After this many log files beyond the newest snapshot, a sync writes a new snapshot and
    /// compacts.
    pub snapshot_after_log_files: usize,
    /// Uploads commit their catalog ops in batches of this many files.
    pub ops_per_log_file: usize,
    /// Unlocks an encrypted locker (else: the key kept in the OS keychain, then
    /// `LOFT_LOCKER_PASSPHRASE` or `LOFT_LOCKER_RECOVERY_KEY`; with none of them the locker
    /// opens locked, see [`Locker::unlock`]).
    pub secret: Option<crate::crypt::LockerSecret>,
    /// Creates an empty location as an encrypted locker with this passphrase.
    pub new_locker_passphrase: Option<zeroize::Zeroizing<String>>,
    /// Keep an encrypted locker's key in the OS keychain (and look for it there). Off, the key
    /// lives in memory only and every start needs the passphrase.
    pub use_keychain: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            retry: RetryPolicy::default(),
            parts_in_flight: 4,
            files_in_flight: 3,
            new_locker_part_size: format::DEFAULT_PART_SIZE,
            new_locker_quota: DEFAULT_QUOTA,
            create_if_missing: true,
            inbox_settle: Duration::from_secs(60),
            snapshot_after_log_files: 64,
            ops_per_log_file: 32,
            secret: None,
            new_locker_passphrase: None,
            use_keychain: true,
        }
    }
}

/// An open locker. Cheap to clone; all clones share one state. Every method is async and expects
/// a multi-threaded tokio runtime: file hashing and reading run on its blocking pool.
#[derive(Clone)]
pub struct Locker {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub storage: Storage,
    pub url: String,
    pub device: String,
    pub state_dir: PathBuf,
    pub options: OpenOptions,
    pub locker_file: std::sync::Mutex<LockerFile>,
    /// The merged catalog and this device's clock and log position. Held across the writes
    /// that append to this device's log, so two writers in one process never take one seq.
    pub local: tokio::sync::Mutex<LocalState>,
    /// Held while this device's outbox is written to its log: one pusher at a time.
    pub pushing: tokio::sync::Mutex<()>,
    /// Whether this process has checked its next seq against the listing of its log folder (at
    /// open, or at the first push of a locker opened out of reach).
    pub seq_checked: std::sync::atomic::AtomicBool,
    /// Whether an edit pushes the outbox before it returns ([`Locker::set_push_on_commit`]).
    pub push_on_commit: std::sync::atomic::AtomicBool,
    /// A routine sync ran in this process (the first one writes whatever waits).
    pub routine_synced: std::sync::atomic::AtomicBool,
    /// When the last push failed on the network.
    pub push_failed_at: std::sync::Mutex<Option<std::time::Instant>>,
}

/// What `status()` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct LockerStatus {
    pub url: String,
    pub locker_id: String,
    pub device: String,
    pub usage_bytes: u64,
    pub quota_bytes: u64,
    pub tracks: usize,
    pub playlists: usize,
    pub devices: Vec<DeviceInfo>,
    pub last_sync_ms: Option<u64>,
    /// What the storage itself reports (WebDAV RFC 4331), where it does.
    pub backend_quota: Option<BackendQuota>,
    /// This device's edits not yet written to the locker.
    pub pending_changes: usize,
    /// Whether these figures come from the locker now (else: what this device knew when it last
    /// reached it).
    pub reached: bool,
    /// Whether the locker is encrypted, unlocked here, or being converted.
    pub encryption: crate::encryption::EncryptionState,
}

/// A device that has synced with the locker (`catalog/devices/<id>.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
// The name the TypeScript bindings give it, apart from the audio output's `DeviceInfo`; a JSON
// object carries no type name, so what is written and read stays the same.
#[cfg_attr(feature = "ipc-types", serde(rename = "LockerDevice"))]
pub struct DeviceInfo {
    pub device: String,
    pub last_sync_ms: u64,
    /// For each device's log, the highest seq this device has applied.
    pub seen: BTreeMap<String, u64>,
}

impl DeviceInfo {
    fn is_valid(&self) -> bool {
        format::is_plain_id(&self.device)
            && self.seen.iter().all(|(device, seq)| format::is_plain_id(device) && *seq <= format::MAX_SEQ)
    }
}

impl Locker {
    /// Opens the locker at `url` as device `device_id`, keeping local state (the catalog cache,
    /// upload journals) in `state_dir`. Creates locker.json in an empty location. Fails with a
    /// clear error for wrong credentials, a missing bucket, an unreachable endpoint or a locker
    /// written by a newer Loft.
    pub async fn open(
        url: &str,
        credentials: Credentials,
        device_id: &str,
        state_dir: &Path,
    ) -> Result<Locker> {
        Locker::open_with(url, credentials, device_id, state_dir, OpenOptions::default()).await
    }

    pub async fn open_with(
        url: &str,
        credentials: Credentials,
        device_id: &str,
        state_dir: &Path,
        options: OpenOptions,
    ) -> Result<Locker> {
        format::check_device_id(device_id)?;
        if options.parts_in_flight == 0 || options.files_in_flight == 0 || options.ops_per_log_file == 0 {
            return Err(LockerError::InvalidInput(
                "parts_in_flight, files_in_flight and ops_per_log_file must be at least 1".into(),
            ));
        }
        let location = LockerLocation::parse(url)?;
        let storage = Storage::connect(&location, &credentials, options.retry)?;
        let read = storage
            .read_capped(format::LOCKER_FILE, None, format::MAX_LOCKER_FILE_BYTES, "the locker file")
            .await
            .map_err(|error| explain_open(&location, error));
        let mut new_key = None;
        let (locker_file, offline) = match read {
            Ok(Some(bytes)) => (LockerFile::parse(&bytes)?, false),
            Ok(None) if options.create_if_missing => {
                let (file, key) = create_locker_file(&storage, &location, &options).await?;
                new_key = key;
                (file, false)
            }
            Ok(None) => {
                return Err(LockerError::NotFound(format!("there is no locker at {url} (no locker.json)")));
            }
            // Out of reach: a locker this device opened before opens from what it kept, so edits
            // go on (into the outbox) and cached audio plays; the storage is asked again at the
            // next request.
            Err(error) if error.is_transient() => match kept_locker_file(state_dir, url).await {
                Some(kept) => {
                    tracing::info!(%url, "the locker cannot be reached; opening it from what this device kept");
                    (kept, true)
                }
                None => return Err(error),
            },
            Err(error) => return Err(error),
        };
        if !offline
            && let Some(kept) = kept_locker_file(state_dir, url).await
            && kept.locker_id == locker_file.locker_id
        {
            crate::encryption::refuse_downgrade(&kept, &locker_file)?;
        }
        if options.new_locker_passphrase.is_some() && locker_file.encryption.is_none() {
            // Asked to make an encrypted locker where a plaintext one exists: converting it is
            // a step of its own, never a side effect of connecting.
            return Err(LockerError::InvalidInput(
                "There is already an unencrypted locker there; encrypt it with `loft locker encrypt` \
                 (or the Encrypt button) instead"
                    .into(),
            ));
        }
        crate::encryption::install_crypt(&storage, &locker_file, &options, options.secret.as_ref(), new_key)
            .await?;
        tokio::fs::create_dir_all(state_dir.join("uploads")).await.map_err(|error| {
            LockerError::io(format!("cannot create the state folder {}", state_dir.display()), error)
        })?;
        crate::local::clean_leftovers(state_dir).await;
        if !offline {
            keep_locker_file(state_dir, url, &locker_file).await;
            // Asked now, at connect, rather than in the middle of the first commit.
            let create_only = storage.create_only().await;
            tracing::debug!(?create_only, "the locker's create-only writes");
        }
        let local = LocalState::load(state_dir, &locker_file.locker_id, device_id).await;
        let locker = Locker {
            inner: Arc::new(Inner {
                storage,
                url: url.to_owned(),
                device: device_id.to_owned(),
                state_dir: state_dir.to_owned(),
                options,
                locker_file: std::sync::Mutex::new(locker_file),
                local: tokio::sync::Mutex::new(local),
                pushing: tokio::sync::Mutex::new(()),
                seq_checked: std::sync::atomic::AtomicBool::new(false),
                push_on_commit: std::sync::atomic::AtomicBool::new(true),
                routine_synced: std::sync::atomic::AtomicBool::new(false),
                push_failed_at: std::sync::Mutex::new(None),
            }),
        };
        if !offline && !locker.is_locked() {
            locker.recover_next_seq().await?;
        }
        Ok(locker)
    }

    /// Makes sure this device never reuses a seq of its own log, even when its state folder was
    /// lost or restored from an old backup: compaction always keeps each device's newest log
    /// file, so the listing says how far the device got.
    pub(crate) async fn recover_next_seq(&self) -> Result<()> {
        let highest_listed = self.highest_own_seq().await?;
        let mut local = self.inner.local.lock().await;
        local.next_seq = local.next_seq.max(highest_listed.map_or(0, |seq| seq.saturating_add(1)));
        self.inner.seq_checked.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    pub fn url(&self) -> &str {
        &self.inner.url
    }

    pub fn device_id(&self) -> &str {
        &self.inner.device
    }

    pub fn locker_id(&self) -> String {
        self.locker_file().locker_id
    }

    pub(crate) fn locker_file(&self) -> LockerFile {
        self.inner.locker_file.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    pub fn part_size(&self) -> u64 {
        self.locker_file().part_size
    }

    /// The quota from locker.json.
    pub fn quota(&self) -> u64 {
        self.locker_file().quota_bytes
    }

    /// Changes the quota in locker.json, for every device.
    pub async fn set_quota(&self, quota_bytes: u64) -> Result<()> {
        // Re-read first so a concurrent change to another field is not undone.
        let mut file = self.read_locker_file().await?;
        file.quota_bytes = quota_bytes;
        self.write_locker_file(file).await
    }

    /// Re-reads locker.json (another device may have changed the quota), and keeps it for
    /// opening this locker while it is out of reach.
    pub async fn refresh_locker_file(&self) -> Result<()> {
        if let Some(bytes) = self
            .inner
            .storage
            .read_capped(format::LOCKER_FILE, None, format::MAX_LOCKER_FILE_BYTES, "the locker file")
            .await?
        {
            let file = LockerFile::parse(&bytes)?;
            self.follow_encryption(&file).await?;
            keep_locker_file(&self.inner.state_dir, &self.inner.url, &file).await;
            *self.inner.locker_file.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = file;
        }
        Ok(())
    }

    /// Writes locker.json (another field may have changed since it was read: callers re-read
    /// it first) and keeps it as this device's copy.
    pub(crate) async fn write_locker_file(&self, file: LockerFile) -> Result<()> {
        self.inner.storage.put(format::LOCKER_FILE, to_json(&file)).await?;
        keep_locker_file(&self.inner.state_dir, &self.inner.url, &file).await;
        *self.inner.locker_file.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = file;
        Ok(())
    }

    /// locker.json as it is in the locker now (this device's copy when there is none).
    pub(crate) async fn read_locker_file(&self) -> Result<LockerFile> {
        match self
            .inner
            .storage
            .read_capped(format::LOCKER_FILE, None, format::MAX_LOCKER_FILE_BYTES, "the locker file")
            .await?
        {
            Some(bytes) => LockerFile::parse(&bytes),
            None => Ok(self.locker_file()),
        }
    }

    /// Bytes of the blobs the (locally merged) catalog references.
    pub async fn usage(&self) -> u64 {
        self.inner.local.lock().await.catalog.referenced_bytes()
    }

    /// The quota the backend itself reports, where it does (WebDAV RFC 4331).
    pub async fn backend_quota(&self) -> Result<Option<BackendQuota>> {
        self.inner.storage.backend_quota().await
    }

    /// A copy of the merged catalog as of the last sync or local change.
    pub async fn catalog(&self) -> CatalogState {
        self.inner.local.lock().await.catalog.clone()
    }

    /// How many tracks the merged catalog holds.
    pub async fn track_count(&self) -> usize {
        self.inner.local.lock().await.catalog.track_count()
    }

    pub async fn tracks(&self) -> Vec<Track> {
        self.inner.local.lock().await.catalog.tracks()
    }

    pub async fn track(&self, track_id: &str) -> Option<Track> {
        self.inner.local.lock().await.catalog.track(track_id)
    }

    pub async fn playlists(&self) -> Vec<Playlist> {
        self.inner.local.lock().await.catalog.playlists()
    }

    pub async fn playlist(&self, playlist_id: &str) -> Option<Playlist> {
        self.inner.local.lock().await.catalog.playlist(playlist_id)
    }

    /// What every device that has synced says it has seen (`catalog/devices/`). A file that
    /// cannot be read or does not hold a valid record is left out here; [`Locker::device_files`]
    /// names it.
    pub async fn devices(&self) -> Result<Vec<DeviceInfo>> {
        Ok(self.device_files().await?.0)
    }

    /// The valid device records, and the paths of device files that are not valid.
    pub(crate) async fn device_files(&self) -> Result<(Vec<DeviceInfo>, Vec<String>)> {
        let mut devices = Vec::new();
        let mut unreadable = Vec::new();
        for object in self.inner.storage.list_files(format::DEVICES_DIR).await? {
            let Some(named) = format::device_of_path(&object.path) else {
                unreadable.push(object.path);
                continue;
            };
            let read = self
                .inner
                .storage
                .read_capped(
                    &object.path,
                    Some(object.size),
                    format::MAX_DEVICE_FILE_BYTES,
                    "the device file",
                )
                .await;
            let parsed = match read {
                Ok(Some(bytes)) => serde_json::from_slice::<DeviceInfo>(&bytes).ok(),
                Ok(None) => continue,
                Err(error) if error.is_transient() => return Err(error),
                Err(_) => None,
            };
            match parsed.filter(|device| device.device == named && device.is_valid()) {
                Some(device) => devices.push(device),
                None => unreadable.push(object.path),
            }
        }
        devices.sort_by(|a, b| a.device.cmp(&b.device));
        Ok((devices, unreadable))
    }

    pub async fn status(&self) -> Result<LockerStatus> {
        if self.is_locked() {
            // Nothing of the locker can be read until it is unlocked: what this device knows.
            return Ok(self.known_status().await);
        }
        let devices = self.devices().await?;
        let backend_quota = self.backend_quota().await.unwrap_or(None);
        let mut status = self.known_status().await;
        status.devices = devices;
        status.backend_quota = backend_quota;
        status.reached = true;
        Ok(status)
    }

    /// The status as this device knows it, asking the locker nothing (it is out of reach).
    pub async fn known_status(&self) -> LockerStatus {
        let local = self.inner.local.lock().await;
        LockerStatus {
            url: self.inner.url.clone(),
            locker_id: self.locker_id(),
            device: self.inner.device.clone(),
            usage_bytes: local.catalog.referenced_bytes(),
            quota_bytes: self.quota(),
            tracks: local.catalog.track_count(),
            playlists: local.catalog.playlists().len(),
            devices: Vec::new(),
            last_sync_ms: local.last_sync_ms,
            backend_quota: None,
            pending_changes: local.outbox.ops.len(),
            reached: false,
            encryption: self.encryption(),
        }
    }

    // --- Catalog edits. Each one is appended to this device's log before it counts. ---

    /// Removes a track from the locker. Its blob is deleted by [`Locker::gc`] once the grace
    /// period has passed and nothing references it.
    pub async fn remove_track(&self, track_id: &str) -> Result<()> {
        let exists = self.inner.local.lock().await.catalog.is_present(track_id);
        if !exists {
            return Err(LockerError::NotFound(format!("there is no track {track_id} in the locker")));
        }
        self.commit(vec![Change::TrackRemove { track: track_id.to_owned() }]).await
    }

    /// Changes tags of a track; only the fields given (Some) change.
    pub async fn edit_track(&self, track_id: &str, tags: &TrackTags) -> Result<()> {
        if !self.inner.local.lock().await.catalog.is_present(track_id) {
            return Err(LockerError::NotFound(format!("there is no track {track_id} in the locker")));
        }
        self.commit(vec![Change::TrackEdit { track: track_id.to_owned(), fields: tags.to_fields() }]).await
    }

    pub async fn create_playlist(&self, name: &str) -> Result<String> {
        let playlist = uuid::Uuid::new_v4().to_string();
        self.commit(vec![Change::PlaylistCreate { playlist: playlist.clone(), name: name.to_owned() }])
            .await?;
        Ok(playlist)
    }

    pub async fn rename_playlist(&self, playlist_id: &str, name: &str) -> Result<()> {
        self.existing_playlist(playlist_id).await?;
        self.commit(vec![Change::PlaylistRename { playlist: playlist_id.to_owned(), name: name.to_owned() }])
            .await
    }

    pub async fn delete_playlist(&self, playlist_id: &str) -> Result<()> {
        self.existing_playlist(playlist_id).await?;
        self.commit(vec![Change::PlaylistDelete { playlist: playlist_id.to_owned() }]).await
    }

    /// Adds a track at `index` (the end when `None` or past it); returns the new entry's id.
    pub async fn playlist_add(
        &self,
        playlist_id: &str,
        track_id: &str,
        index: Option<usize>,
    ) -> Result<String> {
        let playlist = self.existing_playlist(playlist_id).await?;
        let at = index.unwrap_or(playlist.entries.len()).min(playlist.entries.len());
        let before = at.checked_sub(1).map(|i| playlist.entries[i].position.as_str());
        let after = playlist.entries.get(at).map(|entry| entry.position.as_str());
        let entry = uuid::Uuid::new_v4().to_string();
        self.commit(vec![Change::PlaylistAdd {
            playlist: playlist_id.to_owned(),
            entry: entry.clone(),
            track: track_id.to_owned(),
            position: position_between(before, after),
        }])
        .await?;
        Ok(entry)
    }

    /// Adds tracks (SHA-256s), in order, from `index` (the end when `None`) as one edit; returns
    /// the new entries' ids.
    pub async fn playlist_add_many(
        &self,
        playlist_id: &str,
        tracks: &[String],
        index: Option<usize>,
    ) -> Result<Vec<String>> {
        let playlist = self.existing_playlist(playlist_id).await?;
        if let Some(bad) = tracks.iter().find(|track| !format::is_sha256_hex(track)) {
            return Err(LockerError::InvalidInput(format!("'{bad}' is not a track id (a SHA-256 in hex)")));
        }
        let at = index.unwrap_or(playlist.entries.len()).min(playlist.entries.len());
        let mut before = at.checked_sub(1).map(|i| playlist.entries[i].position.clone());
        let after = playlist.entries.get(at).map(|entry| entry.position.as_str());
        let mut changes = Vec::with_capacity(tracks.len());
        let mut entries = Vec::with_capacity(tracks.len());
        for track in tracks {
            let position = position_between(before.as_deref(), after);
            let entry = uuid::Uuid::new_v4().to_string();
            changes.push(Change::PlaylistAdd {
                playlist: playlist_id.to_owned(),
                entry: entry.clone(),
                track: track.clone(),
                position: position.clone(),
            });
            entries.push(entry);
            before = Some(position);
        }
        self.commit(changes).await?;
        Ok(entries)
    }

    /// Removes entries as one edit.
    pub async fn playlist_remove_many(&self, playlist_id: &str, entry_ids: &[String]) -> Result<()> {
        let playlist = self.existing_playlist(playlist_id).await?;
        if let Some(missing) =
            entry_ids.iter().find(|wanted| !playlist.entries.iter().any(|entry| &entry.entry_id == *wanted))
        {
            return Err(LockerError::NotFound(format!("playlist {playlist_id} has no entry {missing}")));
        }
        let changes = entry_ids
            .iter()
            .map(|entry| Change::PlaylistRemove { playlist: playlist_id.to_owned(), entry: entry.clone() })
            .collect();
        self.commit(changes).await
    }

    /// Moves an entry so that it ends up at `index` in the playlist.
    pub async fn playlist_move(&self, playlist_id: &str, entry_id: &str, index: usize) -> Result<()> {
        let playlist = self.existing_playlist(playlist_id).await?;
        if !playlist.entries.iter().any(|entry| entry.entry_id == entry_id) {
            return Err(LockerError::NotFound(format!("playlist {playlist_id} has no entry {entry_id}")));
        }
        let others: Vec<_> = playlist.entries.iter().filter(|entry| entry.entry_id != entry_id).collect();
        let at = index.min(others.len());
        let before = at.checked_sub(1).map(|i| others[i].position.as_str());
        let after = others.get(at).map(|entry| entry.position.as_str());
        self.commit(vec![Change::PlaylistMove {
            playlist: playlist_id.to_owned(),
            entry: entry_id.to_owned(),
            position: position_between(before, after),
        }])
        .await
    }

    pub async fn playlist_remove(&self, playlist_id: &str, entry_id: &str) -> Result<()> {
        let playlist = self.existing_playlist(playlist_id).await?;
        if !playlist.entries.iter().any(|entry| entry.entry_id == entry_id) {
            return Err(LockerError::NotFound(format!("playlist {playlist_id} has no entry {entry_id}")));
        }
        self.commit(vec![Change::PlaylistRemove {
            playlist: playlist_id.to_owned(),
            entry: entry_id.to_owned(),
        }])
        .await
    }

    // --- Listening state, keyed by SHA-256: for tracks in the locker and tracks only on
    // devices alike. ---

    /// Counts a play of `track` (its SHA-256) on this device, at `at_ms`. Plays do not go to the
    /// locker one by one: they wait in the outbox (plays of one track in between become one op)
    /// until the next push, so a day of listening adds a few small files, not one per song.
    pub async fn record_play(&self, track: &str, at_ms: u64) -> Result<()> {
        check_track_id(track)?;
        let device = self.inner.device.clone();
        self.record_replacing(
            |catalog| {
                let plays = catalog.plays_by(track, &device).saturating_add(1);
                vec![Change::TrackPlayed { track: track.to_owned(), plays, last_played_ms: at_ms }]
            },
            |change| matches!(change, Change::TrackPlayed { track: waiting, .. } if waiting == track),
        )
        .await
    }

    /// Keeps where a long track was left, to go on from there on any device (0: from the start).
    /// Waits in the outbox like plays.
    pub async fn record_resume(&self, track: &str, position_ms: u64) -> Result<()> {
        check_track_id(track)?;
        self.record_replacing(
            |_| vec![Change::TrackResume { track: track.to_owned(), position_ms }],
            |change| matches!(change, Change::TrackResume { track: waiting, .. } if waiting == track),
        )
        .await
    }

    /// How many plays of `track` the catalog counts for this device.
    pub async fn own_plays(&self, track: &str) -> u64 {
        self.inner.local.lock().await.catalog.plays_by(track, &self.inner.device)
    }

    /// Sets this device's running total of plays of `track` (a total counted before the locker
    /// was connected, say), if it is more than the catalog counts for this device.
    pub async fn set_own_plays(&self, track: &str, plays: u64, last_played_ms: u64) -> Result<()> {
        check_track_id(track)?;
        let device = self.inner.device.clone();
        self.record_replacing(
            |catalog| {
                if catalog.plays_by(track, &device) >= plays || plays == 0 {
                    return Vec::new();
                }
                vec![Change::TrackPlayed { track: track.to_owned(), plays, last_played_ms }]
            },
            |change| matches!(change, Change::TrackPlayed { track: waiting, .. } if waiting == track),
        )
        .await
    }

    pub async fn set_loved(&self, track: &str, loved: bool) -> Result<()> {
        self.set_loved_many(&[track], loved).await
    }

    /// Hearts (or takes back the hearts of) several tracks as one edit: one write of the
    /// outbox, one log file at the next push, however many tracks.
    pub async fn set_loved_many(&self, tracks: &[&str], loved: bool) -> Result<()> {
        let changes = tracks
            .iter()
            .map(|track| {
                check_track_id(track)?;
                Ok(Change::TrackLoved { track: (*track).to_owned(), loved })
            })
            .collect::<Result<Vec<_>>>()?;
        if changes.is_empty() {
            return Ok(());
        }
        self.commit(changes).await
    }

    /// A rating of 0 to 5, or none.
    pub async fn set_rating(&self, track: &str, rating: Option<u8>) -> Result<()> {
        self.set_rating_many(&[track], rating).await
    }

    /// Rates several tracks as one edit, as [`Locker::set_loved_many`] does for hearts.
    pub async fn set_rating_many(&self, tracks: &[&str], rating: Option<u8>) -> Result<()> {
        let changes = tracks
            .iter()
            .map(|track| {
                check_track_id(track)?;
                Ok(Change::TrackRated { track: (*track).to_owned(), rating })
            })
            .collect::<Result<Vec<_>>>()?;
        if changes.is_empty() {
            return Ok(());
        }
        self.commit(changes).await
    }

    pub async fn listening(&self, track: &str) -> Option<crate::catalog::Listening> {
        self.inner.local.lock().await.catalog.listening(track)
    }

    pub async fn all_listening(&self) -> Vec<crate::catalog::Listening> {
        self.inner.local.lock().await.catalog.all_listening()
    }

    /// Creates a rule playlist, or replaces the name and rule of one (`id`); returns its id.
    pub async fn put_smart_playlist(
        &self,
        id: Option<&str>,
        name: &str,
        rule: serde_json::Value,
    ) -> Result<String> {
        let playlist = id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        self.commit(vec![Change::SmartPlaylistPut {
            playlist: playlist.clone(),
            name: name.to_owned(),
            rule,
        }])
        .await?;
        Ok(playlist)
    }

    pub async fn delete_smart_playlist(&self, id: &str) -> Result<()> {
        if self.inner.local.lock().await.catalog.smart_playlist(id).is_none() {
            return Err(LockerError::NotFound(format!("there is no rule playlist {id}")));
        }
        self.commit(vec![Change::SmartPlaylistDelete { playlist: id.to_owned() }]).await
    }

    pub async fn smart_playlists(&self) -> Vec<crate::catalog::SmartPlaylist> {
        self.inner.local.lock().await.catalog.smart_playlists()
    }

    async fn existing_playlist(&self, playlist_id: &str) -> Result<Playlist> {
        let local = self.inner.local.lock().await;
        local.catalog.playlist(playlist_id).ok_or_else(|| {
            if local.catalog.playlist_exists_state(playlist_id) {
                LockerError::NotFound(format!("the playlist {playlist_id} was deleted"))
            } else {
                LockerError::NotFound(format!("there is no playlist {playlist_id}"))
            }
        })
    }

    pub(crate) fn storage(&self) -> &Storage {
        &self.inner.storage
    }
}

/// Creates locker.json in an empty location (create-only: if two devices create a locker at
/// once, the first file stays, and both use it).
/// With a passphrase in the options, the locker is encrypted; the key is returned when the
/// file that landed is the one this device wrote.
async fn create_locker_file(
    storage: &Storage,
    location: &LockerLocation,
    options: &OpenOptions,
) -> Result<(LockerFile, Option<crate::crypt::MasterKey>)> {
    // Some servers create a missing bucket's folder on the first write; connecting to a misspelt
    // bucket must fail instead.
    storage.check_container().await.map_err(|error| explain_open(location, error))?;
    let mut file = LockerFile {
        format: format::FIRST_FORMAT,
        locker_id: uuid::Uuid::new_v4().to_string(),
        quota_bytes: options.new_locker_quota,
        part_size: options.new_locker_part_size.max(64 * 1024),
        created_ms: wall_clock_ms(),
        encryption: None,
    };
    let mut key = None;
    if let Some(passphrase) = options.new_locker_passphrase.clone() {
        crate::crypt::check_new_passphrase(&passphrase)?;
        let master = crate::crypt::MasterKey::generate()?;
        let (for_wrap, facts) = (master.clone(), (file.locker_id.clone(), file.part_size, file.created_ms));
        let info = crate::upload::blocking(move || {
            let facts =
                crate::crypt::LockerFacts { locker_id: &facts.0, part_size: facts.1, created_ms: facts.2 };
            crate::crypt::EncryptionInfo::create(&for_wrap, &facts, &passphrase)
        })
        .await?;
        file.format = format::ENCRYPTED_FORMAT;
        file.encryption = Some(info);
        key = Some(master);
    }
    storage
        .put_new(format::LOCKER_FILE, to_json(&file))
        .await
        .map_err(|error| explain_open(location, error))?;
    match storage
        .read_capped(format::LOCKER_FILE, None, format::MAX_LOCKER_FILE_BYTES, "the locker file")
        .await?
    {
        Some(bytes) => {
            let landed = LockerFile::parse(&bytes)?;
            let ours = landed.locker_id == file.locker_id;
            Ok((landed, key.filter(|_| ours)))
        }
        None => Ok((file, key)),
    }
}

/// `<state_dir>/locker-file.json`: the locker.json last read, and the URL it was read from.
const KEPT_LOCKER_FILE: &str = "locker-file.json";

async fn keep_locker_file(state_dir: &Path, url: &str, file: &LockerFile) {
    let kept = serde_json::json!({"url": url, "file": file});
    if let Err(error) =
        crate::local::write_state_file(&state_dir.join(KEPT_LOCKER_FILE), to_json(&kept), false).await
    {
        tracing::warn!(%error, "cannot keep a copy of locker.json");
    }
}

async fn kept_locker_file(state_dir: &Path, url: &str) -> Option<LockerFile> {
    #[derive(Deserialize)]
    struct Kept {
        url: String,
        file: serde_json::Value,
    }
    let bytes = tokio::fs::read(state_dir.join(KEPT_LOCKER_FILE)).await.ok()?;
    let kept: Kept = serde_json::from_slice(&bytes).ok()?;
    if kept.url != url {
        return None;
    }
    LockerFile::parse(&serde_json::to_vec(&kept.file).ok()?).ok()
}

/// Turns the first failure against a location into the message a user needs.
fn explain_open(location: &LockerLocation, error: LockerError) -> LockerError {
    use crate::error::ErrorKind;
    let message = match (location, error.kind()) {
        (LockerLocation::S3 { bucket, .. }, ErrorKind::NotFound) => {
            format!("The S3 bucket '{bucket}' does not exist; create it first, or check its name")
        }
        (LockerLocation::WebDav { server, path }, ErrorKind::NotFound) => {
            format!("The WebDAV collection {server}{path} does not exist; create it first, or check the URL")
        }
        (location, ErrorKind::Network) => {
            format!("Cannot reach the {}: {error}", location.describe())
        }
        _ => return error,
    };
    match error {
        LockerError::Backend { kind, source, .. } => LockerError::Backend { kind, message, source },
        other if other.kind() == ErrorKind::Network => LockerError::Network(message),
        _ => LockerError::NotFound(message),
    }
}

fn check_track_id(track: &str) -> Result<()> {
    if format::is_sha256_hex(track) {
        Ok(())
    } else {
        Err(LockerError::InvalidInput(format!("'{track}' is not a track id (a SHA-256 in hex)")))
    }
}
