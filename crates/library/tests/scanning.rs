//! Scanning real files: incremental rescans, moves, deletions, bad input, folders, covers.

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use loft_library::{AlbumKey, CoverSize, Library, Page, ScanReport, SortField, TrackQuery, UNKNOWN_ARTIST};

struct Setup {
    _tmp: tempfile::TempDir,
    music: PathBuf,
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

fn scan(library: &Library) -> ScanReport {
    library.scan(&|_| {}).unwrap()
}

fn all_tracks(library: &Library) -> Vec<loft_library::Track> {
    library.tracks(&TrackQuery { limit: 1000, ..TrackQuery::default() }).unwrap()
}

fn tagged(dir: &Path, name: &str, tags: &[(&str, &str)]) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(dir).unwrap();
    support::encode(&path, &["-c:a", "flac"], tags, 0.5);
    path
}

#[test]
fn rescans_read_only_what_changed_and_drop_what_vanished() {
    let s = setup();
    for format in support::FORMATS.iter().take(4) {
        support::copy_fixture(format.file, &s.music.join("album").join(format.file));
    }
    let first = scan(&s.library);
    assert_eq!((first.files_seen, first.added), (4, 4));

    let again = scan(&s.library);
    assert_eq!((again.unchanged, again.added, again.updated, again.removed), (4, 0, 0, 0));

    // Re-tag one file (new content, new mtime) and delete another.
    let flac = s.music.join("album/tone.flac");
    let id_before = s.library.track_id_for_path(&flac).unwrap().unwrap();
    s.library.record_play(id_before, 1_700_000_000_000).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    support::encode(&flac, &["-c:a", "flac"], &[("title", "Renamed"), ("artist", "Someone")], 1.0);
    std::fs::remove_file(s.music.join("album/tone.mp3")).unwrap();
    let third = scan(&s.library);
    assert_eq!((third.unchanged, third.updated, third.removed, third.added), (2, 1, 1, 0), "{third:?}");

    let tracks = all_tracks(&s.library);
    assert_eq!(tracks.len(), 3);
    let retagged = s.library.track(id_before).unwrap().unwrap();
    assert_eq!(retagged.title, "Renamed");
    assert_eq!(retagged.play_count, 1, "an edited file keeps its identity");
    assert!(!tracks.iter().any(|t| t.path.as_deref().unwrap().ends_with("tone.mp3")));
}

#[test]
fn a_moved_and_renamed_file_keeps_its_identity() {
    let s = setup();
    let original = s.music.join("incoming/tone.flac");
    support::copy_fixture("tone.flac", &original);
    support::copy_fixture("tone.mp3", &s.music.join("incoming/other.mp3"));
    scan(&s.library);
    let id = s.library.track_id_for_path(&original).unwrap().unwrap();
    s.library.record_play(id, 1_700_000_000_000).unwrap();
    s.library.record_play(id, 1_700_000_000_000).unwrap();

    let moved = s.music.join("sorted/Sigur Rós/03 Hoppípolla.flac");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::rename(&original, &moved).unwrap();
    let report = scan(&s.library);
    assert_eq!((report.moved, report.added, report.removed), (1, 0, 0), "{report:?}");

    let track = s.library.track(id).unwrap().unwrap();
    assert_eq!(track.play_count, 2);
    assert_eq!(s.library.track_path(id).unwrap().unwrap(), moved);
    assert_eq!(s.library.track_count().unwrap(), 2);
}

#[test]
fn search_ignores_case_and_diacritics_and_matches_prefixes() {
    let s = setup();
    tagged(
        &s.music,
        "halo.flac",
        &[("title", "Halo"), ("artist", "Beyoncé"), ("album", "I Am... Sasha Fierce")],
    );
    tagged(&s.music, "glosoli.flac", &[("title", "Glósóli"), ("artist", "Sigur Rós"), ("album", "Takk...")]);
    tagged(&s.music, "other.flac", &[("title", "Something Else"), ("artist", "Nobody"), ("genre", "Jazz")]);
    scan(&s.library);

    let titles = |query: &str| -> Vec<String> {
        s.library.search(query, 50).unwrap().into_iter().map(|t| t.title).collect()
    };
    assert_eq!(titles("beyonce"), ["Halo"]);
    assert_eq!(titles("BEYONCÉ"), ["Halo"]);
    assert_eq!(titles("sigur"), ["Glósóli"]);
    assert_eq!(titles("sigur ros"), ["Glósóli"]);
    assert_eq!(titles("glosol"), ["Glósóli"]);
    assert_eq!(titles("sasha fier"), ["Halo"]);
    assert_eq!(titles("jazz"), ["Something Else"]);
    assert!(titles("beyonce glosoli").is_empty(), "every word must match");
    assert!(titles("\"*()").is_empty(), "FTS syntax in the query is harmless");
}

