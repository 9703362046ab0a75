//! Scanning: walk the folders, read only what is new or changed, recognize moved files by
//! content, drop what vanished, and write it all in batched transactions.

use std::collections::{HashMap, HashSet};
use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Instant;

use loft_media::{MediaTags, Walk, WalkItem, WalkedFolder};
use rusqlite::{ToSql, Transaction, params, params_from_iter};

use crate::covers::{CoverDedup, CoverFound, CoverHash};
use crate::error::Result;
use crate::folders::{prune_covers, prune_orphans_among};
use crate::tags::ReadFile;
use crate::{
    Library, ScanError, ScanProgress, ScanReport, UNKNOWN_ALBUM, UNKNOWN_ARTIST, VARIOUS_ARTISTS,
    now_seconds, paths, tags,
};

/// Results written per transaction: large enough to amortize the commit, small enough that
/// readers see progress and memory stays flat.
const WRITE_BATCH: usize = 500;

/// A place to scan: a library folder, or (for the watcher) something inside one.
#[derive(Debug, Clone)]
pub(crate) struct ScanRoot {
    pub folder_id: i64,
    pub path: PathBuf,
    /// A library folder that is missing is most likely an unplugged drive: keep its tracks.
    /// A path the watcher reports missing was deleted.
    pub must_exist: bool,
}

/// An audio file found on disk.
struct SeenFile {
    path: PathBuf,
    key: Vec<u8>,
    folder_id: i64,
    size: u64,
    mtime_ns: i64,
    folder_cover: Option<Arc<PathBuf>>,
}

/// A file the index already has.
#[derive(Debug, Clone)]
struct KnownFile {
    file_id: i64,
    track_id: i64,
    size: u64,
    mtime_ns: i64,
    fingerprint: Vec<u8>,
}

type KnownFiles = HashMap<Vec<u8>, KnownFile>;
type KnownErrors = HashMap<Vec<u8>, KnownError>;

struct KnownError {
    size: u64,
    mtime_ns: i64,
    reason: String,
}

struct ReadResult {
    index: usize,
    outcome: std::result::Result<ReadFile, String>,
    cover: Option<CoverFound>,
}

/// Running totals of a scan, plus what the final step still has to do.
struct ScanState {
    report: ScanReport,
    progress: ScanProgress,
    /// Missing files by (size, fingerprint), waiting to be matched by a new file.
    move_candidates: HashMap<(u64, Vec<u8>), Vec<KnownFile>>,
    matched_moves: HashSet<i64>,
    cover_ids: HashMap<CoverHash, i64>,
    /// Tracks whose cover another reader thread was still preparing when they were written.
    unresolved_covers: Vec<(i64, CoverHash)>,
    now: i64,
}

impl Library {
    /// Scans every library folder and brings the index in step with the disk. `progress` is
    /// called from this thread as the scan advances.
    pub fn scan(&self, progress: &(dyn Fn(ScanProgress) + Sync)) -> Result<ScanReport> {
        let roots = self
            .folders()?
            .into_iter()
            .map(|f| ScanRoot { folder_id: f.id, path: f.path, must_exist: true })
            .collect();
        let report = self.scan_roots(roots, progress);
        // A full scan fills the writer's page cache (64 MiB for a large library); the app
        // sits idle afterwards, so give the memory back.
        self.release_memory();
        report
    }

    /// Scans only `changed` paths (files or folders, present or deleted) inside the library
    /// folders; what the watcher calls. Paths outside the library are ignored.
    pub fn scan_paths(
        &self,
        changed: &[PathBuf],
        progress: &(dyn Fn(ScanProgress) + Sync),
    ) -> Result<ScanReport> {
        let folders = self.folders()?;
        let mut roots: Vec<ScanRoot> = Vec::new();
        let mut sorted: Vec<&PathBuf> = changed.iter().collect();
        sorted.sort();
        sorted.dedup();
        for path in sorted {
            let Some(folder) = folders.iter().find(|f| path.starts_with(&f.path)) else { continue };
            let inside_hidden = path
                .strip_prefix(&folder.path)
                .map(|rest| rest.components().any(|c| paths::is_hidden(c.as_os_str())))
                .unwrap_or(false);
            if inside_hidden || roots.iter().any(|r| path.starts_with(&r.path)) {
                continue;
            }
            let must_exist = path == &folder.path;
            roots.push(ScanRoot { folder_id: folder.id, path: path.clone(), must_exist });
        }
        if roots.is_empty() {
            return Ok(ScanReport::default());
        }
        self.scan_roots(roots, progress)
    }

