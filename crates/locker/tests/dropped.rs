//! What an upload of dropped files and folders sends and refuses: audio in a format Loft cannot
//! play is refused before a byte of it is sent, with the reason; a dropped folder holding a
//! link back to its parent is walked once and its files uploaded once.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use loft_locker::Locker;
use support::{Backend, TestStorage, write_tracks};

/// Half a second of tone encoded by ffmpeg with `codec` into the container `muxer`.
fn encode(out: &Path, codec: &str, muxer: &str) {
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("sine=frequency=440:sample_rate=44100:duration=0.5")
        .args(["-c:a", codec, "-f", muxer, "-metadata", "title=Refused"])
        .arg(out)
        .output()
        .expect("the tests need ffmpeg on PATH (scripts/install-deps.sh --for-tests)");
    assert!(output.status.success(), "ffmpeg: {}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test]
async fn formats_loft_cannot_play_are_refused_before_anything_is_sent() {
    let storage = TestStorage::start(Backend::Folder).await;
    let (locker, _state) = storage.device("laptop").await;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("dropped");
    let playable = write_tracks(&folder, 1, 1, 8000);
    encode(&folder.join("packed.wv"), "wavpack", "wv");
    encode(&folder.join("old.wma"), "wmav2", "asf");
    // WavPack under a name the engine plays: its content gives it away.
    encode(&folder.join("disguised.flac"), "wavpack", "wv");
    std::fs::write(folder.join("liner-notes.txt"), b"not looked at").unwrap();
    // Named explicitly, a file is tried whatever its name, and refused just the same.
    let named = dir.path().join("named.wv");
    encode(&named, "wavpack", "wv");

    let report = locker.upload(&[folder.clone(), named.clone()], None).await;
    assert_eq!(report.uploaded.len(), 1, "{report:?}");
    assert_eq!(report.uploaded[0].path, playable[0]);
    let mut refused: Vec<(PathBuf, String, String)> = report
        .failed
        .iter()
        .map(|failure| (failure.path.clone(), failure.kind.to_string(), failure.message.clone()))
        .collect();
    refused.sort();
    let expected = [
        (folder.join("disguised.flac"), "WavPack"),
        (folder.join("old.wma"), "Windows Media Audio"),
        (folder.join("packed.wv"), "WavPack"),
        (named.clone(), "WavPack"),
    ];
    assert_eq!(refused.len(), expected.len(), "{refused:?}");
    for ((path, kind, message), (expected_path, format)) in refused.iter().zip(expected) {
        assert_eq!(path, &expected_path);
        assert_eq!(kind, "not_audio");
        assert_eq!(
            message,
            &format!(
                "{} is not an audio file Loft can read: it is {format} audio, which Loft cannot play",
                expected_path.display()
            )
        );
    }
    // Only the playable file reached the locker.
    let size = std::fs::metadata(&playable[0]).unwrap().len();
    assert_eq!(report.bytes_sent, size);
    assert_eq!(storage.files_under("blobs").len(), 1);
    assert_eq!(locker.tracks().await.len(), 1);
}

/// Another tool's drop into the inbox is held to the same rule.
#[tokio::test]
async fn the_inbox_refuses_formats_loft_cannot_play() {
    let storage = TestStorage::start(Backend::Folder).await;
    let (locker, _state) = storage.device("laptop").await;
    let dir = tempfile::tempdir().unwrap();
    let packed = dir.path().join("packed.wv");
    encode(&packed, "wavpack", "wv");
    storage.put_behind_the_back("inbox/packed.wv", &std::fs::read(&packed).unwrap());
    storage.put_behind_the_back("inbox/song.wav", &support::wav(5, 8000, "Song", "Artist", "Album"));

    let report = locker.sync().await.unwrap().inbox;
    assert_eq!(report.imported.len(), 1, "{report:?}");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].kind, "not_audio");
    assert!(report.failed[0].reason.contains("it is WavPack audio, which Loft cannot play"), "{report:?}");
    assert_eq!(locker.tracks().await.len(), 1);
}

#[cfg(unix)]
#[tokio::test]
async fn a_dropped_folder_linking_to_its_parent_is_uploaded_once() {
    let storage = TestStorage::start(Backend::Folder).await;
    let (locker, _state) = storage.device("laptop").await;
    let dir = tempfile::tempdir().unwrap();
    let album = dir.path().join("album");
    let tracks = write_tracks(&album.join("disc 1"), 10, 2, 4000);
    let more = write_tracks(&album, 20, 1, 4000);
    std::os::unix::fs::symlink(dir.path(), album.join("disc 1/up")).unwrap();
    std::os::unix::fs::symlink(&album, album.join("again")).unwrap();

    let (candidates, unreadable) = Locker::upload_candidates(std::slice::from_ref(&album)).await;
    assert!(unreadable.is_empty(), "{unreadable:?}");
    // The folder's own files first, then its subfolders', each in name order.
    assert_eq!(candidates, [more.clone(), tracks.clone()].concat());

    let report = tokio::time::timeout(Duration::from_secs(120), locker.upload(&[album], None))
        .await
        .expect("the upload finishes");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let mut uploaded: Vec<PathBuf> = report.uploaded.iter().map(|file| file.path.clone()).collect();
    uploaded.sort();
    let mut expected = [more, tracks].concat();
    expected.sort();
    assert_eq!(uploaded, expected);
    assert!(report.duplicates.is_empty());
    assert_eq!(locker.tracks().await.len(), 3);
}
