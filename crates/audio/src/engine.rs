//! The playback engine: a command channel drives a decoder thread that runs the chain into
//! a lock-free ring; the cpal callback plays from the ring; a reporter thread turns the
//! callback's frame count into position, track and state events.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::AudioError;
use crate::chain::{Chain, Fill, OUTPUT_CHANNELS};
use crate::dsp::{GainSettings, perceptual_volume};
use crate::output::{Output, Shared, open_output};
use crate::queue::{Queue, RepeatMode};
use crate::source::QueueItem;

/// How much decoded audio waits in the ring. A device may take far more than one period at
/// once (a sink behind a pipe took 0.37 s in one burst, which a 0.25 s ring turned into
/// silence), and the ring must also ride out a busy machine. Its size costs no latency:
/// seeks and skips flush it, volume and pause act in the callback, and a queue edit that
/// changes the next track re-decodes from the playing position.
const RING_SECONDS: f64 = 1.0;
/// How much the ring holds before a (re)started stream counts as playing: the device then
/// starts on audio, not on silence.
const PREFILL_SECONDS: f64 = 0.1;
/// A source slower than this to fill the prefill (a network stream) plays what it has, and
/// the device's wait for more shows as buffering.
const PREFILL_TIMEOUT: Duration = Duration::from_millis(300);
const POSITION_EVERY: Duration = Duration::from_millis(250);
const REPORT_TICK: Duration = Duration::from_millis(50);
/// "Previous" restarts the track once it has played longer than this.
const RESTART_THRESHOLD_SECS: f64 = 3.0;
const DEFAULT_DEVICE_POLL: Duration = Duration::from_secs(2);
/// How often a player left without any output device tries to open one again.
const DEVICE_RETRY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// What the engine reports while it runs.
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
    /// A track could not be played; playback has moved on.
    Error {
        index: Option<usize>,
        name: String,
        kind: &'static str,
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
    Shutdown,
}

type EventFn = Arc<dyn Fn(EngineEvent) + Send + Sync>;

/// The running engine. Dropping it stops playback and joins its threads.
pub struct Engine {
    commands: Sender<Command>,
    shared: Arc<Shared>,
    view: Arc<Mutex<View>>,
    threads: Vec<JoinHandle<()>>,
}

impl Engine {
    /// Starts the engine's threads. The device is opened on the first play, at the first
    /// track's rate when the device supports it.
    pub fn start(
        config: EngineConfig,
        events: impl Fn(EngineEvent) + Send + Sync + 'static,
    ) -> Result<Engine, AudioError> {
        let events: EventFn = Arc::new(events);
        let shared = Arc::new(Shared::new());
        shared.set_volume(perceptual_volume(config.volume));
        let view = Arc::new(Mutex::new(View::default()));
        let (commands, receiver) = std::sync::mpsc::channel();
        let decoder = DecoderThread::new(
            receiver,
            &config,
            Arc::clone(&shared),
            Arc::clone(&view),
            Arc::clone(&events),
        );
        let decoder_thread = std::thread::Builder::new()
            .name("loft-audio-decoder".into())
            .spawn(move || decoder.run())
            .map_err(|e| AudioError::Device(format!("cannot start the decoder thread: {e}")))?;
        let reporter = Reporter { shared: Arc::clone(&shared), view: Arc::clone(&view), events };
        let (reporter_stop, reporter_stop_rx) = std::sync::mpsc::channel::<()>();
        let reporter_thread = std::thread::Builder::new()
            .name("loft-audio-reporter".into())
            .spawn(move || reporter.run(reporter_stop_rx))
            .map_err(|e| AudioError::Device(format!("cannot start the reporter thread: {e}")))?;
        // The reporter stops when its sender drops; the decoder thread holds it until it ends.
        let stopper = std::thread::Builder::new()
            .name("loft-audio-joiner".into())
            .spawn(move || {
                let _ = decoder_thread.join();
                drop(reporter_stop);
                let _ = reporter_thread.join();
            })
            .map_err(|e| AudioError::Device(format!("cannot start the engine: {e}")))?;
        Ok(Engine { commands, shared, view, threads: vec![stopper] })
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
        let consumed = self.shared.consumed_frames.load(Ordering::Acquire);
        let view = lock(&self.view);
        let current = view.current.as_ref();
        PlayerStatus {
            state: view.state,
            index: current.map(|c| c.index),
            track_id: current.map(|c| c.track_id),
            position_secs: view.position(consumed).unwrap_or(0.0),
            duration_secs: current.and_then(|c| c.duration_secs),
            queue: view.queue_names.clone(),
            queue_track_ids: view.queue_track_ids.clone(),
            shuffle: view.shuffle,
            repeat: view.repeat,
            device: view.device.clone(),
            output_rate: (view.rate > 0).then_some(view.rate),
            underruns: self.shared.underruns.load(Ordering::Relaxed),
        }
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
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The ring's size in samples for a device at `rate`.
fn ring_capacity(rate: u32) -> usize {
    ((f64::from(rate) * RING_SECONDS) as usize * OUTPUT_CHANNELS).max(4096)
}

fn lock(view: &Mutex<View>) -> MutexGuard<'_, View> {
    // The view is rebuilt from events; a panic elsewhere cannot leave it unusable.
    view.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug, Clone)]
