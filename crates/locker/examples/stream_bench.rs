//! The streaming benchmark: `cargo run --release -p loft-locker --example stream_bench`.
//!
//! A real S3 server (s3s + s3s-fs) on loopback behind the tests' fault proxy, shaped to a
//! 50 ms round trip and 20 Mbit/s (then 1 Mbit/s), with audio made by ffmpeg and uploaded
//! with the locker's default 8 MiB parts. Every measurement starts with an empty cache.
//! Prints lines for the Streaming section of docs/PERFORMANCE.md.

#[path = "../tests/support/fault_proxy.rs"]
mod fault_proxy;
#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fault_proxy::FaultProxy;
use loft_locker::{DEFAULT_PART_SIZE, Locker, LockerOpener, OfflineCache, OpenOptions};
use support::{Backend, TestStorage, test_options};

/// What a decoder reads before it hands out its first frames (FLAC or MP3 header plus the
/// first frames, with room to spare).
const FIRST_READ: usize = 64 * 1024;
const RUNS: usize = 7;

fn encode(dir: &Path, name: &str, codec: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec![
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        "anoisesrc=d=60:c=pink:r=44100:a=0.2",
        "-ac",
        "2",
    ];
    args.extend_from_slice(codec);
    args.push(out.to_str().expect("utf-8 temp path"));
    let status = Command::new("ffmpeg").args(&args).status().expect("the benchmark needs ffmpeg");
    assert!(status.success(), "ffmpeg failed");
    out
}

fn opener(locker: &Locker, cache: &OfflineCache, sha256: &str, extension: &str) -> LockerOpener {
    LockerOpener::new(
        locker.clone(),
        cache.clone(),
        tokio::runtime::Handle::current(),
        sha256,
        sha256,
        Some(extension),
    )
}

fn median(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(samples[samples.len() / 2]), ms(*samples.last().expect("runs")))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let storage = TestStorage::start(Backend::S3).await;
    let music = tempfile::tempdir().expect("temp dir");
    let flac = encode(music.path(), "noise.flac", &["-c:a", "flac"]);
    let mp3 = encode(music.path(), "noise.mp3", &["-c:a", "libmp3lame", "-b:a", "320k"]);
    let state = tempfile::tempdir().expect("temp dir");
    let options = OpenOptions { new_locker_part_size: DEFAULT_PART_SIZE, ..test_options() };
    let uploader = storage.open("uploader", state.path(), options.clone()).await;
    let report = uploader.upload(&[flac.clone(), mp3.clone()], None).await;
    assert_eq!(report.uploaded.len(), 2, "{report:?}");
    let id_of =
        |path: &Path| report.uploaded.iter().find(|u| u.path == path).expect("uploaded").track_id.clone();
    let (flac_id, mp3_id) = (id_of(&flac), id_of(&mp3));
    let flac_size = std::fs::metadata(&flac).expect("flac").len();

    let proxy = FaultProxy::start(storage.port.expect("s3 port")).await;
    proxy.set_delay(Duration::from_millis(25));
    proxy.set_bandwidth_bits(20_000_000);
    let url = storage.url.replace(&format!(":{}", storage.port.unwrap_or(0)), &format!(":{}", proxy.port));
    let player_state = tempfile::tempdir().expect("temp dir");
    let locker = Locker::open_with(&url, storage.credentials.clone(), "player", player_state.path(), options)
        .await
        .expect("open through the proxy");

    // Play to first audio: open (manifest round trip), then the first bytes a decoder reads.
    let mut first_audio = Vec::new();
    let mut seeks = Vec::new();
    for _ in 0..RUNS {
        let cache_dir = tempfile::tempdir().expect("temp dir");
        let cache = OfflineCache::open(cache_dir.path(), 1 << 30).expect("cache");
        let track = opener(&locker, &cache, &flac_id, "flac");
        let (first, seek) = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let mut stream = track.open_stream().expect("open");
            let mut buffer = vec![0u8; FIRST_READ];
            stream.read_exact(&mut buffer).expect("first read");
            let first = started.elapsed();
            // Seek to 80 % while the read-ahead runs near the start.
            let target = flac_size * 8 / 10;
            let started = Instant::now();
            stream.seek(SeekFrom::Start(target)).expect("seek");
            let mut frame = vec![0u8; 16 * 1024];
            stream.read_exact(&mut frame).expect("read after seek");
            (first, started.elapsed())
        })
        .await
        .expect("run");
        first_audio.push(first);
        seeks.push(seek);
    }
    let (first_median, first_worst) = median(first_audio);
    let (seek_median, seek_worst) = median(seeks);
    println!(
        "play to first audio (50 ms RTT, 20 Mbit/s, FLAC, open + first {} KiB), {RUNS} runs: median {first_median:.0} ms, worst {first_worst:.0} ms",
        FIRST_READ / 1024
    );
    println!(
        "seek to an unfetched position (80 % into a {:.1} MB FLAC, first 16 KiB there), {RUNS} runs: median {seek_median:.0} ms, worst {seek_worst:.0} ms",
        flac_size as f64 / 1e6
    );

    // A 320 kbit/s MP3 consumed in real time through a 1 Mbit/s link.
    proxy.set_bandwidth_bits(1_000_000);
    let cache_dir = tempfile::tempdir().expect("temp dir");
    let cache = OfflineCache::open(cache_dir.path(), 1 << 30).expect("cache");
    let track = opener(&locker, &cache, &mp3_id, "mp3");
    let mp3_size = std::fs::metadata(&mp3).expect("mp3").len();
    let (startup, stalls, worst_slip) = tokio::task::spawn_blocking(move || {
        let bytes_per_sec = 320_000.0 / 8.0;
        let started = Instant::now();
        let mut stream = track.open_stream().expect("open");
        let mut chunk = vec![0u8; 4 * 1024];
        stream.read_exact(&mut chunk).expect("first read");
        let startup = started.elapsed();
        // From here the playhead moves in real time; a read that is not ready by the time the
        // playhead needs it (with the engine's ring of about 0.25 s to cover it) is an underrun.
        let clock = Instant::now();
        let mut consumed = chunk.len() as u64;
        let (mut stalls, mut worst_slip) = (0, Duration::ZERO);
        while consumed < mp3_size {
            let due = Duration::from_secs_f64(consumed as f64 / bytes_per_sec);
            if let Some(wait) = due.checked_sub(clock.elapsed()) {
                std::thread::sleep(wait);
            }
            let want = chunk.len().min((mp3_size - consumed) as usize);
            stream.read_exact(&mut chunk[..want]).expect("read");
            let slip = clock.elapsed().saturating_sub(due);
            worst_slip = worst_slip.max(slip);
            if slip > Duration::from_millis(250) {
                stalls += 1;
            }
            consumed += want as u64;
        }
        (startup, stalls, worst_slip)
    })
    .await
    .expect("run");
    println!(
        "320 kbit/s MP3 ({:.1} MB, 60 s) through 1 Mbit/s, 50 ms RTT, read in real time: started after {:.0} ms, {stalls} underruns, worst lateness {:.0} ms",
        mp3_size as f64 / 1e6,
        startup.as_secs_f64() * 1000.0,
        worst_slip.as_secs_f64() * 1000.0
    );
}
