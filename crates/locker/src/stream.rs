//! Playing a locker blob while it downloads: a [`MediaStream`] whose reads are served from the
//! offline cache's sparse file, filled by a fetch thread with range reads from the locker.
//!
//! The fetch thread decides what to fetch next, in this order: the byte the decoder is blocked
//! on (after a seek, at once); the tail, for formats whose index sits at the end; the window
//! ahead of the read position; then the rest of the file, so a played track ends up complete in
//! the cache. Fetches are small at the read position, so first audio costs about one round trip
//! plus one chunk, and a seek never waits behind a long read-ahead.
//!
//! Reads block the decoder thread only (on a condition variable), and the fetch thread drives
//! the async locker with `Handle::block_on` on a thread of its own, so no async worker ever
//! blocks. Network faults are retried with backoff for as long as the stream is open: the
//! decoder plays what is buffered, then the engine shows buffering until bytes arrive.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use loft_media::{Format, MediaOpener, MediaStream};
use tokio::runtime::Handle;

use crate::blob::BlobReader;
use crate::cache::{Entry, EntryUse, OfflineCache};
use crate::error::{ErrorKind, LockerError, Result};
use crate::locker::Locker;

/// How a stream fetches. The defaults suit playback over a home connection.
#[derive(Debug, Clone, Copy)]
pub struct StreamOptions {
    /// The size of a fetch at the position the decoder waits on.
    pub urgent_chunk: u64,
    /// The size of read-ahead and background fetches.
    pub chunk: u64,
    /// How far ahead of the read position to keep fetched before anything else.
    pub read_ahead: u64,
    /// Bytes at the end fetched early for formats that read their end first.
    pub tail: u64,
    /// The longest wait between retries after network faults.
    pub max_backoff: Duration,
    /// When warming the next queue item, how much of its start to fetch.
    pub warm_head: u64,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            urgent_chunk: 64 * 1024,
            chunk: 256 * 1024,
            read_ahead: 2 * 1024 * 1024,
            tail: 64 * 1024,
            max_backoff: Duration::from_secs(4),
            warm_head: 512 * 1024,
        }
    }
}

/// Whether the format's demuxer reads the end of the file before it plays (the format table
/// says which do).
fn needs_tail(extension: Option<&str>) -> bool {
    extension.and_then(Format::by_extension).is_some_and(|format| format.needs_tail)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Serve a reader, then complete the file.
    Stream,
    /// Fetch the whole file (pinning, or completing an entry in the background).
    Download,
    /// Fetch the start (and tail) of the next queue item so it starts without a gap.
    Warm,
}

/// What the reader tells the fetch thread.
struct Want {
    read_pos: u64,
    /// Where the reader is blocked, or just seeked to.
    urgent: Option<u64>,
    closed: bool,
    /// Why fetching stopped for good (the blob is missing, or corrupt in the locker).
    failure: Option<String>,
}

struct Control {
    want: Mutex<Want>,
    wake: Condvar,
}

