//! The playback engine. [`Engine`] is its API: each call becomes a [`Command`] on a channel
//! to the decoder thread ([`decoder`]), which owns the queue and the output ([`device`]) and
//! keeps a lock-free ring full; the cpal callback plays from the ring; the reporter thread
//! ([`report`]) turns the callback's frame count into position, track and state events. The
//! reporter is the only thread that sends events, so they arrive in the order things
//! happened. Both threads sleep on their channels while nothing plays.

mod decoder;
mod device;
mod report;

use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::AudioError;
use crate::dsp::{GainSettings, perceptual_volume};
use crate::output::{CpalOutputs, Outputs, Shared, StreamErrors};
use crate::queue::RepeatMode;
use crate::source::QueueItem;
use decoder::DecoderThread;
use report::View;

/// A source slower than this to fill the prefill (a network stream) plays what it has, and
/// the device's wait for more shows as buffering.
const PREFILL_TIMEOUT: Duration = Duration::from_millis(300);

/// What the engine is doing; serialized in snake_case as the front ends name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum PlaybackState {
    Playing,
    Paused,
    Buffering,
    Stopped,
}

impl PlaybackState {
    pub fn as_str(self) -> &'static str {
        match self {
            PlaybackState::Playing => "playing",
            PlaybackState::Paused => "paused",
            PlaybackState::Buffering => "buffering",
            PlaybackState::Stopped => "stopped",
        }
    }
}

/// What the engine reports while it runs. Events come from one thread, in order: a track's
/// `TrackChanged` before any `Position` in it.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// About four times a second while playing.
    Position {
        index: usize,
        track_id: i64,
        position_secs: f64,
        duration_secs: Option<f64>,
    },
    /// A track's first frame reached the device.
    TrackChanged {
        index: usize,
        track_id: i64,
        name: String,
        duration_secs: Option<f64>,
    },
    StateChanged {
        state: PlaybackState,
    },
    /// A track could not be played (or failed part way: a corrupt file, a stream that broke,
    /// a decoder that panicked); playback has moved on.
    Error {
        index: Option<usize>,
        name: String,
        kind: crate::AudioErrorKind,
        reason: String,
    },
    /// The last frame of the queue has played.
    QueueEnded,
    /// The queue's entries, order, shuffle or repeat mode changed.
    QueueChanged {
        track_ids: Vec<i64>,
        shuffle: bool,
        repeat: RepeatMode,
    },
}

/// How the engine starts.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Output device by name (see [`crate::list_devices`]); `None` follows the default.
    pub device: Option<String>,
    /// Volume slider position, 0 to 1.
    pub volume: f32,
    pub gain: GainSettings,
}

/// A snapshot for front ends.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerStatus {
    pub state: PlaybackState,
    pub index: Option<usize>,
    pub track_id: Option<i64>,
    pub position_secs: f64,
    pub duration_secs: Option<f64>,
    pub queue: Vec<String>,
    /// The front end's id of each queue entry, in queue order (see [`QueueItem::track_id`]).
    pub queue_track_ids: Vec<i64>,
    pub shuffle: bool,
    pub repeat: RepeatMode,
    pub device: Option<String>,
    pub output_rate: Option<u32>,
    pub underruns: u64,
}

enum Command {
    PlayNow(Vec<QueueItem>, usize),
    /// Like `PlayNow`, but paused at a position: a queue restored at start-up.
    Cue(Vec<QueueItem>, usize, f64),
    PlayNext(Vec<QueueItem>),
    Append(Vec<QueueItem>),
    Remove(usize),
    Move(usize, usize),
    Clear,
    Shuffle(bool),
    Repeat(RepeatMode),
    Next,
    Previous,
    Seek(f64),
    Pause,
    Resume,
    Stop,
    Volume(f32),
    Gain(GainSettings),
    Device(Option<String>),
    /// The output stream reported its device gone (see [`StreamErrors`]).
    DeviceLost,
    Shutdown,
}

type EventFn = Arc<dyn Fn(EngineEvent) + Send + Sync>;