struct PlayingTrack {
    index: usize,
    track_id: i64,
    name: String,
    duration_secs: Option<f64>,
    /// The frame count at which this track (from `offset_secs`) reached the device.
    start_frame: u64,
    offset_secs: f64,
}

#[derive(Debug)]
enum Mark {
    Track(PlayingTrack),
    End { at_frame: u64 },
}

impl Mark {
    fn at_frame(&self) -> u64 {
        match self {
            Mark::Track(t) => t.start_frame,
            Mark::End { at_frame } => *at_frame,
        }
    }
}

/// What front ends can see of playback; written by the decoder thread and the reporter.
#[derive(Debug)]
struct View {
    marks: VecDeque<Mark>,
    current: Option<PlayingTrack>,
    state: PlaybackState,
    rate: u32,
    device: Option<String>,
    queue_names: Vec<String>,
    queue_track_ids: Vec<i64>,
    shuffle: bool,
    repeat: RepeatMode,
}

impl Default for View {
    fn default() -> Self {
        View {
            marks: VecDeque::new(),
            current: None,
            state: PlaybackState::Stopped,
            rate: 0,
            device: None,
            queue_names: Vec::new(),
            queue_track_ids: Vec::new(),
            shuffle: false,
            repeat: RepeatMode::Off,
        }
    }
}

impl View {
    fn position(&self, consumed: u64) -> Option<f64> {
        let current = self.current.as_ref()?;
        let played = consumed.saturating_sub(current.start_frame);
        Some(current.offset_secs + played as f64 / f64::from(self.rate.max(1)))
    }

    /// Applies the marks the device has reached, returning what to announce.
    fn advance(&mut self, consumed: u64, shared: &Shared) -> Vec<EngineEvent> {
        let mut events = Vec::new();
        while self.marks.front().is_some_and(|m| m.at_frame() <= consumed) {
            match self.marks.pop_front() {
                Some(Mark::Track(track)) => {
                    let changed = self.current.as_ref().is_none_or(|c| c.index != track.index)
                        || track.offset_secs == 0.0;
                    if changed {
                        events.push(EngineEvent::TrackChanged {
                            index: track.index,
                            track_id: track.track_id,
                            name: track.name.clone(),
                            duration_secs: track.duration_secs,
                        });
                    }
                    self.current = Some(track);
                }
                Some(Mark::End { .. }) => {
                    self.current = None;
                    shared.expect_audio.store(false, Ordering::Relaxed);
                    if self.state != PlaybackState::Stopped {
                        self.state = PlaybackState::Stopped;
                        events.push(EngineEvent::StateChanged { state: PlaybackState::Stopped });
                    }
                    events.push(EngineEvent::QueueEnded);
                }
                None => {}
            }
        }
        events
    }

    fn set_state(&mut self, state: PlaybackState, events: &mut Vec<EngineEvent>) {
        if self.state != state {
            self.state = state;
            events.push(EngineEvent::StateChanged { state });
        }
    }
}

struct Reporter {
    shared: Arc<Shared>,
    view: Arc<Mutex<View>>,
    events: EventFn,
}

