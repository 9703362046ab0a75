//! Over HTTP (S3, WebDAV) an upload's progress follows the bytes the connection takes while a
//! part is being sent, rather than jumping a whole part at a time: with the default 8 MiB
//! parts, a typical song is one part and would otherwise sit at 0 until it was done.

mod support;

use std::sync::{Arc, Mutex};

use loft_locker::OpenOptions;
use support::{Backend, TestStorage, test_options};

async fn progress_moves_within_a_part(backend: Backend) {
    let storage = TestStorage::start(backend).await;
    let state = tempfile::tempdir().unwrap();
    let options = OpenOptions { new_locker_part_size: 4 * 1024 * 1024, ..test_options() };
    let locker = storage.open("laptop", state.path(), options).await;
    let music = tempfile::tempdir().unwrap();
    // About 1.8 MB: one part of many 64 KiB slices.
    let files = support::write_tracks(music.path(), 3, 1, 450_000);
    let size = std::fs::metadata(&files[0]).unwrap().len();

    let seen = Arc::new(Mutex::new(Vec::new()));
    let reports = seen.clone();
    let progress: loft_locker::ProgressCallback = Arc::new(move |progress: &loft_locker::UploadProgress| {
        reports.lock().unwrap().push(progress.bytes_sent);
    });
    let report = locker.upload(&files, Some(progress)).await;
    assert_eq!(report.uploaded.len(), 1, "{report:?}");
    assert_eq!(report.bytes_sent, size);

    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter().any(|&sent| sent > 0 && sent < size),
        "{backend:?}: nothing shown between 0 and {size} bytes: {seen:?}"
    );
    assert!(seen.windows(2).all(|pair| pair[0] <= pair[1]), "{backend:?}: progress went back: {seen:?}");
    assert_eq!(seen.last(), Some(&size), "{backend:?}: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_s3() {
    progress_moves_within_a_part(Backend::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_webdav() {
    progress_moves_within_a_part(Backend::WebDav).await;
}
