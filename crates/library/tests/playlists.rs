//! Playlists on a real database over real audio files: editing, tracks leaving and coming back,
//! and M3U8 files written and read.

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use loft_library::{HashPace, Library, LockerCopy, MirroredEntry, MirroredPlaylist};

struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    music: PathBuf,
    library: Library,
    mp3: i64,
    flac: i64,
    ogg: i64,
}

/// Three distinct tracks in a scanned, hashed library.
fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let music = root.join("music");
    support::copy_fixture("tone.mp3", &music.join("Takk/one.mp3"));
    support::copy_fixture("tone.flac", &music.join("Takk/two.flac"));
    support::copy_fixture("tone.ogg", &music.join("Sæglópur/three.ogg"));
    let library = Library::open(root.join("library.sqlite3")).unwrap();
    library.add_folder(&music).unwrap();
    library.scan(&|_| {}).unwrap();
    library.hash_pending(HashPace::UNLIMITED, &AtomicBool::new(false)).unwrap();
    let id = |path: &str| library.track_id_for_path(&music.join(path)).unwrap().unwrap();
    let (mp3, flac, ogg) = (id("Takk/one.mp3"), id("Takk/two.flac"), id("Sæglópur/three.ogg"));
    Fixture { _tmp: tmp, root, music, library, mp3, flac, ogg }
}

fn track_ids(library: &Library, playlist: &str) -> Vec<Option<i64>> {
    library.playlist_entries(playlist).unwrap().iter().map(|e| e.track.as_ref().map(|t| t.id)).collect()
}

#[test]
fn create_add_move_remove_rename_delete_and_reopen() {
    let f = fixture();
    let library = &f.library;
    let road = library.create_playlist("  Road trip ").unwrap();
    assert_eq!(road.name, "Road trip");
    let quiet = library.create_playlist("a quiet one").unwrap();

    let entries = library.playlist_add(&road.id, &[f.mp3, f.flac, f.mp3], None).unwrap();
    assert_eq!(entries.len(), 3);
    library.playlist_add(&road.id, &[f.ogg], Some(1)).unwrap();
    assert_eq!(track_ids(library, &road.id), [Some(f.mp3), Some(f.ogg), Some(f.flac), Some(f.mp3)]);
    let positions: Vec<u64> =
        library.playlist_entries(&road.id).unwrap().iter().map(|e| e.position).collect();
    assert_eq!(positions, [0, 1, 2, 3]);

    // An unknown track adds nothing at all.
    let error = library.playlist_add(&road.id, &[f.flac, 999_999], None).unwrap_err();
    assert_eq!(error.kind(), "not_found");
    assert_eq!(library.playlist_entries(&road.id).unwrap().len(), 4);

    // Moves name entries, so the two copies of one track stay apart.
    library.playlist_move(&road.id, &entries[2], 0).unwrap();
    assert_eq!(track_ids(library, &road.id), [Some(f.mp3), Some(f.mp3), Some(f.ogg), Some(f.flac)]);
    assert_eq!(library.playlist_entries(&road.id).unwrap()[0].entry_id, entries[2]);
    library.playlist_move(&road.id, &entries[2], 99).unwrap();
    assert_eq!(library.playlist_entries(&road.id).unwrap()[3].entry_id, entries[2]);

    let removed = library.playlist_remove(&road.id, &[entries[0].clone()]).unwrap();
    assert_eq!(removed, 1);
    assert_eq!(track_ids(library, &road.id), [Some(f.ogg), Some(f.flac), Some(f.mp3)]);
    let error = library.playlist_remove(&road.id, &[entries[1].clone(), "nope".into()]).unwrap_err();
    assert_eq!(error.kind(), "not_found");
    assert!(error.to_string().contains("nope"), "{error}");
    assert_eq!(library.playlist_entries(&road.id).unwrap().len(), 3, "a failed remove removes nothing");

    let summary = library.playlist(&road.id).unwrap().unwrap();
    assert_eq!(summary.track_count, 3);
    assert_eq!(summary.unavailable_count, 0);
    let total: u64 =
        [f.ogg, f.flac, f.mp3].iter().map(|id| library.track(*id).unwrap().unwrap().duration_ms).sum();
    assert_eq!(summary.duration_ms, total);
    assert!(summary.duration_ms > 2_500, "{summary:?}");

    let names: Vec<String> = library.playlists().unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["a quiet one", "Road trip"], "sorted by name, ignoring case");
    assert_eq!(library.find_playlist("road TRIP").unwrap().id, road.id);
    assert_eq!(library.find_playlist(&quiet.id).unwrap().name, "a quiet one");
    library.create_playlist("Road trip").unwrap();
    let error = library.find_playlist("Road trip").unwrap_err();
    assert!(error.to_string().contains("name one by its id"), "{error}");

    let renamed = library.rename_playlist(&road.id, "Long drive").unwrap();
    assert_eq!((renamed.name.as_str(), renamed.track_count), ("Long drive", 3));
    assert_eq!(library.rename_playlist(&road.id, "").unwrap_err().kind(), "invalid_input");
    assert_eq!(library.rename_playlist("missing", "x").unwrap_err().kind(), "not_found");

    let path = library.path().to_owned();
    drop(f.library);
    let library = Library::open(&path).unwrap();
    assert_eq!(track_ids(&library, &road.id), [Some(f.ogg), Some(f.flac), Some(f.mp3)]);
    library.delete_playlist(&road.id).unwrap();
    assert_eq!(library.playlist_entries(&road.id).unwrap_err().kind(), "not_found");
    assert_eq!(library.delete_playlist(&road.id).unwrap_err().kind(), "not_found");
    assert_eq!(library.track_count().unwrap(), 3, "deleting a playlist keeps its tracks");
}