#[test]
fn bad_files_become_errors_with_reasons_and_never_stop_the_scan() {
    let s = setup();
    let bad = s.music.join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    support::copy_fixture("tone.flac", &s.music.join("good/tone.flac"));
    support::copy_fixture("tone.opus", &s.music.join("good/tone.opus"));

    std::fs::write(bad.join("empty.mp3"), b"").unwrap();
    let flac = std::fs::read(support::fixture("tone.flac")).unwrap();
    std::fs::write(bad.join("truncated.flac"), &flac[..200]).unwrap();
    std::fs::write(bad.join("notes.m4a"), b"shopping list: milk, eggs\n".repeat(500)).unwrap();
    std::fs::write(bad.join("photo.ogg"), [0xFFu8, 0xD8, 0xFF, 0xE0].repeat(3000)).unwrap();
    let mp3 = std::fs::read(support::fixture("tone.mp3")).unwrap();
    let audio = strip_id3v2(&mp3);
    // An ID3v2 header that claims a 256 MB tag in a small file.
    let mut lying = id3v2_header(0x0FFF_FFFF);
    lying.extend_from_slice(&[0x55; 4000]);
    lying.extend_from_slice(audio);
    std::fs::write(bad.join("lying-tag.mp3"), &lying).unwrap();
    // A real 24 MB tag, past the tag reader's allocation limit.
    let mut gigantic = id3v2_with_text_frame(24 * 1024 * 1024);
    gigantic.extend_from_slice(audio);
    std::fs::write(bad.join("gigantic-tag.mp3"), &gigantic).unwrap();
    // Garbage where the frames should be.
    let mut garbled = mp3.clone();
    for byte in garbled.iter_mut().skip(10).take(300) {
        *byte = 0xA7;
    }
    std::fs::write(bad.join("garbled-frames.mp3"), &garbled).unwrap();
    let vanishing = bad.join("vanishing.flac");
    std::fs::write(&vanishing, &flac).unwrap();

    let deleted = AtomicBool::new(false);
    let report = s
        .library
        .scan(&|progress| {
            if progress.files_to_read > 0 && !deleted.swap(true, Ordering::SeqCst) {
                std::fs::remove_file(&vanishing).unwrap();
            }
        })
        .unwrap();
    assert!(deleted.load(Ordering::SeqCst));
    assert_eq!(report.files_seen, 10);

    let reason = |name: &str| -> Option<String> {
        report.errors.iter().find(|e| e.path.ends_with(name)).map(|e| e.reason.clone())
    };
    assert_eq!(reason("empty.mp3").as_deref(), Some("empty file (0 bytes)"));
    assert_eq!(reason("vanishing.flac").as_deref(), Some("the file vanished during the scan"));
    for name in ["truncated.flac", "notes.m4a", "photo.ogg", "lying-tag.mp3"] {
        let why = reason(name).unwrap_or_else(|| panic!("{name} should be an error: {report:#?}"));
        assert!(!why.is_empty());
    }
    // Damaged tags around intact audio: indexed if the audio can be found, else an error;
    // never lost without a word.
    let tracks = all_tracks(&s.library);
    for name in ["gigantic-tag.mp3", "garbled-frames.mp3"] {
        let indexed = tracks.iter().any(|t| t.path.as_deref().unwrap().ends_with(name));
        assert!(indexed ^ reason(name).is_some(), "{name}: indexed {indexed}, errors {:?}", report.errors);
    }
    assert!(tracks.iter().any(|t| t.path.as_deref().unwrap().ends_with("good/tone.flac")));
    assert!(tracks.iter().any(|t| t.path.as_deref().unwrap().ends_with("good/tone.opus")));
    assert_eq!(tracks.len() as u64 + report.errors.len() as u64, 10);

    // Unchanged bad files are reported again without being read again; the vanished one is gone.
    let again = scan(&s.library);
    assert_eq!(again.errors.len(), report.errors.len() - 1, "{:#?}", again.errors);
    assert_eq!(again.unchanged, tracks.len() as u64);

    // Fixing a bad file indexes it.
    std::fs::write(bad.join("truncated.flac"), &flac).unwrap();
    let fixed = scan(&s.library);
    assert_eq!(fixed.added, 1);
    assert!(!fixed.errors.iter().any(|e| e.path.ends_with("truncated.flac")));
}

