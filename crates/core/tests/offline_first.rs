//! Offline first, through the service: two devices with the locker cut off (the proxy in front
//! of the S3 server stopped, not a flag) both edit the same playlist, love and rate tracks and
//! play the same track; nothing is refused. The locker comes back; both converge to the same
//! playlists, hearts and ratings, and plays that add up.

#[path = "../../library/tests/support/mod.rs"]
mod support;

use std::path::Path;

use loft_core::Loft;
use std::sync::atomic::AtomicBool;

use loft_core::library_types::{HashPace, Track, TrackQuery};
use loft_testkit::{HttpProxy, S3Server};

fn track_at(loft: &Loft, path: &Path) -> Track {
    let id = loft.library().track_id_for_path(&path.canonicalize().unwrap()).unwrap().unwrap();
    loft.track(id).unwrap().unwrap()
}

fn state(loft: &Loft, music: &Path) -> Vec<(String, u64, bool, Option<u8>)> {
    ["a.flac", "b.mp3", "c.ogg"]
        .iter()
        .map(|name| {
            let track = track_at(loft, &music.join(name));
            (name.to_string(), track.play_count, track.loved, track.rating)
        })
        .collect()
}

fn playlist_shape(loft: &Loft) -> Vec<(String, Vec<Option<String>>)> {
    let mut shape: Vec<(String, Vec<Option<String>>)> = loft
        .playlists()
        .unwrap()
        .into_iter()
        .map(|playlist| {
            let entries = loft.playlist_tracks(&playlist.id).unwrap();
            (playlist.name, entries.into_iter().map(|entry| entry.sha256).collect())
        })
        .collect();
    shape.sort();
    shape
}

/// The only test in this binary: it sets the process's S3 credentials.
#[test]
fn two_devices_edit_offline_and_converge_when_the_locker_is_back() {
    let tmp = tempfile::tempdir().unwrap();
    // SAFETY: the first thing this binary's only test does; no other thread exists yet.
    #[allow(unsafe_code)]
    let server = unsafe { S3Server::start_with_env_credentials(&tmp.path().join("s3")) }.unwrap();
    let proxy = HttpProxy::start(server.port()).unwrap();
    let port = proxy.port();
    let url = server.locker_url("music").replace(&server.port().to_string(), &port.to_string());

    // The same three songs on both computers.
    let device = |name: &str| {
        let music = tmp.path().join(format!("{name} music"));
        for file in ["a.flac", "b.mp3", "c.ogg"] {
            let fixture = match file {
                "a.flac" => "tone.flac",
                "b.mp3" => "tone.mp3",
                _ => "tone.ogg",
            };
            support::copy_fixture(fixture, &music.join(file));
        }
        let loft = Loft::open(tmp.path().join(name)).unwrap();
        loft.add_library_folder(&music).unwrap();
        loft.scan_library().unwrap();
        loft.connect_locker(&url, None).unwrap();
        (loft, music)
    };
    let (a, music_a) = device("a");
    let (b, music_b) = device("b");
    let id = |loft: &Loft, music: &Path, name: &str| track_at(loft, &music.join(name)).id;

    let mix = a.create_playlist("Mix").unwrap();
    a.playlist_add(&mix.id, &[id(&a, &music_a, "a.flac"), id(&a, &music_a, "b.mp3")], None).unwrap();
    a.record_play(id(&a, &music_a, "a.flac")).unwrap();
    b.sync_locker().unwrap();
    assert_eq!(playlist_shape(&b), playlist_shape(&a));

    // Cut off.
    drop(proxy);
    assert!(a.sync_locker().is_err());
    a.rename_playlist(&mix.id, "Mix from A").unwrap();
    a.playlist_add(&mix.id, &[id(&a, &music_a, "c.ogg")], None).unwrap();
    a.set_loved(id(&a, &music_a, "a.flac"), true).unwrap();
    a.set_rating(id(&a, &music_a, "b.mp3"), Some(5)).unwrap();
    for _ in 0..2 {
        a.record_play(id(&a, &music_a, "c.ogg")).unwrap();
    }
    let first = b.playlist_tracks(&mix.id).unwrap()[0].entry_id.clone();
    b.playlist_remove(&mix.id, &[first]).unwrap();
    b.playlist_add(&mix.id, &[id(&b, &music_b, "c.ogg")], Some(0)).unwrap();
    b.set_loved(id(&b, &music_b, "b.mp3"), true).unwrap();
    b.set_rating(id(&b, &music_b, "b.mp3"), Some(3)).unwrap();
    for _ in 0..3 {
        b.record_play(id(&b, &music_b, "c.ogg")).unwrap();
    }
    let pending = |loft: &Loft| loft.locker_status().unwrap().unwrap().pending_changes;
    assert!(pending(&a) >= 4 && pending(&b) >= 4, "the edits wait: {} and {}", pending(&a), pending(&b));
    // Each sees its own edits at once.
    assert_eq!(track_at(&a, &music_a.join("c.ogg")).play_count, 2);
    assert_eq!(track_at(&b, &music_b.join("c.ogg")).play_count, 3);

    // Back.
    let _back = HttpProxy::start_on(server.port(), port).unwrap();
    for device in [&a, &b, &a] {
        let summary = device.sync_locker().unwrap();
        assert!(summary.problems.is_empty(), "{:?}", summary.problems);
    }
    assert_eq!((pending(&a), pending(&b)), (0, 0));
    // The hasher gives each device's files their content hash in the background; the state
    // kept by content reaches a track once it has one.
    for device in [&a, &b] {
        device.library().hash_pending(HashPace::UNLIMITED, &AtomicBool::new(false)).unwrap();
    }
    assert_eq!(playlist_shape(&a), playlist_shape(&b), "the same playlists");
    let merged = state(&a, &music_a);
    assert_eq!(merged, state(&b, &music_b), "the same hearts, ratings and plays");
    let by_name = |name: &str| merged.iter().find(|(file, ..)| file == name).unwrap().clone();
    assert_eq!(by_name("c.ogg").1, 5, "plays on two devices add up");
    assert_eq!(by_name("a.flac").1, 1);
    assert!(by_name("a.flac").2 && by_name("b.mp3").2, "both hearts");
    assert_eq!(by_name("b.mp3").3, Some(3), "the later rating wins");
    let (name, entries) = playlist_shape(&a).remove(0);
    assert_eq!(name, "Mix from A");
    assert_eq!(entries.len(), 3, "one removed, two added: {entries:?}");
    assert!(a.history(10).unwrap().iter().any(|track| track.title == b.history(10).unwrap()[0].title));
    assert_eq!(a.tracks(&TrackQuery::default()).unwrap().len(), 3);
}
