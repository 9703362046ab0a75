//! The library commands, run through the real `loft` binary on real audio files.

#[path = "../../library/tests/support/mod.rs"]
mod support;

mod common;

use std::path::Path;
use std::process::Output;

fn loft(data_dir: &Path, args: &[&str]) -> Output {
    common::run(data_dir, &[], args)
}

fn json(data_dir: &Path, args: &[&str]) -> serde_json::Value {
    common::json(data_dir, &[], args)
}

#[test]
fn add_scan_browse_search_and_remove() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = tmp.path().join("profile");
    let music = tmp.path().join("music");
    for format in support::FORMATS {
        support::copy_fixture(format.file, &music.join("Takk").join(format.file));
    }
    std::fs::write(music.join("Takk/broken.mp3"), b"not audio at all").unwrap();
    let music_text = music.to_str().unwrap();

    let added = loft(&profile, &["library", "add", music_text]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(String::from_utf8_lossy(&added.stdout).contains("added"));
    let folders = json(&profile, &["library", "list", "--json"]);
    assert_eq!(folders.as_array().unwrap().len(), 1);
    let listed = loft(&profile, &["library", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("music"));

    let report = json(&profile, &["scan", "--json"]);
    assert_eq!(report["files_seen"], 9);
    assert_eq!(report["added"], 8);
    assert_eq!(report["updated"], 0);
    assert_eq!(report["removed"], 0);
    assert!(report["seconds"].as_f64().unwrap() >= 0.0);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(errors[0]["path"].as_str().unwrap().ends_with("broken.mp3"));
    assert!(!errors[0]["reason"].as_str().unwrap().is_empty());

    let text = loft(&profile, &["scan"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("8 unchanged"), "{text}");
    assert!(text.contains("broken.mp3"), "{text}");

    let tracks = json(&profile, &["tracks", "--json", "--sort", "title", "--limit", "3"]);
    let tracks = tracks.as_array().unwrap();
    assert_eq!(tracks.len(), 3);
    for field in [
        "id",
        "title",
        "artist",
        "album",
        "album_artist",
        "track_no",
        "disc_no",
        "year",
        "genre",
        "duration_ms",
        "sample_rate",
        "channels",
        "path",
        "sha256",
    ] {
        assert!(tracks[0].get(field).is_some(), "track JSON lacks {field}: {}", tracks[0]);
    }
    assert_eq!(tracks[0]["title"], "Hoppípolla");
    assert_eq!(tracks[0]["artist"], "Sigur Rós");
    assert_eq!(tracks[0]["track_no"], 3);
    assert_eq!(tracks[0]["year"], 2005);
    assert!(tracks[0]["sha256"].is_null());
    let all = json(&profile, &["tracks", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 8);

    let found = json(&profile, &["search", "sigur", "ros", "--json"]);
    assert_eq!(found.as_array().unwrap().len(), 8);
    let none = loft(&profile, &["search", "beyonce"]);
    assert_eq!(String::from_utf8_lossy(&none.stdout).trim(), "no matches");

    let albums = json(&profile, &["albums", "--json"]);
    assert_eq!(albums.as_array().unwrap().len(), 1);
    assert_eq!(albums[0]["title"], "Takk...");
    assert_eq!(albums[0]["track_count"], 8);
    let artists = loft(&profile, &["artists"]);
    assert!(String::from_utf8_lossy(&artists.stdout).contains("Sigur Rós (8 tracks, 1 albums)"));

    let removed = json(&profile, &["library", "remove", music_text, "--json"]);
    assert_eq!(removed["tracks_removed"], 8);
    assert!(json(&profile, &["tracks", "--json"]).as_array().unwrap().is_empty());
}

#[test]
fn library_errors_are_one_line_with_a_failing_exit() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        vec!["library", "add", "/definitely/not/here"],
        vec!["library", "remove", "/definitely/not/here"],
        vec!["tracks", "--sort", "colour"],
    ] {
        let output = loft(tmp.path(), &args);
        assert!(!output.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("loft: "), "{stderr}");
    }
    let output = loft(tmp.path(), &["tracks", "--sort", "colour"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("play_count"));
}
