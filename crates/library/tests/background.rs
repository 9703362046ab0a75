//! The background parts: the SHA-256 hasher and the folder watcher.

mod support;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use loft_library::{HashPace, Library, TrackQuery, WatchEvent};

fn sha256sum(path: &Path) -> String {
    support::require_tool("sha256sum");
    let output = std::process::Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(output.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
}

#[test]
fn hashes_are_computed_in_the_background_survive_restarts_and_merge_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    let db = tmp.path().join("library.sqlite3");
    support::copy_fixture("tone.flac", &music.join("a/tone.flac"));
    support::copy_fixture("tone.flac", &music.join("b/copy of tone.flac"));
    support::copy_fixture("tone.opus", &music.join("a/tone.opus"));
    let library = Library::open(&db).unwrap();
    library.add_folder(&music).unwrap();
    library.scan(&|_| {}).unwrap();
    let tracks = library.tracks(&TrackQuery::default()).unwrap();
    assert_eq!(tracks.len(), 3);
    assert!(tracks.iter().all(|t| t.sha256.is_none()));
    let copy_id = library.track_id_for_path(&music.join("b/copy of tone.flac")).unwrap().unwrap();
    library.record_play(copy_id, 1_700_000_000_000).unwrap();

    // Stopped before it starts: nothing hashed, nothing lost.
    let stopped = library.hash_pending(HashPace::UNLIMITED, &AtomicBool::new(true)).unwrap();
    assert_eq!(stopped.hashed + stopped.merged, 0);
    drop(library);

    // After a restart the hasher finds the work still to do.
    let library = Library::open(&db).unwrap();
    let report = library.hash_pending(HashPace::UNLIMITED, &AtomicBool::new(false)).unwrap();
    // The copy was hashed when its play was counted (plays are kept by content).
    assert_eq!((report.hashed, report.merged, report.failed), (1, 1, 0), "{report:?}");
    let tracks = library.tracks(&TrackQuery::default()).unwrap();
    assert_eq!(tracks.len(), 2, "identical files are one track");
    let flac = tracks.iter().find(|t| t.format == "flac").unwrap();
    assert_eq!(flac.sha256.as_deref(), Some(sha256sum(&music.join("a/tone.flac")).as_str()));
    assert_eq!(flac.play_count, 1, "plays of the merged copy are kept");
    let opus = tracks.iter().find(|t| t.format == "opus").unwrap();
    assert_eq!(opus.sha256.as_deref(), Some(sha256sum(&music.join("a/tone.opus")).as_str()));

    // Deleting one copy keeps the track; a rescan finds nothing more to hash.
    std::fs::remove_file(music.join("a/tone.flac")).unwrap();
    library.scan(&|_| {}).unwrap();
    assert_eq!(library.track_count().unwrap(), 2);
    let again = library.hash_pending(HashPace::UNLIMITED, &AtomicBool::new(false)).unwrap();
    assert_eq!(again.hashed + again.merged, 0);

    // The background thread does the same on its own, and stops when dropped.
    support::copy_fixture("tone.mp3", &music.join("c/tone.mp3"));
    library.scan(&|_| {}).unwrap();
    let (sender, receiver) = mpsc::channel();
    let hasher = library.start_hasher(HashPace::BACKGROUND, move |report| {
        let _ = sender.send(report);
    });
    let report = receiver.recv_timeout(Duration::from_secs(20)).expect("the background hasher reports");
    assert_eq!(report.hashed, 1);
    drop(hasher);
    let mp3 = library.track_id_for_path(&music.join("c/tone.mp3")).unwrap().unwrap();
    assert!(library.track(mp3).unwrap().unwrap().sha256.is_some());
}

fn wait_for(
    receiver: &mpsc::Receiver<WatchEvent>,
    what: &str,
    done: impl Fn(&Library) -> bool,
    library: &Library,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(WatchEvent::Failed(error)) = receiver.recv_timeout(Duration::from_millis(200)) {
            panic!("watcher failed while waiting for {what}: {error}");
        }
        if done(library) {
            return;
        }
    }
    panic!("the watcher did not pick up {what} within 20 s");
}

