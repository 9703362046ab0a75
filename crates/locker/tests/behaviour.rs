//! One behaviour suite, run against S3, WebDAV and a folder.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use loft_locker::{Credentials, ErrorKind, GcOptions, Locker, LockerError, OpenOptions};
use support::{Backend, TestStorage, test_options, wav, write_tracks};

macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod s3 { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(super::Backend::S3).await } )* }
        mod webdav { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(super::Backend::WebDav).await } )* }
        mod folder { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(super::Backend::Folder).await } )* }
    };
}

on_every_backend!(
    uploads_read_back_and_dedupe,
    quota_refuses_before_sending,
    two_devices_converge,
    inbox_imports_once,
    bad_input_fails_clearly,
    remove_and_gc,
    snapshot_lets_a_new_device_start,
    file_changing_during_upload_is_refused,
    newer_format_is_refused,
);

/// 100 files upload; the same 100 again (from this device and another) send no audio bytes.
async fn uploads_read_back_and_dedupe(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let (laptop, _laptop_state) = storage.device("laptop").await;
    let music = tempfile::tempdir().unwrap();
    // Mostly single-part files, and a few of several 64 KiB parts.
    let mut files = write_tracks(music.path(), 0, 95, 3_000);
    files.extend(write_tracks(&music.path().join("long"), 1000, 5, 100_000));
    let total: u64 = files.iter().map(|file| std::fs::metadata(file).unwrap().len()).sum();

    let progress_calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = progress_calls.clone();
    let report = laptop
        .upload(
            &[music.path().to_owned()],
            Some(Arc::new(move |_| {
                counter.fetch_add(1, Ordering::Relaxed);
            })),
        )
        .await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.uploaded.len(), 100);
    assert_eq!(report.bytes_sent, total);
    assert!(progress_calls.load(Ordering::Relaxed) >= 200);
    assert_eq!(laptop.usage().await, total);

    let tracks = laptop.tracks().await;
    assert_eq!(tracks.len(), 100);
    let long = report.uploaded.iter().find(|file| file.path.ends_with("track-1002.wav")).unwrap();
    let track = laptop.track(&long.track_id).await.unwrap();
    assert_eq!(track.title.as_deref(), Some("Song 1002"));
    assert_eq!(track.artist.as_deref(), Some("The Testers"));
    assert_eq!(track.album.as_deref(), Some("Loopback"));
    assert_eq!(track.file_name.as_deref(), Some("track-1002.wav"));
    assert_eq!(track.duration_ms, Some(12_500));

    // Range reads across part boundaries return the file's bytes.
    let original = std::fs::read(&long.path).unwrap();
    let blob = laptop.open_blob(&long.track_id).await.unwrap();
    assert_eq!(blob.size(), original.len() as u64);
    assert!(blob.part_count() > 2);
    let (start, end) = (60_000u64, 140_000u64);
    assert_eq!(&blob.read_range(start, end).await.unwrap()[..], &original[start as usize..end as usize]);
    assert_eq!(&blob.read_range(0, u64::MAX).await.unwrap()[..], &original[..]);
    assert_eq!(blob.read_part_verified(1).await.unwrap().len(), 64 * 1024);

    let again = laptop.upload(&files, None).await;
    assert_eq!((again.uploaded.len(), again.duplicates.len(), again.bytes_sent), (0, 100, 0));

    let (desktop, _desktop_state) = storage.device("desktop").await;
    let from_desktop = desktop.upload(&files, None).await;
    assert!(from_desktop.failed.is_empty(), "{:?}", from_desktop.failed);
    assert_eq!((from_desktop.duplicates.len(), from_desktop.bytes_sent), (100, 0));
    let pulled = desktop.sync().await.unwrap();
    assert!(pulled.problems.is_empty(), "{:?}", pulled.problems);
    assert_eq!(pulled.tracks_changed.len(), 100, "a sync reports this device's own uploads too");
    assert_eq!(desktop.sync().await.unwrap().tracks_changed.len(), 100, "again until it was applied");
    desktop.report_applied().await.unwrap();
    assert!(desktop.sync().await.unwrap().tracks_changed.is_empty(), "and once applied, not again");
    assert_eq!(desktop.tracks().await.len(), 100);
    laptop.sync().await.unwrap();
    assert_eq!(laptop.tracks().await, desktop.tracks().await);
}

