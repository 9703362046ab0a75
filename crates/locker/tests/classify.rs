//! Failures are classified by what the storage answered, never by words in a message: a bucket,
//! prefix or folder named "connect", "dns" or "timeout" is not a network failure; a refused
//! password is a credentials failure, told in one readable sentence without the server's page.

mod support;

use loft_locker::{Credentials, ErrorKind, Locker, LockerError};
use loft_testkit::{S3_KEY, S3_SECRET, S3Server};
use support::{Backend, TestStorage, test_options};

async fn open(url: &str, credentials: Credentials) -> LockerError {
    let state = tempfile::tempdir().unwrap();
    Locker::open_with(url, credentials, "laptop", state.path(), test_options()).await.err().expect("refused")
}

/// One sentence a person reads: no HTML, no debug dump, no backend context.
fn assert_readable(error: &LockerError) {
    let message = error.to_string();
    assert!(!message.contains('<') && !message.contains('\n'), "{message}");
    assert!(
        !message.contains("context") && !message.contains("OpenDAL") && !message.contains("Error {"),
        "{message}"
    );
    assert!(message.len() < 300, "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_webdav_password_is_a_credentials_failure_in_one_sentence() {
    let storage = TestStorage::start(Backend::WebDav).await;
    let wrong = Credentials::WebDav { user: support::DAV_USER.into(), password: "not-the-password".into() };
    let error = open(&storage.url, wrong).await;
    assert_eq!(error.kind(), ErrorKind::Credentials, "{error}");
    assert_readable(&error);

    // The same in a locker whose path reads like a network failure.
    let url = storage.url.replace("/locker", "/connect-timeout-dns");
    let wrong = Credentials::WebDav { user: "dns".into(), password: "timeout".into() };
    let error = open(&url, wrong).await;
    assert_eq!(error.kind(), ErrorKind::Credentials, "{error}");
    assert_readable(&error);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_read_like_network_failures_are_classified_by_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(&dir.path().join("s3")).unwrap();
    let good = Credentials::S3 { access_key_id: S3_KEY.into(), secret_access_key: S3_SECRET.into() };

    // A missing bucket whose name holds all three words: not found, not network.
    let url = server.locker_url("timeout/dns").replacen("s3://loft/", "s3://connect-dns-timeout/", 1);
    let error = open(&url, good.clone()).await;
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    assert!(!error.is_transient(), "{error}");
    assert_readable(&error);

    // A wrong secret on a prefix named like a failure: credentials.
    let url = server.locker_url("connect/timeout/dns");
    let wrong =
        Credentials::S3 { access_key_id: S3_KEY.into(), secret_access_key: "timeout-dns-connect".into() };
    let error = open(&url, wrong).await;
    assert_eq!(error.kind(), ErrorKind::Credentials, "{error}");
    assert_readable(&error);

    // And the same prefix with the right key is a locker like any other.
    let state = tempfile::tempdir().unwrap();
    let locker = Locker::open_with(&url, good, "laptop", state.path(), test_options()).await.unwrap();
    assert!(locker.status().await.is_ok());

    // A folder locker in a folder named like a failure, whose parent is a file: an I/O
    // failure of this computer, not the network.
    let blocker = dir.path().join("connect-timeout");
    std::fs::write(&blocker, b"a file, not a folder").unwrap();
    let url = format!("file://{}/dns", blocker.display());
    let error = open(&url, Credentials::None).await;
    assert_ne!(error.kind(), ErrorKind::Network, "{error}");
    assert!(!error.is_transient(), "{error}");
}