/// The running engine. Dropping it stops playback and joins its threads.
pub struct Engine {
    commands: Sender<Command>,
    shared: Arc<Shared>,
    view: Arc<Mutex<View>>,
    decoder: Option<JoinHandle<()>>,
    reporter: Option<JoinHandle<()>>,
}

impl Engine {
    /// Starts the engine's threads. The device is opened on the first play, at the first
    /// track's rate when the device supports it.
    pub fn start(
        config: EngineConfig,
        events: impl Fn(EngineEvent) + Send + Sync + 'static,
    ) -> Result<Engine, AudioError> {
        Self::start_on(config, Arc::new(events), Box::new(CpalOutputs))
    }

    /// Starts the engine playing through `outputs`.
    fn start_on(
        config: EngineConfig,
        events: EventFn,
        outputs: Box<dyn Outputs>,
    ) -> Result<Engine, AudioError> {
        let shared = Arc::new(Shared::new());
        shared.set_volume(perceptual_volume(config.volume));
        let (commands, receiver) = std::sync::mpsc::channel();
        let (view, reports, reporter) = report::reporting(Arc::clone(&shared), events);
        // The reporter ends once the decoder thread, which holds `reports`, has ended.
        let reporter = std::thread::Builder::new()
            .name("loft-audio-reporter".into())
            .spawn(move || reporter.run())
            .map_err(|e| AudioError::Device(format!("cannot start the reporter thread: {e}")))?;
        let device_lost = commands.clone();
        let stream_errors = StreamErrors::new(
            Arc::clone(&shared),
            Arc::new(move || {
                let _ = device_lost.send(Command::DeviceLost);
            }),
        );
        let decoder =
            DecoderThread::new(receiver, &config, Arc::clone(&shared), reports, outputs, stream_errors);
        let decoder = std::thread::Builder::new()
            .name("loft-audio-decoder".into())
            .spawn(move || decoder.run())
            .map_err(|e| AudioError::Device(format!("cannot start the decoder thread: {e}")))?;
        Ok(Engine { commands, shared, view, decoder: Some(decoder), reporter: Some(reporter) })
    }

    fn send(&self, command: Command) -> Result<(), AudioError> {
        self.commands.send(command).map_err(|_| AudioError::EngineStopped)
    }

    /// Replaces the queue with `items` and plays `items[start]`.
    pub fn play_now(&self, items: Vec<QueueItem>, start: usize) -> Result<(), AudioError> {
        if start >= items.len() {
            return Err(AudioError::InvalidInput(format!("no item {start} in a queue of {}", items.len())));
        }
        self.shared.first_sample_pending.store(true, Ordering::Release);
        self.send(Command::PlayNow(items, start))
    }

    /// Replaces the queue with `items` and loads `items[start]` at `position_secs`, paused: a
    /// later resume plays it from there.
    pub fn cue(&self, items: Vec<QueueItem>, start: usize, position_secs: f64) -> Result<(), AudioError> {
        if start >= items.len() {
            return Err(AudioError::InvalidInput(format!("no item {start} in a queue of {}", items.len())));
        }
        let position = if position_secs.is_finite() { position_secs.max(0.0) } else { 0.0 };
        self.send(Command::Cue(items, start, position))
    }

    pub fn play_next(&self, items: Vec<QueueItem>) -> Result<(), AudioError> {
        self.send(Command::PlayNext(items))
    }

    pub fn append(&self, items: Vec<QueueItem>) -> Result<(), AudioError> {
        self.send(Command::Append(items))
    }

    pub fn remove(&self, index: usize) -> Result<(), AudioError> {
        self.send(Command::Remove(index))
    }

    pub fn move_item(&self, from: usize, to: usize) -> Result<(), AudioError> {
        self.send(Command::Move(from, to))
    }

    pub fn clear(&self) -> Result<(), AudioError> {
        self.send(Command::Clear)
    }

    pub fn set_shuffle(&self, shuffle: bool) -> Result<(), AudioError> {
        self.send(Command::Shuffle(shuffle))
    }

    pub fn set_repeat(&self, repeat: RepeatMode) -> Result<(), AudioError> {
        self.send(Command::Repeat(repeat))
    }

    pub fn next(&self) -> Result<(), AudioError> {
        self.send(Command::Next)
    }