impl Reporter {
    fn run(self, stop: Receiver<()>) {
        let mut last_position = Instant::now();
        let mut last_consumed = 0;
        let mut last_underruns = 0;
        let mut priming_since: Option<Instant> = None;
        while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(REPORT_TICK) {
            let consumed = self.shared.consumed_frames.load(Ordering::Acquire);
            let underruns = self.shared.underruns.load(Ordering::Relaxed);
            priming_since = match (self.shared.priming.load(Ordering::Relaxed), priming_since) {
                (true, since) => since.or_else(|| Some(Instant::now())),
                (false, _) => None,
            };
            // A source that takes longer than the prefill timeout to give its first audio
            // (a decoder blocked on the network) is buffering as much as a starved ring is.
            let slow_start = priming_since.is_some_and(|since| since.elapsed() >= PREFILL_TIMEOUT);
            let mut events = {
                let mut view = lock(&self.view);
                let mut events = view.advance(consumed, &self.shared);
                // The ring ran dry while audio was expected (a slow source): buffering, until
                // frames flow again.
                let starving = (underruns > last_underruns || slow_start) && consumed == last_consumed;
                match view.state {
                    PlaybackState::Playing if starving => {
                        view.set_state(PlaybackState::Buffering, &mut events)
                    }
                    PlaybackState::Buffering if consumed != last_consumed => {
                        view.set_state(PlaybackState::Playing, &mut events)
                    }
                    _ => {}
                }
                if view.state == PlaybackState::Playing && last_position.elapsed() >= POSITION_EVERY {
                    last_position = Instant::now();
                    if let (Some(current), Some(position)) = (view.current.as_ref(), view.position(consumed))
                    {
                        events.push(EngineEvent::Position {
                            index: current.index,
                            track_id: current.track_id,
                            position_secs: position,
                            duration_secs: current.duration_secs,
                        });
                    }
                }
                events
            };
            last_consumed = consumed;
            last_underruns = underruns;
            for event in events.drain(..) {
                (self.events)(event);
            }
        }
    }
}

struct DecoderThread {
    commands: Receiver<Command>,
    queue: Queue,
    chain: Option<Chain>,
    output: Option<Output>,
    producer: Option<rtrb::Producer<f32>>,
    /// Processed samples not yet in the ring.
    pending: Vec<f32>,
    pushed_frames: u64,
    /// The queue index being decoded (it plays once the ring drains to it).
    decoding: Option<usize>,
    device: Option<String>,
    gain: GainSettings,
    shared: Arc<Shared>,
    view: Arc<Mutex<View>>,
    events: EventFn,
    last_default_check: Instant,
    /// Set from a start or a device reopen until the ring holds the prefill; meanwhile an
    /// empty ring is the start, not an underrun.
    priming_since: Option<Instant>,
    /// Set when the device went away during playback and no output could be opened in its
    /// place: playback waits here, and goes on when a device appears.
    awaiting_device: Option<AwaitingDevice>,
}

/// Where playback was when the last output device went away.
struct AwaitingDevice {
    resume: (usize, f64),
    rate: u32,
    last_try: Instant,
}

impl DecoderThread {
    fn new(
        commands: Receiver<Command>,
        config: &EngineConfig,
        shared: Arc<Shared>,
        view: Arc<Mutex<View>>,
        events: EventFn,
    ) -> Self {
        DecoderThread {
            commands,
            queue: Queue::new(),
            chain: None,
            output: None,
            producer: None,
            pending: Vec::new(),
            pushed_frames: 0,
            decoding: None,
            device: config.device.clone(),
            gain: config.gain,
            shared,
            view,
            events,
            last_default_check: Instant::now(),
            priming_since: None,
            awaiting_device: None,
        }
    }

    fn run(mut self) {
        loop {
            let wait =
                if self.busy() && self.ring_has_room() { Duration::ZERO } else { Duration::from_millis(5) };
            match self.commands.recv_timeout(wait) {
                Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(command) => self.handle(command),
                Err(RecvTimeoutError::Timeout) => {}
            }
            while let Ok(command) = self.commands.try_recv() {
                if matches!(command, Command::Shutdown) {
                    return;
                }
                self.handle(command);
            }
            self.watch_device();
            self.pump();
        }
    }

    fn emit(&self, event: EngineEvent) {
        (self.events)(event);
    }

    fn emit_error(&self, index: Option<usize>, error: &AudioError) {
        let name = index.and_then(|i| self.queue.get(i)).map(QueueItem::name).unwrap_or_default();
        tracing::warn!(%name, %error, "playback error");
        self.emit(EngineEvent::Error { index, name, kind: error.kind(), reason: error.to_string() });
    }

    /// Whether there is audio still to decode or to move into the ring.
    fn busy(&self) -> bool {
        self.decoding.is_some() || !self.pending.is_empty()
    }

    fn ring_has_room(&self) -> bool {
        self.producer.as_ref().is_some_and(|p| p.slots() >= OUTPUT_CHANNELS * 1024)
    }

    fn consumed(&self) -> u64 {
        self.shared.consumed_frames.load(Ordering::Acquire)
    }

