//! The locker attacked: content another device or tool could have written, run against S3,
//! WebDAV and a folder. Each attack asserts what must hold whatever is in the locker: no file
//! outside the profile, no panic, nothing deleted, and the good data still plays.

mod support;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use loft_locker::{ErrorKind, FindingKind, GcOptions, Locker, LockerOpener, OfflineCache};
use sha2::{Digest, Sha256};
use support::{Backend, TestStorage, test_options, write_tracks};
use tempfile::TempDir;

macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod s3 { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(super::Backend::S3).await } )* }
        mod webdav { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(super::Backend::WebDav).await } )* }
        mod folder { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(super::Backend::Folder).await } )* }
    };
}

on_every_backend!(
    a_manifest_naming_a_path_writes_nothing_outside_the_profile,
    a_part_of_the_right_length_is_not_taken_on_trust,
    a_manifest_that_disagrees_is_replaced,
    hostile_ops_change_only_what_they_may,
    broken_logs_and_a_garbage_snapshot_leave_the_good_data,
    huge_objects_are_refused_unread,
    check_finds_damage_and_an_upload_repairs_it,
    gc_trusts_the_storage_clock_not_the_catalog,
);

const SAMPLES: usize = 100_000; // 200 kB: four 64 KiB parts

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn sha256(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// A device whose profile sits a few folders deep in a home of its own, so that a path that
/// climbs out of the profile still lands where the test can see it.
struct Device {
    locker: Locker,
    home: TempDir,
    profile: PathBuf,
}

impl Device {
    async fn open(storage: &TestStorage, name: &str) -> Device {
        let home = tempfile::tempdir().unwrap();
        let profile = home.path().join("users/someone/.local/share/loft");
        std::fs::create_dir_all(profile.join("locker")).unwrap();
        let locker = storage.open(name, &profile.join("locker"), test_options()).await;
        Device { locker, home, profile }
    }

    /// Plays a track the way the player does: through the offline cache, streamed.
    async fn play(&self, track_id: &str) -> Result<Vec<u8>, String> {
        let cache =
            OfflineCache::open(&self.profile.join("cache"), 1 << 30).map_err(|error| error.to_string())?;
        let opener = LockerOpener::new(
            self.locker.clone(),
            cache,
            tokio::runtime::Handle::current(),
            track_id,
            "track",
            None,
        );
        tokio::task::spawn_blocking(move || {
            let mut stream = opener.open_stream().map_err(|error| format!("{:?}: {error}", error.kind()))?;
            let mut bytes = Vec::new();
            stream.read_to_end(&mut bytes).map_err(|error| error.to_string())?;
            Ok(bytes)
        })
        .await
        .unwrap()
    }

    /// Every file this device's process wrote outside its profile.
    fn files_outside_the_profile(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        walk(self.home.path(), &mut found);
        found.into_iter().filter(|path| !path.starts_with(&self.profile)).collect()
    }
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { walk(&path, found) } else { found.push(path) }
    }
}

/// The objects in the locker, relative to its root.
fn objects(storage: &TestStorage) -> BTreeSet<PathBuf> {
    storage
        .files_under("")
        .into_iter()
        .map(|path| path.strip_prefix(&storage.objects_root).unwrap().to_owned())
        .filter(|path| !path.starts_with("tmp"))
        .collect()
}

fn assert_nothing_deleted(before: &BTreeSet<PathBuf>, storage: &TestStorage) {
    let now = objects(storage);
    let gone: Vec<_> = before.difference(&now).collect();
    assert!(gone.is_empty(), "objects were deleted: {gone:?}");
}

fn blob_path(id: &str) -> String {
    format!("blobs/sha256/{}/{id}", &id[..2])
}

fn part_path(id: &str, index: usize) -> String {
    format!("parts/sha256/{}/{id}/{index:06}", &id[..2])
}

/// The manifest another client would write for `data` in 64 KiB parts.
fn manifest_for(data: &[u8], sha256_field: &str) -> String {
    let parts: Vec<String> = data.chunks(64 * 1024).map(sha256).collect();
    serde_json::json!({"format": 1, "sha256": sha256_field, "size": data.len(), "part_size": 64 * 1024, "parts": parts})
        .to_string()
}