#[cfg(unix)]
#[test]
fn non_utf8_names_are_indexed_and_played_from_their_exact_path() {
    use std::os::unix::ffi::OsStrExt;
    let s = setup();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9 \xff.flac");
    let path = s.music.join(name);
    support::copy_fixture("tone.flac", &path);
    let report = scan(&s.library);
    assert_eq!(report.added, 1, "{report:?}");
    let track = &all_tracks(&s.library)[0];
    assert_eq!(track.title, "Hoppípolla");
    assert!(track.path.as_deref().unwrap().contains('\u{FFFD}'));
    assert_eq!(s.library.track_path(track.id).unwrap().unwrap(), path);
    assert_eq!(scan(&s.library).unchanged, 1);
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_hidden_folders_are_walked_safely() {
    let s = setup();
    support::copy_fixture("tone.flac", &s.music.join("a/tone.flac"));
    support::copy_fixture("tone.mp3", &s.music.join(".hidden/tone.mp3"));
    support::copy_fixture("tone.mp3", &s.music.join("a/.sneaky.mp3"));
    std::os::unix::fs::symlink(&s.music, s.music.join("a/loop")).unwrap();
    std::os::unix::fs::symlink(s.music.join("a"), s.music.join("a/self")).unwrap();
    std::os::unix::fs::symlink(s.music.join("nowhere.mp3"), s.music.join("dangling.mp3")).unwrap();
    let report = scan(&s.library);
    assert_eq!(report.files_seen, 1, "{report:?}");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
}

/// The library never lists a track the engine cannot play: files named as such formats are
/// not looked at, and one whose content turns out to be such a format is reported.
#[test]
fn formats_the_engine_cannot_play_are_not_indexed() {
    let s = setup();
    support::copy_fixture("tone.flac", &s.music.join("tone.flac"));
    let wavpack = ["-c:a", "wavpack", "-f", "wv"];
    support::encode(&s.music.join("lossless.wv"), &wavpack, &[("title", "Packed")], 0.5);
    support::encode(&s.music.join("disguised.flac"), &wavpack, &[("title", "Disguised")], 0.5);
    std::fs::write(s.music.join("old.wma"), b"0&\xb2u\x8ef\xcf\x11").unwrap();
    let report = scan(&s.library);
    assert_eq!(report.files_seen, 2, "{report:?}");
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert!(report.errors[0].path.ends_with("disguised.flac"));
    assert_eq!(report.errors[0].reason, "WavPack audio, which Loft cannot play");
    let tracks = all_tracks(&s.library);
    assert_eq!(tracks.len(), 1);
    assert!(tracks[0].path.as_deref().unwrap().ends_with("tone.flac"));
}

#[test]
fn a_missing_library_folder_keeps_its_tracks() {
    let tmp = tempfile::tempdir().unwrap();
    let drive = tmp.path().join("usb-drive");
    support::copy_fixture("tone.flac", &drive.join("tone.flac"));
    let library = Library::open(tmp.path().join("library.sqlite3")).unwrap();
    library.add_folder(&drive).unwrap();
    assert_eq!(scan(&library).added, 1);
    std::fs::rename(&drive, tmp.path().join("unplugged")).unwrap();
    let report = scan(&library);
    assert_eq!(report.removed, 0);
    assert_eq!(report.errors.len(), 1);
    assert!(report.errors[0].reason.contains("missing"), "{:?}", report.errors);
    assert_eq!(library.track_count().unwrap(), 1);
}

#[test]
fn folders_are_added_listed_nested_and_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("music");
    let rock = root.join("rock");
    support::copy_fixture("tone.flac", &rock.join("tone.flac"));
    support::copy_fixture("tone.mp3", &root.join("jazz/tone.mp3"));
    let library = Library::open(tmp.path().join("library.sqlite3")).unwrap();

    assert!(library.add_folder(tmp.path().join("absent")).is_err());
    assert_eq!(library.add_folder(rock.join("tone.flac")).unwrap_err().kind(), "invalid_input");
    library.add_folder(&rock).unwrap();
    library.add_folder(&rock).unwrap();
    assert_eq!(library.folders().unwrap().len(), 1);
    assert_eq!(scan(&library).added, 1);

    // The parent takes the child's place; the child's tracks stay put.
    library.add_folder(&root).unwrap();
    let folders = library.folders().unwrap();
    assert_eq!(folders.len(), 1);
    assert_eq!(folders[0].path, std::fs::canonicalize(&root).unwrap());
    let report = scan(&library);
    assert_eq!((report.added, report.unchanged), (1, 1));
    let error = library.add_folder(&rock).unwrap_err();
    assert!(error.to_string().contains("already in the library"), "{error}");

    assert_eq!(library.remove_folder(&root).unwrap(), 2);
    assert!(library.folders().unwrap().is_empty());
    assert_eq!(library.track_count().unwrap(), 0);
    assert_eq!(library.remove_folder(&root).unwrap_err().kind(), "invalid_input");
}

