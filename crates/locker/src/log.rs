//! This device's log: edits are stamped, applied to the local catalog and kept in the durable
//! outbox at once ([`Locker::commit`]); [`Locker::push`] then writes them to the next log file.
//!
//! A log file is written once and never replaced. A seq, once chosen for some ops, is written
//! with exactly those bytes until the locker says whether they landed: a write whose answer was
//! lost is read back before anything else is decided, and every write is create-only (the
//! storage refuses to replace an object), so a retry can never overwrite a file other devices
//! may already have read. A seq found taken by other content is left alone and the ops move on
//! to the next free seq.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::catalog::{Change, Op, wall_clock_ms};
use crate::error::{LockerError, Result};
use crate::format;
use crate::local::{Sealed, to_json, write_state_file};
use crate::locker::Locker;
use crate::storage::Created;

/// The most ops one log file holds (it stays far below the size readers accept).
const MAX_OPS_PER_FILE: usize = 2_000;
/// After a push failed on the network, edits do not try again for this long (the next sync
/// does).
const PUSH_BACKOFF: std::time::Duration = std::time::Duration::from_secs(30);

/// One file of a device's log: `catalog/log/<device>/<seq>.json`. Written once, never changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LogFile {
    pub format: u32,
    pub device: String,
    pub seq: u64,
    pub ops: Vec<Op>,
}

/// A log file as read from the locker: its ops still unread, so one op that is not valid is
/// skipped (and reported) without losing the others.
#[derive(Deserialize)]
pub(crate) struct RawLogFile {
    pub format: u32,
    pub device: String,
    pub seq: u64,
    pub ops: Vec<serde_json::Value>,
}

impl RawLogFile {
    /// Parses the log file at `path`, which the listing says is `seq` of `device`.
    pub fn parse(path: &str, device: &str, seq: u64, bytes: &[u8]) -> Result<RawLogFile> {
        let file: RawLogFile = serde_json::from_slice(bytes).map_err(|error| {
            LockerError::Format(format!("the catalog log file {path} is corrupt or incomplete: {error}"))
        })?;
        format::check_version(path, file.format)?;
        if file.device != device || file.seq != seq {
            return Err(LockerError::Format(format!(
                "the catalog log file {path} says it is seq {} of device {}",
                file.seq, file.device
            )));
        }
        Ok(file)
    }
}

/// What happened to the log file being written.
enum Landing {
    Landed,
    /// The seq holds another file: move on to a later one.
    Taken,
}

impl Locker {
    /// Stamps `changes` with this device's clock, applies them to the local catalog and puts
    /// them in the durable outbox, then tries to write the outbox to this device's log. The
    /// edit counts from the moment this returns `Ok`, whether or not the locker answered:
    /// what could not be written yet is written by a later push.
    pub(crate) async fn commit(&self, changes: Vec<Change>) -> Result<()> {
        self.record(changes).await?;
        if !self.inner.push_on_commit.load(Ordering::SeqCst) {
            return Ok(());
        }
        // Just failed on the network: the edit waits for the next sync rather than for the
        // retries of another push that will fail the same way.
        let recently_failed = {
            let failed = self.inner.push_failed_at.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            failed.is_some_and(|at| at.elapsed() < PUSH_BACKOFF)
        };
        if recently_failed {
            return Ok(());
        }
        if let Err(error) = self.push().await {
            // The edit is made and kept; the next push writes it.
            tracing::info!(%error, "an edit waits in the outbox for the locker");
        }
        Ok(())
    }

    /// Whether an edit also writes the outbox to the locker before it returns (the default),
    /// or only records it, for an owner that pushes on its own (the app's background sync).
    pub fn set_push_on_commit(&self, push: bool) {
        self.inner.push_on_commit.store(push, Ordering::SeqCst);
    }

    /// The local half of [`Locker::commit`]: stamp, check, apply, keep in the outbox.
    pub(crate) async fn record(&self, changes: Vec<Change>) -> Result<()> {
        self.record_replacing(|_| changes, |_| false).await
    }

