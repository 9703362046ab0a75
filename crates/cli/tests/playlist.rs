//! `loft playlist …` through the real binary, on a scanned library of real audio files.

#[path = "../../library/tests/support/mod.rs"]
mod support;

mod common;

use std::path::Path;
use std::process::Output;

fn loft(data_dir: &Path, args: &[&str]) -> Output {
    common::run(data_dir, &[], args)
}

fn ok(data_dir: &Path, args: &[&str]) -> String {
    String::from_utf8(common::ok(data_dir, &[], args).stdout).unwrap()
}

fn json(data_dir: &Path, args: &[&str]) -> serde_json::Value {
    common::json(data_dir, &[], args)
}

fn fails(data_dir: &Path, args: &[&str]) -> String {
    let output = loft(data_dir, args);
    assert!(!output.status.success(), "loft {args:?} should fail");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("loft: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

/// Track ids of `show --json`, `None` for unavailable entries.
fn shown_tracks(profile: &Path, playlist: &str) -> Vec<Option<i64>> {
    let shown = json(profile, &["playlist", "show", playlist]);
    shown["entries"].as_array().unwrap().iter().map(|e| e["track"]["id"].as_i64()).collect()
}

#[test]
fn build_edit_show_export_and_import_a_playlist() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let profile = root.join("profile");
    let music = root.join("music");
    support::copy_fixture("tone.mp3", &music.join("one.mp3"));
    support::copy_fixture("tone.flac", &music.join("two.flac"));
    support::copy_fixture("tone.ogg", &music.join("three.ogg"));
    ok(&profile, &["library", "add", music.to_str().unwrap()]);
    ok(&profile, &["scan"]);
    let tracks = json(&profile, &["tracks"]);
    let id_of = |file: &str| {
        tracks.as_array().unwrap().iter().find(|t| t["path"].as_str().unwrap().ends_with(file)).unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (one, two, three) = (id_of("one.mp3"), id_of("two.flac"), id_of("three.ogg"));

    assert!(ok(&profile, &["playlist", "show"]).contains("no playlists yet"));
    let created = json(&profile, &["playlist", "create", "Road trip"]);
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["track_count"], 0);

    let (one_s, two_s, three_s) = (one.to_string(), two.to_string(), three.to_string());
    let added = json(&profile, &["playlist", "add", "Road trip", &one_s, &two_s, &one_s]);
    assert_eq!(added["entry_ids"].as_array().unwrap().len(), 3);
    assert_eq!(added["playlist"]["track_count"], 3);
    ok(&profile, &["playlist", "add", &id, &three_s, "--at", "1"]);
    assert_eq!(shown_tracks(&profile, &id), [Some(three), Some(one), Some(two), Some(one)]);

    // Move the last entry to the front; remove by position and by entry id.
    ok(&profile, &["playlist", "move", "road trip", "4", "1"]);
    assert_eq!(shown_tracks(&profile, &id), [Some(one), Some(three), Some(one), Some(two)]);
    let shown = json(&profile, &["playlist", "show", &id]);
    let last_entry = shown["entries"][3]["entry_id"].as_str().unwrap().to_owned();
    ok(&profile, &["playlist", "remove", &id, "1", &last_entry]);
    assert_eq!(shown_tracks(&profile, &id), [Some(three), Some(one)]);

    let text = ok(&profile, &["playlist", "show", "Road trip"]);
    assert!(text.contains("Road trip"), "{text}");
    assert!(text.contains("   1. Sigur Rós - "), "{text}");
    let listed = json(&profile, &["playlist", "show"]);
    assert_eq!(listed[0]["name"], "Road trip");
    assert_eq!(listed[0]["track_count"], 2);

    // Bad input: one clear line, nothing changed.
    assert!(fails(&profile, &["playlist", "remove", &id, "9"]).contains("positions go from 1 to 2"));
    assert!(fails(&profile, &["playlist", "add", &id, "999999"]).contains("no track 999999"));
    assert!(fails(&profile, &["playlist", "show", "Nope"]).contains("no playlist Nope"));
    assert!(fails(&profile, &["playlist", "create", "  "]).contains("needs a name"));
    assert_eq!(shown_tracks(&profile, &id), [Some(three), Some(one)]);

    // Export beside the music (relative paths), then import it back under a new name.
    let file = music.join("road.m3u8");
    let exported = json(&profile, &["playlist", "export", &id, file.to_str().unwrap()]);
    assert_eq!(exported["written"], 2);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("#EXTM3U\n"), "{text}");
    assert!(text.contains("\nthree.ogg\n") && text.contains("\none.mp3\n"), "{text}");
    std::fs::write(&file, format!("\u{feff}{text}missing.mp3\nhttp://radio.example/live\n")).unwrap();
    let imported = json(&profile, &["playlist", "import", file.to_str().unwrap(), "--name", "Copy"]);
    assert_eq!(imported["added"], 2);
    assert_eq!(imported["playlist"]["name"], "Copy");
    let unmatched = imported["unmatched"].as_array().unwrap();
    assert_eq!(unmatched.len(), 2);
    assert!(unmatched[0]["reason"].as_str().unwrap().contains("no such file"), "{unmatched:?}");
    let copy = imported["playlist"]["id"].as_str().unwrap().to_owned();
    assert_eq!(shown_tracks(&profile, &copy), [Some(three), Some(one)]);
    let text = ok(&profile, &["playlist", "import", file.to_str().unwrap()]);
    assert!(text.contains("imported 2 tracks into"), "{text}");
    assert!(text.contains("not matched, line"), "{text}");

    // A track that leaves the library stays listed, marked unavailable.
    std::fs::remove_file(music.join("one.mp3")).unwrap();
    ok(&profile, &["scan"]);
    assert_eq!(shown_tracks(&profile, &id), [Some(three), None]);
    assert!(ok(&profile, &["playlist", "show", &id]).contains("[unavailable"));

    // The second import took the file's own name: "Road trip" now names two playlists.
    assert!(fails(&profile, &["playlist", "rename", "Road trip", "x"]).contains("name one by its id"));
    ok(&profile, &["playlist", "rename", &id, "Long drive"]);
    ok(&profile, &["playlist", "delete", "Long drive"]);
    assert!(fails(&profile, &["playlist", "show", &id]).contains("no playlist"));
    assert_eq!(plain_playlists(&json(&profile, &["playlist", "show"])).len(), 2);
}

