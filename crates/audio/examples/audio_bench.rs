//! The audio benchmark: `cargo run --release -p loft-audio --example audio_bench`.
//!
//! Prints a Markdown table for docs/PERFORMANCE.md: decode speed per format against ffmpeg
//! decoding the same file to null, the CPU the chain spends per second of 44.1 kHz FLAC, and
//! the time from a play command to the first frame handed to the device (ALSA routed to a
//! capture file, as in the tests).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use loft_audio::{
    Engine, EngineConfig, GainSettings, QueueItem, RenderOptions, ReplayGainMode, render_to_wav,
};

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

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--latency-child") {
        latency_child();
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let sources = make_sources(dir.path());
    let options = RenderOptions {
        rate: None,
        gain: GainSettings { mode: ReplayGainMode::Off, preamp_db: 0.0 },
        start_secs: 0.0,
    };
    println!("| format | Loft chain (s) | ffmpeg to null (s) | Loft / ffmpeg time |");
    println!("| --- | --- | --- | --- |");
    let mut flac_cpu = None;
    for (name, path) in &sources {
        let out = dir.path().join("out.wav");
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
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let capture = dir.path().join("capture.raw");
    std::fs::write(
        home.join(".asoundrc"),
        format!(
            "pcm.!default {{\n  type plug\n  slave {{ pcm \"capture\"; format S16_LE; rate 44100; channels 2 }}\n}}\n\
             pcm.capture {{\n  type file\n  slave.pcm \"null\"\n  file \"{}\"\n  format \"raw\"\n}}\n",
            capture.display()
        ),
    )
    .expect(".asoundrc");
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
