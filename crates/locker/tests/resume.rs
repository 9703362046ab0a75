//! kill -9 in the middle of a multipart upload, then upload again: the upload resumes, and at
//! most the one part that was on the wire at the kill is sent again.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use loft_locker::{Credentials, Locker, OpenOptions};
use support::{test_options, wav};

const PART: u64 = 1024 * 1024;
/// How fast the server takes in part bodies: a part takes about 250 ms, so a kill lands in the
/// middle of one.
const PART_BYTES_PER_SEC: u64 = 4 * PART;

fn options() -> OpenOptions {
    OpenOptions { new_locker_part_size: PART, ..test_options() }
}

fn credentials() -> Credentials {
    Credentials::S3 { access_key_id: support::S3_KEY.into(), secret_access_key: support::S3_SECRET.into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_upload_resumes_and_resends_at_most_one_part() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("s3").join(support::S3_BUCKET)).unwrap();
    // The server counts the part bytes that reach it, so what was sent twice is measured on
    // the wire rather than inferred from what the uploader reports.
    let (port, received) = support::serve_paced_s3(&dir.path().join("s3"), PART_BYTES_PER_SEC).await;
    let url = format!("s3://{}/music?endpoint=http://127.0.0.1:{port}&region=us-east-1", support::S3_BUCKET);
    let state = tempfile::tempdir().unwrap();
    let music = tempfile::tempdir().unwrap();
    let file = music.path().join("long.wav");
    std::fs::write(&file, wav(4242, 6 * 1024 * 1024, "Long", "Artist", "Album")).unwrap();
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size > 11 * PART);
    // Create the locker (and its part size) before the child uses it.
    drop(Locker::open_with(&url, credentials(), "laptop", state.path(), options()).await.unwrap());

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_uploads_until_killed", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("LOFT_LOCKER_CHILD_URL", &url)
        .env("LOFT_LOCKER_CHILD_STATE", state.path())
        .env("LOFT_LOCKER_CHILD_FILE", &file)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let acknowledged = tokio::task::spawn_blocking(move || {
        let mut last = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(sent) = line.strip_prefix("sent ") {
                last = sent.parse::<u64>().unwrap();
                if last >= 6 * PART {
                    // Half-way through the next part, whatever the uploader is doing then.
                    std::thread::sleep(Duration::from_millis(125));
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
    // Let the server take in whatever the dead process's socket still held.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received_before_restart = received.load(Ordering::SeqCst);
    assert!(acknowledged < size, "killed mid-upload");

    let locker = Locker::open_with(&url, credentials(), "laptop", state.path(), options()).await.unwrap();
    assert_eq!(locker.interrupted_uploads().await, vec![file.clone()]);
    let report = locker.upload(std::slice::from_ref(&file), None).await;
    assert_eq!(report.uploaded.len(), 1, "{report:?}");
    let on_the_wire = received.load(Ordering::SeqCst);
    let resent = on_the_wire - size;
    println!(
        "file {size} bytes; before the kill {acknowledged} acknowledged and {received_before_restart} \
         received by the server; after the restart {} sent; {on_the_wire} part bytes received in all, \
         {resent} of them twice",
        report.bytes_sent
    );
    assert!(report.bytes_sent < size, "it resumed rather than starting over");
    assert!(on_the_wire >= size, "every part byte reached the server");
    assert!(resent <= PART, "{resent} bytes were sent twice: more than one part");
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
            // With every third request refused server-wide, one request can draw a refusal on
            // several tries in a row while other uploads take the slots in between.
            retries: 8,
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
    assert!(refusals.load(Ordering::SeqCst) >= 10, "the server did refuse requests");
    locker.sync().await.unwrap();
    for file in &report.uploaded {
        let blob = locker.open_blob(&file.track_id).await.unwrap();
        assert_eq!(&blob.read_range(0, u64::MAX).await.unwrap()[..], &std::fs::read(&file.path).unwrap()[..]);
    }
}

/// Run only by the test above, as a separate process that it kills.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a helper process for killed_upload_resumes_and_resends_at_most_one_part"]
async fn child_uploads_until_killed() {
    let Ok(url) = std::env::var("LOFT_LOCKER_CHILD_URL") else { return };
    let var = |name: &str| std::env::var(name).unwrap();
    let state = std::path::PathBuf::from(var("LOFT_LOCKER_CHILD_STATE"));
    let locker = Locker::open_with(&url, credentials(), "laptop", &state, options()).await.unwrap();
    let file = std::path::PathBuf::from(var("LOFT_LOCKER_CHILD_FILE"));
    locker
        .upload(
            &[file],
            Some(Arc::new(|progress: &loft_locker::UploadProgress| {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "sent {}", progress.bytes_sent);
                let _ = out.flush();
            })),
        )
        .await;
}