    pub(crate) fn scan_roots(
        &self,
        roots: Vec<ScanRoot>,
        progress: &(dyn Fn(ScanProgress) + Sync),
    ) -> Result<ScanReport> {
        let _one_scan = self.inner.scan_lock.lock().unwrap_or_else(|p| p.into_inner());
        self.inner.scans_running.fetch_add(1, Ordering::SeqCst);
        let _running = ScanningGuard(&self.inner.scans_running);
        let started = Instant::now();

        // 1. Walk.
        let mut walk = ScanWalk::new();
        for root in &roots {
            walk.root(root, progress);
        }
        let mut state = ScanState {
            report: ScanReport { files_seen: walk.files.len() as u64, ..ScanReport::default() },
            progress: ScanProgress { files_seen: walk.files.len() as u64, files_to_read: 0, files_read: 0 },
            move_candidates: HashMap::new(),
            matched_moves: HashSet::new(),
            cover_ids: HashMap::new(),
            unresolved_covers: Vec::new(),
            now: now_seconds(),
        };
        state.report.errors = std::mem::take(&mut walk.errors);

        // 2. Compare with the index.
        let (mut known, mut known_errors) = self.load_known(&roots)?;
        let mut to_read: Vec<(SeenFile, Option<KnownFile>)> = Vec::new();
        for seen in std::mem::take(&mut walk.files) {
            if let Some(file) = known.remove(&seen.key) {
                if file.size == seen.size && file.mtime_ns == seen.mtime_ns {
                    state.report.unchanged += 1;
                } else {
                    to_read.push((seen, Some(file)));
                }
                continue;
            }
            if let Some(error) = known_errors.get(&seen.key)
                && error.size == seen.size
                && error.mtime_ns == seen.mtime_ns
            {
                let error = known_errors.remove(&seen.key).expect("just looked up");
                state
                    .report
                    .errors
                    .push(ScanError { path: paths::display(&seen.path), reason: error.reason });
                continue;
            }
            to_read.push((seen, None));
        }
        let shielded = |key: &[u8]| walk.unreadable.iter().any(|dir| starts_with_dir(key, dir));
        let missing: Vec<KnownFile> =
            known.into_iter().filter(|(key, _)| !shielded(key)).map(|(_, file)| file).collect();
        let stale_errors: Vec<Vec<u8>> = known_errors.into_keys().filter(|key| !shielded(key)).collect();
        for file in &missing {
            state
                .move_candidates
                .entry((file.size, file.fingerprint.clone()))
                .or_default()
                .push(file.clone());
        }
        state.progress.files_to_read = to_read.len() as u64;
        progress(state.progress);

        // 3. Read new and changed files on worker threads; write their results here.
        let (stored_covers, cover_ids) = self.load_cover_hashes()?;
        state.cover_ids = cover_ids;
        {
            let mut writer = self.writer();
            let transaction = writer.transaction()?;
            let mut delete_error = transaction.prepare_cached("DELETE FROM scan_errors WHERE path = ?1")?;
            for key in &stale_errors {
                delete_error.execute(params![key])?;
            }
            drop(delete_error);
            transaction.commit()?;
        }
        let dedup = CoverDedup::new(stored_covers);
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
        let next = AtomicUsize::new(0);
        let mut write_error = None;
        std::thread::scope(|scope| {
            let (sender, receiver) = mpsc::sync_channel::<ReadResult>(WRITE_BATCH);
            for _ in 0..workers.min(to_read.len().max(1)) {
                let sender = sender.clone();
                let (to_read, next, dedup) = (&to_read, &next, &dedup);
                scope.spawn(move || {
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some((seen, _)) = to_read.get(index) else { break };
                        let result = read_one(seen, dedup, index);
                        if sender.send(result).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(sender);
            let mut batch = Vec::with_capacity(WRITE_BATCH);
            for result in receiver.iter() {
                batch.push(result);
                if batch.len() >= WRITE_BATCH {
                    if let Err(error) = self.write_batch(&to_read, &mut batch, &mut state) {
                        write_error = Some(error);
                        break;
                    }
                    progress(state.progress);
                }
            }
            if write_error.is_none()
                && !batch.is_empty()
                && let Err(error) = self.write_batch(&to_read, &mut batch, &mut state)
            {
                write_error = Some(error);
            }
            // Dropping the receiver (end of this scope) stops the readers if writing failed.
        });
        if let Some(error) = write_error {
            return Err(error);
        }

        // 4. What is still missing was deleted; finish covers.
        self.finish(&missing, &mut state)?;
        state.report.seconds = started.elapsed().as_secs_f64();
        progress(state.progress);
        tracing::info!(
            seen = state.report.files_seen,
            added = state.report.added,
            updated = state.report.updated,
            moved = state.report.moved,
            removed = state.report.removed,
            errors = state.report.errors.len(),
            seconds = state.report.seconds,
            "library scan finished"
        );
        Ok(state.report)
    }

    fn load_known(&self, roots: &[ScanRoot]) -> Result<(KnownFiles, KnownErrors)> {
        self.read(|db| {
            let mut files = HashMap::new();
            let mut errors = HashMap::new();
            let mut file_query = db.prepare_cached(
                "SELECT path, id, track_id, size, mtime_ns, fingerprint FROM local_files
                 WHERE path = ?1 OR (path >= ?2 AND path < ?3)",
            )?;
            let mut error_query = db.prepare_cached(
                "SELECT path, size, mtime_ns, reason FROM scan_errors
                 WHERE path = ?1 OR (path >= ?2 AND path < ?3)",
            )?;
            for root in roots {
                let exact = paths::to_bytes(&root.path);
                let (low, high) = paths::descendant_range(&root.path);
                let rows = file_query.query_map(params![exact, low, high], |row| {
                    Ok((
                        row.get::<_, Vec<u8>>(0)?,
                        KnownFile {
                            file_id: row.get(1)?,
                            track_id: row.get(2)?,
                            size: row.get(3)?,
                            mtime_ns: row.get(4)?,
                            fingerprint: row.get(5)?,
                        },
                    ))
                })?;
                for row in rows {
                    let (key, file) = row?;
                    files.insert(key, file);
                }
                let rows = error_query.query_map(params![exact, low, high], |row| {
                    Ok((
                        row.get::<_, Vec<u8>>(0)?,
                        KnownError { size: row.get(1)?, mtime_ns: row.get(2)?, reason: row.get(3)? },
                    ))
                })?;
                for row in rows {
                    let (key, error) = row?;
                    errors.insert(key, error);
                }
            }
            Ok((files, errors))
        })
    }

    fn load_cover_hashes(&self) -> Result<(Vec<CoverHash>, HashMap<CoverHash, i64>)> {
        self.read(|db| {
            let mut statement = db.prepare_cached("SELECT hash, id FROM covers")?;
            let mut ids = HashMap::new();
            let rows =
                statement.query_map([], |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, i64>(1)?)))?;
            for row in rows {
                let (hash, id) = row?;
                if let Ok(hash) = <CoverHash>::try_from(hash.as_slice()) {
                    ids.insert(hash, id);
                }
            }
            Ok((ids.keys().copied().collect(), ids))
        })
    }

    fn write_batch(
        &self,
        to_read: &[(SeenFile, Option<KnownFile>)],
        batch: &mut Vec<ReadResult>,
        state: &mut ScanState,
    ) -> Result<()> {
        let mut writer = self.writer();
        let transaction = writer.transaction()?;
        let mut orphan_candidates = Vec::new();
        for result in batch.drain(..) {
            let (seen, prior) = &to_read[result.index];
            state.progress.files_read += 1;
            match result.outcome {
                Ok(read) => {
                    let cover_id = store_cover(&transaction, result.cover, state)?;
                    write_file(&transaction, seen, prior.as_ref(), &read, cover_id, state)?;
                }
                Err(reason) => {
                    let vanished = !seen.path.exists();
                    if !vanished {
                        transaction.execute(
                            "INSERT OR REPLACE INTO scan_errors (path, folder_id, size, mtime_ns, reason)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                            params![seen.key, seen.folder_id, seen.size, seen.mtime_ns, reason],
                        )?;
                    }
                    if let Some(file) = prior {
                        transaction
                            .execute("DELETE FROM local_files WHERE id = ?1", params![file.file_id])?;
                        orphan_candidates.push(file.track_id);
                        state.report.removed += 1;
                    }
                    state.report.errors.push(ScanError { path: paths::display(&seen.path), reason });
                }
            }
        }
        prune_orphans_among(&transaction, &orphan_candidates)?;
        transaction.commit()?;
        Ok(())
    }

    fn finish(&self, missing: &[KnownFile], state: &mut ScanState) -> Result<()> {
        let mut writer = self.writer();
        let transaction = writer.transaction()?;
        let mut orphan_candidates = Vec::new();
        {
            let mut delete = transaction.prepare_cached("DELETE FROM local_files WHERE id = ?1")?;
            for file in missing.iter().filter(|f| !state.matched_moves.contains(&f.file_id)) {
                delete.execute(params![file.file_id])?;
                orphan_candidates.push(file.track_id);
                state.report.removed += 1;
            }
            let mut set_cover = transaction.prepare_cached(
                "UPDATE tracks SET cover_id = (SELECT id FROM covers WHERE hash = ?2) WHERE id = ?1",
            )?;
            for (track_id, hash) in state.unresolved_covers.drain(..) {
                set_cover.execute(params![track_id, hash.as_slice()])?;
            }
        }
        prune_orphans_among(&transaction, &orphan_candidates)?;
        if state.report.removed + state.report.updated > 0 {
            prune_covers(&transaction)?;
        }
        transaction.commit()?;
        Ok(())
    }
}

struct ScanningGuard<'a>(&'a AtomicUsize);

