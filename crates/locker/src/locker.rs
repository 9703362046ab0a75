//! [`Locker`]: one open locker, for one device.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::catalog::{
    CatalogState, Change, Hlc, HlcClock, Op, Playlist, Track, TrackTags, position_between, wall_clock_ms,
};
use crate::error::{LockerError, Result};
use crate::format::{self, FORMAT_VERSION, LockerFile};
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
    /// Inbox objects found not to be audio, so later syncs don't probe them again.
    pub inbox_rejected: std::sync::Mutex<std::collections::HashSet<(String, u64)>>,
}

pub(crate) struct LocalState {
    pub catalog: CatalogState,
    /// For each device, the highest seq of its log whose ops are in `catalog` (contiguously).
    pub frontier: BTreeMap<String, u64>,
    pub clock: HlcClock,
    pub next_seq: u64,
    pub last_sync_ms: Option<u64>,
    /// Tracks and playlists this device changed itself since the last sync, so the next sync
    /// reports them along with everyone else's changes.
    pub unreported: std::collections::BTreeSet<crate::catalog::Subject>,
    /// The frontier of the newest snapshot this device knows of: log files past it count
    /// towards the next snapshot.
    pub snapshot_frontier: BTreeMap<String, u64>,
}

/// `<state_dir>/clock.json`: small, rewritten on every commit.
#[derive(Serialize, Deserialize)]
struct ClockFile {
    locker_id: String,
    next_seq: u64,
    hlc: Hlc,
}

/// `<state_dir>/catalog-cache.json`: the merged catalog, rewritten after each sync so that a
/// restart does not fetch everything again. Losing it only costs a longer sync.
#[derive(Serialize, Deserialize)]
pub(crate) struct CacheFile {
    pub locker_id: String,
    pub frontier: BTreeMap<String, u64>,
    pub last_sync_ms: Option<u64>,
    pub state: crate::catalog::WireState,
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
        let locker_file =
            match storage.read(format::LOCKER_FILE).await.map_err(|error| explain_open(&location, error))? {
                Some(bytes) => LockerFile::parse(&bytes)?,
                None if options.create_if_missing => {
                    // Some servers create a missing bucket's folder on the first write; connecting to
                    // a misspelt bucket must fail instead.
                    storage.check_container().await.map_err(|error| explain_open(&location, error))?;
                    let file = LockerFile {
                        format: FORMAT_VERSION,
                        locker_id: uuid::Uuid::new_v4().to_string(),
                        quota_bytes: options.new_locker_quota,
                        part_size: options.new_locker_part_size.max(64 * 1024),
                        created_ms: wall_clock_ms(),
                    };
                    storage
                        .put(format::LOCKER_FILE, to_json(&file))
                        .await
                        .map_err(|error| explain_open(&location, error))?;
                    // Two devices may create a locker at once; whichever locker.json landed is the one.
                    match storage.read(format::LOCKER_FILE).await? {
                        Some(bytes) => LockerFile::parse(&bytes)?,
                        None => file,
                    }
                }
                None => {
                    return Err(LockerError::NotFound(format!(
                        "there is no locker at {url} (no locker.json)"
                    )));
                }
            };
        tokio::fs::create_dir_all(state_dir.join("uploads")).await.map_err(|error| {
            LockerError::io(format!("cannot create the state folder {}", state_dir.display()), error)
        })?;