async fn quota_refuses_before_sending(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let (locker, _state) = storage.device("phone").await;
    assert_eq!(locker.quota(), loft_locker::DEFAULT_QUOTA);
    let music = tempfile::tempdir().unwrap();
    let small = write_tracks(&music.path().join("small"), 0, 2, 2_000);
    let big = write_tracks(&music.path().join("big"), 50, 1, 200_000);
    let small_size: u64 = small.iter().map(|file| std::fs::metadata(file).unwrap().len()).sum();
    locker.set_quota(small_size + 10_000).await.unwrap();

    let mut paths = big.clone();
    paths.extend(small.clone());
    let report = locker.upload(&paths, None).await;
    assert_eq!(report.uploaded.len(), 2, "the files that fit go on");
    assert_eq!(report.failed.len(), 1);
    let refusal = &report.failed[0];
    assert_eq!(refusal.kind, "quota");
    assert!(refusal.message.contains("needs 390.7 KiB"), "{}", refusal.message);
    assert!(refusal.message.contains("quota is left"), "{}", refusal.message);
    assert_eq!(report.bytes_sent, small_size, "not a byte of the refused file was sent");
    assert_eq!(storage.files_under("parts").len(), 2, "only the two small files' parts exist");

    // Files uploaded at once reserve their bytes: with room for one more, three at once give
    // exactly one upload and two refusals.
    let more = write_tracks(&music.path().join("more"), 60, 3, 2_000);
    let each = std::fs::metadata(&more[0]).unwrap().len();
    locker.set_quota(locker.usage().await + each + each / 2).await.unwrap();
    let report = locker.upload(&more, None).await;
    assert_eq!((report.uploaded.len(), report.failed.len()), (1, 2), "{report:?}");
    assert!(report.failed.iter().all(|failure| failure.kind == "quota"));
    let quota = locker.quota();

    // Another device sees the new quota.
    let (other, _other_state) = storage.device("tablet").await;
    assert_eq!(other.quota(), quota);
    assert_eq!(loft_locker::parse_size("5GiB").unwrap(), loft_locker::DEFAULT_QUOTA);
}

