//! A sound card for engine tests. ALSA's default device is routed, by an `.asoundrc` in a
//! temporary HOME, through ALSA's `file` plugin into a FIFO that this process drains at a
//! steady pace, like a card's clock, keeping every byte. ALSA reads its configuration from
//! HOME, which a test cannot change for its own process (that needs `unsafe`), so the engine
//! plays in a child process: this same test binary, running the same test, with HOME set.

use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Set in the child process that plays through a [`PacedCard`].
const CHILD_ENV: &str = "LOFT_AUDIO_TEST_CARD_CHILD";

/// What the card takes per second at real-time speed: 16-bit stereo at 44.1 kHz.
const BYTES_PER_SECOND: f64 = 44_100.0 * 2.0 * 2.0;

/// Whether this process is the child that plays through a [`PacedCard`].
pub fn in_card_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

pub struct PacedCard {
    home: tempfile::TempDir,
    captured: Arc<Mutex<Vec<u8>>>,
    /// Set while no writer has the FIFO open and everything written has been taken.
    drained: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl PacedCard {
    /// A card that takes frames at `speed` times real time.
    pub fn new(speed: f64) -> Self {
        let home = tempfile::tempdir().unwrap();
        let fifo = home.path().join("card.fifo");
        super::run_tool("mkfifo", &[fifo.to_str().unwrap()]);
        let asoundrc = format!(
            "pcm.!default {{\n  type plug\n  slave {{ pcm \"card\"; format S16_LE; rate 44100; channels 2 }}\n}}\n\
             pcm.card {{\n  type file\n  slave.pcm \"null\"\n  file \"{}\"\n  format \"raw\"\n}}\n",
            fifo.display()
        );
        std::fs::write(home.path().join(".asoundrc"), asoundrc).unwrap();
        let captured = Arc::new(Mutex::new(Vec::new()));
        let drained = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let card =
            Card { sink: Arc::clone(&captured), drained: Arc::clone(&drained), stop: Arc::clone(&stop) };
        // The thread ends once the card is dropped and the FIFO next reaches its end; one
        // left waiting for a writer that never comes ends with the test process.
        std::thread::spawn(move || card.drain(&fifo, speed));
        PacedCard { home, captured, drained, stop }
    }

    /// Runs `test` (the calling test, by name) again in a child process whose default ALSA
    /// device is this card; fails with the child's output if the child fails.
    pub fn run_child(&self, test: &str) {
        let output = Command::new(std::env::current_exe().unwrap())
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env("HOME", self.home.path())
            .env(CHILD_ENV, "1")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "the child playing through the card failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        // What the child wrote before it ended may still be in the FIFO.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.drained.load(Ordering::Acquire) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Everything the card took so far, as interleaved stereo samples scaled to ±1.
    pub fn samples(&self) -> Vec<f32> {
        let bytes = self.captured.lock().unwrap();
        bytes.chunks_exact(2).map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0).collect()
    }
}

impl Drop for PacedCard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// The reading end of the card.
struct Card {
    sink: Arc<Mutex<Vec<u8>>>,
    drained: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Card {
    /// Reads the FIFO no faster than `speed` times real time, each time a writer opens it.
    fn drain(&self, fifo: &Path, speed: f64) {
        let mut buffer = [0u8; 4096];
        while !self.stop.load(Ordering::Acquire) {
            self.drained.store(true, Ordering::Release);
            let Ok(mut file) = std::fs::File::open(fifo) else { return };
            self.drained.store(false, Ordering::Release);
            let start = Instant::now();
            let mut taken = 0u64;
            let mut stream = Vec::new();
            loop {
                let read = match file.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(read) => read,
                };
                stream.extend_from_slice(&buffer[..read]);
                taken += read as u64;
                let due = Duration::from_secs_f64(taken as f64 / (BYTES_PER_SECOND * speed));
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
            // Each opening starts on a frame; a partial frame at its end is dropped so the
            // next opening's frames stay aligned.
            stream.truncate(stream.len() / 4 * 4);
            self.sink.lock().unwrap().extend_from_slice(&stream);
        }
    }
}