impl Drop for ScanningGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn read_one(seen: &SeenFile, dedup: &CoverDedup, index: usize) -> ReadResult {
    match tags::read_file(&seen.path, seen.size) {
        Ok(mut read) => {
            let cover = match read.embedded_cover.take() {
                Some(bytes) => dedup.offer(bytes),
                None => seen.folder_cover.as_deref().and_then(|image| dedup.offer_folder_image(image)),
            };
            ReadResult { index, outcome: Ok(read), cover }
        }
        Err(reason) => ReadResult { index, outcome: Err(reason), cover: None },
    }
}

fn store_cover(
    transaction: &Transaction<'_>,
    cover: Option<CoverFound>,
    state: &mut ScanState,
) -> Result<CoverLink> {
    Ok(match cover {
        None => CoverLink::None,
        Some(CoverFound::Known(hash)) => match state.cover_ids.get(&hash) {
            Some(id) => CoverLink::Id(*id),
            None => CoverLink::Pending(hash),
        },
        Some(CoverFound::New(cover)) => {
            transaction.execute(
                "INSERT OR IGNORE INTO covers (hash, mime, width, height, image, thumbnail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    cover.hash.as_slice(),
                    cover.mime,
                    cover.width,
                    cover.height,
                    cover.image,
                    cover.thumbnail
                ],
            )?;
            let id: i64 = transaction.query_row(
                "SELECT id FROM covers WHERE hash = ?1",
                params![cover.hash.as_slice()],
                |r| r.get(0),
            )?;
            state.cover_ids.insert(cover.hash, id);
            CoverLink::Id(id)
        }
    })
}

