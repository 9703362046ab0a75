//! The encrypted locker on S3, WebDAV and a folder: what the storage provider holds says
//! nothing about the music, a second device with the passphrase plays every track bit for bit,
//! a wrong passphrase is refused, and bytes changed, moved or cut short in the storage are
//! refused and never handed out.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};

use loft_locker::{EncryptOptions, ErrorKind, Locker, LockerOpener, LockerSecret, OfflineCache, OpenOptions};
use sha2::{Digest, Sha256};
use support::{Backend, CorpusFile, TestStorage, tagged_corpus, test_options};
use tempfile::TempDir;
use zeroize::Zeroizing;

macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod s3 { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(super::Backend::S3).await } )* }
        mod webdav { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(super::Backend::WebDav).await } )* }
        mod folder { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(super::Backend::Folder).await } )* }
    };
}

on_every_backend!(
    the_provider_sees_nothing_and_another_device_plays_every_track,
    a_wrong_passphrase_is_refused_and_no_key_means_locked,
    changed_moved_or_cut_bytes_are_refused_and_never_played,
    the_passphrase_changes_and_the_recovery_key_unlocks,
    a_plaintext_locker_converts_while_another_device_keeps_using_it,
    a_device_left_out_of_a_conversion_keeps_its_record,
);

const PASSPHRASE: &str = "correct horse battery staple";
const PLAYLIST: &str = "Secret Road Trip Mix";

fn creating(part_size: u64) -> OpenOptions {
    OpenOptions {
        new_locker_passphrase: Some(Zeroizing::new(PASSPHRASE.to_owned())),
        new_locker_part_size: part_size,
        ..test_options()
    }
}

fn unlocking(passphrase: &str) -> OpenOptions {
    OpenOptions { secret: Some(LockerSecret::passphrase(passphrase)), ..test_options() }
}

async fn open(
    storage: &TestStorage,
    device: &str,
    state: &Path,
    options: OpenOptions,
) -> loft_locker::Result<Locker> {
    Locker::open_with(&storage.url, storage.credentials.clone(), device, state, options).await
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Streams a track the way the player does, with a cache of its own; what was read before a
/// failure comes back with it.
async fn play(locker: &Locker, cache_dir: &Path, track_id: &str) -> (Vec<u8>, Option<String>) {
    let cache = OfflineCache::open(cache_dir, 1 << 30).unwrap();
    let opener =
        LockerOpener::new(locker.clone(), cache, tokio::runtime::Handle::current(), track_id, "track", None);
    tokio::task::spawn_blocking(move || {
        let mut stream = match opener.open_stream() {
            Ok(stream) => stream,
            Err(error) => return (Vec::new(), Some(format!("{:?}: {error}", error.kind()))),
        };
        let mut bytes = Vec::new();
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            match stream.read(&mut buffer) {
                Ok(0) => return (bytes, None),
                Ok(count) => bytes.extend_from_slice(&buffer[..count]),
                Err(error) => return (bytes, Some(error.to_string())),
            }
        }
    })
    .await
    .unwrap()
}

/// Every object the storage holds, by its path under the locker's root.
fn stored_objects(storage: &TestStorage) -> Vec<(String, Vec<u8>)> {
    storage
        .files_under("")
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(&storage.objects_root).unwrap().to_string_lossy().into_owned();
            let data = std::fs::read(&path).unwrap();
            (relative, data)
        })
        .collect()
}

/// Secrets this long are looked for anywhere in an object; shorter ones only in its head.
const MATCHED_ANYWHERE: usize = 8;
/// The head of an object: where a format's magic (at 0, or MP4's `ftyp` at 4, WAV's `WAVEfmt `
/// at 8) would be if it were stored in the clear.
const HEAD: usize = 16;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|window| window == needle)
}

