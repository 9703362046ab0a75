//! Tracks in the locker: one track per piece of music whether it is on disk, in the locker or
//! both; merging when the hash says a local file is a locker track, and parting again when
//! either copy goes.

mod support;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use loft_library::{HashPace, Library, LockerCopy, Page, SourceFilter, Track, TrackQuery, TrackSource};
use sha2::{Digest, Sha256};

fn sha256_of(path: &Path) -> String {
    let digest = Sha256::digest(std::fs::read(path).unwrap());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn all(library: &Library) -> Vec<Track> {
    library.tracks(&TrackQuery { limit: 1000, ..TrackQuery::default() }).unwrap()
}

fn only(library: &Library, source: SourceFilter) -> Vec<Track> {
    library.tracks(&TrackQuery { limit: 1000, source, ..TrackQuery::default() }).unwrap()
}

/// The copy the catalog holds for a file uploaded under `name` with the catalog's own tags.
fn copy_of(path: &Path, name: &str, title: &str) -> LockerCopy {
    LockerCopy {
        id: sha256_of(path),
        size: std::fs::metadata(path).unwrap().len(),
        file_name: Some(name.to_owned()),
        title: Some(title.to_owned()),
        artist: Some("Catalog Artist".to_owned()),
        album: Some("Catalog Album".to_owned()),
        year: Some(2011),
        track_no: Some(7),
        duration_ms: Some(1000),
        added_ms: 1_300_000_000_000,
        ..LockerCopy::default()
    }
}

struct Setup {
    _tmp: tempfile::TempDir,
    music: std::path::PathBuf,
    library: Library,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    std::fs::create_dir_all(&music).unwrap();
    let library = Library::open(tmp.path().join("library.sqlite3")).unwrap();
    library.add_folder(&music).unwrap();
    Setup { _tmp: tmp, music, library }
}

#[test]
fn a_local_file_that_is_in_the_locker_is_one_track_until_either_copy_goes() {
    let s = setup();
    let file = s.music.join("tone.flac");
    support::copy_fixture("tone.flac", &file);
    support::copy_fixture("tone.opus", &s.music.join("tone.opus"));
    s.library.scan(&|_| {}).unwrap();
    s.library.hash_pending(HashPace::UNLIMITED, &AtomicBool::new(false)).unwrap();

    let applied = s.library.apply_locker_changes(&[copy_of(&file, "tone.flac", "Other Title")], &[]).unwrap();
    assert_eq!((applied.added, applied.updated, applied.removed), (0, 1, 0));
    let tracks = all(&s.library);
    assert_eq!(tracks.len(), 2, "{tracks:#?}");
    let merged = tracks.iter().find(|t| t.format == "flac").unwrap();
    assert_eq!(merged.source, TrackSource::Both);
    // The local file's tags win over the catalog's.
    assert_eq!(merged.title, "Hoppípolla");
    assert!(merged.path.is_some());
    assert_eq!(only(&s.library, SourceFilter::Locker).len(), 1);
    assert_eq!(only(&s.library, SourceFilter::Local).len(), 2);
    let json = serde_json::to_value(merged).unwrap();
    assert_eq!(json["source"], "both");

    // The same report again changes nothing.
    let again = s.library.apply_locker_changes(&[copy_of(&file, "tone.flac", "Other Title")], &[]).unwrap();
    assert!(!again.changed_anything(), "{again:?}");

    // The music folder goes: the track stays, now only in the locker, without a path.
    assert_eq!(s.library.remove_folder(&s.music).unwrap(), 1);
    let tracks = all(&s.library);
    assert_eq!(tracks.len(), 1);
    assert_eq!(tracks[0].id, merged.id);
    assert_eq!(tracks[0].source, TrackSource::Locker);
    assert_eq!(tracks[0].path, None);
    assert!(only(&s.library, SourceFilter::Local).is_empty());

    // And leaves the library when it leaves the locker.
    let removed = s.library.apply_locker_changes(&[], &[sha256_of(&file)]).unwrap();
    assert_eq!(removed.removed, 1);
    assert!(all(&s.library).is_empty());
}

#[test]
fn removing_from_the_locker_keeps_the_local_track() {
    let s = setup();
    let file = s.music.join("tone.flac");
    support::copy_fixture("tone.flac", &file);
    s.library.scan(&|_| {}).unwrap();
    // The upload hashed the file already: the index takes that hash instead of reading it again.
    assert!(!s.library.record_file_hash(&file, &sha256_of(&file)).unwrap());
    s.library.apply_locker_changes(&[copy_of(&file, "tone.flac", "x")], &[]).unwrap();
    assert_eq!(all(&s.library)[0].source, TrackSource::Both);

    let applied = s.library.apply_locker_changes(&[], &[sha256_of(&file)]).unwrap();
    assert_eq!((applied.updated, applied.removed), (1, 0));
    let tracks = all(&s.library);
    assert_eq!(tracks.len(), 1);
    assert_eq!(tracks[0].source, TrackSource::Local);
    assert_eq!(s.library.locker_copy_count().unwrap(), 0);
}

#[test]
fn a_locker_only_track_is_listed_searched_and_grouped_like_a_local_one_and_merges_when_hashed() {
    let s = setup();
    let elsewhere = s._tmp.path().join("elsewhere");
    support::copy_fixture("tone.flac", &elsewhere.join("tone.flac"));
    let copy = copy_of(&elsewhere.join("tone.flac"), "Sæglópur.flac", "");
    let applied = s.library.apply_locker_changes(std::slice::from_ref(&copy), &[]).unwrap();
    assert_eq!(applied.added, 1);

    let tracks = all(&s.library);
    assert_eq!(tracks.len(), 1);
    let cloud = &tracks[0];
    assert_eq!(cloud.source, TrackSource::Locker);
    assert_eq!(cloud.path, None);
    assert_eq!(cloud.sha256.as_deref(), Some(copy.id.as_str()));
    // No title in the catalog: the uploaded file's name stands in, as a local file's would.
    assert_eq!(cloud.title, "Sæglópur");
    assert_eq!((cloud.artist.as_str(), cloud.album.as_str()), ("Catalog Artist", "Catalog Album"));
    assert_eq!((cloud.year, cloud.track_no, cloud.format.as_str()), (Some(2011), Some(7), "flac"));
    assert_eq!(cloud.added_at, 1_300_000_000);
    assert_eq!(s.library.search("saeglo", 10).unwrap().len(), 1);
    assert_eq!(s.library.search("catalog artist", 10).unwrap().len(), 1);
    let albums = s.library.albums(Page::ALL).unwrap();
    assert_eq!(albums.len(), 1);
    assert_eq!(albums[0].title, "Catalog Album");
    assert_eq!(s.library.artists(Page::ALL).unwrap()[0].name, "Catalog Artist");
    assert_eq!(s.library.locker_copy(cloud.id).unwrap().unwrap().id, copy.id);
    assert_eq!(s.library.track_id_for_sha256(&copy.id).unwrap(), Some(cloud.id));

    // An edit on another device reaches a locker-only track's tags.
    let edited = LockerCopy { title: Some("Renamed".into()), ..copy.clone() };
    let applied = s.library.apply_locker_changes(&[edited], &[]).unwrap();
    assert_eq!(applied.updated, 1);
    assert_eq!(all(&s.library)[0].title, "Renamed");

    // The same file turns up in the music folder: two tracks until it is hashed, then one,
    // which keeps the locker track's id and takes the file's own tags.
    support::copy_fixture("tone.flac", &s.music.join("tone.flac"));
    s.library.scan(&|_| {}).unwrap();
    assert_eq!(all(&s.library).len(), 2);
    let report = s.library.hash_locker_twins().unwrap();
    assert_eq!(report.merged, 1);
    let tracks = all(&s.library);
    assert_eq!(tracks.len(), 1, "{tracks:#?}");
    assert_eq!(tracks[0].id, cloud.id);
    assert_eq!(tracks[0].source, TrackSource::Both);
    assert_eq!(tracks[0].title, "Hoppípolla");
    assert_eq!(tracks[0].album, "Takk...");
    assert!(tracks[0].sample_rate.is_some());
    assert_eq!(s.library.search("catalog", 10).unwrap().len(), 0);
    assert_eq!(s.library.albums(Page::ALL).unwrap()[0].title, "Takk...");
}

#[test]
fn a_file_edited_on_disk_parts_from_its_locker_copy() {
    let s = setup();
    let file = s.music.join("tone.flac");
    support::copy_fixture("tone.flac", &file);
    s.library.scan(&|_| {}).unwrap();
    s.library.hash_pending(HashPace::UNLIMITED, &AtomicBool::new(false)).unwrap();
    s.library.apply_locker_changes(&[copy_of(&file, "tone.flac", "x")], &[]).unwrap();
    let before = all(&s.library)[0].clone();

    // New content at the same path: the locker still has the old one.
    support::copy_fixture("tone.mp3", &file);
    let report = s.library.scan(&|_| {}).unwrap();
    assert_eq!(report.updated, 1);
    let tracks = all(&s.library);
    assert_eq!(tracks.len(), 2, "{tracks:#?}");
    let old = tracks.iter().find(|t| t.id == before.id).unwrap();
    assert_eq!(old.source, TrackSource::Locker);
    assert_eq!(old.sha256, before.sha256);
    let new = tracks.iter().find(|t| t.id != before.id).unwrap();
    assert_eq!((new.source, new.sha256.as_deref()), (TrackSource::Local, None));
}

#[test]
fn disconnecting_forgets_locker_only_tracks_and_keeps_local_ones() {
    let s = setup();
    let file = s.music.join("tone.flac");
    support::copy_fixture("tone.flac", &file);
    support::copy_fixture("tone.opus", &s._tmp.path().join("elsewhere/tone.opus"));
    s.library.scan(&|_| {}).unwrap();
    s.library.hash_pending(HashPace::UNLIMITED, &AtomicBool::new(false)).unwrap();
    let remote = copy_of(&s._tmp.path().join("elsewhere/tone.opus"), "tone.opus", "Remote");
    s.library.apply_locker_changes(&[copy_of(&file, "tone.flac", "x"), remote], &[]).unwrap();
    assert_eq!(all(&s.library).len(), 2);

    assert_eq!(s.library.clear_locker_copies().unwrap(), 1);
    let tracks = all(&s.library);
    assert_eq!(tracks.len(), 1);
    assert_eq!(tracks[0].source, TrackSource::Local);
}
