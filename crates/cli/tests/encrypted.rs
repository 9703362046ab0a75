//! An encrypted locker through the real `loft` binary, on S3, WebDAV and a folder: created with
//! `locker connect --encrypt`, uploaded to, then nothing readable in the storage; a second
//! profile connects locked, is refused a wrong passphrase, unlocks, lists the tracks and renders
//! a streamed one bit-identical to its file.

#[path = "../../library/tests/support/mod.rs"]
mod audio;
mod common;

use std::path::{Path, PathBuf};

use loft_testkit::{DAV_PASSWORD, DAV_USER, DavServer, S3_BUCKET, S3_KEY, S3_SECRET, S3Server};
use sha2::{Digest, Sha256};

const PASSPHRASE: &str = "correct horse battery staple";

/// A locker location with its server running, and where that server keeps the objects.
struct Location {
    url: String,
    env: Vec<(&'static str, &'static str)>,
    objects: PathBuf,
    _s3: Option<S3Server>,
    _dav: Option<DavServer>,
}

fn s3(root: &Path) -> Location {
    let server = S3Server::start(&root.join("s3")).unwrap();
    Location {
        url: server.locker_url("sealed"),
        env: vec![("AWS_ACCESS_KEY_ID", S3_KEY), ("AWS_SECRET_ACCESS_KEY", S3_SECRET)],
        objects: root.join("s3").join(S3_BUCKET).join("sealed"),
        _s3: Some(server),
        _dav: None,
    }
}

fn webdav(root: &Path) -> Location {
    let server = DavServer::start(&root.join("dav"), 0).unwrap();
    Location {
        url: format!("webdav+http://127.0.0.1:{}/locker", server.port()),
        env: vec![("LOFT_WEBDAV_USER", DAV_USER), ("LOFT_WEBDAV_PASSWORD", DAV_PASSWORD)],
        objects: root.join("dav").join("locker"),
        _s3: None,
        _dav: Some(server),
    }
}

fn folder(root: &Path) -> Location {
    let objects = root.join("folder-locker");
    Location { url: format!("file://{}", objects.display()), env: vec![], objects, _s3: None, _dav: None }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() { pending.push(path) } else { found.push(path) }
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

fn end_to_end(make: fn(&Path) -> Location) {
    let tmp = tempfile::tempdir().unwrap();
    let location = make(tmp.path());
    let songs = tmp.path().join("songs");
    let files = ["tone.flac", "tone.mp3", "tone.ogg", "tone-aac.m4a"];
    for file in files {
        audio::copy_fixture(file, &songs.join(file));
    }
    let (first, second) = (tmp.path().join("first"), tmp.path().join("second"));
    let with_passphrase: Vec<(&str, &str)> =
        location.env.iter().copied().chain([("LOFT_LOCKER_PASSPHRASE", PASSPHRASE)]).collect();

    let connected =
        common::json(&first, &with_passphrase, &["locker", "connect", &location.url, "--encrypt"]);
    let recovery = connected["recovery_key"].as_str().unwrap_or_default().to_owned();
    assert_eq!(recovery.len(), 39, "a recovery key of 8 groups of 4: {connected}");
    // The tests keep keys out of the keychain, so each run of `loft` is given the passphrase.
    common::ok(&first, &with_passphrase, &["upload", songs.to_str().unwrap()]);

    // The storage holds no tag, no container magic and no file's SHA-256, in names or bytes.
    let hashes: Vec<String> =
        files.iter().map(|file| hex(&Sha256::digest(std::fs::read(songs.join(file)).unwrap()))).collect();
    let stored = files_under(&location.objects);
    assert!(stored.len() > files.len() * 2, "{} objects", stored.len());
    for path in &stored {
        let name = path.strip_prefix(&location.objects).unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(path).unwrap();
        for hash in &hashes {
            assert!(
                !name.contains(hash.as_str()) && !contains(&bytes, hash.as_bytes()),
                "{name} shows a SHA-256"
            );
        }
        if name == "locker.json" {
            continue;
        }
        // Strings of 4 bytes and fewer turn up in random bytes by chance ("1/2" did); these
        // would not.
        for (_, value) in audio::TAGS.iter().filter(|(_, value)| value.len() > 5) {
            assert!(!contains(&bytes, value.as_bytes()), "{name} holds the tag {value}");
        }
        // Magic numbers are as short as the strings above: looked for where a format puts
        // them, at the start of an object that would be stored in the clear.
        let head = &bytes[..bytes.len().min(16)];
        for magic in [&b"fLaC"[..], b"OggS", b"ID3\x04", b"ftyp"] {
            assert!(!contains(head, magic), "{name} starts with {}", String::from_utf8_lossy(magic));
        }
    }

    // A second profile connects locked, is refused a wrong passphrase, then unlocks.
    common::ok(&second, &location.env, &["locker", "connect", &location.url]);
    let status = common::json(&second, &location.env, &["locker", "status"]);
    assert_eq!(status["encryption"]["encrypted"], true, "{status}");
    assert_eq!(status["encryption"]["unlocked"], false, "{status}");
    let wrong: Vec<(&str, &str)> =
        location.env.iter().copied().chain([("LOFT_LOCKER_PASSPHRASE", "not the passphrase")]).collect();
    let refused = common::run(&second, &wrong, &["locker", "unlock"]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("does not unlock"), "{message}");
    common::ok(&second, &with_passphrase, &["locker", "unlock"]);
    common::ok(&second, &with_passphrase, &["sync"]);
    let tracks = common::json(&second, &with_passphrase, &["tracks"]);
    assert_eq!(tracks.as_array().unwrap().len(), files.len(), "{tracks}");

    // Each track streams, decrypted, into the same samples as one of the files.
    let mut local_renders = Vec::new();
    for file in files {
        let local = tmp.path().join(format!("local-{file}.wav"));
        common::ok(
            &second,
            &[],
            &["render", songs.join(file).to_str().unwrap(), "--out", local.to_str().unwrap()],
        );
        local_renders.push(std::fs::read(&local).unwrap());
    }
    let mut matched = Vec::new();
    for track in tracks.as_array().unwrap() {
        assert!(track["path"].is_null(), "{track}");
        let id = track["id"].to_string();
        let streamed = tmp.path().join(format!("streamed-{id}.wav"));
        common::ok(&second, &with_passphrase, &["render", &id, "--out", streamed.to_str().unwrap()]);
        let samples = std::fs::read(&streamed).unwrap();
        let which = local_renders.iter().position(|local| *local == samples);
        assert!(which.is_some(), "track {id} renders like none of the files");
        matched.extend(which);
    }
    matched.sort_unstable();
    matched.dedup();
    assert_eq!(matched.len(), files.len(), "each file streams back once");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[test]
fn an_encrypted_locker_on_s3() {
    end_to_end(s3);
}

#[test]
fn an_encrypted_locker_on_webdav() {
    end_to_end(webdav);
}

#[test]
fn an_encrypted_locker_on_a_folder() {
    end_to_end(folder);
}
