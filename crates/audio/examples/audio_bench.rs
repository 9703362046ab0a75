//! The audio benchmark: `cargo run --release -p loft-audio --example audio_bench`.
//!
//! Prints a Markdown table for docs/PERFORMANCE.md: decode speed per format against ffmpeg
//! decoding the same file to null, the CPU the chain spends per second of 44.1 kHz FLAC, and
//! the time from a play command to the first frame handed to the device (ALSA routed to a
//! capture file, as in the tests), and underruns over ten minutes of playback at real-time
//! speed while both cores are kept busy (`LOFT_BENCH_UNDERRUN_SECONDS` shortens that run;
//! `-- --underruns-only` runs just that part, `-- --no-underruns` all but it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use std::io::{Read, Write};

use loft_audio::{
    Engine, EngineConfig, EngineEvent, GainSettings, QueueItem, RenderOptions, ReplayGainMode, render_to_wav,
};

/// 16-bit stereo at 44.1 kHz: what the paced capture device takes per second.
const CAPTURE_BYTES_PER_SECOND: u64 = 44_100 * 2 * 2;

const SECONDS: u32 = 120;

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program).args(args).status().unwrap_or_else(|e| {
        panic!("the benchmark needs {program} (Debian packages ffmpeg, lame, flac): {e}")
    });
    assert!(status.success(), "{program} {args:?} failed");
}

/// Process CPU time (user + system) so far, from /proc.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn make_sources(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let wav = dir.join("music.wav");
    // Two tones over pink-ish noise: something the encoders have to work at.
    run(
        "ffmpeg",
        &[
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            &format!("anoisesrc=color=pink:amplitude=0.2:duration={SECONDS}:sample_rate=44100"),
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=440:duration={SECONDS}:sample_rate=44100"),
            "-filter_complex",
            "[0][1]amix=inputs=2,aformat=channel_layouts=stereo",
            "-c:a",
            "pcm_s16le",
            wav.to_str().unwrap(),
        ],
    );
    let encode = |name: &'static str, args: &[&str]| {
        let out = dir.join(name);
        let mut all = vec!["-hide_banner", "-loglevel", "error", "-y", "-i", wav.to_str().unwrap()];
        all.extend_from_slice(args);
        all.push(out.to_str().unwrap());
        run("ffmpeg", &all);
        (name, out)
    };
    let mp3 = dir.join("music.mp3");
    run("lame", &["--quiet", "-b", "256", wav.to_str().unwrap(), mp3.to_str().unwrap()]);
    vec![
        ("music.wav", wav.clone()),
        encode("music.flac", &["-c:a", "flac"]),
        ("music.mp3", mp3),
        encode("music.m4a", &["-c:a", "aac", "-b:a", "256k"]),
        encode("music-alac.m4a", &["-c:a", "alac"]),
        encode("music.ogg", &["-c:a", "libvorbis", "-q:a", "6"]),
        encode("music.opus", &["-c:a", "libopus", "-b:a", "160k"]),
        encode("music.aiff", &["-c:a", "pcm_s16be"]),
    ]
}

fn best_of<F: FnMut() -> Duration>(runs: usize, mut f: F) -> Duration {
    (0..runs).map(|_| f()).min().unwrap_or_default()
}

