//! The Offline filter and badges: a track plays with no network when it has a local file or a
//! complete copy in the offline cache, whose state the service mirrors into the index.

mod support;

use std::sync::atomic::AtomicBool;

use loft_library::{
    HashPace, Library, LockerCopy, OfflineCopy, OfflineState, SourceFilter, Track, TrackQuery,
};

fn listed(library: &Library, source: SourceFilter) -> Vec<Track> {
    library.tracks(&TrackQuery { limit: 1000, source, ..TrackQuery::default() }).unwrap()
}

fn titles(tracks: &[Track]) -> Vec<String> {
    let mut titles: Vec<String> = tracks.iter().map(|track| track.title.clone()).collect();
    titles.sort();
    titles
}

fn cloud_copy(n: u8, title: &str) -> LockerCopy {
    LockerCopy {
        id: format!("{n:02x}").repeat(32),
        size: 1000,
        file_name: Some(format!("{title}.flac")),
        title: Some(title.to_owned()),
        artist: Some("Cloud".to_owned()),
        added_ms: 1_300_000_000_000,
        ..LockerCopy::default()
    }
}

fn copy(n: u8, pinned: bool, complete: bool) -> OfflineCopy {
    OfflineCopy { sha256: format!("{n:02x}").repeat(32), pinned, complete }
}

#[test]
fn offline_lists_local_files_and_complete_cached_copies_with_their_badges() {
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    std::fs::create_dir_all(&music).unwrap();
    support::copy_fixture("tone.flac", &music.join("tone.flac"));
    let library = Library::open(tmp.path().join("library.sqlite3")).unwrap();
    library.add_folder(&music).unwrap();
    library.scan(&|_| {}).unwrap();
    library.hash_pending(HashPace::UNLIMITED, &AtomicBool::new(false)).unwrap();
    let cloud = [
        cloud_copy(1, "Played Once"),
        cloud_copy(2, "Pinned Whole"),
        cloud_copy(3, "Pinned Halfway"),
        cloud_copy(4, "Never Played"),
    ];
    library.apply_locker_changes(&cloud, &[]).unwrap();
    assert_eq!(listed(&library, SourceFilter::All).len(), 5);

    // Nothing cached yet: only the local file plays offline.
    assert_eq!(titles(&listed(&library, SourceFilter::Offline)), ["Hoppípolla"]);

    library.set_offline_copies(&[copy(1, false, true), copy(2, true, true), copy(3, true, false)]).unwrap();
    assert_eq!(
        titles(&listed(&library, SourceFilter::Offline)),
        ["Hoppípolla", "Pinned Whole", "Played Once"],
        "a pinned copy still downloading does not play offline yet"
    );
    assert_eq!(library.count_tracks(SourceFilter::Offline).unwrap(), 3);
    let state_of = |title: &str| {
        listed(&library, SourceFilter::All).into_iter().find(|track| track.title == title).unwrap().offline
    };
    assert_eq!(state_of("Played Once"), OfflineState::Cached);
    assert_eq!(state_of("Pinned Whole"), OfflineState::Pinned);
    assert_eq!(state_of("Pinned Halfway"), OfflineState::Downloading);
    assert_eq!(state_of("Never Played"), OfflineState::None);
    assert_eq!(state_of("Hoppípolla"), OfflineState::None);

    // The mirror is replaced whole: an evicted copy leaves the filter.
    library.set_offline_copies(&[copy(2, true, true), copy(5, false, false)]).unwrap();
    assert_eq!(
        library.offline_copies().unwrap(),
        [copy(2, true, true)],
        "entries with nothing complete or pinned are left out"
    );
    assert_eq!(titles(&listed(&library, SourceFilter::Offline)), ["Hoppípolla", "Pinned Whole"]);
    assert_eq!(state_of("Played Once"), OfflineState::None);
    assert_eq!("offline".parse::<SourceFilter>().unwrap(), SourceFilter::Offline);
}
