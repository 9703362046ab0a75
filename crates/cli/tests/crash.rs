//! `loft` killed with SIGKILL at each step of an upload, a sync, snapshot writing, compaction,
//! garbage collection and an inbox import — stopped right at the step by an HTTP proxy that
//! holds the step's request — then run again: the locker converges, no edit is lost, nothing
//! half-written is visible (a fresh device syncs with no problem and `loft locker check` finds
//! no damage), and what the killed run left behind is cleaned up.

mod common;
#[path = "../../locker/tests/support/mod.rs"]
mod servers;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{json, ok};
use loft_testkit::{Fault, HttpProxy, S3Server};
use serde_json::Value;

const ENV: [(&str, &str); 2] =
    [("AWS_ACCESS_KEY_ID", servers::S3_KEY), ("AWS_SECRET_ACCESS_KEY", servers::S3_SECRET)];

struct Rig {
    tmp: tempfile::TempDir,
    _server: S3Server,
    proxy: HttpProxy,
    /// The locker, reached through the proxy.
    url: String,
}

impl Rig {
    /// An S3 locker with 64 KiB parts (so a file is many parts), behind a proxy.
    fn start() -> Rig {
        let tmp = tempfile::tempdir().unwrap();
        let server = S3Server::start(&tmp.path().join("s3")).unwrap();
        let proxy = HttpProxy::start(server.port()).unwrap();
        let direct = server.locker_url("music");
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let options = loft_locker::OpenOptions { new_locker_part_size: 64 * 1024, ..Default::default() };
            let credentials = loft_locker::Credentials::S3 {
                access_key_id: servers::S3_KEY.into(),
                secret_access_key: servers::S3_SECRET.into(),
            };
            let state = tmp.path().join("setup-state");
            loft_locker::Locker::open_with(&direct, credentials, "setup", &state, options).await.unwrap();
        });
        let url = direct.replace(&server.port().to_string(), &proxy.port().to_string());
        Rig { tmp, _server: server, proxy, url }
    }

    /// A profile connected to the locker.
    fn device(&self, name: &str) -> PathBuf {
        self.device_with(name, &ENV)
    }

    fn device_with(&self, name: &str, env: &[(&str, &str)]) -> PathBuf {
        let profile = self.tmp.path().join(name);
        ok(&profile, env, &["locker", "connect", &self.url]);
        profile
    }

    fn objects(&self) -> PathBuf {
        self.tmp.path().join("s3").join(servers::S3_BUCKET).join("music")
    }

    /// Runs `loft ARGS` on `profile` and kills it (SIGKILL) the moment it sends a request of
    /// `method` whose path holds `needle`.
    fn kill_at(&self, profile: &Path, args: &[&str], method: &str, needle: &str) {
        self.kill_at_with(profile, &ENV, args, method, needle)
    }

    fn kill_at_with(&self, profile: &Path, env: &[(&str, &str)], args: &[&str], method: &str, needle: &str) {
        self.proxy.add_rule(Some(method), needle, Fault::Hold, None);
        let mut child = common::command(profile)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.proxy.wait_until_holding(Duration::from_millis(50)) {
            assert!(Instant::now() < deadline, "loft {args:?} never sent {method} …{needle}…");
            assert!(child.try_wait().unwrap().is_none(), "loft {args:?} ended before {method} …{needle}…");
        }
        child.kill().unwrap();
        child.wait().unwrap();
        self.proxy.clear_rules();
        // The held request ends with its connection; wait for that, so the next kill_at counts
        // only its own.
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.proxy.wait_until_holding(Duration::ZERO) {
            assert!(Instant::now() < deadline, "a held request outlived its killed client");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// What a device that has never seen this locker finds: it syncs without a problem, sees
    /// `tracks` tracks and `playlists` playlists, and the check finds no damage.
    fn assert_sound(&self, name: &str, tracks: usize, playlists: usize) -> PathBuf {
        self.assert_sound_with(&ENV, name, tracks, playlists)
    }

    fn assert_sound_with(
        &self,
        env: &[(&str, &str)],
        name: &str,
        tracks: usize,
        playlists: usize,
    ) -> PathBuf {
        let fresh = self.device_with(name, env);
        let sync = json(&fresh, env, &["sync"]);
        assert_eq!(sync["problems"], serde_json::json!([]), "{sync}");
        assert_eq!(json(&fresh, env, &["tracks"]).as_array().unwrap().len(), tracks);
        let listed = json(&fresh, env, &["playlist", "show"]);
        let plain = listed.as_array().unwrap().iter().filter(|playlist| playlist["smart"] != true).count();
        assert_eq!(plain, playlists);
        let check = common::run(&fresh, env, &["locker", "check", "--json"]);
        assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
        fresh
    }
}

fn songs(dir: &Path, first_seed: u64, count: usize, samples: usize) -> Vec<PathBuf> {
    servers::write_tracks(dir, first_seed, count, samples)
}

fn names(playlists: &Value) -> Vec<String> {
    let mut names: Vec<String> = playlists
        .as_array()
        .unwrap()
        .iter()
        .filter(|playlist| playlist["smart"] != true)
        .map(|playlist| playlist["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

fn leftovers(profile: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in [profile.join("locker"), profile.join("locker/inbox-downloads"), profile.join("cache/audio")] {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_file()
                && (name.contains(".tmp") || entry.path().parent().unwrap().ends_with("inbox-downloads"))
            {
                found.push(entry.path());
            }
        }
    }
    found
}

#[test]
fn killed_uploads_resume_and_publish_once() {
    let rig = Rig::start();
    let a = rig.device("a");
    let music = rig.tmp.path().join("music");
    let files = songs(&music, 1, 2, 150_000); // five parts each
    let (first, second) = (files[0].to_str().unwrap(), files[1].to_str().unwrap());

    // Killed mid-file (a part on the wire), then before the manifest, then with the catalog
    // entry on its way.
    rig.kill_at(&a, &["upload", first], "PUT", "/parts/");
    rig.kill_at(&a, &["upload", first], "PUT", "/blobs/");
    assert!(json(&a, &ENV, &["tracks"]).as_array().unwrap().is_empty());
    rig.kill_at(&a, &["upload", first], "PUT", "/catalog/log/");
    // The catalog entry is in this device's outbox: the next command that reaches the locker
    // writes it.
    ok(&a, &ENV, &["sync"]);
    rig.assert_sound("fresh-0", 1, 0);
    let report = json(&a, &ENV, &["upload", first, second]);
    let landed =
        report["uploaded"].as_array().unwrap().len() + report["duplicates"].as_array().unwrap().len();
    assert_eq!(landed, 2, "{report}");
    rig.assert_sound("fresh", 2, 0);

    assert!(leftovers(&a).is_empty(), "{:?}", leftovers(&a));
}

#[test]
fn killed_syncs_snapshots_and_compactions_lose_nothing() {
    let rig = Rig::start();
    let a = rig.device("a");
    let b = rig.device("b");
    for name in ["One", "Two", "Three"] {
        ok(&a, &ENV, &["playlist", "create", name]);
    }
    // A sync killed while it fetches, and while it records what it has seen.
    rig.kill_at(&b, &["sync"], "GET", "/catalog/log/");
    rig.kill_at(&b, &["sync"], "PUT", "/catalog/devices/");
    ok(&b, &ENV, &["sync"]);
    assert_eq!(names(&json(&b, &ENV, &["playlist", "show"])), ["One", "Three", "Two"]);

    // A snapshot killed on its way out, then a compaction killed among its deletions.
    ok(&b, &ENV, &["playlist", "create", "Four"]);
    rig.kill_at(&a, &["locker", "compact"], "PUT", "/catalog/snapshot/");
    ok(&a, &ENV, &["sync"]);
    ok(&b, &ENV, &["sync"]);
    rig.kill_at(&a, &["locker", "compact"], "DELETE", "/catalog/log/");
    ok(&b, &ENV, &["playlist", "create", "Five"]);
    for device in [&a, &b] {
        ok(device, &ENV, &["sync"]);
    }
    // An edit killed on its way to the locker is kept and written by the next run.
    rig.kill_at(&b, &["playlist", "create", "Six"], "PUT", "/catalog/log/");
    for device in [&b, &a] {
        ok(device, &ENV, &["sync"]);
    }
    let expected = ["Five", "Four", "One", "Six", "Three", "Two"];
    assert_eq!(names(&json(&a, &ENV, &["playlist", "show"])), expected);
    assert_eq!(names(&json(&b, &ENV, &["playlist", "show"])), expected);
    let fresh = rig.assert_sound("fresh", 0, 6);
    assert_eq!(names(&json(&fresh, &ENV, &["playlist", "show"])), expected);
    // And compaction finishes when run again.
    ok(&a, &ENV, &["locker", "compact"]);
    rig.assert_sound("fresh-2", 0, 6);
}

#[test]
fn a_killed_collection_and_a_killed_inbox_import_finish_when_run_again() {
    let rig = Rig::start();
    let a = rig.device("a");
    let music = rig.tmp.path().join("music");
    let files = songs(&music, 10, 2, 150_000);
    let report = json(&a, &ENV, &["upload", music.to_str().unwrap()]);
    let gone = report["uploaded"][0]["track_id"].as_str().unwrap().to_owned();
    ok(&a, &ENV, &["locker", "rm", &gone]);
    // Storage times are in whole seconds: a blob written in the second a collection looks
    // counts as just written.
    std::thread::sleep(Duration::from_millis(1100));

    // Killed after the manifest went, among the parts.
    rig.kill_at(&a, &["locker", "gc", "--grace", "0"], "DELETE", "/parts/");
    assert!(!rig.objects().join(format!("blobs/sha256/{}/{gone}", &gone[..2])).exists());
    let again = json(&a, &ENV, &["locker", "gc", "--grace", "0"]);
    assert!(again["abandoned_parts_deleted"].as_u64().unwrap() >= 1, "{again}");
    let parts = rig.objects().join(format!("parts/sha256/{}/{gone}", &gone[..2]));
    assert_eq!(std::fs::read_dir(&parts).map_or(0, |entries| entries.count()), 0, "no part of it is left");
    rig.assert_sound("fresh", 1, 0);

    // An inbox import killed mid-download, then after its catalog entry, before the delete.
    let dropped = servers::wav(99, 150_000, "Dropped In", "Another Tool", "Inbox");
    let inbox = rig.objects().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(inbox.join("dropped.wav"), &dropped).unwrap();
    let settled = std::time::SystemTime::now() - Duration::from_secs(120);
    std::fs::File::options()
        .write(true)
        .open(inbox.join("dropped.wav"))
        .unwrap()
        .set_modified(settled)
        .unwrap();
    rig.kill_at(&a, &["sync"], "PUT", "/parts/");
    rig.kill_at(&a, &["sync"], "DELETE", "/inbox/");
    let sync = json(&a, &ENV, &["sync"]);
    assert_eq!(sync["problems"], serde_json::json!([]));
    assert!(!inbox.join("dropped.wav").exists(), "imported and removed from the inbox");
    let tracks = json(&a, &ENV, &["tracks"]);
    let titles: Vec<&str> =
        tracks.as_array().unwrap().iter().filter_map(|track| track["title"].as_str()).collect();
    assert_eq!(titles.iter().filter(|title| **title == "Dropped In").count(), 1, "imported once: {titles:?}");
    assert!(leftovers(&a).is_empty(), "{:?}", leftovers(&a));
    rig.assert_sound("fresh-2", 2, 0);
    drop(files);
}

/// The test environment, with the passphrase of an encrypted locker.
const SECRET_ENV: [(&str, &str); 3] =
    [ENV[0], ENV[1], ("LOFT_LOCKER_PASSPHRASE", "correct horse battery staple")];

/// Every object in the locker, relative to its root.
fn stored(rig: &Rig) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, found);
            } else {
                found.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut found = Vec::new();
    walk(&rig.objects(), &rig.objects(), &mut found);
    found
}

#[test]
fn a_conversion_killed_at_any_step_resumes_and_finishes() {
    let rig = Rig::start();
    let a = rig.device("a");
    let b = rig.device("b");
    let files = songs(&rig.tmp.path().join("music"), 30, 3, 150_000); // five parts each
    let paths: Vec<&str> = files.iter().map(|path| path.to_str().unwrap()).collect();
    let mut upload = vec!["upload"];
    upload.extend(&paths);
    ok(&a, &ENV, &upload);
    ok(&a, &ENV, &["playlist", "create", "Kept Through It All"]);
    ok(&b, &ENV, &["sync"]);

    // Killed before the key is written, then while sealing a part, then a manifest.
    let encrypt = ["locker", "encrypt"];
    rig.kill_at_with(&a, &SECRET_ENV, &encrypt, "PUT", "/locker.json");
    rig.kill_at_with(&a, &SECRET_ENV, &encrypt, "PUT", "/sealed/parts/");
    rig.kill_at_with(&a, &SECRET_ENV, &encrypt, "PUT", "/sealed/blobs/");
    let report = json(&a, &SECRET_ENV, &encrypt);
    assert_eq!(report["finished"], false, "{report}");
    let b_device = json(&b, &ENV, &["locker", "status"])["device"].clone();
    assert_eq!(report["waiting_for"], serde_json::json!([b_device]), "{report}");
    // The other device, given the passphrase, moves at its next sync.
    ok(&b, &SECRET_ENV, &["sync"]);

    // Killed as it finishes: writing locker.json, then among the deletions of the plaintext.
    rig.kill_at_with(&a, &SECRET_ENV, &encrypt, "PUT", "/locker.json");
    rig.kill_at_with(&a, &SECRET_ENV, &encrypt, "DELETE", "/parts/sha256/");
    let report = json(&a, &SECRET_ENV, &encrypt);
    assert_eq!(report["finished"], true, "{report}");
    let plaintext: Vec<String> = stored(&rig)
        .into_iter()
        .filter(|path| path != "locker.json" && !path.starts_with("sealed/") && !path.starts_with("tmp/"))
        .collect();
    assert!(plaintext.is_empty(), "left in plaintext: {plaintext:?}");

    let fresh = rig.assert_sound_with(&SECRET_ENV, "fresh", 3, 1);
    assert_eq!(names(&json(&fresh, &SECRET_ENV, &["playlist", "show"])), ["Kept Through It All"]);
    assert_eq!(names(&json(&b, &SECRET_ENV, &["playlist", "show"])), ["Kept Through It All"]);
    // Without the passphrase a new device is told it is locked, and reads nothing.
    let stranger = rig.device_with("stranger", &ENV);
    let status = json(&stranger, &ENV, &["locker", "status"]);
    assert_eq!(status["encryption"]["unlocked"], false, "{status}");
    assert!(json(&stranger, &ENV, &["tracks"]).as_array().unwrap().is_empty());
}