fn latency_child() {
    let path = std::env::args().nth(2).expect("a file to play");
    let (sender, events) = std::sync::mpsc::channel();
    let config = EngineConfig { device: None, volume: 1.0, gain: GainSettings::default() };
    let engine = Engine::start(config, move |event| {
        let _ = sender.send(event);
    })
    .expect("engine");
    let mut samples = Vec::new();
    for _ in 0..10 {
        let since = Instant::now();
        engine.play_now(vec![QueueItem::file(&path)], 0).expect("play");
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Some(latency) = engine.first_sample_latency(since) {
                samples.push(latency);
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        engine.stop().expect("stop");
        std::thread::sleep(Duration::from_millis(50));
        while events.try_recv().is_ok() {}
    }
    samples.sort();
    let median = samples.get(samples.len() / 2).copied().unwrap_or_default();
    let worst = samples.last().copied().unwrap_or_default();
    println!("{:.1} {:.1}", median.as_secs_f64() * 1000.0, worst.as_secs_f64() * 1000.0);
}

/// Stands in for a sound card's clock: ALSA's file plugin pipes the engine's output here, and
/// it is taken no faster than real time. (ALSA's null device takes frames as fast as they
/// come, so without this an underrun count would mean nothing.)
fn pace_child() {
    let out = std::env::args().nth(2).expect("a capture file");
    let mut file = std::fs::File::create(out).expect("capture file");
    let mut input = std::io::stdin().lock();
    let start = Instant::now();
    let mut written = 0u64;
    let mut buffer = [0u8; 4096];
    loop {
        let read = match input.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        if file.write_all(&buffer[..read]).is_err() {
            break;
        }
        written += read as u64;
        let due = Duration::from_secs_f64(written as f64 / CAPTURE_BYTES_PER_SECOND as f64);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
    }
}

/// Plays `repeats` copies of a file back to back through the paced device and prints the
/// engine's underrun count and the wall time it took.
fn underrun_child() {
    let path = std::env::args().nth(2).expect("a file to play");
    let repeats: usize = std::env::args().nth(3).and_then(|r| r.parse().ok()).expect("a repeat count");
    let (sender, events) = std::sync::mpsc::channel();
    let config = EngineConfig { device: None, volume: 1.0, gain: GainSettings::default() };
    let engine = Engine::start(config, move |event| {
        let _ = sender.send(event);
    })
    .expect("engine");
    let start = Instant::now();
    engine.play_now((0..repeats).map(|_| QueueItem::file(&path)).collect(), 0).expect("play");
    let limit = Duration::from_secs(SECONDS as u64 * repeats as u64 * 2 + 60);
    // Polled often enough to place each underrun within a few milliseconds: where they fall
    // (start, joins, mid-track) says what starves the ring.
    let mut seen = 0;
    loop {
        match events.recv_timeout(Duration::from_millis(5)) {
            Ok(EngineEvent::QueueEnded) => break,
            Ok(EngineEvent::Error { reason, .. }) => panic!("playback failed: {reason}"),
            _ if start.elapsed() > limit => panic!("playback did not finish within {limit:?}"),
            _ => {}
        }
        let status = engine.status();
        if status.underruns > seen {
            eprintln!(
                "underrun: {} more at {:.3} s wall, track {:?} at {:.3} s",
                status.underruns - seen,
                start.elapsed().as_secs_f64(),
                status.index,
                status.position_secs
            );
            seen = status.underruns;
        }
    }
    let status = engine.status();
    if status.underruns > seen {
        eprintln!(
            "underrun: {} more at {:.3} s wall, at the end",
            status.underruns - seen,
            start.elapsed().as_secs_f64()
        );
    }
    println!("{} {:.1}", status.underruns, start.elapsed().as_secs_f64());
}

/// An `.asoundrc` making the default device 16-bit stereo 44.1 kHz into ALSA's file plugin,
/// written straight to `capture` or, when `pacer` is given, through that command.
fn alsa_capture_config(capture: &Path, pacer: Option<&Path>) -> String {
    let file = match pacer {
        Some(exe) => format!("|exec '{}' --pace '{}'", exe.display(), capture.display()),
        None => capture.display().to_string(),
    };
    format!(
        "pcm.!default {{\n  type plug\n  slave {{ pcm \"capture\"; format S16_LE; rate 44100; channels 2 }}\n}}\n\
         pcm.capture {{\n  type file\n  slave.pcm \"null\"\n  file \"{file}\"\n  format \"raw\"\n}}\n"
    )
}

/// Keeps both cores busy with other work for as long as it is alive.
struct BusyCores(Vec<std::process::Child>);

impl BusyCores {
    fn start() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        BusyCores(
            (0..cores)
                .map(|_| Command::new("sh").args(["-c", "while :; do :; done"]).spawn().expect("a busy loop"))
                .collect(),
        )
    }
}

impl Drop for BusyCores {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("--latency-child") => return latency_child(),
        Some("--pace") => return pace_child(),
        Some("--underrun-child") => return underrun_child(),
        _ => {}
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let sources = make_sources(dir.path());
    let flac = &sources[1].1;
    let part = std::env::args().nth(1);
    if part.as_deref() != Some("--underruns-only") {
        speed_and_latency(dir.path(), &sources);
    }
    if part.as_deref() != Some("--no-underruns") {
        underruns(dir.path(), flac);
    }
}