#[test]
fn a_track_that_leaves_the_library_stays_listed_as_unavailable_and_comes_back() {
    let f = fixture();
    let library = &f.library;
    let playlist = library.create_playlist("Mix").unwrap();
    library.playlist_add(&playlist.id, &[f.flac, f.ogg], None).unwrap();
    let ogg_title = library.track(f.ogg).unwrap().unwrap().title;

    std::fs::remove_file(f.music.join("Sæglópur/three.ogg")).unwrap();
    library.scan(&|_| {}).unwrap();
    let entries = library.playlist_entries(&playlist.id).unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries[0].is_available());
    assert!(!entries[1].is_available());
    assert_eq!(entries[1].title, ogg_title);
    assert_eq!(entries[1].artist, "Sigur Rós");
    assert!(entries[1].duration_ms > 900);
    assert!(entries[1].sha256.is_some());
    let summary = library.playlist(&playlist.id).unwrap().unwrap();
    assert_eq!((summary.track_count, summary.unavailable_count), (2, 1));

    // The same content back under another name: the entry finds it by its hash.
    support::copy_fixture("tone.ogg", &f.music.join("elsewhere/renamed.ogg"));
    library.scan(&|_| {}).unwrap();
    library.hash_pending(HashPace::UNLIMITED, &AtomicBool::new(false)).unwrap();
    let back = library.track_id_for_path(&f.music.join("elsewhere/renamed.ogg")).unwrap().unwrap();
    assert_eq!(track_ids(library, &playlist.id), [Some(f.flac), Some(back)]);
}

#[test]
fn an_entry_follows_its_track_when_the_hasher_merges_it_into_an_identical_one() {
    let f = fixture();
    let library = &f.library;
    support::copy_fixture("tone.flac", &f.music.join("copies/two again.flac"));
    library.scan(&|_| {}).unwrap();
    let copy = library.track_id_for_path(&f.music.join("copies/two again.flac")).unwrap().unwrap();
    assert_ne!(copy, f.flac, "not hashed yet, so a track of its own");
    let playlist = library.create_playlist("Copies").unwrap();
    library.playlist_add(&playlist.id, &[copy], None).unwrap();
    let report = library.hash_pending(HashPace::UNLIMITED, &AtomicBool::new(false)).unwrap();
    assert_eq!(report.merged, 1);
    assert_eq!(track_ids(library, &playlist.id), [Some(f.flac)]);
}

