//! The streaming benchmark: `cargo run --release -p loft-locker --example stream_bench`.
//!
//! A real S3 server (s3s + s3s-fs) on loopback behind the tests' fault proxy, shaped to a
//! 50 ms round trip and 20 Mbit/s (then 1 Mbit/s), with audio made by ffmpeg and uploaded
//! with the locker's default 8 MiB parts. Every measurement starts with an empty cache.
//! Prints lines for the Streaming section of docs/PERFORMANCE.md.
//!
//! `-- --encrypted` runs the same on an encrypted locker, then measures what decryption costs:
//! the CPU time to stream a whole FLAC from a folder locker, sealed against plaintext.

#[path = "../tests/support/fault_proxy.rs"]
mod fault_proxy;
#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fault_proxy::FaultProxy;
use loft_locker::{DEFAULT_PART_SIZE, Locker, LockerOpener, LockerSecret, OfflineCache, OpenOptions};
use support::{Backend, TestStorage, test_options};

/// What a decoder reads before it hands out its first frames (FLAC or MP3 header plus the
/// first frames, with room to spare).
const FIRST_READ: usize = 64 * 1024;
const RUNS: usize = 7;
const PASSPHRASE: &str = "benchmark passphrase, not secret";

/// CPU time (user + system) this process has used so far, from /proc/self/stat.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')').expect("stat format").1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // Linux reports these in USER_HZ, 100 per second on every architecture it runs on.
    Duration::from_millis(ticks * 10)
}

fn locker_options(encrypted: bool) -> OpenOptions {
    OpenOptions {
        new_locker_part_size: DEFAULT_PART_SIZE,
        new_locker_passphrase: encrypted.then(|| zeroize::Zeroizing::new(PASSPHRASE.to_owned())),
        secret: encrypted.then(|| LockerSecret::passphrase(PASSPHRASE)),
        ..test_options()
    }
}

/// CPU time to stream `path` whole from a folder locker with an empty cache, the mean of 20
/// runs (the process's clock ticks in 10 ms): everything but the network, so sealed minus
/// plain is what decryption costs.
async fn streaming_cpu(path: &Path, encrypted: bool) -> Duration {
    let storage = TestStorage::start(Backend::Folder).await;
    let state = tempfile::tempdir().expect("temp dir");
    let locker = storage.open("cpu", state.path(), locker_options(encrypted)).await;
    let report = locker.upload(&[path.to_owned()], None).await;
    let id = report.uploaded.first().expect("uploaded").track_id.clone();
    let mut total = Duration::ZERO;
    for _ in 0..20 {
        let cache_dir = tempfile::tempdir().expect("temp dir");
        let cache = OfflineCache::open(cache_dir.path(), 1 << 30).expect("cache");
        let track = opener(&locker, &cache, &id, "flac");
        let spent = tokio::task::spawn_blocking(move || {
            let before = cpu_time();
            let mut stream = track.open_stream().expect("open");
            let mut all = Vec::new();
            stream.read_to_end(&mut all).expect("read");
            cpu_time() - before
        })
        .await
        .expect("run");
        total += spent;
    }
    total / 20
}

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
    let encrypted = std::env::args().any(|arg| arg == "--encrypted");
    println!("{} locker", if encrypted { "encrypted" } else { "plaintext" });
    // What verifying bytes by their hash costs at most: SHA-256 over 256 MiB, against the
    // links below (20 Mbit/s is 2.5 MB/s).
    let block = vec![0x5au8; 256 << 20];
    let started = Instant::now();
    let digest =
        sha2::Digest::finalize(sha2::Digest::chain_update(<sha2::Sha256 as sha2::Digest>::new(), &block));
    let spent = started.elapsed();
    println!(
        "SHA-256: {:.0} MB/s on one core ({:.0} µs per 64 KiB read; digest starts {:02x})",
        block.len() as f64 / 1e6 / spent.as_secs_f64(),
        spent.as_secs_f64() * 1e6 * 65536.0 / block.len() as f64,
        digest[0]
    );
    drop(block);
    let storage = TestStorage::start(Backend::S3).await;
    let music = tempfile::tempdir().expect("temp dir");
    let flac = encode(music.path(), "noise.flac", &["-c:a", "flac"]);
    let mp3 = encode(music.path(), "noise.mp3", &["-c:a", "libmp3lame", "-b:a", "320k"]);
    let state = tempfile::tempdir().expect("temp dir");
    let options = locker_options(encrypted);
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

    if encrypted {
        let plain = streaming_cpu(&flac, false).await;
        let sealed = streaming_cpu(&flac, true).await;
        let per_hour = |spent: Duration| spent.as_secs_f64() * 60.0;
        println!(
            "CPU to stream a 60 s FLAC ({:.1} MB) from a folder locker, mean of 20: plaintext {:.0} ms, encrypted {:.0} ms; \
             decryption ≈ {:.1} s of CPU per hour of FLAC",
            flac_size as f64 / 1e6,
            plain.as_secs_f64() * 1000.0,
            sealed.as_secs_f64() * 1000.0,
            per_hour(sealed.saturating_sub(plain))
        );
    }
}
