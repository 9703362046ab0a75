//! Cancelling an upload half-way: the file is reported cancelled, nothing of it reaches the
//! catalog, it is not resumed at the next start, and uploading it again later works.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use support::{Backend, TestStorage};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_upload_publishes_nothing_and_is_not_resumed() {
    let storage = TestStorage::start(Backend::S3).await;
    let (locker, _state) = storage.device("laptop").await;
    let music = tempfile::tempdir().unwrap();
    // About 1.7 MB: many 64 KiB parts, so the cancel lands between two of them.
    let files = support::write_tracks(music.path(), 7, 1, 440_000);

    let cancel = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let (flag, seen) = (cancel.clone(), sent.clone());
    let progress: loft_locker::ProgressCallback = Arc::new(move |progress: &loft_locker::UploadProgress| {
        seen.fetch_max(progress.bytes_sent, Ordering::SeqCst);
        if progress.bytes_sent > 0 {
            flag.store(true, Ordering::SeqCst);
        }
    });
    let report = locker.upload_cancellable(&files, Some(progress), Some(cancel)).await;
    assert!(report.uploaded.is_empty(), "{report:?}");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].kind, "cancelled");
    let size = std::fs::metadata(&files[0]).unwrap().len();
    let sent = sent.load(Ordering::SeqCst);
    assert!(sent > 0 && sent < size, "it stopped part-way: {sent} of {size} bytes");
    assert_eq!(locker.track_count().await, 0, "nothing reached the catalog");
    assert!(locker.interrupted_uploads().await.is_empty(), "a cancelled file is not resumed");

    let again = locker.upload(&files, None).await;
    assert_eq!(again.uploaded.len(), 1, "{again:?}");
    assert_eq!(locker.track_count().await, 1);
}