/// The attack: a manifest whose `sha256` is a path made a second device create files
/// several folders above its profile when it played the track.
async fn a_manifest_naming_a_path_writes_nothing_outside_the_profile(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let a = Device::open(&storage, "device-a").await;
    let music = tempfile::tempdir().unwrap();
    let files = write_tracks(music.path(), 1, 1, SAMPLES);
    let data = std::fs::read(&files[0]).unwrap();
    let id = a.locker.upload(&files, None).await.uploaded[0].track_id.clone();
    storage.put_behind_the_back(&blob_path(&id), manifest_for(&data, "../../../../escape-marker").as_bytes());
    let before = objects(&storage);

    let b = Device::open(&storage, "device-b").await;
    b.locker.sync().await.unwrap();
    assert!(b.locker.track(&id).await.is_some(), "the catalog still lists the track");
    let refused = b.play(&id).await.unwrap_err();
    assert!(refused.starts_with("Format"), "{refused}");
    assert_eq!(b.locker.open_blob(&id).await.err().map(|error| error.kind()), Some(ErrorKind::Format));
    assert!(b.files_outside_the_profile().is_empty(), "{:?}", b.files_outside_the_profile());
    assert_nothing_deleted(&before, &storage);

    // Uploading the file again puts a true manifest back, and the track plays everywhere.
    let repaired = a.locker.upload(&files, None).await;
    assert_eq!(repaired.repaired.len(), 1, "{repaired:?}");
    assert_eq!(b.play(&id).await.unwrap(), data);
    assert!(b.files_outside_the_profile().is_empty());
}