    /// Restarts the track when more than 3 s in, otherwise goes to the previous one.
    pub fn previous(&self) -> Result<(), AudioError> {
        self.send(Command::Previous)
    }

    pub fn seek(&self, position_secs: f64) -> Result<(), AudioError> {
        if !position_secs.is_finite() || position_secs < 0.0 {
            return Err(AudioError::InvalidInput(format!("cannot seek to {position_secs} s")));
        }
        self.send(Command::Seek(position_secs))
    }

    pub fn pause(&self) -> Result<(), AudioError> {
        self.send(Command::Pause)
    }

    pub fn resume(&self) -> Result<(), AudioError> {
        self.send(Command::Resume)
    }

    pub fn stop(&self) -> Result<(), AudioError> {
        self.send(Command::Stop)
    }

    /// Sets the volume slider (0 to 1); the engine applies it on a perceptual curve with a
    /// short ramp.
    pub fn set_volume(&self, slider: f32) -> Result<(), AudioError> {
        if !(0.0..=1.0).contains(&slider) {
            return Err(AudioError::InvalidInput(format!("volume must be between 0 and 1, not {slider}")));
        }
        self.send(Command::Volume(slider))
    }

    pub fn set_gain(&self, gain: GainSettings) -> Result<(), AudioError> {
        self.send(Command::Gain(gain))
    }

    /// Switches to the device named `device` (`None`: the system default) and goes on from
    /// the same position.
    pub fn set_device(&self, device: Option<String>) -> Result<(), AudioError> {
        self.send(Command::Device(device))
    }

    pub fn status(&self) -> PlayerStatus {
        let view = report::lock(&self.view);
        // Read under the lock, so the frame count and the marks it is compared with agree.
        let consumed = self.shared.consumed_frames.load(Ordering::Acquire);
        view.status(consumed, self.shared.underruns.load(Ordering::Relaxed))
    }

    /// From the last `play_now` to the first frame handed to the device, once it happened.
    pub fn first_sample_latency(&self, since: Instant) -> Option<Duration> {
        if self.shared.first_sample_pending.load(Ordering::Acquire) {
            return None;
        }
        let at =
            self.shared.epoch + Duration::from_nanos(self.shared.first_sample_nanos.load(Ordering::Acquire));
        at.checked_duration_since(since)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        let _ = self.commands.send(Command::Shutdown);
        for thread in [self.decoder.take(), self.reporter.take()].into_iter().flatten() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::sync::mpsc::Receiver;

    use super::*;
    use crate::output::Output;

    const RATE: u32 = 44_100;

    pub(super) fn tone_wav(dir: &tempfile::TempDir, seconds: u32) -> std::path::PathBuf {
        let path = dir.path().join("tone.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&path, spec).unwrap();
        for n in 0..RATE * seconds {
            let sample =
                ((f64::from(n) * 440.0 / f64::from(RATE) * std::f64::consts::TAU).sin() * 16_000.0) as i16;
            writer.write_sample(sample).unwrap();
            writer.write_sample(sample).unwrap();
        }
        writer.finalize().unwrap();
        path
    }

    /// A file whose first `fast` bytes come at once and the rest only after `delay`, like a
    /// network that stalls after the headers.
    struct SlowOpener {
        path: std::path::PathBuf,
        fast: u64,
        delay: Duration,
    }

    struct SlowStream {
        file: std::fs::File,
        fast: u64,
        delay: Duration,
        stalled: bool,
    }

    impl std::io::Read for SlowStream {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            use std::io::Seek;
            let position = self.file.stream_position()?;
            if position < self.fast {
                let limit = buf.len().min((self.fast - position) as usize);
                return self.file.read(&mut buf[..limit]);
            }
            // Probing reads the file's tail for tags; only the audio stalls.
            let in_tail = position + 4096 >= self.file.metadata()?.len();
            if !self.stalled && !in_tail {
                self.stalled = true;
                std::thread::sleep(self.delay);
            }
            self.file.read(buf)
        }
    }

    impl std::io::Seek for SlowStream {
        fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
            self.file.seek(to)
        }
    }

    impl crate::MediaStream for SlowStream {
        fn byte_len(&self) -> Option<u64> {
            self.file.metadata().ok().map(|m| m.len())
        }
    }

