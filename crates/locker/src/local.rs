//! What a device keeps about its locker between runs, in its state folder: the merged catalog
//! and how far it has read each log (`catalog-cache.json`), its clock and next seq
//! (`clock.json`), and the outbox of ops it made but has not written to its log yet
//! (`outbox.json`). Every file is replaced whole through a temporary name, so a crash leaves
//! the old one or the new one, never half of either.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::catalog::{CatalogState, Hlc, HlcClock, Op, Subject, WireState};
use crate::error::{LockerError, Result};

pub(crate) const CLOCK_FILE: &str = "clock.json";
pub(crate) const OUTBOX_FILE: &str = "outbox.json";
pub(crate) const CACHE_FILE: &str = "catalog-cache.json";
pub(crate) const UNDELIVERED_FILE: &str = "undelivered.json";

pub(crate) struct LocalState {
    pub catalog: CatalogState,
    /// For each device, the highest seq of its log whose ops are in `catalog` (contiguously).
    pub frontier: BTreeMap<String, u64>,
    pub clock: HlcClock,
    pub next_seq: u64,
    pub last_sync_ms: Option<u64>,
    /// Tracks and playlists this device changed itself since the last sync, so the next sync
    /// reports them along with everyone else's changes.
    pub unreported: BTreeSet<Subject>,
    /// What the last pull reported, until the caller says it applied the report
    /// ([`crate::Locker::report_applied`]); kept on disk, so a process killed between a pull
    /// and its apply reports it again rather than never.
    pub undelivered: BTreeSet<Subject>,
    /// The frontier of the newest snapshot this device knows of: log files past it count
    /// towards the next snapshot.
    pub snapshot_frontier: BTreeMap<String, u64>,
    /// Ops this device made that are in `catalog` but not yet in its log.
    pub outbox: Outbox,
}

/// `<state_dir>/outbox.json`: ops waiting to be written to this device's log, oldest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Outbox {
    pub locker_id: String,
    pub ops: Vec<Op>,
    /// The log file being written: once a seq and its bytes are chosen they are fixed, and
    /// written again unchanged until the locker says whether they landed, so an answer lost on
    /// the way can never make the device reuse the seq for other ops.
    #[serde(default)]
    pub sealed: Option<Sealed>,
    /// Ops written to the log since the catalog cache was last saved: the cache does not hold
    /// them yet, so a restart applies them again (opening out of reach, no pull brings them).
    #[serde(default)]
    pub landed: Vec<Op>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Sealed {
    pub seq: u64,
    /// How many ops from the front of `ops` the file holds.
    pub count: usize,
    /// The file's exact bytes (JSON text).
    pub bytes: String,
}

/// `<state_dir>/clock.json`: small, rewritten on every commit and sync.
#[derive(Serialize, Deserialize)]
struct ClockFile {
    locker_id: String,
    next_seq: u64,
    hlc: Hlc,
}

/// `<state_dir>/catalog-cache.json`: the merged catalog, rewritten after each sync that changed
/// it, so a restart does not fetch everything again. Losing it only costs a longer sync.
#[derive(Serialize, Deserialize)]
pub(crate) struct CacheFile {
    pub locker_id: String,
    pub frontier: BTreeMap<String, u64>,
    #[serde(default)]
    pub snapshot_frontier: BTreeMap<String, u64>,
    pub last_sync_ms: Option<u64>,
    pub state: WireState,
}

impl LocalState {
    /// The state a previous run left for this locker (anything of another locker, or anything
    /// that does not parse, is ignored and rebuilt by the next sync).
    pub async fn load(state_dir: &Path, locker_id: &str, device: &str) -> LocalState {
        let state_dir = state_dir.to_owned();
        let (locker_id, device) = (locker_id.to_owned(), device.to_owned());
        tokio::task::spawn_blocking(move || LocalState::load_blocking(&state_dir, &locker_id, &device))
            .await
            .unwrap_or_else(|_| LocalState::empty(""))
    }