/// What must appear nowhere in the locker: every tag, each file's first bytes (its format's
/// magic and the header around it), the magic numbers of the formats, and each file's SHA-256
/// and those of its 64 KiB pieces, as hex and as bytes.
fn secrets(corpus: &[CorpusFile], extra: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();
    for name in extra {
        secrets.push((format!("the text '{name}'"), name.as_bytes().to_vec()));
    }
    for magic in [&b"fLaC"[..], b"OggS", b"ftyp", b"WAVEfmt ", b"OpusHead", b"vorbis"] {
        secrets.push((format!("the magic {}", String::from_utf8_lossy(magic)), magic.to_vec()));
    }
    for file in corpus {
        let data = std::fs::read(&file.path).unwrap();
        let name = file.path.file_name().unwrap().to_string_lossy().into_owned();
        for tag in [&file.title, &file.artist, &file.album] {
            secrets.push((format!("the tag '{tag}'"), tag.as_bytes().to_vec()));
        }
        secrets.push((format!("the first bytes of {name}"), data[..8].to_vec()));
        let middle = data.len() / 2;
        if let Some(sample) = data.get(middle..middle + 64) {
            secrets.push((format!("64 bytes from the middle of {name}"), sample.to_vec()));
        }
        secrets.push((format!("the file name {name}"), name.as_bytes().to_vec()));
        let mut hashes = vec![Sha256::digest(&data).to_vec()];
        hashes.extend(data.chunks(64 * 1024).map(|piece| Sha256::digest(piece).to_vec()));
        for hash in hashes {
            secrets.push((format!("a SHA-256 of {name} in hex"), hex(&hash).into_bytes()));
            secrets.push((
                format!("a SHA-256 of {name} in upper-case hex"),
                hex(&hash).to_uppercase().into_bytes(),
            ));
            secrets.push((format!("a SHA-256 of {name} as bytes"), hash));
        }
    }
    secrets
}

fn assert_nothing_readable(storage: &TestStorage, corpus: &[CorpusFile], extra: &[&str]) {
    let objects = stored_objects(storage);
    assert!(objects.iter().any(|(path, _)| path.starts_with("sealed/parts/")), "no sealed parts stored");
    let secrets = secrets(corpus, extra);
    for (path, data) in &objects {
        assert!(
            path == "locker.json" || path.starts_with("sealed/") || path.starts_with("tmp/"),
            "{path} is outside the sealed layout"
        );
        for (what, secret) in &secrets {
            assert!(!contains(path.as_bytes(), secret), "{what} is in the name {path}");
            // A short string turns up in this many random bytes by chance now and then, so it
            // is looked for where a format puts its magic: the start of an object stored in the
            // clear. Longer ones cannot turn up by chance and are looked for everywhere.
            let searched =
                if secret.len() < MATCHED_ANYWHERE { &data[..data.len().min(HEAD)] } else { &data[..] };
            assert!(!contains(searched, secret), "{what} is in the content of {path}");
        }
    }
}

async fn upload_all(locker: &Locker, paths: &[PathBuf]) -> Vec<String> {
    let report = locker.upload(paths, None).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.uploaded.len(), paths.len());
    paths
        .iter()
        .map(|path| report.uploaded.iter().find(|file| file.path == *path).unwrap().track_id.clone())
        .collect()
}

async fn the_provider_sees_nothing_and_another_device_plays_every_track(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let corpus_dir = TempDir::new().unwrap();
    let corpus = tagged_corpus(corpus_dir.path());
    let paths: Vec<PathBuf> = corpus.iter().map(|file| file.path.clone()).collect();

    let laptop_state = TempDir::new().unwrap();
    let laptop = open(&storage, "laptop", laptop_state.path(), creating(64 * 1024)).await.unwrap();
    assert!(laptop.encryption().encrypted && laptop.encryption().unlocked);
    let ids = upload_all(&laptop, &paths).await;
    let playlist = laptop.create_playlist(PLAYLIST).await.unwrap();
    laptop.playlist_add_many(&playlist, &ids, None).await.unwrap();
    laptop.sync().await.unwrap();
    // A snapshot too, so every kind of catalog object is in the locker.
    laptop.snapshot_and_compact().await.unwrap();
    assert_nothing_readable(&storage, &corpus, &[PLAYLIST, "laptop"]);

    // Another device, with the passphrase: every track, the playlist, bit for bit.
    let desk_state = TempDir::new().unwrap();
    let desk = open(&storage, "desk", desk_state.path(), unlocking(PASSPHRASE)).await.unwrap();
    desk.sync().await.unwrap();
    assert_eq!(desk.track_count().await, corpus.len());
    let playlists = desk.playlists().await;
    assert_eq!(playlists.len(), 1);
    assert_eq!(playlists[0].name, PLAYLIST);
    assert_eq!(playlists[0].entries.len(), corpus.len());
    for (file, id) in corpus.iter().zip(&ids) {
        let track = desk.track(id).await.unwrap();
        assert_eq!(track.title.as_deref(), Some(file.title.as_str()), "{}", file.path.display());
        let (bytes, failure) = play(&desk, &desk_state.path().join("cache"), id).await;
        assert_eq!(failure, None, "{}", file.path.display());
        assert!(bytes == std::fs::read(&file.path).unwrap(), "{} streamed differently", file.path.display());
    }
    let check = desk.check(None).await.unwrap();
    assert!(check.findings.is_empty(), "{:?}", check.findings);
    assert_eq!(check.blobs_checked, corpus.len());
    // The desk's own writes are sealed too.
    desk.sync().await.unwrap();
    assert_nothing_readable(&storage, &corpus, &[PLAYLIST, "laptop", "desk"]);
}