#[test]
fn mirroring_copies_a_playlist_exactly_and_links_tracks_by_hash() {
    let f = fixture();
    let library = &f.library;
    let flac_hash = library.track(f.flac).unwrap().unwrap().sha256.unwrap();
    let mirrored = MirroredPlaylist {
        id: "5d9e1e3c-0000-4000-8000-000000000001".into(),
        name: "From the locker".into(),
        entries: vec![
            MirroredEntry {
                entry_id: "e1".into(),
                sha256: "0".repeat(64),
                title: "Only in the cloud".into(),
                artist: "Someone".into(),
                duration_ms: 1000,
            },
            MirroredEntry {
                entry_id: "e2".into(),
                sha256: flac_hash,
                title: String::new(),
                artist: String::new(),
                duration_ms: 0,
            },
        ],
    };
    library.mirror_playlist(&mirrored).unwrap();
    let entries = library.playlist_entries(&mirrored.id).unwrap();
    assert_eq!(entries.iter().map(|e| e.entry_id.as_str()).collect::<Vec<_>>(), ["e1", "e2"]);
    assert_eq!(entries[0].title, "Only in the cloud");
    assert!(!entries[0].is_available());
    assert_eq!(entries[1].track.as_ref().unwrap().id, f.flac);

    let mut reordered = mirrored.clone();
    reordered.name = "Renamed".into();
    reordered.entries.reverse();
    library.mirror_playlist(&reordered).unwrap();
    assert_eq!(track_ids(library, &mirrored.id), [Some(f.flac), None]);
    assert_eq!(library.playlist(&mirrored.id).unwrap().unwrap().name, "Renamed");
    assert!(library.forget_playlist(&mirrored.id).unwrap());
    assert!(!library.forget_playlist(&mirrored.id).unwrap());
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn m3u8_round_trips_with_relative_and_absolute_paths() {
    let f = fixture();
    let library = &f.library;
    let playlist = library.create_playlist("Trip").unwrap();
    library.playlist_add(&playlist.id, &[f.ogg, f.mp3, f.ogg], None).unwrap();

    // Beside the music: relative paths.
    let inside = f.music.join("trip.m3u8");
    let report = library.write_m3u8(&playlist.id, &inside).unwrap();
    assert_eq!((report.written, report.not_written.len()), (3, 0));
    let text = std::fs::read_to_string(&inside).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "#EXTM3U");
    assert_eq!(lines[1], "#PLAYLIST:Trip");
    assert!(lines[2].starts_with("#EXTINF:1,Sigur Rós - "), "{text}");
    assert_eq!(lines[3], "Sæglópur/three.ogg");
    assert_eq!(lines[5], "Takk/one.mp3");
    let read = library.read_m3u8(&inside).unwrap();
    assert_eq!(read.name, "Trip");
    assert_eq!(read.track_ids, [f.ogg, f.mp3, f.ogg]);
    assert!(read.unmatched.is_empty(), "{:?}", read.unmatched);

    // Elsewhere: absolute paths.
    let outside = f.root.join("exports/trip.m3u8");
    std::fs::create_dir_all(outside.parent().unwrap()).unwrap();
    library.write_m3u8(&playlist.id, &outside).unwrap();
    let text = std::fs::read_to_string(&outside).unwrap();
    assert!(text.contains(&format!("\n{}\n", f.music.join("Takk/one.mp3").display())), "{text}");
    assert_eq!(library.read_m3u8(&outside).unwrap().track_ids, [f.ogg, f.mp3, f.ogg]);

    // A track gone from the library is written as a comment naming it, not dropped silently.
    std::fs::remove_file(f.music.join("Takk/one.mp3")).unwrap();
    library.scan(&|_| {}).unwrap();
    let report = library.write_m3u8(&playlist.id, &outside).unwrap();
    assert_eq!(report.written, 2);
    assert_eq!(report.not_written.len(), 1);
    assert_eq!(report.not_written[0].position, 1);
    let text = std::fs::read_to_string(&outside).unwrap();
    assert!(text.contains("# not exported (no longer in the library): Sigur Rós - "), "{text}");
    assert_eq!(library.read_m3u8(&outside).unwrap().track_ids, [f.ogg, f.ogg]);

    let error = library.write_m3u8(&playlist.id, &f.root.join("no/such/dir/x.m3u8")).unwrap_err();
    assert_eq!(error.kind(), "io");
    assert_eq!(library.write_m3u8("missing", &outside).unwrap_err().kind(), "not_found");
}

