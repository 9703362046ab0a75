//! kill -9 in the middle of a multipart upload, then upload again: the upload resumes, and only
//! the parts that were in flight at the kill are sent again.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use loft_locker::{Credentials, Locker, OpenOptions};
use support::{Backend, TestStorage, test_options, wav};

const PART: u64 = 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;

fn options() -> OpenOptions {
    OpenOptions { new_locker_part_size: PART, parts_in_flight: PARTS_IN_FLIGHT, ..test_options() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_upload_resumes_and_resends_only_parts_in_flight() {
    let storage = TestStorage::start(Backend::S3).await;
    let state = tempfile::tempdir().unwrap();
    let music = tempfile::tempdir().unwrap();
    let file = music.path().join("long.wav");
    std::fs::write(&file, wav(4242, 12 * 1024 * 1024, "Long", "Artist", "Album")).unwrap();
    let size = std::fs::metadata(&file).unwrap().len();
    // Create the locker (and its part size) before the child uses it.
    drop(storage.open("laptop", state.path(), options()).await);

    let Credentials::S3 { access_key_id, secret_access_key } = storage.credentials.clone() else {
        unreachable!()
    };
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_uploads_until_killed", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("LOFT_LOCKER_CHILD_URL", &storage.url)
        .env("LOFT_LOCKER_CHILD_KEY", access_key_id)
        .env("LOFT_LOCKER_CHILD_SECRET", secret_access_key)
        .env("LOFT_LOCKER_CHILD_STATE", state.path())
        .env("LOFT_LOCKER_CHILD_FILE", &file)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let sent_before_kill = tokio::task::spawn_blocking(move || {
        let mut last = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(sent) = line.strip_prefix("sent ") {
                last = sent.parse::<u64>().unwrap();
                if last >= 8 * PART {
                    // Child::kill is SIGKILL on Unix: no destructor, no flush, like a crash.
                    child.kill().unwrap();
                    child.wait().unwrap();
                    return last;
                }
            }
        }
        let status = child.wait().unwrap();
        panic!("the child ended ({status}) before it could be killed (last sent {last})");
    })
    .await
    .unwrap();
    assert!(sent_before_kill < size, "killed mid-upload");

    let locker = storage.open("laptop", state.path(), options()).await;
    assert_eq!(locker.interrupted_uploads().await, vec![file.clone()]);
    let report = locker.upload(std::slice::from_ref(&file), None).await;
    assert_eq!(report.uploaded.len(), 1, "{report:?}");
    let remaining = size - sent_before_kill;
    let resent = report.bytes_sent.saturating_sub(remaining);
    println!(
        "file {size} bytes, {sent_before_kill} acknowledged before the kill, {} sent after restart, {resent} re-sent",
        report.bytes_sent
    );
    assert!(report.bytes_sent < size, "it resumed rather than starting over");
    assert!(resent <= PARTS_IN_FLIGHT as u64 * PART, "re-sent {resent} bytes: more than the parts in flight");
    let blob = locker.open_blob(&report.uploaded[0].track_id).await.unwrap();
    assert_eq!(&blob.read_range(0, u64::MAX).await.unwrap()[..], &std::fs::read(&file).unwrap()[..]);
    assert!(locker.interrupted_uploads().await.is_empty());
}

/// Transient failures (an S3 service answering 503 Slow Down to every third request) are retried
/// with backoff: every file lands, intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_errors_are_retried() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("s3").join(support::S3_BUCKET)).unwrap();
    let (port, refusals) = support::serve_flaky_s3(&dir.path().join("s3"), 3).await;
    let url = format!("s3://{}/flaky?endpoint=http://127.0.0.1:{port}&region=us-east-1", support::S3_BUCKET);
    let credentials = Credentials::S3 {
        access_key_id: support::S3_KEY.into(),
        secret_access_key: support::S3_SECRET.into(),
    };
    let state = tempfile::tempdir().unwrap();
    let options = OpenOptions {
        retry: loft_locker::RetryPolicy {
            retries: 4,
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            request_timeout: Duration::from_secs(30),
        },
        ..test_options()
    };
    let locker = Locker::open_with(&url, credentials, "laptop", state.path(), options).await.unwrap();
    let music = tempfile::tempdir().unwrap();
    let files = support::write_tracks(music.path(), 0, 12, 60_000);
    let report = locker.upload(&files, None).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.uploaded.len(), 12);
    assert!(refusals.load(std::sync::atomic::Ordering::SeqCst) >= 10, "the server did refuse requests");
    locker.sync().await.unwrap();
    for file in &report.uploaded {
        let blob = locker.open_blob(&file.track_id).await.unwrap();
        assert_eq!(&blob.read_range(0, u64::MAX).await.unwrap()[..], &std::fs::read(&file.path).unwrap()[..]);
    }
}

/// Run only by the test above, as a separate process that it kills.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a helper process for killed_upload_resumes_and_resends_only_parts_in_flight"]
async fn child_uploads_until_killed() {
    let Ok(url) = std::env::var("LOFT_LOCKER_CHILD_URL") else { return };
    let var = |name: &str| std::env::var(name).unwrap();
    let credentials = Credentials::S3 {
        access_key_id: var("LOFT_LOCKER_CHILD_KEY"),
        secret_access_key: var("LOFT_LOCKER_CHILD_SECRET"),
    };
    let state = std::path::PathBuf::from(var("LOFT_LOCKER_CHILD_STATE"));
    let locker = Locker::open_with(&url, credentials, "laptop", &state, options()).await.unwrap();
    let file = std::path::PathBuf::from(var("LOFT_LOCKER_CHILD_FILE"));
    locker
        .upload(
            &[file],
            Some(Arc::new(|progress: &loft_locker::UploadProgress| {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "sent {}", progress.bytes_sent);
                let _ = out.flush();
                // Slow enough that the parent kills us half-way.
                std::thread::sleep(Duration::from_millis(100));
            })),
        )
        .await;
}