async fn a_wrong_passphrase_is_refused_and_no_key_means_locked(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let laptop_state = TempDir::new().unwrap();
    let laptop = open(&storage, "laptop", laptop_state.path(), creating(64 * 1024)).await.unwrap();
    let track = support::write_tracks(&laptop_state.path().join("music"), 1, 1, 20_000);
    upload_all(&laptop, &track).await;

    let desk_state = TempDir::new().unwrap();
    let error = open(&storage, "desk", desk_state.path(), unlocking("correct horse battery stapler"))
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::WrongPassphrase);
    assert_eq!(error.to_string(), "That passphrase does not unlock this locker");

    // No passphrase anywhere: the locker opens locked, reads and writes nothing, and says why.
    let desk = open(&storage, "desk", desk_state.path(), test_options()).await.unwrap();
    assert!(desk.is_locked());
    let error = desk.sync().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Locked, "{error}");
    let error = desk.create_playlist("Not yet").await;
    assert!(error.is_ok(), "an edit is kept for later even while locked: {error:?}");
    assert_eq!(desk.pending_ops().await, 1);
    let wrong = desk.unlock(&LockerSecret::passphrase("nope nope nope")).await.unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::WrongPassphrase);
    desk.unlock(&LockerSecret::passphrase(PASSPHRASE)).await.unwrap();
    let report = desk.sync().await.unwrap();
    assert_eq!(report.pending_ops, 0);
    assert_eq!(desk.track_count().await, 1);
    laptop.sync().await.unwrap();
    assert_eq!(laptop.playlists().await.len(), 1, "the edit made while locked reached the other device");
}

/// The sealed files under `dir` (below the locker's root), sorted.
fn sealed_files(storage: &TestStorage, dir: &str) -> Vec<PathBuf> {
    storage.files_under(dir)
}