impl Control {
    fn new() -> Arc<Control> {
        Arc::new(Control {
            want: Mutex::new(Want { read_pos: 0, urgent: None, closed: false, failure: None }),
            wake: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Want> {
        self.want.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn update(&self, change: impl FnOnce(&mut Want)) {
        change(&mut self.lock());
        self.wake.notify_all();
    }

    /// Sleeps up to `timeout`, or less when the reader asks for something or closes.
    fn sleep(&self, timeout: Duration) {
        let want = self.lock();
        if want.closed || want.urgent.is_some() {
            return;
        }
        let _ = self.wake.wait_timeout(want, timeout);
    }
}

/// Progress of a download: bytes of the blob present in the cache, and its size.
pub type DownloadProgress = dyn Fn(u64, u64) + Send + Sync;

struct Fetcher {
    locker: Locker,
    cache: OfflineCache,
    runtime: Handle,
    held: EntryUse,
    control: Arc<Control>,
    options: StreamOptions,
    tail: u64,
    mode: Mode,
    progress: Option<Arc<DownloadProgress>>,
    /// Consecutive failures after which a download gives up (`None`: never).
    give_up_after: Option<u32>,
}

impl Fetcher {
    fn entry(&self) -> &Entry {
        &self.held.entry
    }

    fn next_range(&self) -> Option<(u64, u64)> {
        let entry = self.entry();
        let size = entry.size();
        let (read_pos, urgent) = {
            let want = self.control.lock();
            (want.read_pos, want.urgent)
        };
        let options = &self.options;
        if let Some(at) = urgent
            && let Some(range) = entry.first_gap(at, size, options.urgent_chunk)
        {
            return Some(range);
        }
        if self.tail > 0
            && let Some(range) = entry.first_gap(size.saturating_sub(self.tail), size, options.chunk)
        {
            return Some(range);
        }
        match self.mode {
            Mode::Warm => entry.first_gap(0, options.warm_head, options.chunk),
            Mode::Stream | Mode::Download => entry
                .first_gap(read_pos, read_pos.saturating_add(options.read_ahead), options.chunk)
                .or_else(|| entry.first_gap(read_pos, size, options.chunk))
                .or_else(|| entry.first_gap(0, size, options.chunk)),
        }
    }

    fn run(self) -> Result<()> {
        let mut blob: Option<BlobReader> = None;
        let mut failures = 0u32;
        loop {
            if self.control.lock().closed {
                return Ok(());
            }
            if self.entry().is_corrupt() {
                return self.fail(LockerError::Integrity(format!(
                    "the locker's copy of {} does not match its hash",
                    self.entry().sha256
                )));
            }
            let Some((start, end)) = self.next_range() else {
                if self.mode != Mode::Stream || self.entry().is_complete() {
                    return Ok(());
                }
                // A stream whose file is complete up to a hash check that failed waits here
                // for the reset; otherwise there is simply nothing to do until the reader moves.
                self.control.sleep(Duration::from_millis(200));
                continue;
            };
            let reader = blob.get_or_insert_with(|| self.locker.blob_from_manifest(self.entry().manifest()));
            match self.runtime.block_on(reader.read_range(start, end)) {
                Ok(bytes) if !bytes.is_empty() => {
                    failures = 0;
                    self.cache.note_reachable(true);
                    self.entry().write_at(start, &bytes)?;
                    if let Some(progress) = &self.progress {
                        progress(self.entry().present_bytes(), self.entry().size());
                    }
                }
                Ok(_) => {
                    return self.fail(LockerError::Format(format!(
                        "the locker returned no bytes for {start}..{end} of {}",
                        self.entry().sha256
                    )));
                }
                Err(error) => {
                    failures += 1;
                    let lasting = matches!(
                        error.kind(),
                        ErrorKind::NotFound
                            | ErrorKind::Credentials
                            | ErrorKind::Permission
                            | ErrorKind::Integrity
                    );
                    if error.is_transient() || !lasting {
                        self.cache.note_reachable(false);
                    }
                    if (lasting && failures >= 3) || self.give_up_after.is_some_and(|limit| failures >= limit)
                    {
                        return self.fail(error);
                    }
                    let backoff =
                        Duration::from_millis(100u64 << failures.min(8)).min(self.options.max_backoff);
                    tracing::debug!(blob = %self.entry().sha256, %error, ?backoff, "fetch failed; retrying");
                    self.control.sleep(backoff);
                }
            }
        }
    }

    fn fail(&self, error: LockerError) -> Result<()> {
        let message = error.to_string();
        self.control.update(|want| want.failure = Some(message));
        self.entry().wake_readers();
        Err(error)
    }
}

fn spawn_fetcher(fetcher: Fetcher) -> Result<std::thread::JoinHandle<Result<()>>> {
    let name = format!("loft-fetch-{}", &fetcher.entry().sha256[..8]);
    let (control, entry) = (fetcher.control.clone(), fetcher.held.entry.clone());
    std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            let ended = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fetcher.run()));
            let result = ended.unwrap_or_else(|_| {
                Err(LockerError::Storage(format!("fetching {} stopped unexpectedly", entry.sha256)))
            });
            // Readers wait for bytes only this thread brings: however it ended (an error
            // passed up with `?`, a panic), they must hear of it rather than wait for ever.
            if let Err(error) = &result {
                control.update(|want| {
                    want.failure.get_or_insert_with(|| error.to_string());
                });
                entry.wake_readers();
            }
            result
        })
        .map_err(|error| LockerError::io("cannot start a thread to fetch the track", error))
}

/// A locker blob being played: reads come from the cache file, waiting for the fetch thread
/// where bytes are missing.
pub struct BlobStream {
    held: EntryUse,
    file: File,
    position: u64,
    size: u64,
    control: Arc<Control>,
}

impl BlobStream {
    fn entry(&self) -> &Entry {
        &self.held.entry
    }
}

