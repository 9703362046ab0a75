//! `loft locker …`, `loft upload` and `loft sync` through the real binary, on real audio, against
//! a folder locker and the S3 test server (SigV4 checked) running in this test process.

#[path = "../../library/tests/support/mod.rs"]
mod audio;
mod common;
#[path = "../../locker/tests/support/mod.rs"]
mod servers;

use common::{json, ok, run as loft};

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use serde_json::Value;

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Real audio, encoded by ffmpeg: the fixtures, each with distinct content.
fn music(dir: &Path, files: &[&str]) {
    for file in files {
        audio::copy_fixture(file, &dir.join(file));
    }
}

fn size_of(paths: &[&Path]) -> u64 {
    paths.iter().map(|path| std::fs::metadata(path).unwrap().len()).sum()
}

/// Everything the issue asks of the CLI, on one locker: connect, upload with progress and a
/// summary, status, dedupe, a second device after `loft sync`, one track for a file that is
/// local and uploaded, removal, and the quota refusal.
fn behaviour(url: &str, env: &[(&str, &str)]) {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let songs = tmp.path().join("songs");
    music(&songs, &["tone.flac", "tone.mp3"]);
    let songs_text = songs.to_str().unwrap();

    // Device A has the songs in its library and uploads them.
    ok(&a, env, &["library", "add", songs_text]);
    ok(&a, env, &["scan"]);
    let connected = ok(&a, env, &["locker", "connect", url]);
    assert!(String::from_utf8_lossy(&connected.stdout).contains("connected"), "{connected:?}");
    let upload = ok(&a, env, &["upload", songs_text, "--json"]);
    let report: Value = serde_json::from_slice(&upload.stdout).unwrap();
    assert_eq!(report["uploaded"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(report["duplicates"].as_array().unwrap().len(), 0);
    assert_eq!(report["failed"].as_array().unwrap().len(), 0);
    let total = size_of(&[&songs.join("tone.flac"), &songs.join("tone.mp3")]);
    assert_eq!(report["bytes_sent"], total);
    assert!(stderr(&upload).contains("uploading: 2/2 files"), "{}", stderr(&upload));

    // Local and uploaded: each shows once.
    let tracks = json(&a, env, &["tracks", "--json"]);
    let tracks = tracks.as_array().unwrap();
    assert_eq!(tracks.len(), 2, "{tracks:#?}");
    assert!(tracks.iter().all(|t| t["source"] == "both" && t["path"].is_string()), "{tracks:#?}");
    let locker_only = json(&a, env, &["tracks", "--json", "--source", "locker"]);
    assert_eq!(locker_only.as_array().unwrap().len(), 2);

    let status = json(&a, env, &["locker", "status", "--json"]);
    assert_eq!(status["connected"], true);
    assert_eq!(status["url"], url);
    assert_eq!(status["tracks"], 2);
    assert_eq!(status["usage_bytes"], total);
    assert_eq!(status["quota_bytes"], 5u64 * 1024 * 1024 * 1024);
    assert_eq!(status["devices"].as_array().unwrap().len(), 1);
    assert!(status["last_sync_ms"].is_u64());
    let text = String::from_utf8(ok(&a, env, &["locker", "status"]).stdout).unwrap();
    assert!(text.contains("of 5.0 GiB") && text.contains("tracks: 2"), "{text}");

    // Uploading the same files again sends no audio.
    let again = json(&a, env, &["upload", songs_text, "--json"]);
    assert_eq!(again["duplicates"].as_array().unwrap().len(), 2, "{again}");
    assert_eq!(again["bytes_sent"], 0);
    let text = String::from_utf8(ok(&a, env, &["upload", songs_text]).stdout).unwrap();
    assert!(text.contains("uploaded 0 files, skipped 2 already in the locker, 0 failed; 0 B sent"), "{text}");

    // Device B, a second data dir on the same locker, sees them after a sync.
    ok(&b, env, &["locker", "connect", url]);
    let extra = tmp.path().join("extra");
    music(&extra, &["tone.ogg"]);
    ok(&a, env, &["upload", extra.join("tone.ogg").to_str().unwrap()]);
    let synced = json(&b, env, &["sync", "--json"]);
    assert_eq!(synced["library"]["added"], 1, "{synced}");
    let seen = json(&b, env, &["tracks", "--json"]);
    let seen = seen.as_array().unwrap();
    assert_eq!(seen.len(), 3, "{seen:#?}");
    assert!(seen.iter().all(|t| t["source"] == "locker" && t["path"].is_null()), "{seen:#?}");
    let status = json(&b, env, &["locker", "status", "--json"]);
    assert_eq!(status["devices"].as_array().unwrap().len(), 2);

    // B removes the Ogg from the locker; A keeps its MP3 local after removing it too.
    let ogg = seen.iter().find(|t| t["format"] == "vorbis").unwrap();
    let ogg_hash = ogg["sha256"].as_str().unwrap().to_owned();
    ok(&b, env, &["locker", "rm", &ogg_hash]);
    assert_eq!(json(&b, env, &["tracks", "--json"]).as_array().unwrap().len(), 2);
    let mp3 = tracks.iter().find(|t| t["format"] == "mpeg").unwrap();
    let removed = ok(&a, env, &["locker", "rm", &mp3["id"].to_string()]);
    assert!(String::from_utf8_lossy(&removed.stdout).contains("local file stays"));
    let a_tracks = json(&a, env, &["tracks", "--json"]);
    let a_mp3 = a_tracks.as_array().unwrap().iter().find(|t| t["format"] == "mpeg").unwrap().clone();
    assert_eq!(a_mp3["source"], "local");
    ok(&b, env, &["sync"]);
    assert_eq!(json(&b, env, &["tracks", "--json"]).as_array().unwrap().len(), 1);
    let missing = loft(&b, env, &["locker", "rm", "999999"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("not in the locker"), "{}", stderr(&missing));

    // The quota: a file that does not fit is refused before a byte is sent, saying why.
    ok(&a, env, &["locker", "quota", "1KB"]);
    let status = json(&b, env, &["locker", "status", "--json"]);
    assert_eq!(status["quota_bytes"], 1000);
    let refused = loft(&a, env, &["upload", songs.join("tone.mp3").to_str().unwrap()]);
    assert!(!refused.status.success());
    let text = String::from_utf8(refused.stdout.clone()).unwrap();
    assert!(text.contains("needs") && text.contains("quota is left"), "{text}");
    assert!(stderr(&refused).contains("1 of 1 files could not be uploaded"), "{}", stderr(&refused));
    ok(&a, env, &["locker", "quota", "5GiB"]);
    let bad = loft(&a, env, &["locker", "quota", "lots"]);
    assert!(stderr(&bad).contains("5GiB, 500MB, 1KB"), "{}", stderr(&bad));

    // Disconnecting leaves the local tracks only.
    ok(&a, env, &["locker", "disconnect"]);
    let status = json(&a, env, &["locker", "status", "--json"]);
    assert_eq!(status, serde_json::json!({"connected": false}));
    let left = json(&a, env, &["tracks", "--json"]);
    assert!(left.as_array().unwrap().iter().all(|t| t["source"] == "local"));
}

#[test]
fn folder_locker() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("file://{}", tmp.path().join("locker").display());
    behaviour(&url, &[]);
}

#[test]
fn s3_locker() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let storage = runtime.block_on(servers::TestStorage::start(servers::Backend::S3));
    let env = [("AWS_ACCESS_KEY_ID", servers::S3_KEY), ("AWS_SECRET_ACCESS_KEY", servers::S3_SECRET)];
    behaviour(&storage.url, &env);

    // Wrong credentials, and none at all: a clear refusal, nothing connected.
    let tmp = tempfile::tempdir().unwrap();
    let wrong = [("AWS_ACCESS_KEY_ID", servers::S3_KEY), ("AWS_SECRET_ACCESS_KEY", "not-the-secret")];
    let refused = loft(tmp.path(), &wrong, &["locker", "connect", &storage.url]);
    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert!(message.contains("refused the credentials"), "{message}");
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    let status = json(tmp.path(), &[], &["locker", "status", "--json"]);
    assert_eq!(status["connected"], false);

    // No secret service on the test's session bus: the keychain is said to be missing.
    let no_keychain = [("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/loft-test-bus")];
    let none = loft(tmp.path(), &no_keychain, &["locker", "connect", &storage.url]);
    assert!(!none.status.success());
    assert!(stderr(&none).contains("AWS_ACCESS_KEY_ID"), "{}", stderr(&none));
}

/// Credentials typed by the user go to the keychain; where none runs, connecting says so and
/// points at the environment variables, and nothing is written to a file.
#[cfg(target_os = "linux")]
#[test]
fn typed_credentials_without_a_keychain_are_refused_plainly() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let storage = runtime.block_on(servers::TestStorage::start(servers::Backend::S3));
    let tmp = tempfile::tempdir().unwrap();
    let mut child = common::command(tmp.path())
        .args(["locker", "connect", &storage.url, "--login", servers::S3_KEY])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/loft-test-bus")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{}", servers::S3_SECRET).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("keychain") && message.contains("AWS_SECRET_ACCESS_KEY"), "{message}");
    let settings = std::fs::read_to_string(tmp.path().join("settings.json")).unwrap_or_default();
    assert!(!settings.contains(servers::S3_SECRET) && !settings.contains("locker_url\": \"s3"), "{settings}");
    for entry in std::fs::read_dir(tmp.path().join("locker")).into_iter().flatten().flatten() {
        let text = std::fs::read(entry.path()).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&text).contains(servers::S3_SECRET));
    }
}