/// A part of random bytes with the right length, put there before the upload, used to make
/// the upload report success without sending the file.
async fn a_part_of_the_right_length_is_not_taken_on_trust(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let music = tempfile::tempdir().unwrap();
    let files = write_tracks(music.path(), 2, 2, SAMPLES);
    let (planted, honest) = (std::fs::read(&files[0]).unwrap(), std::fs::read(&files[1]).unwrap());
    let (planted_id, honest_id) = (sha256(&planted), sha256(&honest));
    // Random bytes where the file's first part goes, and a complete, true copy of the other
    // file put there by some earlier upload.
    let noise: Vec<u8> = (0..64 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    storage.put_behind_the_back(&part_path(&planted_id, 0), &noise);
    for (index, chunk) in honest.chunks(64 * 1024).enumerate() {
        storage.put_behind_the_back(&part_path(&honest_id, index), chunk);
    }
    storage.put_behind_the_back(&blob_path(&honest_id), manifest_for(&honest, &honest_id).as_bytes());
    let before = objects(&storage);

    let a = Device::open(&storage, "device-a").await;
    let report = a.locker.upload(&files, None).await;
    assert!(report.failed.is_empty(), "{report:?}");
    let sent = |id: &str| {
        report.uploaded.iter().chain(&report.duplicates).find(|f| f.track_id == id).unwrap().bytes_sent
    };
    assert_eq!(sent(&planted_id), planted.len() as u64, "the planted part was replaced, so every part went");
    assert_eq!(sent(&honest_id), 0, "a verified blob costs no audio bytes");
    assert_eq!(report.duplicates.iter().map(|f| &f.track_id).collect::<Vec<_>>(), [&honest_id]);

    let b = Device::open(&storage, "device-b").await;
    b.locker.sync().await.unwrap();
    assert_eq!(b.play(&planted_id).await.unwrap(), planted);
    assert_eq!(b.play(&honest_id).await.unwrap(), honest);
    let check = b.locker.check(None).await.unwrap();
    assert!(!check.has_damage(), "{check:?}");
    // The planted part was replaced by the true one: same name, nothing else deleted.
    assert_nothing_deleted(&before, &storage);
}

async fn a_manifest_that_disagrees_is_replaced(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let music = tempfile::tempdir().unwrap();
    let files = write_tracks(music.path(), 3, 1, SAMPLES);
    let data = std::fs::read(&files[0]).unwrap();
    let id = sha256(&data);
    // A well-formed manifest under the right name that lists other parts (another file's).
    let other: Vec<u8> = data.iter().map(|byte| byte ^ 0x5a).collect();
    let lie = serde_json::json!({
        "format": 1, "sha256": id, "size": data.len(), "part_size": 64 * 1024,
        "parts": other.chunks(64 * 1024).map(sha256).collect::<Vec<_>>(),
    });
    storage.put_behind_the_back(&blob_path(&id), lie.to_string().as_bytes());

    let a = Device::open(&storage, "device-a").await;
    let report = a.locker.upload(&files, None).await;
    assert_eq!(report.uploaded.len(), 1, "{report:?}");
    assert_eq!(report.uploaded[0].bytes_sent, data.len() as u64);
    let b = Device::open(&storage, "device-b").await;
    b.locker.sync().await.unwrap();
    assert_eq!(b.play(&id).await.unwrap(), data);
    assert!(!b.locker.check(None).await.unwrap().has_damage());
}

/// Ops written by a hostile device: ids that are paths, numbers at their limits, an unknown
/// kind, log files with names that are not a log's.
async fn hostile_ops_change_only_what_they_may(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let a = Device::open(&storage, "device-a").await;
    let music = tempfile::tempdir().unwrap();
    let files = write_tracks(music.path(), 4, 1, SAMPLES);
    let data = std::fs::read(&files[0]).unwrap();
    let id = a.locker.upload(&files, None).await.uploaded[0].track_id.clone();
    let mix = a.locker.create_playlist("Mix").await.unwrap();
    a.locker.playlist_add(&mix, &id, None).await.unwrap();

    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let hlc = |wall: u64| serde_json::json!({"wall_ms": wall, "counter": 0});
    let ops = serde_json::json!([
        {"op": "track_put", "track": "../../etc/passwd", "size": 1, "fields": {}, "hlc": hlc(now)},
        {"op": "track_put", "track": "ab".repeat(32), "size": u64::MAX, "fields": {}, "hlc": hlc(now)},
        {"op": "track_remove", "track": id, "hlc": hlc(u64::MAX)},
        {"op": "track_edit", "track": id, "fields": {"../title": "x"}, "hlc": hlc(now)},
        {"op": "playlist_rename", "playlist": "../../x", "name": "n", "hlc": hlc(now)},
        {"op": "playlist_move", "playlist": mix, "entry": "e", "position": "ZZ", "hlc": hlc(now)},
        {"op": "playlist_create", "playlist": "p-1", "name": "x".repeat(5000), "hlc": hlc(now)},
        {"op": "track_remove", "track": id, "hlc": {"wall_ms": now, "counter": u64::MAX}},
        {"op": "from_the_future", "whatever": [1, 2, 3], "hlc": hlc(now)},
        {"op": "playlist_rename", "playlist": mix, "name": "Renamed by mallory", "hlc": {"wall_ms": now + 60_000, "counter": u32::MAX}},
    ]);
    let log = serde_json::json!({"format": 1, "device": "mallory", "seq": 0, "ops": ops});
    storage.put_behind_the_back("catalog/log/mallory/00000000000000000000.json", log.to_string().as_bytes());
    let huge_seq = serde_json::json!({"format": 1, "device": "mallory", "seq": u64::MAX, "ops": []});
    storage.put_behind_the_back(
        "catalog/log/mallory/18446744073709551615.json",
        huge_seq.to_string().as_bytes(),
    );
    storage.put_behind_the_back("catalog/log/mallory/not-a-seq.json", b"{}");
    storage.put_behind_the_back("catalog/log/bad device/00000000000000000000.json", b"{}");
    let before = objects(&storage);

    let b = Device::open(&storage, "device-b").await;
    let report = b.locker.sync().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.rejected_ops.len(), 8, "{:#?}", report.rejected_ops);
    for why in ["track id", "size", "year 9999", "field name", "playlist id", "position", "name is longer"] {
        assert!(
            report.rejected_ops.iter().any(|rejected| rejected.contains(why)),
            "{why}: {:#?}",
            report.rejected_ops
        );
    }
    // The one valid hostile op did what an op may: rename the playlist (it has a later clock).
    let playlist = b.locker.playlist(&mix).await.unwrap();
    assert_eq!(playlist.name, "Renamed by mallory");
    assert_eq!(playlist.entries.len(), 1);
    assert_eq!(b.locker.tracks().await.len(), 1, "no track appeared, none left");
    assert_eq!(b.play(&id).await.unwrap(), data);
    // This device's clock moved past the valid hostile op, and no further.
    b.locker.rename_playlist(&mix, "Mine again").await.unwrap();
    assert_eq!(b.locker.playlist(&mix).await.unwrap().name, "Mine again");
    let written =
        std::fs::read(storage.objects_root.join("catalog/log/device-b/00000000000000000000.json")).unwrap();
    let written: serde_json::Value = serde_json::from_slice(&written).unwrap();
    let wall = written["ops"][0]["hlc"]["wall_ms"].as_u64().unwrap();
    assert!(wall >= now + 60_000 && wall < now + 3_600_000, "{wall} vs {now}");

    // The unknown op survives into a snapshot, for a client that knows it.
    b.locker.snapshot_and_compact().await.unwrap();
    let snapshot = storage.files_under("catalog/snapshot").pop().unwrap();
    assert!(std::fs::read_to_string(snapshot).unwrap().contains("from_the_future"));
    let a_report = a.locker.sync().await.unwrap();
    assert!(a_report.problems.is_empty());
    assert_eq!(a.locker.catalog().await, b.locker.catalog().await, "both devices agree");
    assert!(b.files_outside_the_profile().is_empty());
    for path in &before {
        let kept = storage.objects_root.join(path).exists();
        let compacted = path.starts_with("catalog/log/device-a") || path.starts_with("catalog/log/mallory/0");
        assert!(kept || compacted, "{path:?} was deleted");
    }
}

