//! Two devices (two profiles) on one folder locker see the same playlists: edits go to the
//! catalog with the catalog's ids, and a sync brings the other device's edits in.

#[path = "../../library/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, mpsc};

use loft_core::library_types::HashPace;
use loft_core::{Event, Loft};

/// A device: a profile whose library holds `music`, connected to the locker at `url`.
fn device(profile: &Path, music: &Path, url: &str) -> (Loft, mpsc::Receiver<Event>) {
    let (sender, receiver) = mpsc::channel();
    let loft = Loft::open_with_events(profile, Arc::new(sender)).unwrap();
    loft.add_library_folder(music).unwrap();
    loft.scan_library().unwrap();
    loft.update_settings(|settings| settings.locker_url = Some(url.to_owned())).unwrap();
    (loft, receiver)
}

fn sync(loft: &Loft) {
    loft.sync_locker().unwrap();
}

fn catalog(loft: &Loft) -> loft_core::locker_types::CatalogState {
    loft.locker_catalog().unwrap().expect("a locker is connected")
}

fn track_id(loft: &Loft, path: &Path) -> i64 {
    loft.library().track_id_for_path(&path.canonicalize().unwrap()).unwrap().unwrap()
}

fn entry_tracks(loft: &Loft, playlist: &str) -> Vec<Option<i64>> {
    loft.playlist_tracks(playlist).unwrap().iter().map(|e| e.track.as_ref().map(|t| t.id)).collect()
}

#[test]
fn two_devices_on_one_folder_locker_share_their_playlists() {
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    support::copy_fixture("tone.flac", &music.join("a.flac"));
    support::copy_fixture("tone.opus", &music.join("b.opus"));
    let only_here = tmp.path().join("laptop music");
    support::copy_fixture("tone.mp3", &only_here.join("c.mp3"));
    let locker_dir = tmp.path().join("locker");
    std::fs::create_dir_all(&locker_dir).unwrap();
    let url = format!("file://{}", locker_dir.display());

    let (desk, desk_events) = device(&tmp.path().join("desk"), &music, &url);
    let (laptop, laptop_events) = device(&tmp.path().join("laptop"), &music, &url);
    laptop.add_library_folder(&only_here).unwrap();
    laptop.scan_library().unwrap();

    // The desk makes a playlist; its id is the catalog's.
    let (desk_a, desk_b) = (track_id(&desk, &music.join("a.flac")), track_id(&desk, &music.join("b.opus")));
    let road = desk.create_playlist("Road trip").unwrap();
    let in_catalog = catalog(&desk).playlist(&road.id).unwrap();
    assert_eq!(in_catalog.name, "Road trip");
    let entries = desk.playlist_add(&road.id, &[desk_a, desk_b, desk_a], None).unwrap();
    desk.playlist_move(&road.id, &entries[1], 0).unwrap();
    let in_catalog = catalog(&desk).playlist(&road.id).unwrap();
    let catalog_entries: Vec<&str> = in_catalog.entries.iter().map(|e| e.entry_id.as_str()).collect();
    let local_entries: Vec<String> =
        desk.playlist_tracks(&road.id).unwrap().into_iter().map(|e| e.entry_id).collect();
    assert_eq!(catalog_entries, local_entries, "same entries, same ids, same order");
    assert!(desk_events.try_iter().any(|e| matches!(e, Event::PlaylistsChanged { .. })));

    // The laptop syncs and sees it: same id, same order, its own copies of the tracks.
    sync(&laptop);
    let listed = laptop.playlists().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id.as_str(), listed[0].name.as_str()), (road.id.as_str(), "Road trip"));
    let (laptop_a, laptop_b) =
        (track_id(&laptop, &music.join("a.flac")), track_id(&laptop, &music.join("b.opus")));
    // The laptop's files are not hashed yet; the entries find them once they are.
    laptop.library().hash_pending(HashPace::UNLIMITED, &AtomicBool::new(false)).unwrap();
    assert_eq!(entry_tracks(&laptop, &road.id), [Some(laptop_b), Some(laptop_a), Some(laptop_a)]);
    assert!(
        laptop_events
            .try_iter()
            .any(|e| matches!(e, Event::PlaylistsChanged { ids } if ids == [road.id.clone()]))
    );

    // The laptop edits: renames, adds a track only it has, removes the first entry.
    let laptop_c = track_id(&laptop, &only_here.join("c.mp3"));
    laptop.rename_playlist(&road.id, "Long drive").unwrap();
    laptop.playlist_add(&road.id, &[laptop_c], Some(1)).unwrap();
    let first = laptop.playlist_tracks(&road.id).unwrap()[0].entry_id.clone();
    assert_eq!(
        laptop.playlist_remove(&road.id, &[first.clone(), first]).unwrap(),
        1,
        "named twice, removed once"
    );
    assert_eq!(entry_tracks(&laptop, &road.id), [Some(laptop_c), Some(laptop_a), Some(laptop_a)]);

    // Back on the desk: the track it lacks is listed as unavailable, not dropped.
    sync(&desk);
    let shown = desk.playlist_tracks(&road.id).unwrap();
    assert_eq!(desk.playlists().unwrap()[0].name, "Long drive");
    assert_eq!(shown.len(), 3);
    assert!(!shown[0].is_available());
    assert_eq!(entry_tracks(&desk, &road.id)[1..], [Some(desk_a), Some(desk_a)]);

    // Deleting on one device deletes everywhere.
    desk.delete_playlist(&road.id).unwrap();
    sync(&laptop);
    assert!(laptop.playlists().unwrap().is_empty());
    assert_eq!(laptop.playlist_tracks(&road.id).unwrap_err().kind(), "not_found");
}

#[test]
fn a_playlist_made_before_the_locker_was_connected_stays_on_this_device_until_published() {
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    support::copy_fixture("tone.flac", &music.join("a.flac"));
    let loft = Loft::open(tmp.path().join("profile")).unwrap();
    loft.add_library_folder(&music).unwrap();
    loft.scan_library().unwrap();
    let local = loft.create_playlist("Local").unwrap();
    let locker_dir = tmp.path().join("locker");
    std::fs::create_dir_all(&locker_dir).unwrap();
    loft.update_settings(|s| s.locker_url = Some(format!("file://{}", locker_dir.display()))).unwrap();

    let track = track_id(&loft, &music.join("a.flac"));
    loft.playlist_add(&local.id, &[track], None).unwrap();
    assert_eq!(entry_tracks(&loft, &local.id), [Some(track)]);
    assert!(catalog(&loft).playlists().is_empty());

    // Published, it takes the catalog's ids and keeps its entries in order.
    loft.playlist_add(&local.id, &[track], Some(0)).unwrap();
    let report = loft.publish_playlists_to_locker().unwrap();
    assert_eq!(report.published.len(), 1);
    assert!(report.kept_local.is_empty());
    let published = &report.published[0];
    assert_ne!(published, &local.id);
    let in_catalog = catalog(&loft).playlist(published).unwrap();
    assert_eq!(in_catalog.name, "Local");
    assert_eq!(in_catalog.entries.len(), 2);
    let listed = loft.playlists().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(&listed[0].id, published);
    assert_eq!(entry_tracks(&loft, published), [Some(track), Some(track)]);
    let local_entries: Vec<String> =
        loft.playlist_tracks(published).unwrap().into_iter().map(|e| e.entry_id).collect();
    let catalog_entries: Vec<String> = in_catalog.entries.into_iter().map(|e| e.entry_id).collect();
    assert_eq!(local_entries, catalog_entries);
    assert!(loft.publish_playlists_to_locker().unwrap().published.is_empty(), "nothing left to publish");
}
