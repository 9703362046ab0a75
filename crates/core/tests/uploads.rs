//! The uploads panel's queue against a real S3 server on loopback: files go through queued →
//! sending → done with their own byte counts, a file the locker has shows as a duplicate, a
//! drop over the quota is refused whole before anything is queued, a queued file can be
//! cancelled and retried, and files still waiting when the app stops (here: while the server
//! is down) are sent at the next start once the server is back.

#[path = "../../library/tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use loft_core::{Event, Loft, UploadItem, UploadState};
use loft_testkit::S3Server;

fn wait_for_uploads(loft: &Loft, what: &str, done: impl Fn(&[UploadItem]) -> bool) -> Vec<UploadItem> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let items = loft.uploads();
        if done(&items) {
            return items;
        }
        assert!(Instant::now() < deadline, "{what} within 90 s; the queue: {items:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn settled(items: &[UploadItem]) -> bool {
    !items.is_empty()
        && items.iter().all(|item| !matches!(item.state, UploadState::Queued | UploadState::Sending))
}

/// The only test in this binary: it sets the process's S3 credentials.
#[test]
fn the_queue_sends_refuses_cancels_retries_and_continues_after_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    // SAFETY: the first thing this binary's only test does; no other thread exists yet.
    #[allow(unsafe_code)]
    let mut server = unsafe { S3Server::start_with_env_credentials(&tmp.path().join("s3")) }.unwrap();
    let url = server.locker_url("music");
    let music = tmp.path().join("music");
    let files: Vec<PathBuf> = ["tone.flac", "tone.mp3", "tone.ogg", "tone.wav", "tone.aiff"]
        .iter()
        .map(|name| {
            let path = music.join(name);
            support::copy_fixture(name, &path);
            std::fs::canonicalize(path).unwrap()
        })
        .collect();
    let size = |path: &PathBuf| std::fs::metadata(path).unwrap().len();

    let (sender, receiver) = mpsc::channel();
    let loft = Loft::open_with_events(tmp.path().join("profile"), Arc::new(sender)).unwrap();
    loft.connect_locker(&url, None).unwrap();

    // Two files: each goes queued → sending → done, with its own bytes.
    let queued = loft.enqueue_uploads(&files[..2]).unwrap();
    assert_eq!(queued.len(), 2);
    let items = wait_for_uploads(&loft, "two files done", settled);
    for (item, file) in items.iter().zip(&files[..2]) {
        assert_eq!(
            (item.state, &item.path, item.bytes_sent, item.size),
            (UploadState::Done, file, size(file), size(file))
        );
    }
    // The queue's state can be read a moment before the event that announces it goes out:
    // collect events until the one saying the first file is done.
    let mut states_seen: Vec<UploadState> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while states_seen.last() != Some(&UploadState::Done) {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(event) = receiver.recv_timeout(left) else { break };
        if let Event::UploadsChanged { items } = event
            && let Some(item) = items.iter().find(|item| item.path == files[0])
        {
            states_seen.push(item.state);
        }
    }
    assert!(states_seen.contains(&UploadState::Queued), "{states_seen:?}");
    assert!(states_seen.contains(&UploadState::Sending), "{states_seen:?}");
    assert_eq!(states_seen.last(), Some(&UploadState::Done));

    // The same file again sends nothing.
    loft.clear_finished_uploads();
    assert!(loft.uploads().is_empty());
    loft.enqueue_uploads(&files[..1]).unwrap();
    let again = wait_for_uploads(&loft, "the duplicate settled", settled);
    assert_eq!((again[0].state, again[0].bytes_sent), (UploadState::Duplicate, 0));

    // Over the quota: refused whole, with the numbers, and nothing queued.
    let usage = loft.locker_status().unwrap().unwrap().usage_bytes;
    loft.set_locker_quota(usage + size(&files[2])).unwrap();
    loft.clear_finished_uploads();
    let refused = loft.enqueue_uploads(&files[2..]).unwrap_err();
    assert_eq!(refused.kind(), "quota");
    assert!(refused.to_string().contains("quota"), "{refused}");
    assert!(loft.uploads().is_empty(), "nothing was queued");
    loft.set_locker_quota(5 << 30).unwrap();

    // Cancel a queued file while the server is down (so nothing is sent), then retry it.
    server.stop();
    let waiting = loft.enqueue_uploads(&files[2..3]).unwrap();
    let cancelled = loft.cancel_upload(waiting[0].id);
    // Queued, it is cancelled at once; if a sender took it already, before its next part.
    let cancelled = cancelled.unwrap();
    assert!(matches!(cancelled.state, UploadState::Cancelled | UploadState::Sending), "{cancelled:?}");
    let more = loft.enqueue_uploads(&files[3..]).unwrap();
    assert_eq!(more.len(), 2);
    // The senders give up on the unreachable server and leave the files queued.
    wait_for_uploads(&loft, "the senders to stop", |items| {
        items.iter().all(|item| matches!(item.state, UploadState::Queued | UploadState::Cancelled))
    });
    assert_eq!(
        loft.uploads().iter().find(|item| item.id == waiting[0].id).map(|item| item.state),
        Some(UploadState::Cancelled)
    );
    loft.retry_upload(waiting[0].id).unwrap();
    // The retry starts the senders again, which may be trying the server right now: every
    // file is waiting, one way or the other, when the app stops.
    assert!(
        loft.uploads().iter().all(|item| matches!(item.state, UploadState::Queued | UploadState::Sending)),
        "{:#?}",
        loft.uploads()
    );
    drop(loft);

    // Next start, server back: the queue of the last run is sent.
    server.restart().unwrap();
    let loft = Loft::open(tmp.path().join("profile")).unwrap();
    loft.start_locker_sync();
    let resumed = wait_for_uploads(&loft, "the three waiting files sent after the restart", |items| {
        items.len() == 3 && items.iter().all(|item| item.state == UploadState::Done)
    });
    let mut paths: Vec<&PathBuf> = resumed.iter().map(|item| &item.path).collect();
    paths.sort();
    let mut expected: Vec<&PathBuf> = files[2..].iter().collect();
    expected.sort();
    assert_eq!(paths, expected);
    assert_eq!(loft.locker_status().unwrap().unwrap().tracks, 5);
}