enum CoverLink {
    None,
    Id(i64),
    Pending(CoverHash),
}

impl CoverLink {
    fn id(&self) -> Option<i64> {
        match self {
            CoverLink::Id(id) => Some(*id),
            _ => None,
        }
    }
}

fn write_file(
    transaction: &Transaction<'_>,
    seen: &SeenFile,
    prior: Option<&KnownFile>,
    read: &ReadFile,
    cover: CoverLink,
    state: &mut ScanState,
) -> Result<()> {
    let derived = Derived::new(&read.tags, &seen.path);
    let cover_id = cover.id();
    let fingerprint = read.fingerprint.as_slice();
    let track_id = if let Some(file) = prior {
        let shared: bool = transaction.query_row(
            "SELECT EXISTS (SELECT 1 FROM local_files WHERE track_id = ?1 AND id != ?2)
                 OR EXISTS (SELECT 1 FROM locker_copies lc JOIN tracks t ON t.sha256 = lc.sha256
                            WHERE t.id = ?1)",
            params![file.track_id, file.file_id],
            |r| r.get(0),
        )?;
        let track_id = if shared {
            // Another file, or the locker's copy, had the same content; this one changed, so it
            // is a track of its own.
            insert_track(transaction, &read.tags, &derived, cover_id, state.now, None)?
        } else {
            update_track(transaction, file.track_id, &read.tags, &derived, cover_id, true)?;
            file.track_id
        };
        transaction.execute(
            "UPDATE local_files SET track_id = ?2, size = ?3, mtime_ns = ?4, fingerprint = ?5 WHERE id = ?1",
            params![file.file_id, track_id, seen.size, seen.mtime_ns, fingerprint],
        )?;
        state.report.updated += 1;
        track_id
    } else if let Some(moved) = take_move_candidate(state, seen.size, fingerprint) {
        update_track(transaction, moved.track_id, &read.tags, &derived, cover_id, false)?;
        transaction.execute(
            "UPDATE local_files SET path = ?2, folder_id = ?3, size = ?4, mtime_ns = ?5 WHERE id = ?1",
            params![moved.file_id, seen.key, seen.folder_id, seen.size, seen.mtime_ns],
        )?;
        state.matched_moves.insert(moved.file_id);
        state.report.moved += 1;
        moved.track_id
    } else {
        let track_id = insert_track(transaction, &read.tags, &derived, cover_id, state.now, None)?;
        transaction.execute(
            "INSERT INTO local_files (track_id, folder_id, path, size, mtime_ns, fingerprint)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![track_id, seen.folder_id, seen.key, seen.size, seen.mtime_ns, fingerprint],
        )?;
        state.report.added += 1;
        track_id
    };
    if let CoverLink::Pending(hash) = cover {
        state.unresolved_covers.push((track_id, hash));
    }
    transaction.prepare_cached("DELETE FROM scan_errors WHERE path = ?1")?.execute(params![seen.key])?;
    Ok(())
}

