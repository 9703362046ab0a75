//! The service on a front end's own runtime (the desktop shell lends Tauri's): locker work,
//! uploads and the background loop run there, and blocking calls from the front end's threads
//! wait on it, so a process has one runtime, not two.

#[path = "../../library/tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use loft_core::library_types::TrackQuery;
use loft_core::{Loft, NoEvents};

#[test]
fn the_service_runs_its_locker_work_on_a_lent_runtime() {
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    support::copy_fixture("tone.flac", &music.join("tone.flac"));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let url = format!("file://{}", tmp.path().join("locker").display());

    let first =
        Loft::open_with_runtime(tmp.path().join("first"), Arc::new(NoEvents), runtime.handle().clone())
            .unwrap();
    first.connect_locker(&url, None).unwrap();
    first.start_locker_sync();
    let report = first.upload(std::slice::from_ref(&music)).unwrap();
    assert_eq!(report.uploaded.len(), 1, "{report:?}");
    first.sync_locker().unwrap();

    // A second profile on the same runtime sees the upload.
    let second =
        Loft::open_with_runtime(tmp.path().join("second"), Arc::new(NoEvents), runtime.handle().clone())
            .unwrap();
    second.connect_locker(&url, None).unwrap();
    let tracks = second.tracks(&TrackQuery { limit: 10, ..TrackQuery::default() }).unwrap();
    assert_eq!(tracks.len(), 1);
    drop((first, second));
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
}