/// Two devices upload and edit one playlist at the same time; after syncing both have the same
/// catalog and every op survived.
async fn two_devices_converge(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let (a, _a_state) = storage.device("device-a").await;
    let (b, _b_state) = storage.device("device-b").await;
    let music = tempfile::tempdir().unwrap();
    let files_a = write_tracks(&music.path().join("a"), 0, 6, 1_500);
    let files_b = write_tracks(&music.path().join("b"), 100, 6, 1_500);
    let shared = write_tracks(&music.path().join("shared"), 500, 1, 1_500);

    let mix = a.create_playlist("Mix").await.unwrap();
    b.sync().await.unwrap();

    let (report_a, report_b) = tokio::join!(
        async {
            let mut paths = files_a.clone();
            paths.extend(shared.clone());
            let report = a.upload(&paths, None).await;
            for file in report.uploaded.iter().chain(&report.duplicates) {
                a.playlist_add(&mix, &file.track_id, None).await.unwrap();
            }
            a.rename_playlist(&mix, "Mix from A").await.unwrap();
            report
        },
        async {
            let mut paths = files_b.clone();
            paths.extend(shared.clone());
            let report = b.upload(&paths, None).await;
            for file in report.uploaded.iter().chain(&report.duplicates) {
                b.playlist_add(&mix, &file.track_id, Some(0)).await.unwrap();
            }
            report
        }
    );
    assert!(report_a.failed.is_empty() && report_b.failed.is_empty());
    // Concurrent edits after an exchange: A moves and removes entries B added, B renames.
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    let seen_by_a = a.playlist(&mix).await.unwrap();
    assert_eq!(seen_by_a.entries.len(), 14);
    let (first, last) = (seen_by_a.entries[0].entry_id.clone(), seen_by_a.entries[13].entry_id.clone());
    let (edit_a, edit_b) = tokio::join!(
        async {
            a.playlist_move(&mix, &first, 13).await.unwrap();
            a.playlist_remove(&mix, &last).await.unwrap();
        },
        async {
            b.rename_playlist(&mix, "Mix from B").await.unwrap();
            let solo = b.create_playlist("Solo").await.unwrap();
            let track = b.tracks().await[0].id.clone();
            b.playlist_add(&solo, &track, None).await.unwrap();
        }
    );
    let ((), ()) = (edit_a, edit_b);
    for _ in 0..2 {
        a.sync().await.unwrap();
        b.sync().await.unwrap();
    }
    assert_eq!(a.catalog().await, b.catalog().await, "both devices hold the same merged catalog");
    assert_eq!(a.tracks().await.len(), 13, "6 + 6 + the one both uploaded");
    let merged = a.playlist(&mix).await.unwrap();
    assert_eq!(merged.name, "Mix from B", "the later rename wins");
    assert_eq!(merged.entries.len(), 13, "14 adds, one removal");
    assert_eq!(merged.entries.last().unwrap().entry_id, first, "the move survived");
    assert!(merged.entries.iter().all(|entry| entry.entry_id != last));
    assert_eq!(a.playlists().await.len(), 2);
    let devices = a.devices().await.unwrap();
    assert_eq!(
        devices.iter().map(|device| device.device.as_str()).collect::<Vec<_>>(),
        ["device-a", "device-b"]
    );
}

/// Audio dropped into inbox/ by another tool is imported exactly once even when two devices
/// sync at the same moment; a non-audio file is left alone.
async fn inbox_imports_once(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let (a, _a_state) = storage.device("device-a").await;
    let (b, _b_state) = storage.device("device-b").await;
    let song = wav(77, 90_000, "Dropped In", "Someone Else", "Purchases");
    storage.put_behind_the_back("inbox/store/dropped.wav", &song);
    storage.put_behind_the_back("inbox/readme.txt", b"thank you for your purchase");

    let (sync_a, sync_b) = tokio::join!(a.sync(), b.sync());
    let (sync_a, sync_b) = (sync_a.unwrap(), sync_b.unwrap());
    let imported = sync_a.inbox.imported.len() + sync_b.inbox.imported.len();
    assert!(imported >= 1, "{:?} {:?}", sync_a.inbox, sync_b.inbox);
    // The text file is reported as not audio by each device once (only one needs to).
    for sync in [&sync_a, &sync_b] {
        assert!(
            sync.inbox
                .failed
                .iter()
                .all(|issue| issue.kind == "not_audio" && issue.inbox_path.ends_with("readme.txt")),
            "{:?}",
            sync.inbox
        );
    }
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    let tracks = a.tracks().await;
    assert_eq!(tracks.len(), 1, "imported into one track, whoever did it");
    assert_eq!(tracks[0].title.as_deref(), Some("Dropped In"));
    assert_eq!(tracks[0].file_name.as_deref(), Some("dropped.wav"));
    assert_eq!(a.catalog().await, b.catalog().await);
    let blob = a.open_blob(&tracks[0].id).await.unwrap();
    assert_eq!(&blob.read_range(0, u64::MAX).await.unwrap()[..], &song[..]);

    let left: Vec<_> =
        storage.files_under("inbox").into_iter().map(|path| path.file_name().unwrap().to_owned()).collect();
    assert_eq!(left, ["readme.txt"], "the audio left the inbox, the text stayed");
    // Once refused, it is left alone: not fetched or reported again until it changes.
    let again = a.sync().await.unwrap();
    assert!(again.inbox.imported.is_empty() && again.inbox.failed.is_empty(), "{:?}", again.inbox);
    assert_eq!(again.inbox.ignored, 1);
    std::thread::sleep(Duration::from_millis(1100));
    storage.put_behind_the_back("inbox/readme.txt", b"thank you for your purchase, again");
    let changed = a.sync().await.unwrap();
    assert_eq!(changed.inbox.failed.len(), 1, "a changed object is tried again: {:?}", changed.inbox);
}

