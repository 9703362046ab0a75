//! Real audio files for the tests: signals written as WAV by the tests themselves, then
//! encoded by the real encoders (flac, lame, ffmpeg). A missing encoder fails the test with
//! a message saying what to install; nothing is skipped.

#![allow(dead_code)]

pub mod card;

use std::path::{Path, PathBuf};
use std::process::Command;

pub const RATE: u32 = 44_100;

/// Runs an encoder, failing the test with a clear message when it is missing or fails.
pub fn run_tool(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!("the audio tests need `{program}` (Debian packages ffmpeg, lame, flac): {e}")
    });
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A stereo sine tone, continuous in phase, `frames` long, as interleaved i16.
pub fn tone_i16(frames: usize, rate: u32, hz: f64, amplitude: f64) -> Vec<i16> {
    let mut samples = Vec::with_capacity(frames * 2);
    for n in 0..frames {
        let t = n as f64 / f64::from(rate);
        let left = (2.0 * std::f64::consts::PI * hz * t).sin() * amplitude;
        let right = (2.0 * std::f64::consts::PI * hz * 1.5 * t).sin() * amplitude;
        samples.push((left * 32767.0).round() as i16);
        samples.push((right * 32767.0).round() as i16);
    }
    samples
}

/// Deterministic full-band noise: the hardest case for a bit-exact comparison.
pub fn noise_i16(frames: usize, seed: u64) -> Vec<i16> {
    let mut state = seed | 1;
    (0..frames * 2)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 48) as u16 as i16
        })
        .collect()
}

pub fn write_wav_i16(path: &Path, samples: &[i16], rate: u32, channels: u16) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        writer.write_sample(s).unwrap();
    }
    writer.finalize().unwrap();
}

pub fn write_wav_i24(path: &Path, samples: &[i32], rate: u32) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        writer.write_sample(s).unwrap();
    }
    writer.finalize().unwrap();
}

/// Reads a float WAV written by the renderer: (rate, interleaved stereo samples).
pub fn read_render(path: &Path) -> (u32, Vec<f32>) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    assert_eq!(spec.channels, 2);
    assert_eq!(spec.sample_format, hound::SampleFormat::Float);
    let samples = reader.samples::<f32>().map(Result::unwrap).collect();
    (spec.sample_rate, samples)
}

pub fn flac(wav: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec!["--silent", "--force", "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(wav.to_str().unwrap());
    run_tool("flac", &args);
}

pub fn lame(wav: &Path, out: &Path) {
    run_tool("lame", &["--quiet", "-b", "192", wav.to_str().unwrap(), out.to_str().unwrap()]);
}

pub fn ffmpeg(wav: &Path, out: &Path, codec_args: &[&str]) {
    let mut args = vec!["-hide_banner", "-loglevel", "error", "-y", "-i", wav.to_str().unwrap()];
    args.extend_from_slice(codec_args);
    args.push(out.to_str().unwrap());
    run_tool("ffmpeg", &args);
}

pub fn file_item(path: &Path) -> loft_audio::QueueItem {
    loft_audio::QueueItem::file(path)
}

pub fn rms(samples: &[f32]) -> f64 {
    (samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / samples.len().max(1) as f64).sqrt()
}

/// The first frame whose left sample exceeds `threshold` in magnitude.
pub fn onset_frame(samples: &[f32], threshold: f32) -> Option<usize> {
    samples.chunks_exact(2).position(|f| f[0].abs() > threshold)
}

pub fn temp_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// Decodes `path` with ffmpeg to interleaved stereo i16, as an independent reference decoder.
pub fn ffmpeg_decode_i16(path: &Path) -> Vec<i16> {
    let output = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            path.to_str().unwrap(),
            "-ac",
            "2",
            "-f",
            "s16le",
            "-",
        ])
        .output()
        .unwrap_or_else(|e| panic!("the audio tests need `ffmpeg` (Debian package ffmpeg): {e}"));
    assert!(output.status.success(), "ffmpeg could not decode {}", path.display());
    output.stdout.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
}

/// An opener whose code panics, as a third-party source might.
pub struct PanicsOnOpen;

impl loft_audio::MediaOpener for PanicsOnOpen {
    fn name(&self) -> String {
        "panics-on-open.flac".into()
    }

    fn extension(&self) -> Option<String> {
        Some("flac".into())
    }

    fn open(&self) -> std::io::Result<Box<dyn loft_audio::MediaStream>> {
        panic!("the source's open panicked");
    }
}