async fn broken_logs_and_a_garbage_snapshot_leave_the_good_data(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let a = Device::open(&storage, "device-a").await;
    let music = tempfile::tempdir().unwrap();
    let files = write_tracks(music.path(), 5, 2, SAMPLES);
    let report = a.locker.upload(&files, None).await;
    let ids: Vec<String> = files
        .iter()
        .map(|file| report.uploaded.iter().find(|u| &u.path == file).unwrap().track_id.clone())
        .collect();
    let mix = a.locker.create_playlist("Kept").await.unwrap();
    a.locker.sync().await.unwrap();
    a.locker.snapshot_and_compact().await.unwrap();
    // A later edit, in a log past the snapshot.
    a.locker.rename_playlist(&mix, "Kept and renamed").await.unwrap();
    // A truncated log of another device, a garbage snapshot named later than every real one,
    // and one that belongs to another locker.
    storage.put_behind_the_back("catalog/log/mallory/00000000000000000000.json", b"{\"format\":1,\"ops\":[");
    storage.put_behind_the_back("catalog/snapshot/999999999999999-0000000000-mallory.json", b"{not json");
    let foreign = serde_json::json!({"format": 1, "locker_id": "another-locker", "device": "x", "hlc": {"wall_ms": 1, "counter": 0}, "frontier": {}, "state": {"devices": [], "tracks": [], "playlists": []}});
    storage.put_behind_the_back(
        "catalog/snapshot/999999999999998-0000000000-mallory.json",
        foreign.to_string().as_bytes(),
    );
    let before = objects(&storage);

    // A new device whose catalog must come from a snapshot (the first logs were compacted).
    let c = Device::open(&storage, "device-c").await;
    let report = c.locker.sync().await.unwrap();
    assert!(report.rebuilt_from_snapshot);
    assert_eq!(report.unreadable_snapshots.len(), 2, "{:?}", report.unreadable_snapshots);
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(report.problems[0].contains("catalog/log/mallory/00000000000000000000.json"));
    assert_eq!(c.locker.playlist(&mix).await.unwrap().name, "Kept and renamed");
    for (file, id) in files.iter().zip(&ids) {
        assert_eq!(c.play(id).await.unwrap(), std::fs::read(file).unwrap());
    }
    // With a log it cannot read, no device collects anything.
    a.locker.remove_track(&ids[0]).await.unwrap();
    let gc = c.locker.gc(GcOptions { grace: Duration::ZERO, dry_run: false }).await.unwrap();
    assert!(gc.refused.as_deref().is_some_and(|why| why.contains("cannot be read")), "{gc:?}");
    let check = c.locker.check(None).await.unwrap();
    let kinds: BTreeSet<FindingKind> = check.findings.iter().map(|finding| finding.kind).collect();
    assert!(
        kinds.contains(&FindingKind::UnreadableLog) && kinds.contains(&FindingKind::UnreadableSnapshot),
        "{check:?}"
    );
    assert!(check.has_damage());
    assert_nothing_deleted(&before, &storage);
    assert!(c.files_outside_the_profile().is_empty());
}