    impl crate::MediaOpener for SlowOpener {
        fn name(&self) -> String {
            self.path.display().to_string()
        }

        fn extension(&self) -> Option<String> {
            Some("wav".into())
        }

        fn open(&self) -> std::io::Result<Box<dyn crate::MediaStream>> {
            let file = std::fs::File::open(&self.path)?;
            Ok(Box::new(SlowStream { file, fast: self.fast, delay: self.delay, stalled: false }))
        }
    }

    #[test]
    fn a_source_slow_to_give_its_first_audio_shows_as_buffering_then_plays_it_all() {
        let dir = tempfile::tempdir().unwrap();
        let wav = tone_wav(&dir, 1);
        // The header and 23 ms of audio arrive at once, the rest 1.5 s later: the decoder
        // thread is blocked in a read all that time, so only the reporter can tell.
        let opener = SlowOpener { path: wav, fast: 44 + 4096, delay: Duration::from_millis(1500) };
        let item = QueueItem { track_id: 7, opener: Arc::new(opener) };
        let (sender, events) = std::sync::mpsc::channel();
        let config =
            EngineConfig { device: Some("alsa:null".into()), volume: 1.0, gain: GainSettings::default() };
        let engine = Engine::start(config, move |event| {
            let _ = sender.send(event);
        })
        .unwrap();
        engine.play_now(vec![item], 0).unwrap();
        let mut states = Vec::new();
        let deadline = Instant::now() + Duration::from_millis(1200);
        while !states.contains(&PlaybackState::Buffering) && Instant::now() < deadline {
            if let Ok(EngineEvent::StateChanged { state }) = events.recv_timeout(Duration::from_millis(50)) {
                states.push(state);
            }
        }
        assert_eq!(states, vec![PlaybackState::Playing, PlaybackState::Buffering]);
        // Once the audio comes, all of it plays.
        loop {
            let event = events.recv_timeout(Duration::from_secs(10)).expect("the queue never ended");
            if event == EngineEvent::QueueEnded {
                break;
            }
        }
        assert_eq!(engine.shared.consumed_frames.load(Ordering::Acquire), u64::from(RATE));
    }

    /// The system's devices, and a switch that unplugs them all: while it is on, no output
    /// opens. It keeps the error handler each stream was given, to report what cpal's error
    /// callback would when a device goes.
    #[derive(Default, Clone)]
    struct Unpluggable {
        unplugged: Arc<AtomicBool>,
        errors: Arc<Mutex<Option<StreamErrors>>>,
    }

    impl Unpluggable {
        fn lose_the_device(&self) {
            let errors = self.errors.lock().unwrap().clone().expect("an output was opened");
            errors.report(&cpal::Error::new(cpal::ErrorKind::DeviceNotAvailable));
        }
    }

    impl Outputs for Unpluggable {
        fn open(
            &self,
            device: Option<&str>,
            rate: u32,
            consumer: rtrb::Consumer<f32>,
            errors: StreamErrors,
        ) -> Result<Output, AudioError> {
            if self.unplugged.load(Ordering::Acquire) {
                return Err(AudioError::NoDevice);
            }
            *self.errors.lock().unwrap() = Some(errors.clone());
            CpalOutputs.open(device, rate, consumer, errors)
        }

        fn default_device_name(&self) -> Option<String> {
            CpalOutputs.default_device_name()
        }
    }

    /// An engine on ALSA's null device (a real cpal stream that drops what it is given),
    /// paused 12.5 s into a 20 s tone, with the events so far drained.
    fn paused_at_12_5_s_on_the_null_device(
        dir: &tempfile::TempDir,
        devices: &Unpluggable,
    ) -> (Engine, Receiver<EngineEvent>) {
        let wav = tone_wav(dir, 20);
        let (sender, events) = std::sync::mpsc::channel();
        let config =
            EngineConfig { device: Some("alsa:null".into()), volume: 1.0, gain: GainSettings::default() };
        let send: EventFn = Arc::new(move |event| {
            let _ = sender.send(event);
        });
        let engine = Engine::start_on(config, send, Box::new(devices.clone())).unwrap();
        // Paused, the device consumes nothing, so the position stays where the seek put it.
        engine.play_now(vec![QueueItem::file(&wav)], 0).unwrap();
        engine.pause().unwrap();
        engine.seek(12.5).unwrap();
        wait_until("paused at 12.5 s", || {
            let status = engine.status();
            status.state == PlaybackState::Paused && status.position_secs == 12.5
        });
        while events.try_recv().is_ok() {}
        (engine, events)
    }