async fn changed_moved_or_cut_bytes_are_refused_and_never_played(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let laptop_state = TempDir::new().unwrap();
    // 256 KiB parts: four chunks each, so chunks can be swapped within a part.
    let laptop = open(&storage, "laptop", laptop_state.path(), creating(256 * 1024)).await.unwrap();
    let music = support::write_tracks(&laptop_state.path().join("music"), 40, 1, 300_000);
    let original = std::fs::read(&music[0]).unwrap();
    let id = upload_all(&laptop, &music).await.remove(0);
    laptop.sync().await.unwrap();

    let parts = sealed_files(&storage, "sealed/parts");
    assert_eq!(parts.len(), 3, "{parts:?}");
    const SEALED_CHUNK: usize = 64 * 1024 + 16;
    let try_playing = |label: &'static str| {
        let storage = &storage;
        let original = &original;
        let id = id.clone();
        async move {
            let state = TempDir::new().unwrap();
            let desk = open(storage, "desk", state.path(), unlocking(PASSPHRASE)).await.unwrap();
            desk.sync().await.unwrap();
            let (bytes, failure) = play(&desk, &state.path().join("cache"), &id).await;
            let failure = failure.unwrap_or_else(|| panic!("{label}: the tampered track played"));
            assert!(
                failure.contains("fails its authentication") || failure.contains("does not match"),
                "{label}: {failure}"
            );
            assert!(original.starts_with(&bytes), "{label}: bytes that are not the file were handed out");
        }
    };
    let tamper = |path: &Path, change: &dyn Fn(&mut Vec<u8>)| {
        let mut data = std::fs::read(path).unwrap();
        change(&mut data);
        std::fs::write(path, data).unwrap();
    };

    let saved: Vec<Vec<u8>> = parts.iter().map(|path| std::fs::read(path).unwrap()).collect();
    tamper(&parts[1], &|data| data[2 * SEALED_CHUNK + 100] ^= 0x01);
    try_playing("a flipped bit").await;
    std::fs::write(&parts[1], &saved[1]).unwrap();

    tamper(&parts[0], &|data| {
        let (one, two) = (
            data[SEALED_CHUNK..2 * SEALED_CHUNK].to_vec(),
            data[2 * SEALED_CHUNK..3 * SEALED_CHUNK].to_vec(),
        );
        data[SEALED_CHUNK..2 * SEALED_CHUNK].copy_from_slice(&two);
        data[2 * SEALED_CHUNK..3 * SEALED_CHUNK].copy_from_slice(&one);
    });
    try_playing("two chunks swapped").await;
    std::fs::write(&parts[0], &saved[0]).unwrap();

    tamper(&parts[0], &|data| data.truncate(data.len() - SEALED_CHUNK));
    try_playing("a part cut short by a chunk").await;
    std::fs::write(&parts[0], &saved[0]).unwrap();
    tamper(&parts[2], &|data| data.truncate(SEALED_CHUNK + 500));
    try_playing("a part cut short inside a chunk").await;
    std::fs::write(&parts[2], &saved[2]).unwrap();
    // Cut where only padding was: nothing of the file is lost, but a check says the part is
    // not whole.
    tamper(&parts[2], &|data| data.truncate(data.len() - SEALED_CHUNK));
    let check = laptop.check(None).await.unwrap();
    assert_eq!(check.findings.len(), 1, "{:?}", check.findings);
    assert_eq!(check.findings[0].kind, loft_locker::FindingKind::MissingPart);
    std::fs::write(&parts[2], &saved[2]).unwrap();

    // A whole part moved to another part's name.
    std::fs::write(&parts[1], &saved[0]).unwrap();
    try_playing("a part under another part's name").await;
    std::fs::write(&parts[1], &saved[1]).unwrap();

    // A changed manifest: the track cannot be opened, and says why.
    let manifests = sealed_files(&storage, "sealed/blobs");
    assert_eq!(manifests.len(), 1);
    let saved_manifest = std::fs::read(&manifests[0]).unwrap();
    tamper(&manifests[0], &|data| {
        let last = data.len() - 1;
        data[last] ^= 0x80;
    });
    let error = laptop.open_blob(&id).await.err().unwrap();
    assert_eq!(error.kind(), ErrorKind::Integrity, "{error}");
    std::fs::write(&manifests[0], &saved_manifest).unwrap();

    // A changed catalog log is a problem of that log, not a change to the catalog.
    let logs = sealed_files(&storage, "sealed/catalog/log");
    let saved_log = std::fs::read(&logs[0]).unwrap();
    tamper(&logs[0], &|data| data[40] ^= 0x04);
    let state = TempDir::new().unwrap();
    let fresh = open(&storage, "fresh", state.path(), unlocking(PASSPHRASE)).await.unwrap();
    let report = fresh.sync().await.unwrap();
    assert!(!report.problems.is_empty(), "the changed log was read");
    assert_eq!(fresh.track_count().await, 0);
    std::fs::write(&logs[0], &saved_log).unwrap();
    assert_eq!(fresh.sync().await.unwrap().problems, Vec::<String>::new());
    assert_eq!(fresh.track_count().await, 1);

    // With everything put back, the track plays whole.
    let (bytes, failure) = play(&fresh, &state.path().join("cache"), &id).await;
    assert_eq!(failure, None);
    assert!(bytes == original);
}

async fn the_passphrase_changes_and_the_recovery_key_unlocks(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let laptop_state = TempDir::new().unwrap();
    let laptop = open(&storage, "laptop", laptop_state.path(), creating(64 * 1024)).await.unwrap();
    let recovery = laptop.recovery_key().unwrap();
    let music = support::write_tracks(&laptop_state.path().join("music"), 70, 1, 20_000);
    upload_all(&laptop, &music).await;

    laptop.change_passphrase(&LockerSecret::passphrase(PASSPHRASE), "a brand new passphrase").await.unwrap();
    let state = TempDir::new().unwrap();
    let old = open(&storage, "desk", state.path(), unlocking(PASSPHRASE)).await.err().unwrap();
    assert_eq!(old.kind(), ErrorKind::WrongPassphrase);
    let desk = open(&storage, "desk", state.path(), unlocking("a brand new passphrase")).await.unwrap();
    desk.sync().await.unwrap();
    assert_eq!(desk.track_count().await, 1);

    // The passphrase forgotten: the recovery key opens the locker and sets a new one.
    let state = TempDir::new().unwrap();
    let secret =
        LockerSecret::RecoveryKey(loft_locker::RecoveryKey::parse(&recovery.to_lowercase()).unwrap());
    let phone =
        open(&storage, "phone", state.path(), OpenOptions { secret: Some(secret.clone()), ..test_options() })
            .await
            .unwrap();
    phone.change_passphrase(&secret, "remembered this time").await.unwrap();
    phone.sync().await.unwrap();
    assert_eq!(phone.track_count().await, 1);
    let state = TempDir::new().unwrap();
    assert!(open(&storage, "tablet", state.path(), unlocking("remembered this time")).await.is_ok());
    // A passphrase too short to protect anything is refused before anything changes.
    let error = phone.change_passphrase(&secret, "short").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
}