async fn huge_objects_are_refused_unread(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let a = Device::open(&storage, "device-a").await;
    let music = tempfile::tempdir().unwrap();
    let files = write_tracks(music.path(), 6, 1, SAMPLES);
    let data = std::fs::read(&files[0]).unwrap();
    let id = a.locker.upload(&files, None).await.uploaded[0].track_id.clone();
    // A log file, a manifest and a device record each larger than such a file may be.
    let big = vec![b' '; 17 * 1024 * 1024];
    storage.put_behind_the_back("catalog/log/mallory/00000000000000000000.json", &big);
    storage.put_behind_the_back(&blob_path(&id), &big[..9 * 1024 * 1024]);
    storage.put_behind_the_back("catalog/devices/mallory.json", &big[..2 * 1024 * 1024]);

    let b = Device::open(&storage, "device-b").await;
    let report = b.locker.sync().await.unwrap();
    assert_eq!(report.problems.len(), 1);
    assert!(report.problems[0].contains("more than"), "{}", report.problems[0]);
    let refused = b.locker.open_blob(&id).await.err().unwrap();
    assert_eq!(refused.kind(), ErrorKind::Format);
    assert!(refused.to_string().contains("was not read"), "{refused}");
    assert!(b.locker.gc(GcOptions::default()).await.unwrap().refused.is_some());
    // The uploader puts a true manifest back.
    assert_eq!(a.locker.upload(&files, None).await.repaired.len(), 1);
    assert_eq!(b.play(&id).await.unwrap(), data);
}

async fn check_finds_damage_and_an_upload_repairs_it(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let a = Device::open(&storage, "device-a").await;
    let music = tempfile::tempdir().unwrap();
    let files = write_tracks(music.path(), 7, 3, SAMPLES);
    let report = a.locker.upload(&files, None).await;
    let id_of = |file: &PathBuf| report.uploaded.iter().find(|u| &u.path == file).unwrap().track_id.clone();
    let (flipped, missing, fine) = (id_of(&files[0]), id_of(&files[1]), id_of(&files[2]));
    assert!(!a.locker.check(None).await.unwrap().has_damage());

    // One part with a byte changed (same length), one part gone.
    let part = storage.objects_root.join(part_path(&flipped, 1));
    let mut bytes = std::fs::read(&part).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&part, bytes).unwrap();
    std::fs::remove_file(storage.objects_root.join(part_path(&missing, 0))).unwrap();

    let check = a.locker.check(None).await.unwrap();
    assert!(check.has_damage());
    let damage: Vec<(FindingKind, &str)> =
        check.findings.iter().filter(|f| f.kind.is_damage()).map(|f| (f.kind, f.id.as_str())).collect();
    assert_eq!(damage.len(), 2, "{damage:?}");
    assert!(damage.contains(&(FindingKind::DamagedPart, flipped.as_str())));
    assert!(damage.contains(&(FindingKind::MissingPart, missing.as_str())));
    assert!(check.findings.iter().all(|f| f.id != fine && !f.repair.is_empty()));
    assert_eq!(a.locker.last_check().await, Some(check));

    // A second device plays the damaged track: the damage is caught, never handed over whole.
    let b = Device::open(&storage, "device-b").await;
    b.locker.sync().await.unwrap();
    assert!(b.play(&flipped).await.unwrap_err().contains("does not match"));

    let repair = a.locker.upload(&files, None).await;
    let repaired: BTreeSet<&str> = repair.repaired.iter().map(|f| f.track_id.as_str()).collect();
    assert_eq!(repaired, BTreeSet::from([flipped.as_str(), missing.as_str()]), "{repair:?}");
    assert_eq!(repair.duplicates.len(), 1);
    assert_eq!(repair.bytes_sent, 2 * 64 * 1024, "only the two damaged parts went again");
    assert!(a.locker.last_check().await.unwrap().damaged_blobs().is_empty(), "the repair is noted");
    assert!(!a.locker.check(None).await.unwrap().has_damage());
    let c = Device::open(&storage, "device-c").await;
    c.locker.sync().await.unwrap();
    for (file, id) in files.iter().zip([&flipped, &missing, &fine]) {
        assert_eq!(&c.play(id).await.unwrap(), &std::fs::read(file).unwrap());
    }
}