    /// [`Locker::record`], with the changes made from the catalog as it is under the lock, and
    /// ops still waiting in the outbox (not yet sealed into a file) that `replaced` picks taken
    /// out first: a newer play count or resume position makes the waiting one pointless.
    pub(crate) async fn record_replacing(
        &self,
        make: impl FnOnce(&crate::catalog::CatalogState) -> Vec<Change>,
        replaced: impl Fn(&Change) -> bool,
    ) -> Result<()> {
        let mut local = self.inner.local.lock().await;
        let changes = make(&local.catalog);
        if changes.is_empty() {
            return Ok(());
        }
        let mut clock = local.clock.clone();
        let ops: Vec<Op> =
            changes.into_iter().map(|change| Op { hlc: clock.tick(wall_clock_ms()), change }).collect();
        for op in &ops {
            op.check()
                .map_err(|why| LockerError::InvalidInput(format!("this edit cannot be made: {why}")))?;
        }
        let mut outbox = local.outbox.clone();
        let sealed = outbox.sealed.as_ref().map_or(0, |sealed| sealed.count);
        let mut index = 0;
        outbox.ops.retain(|op| {
            index += 1;
            index <= sealed || !replaced(&op.change)
        });
        outbox.ops.extend(ops.iter().cloned());
        // The outbox reaches the disk before the edit counts anywhere.
        write_state_file(&self.inner.state_dir.join(crate::local::OUTBOX_FILE), to_json(&outbox), true)
            .await?;
        local.outbox = outbox;
        local.clock = clock;
        for op in &ops {
            if let Some(subject) = local.catalog.apply(&self.inner.device, op) {
                local.unreported.insert(subject);
            }
        }
        let clock_file = local.clock_file(&self.locker_id());
        drop(local);
        write_state_file(&self.inner.state_dir.join(crate::local::CLOCK_FILE), clock_file, false).await
    }

    /// How many ops wait in the outbox.
    pub async fn pending_ops(&self) -> usize {
        self.inner.local.lock().await.outbox.ops.len()
    }