/// The files [`support::write_tracks`] writes, as corpus entries (their tags are known).
fn written_tracks(dir: &Path, first_seed: u64, count: usize) -> Vec<CorpusFile> {
    support::write_tracks(dir, first_seed, count, 30_000)
        .into_iter()
        .zip(first_seed..)
        .map(|(path, seed)| CorpusFile {
            path,
            title: format!("Song {seed}"),
            artist: "The Testers".into(),
            album: "Loopback".into(),
        })
        .collect()
}

async fn a_plaintext_locker_converts_while_another_device_keeps_using_it(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let corpus_dir = TempDir::new().unwrap();
    let mut corpus = tagged_corpus(corpus_dir.path());
    let (laptop_state, desk_state) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let laptop = open(&storage, "laptop", laptop_state.path(), test_options()).await.unwrap();
    let desk = open(&storage, "desk", desk_state.path(), test_options()).await.unwrap();
    let paths: Vec<PathBuf> = corpus.iter().map(|file| file.path.clone()).collect();
    let mut ids = upload_all(&laptop, &paths[..4]).await;
    ids.extend(upload_all(&desk, &paths[4..]).await);
    let playlist = laptop.create_playlist(PLAYLIST).await.unwrap();
    laptop.sync().await.unwrap();
    laptop.playlist_add_many(&playlist, &ids, None).await.unwrap();
    desk.sync().await.unwrap();
    assert!(!laptop.encryption().encrypted);
    let plaintext_locker_file = std::fs::read(storage.objects_root.join("locker.json")).unwrap();

    // The laptop starts the conversion while the desk, which knows nothing of it, uploads.
    let during = written_tracks(&desk_state.path().join("during"), 500, 1);
    let start =
        EncryptOptions { passphrase: Some(Zeroizing::new(PASSPHRASE.to_owned())), ..Default::default() };
    let during_paths = [during[0].path.clone()];
    let (converted, uploaded) = tokio::join!(laptop.encrypt(start, None), desk.upload(&during_paths, None));
    let first = converted.unwrap();
    assert!(uploaded.failed.is_empty(), "{:?}", uploaded.failed);
    assert!(first.recovery_key.is_some());
    assert!(!first.finished);
    assert_eq!(first.waiting_for, vec!["desk".to_owned()]);
    assert!(laptop.encryption().encrypted && laptop.encryption().converting);
    let converting_locker_file = std::fs::read(storage.objects_root.join("locker.json")).unwrap();
    corpus.extend(during);

    // The desk learns of it at its next sync: without the key it writes nothing, and keeps
    // its edits for later.
    let error = desk.sync().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Locked);
    let desk_list = desk.create_playlist("Desk Only Favourites").await.unwrap();
    assert_eq!(desk.pending_ops().await, 1);
    // Still readable meanwhile: what is in plaintext plays from the desk.
    let (bytes, failure) = play(&desk, &desk_state.path().join("cache"), &ids[0]).await;
    assert_eq!(failure, None);
    assert!(bytes == std::fs::read(&paths[0]).unwrap());

    // Unlocked, the desk moves: its edits go out sealed, and it uploads on.
    desk.unlock(&LockerSecret::passphrase(PASSPHRASE)).await.unwrap();
    assert_eq!(desk.sync().await.unwrap().pending_ops, 0);
    let after = written_tracks(&desk_state.path().join("after"), 600, 1);
    upload_all(&desk, &[after[0].path.clone()]).await;
    desk.playlist_add_many(&desk_list, &ids[..2], None).await.unwrap();
    corpus.extend(after);

    let last = laptop.encrypt(EncryptOptions::default(), None).await.unwrap();
    assert!(last.finished, "{last:?}");
    assert!(last.plaintext_deleted > 0);
    assert!(!laptop.encryption().converting);
    assert_nothing_readable(&storage, &corpus, &[PLAYLIST, "Desk Only Favourites", "laptop", "desk"]);

    // Everything is there for a device that joins now, and plays bit for bit.
    let tablet_state = TempDir::new().unwrap();
    let tablet = open(&storage, "tablet", tablet_state.path(), unlocking(PASSPHRASE)).await.unwrap();
    tablet.sync().await.unwrap();
    assert_eq!(tablet.track_count().await, corpus.len());
    let mut lists: Vec<(String, usize)> =
        tablet.playlists().await.into_iter().map(|list| (list.name, list.entries.len())).collect();
    lists.sort();
    assert_eq!(lists, vec![("Desk Only Favourites".to_owned(), 2), (PLAYLIST.to_owned(), 6)]);
    for track in tablet.tracks().await {
        let file = corpus.iter().find(|file| Some(file.title.as_str()) == track.title.as_deref()).unwrap();
        let (bytes, failure) = play(&tablet, &tablet_state.path().join("cache"), &track.id).await;
        assert_eq!(failure, None, "{}", file.path.display());
        assert!(bytes == std::fs::read(&file.path).unwrap(), "{}", file.path.display());
    }
    let check = tablet.check(None).await.unwrap();
    assert!(check.findings.is_empty(), "{:?}", check.findings);
    // And the desk, which lived through it, agrees.
    desk.sync().await.unwrap();
    assert_eq!(desk.track_count().await, corpus.len());
    assert!(!desk.encryption().converting);

    // Whoever puts an old locker.json back — from during the conversion (its MAC is genuine)
    // or from before it — gets no device that saw the end to read or write plaintext again.
    let finished_locker_file = std::fs::read(storage.objects_root.join("locker.json")).unwrap();
    storage.put_behind_the_back("locker.json", &converting_locker_file);
    let error = desk.sync().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Integrity, "{error}");
    assert!(!desk.encryption().converting);
    drop(desk);
    let error = open(&storage, "desk", desk_state.path(), test_options()).await.err().unwrap();
    assert_eq!(error.kind(), ErrorKind::Integrity, "{error}");
    storage.put_behind_the_back("locker.json", &plaintext_locker_file);
    let error = open(&storage, "desk", desk_state.path(), test_options()).await.err().unwrap();
    assert_eq!(error.kind(), ErrorKind::Integrity, "{error}");
    assert!(error.to_string().contains("no longer says this locker is encrypted"), "{error}");
    storage.put_behind_the_back("locker.json", &finished_locker_file);
    let desk = open(&storage, "desk", desk_state.path(), test_options()).await.unwrap();
    assert!(desk.encryption().encrypted && !desk.encryption().converting);
}

