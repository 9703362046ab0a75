//! `loft play`/`render` of locker-only tracks, `loft pin`, `loft unpin` and `loft cache …`
//! through the real binary, on real audio in a folder locker shared by two profiles.

#[path = "../../library/tests/support/mod.rs"]
mod audio;

mod common;

use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn loft(data_dir: &Path, args: &[&str]) -> Output {
    common::run(data_dir, &[], args)
}

fn ok(data_dir: &Path, args: &[&str]) -> Output {
    common::ok(data_dir, &[], args)
}

fn json(data_dir: &Path, args: &[&str]) -> Value {
    common::json(data_dir, &[], args)
}

#[test]
fn locker_tracks_stream_pin_and_show_in_the_cache_status() {
    let tmp = tempfile::tempdir().unwrap();
    let (uploader, player) = (tmp.path().join("uploader"), tmp.path().join("player"));
    let songs = tmp.path().join("songs");
    for file in ["tone.flac", "tone.mp3"] {
        audio::copy_fixture(file, &songs.join(file));
    }
    let url = format!("file://{}", tmp.path().join("locker").display());
    ok(&uploader, &["locker", "connect", &url]);
    ok(&uploader, &["upload", songs.to_str().unwrap()]);
    ok(&player, &["locker", "connect", &url]);
    ok(&player, &["sync"]);
    let tracks = json(&player, &["tracks", "--json"]);
    let id_of = |format: &str| {
        let track = tracks.as_array().unwrap().iter().find(|t| t["format"] == format).unwrap();
        assert!(track["path"].is_null(), "{track}");
        track["id"].to_string()
    };
    let (flac, mp3) = (id_of("flac"), id_of("mpeg"));

    let empty = json(&player, &["cache", "status", "--json"]);
    assert_eq!(empty["used_bytes"], 0, "{empty}");
    assert_eq!(empty["limit_bytes"], 2u64 * 1024 * 1024 * 1024);

    // A locker-only track renders from the stream exactly as its file does.
    let streamed = tmp.path().join("streamed.wav");
    let local = tmp.path().join("local.wav");
    ok(&player, &["render", &mp3, "--out", streamed.to_str().unwrap()]);
    ok(&player, &["render", songs.join("tone.mp3").to_str().unwrap(), "--out", local.to_str().unwrap()]);
    assert!(std::fs::read(&streamed).unwrap() == std::fs::read(&local).unwrap(), "streamed render differs");

    let pinned = ok(&player, &["pin", &flac]);
    let progress = String::from_utf8_lossy(&pinned.stderr);
    assert!(progress.contains(&format!("downloading track {flac}")), "{progress}");
    let status = json(&player, &["cache", "status", "--json"]);
    let states: Vec<(String, String)> = status["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["track_id"].to_string(), t["cache"]["state"].as_str().unwrap().to_owned()))
        .collect();
    assert!(states.contains(&(flac.clone(), "pinned".into())), "{status}");
    assert!(states.contains(&(mp3.clone(), "complete".into())), "played tracks stay cached: {status}");
    assert_eq!(status["pinned"], 1);

    // Clearing keeps the pinned track; a cap of 0 keeps it too, until it is unpinned.
    ok(&player, &["cache", "clear"]);
    ok(&player, &["cache", "limit", "0"]);
    let status = json(&player, &["cache", "status", "--json"]);
    assert_eq!(status["entries"], 1, "{status}");
    assert_eq!(status["limit_bytes"], 0);
    ok(&player, &["unpin", &flac]);
    assert_eq!(json(&player, &["cache", "status", "--json"])["entries"], 0);

    let bad = loft(&player, &["cache", "limit", "lots"]);
    assert!(!bad.status.success());
    let unknown = loft(&player, &["pin", "no such album"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("is not a track id, a playlist or an album"));
}