        let local = load_local_state(state_dir, &locker_file.locker_id).await;
        let locker = Locker {
            inner: Arc::new(Inner {
                storage,
                url: url.to_owned(),
                device: device_id.to_owned(),
                state_dir: state_dir.to_owned(),
                options,
                locker_file: std::sync::Mutex::new(locker_file),
                local: tokio::sync::Mutex::new(local),
                inbox_rejected: Default::default(),
            }),
        };
        locker.recover_next_seq().await?;
        Ok(locker)
    }

    /// Makes sure this device never reuses a seq of its own log, even when its state folder was
    /// lost or restored from an old backup: compaction always keeps each device's newest log
    /// file, so the listing says how far the device got.
    async fn recover_next_seq(&self) -> Result<()> {
        let own_logs =
            self.inner.storage.list_files(&format!("{}{}/", format::LOG_DIR, self.inner.device)).await?;
        let highest_listed = own_logs
            .iter()
            .filter_map(|object| format::parse_log_path(&object.path))
            .map(|(_, seq)| seq)
            .max();
        let mut local = self.inner.local.lock().await;
        local.next_seq = local.next_seq.max(highest_listed.map_or(0, |seq| seq + 1));
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
        let mut file = match self.inner.storage.read(format::LOCKER_FILE).await? {
            Some(bytes) => LockerFile::parse(&bytes)?,
            None => self.locker_file(),
        };
        file.quota_bytes = quota_bytes;
        self.inner.storage.put(format::LOCKER_FILE, to_json(&file)).await?;
        *self.inner.locker_file.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = file;
        Ok(())
    }

    /// Re-reads locker.json (another device may have changed the quota).
    pub async fn refresh_locker_file(&self) -> Result<()> {
        if let Some(bytes) = self.inner.storage.read(format::LOCKER_FILE).await? {
            let file = LockerFile::parse(&bytes)?;
            *self.inner.locker_file.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = file;
        }
        Ok(())
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

    pub async fn devices(&self) -> Result<Vec<DeviceInfo>> {
        let mut devices = Vec::new();
        for object in self.inner.storage.list_files(format::DEVICES_DIR).await? {
            if let Some(bytes) = self.inner.storage.read(&object.path).await?
                && let Ok(device) = serde_json::from_slice::<DeviceInfo>(&bytes)
            {
                devices.push(device);
            }
        }
        devices.sort_by(|a, b| a.device.cmp(&b.device));
        Ok(devices)
    }

    pub async fn status(&self) -> Result<LockerStatus> {
        let devices = self.devices().await?;
        let backend_quota = self.backend_quota().await.unwrap_or(None);
        let local = self.inner.local.lock().await;
        Ok(LockerStatus {
            url: self.inner.url.clone(),
            locker_id: self.locker_id(),
            device: self.inner.device.clone(),
            usage_bytes: local.catalog.referenced_bytes(),
            quota_bytes: self.quota(),
            tracks: local.catalog.track_count(),
            playlists: local.catalog.playlists().len(),
            devices,
            last_sync_ms: local.last_sync_ms,
            backend_quota,
        })
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

    /// Stamps `changes` with this device's clock, appends them to its log as one new file and
    /// applies them locally. Nothing is applied if the write fails.
    pub(crate) async fn commit(&self, changes: Vec<Change>) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut local = self.inner.local.lock().await;
        let mut clock = local.clock.clone();
        let ops: Vec<Op> =
            changes.into_iter().map(|change| Op { hlc: clock.tick(wall_clock_ms()), change }).collect();
        let seq = local.next_seq;
        let file = LogFile { format: FORMAT_VERSION, device: self.inner.device.clone(), seq, ops };
        self.inner.storage.put(&format::log_path(&self.inner.device, seq), to_json(&file)).await?;
        local.clock = clock;
        local.next_seq = seq + 1;
        // Our own log is contiguous as long as every earlier file was applied too.
        let contiguous = match local.frontier.get(&self.inner.device) {
            Some(applied) => applied + 1 == seq,
            None => seq == 0,
        };
        if contiguous {
            local.frontier.insert(self.inner.device.clone(), seq);
        }
        for op in &file.ops {
            let subject = local.catalog.apply(&self.inner.device, op);
            local.unreported.insert(subject);
        }
        let clock_file =
            ClockFile { locker_id: self.locker_id(), next_seq: local.next_seq, hlc: local.clock.last() };
        drop(local);
        write_state_file(&self.inner.state_dir.join("clock.json"), to_json(&clock_file)).await
    }

    pub(crate) fn storage(&self) -> &Storage {
        &self.inner.storage
    }
}

/// One file of a device's log: `catalog/log/<device>/<seq>.json`. Written once, never changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LogFile {
    pub format: u32,
    pub device: String,
    pub seq: u64,
    pub ops: Vec<Op>,
}

/// Turns the first failure against a location into the message a user needs.
fn explain_open(location: &LockerLocation, error: LockerError) -> LockerError {
    match (location, error) {
        (LockerLocation::S3 { bucket, .. }, LockerError::NotFound(detail)) => {
            LockerError::NotFound(format!("the S3 bucket '{bucket}' does not exist ({detail})"))
        }
        (LockerLocation::WebDav { server, path }, LockerError::NotFound(detail)) => {
            LockerError::NotFound(format!("the WebDAV collection {server}{path} does not exist ({detail})"))
        }
        (location, LockerError::Network(detail)) => {
            LockerError::Network(format!("cannot reach the {}: {detail}", location.describe()))
        }
        (_, other) => other,
    }
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("locker records serialize to JSON"))
}

/// Writes a local state file through a temporary name, so a crash never leaves half of one.
pub(crate) async fn write_state_file(path: &Path, data: Bytes) -> Result<()> {
    let staging = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4()));
    let target = path.to_owned();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::fs::write(&staging, &data)?;
        std::fs::rename(&staging, &target)
    })
    .await
    .map_err(|error| LockerError::io("writing local state", std::io::Error::other(error)))?
    .map_err(|error| LockerError::io(format!("cannot write {}", path.display()), error))
}

async fn load_local_state(state_dir: &Path, locker_id: &str) -> LocalState {
    let mut local = LocalState {
        catalog: CatalogState::default(),
        frontier: BTreeMap::new(),
        clock: HlcClock::default(),
        next_seq: 0,
        last_sync_ms: None,
        snapshot_frontier: BTreeMap::new(),
        unreported: Default::default(),
    };
    if let Ok(bytes) = tokio::fs::read(state_dir.join("clock.json")).await
        && let Ok(clock) = serde_json::from_slice::<ClockFile>(&bytes)
        && clock.locker_id == locker_id
    {
        local.next_seq = clock.next_seq;
        local.clock = HlcClock::new(clock.hlc);
    }
    let cache_path = state_dir.join("catalog-cache.json");
    let parsed = tokio::task::spawn_blocking(move || {
        let bytes = std::fs::read(cache_path).ok()?;
        serde_json::from_slice::<CacheFile>(&bytes).ok()
    })
    .await
    .ok()
    .flatten();
    // A cache of another locker, or one that does not parse, is simply rebuilt by the next sync.
    if let Some(cache) = parsed.filter(|cache| cache.locker_id == locker_id)
        && let Ok(catalog) = CatalogState::from_wire(cache.state)
    {
        local.catalog = catalog;
        local.frontier = cache.frontier;
        local.last_sync_ms = cache.last_sync_ms;
    }
    local
}