#[test]
fn the_watcher_follows_additions_changes_moves_and_removals() {
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    std::fs::create_dir_all(&music).unwrap();
    let library = Library::open(tmp.path().join("library.sqlite3")).unwrap();
    library.add_folder(&music).unwrap();
    library.scan(&|_| {}).unwrap();
    let (sender, receiver) = mpsc::channel();
    let watcher = library
        .watch(move |event| {
            let _ = sender.send(event);
        })
        .unwrap();
    assert_eq!(watcher.watched().len(), 1);

    // A whole album folder copied in.
    let staging = tmp.path().join("staging/album");
    support::copy_fixture("tone.flac", &staging.join("tone.flac"));
    support::copy_fixture("tone.mp3", &staging.join("tone.mp3"));
    std::fs::rename(tmp.path().join("staging/album"), music.join("album")).unwrap();
    wait_for(&receiver, "an added folder", |l| l.track_count().unwrap() == 2, &library);

    let flac = music.join("album/tone.flac");
    let id = library.track_id_for_path(&flac).unwrap().unwrap();
    library.record_play(id, 1_700_000_000_000).unwrap();

    // Renamed: the same track at a new path.
    let renamed = music.join("album/01 renamed.flac");
    std::fs::rename(&flac, &renamed).unwrap();
    wait_for(&receiver, "a rename", |l| l.track_id_for_path(&renamed).unwrap() == Some(id), &library);
    assert_eq!(library.track(id).unwrap().unwrap().play_count, 1);

    // Re-tagged in place.
    support::encode(&renamed, &["-c:a", "flac"], &[("title", "Retagged")], 0.5);
    wait_for(&receiver, "a tag change", |l| l.track(id).unwrap().unwrap().title == "Retagged", &library);

    // Deleted.
    std::fs::remove_file(music.join("album/tone.mp3")).unwrap();
    wait_for(&receiver, "a deletion", |l| l.track_count().unwrap() == 1, &library);
    drop(watcher);
}

/// Reading is not changing: a full scan opens every folder and file under the watch (as the
/// start-up scan and every rescan do), and the watcher must not take those reads for changes,
/// or it rescans for ever.
#[test]
fn the_watcher_ignores_reads_and_a_scan_of_its_own_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    for folder in 0..40 {
        support::copy_fixture("tone.flac", &music.join(format!("{folder}/a.flac")));
    }
    let library = Library::open(tmp.path().join("library.sqlite3")).unwrap();
    library.add_folder(&music).unwrap();
    library.scan(&|_| {}).unwrap();
    let watcher = library.watch(|_| {}).unwrap();
    for _ in 0..2 {
        library.scan(&|_| {}).unwrap();
        for folder in 0..40 {
            let _ = std::fs::read(music.join(format!("{folder}/a.flac"))).unwrap();
            let _ = std::fs::read_dir(music.join(folder.to_string())).unwrap().count();
        }
    }
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(watcher.batches_scanned(), 0, "reads were taken for changes");

    // A real change still gets through.
    support::copy_fixture("tone.mp3", &music.join("0/b.mp3"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while library.track_count().unwrap() != 41 {
        assert!(Instant::now() < deadline, "the new file was not picked up");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(watcher.batches_scanned() >= 1);
}

#[test]
fn readers_on_other_threads_browse_while_a_scan_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    for (i, format) in support::FORMATS.iter().enumerate() {
        for copy in 0..5 {
            support::copy_fixture(format.file, &music.join(format!("{i}/{copy}-{}", format.file)));
        }
    }
    let library = Library::open(tmp.path().join("library.sqlite3")).unwrap();
    library.add_folder(&music).unwrap();
    std::thread::scope(|scope| {
        let scanner = scope.spawn(|| library.scan(&|_| {}).unwrap());
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..50 {
                    library.tracks(&TrackQuery::default()).unwrap();
                    library.search("sigur", 10).unwrap();
                }
            });
        }
        assert_eq!(scanner.join().unwrap().added, 40);
    });
    assert_eq!(library.search("hoppipolla", 100).unwrap().len(), 40);
}