    fn empty(locker_id: &str) -> LocalState {
        LocalState {
            catalog: CatalogState::default(),
            frontier: BTreeMap::new(),
            clock: HlcClock::default(),
            next_seq: 0,
            last_sync_ms: None,
            unreported: BTreeSet::new(),
            undelivered: BTreeSet::new(),
            snapshot_frontier: BTreeMap::new(),
            outbox: Outbox { locker_id: locker_id.to_owned(), ..Outbox::default() },
        }
    }

    fn load_blocking(state_dir: &Path, locker_id: &str, device: &str) -> LocalState {
        let mut local = LocalState::empty(locker_id);
        let read = |name: &str| std::fs::read(state_dir.join(name)).ok();
        if let Some(clock) =
            read(CLOCK_FILE).and_then(|bytes| serde_json::from_slice::<ClockFile>(&bytes).ok())
            && clock.locker_id == locker_id
        {
            local.next_seq = clock.next_seq;
            local.clock = HlcClock::new(clock.hlc);
        }
        if let Some(cache) =
            read(CACHE_FILE).and_then(|bytes| serde_json::from_slice::<CacheFile>(&bytes).ok())
            && cache.locker_id == locker_id
            && let Ok(catalog) = CatalogState::from_wire(cache.state)
        {
            local.catalog = catalog;
            local.frontier = cache.frontier;
            local.snapshot_frontier = cache.snapshot_frontier;
            local.last_sync_ms = cache.last_sync_ms;
        }
        if let Some((id, undelivered)) = read(UNDELIVERED_FILE)
            .and_then(|bytes| serde_json::from_slice::<(String, BTreeSet<Subject>)>(&bytes).ok())
            && id == locker_id
        {
            local.undelivered = undelivered;
        }
        if let Some(outbox) =
            read(OUTBOX_FILE).and_then(|bytes| serde_json::from_slice::<Outbox>(&bytes).ok())
            && outbox.locker_id == locker_id
        {
            // Ops in the outbox, and those written since the cache was saved, are not in the
            // cache: apply them again.
            for op in outbox.landed.iter().chain(&outbox.ops) {
                if let Some(subject) = local.catalog.apply(device, op) {
                    local.unreported.insert(subject);
                }
            }
            local.outbox = outbox;
        }
        local
    }

    /// The bytes of `undelivered.json` for the current state.
    pub fn undelivered_file(&self, locker_id: &str) -> Bytes {
        to_json(&(locker_id, &self.undelivered))
    }

    /// The bytes of `clock.json` for the current state.
    pub fn clock_file(&self, locker_id: &str) -> Bytes {
        to_json(&ClockFile {
            locker_id: locker_id.to_owned(),
            next_seq: self.next_seq,
            hlc: self.clock.last(),
        })
    }
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("locker records serialize to JSON"))
}

/// Writes a local state file through a temporary name, so a crash never leaves half of one;
/// `durable` also flushes it to the disk first (the outbox: an edit the user made).
pub(crate) async fn write_state_file(path: &Path, data: Bytes, durable: bool) -> Result<()> {
    let staging = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4()));
    let target = path.to_owned();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::Write;
        let mut file = std::fs::File::create(&staging)?;
        file.write_all(&data)?;
        if durable {
            file.sync_all()?;
        }
        drop(file);
        std::fs::rename(&staging, &target)
    })
    .await
    .map_err(|error| LockerError::io("writing local state", std::io::Error::other(error)))?
    .map_err(|error| LockerError::io(format!("cannot write {}", path.display()), error))
}

/// Removes what a killed run can leave in the state folder: half-written state files
/// (`*.tmp-<uuid>`) and inbox downloads that were never imported.
pub(crate) async fn clean_leftovers(state_dir: &Path) {
    let state_dir = state_dir.to_owned();
    let _ = tokio::task::spawn_blocking(move || {
        if let Ok(entries) = std::fs::read_dir(&state_dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                if name.to_string_lossy().contains(".tmp-") {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        let downloads = state_dir.join(crate::inbox::DOWNLOADS_DIR);
        if let Ok(entries) = std::fs::read_dir(&downloads) {
            for entry in entries.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    })
    .await;
}
