//! Faults in playback never kill the player: hostile files and streams that panic, in a
//! queue between good tracks, through a real cpal stream into a card that keeps what it
//! plays (see `common::card`).

mod common;

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use common::card::{PacedCard, in_card_child};
use common::*;
use loft_audio::{Engine, EngineConfig, EngineEvent, GainSettings, MediaOpener, MediaStream, QueueItem};

/// The good tracks' tones: each is told apart in the capture by its zero crossings.
const FIRST_HZ: f64 = 440.0;
const LAST_HZ: f64 = 660.0;
const GOOD_FRAMES: usize = RATE as usize / 2;

#[test]
fn hostile_files_and_panicking_streams_are_errors_and_the_tracks_after_them_play() {
    if in_card_child() {
        return play_a_queue_of_faults();
    }
    let card = PacedCard::new(4.0);
    card.run_child("hostile_files_and_panicking_streams_are_errors_and_the_tracks_after_them_play");
    let samples = card.samples();
    // Whole 0.1 s windows of each tone: 0.5 s of the first track, and the last track twice
    // (in the queue and played again after it ended).
    let first = windows_of(&samples, FIRST_HZ);
    let last = windows_of(&samples, LAST_HZ);
    assert!(first >= 4, "the first track reached the card in {first} windows");
    assert!(last >= 8, "the track after the faults reached the card in {last} windows");
}

/// How many 0.1 s windows of the left channel hold a tone of `hz` (by zero crossings).
fn windows_of(samples: &[f32], hz: f64) -> usize {
    let window = RATE as usize / 10;
    let expected = 2.0 * hz / 10.0;
    samples
        .chunks_exact(window * 2)
        .filter(|chunk| {
            let left: Vec<f32> = chunk.iter().step_by(2).copied().collect();
            let crossings = left.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count() as f64;
            rms(&left) > 0.1 && (crossings - expected).abs() <= 3.0
        })
        .count()
}

fn play_a_queue_of_faults() {
    let dir = tempfile::tempdir().unwrap();
    let first = temp_path(&dir, "first.wav");
    write_wav_i16(&first, &tone_i16(GOOD_FRAMES, RATE, FIRST_HZ, 0.5), RATE, 2);
    let last = temp_path(&dir, "last.wav");
    write_wav_i16(&last, &tone_i16(GOOD_FRAMES, RATE, LAST_HZ, 0.5), RATE, 2);
    // Two seconds of 880 Hz whose stream panics a third of the way in.
    let breaks = temp_path(&dir, "breaks.wav");
    write_wav_i16(&breaks, &tone_i16(RATE as usize * 2, RATE, 880.0, 0.5), RATE, 2);
    let queue = vec![
        file_item(&first),
        file_item(&garbage(&dir, "garbage.flac", b"fLaC")),
        file_item(&truncated(&dir, "flac", 550.0)),
        file_item(&garbage(&dir, "garbage.mp3", b"ID3")),
        // An MP3 reader ends a cut stream as if it ended there: it plays what it has.
        file_item(&truncated(&dir, "mp3", 770.0)),
        QueueItem { track_id: 5, opener: Arc::new(PanicsOnOpen) },
        QueueItem { track_id: 6, opener: Arc::new(PanicsMidRead { path: breaks, after: 120_000 }) },
        file_item(&last),
    ];
    let (engine, events) = engine();
    engine.play_now(queue, 0).unwrap();
    let seen = until_queue_ends(&events);

    for bad in [1, 2, 3, 5, 6] {
        assert!(
            seen.iter().any(|e| matches!(e, EngineEvent::Error { index: Some(i), .. } if *i == bad)),
            "no error for item {bad}: {seen:?}"
        );
    }
    let faults: Vec<usize> = seen
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Error { index: Some(index), kind: loft_audio::AudioErrorKind::Fault, .. } => {
                Some(*index)
            }
            _ => None,
        })
        .collect();
    assert!(faults.contains(&5) && faults.contains(&6), "the panics are faults of their tracks: {seen:?}");
    let changes: Vec<usize> = seen
        .iter()
        .filter_map(|e| match e {
            EngineEvent::TrackChanged { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(changes.first(), Some(&0), "{seen:?}");
    assert_eq!(changes.last(), Some(&7), "the track after the faults played: {seen:?}");

    // The engine survived: it takes commands and plays.
    engine.play_now(vec![file_item(&last)], 0).unwrap();
    let again = until_queue_ends(&events);
    assert!(again.iter().any(|e| matches!(e, EngineEvent::TrackChanged { index: 0, .. })), "{again:?}");
    assert!(!again.iter().any(|e| matches!(e, EngineEvent::Error { .. })), "{again:?}");
    assert_eq!(engine.status().queue.len(), 1);
    // The device has taken the last frame; the card has yet to play it.
    std::thread::sleep(Duration::from_millis(500));
}

fn engine() -> (Engine, Receiver<EngineEvent>) {
    let (sender, events) = std::sync::mpsc::channel();
    let config = EngineConfig { device: None, volume: 1.0, gain: GainSettings::default() };
    let engine = Engine::start(config, move |event| {
        let _ = sender.send(event);
    })
    .unwrap();
    (engine, events)
}

fn until_queue_ends(events: &Receiver<EngineEvent>) -> Vec<EngineEvent> {
    let mut seen = Vec::new();
    loop {
        let event = events.recv_timeout(Duration::from_secs(30)).expect("the queue never ended");
        let done = event == EngineEvent::QueueEnded;
        seen.push(event);
        if done {
            return seen;
        }
    }
}

/// A format's signature followed by noise.
fn garbage(dir: &tempfile::TempDir, name: &str, signature: &[u8]) -> PathBuf {
    let path = temp_path(dir, name);
    let mut bytes = signature.to_vec();
    bytes.extend(noise_i16(8192, 7).iter().flat_map(|s| s.to_le_bytes()));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The first third of a real three-second file of `hz`, whose header states its full length.
fn truncated(dir: &tempfile::TempDir, format: &str, hz: f64) -> PathBuf {
    let wav = temp_path(dir, &format!("whole-{format}.wav"));
    write_wav_i16(&wav, &tone_i16(RATE as usize * 3, RATE, hz, 0.5), RATE, 2);
    let whole = temp_path(dir, &format!("whole.{format}"));
    match format {
        "flac" => flac(&wav, &whole, &[]),
        _ => lame(&wav, &whole),
    }
    let path = temp_path(dir, &format!("truncated.{format}"));
    let bytes = std::fs::read(&whole).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    path
}

/// A real WAV whose stream panics once playback has read `after` bytes into it (reads of the
/// tail, which probing may make, pass).
struct PanicsMidRead {
    path: PathBuf,
    after: u64,
}

impl MediaOpener for PanicsMidRead {
    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn extension(&self) -> Option<String> {
        Some("wav".into())
    }

    fn open(&self) -> std::io::Result<Box<dyn MediaStream>> {
        let file = std::fs::File::open(&self.path)?;
        Ok(Box::new(PanickingStream { file, after: self.after }))
    }
}

struct PanickingStream {
    file: std::fs::File,
    after: u64,
}

impl Read for PanickingStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let position = self.file.stream_position()?;
        let in_tail = position + 8192 >= self.file.metadata()?.len();
        if position >= self.after && !in_tail {
            panic!("the stream's read panicked at byte {position}");
        }
        self.file.read(buf)
    }
}

impl Seek for PanickingStream {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.file.seek(to)
    }
}

impl MediaStream for PanickingStream {
    fn byte_len(&self) -> Option<u64> {
        self.file.metadata().ok().map(|m| m.len())
    }
}