    /// Writes the outbox to this device's log, a file at a time, until it is empty or the
    /// locker cannot be reached (the ops then stay, and the next push goes on from there).
    pub async fn push(&self) -> Result<()> {
        // One pusher at a time; the catalog's own lock is never held over the network.
        let _pushing = self.inner.pushing.lock().await;
        let pushed = self.push_locked().await;
        *self.inner.push_failed_at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) =
            matches!(&pushed, Err(error) if error.is_transient()).then(std::time::Instant::now);
        pushed
    }

    async fn push_locked(&self) -> Result<()> {
        // A locker opened out of reach has not yet learned which seq its log goes on from.
        if !self.inner.seq_checked.load(Ordering::SeqCst) {
            self.recover_next_seq().await?;
        }
        loop {
            let Some(sealed) = self.seal().await? else { return Ok(()) };
            let path = format::log_path(&self.inner.device, sealed.seq);
            let bytes = Bytes::from(sealed.bytes.clone());
            match self.write_once(&path, bytes).await? {
                Landing::Landed => self.landed(&sealed).await?,
                Landing::Taken => self.move_past(sealed.seq).await?,
            }
        }
    }

    /// The sealed file to write, sealing the front of the outbox under the next seq if
    /// nothing is sealed yet; `None` when the outbox is empty.
    async fn seal(&self) -> Result<Option<Sealed>> {
        let mut local = self.inner.local.lock().await;
        if let Some(sealed) = &local.outbox.sealed {
            return Ok(Some(sealed.clone()));
        }
        if local.outbox.ops.is_empty() {
            return Ok(None);
        }
        let count = local.outbox.ops.len().min(MAX_OPS_PER_FILE);
        let seq = local.next_seq;
        if seq > format::MAX_SEQ {
            return Err(LockerError::Format("this device's log has reached its last seq".into()));
        }
        let ops = &local.outbox.ops[..count];
        let first_format = ops.iter().all(|op| op.change.in_first_format());
        let file = LogFile {
            format: if first_format { format::FIRST_FORMAT } else { format::CATALOG_FORMAT },
            device: self.inner.device.clone(),
            seq,
            ops: ops.to_vec(),
        };
        let bytes = String::from_utf8(to_json(&file).to_vec()).expect("JSON is UTF-8");
        let sealed = Sealed { seq, count, bytes };
        let mut outbox = local.outbox.clone();
        outbox.sealed = Some(sealed.clone());
        write_state_file(&self.inner.state_dir.join(crate::local::OUTBOX_FILE), to_json(&outbox), true)
            .await?;
        local.outbox = outbox;
        Ok(Some(sealed))
    }

    /// Writes a log file that must not replace anything. After a failure whose outcome is
    /// unknown (the request may have landed and only the answer been lost), reads the name
    /// back before deciding.
    async fn write_once(&self, path: &str, bytes: Bytes) -> Result<Landing> {
        let written = self.storage().put_new(path, bytes.clone()).await;
        let found = match written {
            Ok(Created::New) => return Ok(Landing::Landed),
            Ok(Created::Exists) => self.read_back(path).await?,
            Err(error) => match self.read_back(path).await {
                Ok(Some(found)) => Some(found),
                // Not there: it did not land. The seal stays; the next push writes it again.
                Ok(None) | Err(_) => return Err(error),
            },
        };
        match found {
            Some(found) if found == bytes => Ok(Landing::Landed),
            Some(_) => {
                tracing::warn!(%path, "a log file with this seq exists with other content; using the next seq");
                Ok(Landing::Taken)
            }
            // Listed as existing, then gone: only compaction deletes log files, never the
            // newest, so this is a race with something else; try the seq again.
            None => Err(LockerError::Conflict(format!("{path} appeared and vanished while it was written"))),
        }
    }

    async fn read_back(&self, path: &str) -> Result<Option<Bytes>> {
        self.storage().read_capped(path, None, format::MAX_LOG_FILE_BYTES, "the catalog log file").await
    }

    /// The sealed file is in the locker: its ops leave the outbox.
    async fn landed(&self, sealed: &Sealed) -> Result<()> {
        let mut local = self.inner.local.lock().await;
        let mut outbox = local.outbox.clone();
        let written: Vec<Op> = outbox.ops.drain(..sealed.count.min(outbox.ops.len())).collect();
        outbox.landed.extend(written);
        outbox.sealed = None;
        write_state_file(&self.inner.state_dir.join(crate::local::OUTBOX_FILE), to_json(&outbox), true)
            .await?;
        local.outbox = outbox;
        local.next_seq = local.next_seq.max(sealed.seq + 1);
        // Our own log is contiguous as long as every earlier file was applied too.
        let contiguous = match local.frontier.get(&self.inner.device) {
            Some(applied) => applied + 1 == sealed.seq,
            None => sealed.seq == 0,
        };
        if contiguous {
            local.frontier.insert(self.inner.device.clone(), sealed.seq);
        }
        let clock_file = local.clock_file(&self.locker_id());
        drop(local);
        write_state_file(&self.inner.state_dir.join(crate::local::CLOCK_FILE), clock_file, false).await
    }

    /// The seq is taken by a file this device did not write (its state was restored from a
    /// backup, or another installation uses its id): unseal, and continue after the highest
    /// seq in the log folder.
    async fn move_past(&self, taken: u64) -> Result<()> {
        let highest = self.highest_own_seq().await?.unwrap_or(taken).max(taken);
        let mut local = self.inner.local.lock().await;
        let mut outbox = local.outbox.clone();
        outbox.sealed = None;
        write_state_file(&self.inner.state_dir.join(crate::local::OUTBOX_FILE), to_json(&outbox), true)
            .await?;
        local.outbox = outbox;
        local.next_seq = local.next_seq.max(highest.saturating_add(1));
        Ok(())
    }

    /// The highest seq listed in this device's log folder.
    pub(crate) async fn highest_own_seq(&self) -> Result<Option<u64>> {
        let own = self.storage().list_files(&format!("{}{}/", format::LOG_DIR, self.inner.device)).await?;
        Ok(own.iter().filter_map(|object| format::parse_log_path(&object.path)).map(|(_, seq)| seq).max())
    }
}