/// `loft upload` killed mid-file: the desktop's background loop (the same service) resumes it
/// at start, and the track lands once.
#[test]
fn an_upload_killed_mid_file_is_resumed_by_the_background_loop() {
    use std::sync::{Arc, mpsc};
    use std::time::{Duration, Instant};

    let tmp = tempfile::tempdir().unwrap();
    let profile = tmp.path().join("profile");
    let url = format!("file://{}", tmp.path().join("locker").display());
    // A locker with small parts, so one file is many parts and the kill lands between two.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let options = loft_locker::OpenOptions { new_locker_part_size: 64 * 1024, ..Default::default() };
        let state = tmp.path().join("setup-state");
        loft_locker::Locker::open_with(&url, loft_locker::Credentials::None, "setup", &state, options)
            .await
            .unwrap();
    });
    ok(&profile, &[], &["locker", "connect", &url]);
    let big = tmp.path().join("big.wav");
    std::fs::write(&big, servers::wav(7, 8 * 1024 * 1024, "Long One", "The Testers", "Resumed")).unwrap();

    let mut child = common::command(&profile)
        .args(["upload", big.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The journal appears once the file is hashed and its first parts are under way. It is
    // written beside itself and renamed into place: only a `.json` is a journal.
    let journals = profile.join("locker").join("uploads");
    let journal_written = || {
        std::fs::read_dir(&journals)
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| entry.path().extension().is_some_and(|extension| extension == "json"))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !journal_written() {
        assert!(Instant::now() < deadline, "the upload never started");
        assert!(child.try_wait().unwrap().is_none(), "the upload ended before it could be killed");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(json(&profile, &[], &["tracks", "--json"]).as_array().unwrap().len(), 0);

    let (sender, receiver) = mpsc::channel();
    let loft = loft_core::Loft::open_with_events(&profile, Arc::new(sender)).unwrap();
    loft.start_locker_sync();
    let deadline = Instant::now() + Duration::from_secs(60);
    let finished = loop {
        let left = deadline.checked_duration_since(Instant::now()).expect("no upload_finished within 60 s");
        let event = receiver.recv_timeout(left).unwrap();
        if matches!(event, loft_core::Event::UploadFinished { .. }) {
            break event;
        }
    };
    assert!(
        matches!(finished, loft_core::Event::UploadFinished { uploaded: 1, failed: 0, .. }),
        "{finished:?}"
    );
    loft.stop_locker_sync();
    let tracks = loft.tracks(&loft_core::library_types::TrackQuery::default()).unwrap();
    assert_eq!(tracks.len(), 1);
    assert_eq!(tracks[0].title, "Long One");
    assert!(!journal_written(), "the journal is gone once the file landed");
}