async fn bad_input_fails_clearly(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let (locker, _state) = storage.device("laptop").await;

    // A non-audio file and a missing file fail with their reasons; nothing reaches the locker.
    let junk = tempfile::tempdir().unwrap();
    let text = junk.path().join("notes.mp3");
    std::fs::write(&text, b"these are not the droids you are looking for").unwrap();
    let missing = junk.path().join("gone.flac");
    let report = locker.upload(&[text.clone(), missing.clone()], None).await;
    let kinds: Vec<_> = report.failed.iter().map(|failure| failure.kind.as_str()).collect();
    assert_eq!(kinds, ["io", "not_audio"]);
    assert!(report.failed[1].message.contains("notes.mp3"));
    assert!(storage.files_under("parts").is_empty() && storage.files_under("blobs").is_empty());

    // A corrupt log file from some device is reported by name and does not block other devices.
    storage.put_behind_the_back(
        "catalog/log/broken-device/00000000000000000000.json",
        b"{\"format\":1,\"ops\":[",
    );
    let playlist = locker.create_playlist("Fine").await.unwrap();
    let (other, _other_state) = storage.device("other").await;
    let report = other.sync().await.unwrap();
    assert_eq!(report.problems.len(), 1);
    assert!(
        report.problems[0].contains("catalog/log/broken-device/00000000000000000000.json"),
        "{}",
        report.problems[0]
    );
    assert_eq!(other.playlist(&playlist).await.unwrap().name, "Fine");

    // Edits of things that do not exist are refused.
    let error = other.rename_playlist("no-such-playlist", "x").await.unwrap_err();
    assert_eq!(error.kind(), "not_found");
    let error = other.remove_track(&"0".repeat(64)).await.unwrap_err();
    assert_eq!(error.kind(), "not_found");

    let state = tempfile::tempdir().unwrap();
    match backend {
        Backend::S3 => {
            assert_eq!(locker.backend_quota().await.unwrap(), None, "S3 has no quota of its own");
            let wrong =
                Credentials::S3 { access_key_id: support::S3_KEY.into(), secret_access_key: "wrong".into() };
            let error = open_error(&storage.url, wrong, state.path()).await;
            assert_eq!(error.kind(), "credentials", "{error}");
            assert!(!error.to_string().contains("<?xml"), "no server document in the message: {error}");
            let port = storage.port.unwrap();
            let no_bucket =
                format!("s3://no-such-bucket/x?endpoint=http://127.0.0.1:{port}&region=us-east-1");
            let error = open_error(&no_bucket, storage.credentials.clone(), state.path()).await;
            assert_eq!(error.kind(), "not_found", "{error}");
            assert!(error.to_string().contains("bucket 'no-such-bucket' does not exist"), "{error}");
        }
        Backend::WebDav => {
            let wrong = Credentials::WebDav { user: support::DAV_USER.into(), password: "wrong".into() };
            let error = open_error(&storage.url, wrong, state.path()).await;
            assert_eq!(error.kind(), "credentials", "{error}");
            // The server's RFC 4331 quota comes through, in status() too.
            let quota = locker.backend_quota().await.unwrap().expect("the server reports a quota");
            let available = quota.available_bytes.expect("available bytes");
            assert!(available <= support::DAV_QUOTA_TOTAL && available > support::DAV_QUOTA_TOTAL / 2);
            assert!(quota.used_bytes.is_some());
            assert_eq!(locker.status().await.unwrap().backend_quota, Some(quota));
        }
        Backend::Folder => {
            assert_eq!(locker.backend_quota().await.unwrap(), None);
            let file = junk.path().join("a-file");
            std::fs::write(&file, b"x").unwrap();
            let error =
                open_error(&format!("file://{}", file.display()), Credentials::None, state.path()).await;
            assert_eq!(error.kind(), "io", "{error}");
            let unmounted = junk.path().join("not-mounted/music");
            let error =
                open_error(&format!("file://{}", unmounted.display()), Credentials::None, state.path()).await;
            assert_eq!(error.kind(), "io", "{error}");
            assert!(!unmounted.exists(), "nothing was created under a missing parent");
        }
    }
    // Nothing listens on port 1 of loopback.
    let unreachable = match backend {
        Backend::S3 => "s3://loft/x?endpoint=http://127.0.0.1:1&region=us-east-1".to_owned(),
        _ => "webdav+http://127.0.0.1:1/locker".to_owned(),
    };
    let credentials = match backend {
        Backend::Folder => Credentials::None,
        _ => storage.credentials.clone(),
    };
    let error = open_error(&unreachable, credentials, state.path()).await;
    assert_eq!(error.kind(), "network", "{error}");
    assert!(error.to_string().to_lowercase().contains("cannot reach"), "{error}");
}

