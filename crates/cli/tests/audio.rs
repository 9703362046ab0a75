//! `loft play`, `loft render` and `loft devices` as a user runs them. Playback goes through
//! cpal into ALSA, which an `.asoundrc` in a temporary HOME routes to a capture file (there is
//! no sound card on CI).

use std::path::Path;
use std::process::Command;

fn loft(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_loft"));
    command.env("HOME", home).arg("--data-dir").arg(home.join("profile"));
    command
}

fn make_tone(path: &Path, seconds: u32) {
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("sine=frequency=440:duration={seconds}:sample_rate=44100"))
        .args(["-ac", "2"])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("these tests need ffmpeg (Debian package ffmpeg): {e}"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// Routes ALSA's default device to a raw 16-bit stereo 44.1 kHz capture file.
fn capture_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let capture = home.path().join("capture.raw");
    let asoundrc = format!(
        "pcm.!default {{\n  type plug\n  slave {{ pcm \"capture\"; format S16_LE; rate 44100; channels 2 }}\n}}\n\
         pcm.capture {{\n  type file\n  slave.pcm \"null\"\n  file \"{}\"\n  format \"raw\"\n}}\n",
        capture.display()
    );
    std::fs::write(home.path().join(".asoundrc"), asoundrc).unwrap();
    home
}

#[test]
fn play_sends_every_frame_of_the_queue_to_the_device() {
    let home = capture_home();
    let first = home.path().join("one.flac");
    let second = home.path().join("two.mp3");
    make_tone(&first, 2);
    make_tone(&second, 1);
    let output = loft(home.path()).arg("play").arg(&first).arg(&second).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("playing") && stdout.contains("two.mp3"), "{stdout}");

    let bytes = std::fs::read(home.path().join("capture.raw")).expect("the capture file was written");
    let samples: Vec<i16> = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    let loudest = samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    assert!(loudest > 500, "the capture is silent (peak {loudest})");
    // The null device takes frames as fast as they come, so silence may pad the capture; the
    // sounding frames must add up to the three seconds of the queue.
    let sounding = samples.chunks_exact(2).filter(|f| f[0] != 0 || f[1] != 0).count();
    let expected = 3 * 44_100;
    assert!(
        sounding.abs_diff(expected) <= 441,
        "{sounding} sounding frames reached the device, expected {expected}"
    );
}

#[test]
fn play_reports_a_bad_file_and_goes_on() {
    let home = capture_home();
    let bad = home.path().join("bad.flac");
    std::fs::write(&bad, b"not audio at all").unwrap();
    let good = home.path().join("good.flac");
    make_tone(&good, 1);
    let output = loft(home.path()).arg("play").arg(&bad).arg(&good).output().unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.flac"), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("good.flac"));
}

#[test]
fn render_writes_the_chain_to_a_wav_file() {
    let home = tempfile::tempdir().unwrap();
    let input = home.path().join("tone.flac");
    make_tone(&input, 1);
    let out = home.path().join("out.wav");
    let output = loft(home.path())
        .args(["--json", "render"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .args(["--rate", "48000", "--replaygain", "off"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["rate"], 48_000);
    assert_eq!(summary["frames"], 48_000);
    let wav = std::fs::read(&out).unwrap();
    assert_eq!(&wav[..4], b"RIFF");
}

#[test]
fn bad_arguments_are_clear_errors() {
    let home = tempfile::tempdir().unwrap();
    let output = loft(home.path()).args(["play", "/no/such/song.flac"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("loft: ") && stderr.contains("song.flac"), "{stderr}");
}

#[test]
fn devices_lists_the_default_output() {
    let home = capture_home();
    let output = loft(home.path()).args(["--json", "devices"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let devices: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(devices.as_array().unwrap().iter().any(|d| d["default"] == true), "{devices}");
}