    fn wait_until(what: &str, condition: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !condition() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Resumes and checks that exactly the rest of the 20 s track plays from 12.5 s: nothing
    /// skipped, nothing replayed, no track change.
    fn resume_plays_exactly_the_rest(engine: &Engine, events: &Receiver<EngineEvent>) {
        let resumed_at = engine.shared.consumed_frames.load(Ordering::Acquire);
        engine.resume().unwrap();
        let mut seen = Vec::new();
        loop {
            let event = events.recv_timeout(Duration::from_secs(20)).expect("the queue never ended");
            let done = event == EngineEvent::QueueEnded;
            seen.push(event);
            if done {
                break;
            }
        }
        let played = engine.shared.consumed_frames.load(Ordering::Acquire) - resumed_at;
        assert_eq!(played, u64::from(RATE) * 20 - u64::from(RATE) * 25 / 2, "{seen:?}");
        assert!(!seen.iter().any(|e| matches!(e, EngineEvent::TrackChanged { .. })), "{seen:?}");
    }

    #[test]
    fn a_lost_device_is_reopened_and_playback_goes_on_from_the_same_position() {
        let dir = tempfile::tempdir().unwrap();
        let devices = Unpluggable::default();
        let (engine, events) = paused_at_12_5_s_on_the_null_device(&dir, &devices);

        devices.lose_the_device();
        // Only opening an output clears the flag.
        wait_until("the device is reopened", || !engine.shared.device_failed.load(Ordering::Acquire));
        let status = engine.status();
        assert_eq!(
            (status.state, status.index, status.position_secs),
            (PlaybackState::Paused, Some(0), 12.5)
        );
        assert_eq!(status.device.as_deref(), Some("alsa:null"));
        resume_plays_exactly_the_rest(&engine, &events);
    }

    #[test]
    fn with_no_device_left_playback_waits_for_one_and_goes_on_from_the_same_position() {
        let dir = tempfile::tempdir().unwrap();
        let devices = Unpluggable::default();
        let (engine, events) = paused_at_12_5_s_on_the_null_device(&dir, &devices);

        // Every device unplugged: the lost one can't be reopened and none takes its place.
        devices.unplugged.store(true, Ordering::Release);
        devices.lose_the_device();
        let event = events.recv_timeout(Duration::from_secs(10)).expect("no event for the lost device");
        assert!(
            matches!(&event, EngineEvent::Error { kind: crate::AudioErrorKind::Device, index: None, .. }),
            "expected one device error, got {event:?}"
        );
        // Resumed and seeked meanwhile, it waits rather than ending the queue or skipping on.
        engine.resume().unwrap();
        engine.seek(12.5).unwrap();
        // Three of its tries to open a device (one a second) fail meanwhile.
        std::thread::sleep(Duration::from_secs(3));
        let waiting = engine.status();
        assert_eq!(
            (waiting.state, waiting.index, waiting.position_secs, waiting.device),
            (PlaybackState::Buffering, Some(0), 12.5, None)
        );
        let meanwhile: Vec<EngineEvent> = events.try_iter().collect();
        assert!(
            !meanwhile.iter().any(|e| matches!(e, EngineEvent::QueueEnded | EngineEvent::Error { .. })),
            "{meanwhile:?}"
        );
        engine.pause().unwrap();
        wait_until("paused while waiting", || engine.status().state == PlaybackState::Paused);

        // A device appears: playback goes on from where it was.
        devices.unplugged.store(false, Ordering::Release);
        wait_until("an output is open again", || engine.status().device.is_some());
        let back = engine.status();
        assert_eq!((back.state, back.index, back.position_secs), (PlaybackState::Paused, Some(0), 12.5));
        resume_plays_exactly_the_rest(&engine, &events);
    }
}
