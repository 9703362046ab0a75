//! The locker through the service, on a folder locker: uploads merge with local tracks, syncs
//! bring other devices' tracks, either copy can go without taking the other, and the events
//! and the background loop report it all.

#[path = "../../library/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use loft_core::Loft;
use loft_core::library_types::{SourceFilter, Track, TrackQuery, TrackSource};
use loft_core::{Event, Settings};

fn tracks(loft: &Loft) -> Vec<Track> {
    loft.tracks(&TrackQuery { limit: 1000, ..TrackQuery::default() }).unwrap()
}

fn locker_url(dir: &Path) -> String {
    format!("file://{}", dir.join("locker").display())
}

fn next_matching(receiver: &mpsc::Receiver<Event>, what: &str, wanted: impl Fn(&Event) -> bool) -> Event {
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match receiver.recv_timeout(left) {
            Ok(event) if wanted(&event) => return event,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("no {what} event within 30 s");
}

#[test]
fn local_and_uploaded_is_one_track_and_parts_again_when_either_copy_goes() {
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    support::copy_fixture("tone.flac", &music.join("tone.flac"));
    support::copy_fixture("tone.mp3", &music.join("tone.mp3"));
    let (sender, receiver) = mpsc::channel();
    let loft = Loft::open_with_events(tmp.path().join("a"), Arc::new(sender)).unwrap();
    loft.add_library_folder(&music).unwrap();
    loft.scan_library().unwrap();

    let status = loft.connect_locker(&locker_url(tmp.path()), None).unwrap();
    assert_eq!((status.tracks, status.usage_bytes), (0, 0));
    assert_eq!(loft.settings().locker_url, Some(locker_url(tmp.path())));
    let report = loft.upload(std::slice::from_ref(&music)).unwrap();
    assert_eq!((report.uploaded.len(), report.duplicates.len(), report.failed.len()), (2, 0, 0));
    let events: Vec<Event> = receiver.try_iter().collect();
    let total = std::fs::metadata(music.join("tone.flac")).unwrap().len()
        + std::fs::metadata(music.join("tone.mp3")).unwrap().len();
    assert!(
        events.iter().any(|e| matches!(e, Event::UploadProgress { files_done: 2, files_total: 2, bytes_sent, bytes_total, .. }
            if *bytes_sent == total && *bytes_total == total)),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::UploadFinished { uploaded: 2, duplicates: 0, failed: 0, .. })),
        "{events:?}"
    );

    // Both files are local and in the locker: two tracks, not four.
    let listed = tracks(&loft);
    assert_eq!(listed.len(), 2, "{listed:#?}");
    assert!(listed.iter().all(|t| t.source == TrackSource::Both && t.path.is_some()), "{listed:#?}");
    let flac = listed.iter().find(|t| t.format == "flac").unwrap().clone();

    // Removed from the locker: the local track stays.
    let applied = loft.remove_from_locker(flac.id).unwrap();
    assert_eq!(applied.removed, 0);
    let after = loft.track(flac.id).unwrap().unwrap();
    assert_eq!(after.source, TrackSource::Local);
    assert_eq!(loft.remove_from_locker(flac.id).unwrap_err().kind(), "not_found");

    // The music folder goes: the track still in the locker stays, without a path.
    assert_eq!(loft.remove_library_folder(&music).unwrap(), 1);
    let left = tracks(&loft);
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0].format.as_str(), left[0].source, left[0].path.as_deref()),
        ("mpeg", TrackSource::Locker, None)
    );

    // Disconnecting forgets it; nothing in the locker changes.
    assert_eq!(loft.disconnect_locker().unwrap(), 1);
    assert!(tracks(&loft).is_empty());
    assert_eq!(loft.settings(), Settings { locker_url: None, ..loft.settings() });
    assert!(loft.locker_status().unwrap().is_none());
    assert_eq!(loft.sync_locker().unwrap_err().kind(), "invalid_input");
    let again = loft.connect_locker(&locker_url(tmp.path()), None).unwrap();
    assert_eq!(again.tracks, 1);
    assert_eq!(tracks(&loft).len(), 1);
}