fn take_move_candidate(state: &mut ScanState, size: u64, fingerprint: &[u8]) -> Option<KnownFile> {
    let key = (size, fingerprint.to_vec());
    let candidates = state.move_candidates.get_mut(&key)?;
    let found = candidates.pop();
    if candidates.is_empty() {
        state.move_candidates.remove(&key);
    }
    found
}

/// The derived columns: display fallbacks for sorting and grouping, folded for comparison.
pub(crate) struct Derived {
    group_artist: String,
    sort_title: String,
    sort_artist: String,
    sort_album: String,
    sort_group_artist: String,
    sort_genre: String,
}

impl Derived {
    pub(crate) fn new(tags: &MediaTags, path: &Path) -> Self {
        let group_artist = group_artist(tags);
        let title_source = if tags.title.is_empty() { file_title(path) } else { tags.title.clone() };
        Derived {
            sort_title: sort_key(&title_source),
            sort_artist: artist_sort_key(&tags.artist),
            sort_album: album_sort_key(&tags.album),
            sort_group_artist: artist_sort_key(&group_artist),
            sort_genre: sort_key(&tags.genre),
            group_artist,
        }
    }
}

/// Whom an album is filed under.
pub(crate) fn group_artist(tags: &MediaTags) -> String {
    if tags.compilation {
        VARIOUS_ARTISTS.to_owned()
    } else if !tags.album_artist.is_empty() {
        tags.album_artist.clone()
    } else {
        tags.artist.clone()
    }
}

/// The title a track without one shows: its file name without the extension.
pub(crate) fn file_title(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Folds case and diacritics and drops a leading "The ", so "The Beatles" sorts under B and
/// "Émilie" next to "Emily".
pub(crate) fn sort_key(text: &str) -> String {
    let folded = deunicode::deunicode(text.trim()).to_lowercase();
    let folded = folded.trim();
    match folded.strip_prefix("the ") {
        Some(rest) if !rest.trim().is_empty() => rest.trim().to_owned(),
        _ => folded.to_owned(),
    }
}

/// Sort keys of missing artists and albums follow what is shown ("Unknown Artist"), so they
/// sort where the user looks for them instead of first.
pub(crate) fn artist_sort_key(artist: &str) -> String {
    sort_key(if artist.trim().is_empty() { UNKNOWN_ARTIST } else { artist })
}

pub(crate) fn album_sort_key(album: &str) -> String {
    sort_key(if album.trim().is_empty() { UNKNOWN_ALBUM } else { album })
}

/// Inserts a track; `sha256` is known for a locker copy, and left for the hasher for a file.
pub(crate) fn insert_track(
    transaction: &Transaction<'_>,
    tags: &MediaTags,
    derived: &Derived,
    cover_id: Option<i64>,
    added_at: i64,
    sha256: Option<&str>,
) -> Result<i64> {
    let mut statement = transaction.prepare_cached(
        "INSERT INTO tracks (title, artist, artists, album, album_artist, track_no, track_total, disc_no,
            disc_total, year, date, genre, composer, duration_ms, sample_rate, channels, bit_depth,
            bitrate_kbps, rg_track_gain, rg_track_peak, rg_album_gain, rg_album_peak, mb_recording_id,
            mb_track_id, mb_release_id, mb_artist_id, mb_release_artist_id, compilation, format, cover_id,
            group_artist, sort_title, sort_artist, sort_album, sort_group_artist, sort_genre, added_at, sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
            ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38)",
    )?;
    let artists = artists_json(tags);
    let mut values = tag_values(tags, derived, &cover_id, &artists).to_vec();
    values.extend([&added_at as &dyn ToSql, &sha256]);
    statement.execute(params_from_iter(values))?;
    Ok(transaction.last_insert_rowid())
}

