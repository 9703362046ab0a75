//! Streaming from the locker through the offline cache, against a real S3 server behind a
//! fault proxy (latency, a bandwidth limit, connections reset mid-body, an offline switch),
//! with real audio made by ffmpeg and rendered by the real playback chain.

#[path = "support/fault_proxy.rs"]
mod fault_proxy;
mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use fault_proxy::FaultProxy;
use loft_audio::{QueueItem, RenderOptions, render_to_wav};
use loft_locker::{CacheState, Locker, LockerOpener, OfflineCache, StreamOptions};
use support::{Backend, TestStorage, test_options};
use tempfile::TempDir;

fn stream_options() -> StreamOptions {
    StreamOptions {
        urgent_chunk: 16 * 1024,
        chunk: 32 * 1024,
        read_ahead: 128 * 1024,
        tail: 16 * 1024,
        max_backoff: Duration::from_millis(200),
        warm_head: 64 * 1024,
    }
}

/// Encodes a few seconds of generated audio with ffmpeg; a missing ffmpeg fails plainly.
fn encode(dir: &Path, name: &str, source: &str, codec: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec!["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source, "-ac", "2"];
    args.extend_from_slice(codec);
    args.push(out.to_str().unwrap());
    let output = Command::new("ffmpeg")
        .args(&args)
        .output()
        .unwrap_or_else(|error| panic!("the streaming tests need ffmpeg (Debian package ffmpeg): {error}"));
    assert!(output.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    out
}

fn noise_flac(dir: &Path, name: &str, seconds: u32, seed: u32) -> PathBuf {
    encode(dir, name, &format!("anoisesrc=d={seconds}:c=pink:r=44100:a=0.3:s={seed}"), &["-c:a", "flac"])
}

struct Rig {
    storage: TestStorage,
    proxy: FaultProxy,
    music: TempDir,
    _uploader_state: TempDir,
}

impl Rig {
    /// An S3 locker holding `files` (uploaded straight to the server), and a proxy before it.
    async fn start(make_files: impl FnOnce(&Path) -> Vec<PathBuf>) -> (Rig, Vec<(PathBuf, String)>) {
        let storage = TestStorage::start(Backend::S3).await;
        let music = tempfile::tempdir().unwrap();
        let files = make_files(music.path());
        let (uploader, uploader_state) = storage.device("uploader").await;
        let report = uploader.upload(&files, None).await;
        assert_eq!(report.uploaded.len(), files.len(), "{report:?}");
        let tracks = files
            .iter()
            .map(|file| {
                let uploaded = report.uploaded.iter().find(|u| &u.path == file).unwrap();
                (file.clone(), uploaded.track_id.clone())
            })
            .collect();
        let proxy = FaultProxy::start(storage.port.unwrap()).await;
        (Rig { storage, proxy, music, _uploader_state: uploader_state }, tracks)
    }

    /// A second device that reaches the locker only through the proxy.
    async fn player(&self) -> (Locker, TempDir) {
        let url = self
            .storage
            .url
            .replace(&format!(":{}", self.storage.port.unwrap()), &format!(":{}", self.proxy.port));
        let state = tempfile::tempdir().unwrap();
        let locker =
            Locker::open_with(&url, self.storage.credentials.clone(), "player", state.path(), test_options())
                .await
                .unwrap();
        (locker, state)
    }
}

fn opener(locker: &Locker, cache: &OfflineCache, file: &Path, sha256: &str) -> LockerOpener {
    let extension = file.extension().and_then(|e| e.to_str());
    let name = file.file_name().unwrap().to_str().unwrap();
    LockerOpener::new(
        locker.clone(),
        cache.clone(),
        tokio::runtime::Handle::current(),
        sha256,
        name,
        extension,
    )
    .with_options(stream_options())
}

/// Renders one queue item to WAV bytes, on a blocking thread as the decoder would.
async fn render(item: QueueItem, out: PathBuf) -> Vec<u8> {
    tokio::task::spawn_blocking(move || {
        let report = render_to_wav(&[item], &out, &RenderOptions::default()).unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert!(report.frames > 0);
        std::fs::read(&out).unwrap()
    })
    .await
    .unwrap()
}

async fn render_file(file: &Path, out: PathBuf) -> Vec<u8> {
    render(QueueItem::file(file), out).await
}

async fn render_stream(opener: LockerOpener, out: PathBuf) -> Vec<u8> {
    render(QueueItem { track_id: 1, opener: Arc::new(opener) }, out).await
}

/// Waits (up to 20 s) until a blob that was just streamed is complete in the cache and the cap
/// holds again: the decoder can reach the last byte a moment before the fetch thread has checked
/// the whole file against its hash and let go of the entry, which is when the cap is applied.
async fn settle(cache: &OfflineCache, sha256: &str, limit: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !(matches!(cache.state(sha256), CacheState::Complete { .. }) && cache.summary().used_bytes <= limit)
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_tracks_render_bit_identical_through_a_faulty_link() {
    let (rig, tracks) = Rig::start(|dir| {
        vec![
            noise_flac(dir, "noise.flac", 3, 1),
            encode(dir, "tone.mp3", "sine=frequency=440:duration=3", &["-c:a", "libmp3lame", "-b:a", "320k"]),
            // ffmpeg writes MP4's moov atom at the end: the tail must be fetched early.
            encode(dir, "tone.m4a", "sine=frequency=660:duration=3", &["-c:a", "aac", "-b:a", "192k"]),
        ]
    })
    .await;
    rig.proxy.set_delay(Duration::from_millis(5));
    rig.proxy.set_bandwidth_bits(16_000_000);
    // Every connection is cut after 40 kB of response, so most fetches meet a reset.
    rig.proxy.reset_connections(1, 40_000);
    let (locker, _state) = rig.player().await;
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = OfflineCache::open(cache_dir.path(), 1 << 30).unwrap();
    let out = tempfile::tempdir().unwrap();

    for (index, (file, sha256)) in tracks.iter().enumerate() {
        let local = render_file(file, out.path().join(format!("local-{index}.wav"))).await;
        let streamed = render_stream(
            opener(&locker, &cache, file, sha256),
            out.path().join(format!("stream-{index}.wav")),
        )
        .await;
        assert!(local == streamed, "{} rendered differently when streamed", file.display());
        let size = std::fs::metadata(file).unwrap().len();
        settle(&cache, sha256, u64::MAX).await;
        assert_eq!(cache.state(sha256), CacheState::Complete { size }, "{}", file.display());
        assert_eq!(
            std::fs::read(cache.complete_file(sha256).unwrap()).unwrap(),
            std::fs::read(file).unwrap()
        );
    }
    assert!(rig.proxy.resets.load(std::sync::atomic::Ordering::SeqCst) > 0, "the link did reset connections");
    drop(rig.music);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_cached_and_pinned_tracks_play_others_fail_plainly_and_downloads_resume() {
    let (rig, tracks) = Rig::start(|dir| {
        (0..3).map(|seed| noise_flac(dir, &format!("t{seed}.flac"), 1, 10 + seed)).collect()
    })
    .await;
    let (locker, _state) = rig.player().await;
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = OfflineCache::open(cache_dir.path(), 1 << 30).unwrap();
    let out = tempfile::tempdir().unwrap();
    let [(pinned_file, pinned), (played_file, played), (other_file, other)] = &tracks[..] else {
        unreachable!()
    };

    let pin = opener(&locker, &cache, pinned_file, pinned);
    tokio::task::spawn_blocking(move || pin.pin(None, Some(3))).await.unwrap().unwrap();
    let size = std::fs::metadata(pinned_file).unwrap().len();
    assert_eq!(cache.state(pinned), CacheState::Pinned { bytes: size, size, complete: true });
    render_stream(opener(&locker, &cache, played_file, played), out.path().join("first.wav")).await;
    settle(&cache, played, u64::MAX).await;
    assert!(matches!(cache.state(played), CacheState::Complete { .. }));

    rig.proxy.set_offline(true);
    for (file, sha256) in [(pinned_file, pinned), (played_file, played)] {
        let local = render_file(file, out.path().join("local.wav")).await;
        let offline =
            render_stream(opener(&locker, &cache, file, sha256), out.path().join("offline.wav")).await;
        assert!(local == offline, "{} plays offline from the cache", file.display());
    }
    let never_played = opener(&locker, &cache, other_file, other);
    let failed = tokio::task::spawn_blocking(move || loft_audio::MediaOpener::open(&never_played).err())
        .await
        .unwrap()
        .expect("a track neither cached nor reachable cannot open");
    // The engine gets the locker's own error, kind and all, under the I/O error it expects.
    let cause = failed.get_ref().and_then(|inner| inner.downcast_ref::<loft_locker::LockerError>());
    assert_eq!(cause.map(loft_locker::LockerError::kind), Some(loft_locker::ErrorKind::Network), "{failed}");
    assert!(!cache.locker_reachable());
    assert_eq!(cache.state(other), CacheState::None);

    // A download asked for while offline waits, then finishes once the network is back.
    let pending = opener(&locker, &cache, other_file, other);
    let download = tokio::task::spawn_blocking(move || pending.pin(None, None));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!download.is_finished());
    rig.proxy.set_offline(false);
    tokio::time::timeout(Duration::from_secs(20), download).await.unwrap().unwrap().unwrap();
    assert!(matches!(cache.state(other), CacheState::Pinned { complete: true, .. }));
    assert!(cache.locker_reachable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_holds_and_pinned_entries_are_never_evicted() {
    let (rig, tracks) = Rig::start(|dir| {
        (0..4).map(|seed| noise_flac(dir, &format!("c{seed}.flac"), 1, 20 + seed)).collect()
    })
    .await;
    let (locker, _state) = rig.player().await;
    let sizes: Vec<u64> = tracks.iter().map(|(file, _)| std::fs::metadata(file).unwrap().len()).collect();
    let largest = *sizes.iter().max().unwrap();
    // Room for two tracks, not three.
    let limit = 2 * largest + largest / 2;
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = OfflineCache::open(cache_dir.path(), limit).unwrap();
    let out = tempfile::tempdir().unwrap();

    let pin = opener(&locker, &cache, &tracks[0].0, &tracks[0].1);
    tokio::task::spawn_blocking(move || pin.pin(None, Some(3))).await.unwrap().unwrap();
    for (index, (file, sha256)) in tracks.iter().enumerate().skip(1) {
        render_stream(opener(&locker, &cache, file, sha256), out.path().join(format!("{index}.wav"))).await;
        settle(&cache, sha256, limit).await;
        assert!(cache.summary().used_bytes <= limit, "{:?} over the cap", cache.summary());
        assert!(matches!(cache.state(&tracks[0].1), CacheState::Pinned { complete: true, .. }));
        assert!(matches!(cache.state(sha256), CacheState::Complete { .. }), "just played stays");
    }
    // Least recently played went first.
    assert_eq!(cache.state(&tracks[1].1), CacheState::None);
    assert_eq!(cache.state(&tracks[2].1), CacheState::None);

    cache.set_limit(0);
    assert_eq!(cache.state(&tracks[3].1), CacheState::None);
    assert_eq!(cache.summary().used_bytes, sizes[0], "only the pinned track is left");
    assert_eq!(cache.clear(), 0, "clearing never drops a pinned track");
    cache.unpin(&tracks[0].1).unwrap();
    assert_eq!(cache.state(&tracks[0].1), CacheState::None, "unpinned, it falls under the cap of 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_entry_survives_a_restart_and_is_completed_not_restarted() {
    let (rig, tracks) = Rig::start(|dir| vec![noise_flac(dir, "long.flac", 5, 42)]).await;
    let (file, sha256) = tracks[0].clone();
    let size = std::fs::metadata(&file).unwrap().len();
    rig.proxy.set_bandwidth_bits(4_000_000);
    let (locker, _state) = rig.player().await;
    let cache_dir = tempfile::tempdir().unwrap();

    {
        let cache = OfflineCache::open(cache_dir.path(), 1 << 30).unwrap();
        let stream = opener(&locker, &cache, &file, &sha256);
        tokio::task::spawn_blocking(move || {
            let mut stream = stream.open_stream().unwrap();
            let mut head = vec![0u8; 100_000];
            stream.read_exact(&mut head).unwrap();
            assert_eq!(head[..], std::fs::read(&file).unwrap()[..100_000]);
        })
        .await
        .unwrap();
        // The fetch thread stops after the chunk it has in flight.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    let cache = OfflineCache::open(cache_dir.path(), 1 << 30).unwrap();
    let CacheState::Partial { bytes: kept, size: known_size } = cache.state(&sha256) else {
        panic!("expected a partial entry after the restart, got {:?}", cache.state(&sha256));
    };
    assert_eq!(known_size, size);
    assert!(kept >= 100_000 && kept < size, "kept {kept} of {size}");
    let served_before = rig.proxy.served();
    let download = opener(&locker, &cache, &tracks[0].0, &sha256);
    tokio::task::spawn_blocking(move || download.download(None, Some(5))).await.unwrap().unwrap();
    let fetched_again = rig.proxy.served() - served_before;
    println!("{size} bytes, {kept} kept across the restart, {fetched_again} fetched after it");
    // The rest plus response headers; never the part kept.
    assert!(fetched_again < size - kept + 16 * 1024, "fetched {fetched_again}: it started over");
    assert_eq!(cache.state(&sha256), CacheState::Complete { size });
    assert_eq!(
        std::fs::read(cache.complete_file(&sha256).unwrap()).unwrap(),
        std::fs::read(&tracks[0].0).unwrap()
    );
}

/// A fetch that can't go on (here its cache file vanished under it) ends the stream with an
/// error; before, the fetch thread quit silently and the reader waited for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_that_breaks_off_fails_the_read_instead_of_hanging_it() {
    let (rig, tracks) = Rig::start(|dir| vec![noise_flac(dir, "gone.flac", 5, 7)]).await;
    let (file, sha256) = tracks[0].clone();
    rig.proxy.set_bandwidth_bits(2_000_000);
    let (locker, _state) = rig.player().await;
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = OfflineCache::open(cache_dir.path(), 1 << 30).unwrap();
    let stream = opener(&locker, &cache, &file, &sha256);
    let cache_file = cache_dir.path().join(format!("{sha256}.audio"));
    // A thread of its own, not the runtime's blocking pool: a reader that hangs must fail the
    // test, not keep the runtime from shutting down.
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut stream = stream.open_stream().unwrap();
        let mut head = vec![0u8; 50_000];
        stream.read_exact(&mut head).unwrap();
        std::fs::remove_file(&cache_file).unwrap();
        let mut rest = Vec::new();
        let _ = done.send(stream.read_to_end(&mut rest));
    });
    let result = tokio::task::spawn_blocking(move || outcome.recv_timeout(Duration::from_secs(30)))
        .await
        .unwrap()
        .expect("the read hung after its fetch broke off");
    let error = result.expect_err("the rest of the file can't have been read");
    assert!(error.to_string().contains("cache file"), "{error}");
}