/// The playlists of a `playlist show --json` list, without the rule playlists after them.
fn plain_playlists(listed: &serde_json::Value) -> Vec<serde_json::Value> {
    listed.as_array().unwrap().iter().filter(|playlist| playlist["smart"] != true).cloned().collect()
}

#[test]
fn publish_puts_this_devices_playlists_into_the_connected_locker() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let profile = root.join("profile");
    let music = root.join("music");
    support::copy_fixture("tone.flac", &music.join("a.flac"));
    ok(&profile, &["library", "add", music.to_str().unwrap()]);
    ok(&profile, &["scan"]);
    let track = json(&profile, &["tracks"])[0]["id"].as_i64().unwrap().to_string();
    let made_here = json(&profile, &["playlist", "create", "Made here"]);
    ok(&profile, &["playlist", "add", "Made here", &track]);
    assert!(fails(&profile, &["playlist", "publish"]).to_lowercase().contains("no locker is connected"));

    // Connect a folder locker the way the app's settings name it.
    let locker = root.join("locker");
    std::fs::create_dir_all(&locker).unwrap();
    let settings_file = profile.join("settings.json");
    let mut settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&settings_file).unwrap_or_else(|_| b"{}".to_vec())).unwrap();
    settings["locker_url"] = serde_json::Value::String(format!("file://{}", locker.display()));
    std::fs::write(&settings_file, serde_json::to_vec(&settings).unwrap()).unwrap();

    let report = json(&profile, &["playlist", "publish"]);
    let published = report["published"].as_array().unwrap();
    assert_eq!(published.len(), 1);
    let listed = plain_playlists(&json(&profile, &["playlist", "show"]));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], published[0]);
    assert_ne!(listed[0]["id"], made_here["id"]);
    assert_eq!(listed[0]["track_count"], 1);
    // Its log is in the locker's catalog; a second publish has nothing to do.
    assert!(locker.join("catalog").is_dir());
    assert!(ok(&profile, &["playlist", "publish"]).contains("published 0 playlists"));
    // New playlists go straight to the locker, and so do edits made by later runs.
    let straight = json(&profile, &["playlist", "create", "Straight there"]);
    let straight = straight["id"].as_str().unwrap();
    ok(&profile, &["playlist", "add", straight, &track, &track]);
    ok(&profile, &["playlist", "remove", straight, "2"]);
    assert_eq!(json(&profile, &["playlist", "publish"])["published"].as_array().unwrap().len(), 0);

    // A second device on the same locker, with its own copy of the file, sees both playlists
    // once it has pulled the catalog (publishing pulls first).
    let other = root.join("other profile");
    let other_music = root.join("other music");
    support::copy_fixture("tone.flac", &other_music.join("same content.flac"));
    ok(&other, &["library", "add", other_music.to_str().unwrap()]);
    ok(&other, &["scan"]);
    std::fs::write(other.join("settings.json"), serde_json::to_vec(&settings).unwrap()).unwrap();
    assert!(ok(&other, &["playlist", "publish"]).contains("published 0 playlists"));
    let seen = plain_playlists(&json(&other, &["playlist", "show"]));
    let names: Vec<&str> = seen.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Made here", "Straight there"]);
    let shown = json(&other, &["playlist", "show", straight]);
    let entries = shown["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(shown["playlist"]["id"], straight);
    assert!(entries[0]["sha256"].is_string());
}