/// Rewrites a track's tags. `content_changed` forgets the SHA-256, which the hasher recomputes.
pub(crate) fn update_track(
    transaction: &Transaction<'_>,
    track_id: i64,
    tags: &MediaTags,
    derived: &Derived,
    cover_id: Option<i64>,
    content_changed: bool,
) -> Result<()> {
    let mut statement = transaction.prepare_cached(
        "UPDATE tracks SET title = ?2, artist = ?3, artists = ?4, album = ?5, album_artist = ?6,
            track_no = ?7, track_total = ?8, disc_no = ?9, disc_total = ?10, year = ?11, date = ?12,
            genre = ?13, composer = ?14, duration_ms = ?15, sample_rate = ?16, channels = ?17,
            bit_depth = ?18, bitrate_kbps = ?19, rg_track_gain = ?20, rg_track_peak = ?21,
            rg_album_gain = ?22, rg_album_peak = ?23, mb_recording_id = ?24, mb_track_id = ?25,
            mb_release_id = ?26, mb_artist_id = ?27, mb_release_artist_id = ?28, compilation = ?29,
            format = ?30, cover_id = ?31, group_artist = ?32, sort_title = ?33, sort_artist = ?34,
            sort_album = ?35, sort_group_artist = ?36, sort_genre = ?37,
            sha256 = CASE WHEN ?38 THEN NULL ELSE sha256 END
         WHERE id = ?1",
    )?;
    let artists = artists_json(tags);
    let mut values: Vec<&dyn ToSql> = vec![&track_id];
    values.extend(tag_values(tags, derived, &cover_id, &artists));
    values.push(&content_changed);
    statement.execute(params_from_iter(values))?;
    Ok(())
}

fn artists_json(tags: &MediaTags) -> String {
    serde_json::to_string(&tags.artists).unwrap_or_else(|_| "[]".to_owned())
}

/// The 36 tag columns, in the order both the INSERT and the UPDATE of a track list them.
// `&String`, not `&str`: an unsized `str` cannot be handed on as a `&dyn ToSql`.
#[allow(clippy::ptr_arg)]
fn tag_values<'a>(
    tags: &'a MediaTags,
    derived: &'a Derived,
    cover_id: &'a Option<i64>,
    artists: &'a String,
) -> [&'a dyn ToSql; 36] {
    [
        &tags.title,
        &tags.artist,
        artists,
        &tags.album,
        &tags.album_artist,
        &tags.track_no,
        &tags.track_total,
        &tags.disc_no,
        &tags.disc_total,
        &tags.year,
        &tags.date,
        &tags.genre,
        &tags.composer,
        &tags.duration_ms,
        &tags.sample_rate,
        &tags.channels,
        &tags.bit_depth,
        &tags.bitrate_kbps,
        &tags.rg_track_gain,
        &tags.rg_track_peak,
        &tags.rg_album_gain,
        &tags.rg_album_peak,
        &tags.mb_recording_id,
        &tags.mb_track_id,
        &tags.mb_release_id,
        &tags.mb_artist_id,
        &tags.mb_release_artist_id,
        &tags.compilation,
        &tags.format,
        cover_id,
        &derived.group_artist,
        &derived.sort_title,
        &derived.sort_artist,
        &derived.sort_album,
        &derived.sort_group_artist,
        &derived.sort_genre,
    ]
}

