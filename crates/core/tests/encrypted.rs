//! An encrypted locker through the service, as the desktop app uses it: a second device
//! connects without the passphrase and sees the locker locked, is refused a wrong passphrase,
//! and once unlocked lists the tracks and the playlist.

#[path = "../../library/tests/support/mod.rs"]
mod support;

use loft_core::LockerKeying;
use loft_core::Loft;
use loft_core::library_types::{Track, TrackQuery};
use loft_core::locker_types::LockerSecret;

const PASSPHRASE: &str = "correct horse battery staple";

fn tracks(loft: &Loft) -> Vec<Track> {
    loft.tracks(&TrackQuery { limit: 1000, ..TrackQuery::default() }).unwrap()
}

#[test]
#[allow(unsafe_code)]
fn a_second_device_connects_locked_then_unlocks_and_sees_everything() {
    // SAFETY: nextest runs each test in a process of its own; nothing else runs yet.
    unsafe { std::env::set_var("LOFT_NO_KEYCHAIN", "1") };
    let tmp = tempfile::tempdir().unwrap();
    let music = tmp.path().join("music");
    support::copy_fixture("tone.flac", &music.join("tone.flac"));
    support::copy_fixture("tone.mp3", &music.join("tone.mp3"));
    let url = format!("file://{}", tmp.path().join("locker").display());

    let first = Loft::open(tmp.path().join("first")).unwrap();
    let keying = LockerKeying { passphrase: Some(PASSPHRASE.into()), create_with: Some(PASSPHRASE.into()) };
    let status = first.connect_locker_with(&url, None, keying).unwrap();
    assert!(status.encryption.encrypted && status.encryption.unlocked, "{status:?}");
    let report = first.upload(std::slice::from_ref(&music)).unwrap();
    assert_eq!(report.uploaded.len(), 2, "{report:?}");
    first.create_playlist("Sealed Favourites").unwrap();
    first.sync_locker().unwrap();
    drop(first);

    let second = Loft::open(tmp.path().join("second")).unwrap();
    let status = second.connect_locker(&url, None).unwrap();
    assert!(status.encryption.encrypted && !status.encryption.unlocked, "{status:?}");
    // The desktop app's loop tries to sync meanwhile, and is told the locker is locked.
    second.start_locker_sync();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(!second.locker_status().unwrap().unwrap().encryption.unlocked);
    assert!(tracks(&second).is_empty());
    let wrong = second.unlock_locker(LockerSecret::passphrase("not the passphrase")).unwrap_err();
    assert_eq!(wrong.kind(), "wrong_passphrase", "{wrong}");

    let status = second.unlock_locker(LockerSecret::passphrase(PASSPHRASE)).unwrap();
    assert!(status.encryption.unlocked, "{status:?}");
    assert_eq!(tracks(&second).len(), 2);
    let playlists = second.playlists().unwrap();
    assert_eq!(playlists.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["Sealed Favourites"]);
}
