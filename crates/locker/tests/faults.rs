//! Faults one request at a time, through an HTTP proxy in front of a real server: an answer
//! lost after the write landed, a request held while other work goes on, a garbage collection
//! racing an upload that deduplicates. And what a restart must keep.

mod support;

use std::time::Duration;

use loft_locker::{GcOptions, Locker, OpenOptions};
use loft_testkit::{Fault, HttpProxy};
use support::{Backend, TestStorage, test_options, write_tracks};
use tempfile::TempDir;

/// A device that reaches the locker through `proxy`.
async fn through(storage: &TestStorage, proxy: &HttpProxy, name: &str) -> (Locker, TempDir) {
    let url = storage.url.replace(&storage.port.unwrap().to_string(), &proxy.port().to_string());
    let state = tempfile::tempdir().unwrap();
    let locker = Locker::open_with(&url, storage.credentials.clone(), name, state.path(), test_options())
        .await
        .unwrap();
    (locker, state)
}

fn log_file(storage: &TestStorage, device: &str, seq: u64) -> Vec<u8> {
    std::fs::read(storage.objects_root.join(format!("catalog/log/{device}/{seq:020}.json"))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_a_lost_answer_never_makes_a_seq_reused() {
    a_lost_answer_never_makes_a_seq_reused(Backend::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webdav_a_lost_answer_never_makes_a_seq_reused() {
    a_lost_answer_never_makes_a_seq_reused(Backend::WebDav).await;
}

/// The proxy forwards this device's log write and drops the answer (and the read-back's), so
/// the device cannot know whether it landed. Its next edit must not take that seq for other
/// ops: the file other devices may have read already stays as it is, and everyone converges.
async fn a_lost_answer_never_makes_a_seq_reused(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let proxy = HttpProxy::start(storage.port.unwrap()).unwrap();
    let (a, _a_state) = through(&storage, &proxy, "device-a").await;
    let (b, _b_state) = storage.device("device-b").await;
    let (c, _c_state) = storage.device("device-c").await;
    a.create_playlist("One").await.unwrap();

    proxy.add_rule(None, "catalog/log/device-a/", Fault::DropAnswer, Some(20));
    a.create_playlist("Two").await.unwrap();
    assert_eq!(a.pending_ops().await, 1, "the device cannot tell that its write landed: the op stays");
    assert!(proxy.matched() >= 2, "the write and a read-back went through the proxy");
    let landed = log_file(&storage, "device-a", 1);
    assert!(String::from_utf8_lossy(&landed).contains("Two"), "the write took effect at the server");
    // Another device reads it meanwhile.
    b.sync().await.unwrap();
    assert_eq!(b.playlists().await.len(), 2);

    proxy.clear_rules();
    a.create_playlist("Three").await.unwrap();
    // An edit right after a push failed on the network waits for the next push (or sync).
    assert_eq!(a.pending_ops().await, 2);
    a.push().await.unwrap();
    assert_eq!(log_file(&storage, "device-a", 1), landed, "seq 1 was not written again with other ops");
    assert!(String::from_utf8_lossy(&log_file(&storage, "device-a", 2)).contains("Three"));
    assert_eq!(a.pending_ops().await, 0);

    for device in [&a, &b, &c] {
        let report = device.sync().await.unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }
    let names = |playlists: Vec<loft_locker::Playlist>| {
        let mut names: Vec<String> = playlists.into_iter().map(|playlist| playlist.name).collect();
        names.sort();
        names
    };
    assert_eq!(names(a.playlists().await), ["One", "Three", "Two"]);
    assert_eq!(a.catalog().await, b.catalog().await);
    assert_eq!(b.catalog().await, c.catalog().await);
}

/// While a part upload hangs on the network, the catalog answers: status, listings and edits
/// do not wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_answers_while_a_request_hangs() {
    let storage = TestStorage::start(Backend::S3).await;
    let proxy = HttpProxy::start(storage.port.unwrap()).unwrap();
    let (a, _state) = through(&storage, &proxy, "device-a").await;
    let music = tempfile::tempdir().unwrap();
    let files = write_tracks(music.path(), 20, 1, 100_000);
    proxy.add_rule(Some("PUT"), "/parts/", Fault::Hold, None);
    let uploading = tokio::spawn({
        let (a, files) = (a.clone(), files.clone());
        async move { a.upload(&files, None).await }
    });
    let holding = tokio::task::block_in_place(|| proxy.wait_until_holding(Duration::from_secs(20)));
    assert!(holding, "the upload reached its first part");

    let answers = async {
        let status = a.status().await.unwrap();
        let tracks = a.tracks().await;
        let playlist = a.create_playlist("Made while an upload hangs").await.unwrap();
        (status, tracks, playlist)
    };
    let (status, tracks, playlist) = tokio::time::timeout(Duration::from_secs(10), answers)
        .await
        .expect("nothing waited for the hung request");
    assert_eq!((status.tracks, tracks.len()), (0, 0));
    assert!(a.playlist(&playlist).await.is_some());

    proxy.clear_rules();
    let report = uploading.await.unwrap();
    assert_eq!(report.uploaded.len(), 1, "{report:?}");
}

/// A collection that marked a blob, then runs again while an upload deduplicates against it
/// (its catalog entry held back on the network), does not sweep it; and if a collection with no
/// grace does sweep it in that window, the upload puts it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_never_takes_a_blob_from_under_an_upload() {
    let storage = TestStorage::start(Backend::S3).await;
    let proxy = HttpProxy::start(storage.port.unwrap()).unwrap();
    let (a, _a_state) = through(&storage, &proxy, "device-a").await;
    let (b, _b_state) = storage.device("device-b").await;
    let music = tempfile::tempdir().unwrap();
    let files = write_tracks(music.path(), 21, 1, 100_000);
    let data = std::fs::read(&files[0]).unwrap();
    let id = a.upload(&files, None).await.uploaded[0].track_id.clone();
    a.remove_track(&id).await.unwrap();
    a.sync().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let marked = b.gc(GcOptions::default()).await.unwrap();
    assert_eq!((marked.refused.clone(), marked.blobs_marked), (None, 1), "{marked:?}");
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // The upload finds the blob, verifies it, writes its manifest again; its catalog entry is
    // held on the way.
    proxy.add_rule(Some("PUT"), "catalog/log/device-a/", Fault::Hold, None);
    let uploading = tokio::spawn({
        let (a, files) = (a.clone(), files.clone());
        async move { a.upload(&files, None).await }
    });
    assert!(tokio::task::block_in_place(|| proxy.wait_until_holding(Duration::from_secs(20))));
    let again = b.gc(GcOptions { grace: Duration::from_secs(5), dry_run: false }).await.unwrap();
    assert!(
        again.blobs_deleted.is_empty(),
        "the manifest written since the mark starts the wait again: {again:?}"
    );

    // A collection with no grace at all sweeps it in that window...
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let swept = b.gc(GcOptions { grace: Duration::ZERO, dry_run: false }).await.unwrap();
    assert_eq!(swept.blobs_deleted, std::slice::from_ref(&id));
    // ...and once the catalog entry is in, the upload sees the blob gone and puts it back.
    proxy.clear_rules();
    let report = uploading.await.unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    b.sync().await.unwrap();
    assert!(b.track(&id).await.is_some());
    let blob = b.open_blob(&id).await.unwrap();
    assert_eq!(&blob.read_range(0, u64::MAX).await.unwrap()[..], &data[..]);
    assert!(!b.check(None).await.unwrap().has_damage());
}

/// The clock and the snapshot frontier are kept across a restart: a device that saw an op
/// from the future still writes after it, and does not write a snapshot again for logs its
/// last snapshot covers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_and_the_snapshot_frontier_survive_a_restart() {
    let storage = TestStorage::start(Backend::Folder).await;
    let options = OpenOptions { snapshot_after_log_files: 3, ..test_options() };
    let (a, _a_state) = storage.device("device-a").await;
    let mix = a.create_playlist("Mix").await.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let ahead = now + 600_000;
    let op = serde_json::json!({"op": "playlist_rename", "playlist": mix, "name": "From the future", "hlc": {"wall_ms": ahead, "counter": 0}});
    let log = serde_json::json!({"format": 1, "device": "fast-clock", "seq": 0, "ops": [op]});
    storage
        .put_behind_the_back("catalog/log/fast-clock/00000000000000000000.json", log.to_string().as_bytes());
    a.create_playlist("Two").await.unwrap();
    a.create_playlist("Three").await.unwrap();

    let state = tempfile::tempdir().unwrap();
    let b = storage.open("device-b", state.path(), options.clone()).await;
    let first = b.sync().await.unwrap();
    assert!(first.snapshot_written, "five log files past no snapshot");
    assert_eq!(b.playlist(&mix).await.unwrap().name, "From the future");
    drop(b);

    let b = storage.open("device-b", state.path(), options).await;
    let again = b.sync().await.unwrap();
    assert_eq!(again.ops_applied, 0);
    assert!(!again.snapshot_written, "the snapshot it wrote covers every log");
    b.rename_playlist(&mix, "Back to now").await.unwrap();
    assert_eq!(b.playlist(&mix).await.unwrap().name, "Back to now", "its clock is past the op it saw");
    let written: serde_json::Value = serde_json::from_slice(&log_file(&storage, "device-b", 0)).unwrap();
    assert!(written["ops"][0]["hlc"]["wall_ms"].as_u64().unwrap() >= ahead);
}

/// A locker this device opened before opens while it is out of reach (the proxy in front of it
/// stopped): edits go into the outbox, and reach the other devices once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locker_opens_out_of_reach_and_its_edits_wait() {
    let storage = TestStorage::start(Backend::S3).await;
    let proxy = HttpProxy::start(storage.port.unwrap()).unwrap();
    let port = proxy.port();
    let url = storage.url.replace(&storage.port.unwrap().to_string(), &port.to_string());
    let state = tempfile::tempdir().unwrap();
    let open =
        || Locker::open_with(&url, storage.credentials.clone(), "device-a", state.path(), test_options());
    let mix = open().await.unwrap().create_playlist("Before").await.unwrap();

    drop(proxy);
    let a = open().await.expect("opens from what it kept");
    a.rename_playlist(&mix, "Renamed on a plane").await.unwrap();
    let made = a.create_playlist("Made on a plane").await.unwrap();
    assert_eq!(a.pending_ops().await, 2);
    assert!(a.sync().await.unwrap_err().is_transient());
    assert_eq!(a.playlist(&mix).await.unwrap().name, "Renamed on a plane", "applied here at once");

    let _back = HttpProxy::start_on(storage.port.unwrap(), port).unwrap();
    let report = a.sync().await.unwrap();
    assert_eq!(report.pending_ops, 0);
    let (b, _b_state) = storage.device("device-b").await;
    b.sync().await.unwrap();
    assert_eq!(b.playlist(&mix).await.unwrap().name, "Renamed on a plane");
    assert!(b.playlist(&made).await.is_some());
    // A locker never opened here cannot be opened out of reach.
    let elsewhere = tempfile::tempdir().unwrap();
    let unreachable = url.replace(&port.to_string(), "1");
    let refused =
        Locker::open_with(&unreachable, storage.credentials.clone(), "x", elsewhere.path(), test_options())
            .await;
    assert!(refused.err().is_some_and(|error| error.is_transient()));
}
