//! Offline, through the service, against a real S3 server on loopback that the test stops and
//! starts again: pinned tracks play and the others are reported unavailable (not as errors),
//! the front ends hear that the locker went and came back, and a download that was waiting
//! for the network finishes once it returns.

#[path = "../../library/tests/support/mod.rs"]
mod support;

use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use loft_core::library_types::{OfflineState, SourceFilter, TrackQuery};
use loft_core::player::audio::{RenderOptions, render_to_wav};
use loft_core::{Event, Loft, player};
use loft_testkit::S3Server;

fn next_matching(receiver: &mpsc::Receiver<Event>, what: &str, wanted: impl Fn(&Event) -> bool) -> Event {
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match receiver.recv_timeout(left) {
            Ok(event) if wanted(&event) => return event,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("no {what} event within 60 s");
}

/// The only test in this binary: it sets the process's S3 credentials, which every Loft here
/// reads from the environment as a headless user's would be.
#[test]
fn offline_pinned_tracks_play_others_are_unavailable_and_waiting_downloads_finish() {
    let tmp = tempfile::tempdir().unwrap();
    // SAFETY: the first thing this binary's only test does; no other thread exists yet.
    #[allow(unsafe_code)]
    let mut server = unsafe { S3Server::start_with_env_credentials(&tmp.path().join("s3")) }.unwrap();
    let url = server.locker_url("music");

    // Device A uploads three files that device B does not have on disk.
    let music = tmp.path().join("music");
    for name in ["tone.flac", "tone.mp3", "tone.ogg"] {
        support::copy_fixture(name, &music.join(name));
    }
    let a = Loft::open(tmp.path().join("a")).unwrap();
    a.connect_locker(&url, None).unwrap();
    let report = a.upload(std::slice::from_ref(&music)).unwrap();
    assert_eq!(report.uploaded.len(), 3, "{report:?}");
    drop(a);

    let (sender, receiver) = mpsc::channel();
    let b = Arc::new(Loft::open_with_events(tmp.path().join("b"), Arc::new(sender)).unwrap());
    b.connect_locker(&url, None).unwrap();
    let listed = b.tracks(&TrackQuery { limit: 100, ..TrackQuery::default() }).unwrap();
    assert_eq!(listed.len(), 3);
    let id_of = |format: &str| listed.iter().find(|track| track.format == format).unwrap().id;
    let (pinned, waiting, streamed) = (id_of("flac"), id_of("mpeg"), id_of("vorbis"));

    let pin = b.pin(&[pinned]).unwrap();
    assert_eq!(pin.pinned, [pinned], "{pin:?}");
    assert_eq!(b.track(pinned).unwrap().unwrap().offline, OfflineState::Pinned);
    assert_eq!(b.count_tracks(SourceFilter::Offline).unwrap(), 1);
    let online = b.track_availability(&[pinned, waiting, streamed]).unwrap();
    assert_eq!(online.iter().map(|a| a.source).collect::<Vec<_>>(), ["cached", "stream", "stream"]);

    // The server goes away. A sync notices; the front ends hear it once.
    server.stop();
    assert!(b.sync_locker().is_err());
    next_matching(&receiver, "LockerUnreachable", |event| matches!(event, Event::LockerUnreachable { .. }));
    assert!(!b.locker_reachable());
    let offline = b.track_availability(&[pinned, waiting, streamed]).unwrap();
    assert_eq!(
        offline.iter().map(|a| (a.source, a.available)).collect::<Vec<_>>(),
        [("cached", true), ("unavailable", false), ("unavailable", false)]
    );

    // The pinned track plays with no network: the best copy is the cached file.
    let item = player::resolve_item(&b, &pinned.to_string()).unwrap();
    let out = tmp.path().join("offline.wav");
    let rendered = render_to_wav(&[item], &out, &RenderOptions::default()).unwrap();
    assert!(rendered.failures.is_empty(), "{:?}", rendered.failures);
    assert!(rendered.frames > 44_100 / 2, "it played: {} frames", rendered.frames);

    // A download asked for while offline waits, and finishes once the server is back.
    b.pin_in_background(vec![waiting]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(b.track(waiting).unwrap().unwrap().offline, OfflineState::None);
    server.restart().unwrap();
    b.sync_locker().unwrap();
    next_matching(&receiver, "LockerReachable", |event| matches!(event, Event::LockerReachable));
    assert!(b.locker_reachable());
    let deadline = Instant::now() + Duration::from_secs(60);
    while b.track(waiting).unwrap().unwrap().offline != OfflineState::Pinned {
        assert!(Instant::now() < deadline, "the waiting download did not finish after the server came back");
        std::thread::sleep(Duration::from_millis(200));
    }
    let back = b.track_availability(&[pinned, waiting, streamed]).unwrap();
    assert_eq!(back.iter().map(|a| a.source).collect::<Vec<_>>(), ["cached", "cached", "stream"]);
    assert_eq!(b.count_tracks(SourceFilter::Offline).unwrap(), 2);
}
