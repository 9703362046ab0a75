//! The service reports library work as events: a front end's scan, and the folder watcher.

#[path = "../../library/tests/support/mod.rs"]
mod support;

use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use loft_core::{Event, Loft};

fn next_matching(receiver: &mpsc::Receiver<Event>, what: &str, wanted: impl Fn(&Event) -> bool) -> Event {
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match receiver.recv_timeout(left) {
            Ok(event) if wanted(&event) => return event,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("no {what} event within 20 s");
}

#[test]
fn scans_and_watched_changes_reach_the_event_sink() {
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    support::copy_fixture("tone.flac", &music.join("tone.flac"));
    let (sender, receiver) = mpsc::channel();
    let loft = Loft::open_with_events(tmp.path().join("profile"), Arc::new(sender)).unwrap();
    loft.add_library_folder(&music).unwrap();

    let report = loft.scan_library().unwrap();
    assert_eq!(report.added, 1);
    let events: Vec<Event> = receiver.try_iter().collect();
    assert!(events.iter().any(|e| matches!(e, Event::ScanProgress { files_to_read: 1, .. })), "{events:?}");
    assert!(
        events.iter().any(|e| matches!(e, Event::ScanFinished { added: 1, errors: 0, .. })),
        "{events:?}"
    );
    assert!(events.iter().any(|e| matches!(e, Event::LibraryChanged { added: 1, .. })), "{events:?}");
    let json = serde_json::to_value(events.last().unwrap()).unwrap();
    assert_eq!(json["type"], "library_changed");

    loft.start_watching().unwrap();
    support::copy_fixture("tone.mp3", &music.join("new/tone.mp3"));
    next_matching(&receiver, "LibraryChanged after a file was added", |e| {
        matches!(e, Event::LibraryChanged { added: 1, .. })
    });
    assert_eq!(loft.library().track_count().unwrap(), 2);

    // A folder added while watching is watched too.
    let more = tmp.path().join("more");
    std::fs::create_dir_all(&more).unwrap();
    loft.add_library_folder(&more).unwrap();
    support::copy_fixture("tone.opus", &more.join("tone.opus"));
    next_matching(&receiver, "LibraryChanged in a newly added folder", |e| {
        matches!(e, Event::LibraryChanged { added: 1, .. })
    });
    loft.stop_watching();
    assert_eq!(loft.search("hoppipolla", 10).unwrap().len(), 3);
}