/// Hearts, ratings, plays and rule playlists from the command line, and what the track JSON
/// says of them.
#[test]
fn love_rate_history_and_rule_playlists() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let profile = root.join("profile");
    let music = root.join("music");
    support::copy_fixture("tone.flac", &music.join("a.flac"));
    support::copy_fixture("tone.mp3", &music.join("b.mp3"));
    ok(&profile, &["library", "add", music.to_str().unwrap()]);
    ok(&profile, &["scan"]);
    let tracks = json(&profile, &["tracks"]);
    let first = tracks[0]["id"].as_i64().unwrap().to_string();
    let second = tracks[1]["id"].as_i64().unwrap().to_string();
    for field in ["loved", "rating", "play_count", "last_played_ms", "resume_ms"] {
        assert!(tracks[0].get(field).is_some(), "track JSON has {field}: {}", tracks[0]);
    }
    assert_eq!((tracks[0]["loved"].as_bool(), tracks[0]["rating"].is_null()), (Some(false), true));

    let loved = json(&profile, &["love", &first]);
    assert_eq!(loved["loved"], true);
    assert_eq!(json(&profile, &["rate", &first, "4"])["rating"], 4);
    assert_eq!(json(&profile, &["rate", &second, "2"])["rating"], 2);
    assert!(fails(&profile, &["rate", &first, "7"]).contains("0 to 5"));
    assert_eq!(json(&profile, &["unlove", &second])["loved"], false);
    assert!(json(&profile, &["history"]).as_array().unwrap().is_empty());

    let created =
        json(&profile, &["playlist", "smart", "create", "Good ones", "--rule", "rating >= 3 and loved"]);
    assert_eq!(created["tracks"].as_array().unwrap().len(), 1);
    assert_eq!(created["tracks"][0]["id"].as_i64().unwrap().to_string(), first);
    let listed = json(&profile, &["playlist", "show"]);
    let rules: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|playlist| playlist["smart"] == true)
        .map(|playlist| playlist["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["Most played", "Recently played", "Recently added", "Loved", "Never played", "Good ones"]
    );
    let loved_list = json(&profile, &["playlist", "show", "Loved"]);
    assert_eq!(loved_list["tracks"].as_array().unwrap().len(), 1);
    assert!(
        fails(&profile, &["playlist", "smart", "create", "Bad", "--rule", "mood is happy"]).contains("field")
    );
    ok(&profile, &["playlist", "smart", "edit", "Good ones", "--rule", "rating >= 2"]);
    assert_eq!(json(&profile, &["playlist", "show", "Good ones"])["tracks"].as_array().unwrap().len(), 2);
    ok(&profile, &["playlist", "smart", "delete", "Good ones"]);
    assert!(fails(&profile, &["playlist", "show", "Good ones"]).contains("no playlist"));
}