    /// Applies reached marks and announces them (the reporter does the same; whoever sees a
    /// mark first announces it).
    fn sync_view(&self) -> MutexGuard<'_, View> {
        let consumed = self.consumed();
        let mut view = lock(&self.view);
        let events = view.advance(consumed, &self.shared);
        if !events.is_empty() {
            drop(view);
            for event in events {
                self.emit(event);
            }
            view = lock(&self.view);
        }
        view
    }

    fn playing_index_and_position(&self) -> Option<(usize, f64)> {
        let consumed = self.consumed();
        let view = self.sync_view();
        let current = view.current.as_ref()?;
        Some((current.index, view.position(consumed).unwrap_or(0.0)))
    }

    fn publish_queue(&self) {
        let track_ids: Vec<i64> = self.queue.items().iter().map(|item| item.track_id).collect();
        {
            let mut view = lock(&self.view);
            view.queue_names = self.queue.items().iter().map(QueueItem::name).collect();
            view.queue_track_ids = track_ids.clone();
            view.shuffle = self.queue.shuffle();
            view.repeat = self.queue.repeat();
        }
        self.emit(EngineEvent::QueueChanged {
            track_ids,
            shuffle: self.queue.shuffle(),
            repeat: self.queue.repeat(),
        });
    }

    fn set_state(&self, state: PlaybackState) {
        let mut events = Vec::new();
        lock(&self.view).set_state(state, &mut events);
        for event in events {
            self.emit(event);
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::PlayNow(items, start) => {
                self.queue.replace(items, start);
                self.publish_queue();
                self.shared.paused.store(false, Ordering::Relaxed);
                self.start_at(start, 0.0);
            }
            Command::PlayNext(items) => {
                self.queue.play_next(items);
                self.after_queue_edit();
            }
            Command::Append(items) => {
                self.queue.append(items);
                self.after_queue_edit();
            }
            Command::Remove(index) => {
                let playing = self.playing_index_and_position().map(|p| p.0);
                if self.queue.remove(index).is_some() {
                    if playing == Some(index) {
                        // The playing track is gone: go on with what followed it.
                        let next = (index < self.queue.items().len()).then_some(index);
                        self.publish_queue();
                        match next {
                            Some(next) => self.start_at(next, 0.0),
                            None => self.stop(),
                        }
                        return;
                    }
                    self.after_queue_edit();
                }
            }
            Command::Move(from, to) => {
                if self.queue.move_item(from, to) {
                    self.after_queue_edit();
                }
            }
            Command::Clear => {
                self.queue.clear();
                self.publish_queue();
                self.stop();
            }
            Command::Shuffle(on) => {
                self.queue.set_shuffle(on);
                self.after_queue_edit();
            }
            Command::Repeat(mode) => {
                self.queue.set_repeat(mode);
                self.after_queue_edit();
            }
            Command::Next => {
                if let Some((index, _)) = self.playing_index_and_position() {
                    match self.queue.after(index, false) {
                        Some(next) => self.start_at(next, 0.0),
                        None => self.stop(),
                    }
                }
            }
            Command::Previous => {
                if let Some((index, position)) = self.playing_index_and_position() {
                    let target = if position > RESTART_THRESHOLD_SECS {
                        index
                    } else {
                        self.queue.before(index).unwrap_or(index)
                    };
                    self.start_at(target, 0.0);
                }
            }
            Command::Seek(position) => {
                if let Some((index, _)) = self.playing_index_and_position() {
                    self.start_at(index, position);
                }
            }
            Command::Pause => {
                let has_output = self.output.is_some() || self.awaiting_device.is_some();
                if has_output && lock(&self.view).state != PlaybackState::Stopped {
                    self.shared.paused.store(true, Ordering::Relaxed);
                    self.set_state(PlaybackState::Paused);
                }
            }
            Command::Resume => {
                if lock(&self.view).state == PlaybackState::Paused {
                    self.shared.paused.store(false, Ordering::Relaxed);
                    let waiting = self.awaiting_device.is_some();
                    self.set_state(if waiting { PlaybackState::Buffering } else { PlaybackState::Playing });
                }
            }
            Command::Stop => self.stop(),
            Command::Volume(slider) => self.shared.set_volume(perceptual_volume(slider)),
            Command::Gain(gain) => {
                self.gain = gain;
                if let Some(chain) = self.chain.as_mut() {
                    chain.set_gain_settings(gain);
                }
            }
            Command::Device(device) => {
                self.device = device;
                self.reopen_device();
            }
            Command::Shutdown => {}
        }
    }

    /// After an edit the track decoded ahead may no longer be the one that follows; decode
    /// again from where playback is.
    fn after_queue_edit(&mut self) {
        self.publish_queue();
        let Some((playing, position)) = self.playing_index_and_position() else { return };
        self.queue.set_current(Some(playing));
        if self.decoding != Some(playing) {
            self.start_at(playing, position);
        }
    }

    /// Silences the output for a jump (seek, skip) so it cannot click: ramp down, drop what
    /// the ring holds, and let the callback ramp up on the new audio.
    fn flush(&mut self) {
        let was_paused = self.shared.paused.swap(true, Ordering::Relaxed);
        let was_running = self.output.as_ref().is_some_and(Output::running);
        if was_running && !was_paused {
            std::thread::sleep(Duration::from_millis(12));
        }
        if let Some(output) = self.output.as_mut()
            && let Err(error) = output.start()
        {
            // Only the callback can empty the ring, so a stream still waiting for its prefill
            // starts now (silent while the flush holds it paused). Failing that, the prefill
            // check reports it.
            tracing::warn!(%error, "cannot start the output to flush it");
        }
        let request = self.shared.flush_request.fetch_add(1, Ordering::AcqRel) + 1;
        if self.output.as_ref().is_some_and(Output::running) {
            let deadline = Instant::now() + Duration::from_millis(200);
            while self.shared.flush_done.load(Ordering::Acquire) < request && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        // Whatever the callback did not drop is counted as gone, so positions stay aligned.
        self.shared.consumed_frames.store(self.pushed_frames, Ordering::Release);
        self.pending.clear();
        lock(&self.view).marks.clear();
        self.shared.paused.store(was_paused, Ordering::Relaxed);
    }

    fn stop(&mut self) {
        self.flush();
        if let Some(chain) = self.chain.as_mut() {
            chain.reset();
        }
        self.decoding = None;
        self.awaiting_device = None;
        self.priming_since = None;
        self.shared.priming.store(false, Ordering::Relaxed);
        self.shared.expect_audio.store(false, Ordering::Relaxed);
        self.shared.paused.store(false, Ordering::Relaxed);
        lock(&self.view).current = None;
        self.set_state(PlaybackState::Stopped);
    }

    fn start_at(&mut self, index: usize, position: f64) {
        self.flush();
        if let Some(chain) = self.chain.as_mut() {
            chain.reset();
        }
        self.begin_priming();
        self.open_from(index, position);
        if self.decoding.is_some() {
            let paused = self.shared.paused.load(Ordering::Relaxed);
            self.set_state(if paused { PlaybackState::Paused } else { PlaybackState::Playing });
        }
    }

    /// Starts decoding at `index`; a track that fails is reported and the next one tried.
    fn open_from(&mut self, index: usize, position: f64) {
        let mut candidate = Some(index);
        let mut position = position;
        let mut attempts = 0;
        while let Some(i) = candidate {
            attempts += 1;
            if attempts > self.queue.items().len() {
                break;
            }
            let Some(item) = self.queue.get(i).cloned() else { break };
            match self.start_track(i, &item, position) {
                Ok(()) => return,
                // No output is not the track's fault: trying the next ones would only fail
                // the same way. A player waiting for a device keeps waiting, at this track.
                Err(
                    error @ (AudioError::NoDevice | AudioError::UnknownDevice(_) | AudioError::Device(_)),
                ) => {
                    if let Some(awaiting) = self.awaiting_device.as_mut() {
                        awaiting.resume = (i, position);
                        if !self.shared.paused.load(Ordering::Relaxed) {
                            self.set_state(PlaybackState::Buffering);
                        }
                        return;
                    }
                    self.emit_error(Some(i), &error);
                    break;
                }
                Err(error) => {
                    self.emit_error(Some(i), &error);
                    position = 0.0;
                    candidate = self.queue.after(i, false);
                }
            }
        }
        self.end_of_queue();
    }

    fn start_track(&mut self, index: usize, item: &QueueItem, position: f64) -> Result<(), AudioError> {
        if self.chain.is_none() {
            self.open_device_for(item)?;
        }
        let chain = self.chain.as_mut().ok_or(AudioError::NoDevice)?;
        let started = chain.start(item, position, &mut self.pending)?;
        let start_frame = self.pushed_frames + (self.pending.len() / OUTPUT_CHANNELS) as u64;
        self.decoding = Some(index);
        self.queue.set_current(Some(index));
        lock(&self.view).marks.push_back(Mark::Track(PlayingTrack {
            index,
            track_id: item.track_id,
            name: started.name,
            duration_secs: started.duration_secs,
            start_frame,
            offset_secs: position,
        }));
        Ok(())
    }

    fn end_of_queue(&mut self) {
        if let Some(chain) = self.chain.as_mut()
            && let Err(error) = chain.finish(&mut self.pending)
        {
            self.emit_error(None, &error);
        }
        self.decoding = None;
        let at_frame = self.pushed_frames + (self.pending.len() / OUTPUT_CHANNELS) as u64;
        lock(&self.view).marks.push_back(Mark::End { at_frame });
    }

    /// Opens the device at the rate of the first track it will play.
    fn open_device_for(&mut self, item: &QueueItem) -> Result<(), AudioError> {
        let rate = crate::decode::TrackDecoder::open(item)?.rate();
        self.open_device(rate)
    }

    fn open_device(&mut self, rate: u32) -> Result<(), AudioError> {
        self.output = None;
        self.producer = None;
        #[cfg(test)]
        if self.shared.devices_unplugged.load(Ordering::Acquire) {
            return Err(AudioError::NoDevice);
        }
        let capacity = ring_capacity(rate);
        let (producer, consumer) = rtrb::RingBuffer::new(capacity);
        let output = match open_output(self.device.as_deref(), rate, consumer, Arc::clone(&self.shared)) {
            Ok(output) => output,
            Err(error) if self.device.is_some() => {
                // The chosen device is gone: play on the default rather than not at all.
                tracing::warn!(%error, "falling back to the default output device");
                let (producer, consumer) = rtrb::RingBuffer::new(capacity);
                // When the default fails too, the chosen device's error is the one to show.
                let output =
                    open_output(None, rate, consumer, Arc::clone(&self.shared)).map_err(|_| error)?;
                self.producer = Some(producer);
                self.finish_open(output);
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        self.producer = Some(producer);
        self.finish_open(output);
        Ok(())
    }

    fn finish_open(&mut self, output: Output) {
        self.shared.consumed_frames.store(self.pushed_frames, Ordering::Release);
        self.shared.flush_done.store(self.shared.flush_request.load(Ordering::Acquire), Ordering::Release);
        self.shared.device_failed.store(false, Ordering::Release);
        {
            let mut view = lock(&self.view);
            view.rate = output.rate;
            view.device = Some(output.device_name.clone());
        }
        tracing::info!(device = %output.device_name, rate = output.rate, "output opened");
        self.chain = Some(Chain::new(output.rate, self.gain));
        self.output = Some(output);
    }

    /// Reopens the output (after a failure, a default-device change or a device choice) and
    /// continues from the same position.
    fn reopen_device(&mut self) {
        let resume = self.playing_index_and_position();
        let rate = self.chain.as_ref().map_or(44_100, Chain::output_rate);
        self.output = None;
        self.producer = None;
        self.chain = None;
        self.pending.clear();
        // What the ring held went with the old stream unplayed; counting it as pushed would
        // move the position forward by that much until the new track mark is reached.
        self.pushed_frames = self.consumed();
        lock(&self.view).marks.clear();
        if let Err(error) = self.open_device(rate) {
            self.emit_error(None, &error);
            match resume {
                // Losing the device is no reason to lose the place: wait for one to appear
                // (a headset plugged back in, a USB card reconnected) and go on from there.
                Some(resume) => {
                    tracing::warn!("no output device; playback waits for one");
                    lock(&self.view).device = None;
                    self.decoding = None;
                    self.awaiting_device = Some(AwaitingDevice { resume, rate, last_try: Instant::now() });
                    if !self.shared.paused.load(Ordering::Relaxed) {
                        self.set_state(PlaybackState::Buffering);
                    }
                }
                None => self.stop(),
            }
            return;
        }
        self.go_on_on_the_new_output(resume);
    }

    /// With an output just opened, plays on from where playback was (if it was anywhere).
    fn go_on_on_the_new_output(&mut self, resume: Option<(usize, f64)>) {
        self.awaiting_device = None;
        self.begin_priming();
        if let Some((index, position)) = resume {
            self.open_from(index, position);
        }
    }

    /// Tries again, now and then, to open an output for a player whose device went away.
    fn retry_awaited_device(&mut self) {
        let Some(awaiting) = self.awaiting_device.as_mut() else { return };
        if awaiting.last_try.elapsed() < DEVICE_RETRY {
            return;
        }
        awaiting.last_try = Instant::now();
        let (resume, rate) = (awaiting.resume, awaiting.rate);
        if let Err(error) = self.open_device(rate) {
            tracing::debug!(%error, "still no output device");
            return;
        }
        tracing::info!("an output device is back; playback goes on");
        self.go_on_on_the_new_output(Some(resume));
    }

    fn watch_device(&mut self) {
        if self.output.is_none() {
            self.retry_awaited_device();
            return;
        }
        if self.shared.device_failed.load(Ordering::Acquire) {
            tracing::warn!("the output device failed; reopening the default");
            self.reopen_device();
            return;
        }
        if self.device.is_none() && self.last_default_check.elapsed() >= DEFAULT_DEVICE_POLL {
            self.last_default_check = Instant::now();
            let default = crate::output::default_device_name();
            let current = self.output.as_ref().map(|o| o.device_name.clone());
            if default.is_some() && default != current {
                tracing::info!(?default, "the default output device changed");
                self.reopen_device();
            }
        }
    }

    /// Until the prefill is in the ring, starvation is the start of playback, not an underrun.
    fn begin_priming(&mut self) {
        self.shared.expect_audio.store(false, Ordering::Relaxed);
        self.shared.priming.store(true, Ordering::Relaxed);
        self.priming_since = Some(Instant::now());
    }

    /// Starts the device once the ring holds the prefill (or the source has had its time),
    /// and from then on counts an empty ring as an underrun, until everything the queue had
    /// to give is in the ring: a ring that runs dry after that is the end, not an underrun.
    fn update_expectations(&mut self) {
        let more_to_come = self.busy();
        if let Some(since) = self.priming_since {
            let Some(producer) = self.producer.as_ref() else { return };
            let capacity = producer.buffer().capacity();
            let queued = (capacity - producer.slots()) / OUTPUT_CHANNELS;
            let rate = self.chain.as_ref().map_or(44_100, Chain::output_rate);
            let prefill = ((f64::from(rate) * PREFILL_SECONDS) as usize).min(capacity / OUTPUT_CHANNELS / 2);
            if queued < prefill && more_to_come && since.elapsed() < PREFILL_TIMEOUT {
                return;
            }
            self.priming_since = None;
            self.shared.priming.store(false, Ordering::Relaxed);
            if let Some(output) = self.output.as_mut()
                && let Err(error) = output.start()
            {
                self.emit_error(None, &error);
                self.stop();
                return;
            }
            self.shared.expect_audio.store(more_to_come, Ordering::Relaxed);
        } else if !more_to_come {
            self.shared.expect_audio.store(false, Ordering::Relaxed);
        }
    }

    /// Moves decoded audio into the ring and decodes more while there is room.
    fn pump(&mut self) {
        self.pump_ring();
        self.update_expectations();
    }

    fn pump_ring(&mut self) {
        for _ in 0..16 {
            if !self.pending.is_empty() {
                let Some(producer) = self.producer.as_mut() else {
                    self.pending.clear();
                    return;
                };
                let room = producer.slots() / OUTPUT_CHANNELS * OUTPUT_CHANNELS;
                let count = room.min(self.pending.len());
                let (pushed, _) = producer.push_partial_slice(&self.pending[..count]);
                let pushed = pushed.len();
                self.pending.drain(..pushed);
                self.pushed_frames += (pushed / OUTPUT_CHANNELS) as u64;
                if !self.pending.is_empty() {
                    return;
                }
            }
            let Some(index) = self.decoding else { return };
            let Some(chain) = self.chain.as_mut() else { return };
            match chain.fill(&mut self.pending) {
                Ok(Fill::Decoded) => {}
                Ok(Fill::TrackEnded) => self.advance(index, true),
                Err(error) => {
                    self.emit_error(Some(index), &error);
                    self.advance(index, false);
                }
            }
        }
    }

    fn advance(&mut self, index: usize, natural: bool) {
        match self.queue.after(index, natural) {
            Some(next) => self.open_from(next, 0.0),
            None => self.end_of_queue(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Callback, on_stream_error};

    const RATE: u32 = 44_100;

    fn tone_wav(dir: &tempfile::TempDir, seconds: u32) -> std::path::PathBuf {
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

    /// A decoder thread without a device: the test plays the device's part by calling the
    /// real callback by hand, in whatever bursts it likes.
    fn decoder_and_callback() -> (DecoderThread, Callback, Arc<Shared>, Sender<Command>) {
        let shared = Arc::new(Shared::new());
        let (sender, receiver) = std::sync::mpsc::channel();
        let config = EngineConfig { device: None, volume: 1.0, gain: GainSettings::default() };
        let events: EventFn = Arc::new(|_| {});
        let view = Arc::new(Mutex::new(View::default()));
        let mut decoder = DecoderThread::new(receiver, &config, Arc::clone(&shared), view, events);
        let (producer, consumer) = rtrb::RingBuffer::new(ring_capacity(RATE));
        decoder.producer = Some(producer);
        decoder.chain = Some(Chain::new(RATE, config.gain));
        let callback = Callback::new(consumer, Arc::clone(&shared), RATE);
        (decoder, callback, shared, sender)
    }

    /// The decoder's turn: it decodes until the ring is full or the queue is done.
    fn refill(decoder: &mut DecoderThread) {
        decoder.pump();
        while decoder.busy() && decoder.ring_has_room() {
            decoder.pump();
        }
    }

    #[test]
    fn a_device_pulling_large_bursts_is_never_starved_and_start_and_end_are_not_underruns() {
        let dir = tempfile::tempdir().unwrap();
        let wav = tone_wav(&dir, 3);
        let (mut decoder, mut callback, shared, _commands) = decoder_and_callback();
        decoder.handle(Command::PlayNow(vec![QueueItem::file(&wav)], 0));
        // What the end-to-end harness's pacer takes at once: a whole pipe, 64 KiB of 16-bit stereo.
        let mut burst = vec![0.0f32; 16_384 * OUTPUT_CHANNELS];
        // The device may ask before the first block is decoded: that is the start, not a gap.
        callback.fill(&mut burst, OUTPUT_CHANNELS);
        let mut turns = 0;
        while shared.consumed_frames.load(Ordering::Acquire) < u64::from(RATE) * 3 && turns < 100 {
            refill(&mut decoder);
            callback.fill(&mut burst, OUTPUT_CHANNELS);
            turns += 1;
        }
        assert_eq!(shared.consumed_frames.load(Ordering::Acquire), u64::from(RATE) * 3);
        // Past the last frame the ring is empty for good: that is the end, not a gap.
        refill(&mut decoder);
        callback.fill(&mut burst, OUTPUT_CHANNELS);
        assert_eq!(shared.underruns.load(Ordering::Relaxed), 0);

        // A device that takes more than the ring holds while the decoder gets no turn is
        // starved, and that is counted.
        decoder.handle(Command::PlayNow(vec![QueueItem::file(&wav)], 0));
        // The engine waits for the device to drop the old audio before decoding the new.
        callback.fill(&mut burst[..0], OUTPUT_CHANNELS);
        refill(&mut decoder);
        for _ in 0..4 {
            callback.fill(&mut burst, OUTPUT_CHANNELS);
        }
        assert!(shared.underruns.load(Ordering::Relaxed) > 0);
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

        fn open(&self) -> Result<Box<dyn crate::MediaStream>, AudioError> {
            let file = std::fs::File::open(&self.path)
                .map_err(|source| AudioError::Open { name: self.name(), source })?;
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

    /// An engine on ALSA's null device (a real cpal stream that drops what it is given),
    /// paused 12.5 s into a 20 s tone, with the events so far drained.
    fn paused_at_12_5_s_on_the_null_device(dir: &tempfile::TempDir) -> (Engine, Receiver<EngineEvent>) {
        let wav = tone_wav(dir, 20);
        let (sender, events) = std::sync::mpsc::channel();
        let config =
            EngineConfig { device: Some("alsa:null".into()), volume: 1.0, gain: GainSettings::default() };
        let engine = Engine::start(config, move |event| {
            let _ = sender.send(event);
        })
        .unwrap();
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
        let (engine, events) = paused_at_12_5_s_on_the_null_device(&dir);

        // What cpal's error callback does when the device goes away.
        on_stream_error(&engine.shared, &cpal::Error::new(cpal::ErrorKind::DeviceNotAvailable));
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
        let (engine, events) = paused_at_12_5_s_on_the_null_device(&dir);

        // Every device unplugged: the lost one can't be reopened and none takes its place.
        engine.shared.devices_unplugged.store(true, Ordering::Release);
        on_stream_error(&engine.shared, &cpal::Error::new(cpal::ErrorKind::DeviceNotAvailable));
        let event = events.recv_timeout(Duration::from_secs(10)).expect("no event for the lost device");
        assert!(
            matches!(&event, EngineEvent::Error { kind: "device", index: None, .. }),
            "expected one device error, got {event:?}"
        );
        // Resumed and seeked meanwhile, it waits rather than ending the queue or skipping on.
        engine.resume().unwrap();
        engine.seek(12.5).unwrap();
        std::thread::sleep(DEVICE_RETRY * 3);
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
        engine.shared.devices_unplugged.store(false, Ordering::Release);
        wait_until("an output is open again", || engine.status().device.is_some());
        let back = engine.status();
        assert_eq!((back.state, back.index, back.position_secs), (PlaybackState::Paused, Some(0), 12.5));
        resume_plays_exactly_the_rest(&engine, &events);
    }
}
