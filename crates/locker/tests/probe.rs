//! "Test connection" names the step that failed, against real servers on loopback: a wrong
//! name, nothing listening, TLS spoken to a plain HTTP port, a wrong secret, a missing bucket,
//! a server that lets the user read but not write; and says when everything works.

mod support;

use std::path::Path;

use loft_locker::{Credentials, check_connection};
use loft_testkit::{S3_BUCKET, S3_KEY, S3_SECRET, S3Server};

fn s3_credentials(secret: &str) -> Credentials {
    Credentials::S3 { access_key_id: S3_KEY.into(), secret_access_key: secret.into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failure_names_its_step_and_a_good_location_passes() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = S3Server::start(&dir.path().join("s3")).unwrap();
    let url = server.locker_url("music");

    let good = check_connection(&url, &s3_credentials(S3_SECRET)).await;
    assert!(good.ok, "{good:?}");
    assert_eq!(good.step, "ok");
    assert!(!good.locker_exists, "nothing there yet: connecting makes a new locker");
    assert!(
        server_objects(&dir.path().join("s3").join(S3_BUCKET)).is_empty(),
        "the probe cleans up after itself"
    );
    let opened =
        loft_locker::Locker::open(&url, s3_credentials(S3_SECRET), "laptop", &dir.path().join("state"))
            .await
            .unwrap();
    drop(opened);
    // A locker in use has many keys; listing it to see that the bucket is there must look at
    // one page, not walk them all.
    for folder in ["blobs", "catalog", "parts", "inbox", "devices"] {
        let dir = dir.path().join("s3").join(S3_BUCKET).join("music").join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("object"), b"x").unwrap();
    }
    let existing = check_connection(&url, &s3_credentials(S3_SECRET)).await;
    assert!(existing.ok && existing.locker_exists, "{existing:?}");

    let wrong_secret = check_connection(&url, &s3_credentials("not-the-secret")).await;
    assert_eq!(wrong_secret.step, "credentials", "{wrong_secret:?}");

    let missing_bucket = url.replace(&format!("s3://{S3_BUCKET}/"), "s3://no-such-bucket/");
    let missing = check_connection(&missing_bucket, &s3_credentials(S3_SECRET)).await;
    assert_eq!(missing.step, "bucket", "{missing:?}");

    let tls = check_connection(
        &format!("webdav+https://127.0.0.1:{}/locker", server.port()),
        &Credentials::WebDav { user: "u".into(), password: "p".into() },
    )
    .await;
    assert_eq!(tls.step, "tls", "HTTPS spoken to a plain HTTP port: {tls:?}");

    let unknown_host = check_connection(
        "webdav+http://no-such-host.invalid/locker",
        &Credentials::WebDav { user: "u".into(), password: "p".into() },
    )
    .await;
    assert_eq!(unknown_host.step, "name_resolution", "{unknown_host:?}");

    let dav_root = dir.path().join("dav");
    std::fs::create_dir_all(dav_root.join("locker")).unwrap();
    let dav = loft_testkit::DavServer::start_read_only(&dav_root).unwrap();
    let dav_port = dav.port();
    let read_only = check_connection(
        &format!("webdav+http://127.0.0.1:{dav_port}/locker"),
        &Credentials::WebDav { user: support::DAV_USER.into(), password: support::DAV_PASSWORD.into() },
    )
    .await;
    assert_eq!(read_only.step, "permission", "{read_only:?}");

    server.stop();
    let stopped = check_connection(&url, &s3_credentials(S3_SECRET)).await;
    assert_eq!(stopped.step, "connection", "{stopped:?}");
    assert!(stopped.message.contains(&server.port().to_string()), "{stopped:?}");

    let folder =
        check_connection(&format!("file://{}", dir.path().join("folder").display()), &Credentials::None)
            .await;
    assert!(folder.ok, "{folder:?}");
    let bad_url = check_connection("ftp://example.com/music", &Credentials::None).await;
    assert_eq!(bad_url.step, "url", "{bad_url:?}");
}

fn server_objects(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() { stack.push(path) } else { found.push(path) }
        }
    }
    found
}