/// Decode speed against ffmpeg, CPU per second of FLAC, and play-to-first-frame latency.
fn speed_and_latency(dir: &Path, sources: &[(&'static str, PathBuf)]) {
    let options = RenderOptions {
        rate: None,
        gain: GainSettings { mode: ReplayGainMode::Off, preamp_db: 0.0 },
        start_secs: 0.0,
    };
    println!("| format | Loft chain (s) | ffmpeg to null (s) | Loft / ffmpeg time |");
    println!("| --- | --- | --- | --- |");
    let mut flac_cpu = None;
    for (name, path) in sources {
        let out = dir.join("out.wav");
        let mut cpu = Duration::ZERO;
        let ours = best_of(3, || {
            let cpu_before = cpu_time();
            let start = Instant::now();
            render_to_wav(&[QueueItem::file(path)], &out, &options).expect("render");
            let wall = start.elapsed();
            cpu = cpu_time() - cpu_before;
            wall
        });
        if *name == "music.flac" {
            flac_cpu = Some(cpu);
        }
        let theirs = best_of(3, || {
            let start = Instant::now();
            run(
                "ffmpeg",
                &[
                    "-hide_banner",
                    "-loglevel",
                    "error",
                    "-threads",
                    "1",
                    "-i",
                    path.to_str().unwrap(),
                    "-f",
                    "null",
                    "-",
                ],
            );
            start.elapsed()
        });
        println!(
            "| {name} | {:.3} | {:.3} | {:.2} |",
            ours.as_secs_f64(),
            theirs.as_secs_f64(),
            ours.as_secs_f64() / theirs.as_secs_f64()
        );
    }
    if let Some(cpu) = flac_cpu {
        println!(
            "\nCPU for 44.1 kHz FLAC through the chain (decode, gain, WAV write): {:.2} % of one core \
             ({:.3} s of CPU for {SECONDS} s of audio)",
            cpu.as_secs_f64() / f64::from(SECONDS) * 100.0,
            cpu.as_secs_f64()
        );
    }
    let home = dir.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let capture = dir.join("capture.raw");
    std::fs::write(home.join(".asoundrc"), alsa_capture_config(&capture, None)).expect(".asoundrc");
    let flac = &sources[1].1;
    let output = Command::new(std::env::current_exe().expect("exe"))
        .arg("--latency-child")
        .arg(flac)
        .env("HOME", &home)
        .output()
        .expect("latency run");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut parts = text.split_whitespace();
    println!(
        "Play command to first frame handed to the device (FLAC, ALSA file capture), 10 runs: median {} ms, worst {} ms",
        parts.next().unwrap_or("?"),
        parts.next().unwrap_or("?")
    );
}

/// Underruns over real-time playback through the paced device while every core is busy.
fn underruns(dir: &Path, flac: &Path) {
    let seconds: u64 =
        std::env::var("LOFT_BENCH_UNDERRUN_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(600);
    let repeats = seconds.div_ceil(u64::from(SECONDS)).max(1) as usize;
    let paced_home = dir.join("paced-home");
    std::fs::create_dir_all(&paced_home).expect("home");
    let exe = std::env::current_exe().expect("exe");
    std::fs::write(paced_home.join(".asoundrc"), alsa_capture_config(&dir.join("paced.raw"), Some(&exe)))
        .expect(".asoundrc");
    let busy = BusyCores::start();
    let output = Command::new(&exe)
        .arg("--underrun-child")
        .arg(flac)
        .arg(repeats.to_string())
        .env("HOME", &paced_home)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("underrun run");
    drop(busy);
    let text = String::from_utf8_lossy(&output.stdout);
    let mut parts = text.split_whitespace();
    println!(
        "Underruns playing {} s of FLAC at real-time speed with every core busy: {} (took {} s)",
        repeats as u64 * u64::from(SECONDS),
        parts.next().unwrap_or("?"),
        parts.next().unwrap_or("?")
    );
}