async fn open_error(url: &str, credentials: Credentials, state: &std::path::Path) -> LockerError {
    match Locker::open_with(url, credentials, "probe", state, test_options()).await {
        Ok(_) => panic!("opening {url} should fail"),
        Err(error) => error,
    }
}

async fn remove_and_gc(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let (locker, _state) = storage.device("laptop").await;
    let music = tempfile::tempdir().unwrap();
    let files = write_tracks(music.path(), 0, 2, 80_000);
    let report = locker.upload(&files, None).await;
    assert_eq!(report.uploaded.len(), 2);
    let (gone, kept) = (report.uploaded[0].clone(), report.uploaded[1].clone());

    locker.remove_track(&gone.track_id).await.unwrap();
    assert_eq!(locker.usage().await, kept.size, "usage counts referenced blobs only");
    // Within the grace period the blob stays (a removal can be undone by uploading again).
    // (Storage times are in whole seconds: the mark must come a second after the upload.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let early = locker.gc(GcOptions { grace: Duration::from_secs(3600), dry_run: false }).await.unwrap();
    assert_eq!((early.blobs_deleted.len(), early.blobs_marked), (0, 1), "{early:?}");
    assert!(locker.open_blob(&gone.track_id).await.is_ok());

    let collected = locker.gc(GcOptions { grace: Duration::ZERO, dry_run: false }).await.unwrap();
    assert_eq!(
        (collected.blobs_deleted.clone(), collected.bytes_freed),
        (vec![gone.track_id.clone()], gone.size),
        "{collected:?}"
    );
    assert_eq!(
        locker.open_blob(&gone.track_id).await.err().map(|error| error.kind()),
        Some(ErrorKind::NotFound)
    );
    let blob = locker.open_blob(&kept.track_id).await.unwrap();
    assert_eq!(&blob.read_range(0, u64::MAX).await.unwrap()[..], &std::fs::read(&kept.path).unwrap()[..]);

    // Uploading the removed file again brings it back, sending its bytes once more.
    let again = locker.upload(std::slice::from_ref(&gone.path), None).await;
    assert_eq!((again.uploaded.len(), again.bytes_sent), (1, gone.size));
    assert!(locker.track(&gone.track_id).await.is_some());
}