fn starts_with_dir(key: &[u8], dir: &Path) -> bool {
    let dir = paths::to_bytes(dir);
    key == dir.as_slice()
        || (key.starts_with(&dir) && key.get(dir.len()) == Some(&(std::path::MAIN_SEPARATOR as u8)))
}

/// The walk over the scanned roots: the audio files found, and what could not be read.
struct ScanWalk {
    walk: Walk,
    files: Vec<SeenFile>,
    errors: Vec<ScanError>,
    /// Folders (and entries) that could not be read: what the index has below them is kept,
    /// not removed.
    unreadable: Vec<PathBuf>,
    reported: usize,
}

impl ScanWalk {
    fn new() -> ScanWalk {
        // Only audio the engine plays and folder covers are looked at (and stat'ed).
        let walk = Walk::new().files_named(|name| {
            loft_media::is_playable(Path::new(name)) || paths::folder_cover_rank(name).is_some()
        });
        ScanWalk { walk, files: Vec::new(), errors: Vec::new(), unreadable: Vec::new(), reported: 0 }
    }

    fn root(&mut self, root: &ScanRoot, progress: &(dyn Fn(ScanProgress) + Sync)) {
        let metadata = match std::fs::metadata(&root.path) {
            Ok(metadata) => metadata,
            Err(error) => {
                if root.must_exist {
                    self.errors.push(ScanError {
                        path: paths::display(&root.path),
                        reason: format!(
                            "library folder is missing or unreadable ({error}); its tracks are kept"
                        ),
                    });
                    self.unreadable.push(root.path.clone());
                }
                return;
            }
        };
        if metadata.is_file() {
            if loft_media::is_playable(&root.path) {
                let folder_cover = root.path.parent().and_then(find_folder_cover).map(Arc::new);
                self.push_file(root.path.clone(), root.folder_id, &metadata, folder_cover);
            }
            return;
        }
        // A folder walked already (for another root, through a link) is not walked again.
        self.walk.add_root(&root.path);
        while let Some(item) = self.walk.next() {
            match item {
                WalkItem::Folder(folder) => self.folder(folder, root.folder_id),
                WalkItem::Unreadable { path, error, folder } => {
                    let what = if folder { "this folder" } else { "this entry" };
                    self.errors.push(ScanError {
                        path: paths::display(&path),
                        reason: format!("cannot read {what}: {error}"),
                    });
                    self.unreadable.push(path);
                }
            }
            if self.files.len() >= self.reported + 2048 {
                self.reported = self.files.len();
                progress(ScanProgress {
                    files_seen: self.files.len() as u64,
                    files_to_read: 0,
                    files_read: 0,
                });
            }
        }
    }

    fn folder(&mut self, folder: WalkedFolder, folder_id: i64) {
        let cover = folder
            .files
            .iter()
            .filter_map(|file| Some((paths::folder_cover_rank(file.path.file_name()?)?, &file.path)))
            .min_by_key(|(rank, _)| *rank)
            .map(|(_, path)| Arc::new(path.clone()));
        for file in folder.files {
            if loft_media::is_playable(&file.path) {
                self.push_file(file.path, folder_id, &file.metadata, cover.clone());
            }
        }
    }

    fn push_file(
        &mut self,
        path: PathBuf,
        folder_id: i64,
        metadata: &Metadata,
        folder_cover: Option<Arc<PathBuf>>,
    ) {
        let mtime_ns = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        self.files.push(SeenFile {
            key: paths::to_bytes(&path),
            path,
            folder_id,
            size: metadata.len(),
            mtime_ns,
            folder_cover,
        });
    }
}

fn find_folder_cover(dir: &Path) -> Option<PathBuf> {
    paths::FOLDER_COVER_NAMES.iter().map(|name| dir.join(name)).find(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_fold_case_diacritics_and_articles() {
        assert_eq!(sort_key("Beyoncé"), "beyonce");
        assert_eq!(sort_key("The Beatles"), "beatles");
        assert_eq!(sort_key("The"), "the");
        assert_eq!(sort_key("  Sigur Rós "), "sigur ros");
    }

    #[test]
    fn compilations_group_under_various_artists() {
        let mut tags = MediaTags { artist: "A".into(), ..MediaTags::default() };
        assert_eq!(group_artist(&tags), "A");
        tags.album_artist = "B".into();
        assert_eq!(group_artist(&tags), "B");
        tags.compilation = true;
        assert_eq!(group_artist(&tags), VARIOUS_ARTISTS);
    }
}