#[test]
fn m3u8_import_takes_bom_crlf_urls_and_reports_every_bad_line() {
    let f = fixture();
    let library = &f.library;
    write(&f.root.join("stray.mp3"), &std::fs::read(f.music.join("Takk/one.mp3")).unwrap());
    let flac_url = format!("file://{}", f.music.join("Takk/two.flac").display()).replace(' ', "%20");
    let ogg_url = format!("file://{}", f.music.join("Sæglópur/three.ogg").display())
        .replace("æ", "%C3%A6")
        .replace("ó", "%C3%B3");
    let mut bytes = b"\xEF\xBB\xBF#EXTM3U\r\n#EXTINF:1,Sigur R\xC3\xB3s - One\r\n".to_vec();
    bytes.extend_from_slice(b"music/Takk/one.mp3\r\n\r\n");
    bytes.extend_from_slice(b"music\\Takk\\two.flac\r\n");
    bytes.extend_from_slice(format!("{flac_url}\r\n{ogg_url}\r\n").as_bytes());
    bytes.extend_from_slice(b"https://radio.example/live\r\n");
    bytes.extend_from_slice(b"music/Takk/gone.mp3\r\n");
    bytes.extend_from_slice(b"music/Takk/caf\xE9.mp3\r\n");
    bytes.extend_from_slice(b"stray.mp3\r\n");
    bytes.extend_from_slice(format!("{}\n", f.music.join("Takk/one.mp3").display()).as_bytes());
    let file = f.root.join("Mixed bag.m3u8");
    write(&file, &bytes);

    let read = library.read_m3u8(&file).unwrap();
    assert_eq!(read.name, "Mixed bag", "no #PLAYLIST line: the file name");
    assert_eq!(read.track_ids, [f.mp3, f.flac, f.flac, f.ogg, f.mp3]);
    let reasons: Vec<(usize, &str)> = read.unmatched.iter().map(|u| (u.line, u.reason.as_str())).collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert_eq!(reasons[0], (8, "a https URL, not a file"));
    assert_eq!(reasons[1].0, 9);
    assert!(reasons[1].1.starts_with("no such file"), "{reasons:?}");
    assert_eq!(reasons[2], (10, "the line is not valid UTF-8"));
    assert_eq!(reasons[3], (11, "the file is not in the library (add its folder and scan)"));
    assert_eq!(read.unmatched[3].entry, "stray.mp3");

    let error = library.read_m3u8(&f.root.join("absent.m3u8")).unwrap_err();
    assert_eq!(error.kind(), "io");
    assert!(error.to_string().contains("absent.m3u8"), "{error}");
}

#[test]
fn content_hashes_are_computed_on_demand_and_merge_identical_tracks() {
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    support::copy_fixture("tone.flac", &music.join("a.flac"));
    support::copy_fixture("tone.flac", &music.join("copy of a.flac"));
    support::copy_fixture("tone.opus", &music.join("b.opus"));
    let library = Library::open(tmp.path().join("library.sqlite3")).unwrap();
    library.add_folder(&music).unwrap();
    library.scan(&|_| {}).unwrap();
    let id =
        |name: &str| library.track_id_for_path(&music.canonicalize().unwrap().join(name)).unwrap().unwrap();
    let (a, copy, b) = (id("a.flac"), id("copy of a.flac"), id("b.opus"));

    let hashes = library.content_hashes(&[a, copy, b]).unwrap();
    let hashes: Vec<String> = hashes.into_iter().map(Option::unwrap).collect();
    assert_eq!(hashes[0], hashes[1]);
    assert_ne!(hashes[0], hashes[2]);
    assert_eq!(hashes[0].len(), 64);
    let survivor = library.track_id_for_sha256(&hashes[0]).unwrap().unwrap();
    assert_eq!(library.track_count().unwrap(), 2, "the copy was merged");
    assert!(survivor == a || survivor == copy);
    assert_eq!(library.track(b).unwrap().unwrap().sha256.as_deref(), Some(hashes[2].as_str()));
    assert_eq!(library.content_hashes(&[999_999]).unwrap_err().kind(), "not_found");
}

#[test]
fn local_and_locker_only_tracks_mix_and_export_names_what_has_no_file_here() {
    let f = fixture();
    let library = &f.library;
    let cloud_hash = "ab".repeat(32);
    library
        .apply_locker_changes(
            &[LockerCopy {
                id: cloud_hash.clone(),
                size: 1234,
                file_name: Some("far away.flac".into()),
                title: Some("Far Away".into()),
                artist: Some("Cloud Band".into()),
                duration_ms: Some(61_000),
                ..LockerCopy::default()
            }],
            &[],
        )
        .unwrap();
    let cloud = library.track_id_for_sha256(&cloud_hash).unwrap().unwrap();
    let playlist = library.create_playlist("Mixed").unwrap();
    library.playlist_add(&playlist.id, &[f.mp3, cloud, f.flac], None).unwrap();
    let entries = library.playlist_entries(&playlist.id).unwrap();
    assert!(entries.iter().all(|e| e.is_available()));
    assert_eq!(entries[1].track.as_ref().unwrap().path, None, "in the locker only");
    assert_eq!(entries[1].sha256.as_deref(), Some(cloud_hash.as_str()));

    let file = f.music.join("mixed.m3u8");
    let report = library.write_m3u8(&playlist.id, &file).unwrap();
    assert_eq!(report.written, 2);
    assert_eq!(report.not_written.len(), 1);
    assert_eq!(report.not_written[0].name, "Cloud Band - Far Away");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains(&format!(
            "# not exported (in the locker only, no file on this computer): Cloud Band - Far Away \
             [sha256 {cloud_hash}]\n"
        )),
        "{text}"
    );
    assert_eq!(library.read_m3u8(&file).unwrap().track_ids, [f.mp3, f.flac]);
}