#[test]
fn another_device_sees_uploads_after_a_sync_and_its_own_copy_merges() {
    let tmp = tempfile::tempdir().unwrap();
    let url = locker_url(tmp.path());
    let uploads = tmp.path().join("uploads");
    support::copy_fixture("tone.flac", &uploads.join("tone.flac"));
    let a = Loft::open(tmp.path().join("a")).unwrap();
    a.connect_locker(&url, None).unwrap();
    a.upload(std::slice::from_ref(&uploads)).unwrap();
    // Uploading files that are not in the library makes locker-only tracks.
    assert_eq!(tracks(&a)[0].source, TrackSource::Locker);

    // Device B has the same file in its own music folder, not yet hashed.
    let music = tmp.path().join("music-b");
    support::copy_fixture("tone.flac", &music.join("same file.flac"));
    support::copy_fixture("tone.ogg", &music.join("tone.ogg"));
    let (sender, receiver) = mpsc::channel();
    let b = Loft::open_with_events(tmp.path().join("b"), Arc::new(sender)).unwrap();
    b.add_library_folder(&music).unwrap();
    b.scan_library().unwrap();
    let status = b.connect_locker(&url, None).unwrap();
    assert_eq!(status.tracks, 1);
    assert_eq!(status.devices.len(), 2);
    let listed = tracks(&b);
    assert_eq!(listed.len(), 2, "{listed:#?}");
    let merged = listed.iter().find(|t| t.format == "flac").unwrap();
    assert_eq!(merged.source, TrackSource::Both);
    assert_eq!(
        b.tracks(&TrackQuery { source: SourceFilter::Locker, ..TrackQuery::default() }).unwrap().len(),
        1
    );
    assert_eq!(
        b.tracks(&TrackQuery { source: SourceFilter::Local, ..TrackQuery::default() }).unwrap().len(),
        2
    );

    // B's background loop picks up what A uploads next, when asked to sync.
    b.start_locker_sync();
    next_matching(&receiver, "first background sync", |e| matches!(e, Event::SyncFinished { .. }));
    support::copy_fixture("tone.opus", &uploads.join("tone.opus"));
    a.upload(&[uploads.join("tone.opus")]).unwrap();
    b.request_locker_sync();
    next_matching(&receiver, "a library change from the sync", |e| {
        matches!(e, Event::LibraryChanged { added: 1, .. })
    });
    assert_eq!(tracks(&b).len(), 3);
    b.stop_locker_sync();

    // A file uploaded again sends nothing.
    let report = a.upload(std::slice::from_ref(&uploads)).unwrap();
    assert_eq!((report.uploaded.len(), report.duplicates.len(), report.bytes_sent), (0, 2, 0));
}

#[test]
fn an_unreachable_locker_is_reported_and_nothing_is_half_connected() {
    let tmp = tempfile::tempdir().unwrap();
    let loft = Loft::open(tmp.path().join("a")).unwrap();
    // A folder under a parent that does not exist: an unmounted NAS.
    let error = loft.connect_locker("file:///nonexistent-loft-mount/locker", None).unwrap_err();
    assert!(!error.to_string().is_empty());
    assert_eq!(loft.settings().locker_url, None);
    let error = loft.connect_locker("ftp://example.com/x", None).unwrap_err();
    assert_eq!(error.kind(), "invalid_input");
    assert!(loft.locker_catalog().unwrap().is_none());
}

#[test]
fn one_process_at_a_time_writes_a_profiles_locker() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = tmp.path().join("a");
    let first = Loft::open(&profile).unwrap();
    first.connect_locker(&locker_url(tmp.path()), None).unwrap();

    // The same profile opened again (the desktop app and `loft` at once) is the same device:
    // it must not write that device's log too.
    let second = Loft::open(&profile).unwrap();
    let error = second.sync_locker().unwrap_err();
    assert!(error.to_string().contains("has its locker open"), "{error}");
    drop(first);
    second.sync_locker().unwrap();
}

#[test]
fn the_background_loop_asked_for_before_connecting_starts_with_the_locker() {
    let tmp = tempfile::tempdir().unwrap();
    let (sender, receiver) = mpsc::channel();
    let loft = Loft::open_with_events(tmp.path().join("a"), Arc::new(sender)).unwrap();
    loft.start_locker_sync(); // The desktop at start, with no locker yet: nothing to run.
    loft.connect_locker(&locker_url(tmp.path()), None).unwrap();
    next_matching(&receiver, "the connect's sync", |e| matches!(e, Event::SyncFinished { .. }));
    // The loop's own first sync, then one on request.
    next_matching(&receiver, "the loop's first sync", |e| matches!(e, Event::SyncFinished { .. }));
    loft.request_locker_sync();
    next_matching(&receiver, "a requested sync", |e| matches!(e, Event::SyncFinished { .. }));
    loft.stop_locker_sync();
}