#[test]
fn albums_artists_and_fallbacks() {
    let s = setup();
    let album = s.music.join("album");
    tagged(
        &album,
        "2.flac",
        &[("title", "Second"), ("artist", "Band"), ("album", "Record"), ("track", "2"), ("disc", "1")],
    );
    tagged(
        &album,
        "1.flac",
        &[("title", "First"), ("artist", "Band"), ("album", "Record"), ("track", "1"), ("disc", "1")],
    );
    tagged(
        &album,
        "3.flac",
        &[("title", "Disc Two"), ("artist", "Band"), ("album", "Record"), ("track", "1"), ("disc", "2")],
    );
    let various = s.music.join("various");
    tagged(&various, "a.flac", &[("title", "A"), ("artist", "One"), ("album", "Hits"), ("compilation", "1")]);
    tagged(&various, "b.flac", &[("title", "B"), ("artist", "Two"), ("album", "Hits"), ("compilation", "1")]);
    tagged(&s.music, "Untitled Demo.flac", &[]);
    scan(&s.library);

    let albums = s.library.albums(Page::ALL).unwrap();
    let names: Vec<(String, String, u64)> =
        albums.iter().map(|a| (a.album_artist.clone(), a.title.clone(), a.track_count)).collect();
    assert!(names.contains(&("Band".into(), "Record".into(), 3)), "{names:?}");
    assert!(names.contains(&("Various Artists".into(), "Hits".into(), 2)), "{names:?}");
    assert!(names.contains(&(UNKNOWN_ARTIST.into(), "Unknown Album".into(), 1)), "{names:?}");

    let record = albums.iter().find(|a| a.title == "Record").unwrap();
    let order: Vec<String> =
        s.library.album_tracks(&record.key).unwrap().into_iter().map(|t| t.title).collect();
    assert_eq!(order, ["First", "Second", "Disc Two"]);
    let key = AlbumKey { album_artist: "various artists".into(), album: "HITS".into() };
    assert_eq!(s.library.album_tracks(&key).unwrap().len(), 2);

    let demo = all_tracks(&s.library).into_iter().find(|t| t.title == "Untitled Demo").unwrap();
    assert_eq!((demo.artist.as_str(), demo.album.as_str()), (UNKNOWN_ARTIST, "Unknown Album"));
    assert_eq!(s.library.search("untitled", 10).unwrap().len(), 1, "file-name titles are searchable");

    let artists = s.library.artists(Page::ALL).unwrap();
    let band = artists.iter().find(|a| a.name == "Band").unwrap();
    assert_eq!((band.track_count, band.album_count), (3, 1));
    assert!(artists.iter().any(|a| a.name == UNKNOWN_ARTIST));
    let names: Vec<&str> = artists.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Band", "One", "Two", UNKNOWN_ARTIST], "unknown sorts where it reads");
    assert_eq!(s.library.artist_tracks(UNKNOWN_ARTIST).unwrap().len(), 1);
    let unknown = albums.iter().find(|a| a.title == "Unknown Album").unwrap();
    assert_eq!(s.library.album_tracks(&unknown.key).unwrap()[0].title, "Untitled Demo");
    assert_eq!(s.library.artist_tracks("Band").unwrap().len(), 3);

    let by_title =
        s.library.tracks(&TrackQuery { sort: SortField::Title, limit: 2, offset: 1, ..Default::default() });
    let titles: Vec<String> = by_title.unwrap().into_iter().map(|t| t.title).collect();
    assert_eq!(titles, ["B", "Disc Two"]);
    let newest = s.library.tracks(&TrackQuery {
        sort: SortField::Title,
        descending: true,
        limit: 1,
        offset: 0,
        ..Default::default()
    });
    assert_eq!(newest.unwrap()[0].title, "Untitled Demo");
    for name in SortField::NAMES {
        let sort: SortField = name.parse().unwrap();
        assert_eq!(
            s.library.tracks(&TrackQuery { sort, limit: 100, ..Default::default() }).unwrap().len(),
            6
        );
    }
    assert!("colour".parse::<SortField>().is_err());
}