/// After a snapshot and compaction, a brand-new device starts from the snapshot and still ends up
/// with every op, including ones written after the snapshot.
async fn snapshot_lets_a_new_device_start(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let options = OpenOptions { snapshot_after_log_files: 5, ..test_options() };
    let state_a = tempfile::tempdir().unwrap();
    let a = storage.open("device-a", state_a.path(), options.clone()).await;
    let (b, _b_state) = storage.device("device-b").await;
    let playlist = a.create_playlist("Many edits").await.unwrap();
    let music = tempfile::tempdir().unwrap();
    let files = write_tracks(music.path(), 0, 3, 1_000);
    let uploaded = a.upload(&files, None).await.uploaded;
    for file in &uploaded {
        a.playlist_add(&playlist, &file.track_id, None).await.unwrap();
    }
    b.sync().await.unwrap();
    let report = a.sync().await.unwrap();
    assert!(report.snapshot_written);
    // Every known device had seen the logs, so all but device-a's newest were compacted away
    // (device-b only read).
    let logs_left = storage.files_under("catalog/log");
    assert_eq!(logs_left.len(), 1, "compacted: {logs_left:?}");
    a.rename_playlist(&playlist, "After the snapshot").await.unwrap();

    let (newcomer, _state) = storage.device("device-c").await;
    let report = newcomer.sync().await.unwrap();
    assert!(report.rebuilt_from_snapshot);
    assert_eq!(report.tracks_changed.len(), 3);
    let seen = newcomer.playlist(&playlist).await.unwrap();
    assert_eq!(seen.name, "After the snapshot");
    assert_eq!(seen.entries.len(), 3);
    a.sync().await.unwrap();
    assert_eq!(newcomer.catalog().await, a.catalog().await);

    // A device restarted with a wiped state folder continues its log without reusing a seq.
    drop(a);
    let wiped = tempfile::tempdir().unwrap();
    let a_again = storage.open("device-a", wiped.path(), options).await;
    a_again.sync().await.unwrap();
    a_again.rename_playlist(&playlist, "Renamed after a wipe").await.unwrap();
    newcomer.sync().await.unwrap();
    assert_eq!(newcomer.playlist(&playlist).await.unwrap().name, "Renamed after a wipe");
}

async fn file_changing_during_upload_is_refused(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let options = OpenOptions { parts_in_flight: 1, ..test_options() };
    let state = tempfile::tempdir().unwrap();
    let locker = storage.open("laptop", state.path(), options).await;
    let music = tempfile::tempdir().unwrap();
    let file = write_tracks(music.path(), 9, 1, 200_000).remove(0);
    let changed = Arc::new(AtomicBool::new(false));
    let (target, flag) = (file.clone(), changed.clone());
    let report = locker
        .upload(
            std::slice::from_ref(&file),
            Some(Arc::new(move |progress: &loft_locker::UploadProgress| {
                if progress.bytes_sent > 0 && !flag.swap(true, Ordering::SeqCst) {
                    // Another program rewrites the file after its first part went out.
                    std::fs::write(&target, wav(10, 200_000, "Other", "Other", "Other")).unwrap();
                }
            })),
        )
        .await;
    assert!(changed.load(Ordering::SeqCst));
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].kind, "file_changed");
    assert!(storage.files_under("blobs").is_empty(), "nothing was published");
    assert!(locker.tracks().await.is_empty());
    // Uploading it again (now stable) works.
    let retry = locker.upload(&[file], None).await;
    assert_eq!(retry.uploaded.len(), 1, "{retry:?}");
}

async fn newer_format_is_refused(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let (locker, _state) = storage.device("laptop").await;
    drop(locker);
    storage.put_behind_the_back(
        "locker.json",
        br#"{"format": 99, "locker_id": "x", "quota_bytes": 1, "part_size": 65536, "created_ms": 0, "cipher": "new"}"#,
    );
    let state = tempfile::tempdir().unwrap();
    let error = open_error(&storage.url, storage.credentials.clone(), state.path()).await;
    assert_eq!(error.kind(), "format");
    assert!(error.to_string().contains("update Loft"), "{error}");
}