impl Read for BlobStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.position >= self.size {
            return self.end_of_stream();
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let mut asked = false;
        loop {
            let available = self.entry().wait_for(self.position, Duration::from_millis(250));
            if available > 0 {
                let count = available.min(buf.len() as u64) as usize;
                self.file.seek(SeekFrom::Start(self.position))?;
                self.file.read_exact(&mut buf[..count])?;
                self.position += count as u64;
                let position = self.position;
                self.control.update(|want| {
                    want.read_pos = position;
                    want.urgent = None;
                });
                return Ok(count);
            }
            if let Some(failure) = self.control.lock().failure.clone() {
                return Err(std::io::Error::other(failure));
            }
            if !asked {
                let position = self.position;
                self.control.update(|want| want.urgent = Some(position));
                asked = true;
            }
        }
    }
}

impl BlobStream {
    /// The end, reached: if a part of this blob failed its hash check while it played (so the
    /// bytes read may not be the file), the stream ends only once the file is whole and
    /// verified, or with the integrity error, never quietly on bytes that did not match.
    fn end_of_stream(&self) -> std::io::Result<usize> {
        while self.entry().has_failed_checks() && !self.entry().is_complete() {
            if let Some(failure) = self.control.lock().failure.clone() {
                return Err(std::io::Error::other(failure));
            }
            self.entry().wait_for_change(Duration::from_millis(250));
        }
        Ok(0)
    }
}

impl Seek for BlobStream {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.size.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        }
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.position = target;
        // Fetch a position not cached yet at once, ahead of the read-ahead.
        let missing = target < self.size && self.entry().first_gap(target, target + 1, 1).is_some();
        self.control.update(|want| {
            want.read_pos = target;
            want.urgent = missing.then_some(target);
        });
        Ok(target)
    }
}

impl MediaStream for BlobStream {
    fn byte_len(&self) -> Option<u64> {
        Some(self.size)
    }
}

impl Drop for BlobStream {
    fn drop(&mut self) {
        self.control.update(|want| want.closed = true);
    }
}

/// Plays one locker track through the offline cache: a complete cached copy opens like a local
/// file; anything else streams, filling the cache as it goes.
pub struct LockerOpener {
    locker: Locker,
    cache: OfflineCache,
    runtime: Handle,
    sha256: String,
    extension: Option<String>,
    name: String,
    options: StreamOptions,
    /// The next queue item, warmed when this one opens so the join stays gapless.
    next: Option<Arc<LockerOpener>>,
}

impl LockerOpener {
    /// `runtime` is the handle of the multi-threaded runtime the locker runs on; `name` is
    /// what messages call the track; `extension` helps the format probe.
    pub fn new(
        locker: Locker,
        cache: OfflineCache,
        runtime: Handle,
        sha256: &str,
        name: &str,
        extension: Option<&str>,
    ) -> LockerOpener {
        LockerOpener {
            locker,
            cache,
            runtime,
            sha256: sha256.to_owned(),
            extension: extension.map(str::to_ascii_lowercase),
            name: name.to_owned(),
            options: StreamOptions::default(),
            next: None,
        }
    }

    pub fn with_options(mut self, options: StreamOptions) -> Self {
        self.options = options;
        self
    }

    /// Warms `next` whenever this track opens.
    pub fn with_next(mut self, next: Arc<LockerOpener>) -> Self {
        self.next = Some(next);
        self
    }

    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The cache entry, from an earlier run's record when there is one (no network), else from
    /// the blob's manifest in the locker (one round trip).
    fn hold_entry(&self) -> Result<EntryUse> {
        if let Some(held) = self.cache.use_known(&self.sha256) {
            return Ok(held);
        }
        let opened = self.runtime.block_on(self.locker.open_blob(&self.sha256));
        self.cache.note_reachable(!matches!(&opened, Err(error) if error.is_transient()));
        self.cache.use_entry(opened?.manifest())
    }

    fn fetcher(&self, held: EntryUse, control: Arc<Control>, mode: Mode) -> Fetcher {
        let tail = if needs_tail(self.extension.as_deref()) { self.options.tail } else { 0 };
        Fetcher {
            locker: self.locker.clone(),
            cache: self.cache.clone(),
            runtime: self.runtime.clone(),
            held,
            control,
            options: self.options,
            tail,
            mode,
            progress: None,
            give_up_after: None,
        }
    }

