//! Hearts and ratings given to many tracks at once (an album, a selection): each track in the
//! library at once, the whole selection as one edit in the catalog, one notice to the front
//! ends, and a second device sees every one of them. A selection holding a track that is gone
//! changes the tracks before it everywhere and says what failed.

#[path = "../../library/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, mpsc};

use loft_core::library_types::HashPace;
use loft_core::{Event, Loft};

const FILES: [(&str, &str); 3] = [("tone.flac", "a.flac"), ("tone.mp3", "b.mp3"), ("tone.ogg", "c.ogg")];

fn device(profile: &Path, music: &Path, url: &str) -> (Loft, mpsc::Receiver<Event>) {
    let (sender, receiver) = mpsc::channel();
    let loft = Loft::open_with_events(profile, Arc::new(sender)).unwrap();
    loft.add_library_folder(music).unwrap();
    loft.scan_library().unwrap();
    // Listening state follows a track's content: its hash is needed first.
    loft.library().hash_pending(HashPace::UNLIMITED, &AtomicBool::new(false)).unwrap();
    loft.update_settings(|settings| settings.locker_url = Some(url.to_owned())).unwrap();
    (loft, receiver)
}

fn ids(loft: &Loft, music: &Path) -> Vec<i64> {
    FILES
        .iter()
        .map(|(_, name)| {
            loft.library().track_id_for_path(&music.join(name).canonicalize().unwrap()).unwrap().unwrap()
        })
        .collect()
}

/// Every file under `dir`, by its path relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found
}

#[test]
fn a_selection_is_loved_and_rated_as_one_edit_and_reaches_another_device() {
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    for (fixture, name) in FILES {
        support::copy_fixture(fixture, &music.join(name));
    }
    let locker_dir = tmp.path().join("locker");
    std::fs::create_dir_all(&locker_dir).unwrap();
    let url = format!("file://{}", locker_dir.display());
    let (desk, desk_events) = device(&tmp.path().join("desk"), &music, &url);
    let (laptop, _) = device(&tmp.path().join("laptop"), &music, &url);
    desk.sync_locker().unwrap();
    let desk_ids = ids(&desk, &music);
    let files_before = files_under(&locker_dir);
    desk_events.try_iter().for_each(drop);

    let loved = desk.set_loved_tracks(&desk_ids, true).unwrap();
    assert_eq!(
        loved.iter().map(|track| (track.id, track.loved)).collect::<Vec<_>>(),
        [(desk_ids[0], true), (desk_ids[1], true), (desk_ids[2], true)]
    );
    let notices =
        desk_events.try_iter().filter(|event| matches!(event, Event::LibraryChanged { .. })).count();
    assert_eq!(notices, 1, "one notice for the selection, not one per track");
    let written: Vec<String> =
        files_under(&locker_dir).into_iter().filter(|file| !files_before.contains(file)).collect();
    assert_eq!(written.len(), 1, "one log file for the selection, not one per track: {written:?}");
    assert_eq!(desk.locker_status().unwrap().unwrap().pending_changes, 0);

    let rated = desk.set_rating_tracks(&desk_ids[1..], Some(4)).unwrap();
    assert!(rated.iter().all(|track| track.rating == Some(4)));

    // A track that is gone stops the selection where it is: the tracks before it are changed
    // here and in the catalog alike, and the error says which.
    let error = desk.set_rating_tracks(&[desk_ids[0], 999_999, desk_ids[2]], Some(1)).unwrap_err();
    assert_eq!(error.kind(), "not_found", "{error}");
    assert_eq!(desk.track(desk_ids[0]).unwrap().unwrap().rating, Some(1));
    assert_eq!(desk.track(desk_ids[2]).unwrap().unwrap().rating, Some(4));

    desk.sync_locker().unwrap();
    laptop.sync_locker().unwrap();
    let laptop_ids = ids(&laptop, &music);
    let seen: Vec<(bool, Option<u8>)> = laptop_ids
        .iter()
        .map(|&id| {
            let track = laptop.track(id).unwrap().unwrap();
            (track.loved, track.rating)
        })
        .collect();
    assert_eq!(seen, [(true, Some(1)), (true, Some(4)), (true, Some(4))]);
}
