//! Plays wait for company: the routine sync of a loop that runs every minute writes plays and
//! resume positions in batches, while an edit still goes out at once and takes them with it.

mod support;

use support::{Backend, TestStorage};

const TRACK: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const OTHER: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plays_wait_for_a_batch_and_edits_take_them_along() {
    let storage = TestStorage::start(Backend::Folder).await;
    let (laptop, _laptop_state) = storage.device("laptop").await;
    let (phone, _phone_state) = storage.device("phone").await;
    let logs = || storage.files_under("catalog/log/laptop").len();
    // As in the app: edits are recorded, and the loop's syncs write them.
    laptop.set_push_on_commit(false);

    // The first routine sync of a process writes what waits.
    laptop.record_play(TRACK, 1_000).await.unwrap();
    laptop.routine_sync().await.unwrap();
    assert_eq!(laptop.pending_ops().await, 0);
    let after_first = logs();

    // Song after song: the plays wait, however many routine syncs run.
    for (at, track) in [(2_000, TRACK), (3_000, OTHER), (4_000, TRACK)] {
        laptop.record_play(track, at).await.unwrap();
        laptop.record_resume(OTHER, 61_000).await.unwrap();
        let report = laptop.routine_sync().await.unwrap();
        assert!(report.pending_ops > 0);
    }
    assert_eq!(logs(), after_first, "no log file per song");
    // Plays of one track in between are one op.
    assert_eq!(laptop.pending_ops().await, 3);

    // An edit goes out at the next routine sync, and the plays with it, in one file.
    laptop.set_loved(OTHER, true).await.unwrap();
    let report = laptop.routine_sync().await.unwrap();
    assert_eq!(report.pending_ops, 0);
    assert_eq!(logs(), after_first + 1);

    phone.sync().await.unwrap();
    let heard = phone.listening(TRACK).await.unwrap();
    assert_eq!((heard.play_count, heard.last_played_ms), (3, Some(4_000)), "{heard:?}");
    assert_eq!(phone.listening(OTHER).await.unwrap().resume_ms, Some(61_000));
    assert!(phone.listening(OTHER).await.unwrap().loved);

    // A sync asked for (Sync now, `loft sync`) writes plays at once.
    laptop.record_play(OTHER, 5_000).await.unwrap();
    laptop.sync().await.unwrap();
    assert_eq!(laptop.pending_ops().await, 0);
}