    /// Opens the stream (blocking: call it from a thread that may wait, not an async worker).
    pub fn open_stream(&self) -> Result<Box<dyn MediaStream>> {
        let held = self.hold_entry()?;
        self.cache.touch(&self.sha256);
        if let Some(next) = &self.next {
            next.warm();
        }
        if held.entry.is_complete() {
            let path = held.entry.data_path.clone();
            let file = File::open(&path)
                .map_err(|error| LockerError::io(format!("cannot open {}", path.display()), error))?;
            return Ok(Box::new(file));
        }
        let file = File::open(&held.entry.data_path).map_err(|error| {
            LockerError::io(format!("cannot open {}", held.entry.data_path.display()), error)
        })?;
        let size = held.entry.size();
        let control = Control::new();
        control.update(|want| want.urgent = Some(0));
        let fetcher = self.fetcher(held.another(), control.clone(), Mode::Stream);
        drop(spawn_fetcher(fetcher)?);
        Ok(Box::new(BlobStream { held, file, position: 0, size, control }))
    }

    /// Fetches the start (and tail, where the format needs it) in the background.
    pub fn warm(&self) {
        let opener = LockerOpener { next: None, ..self.clone_shallow() };
        let spawned = std::thread::Builder::new().name("loft-warm".into()).spawn(move || {
            let held = match opener.hold_entry() {
                Ok(held) if !held.entry.is_complete() => held,
                Ok(_) => return,
                Err(error) => {
                    tracing::debug!(blob = %opener.sha256, %error, "could not warm the next track");
                    return;
                }
            };
            let fetcher = opener.fetcher(held, Control::new(), Mode::Warm);
            let _ = fetcher.run();
        });
        if let Err(error) = spawned {
            tracing::warn!(%error, "could not start a thread to warm the next track");
        }
    }

    /// Downloads the whole blob into the cache, blocking until it is complete and verified.
    /// `give_up_after` consecutive failed fetches end it with the last error (`None`: keep
    /// trying until the network returns).
    pub fn download(
        &self,
        progress: Option<Arc<DownloadProgress>>,
        give_up_after: Option<u32>,
    ) -> Result<()> {
        let held = self.hold_entry_patiently(give_up_after)?;
        self.download_held(held, progress, give_up_after)
    }

    /// Pins the blob so it is never evicted, and downloads it like [`LockerOpener::download`].
    pub fn pin(&self, progress: Option<Arc<DownloadProgress>>, give_up_after: Option<u32>) -> Result<()> {
        let held = self.hold_entry_patiently(give_up_after)?;
        self.cache.set_pinned(&self.sha256, true)?;
        self.download_held(held, progress, give_up_after)
    }

    /// Like `hold_entry`, but while the locker cannot be reached, waits for it to return.
    fn hold_entry_patiently(&self, give_up_after: Option<u32>) -> Result<EntryUse> {
        let mut failures = 0u32;
        loop {
            match self.hold_entry() {
                Ok(held) => return Ok(held),
                Err(error)
                    if error.is_transient() && give_up_after.is_none_or(|limit| failures + 1 < limit) =>
                {
                    failures += 1;
                    let backoff =
                        Duration::from_millis(100u64 << failures.min(8)).min(self.options.max_backoff);
                    std::thread::sleep(backoff);
                }
                Err(error) => return Err(error),
            }
        }
    }

    fn download_held(
        &self,
        held: EntryUse,
        progress: Option<Arc<DownloadProgress>>,
        give_up_after: Option<u32>,
    ) -> Result<()> {
        if let Some(progress) = &progress {
            progress(held.entry.present_bytes(), held.entry.size());
        }
        if held.entry.is_complete() {
            return Ok(());
        }
        let mut fetcher = self.fetcher(held, Control::new(), Mode::Download);
        fetcher.progress = progress;
        fetcher.give_up_after = give_up_after;
        fetcher.run()
    }

    fn clone_shallow(&self) -> LockerOpener {
        LockerOpener {
            locker: self.locker.clone(),
            cache: self.cache.clone(),
            runtime: self.runtime.clone(),
            sha256: self.sha256.clone(),
            extension: self.extension.clone(),
            name: self.name.clone(),
            options: self.options,
            next: self.next.clone(),
        }
    }
}

impl OfflineCache {
    /// Unpins a blob; it stays cached until evicted. Returns whether it was cached.
    pub fn unpin(&self, sha256: &str) -> Result<bool> {
        self.set_pinned(sha256, false)
    }
}

impl MediaOpener for LockerOpener {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn extension(&self) -> Option<String> {
        self.extension.clone()
    }

    fn open(&self) -> std::io::Result<Box<dyn MediaStream>> {
        self.open_stream().map_err(std::io::Error::other)
    }
}