/// A device that never comes back is left out of the conversion (`--without`): the conversion
/// finishes without it, its record is sealed with the rest, and garbage collection still runs.
async fn a_device_left_out_of_a_conversion_keeps_its_record(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let (laptop_state, lost_state) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let laptop = open(&storage, "laptop", laptop_state.path(), test_options()).await.unwrap();
    let lost = open(&storage, "lost-phone", lost_state.path(), test_options()).await.unwrap();
    let tracks = written_tracks(&lost_state.path().join("music"), 700, 2);
    upload_all(&lost, &tracks.iter().map(|file| file.path.clone()).collect::<Vec<_>>()).await;
    lost.create_playlist("From The Lost Phone").await.unwrap();
    lost.sync().await.unwrap();
    drop(lost);
    laptop.sync().await.unwrap();

    let start =
        EncryptOptions { passphrase: Some(Zeroizing::new(PASSPHRASE.to_owned())), ..Default::default() };
    let first = laptop.encrypt(start, None).await.unwrap();
    assert_eq!(first.waiting_for, vec!["lost-phone".to_owned()]);
    let without = EncryptOptions { without_devices: vec!["lost-phone".into()], ..Default::default() };
    let last = laptop.encrypt(without, None).await.unwrap();
    assert!(last.finished, "{last:?}");
    assert_nothing_readable(&storage, &tracks, &["From The Lost Phone", "lost-phone"]);

    let gc = laptop.gc(loft_locker::GcOptions::default()).await.unwrap();
    assert_eq!(gc.refused, None, "{gc:?}");
    let tablet_state = TempDir::new().unwrap();
    let tablet = open(&storage, "tablet", tablet_state.path(), unlocking(PASSPHRASE)).await.unwrap();
    tablet.sync().await.unwrap();
    assert_eq!(tablet.track_count().await, 2);
    assert_eq!(tablet.playlists().await.len(), 1);
}