/// A removal whose clock says 1970 does not make a blob old: the grace period runs on the
/// storage's clock, from when a collection first saw the blob unreferenced.
async fn gc_trusts_the_storage_clock_not_the_catalog(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let a = Device::open(&storage, "device-a").await;
    let music = tempfile::tempdir().unwrap();
    let files = write_tracks(music.path(), 8, 1, SAMPLES);
    let id = a.locker.upload(&files, None).await.uploaded[0].track_id.clone();
    // A device with its clock far in the past put and removed the same track.
    let ops = serde_json::json!([
        {"op": "track_put", "track": "cd".repeat(32), "size": 10, "fields": {}, "hlc": {"wall_ms": 1000, "counter": 0}},
        {"op": "track_remove", "track": "cd".repeat(32), "hlc": {"wall_ms": 2000, "counter": 0}},
    ]);
    let log = serde_json::json!({"format": 1, "device": "old-clock", "seq": 0, "ops": ops});
    storage
        .put_behind_the_back("catalog/log/old-clock/00000000000000000000.json", log.to_string().as_bytes());
    let record = serde_json::json!({"device": "old-clock", "last_sync_ms": 2000, "seen": {}});
    storage.put_behind_the_back("catalog/devices/old-clock.json", record.to_string().as_bytes());
    let data = std::fs::read(&files[0]).unwrap();
    let orphan_id = "cd".repeat(32);
    storage.put_behind_the_back(&blob_path(&orphan_id), manifest_for(&data, &orphan_id).as_bytes());
    a.locker.remove_track(&id).await.unwrap();
    // A staged write a dead client left behind.
    storage.put_behind_the_back("tmp/left-by-a-dead-client", b"half a log file");
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let week = GcOptions::default();
    let first = a.locker.gc(week).await.unwrap();
    assert_eq!(
        (first.refused.clone(), first.blobs_deleted.len(), first.blobs_marked),
        (None, 0, 2),
        "{first:?}"
    );
    let dry = a.locker.gc(GcOptions { grace: Duration::ZERO, dry_run: true }).await.unwrap();
    assert_eq!(dry.blobs_deleted.len(), 2, "{dry:?}");
    assert!(storage.objects_root.join(blob_path(&id)).exists(), "a dry run deletes nothing");
    let collected = a.locker.gc(GcOptions { grace: Duration::ZERO, dry_run: false }).await.unwrap();
    assert_eq!(collected.blobs_deleted.len(), 2);
    assert_eq!(collected.staging_deleted, 1, "{collected:?}");
    assert!(!storage.objects_root.join("tmp/left-by-a-dead-client").exists());
    assert!(!storage.objects_root.join(blob_path(&id)).exists());
    assert!(storage.files_under(&format!("parts/sha256/{}/{id}", &id[..2])).is_empty());
}