#[test]
fn covers_are_stored_once_with_thumbnails() {
    let s = setup();
    let art = s._tmp.path().join("art.png");
    support::require_tool("ffmpeg");
    let made = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=600x400"])
        .args(["-frames:v", "1"])
        .arg(&art)
        .status()
        .unwrap();
    assert!(made.success());
    // Two tracks with the same embedded cover, and a folder with cover.jpg.
    for name in ["one.mp3", "two.mp3"] {
        let out = s.music.join("embedded").join(name);
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let status = std::process::Command::new("ffmpeg")
            .args([
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "sine=duration=0.5",
                "-i",
            ])
            .arg(&art)
            .args(["-map", "0", "-map", "1", "-c:a", "libmp3lame", "-c:v", "copy", "-id3v2_version", "3"])
            .args(["-disposition:v", "attached_pic", "-metadata", &format!("title={name}")])
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success());
    }
    support::copy_fixture("tone.flac", &s.music.join("folder/tone.flac"));
    let jpeg = s.music.join("folder/Cover.jpg");
    let made = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=blue:s=300x300"])
        .args(["-frames:v", "1"])
        .arg(&jpeg)
        .status()
        .unwrap();
    assert!(made.success());
    scan(&s.library);

    let tracks = all_tracks(&s.library);
    let covers: Vec<Option<i64>> = tracks.iter().map(|t| t.cover_id).collect();
    assert!(covers.iter().all(Option::is_some), "{covers:?}");
    let embedded: Vec<i64> = tracks
        .iter()
        .filter(|t| t.path.as_deref().unwrap().contains("embedded"))
        .filter_map(|t| t.cover_id)
        .collect();
    assert_eq!(embedded.len(), 2);
    assert_eq!(embedded[0], embedded[1], "one stored image for both tracks");
    let folder_cover = tracks.iter().find(|t| t.format == "flac").unwrap().cover_id.unwrap();
    assert_ne!(folder_cover, embedded[0]);

    let original = s.library.cover(embedded[0], CoverSize::Original).unwrap().unwrap();
    assert_eq!(original.mime, "image/png");
    assert_eq!(original.bytes, std::fs::read(&art).unwrap());
    let thumbnail = s.library.cover(embedded[0], CoverSize::Thumbnail).unwrap().unwrap();
    assert_eq!(thumbnail.mime, "image/jpeg");
    let decoded = image_size(&thumbnail.bytes);
    assert_eq!(decoded, (256, 171));
}

/// Width and height of a baseline JPEG, read from its SOF0 marker.
fn image_size(jpeg: &[u8]) -> (u32, u32) {
    let at = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).expect("a baseline JPEG");
    let height = u32::from(u16::from_be_bytes([jpeg[at + 5], jpeg[at + 6]]));
    let width = u32::from(u16::from_be_bytes([jpeg[at + 7], jpeg[at + 8]]));
    (width, height)
}

fn strip_id3v2(mp3: &[u8]) -> &[u8] {
    assert_eq!(&mp3[..3], b"ID3");
    let size = mp3[6..10].iter().fold(0usize, |acc, b| (acc << 7) | usize::from(*b & 0x7F));
    &mp3[10 + size..]
}

fn id3v2_header(size: u32) -> Vec<u8> {
    let syncsafe =
        [(size >> 21) as u8 & 0x7F, (size >> 14) as u8 & 0x7F, (size >> 7) as u8 & 0x7F, size as u8 & 0x7F];
    let mut header = b"ID3\x03\x00\x00".to_vec();
    header.extend_from_slice(&syncsafe);
    header
}

fn id3v2_with_text_frame(text_len: usize) -> Vec<u8> {
    let mut body = vec![0u8];
    body.extend_from_slice(b"big\0");
    body.extend(std::iter::repeat_n(b'a', text_len));
    let mut frame = b"TXXX".to_vec();
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(&body);
    let mut tag = id3v2_header(frame.len() as u32);
    tag.extend_from_slice(&frame);
    tag
}
