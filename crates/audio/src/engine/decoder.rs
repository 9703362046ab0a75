//! The decoder thread: it takes the engine's commands, owns the queue and the output, and
//! keeps the ring full by running the chain one track after another. With nothing to decode
//! and nothing to watch it sleeps until the next command.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use super::device::{self, DeviceState};
use super::report::{Mark, PlayingTrack, Reports};
use super::{Command, EngineConfig, EngineEvent, PREFILL_TIMEOUT, PlaybackState};
use crate::AudioError;
use crate::chain::{Fill, OUTPUT_CHANNELS};
use crate::dsp::{GainSettings, perceptual_volume};
use crate::output::{Outputs, Shared, StreamErrors};
use crate::queue::Queue;
use crate::source::QueueItem;

/// "Previous" restarts the track once it has played longer than this.
const RESTART_THRESHOLD_SECS: f64 = 3.0;
/// How often a player that follows the system default checks whether it changed.
const DEFAULT_DEVICE_POLL: Duration = Duration::from_secs(2);
/// How often a player left without any output device tries to open one again.
const DEVICE_RETRY: Duration = Duration::from_secs(1);
/// How long a flush waits for the device to drop what the ring holds.
const FLUSH_TIMEOUT: Duration = Duration::from_millis(200);
/// How long the callback's ramp to silence takes (10 ms), with a margin.
const RAMP_DOWN: Duration = Duration::from_millis(12);

/// How the decoder thread waits for its next command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// There is decoding to do: only take what has already come.
    No,
    /// Something is due by then (room in the ring, a device check).
    For(Duration),
    /// Nothing to do until a command comes.
    Forever,
}

impl Wait {
    fn at_most(self, limit: Duration) -> Wait {
        match self {
            Wait::No => Wait::No,
            Wait::For(wait) => Wait::For(wait.min(limit)),
            Wait::Forever => Wait::For(limit),
        }
    }
}

pub(super) struct DecoderThread {
    commands: Receiver<Command>,
    queue: Queue,
    device: DeviceState,
    outputs: Box<dyn Outputs>,
    stream_errors: StreamErrors,
    /// Processed samples not yet in the ring.
    pending: Vec<f32>,
    pushed_frames: u64,
    /// The queue index being decoded (it plays once the ring drains to it).
    decoding: Option<usize>,
    /// The device chosen by name; `None` follows the system default.
    chosen_device: Option<String>,
    gain: GainSettings,
    shared: Arc<Shared>,
    reports: Reports,
    last_default_check: Instant,
}

impl DecoderThread {
    pub(super) fn new(
        commands: Receiver<Command>,
        config: &EngineConfig,
        shared: Arc<Shared>,
        reports: Reports,
        outputs: Box<dyn Outputs>,
        stream_errors: StreamErrors,
    ) -> Self {
        DecoderThread {
            commands,
            queue: Queue::new(),
            device: DeviceState::Closed,
            outputs,
            stream_errors,
            pending: Vec::new(),
            pushed_frames: 0,
            decoding: None,
            chosen_device: config.device.clone(),
            gain: config.gain,
            shared,
            reports,
            last_default_check: Instant::now(),
        }
    }

    pub(super) fn run(mut self) {
        loop {
            match crate::catch_panic(|| self.step()) {
                Ok(true) => {}
                Ok(false) => return,
                Err(panic) => self.recover(&panic),
            }
        }
    }

    /// Waits for what there is to do, does it, and moves audio on; `false` once the engine
    /// shuts down.
    fn step(&mut self) -> bool {
        let first = match self.wait() {
            Wait::No => match self.commands.try_recv() {
                Ok(command) => Some(command),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => return false,
            },
            Wait::For(wait) => match self.commands.recv_timeout(wait) {
                Ok(command) => Some(command),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return false,
            },
            Wait::Forever => match self.commands.recv() {
                Ok(command) => Some(command),
                Err(_) => return false,
            },
        };
        let mut next = first;
        while let Some(command) = next {
            if matches!(command, Command::Shutdown) {
                return false;
            }
            self.handle(command);
            next = self.commands.try_recv().ok();
        }
        self.pump();
        self.watch_device();
        true
    }

    /// After a panic nothing in the engine foresaw (the track-level ones are errors of that
    /// track already): report it and stop, keeping the queue, so the next command plays.
    fn recover(&mut self, panic: &str) {
        tracing::error!(panic, "the audio decoder thread panicked; playback stops");
        let index = self.decoding.take();
        self.pending.clear();
        if let Some(chain) = self.device.chain_mut() {
            chain.reset();
        }
        let recovered = crate::catch_panic(|| {
            let name = index.and_then(|i| self.queue.get(i)).map(QueueItem::name).unwrap_or_default();
            self.emit_error(index, &AudioError::Fault { name });
            self.stop();
        });
        if let Err(panic) = recovered {
            tracing::error!(panic, "stopping after a panic panicked too");
        }
    }

    /// How long the thread may sleep before it has something to do.
    fn wait(&self) -> Wait {
        match &self.device {
            DeviceState::Closed => Wait::Forever,
            DeviceState::Awaiting { last_try, .. } => {
                Wait::For(DEVICE_RETRY.saturating_sub(last_try.elapsed()))
            }
            DeviceState::Open(open) => {
                let mut wait = Wait::Forever;
                if self.busy() {
                    if open.ring_has_room() {
                        return Wait::No;
                    }
                    // Paused, the device takes nothing, so no room comes.
                    if !self.shared.paused.load(Ordering::Relaxed) {
                        wait = wait.at_most(open.until_room());
                    }
                }
                if let Some(since) = open.priming_since {
                    wait = wait.at_most(PREFILL_TIMEOUT.saturating_sub(since.elapsed()));
                }
                if self.follows_default_device() && self.playback_active() {
                    wait =
                        wait.at_most(DEFAULT_DEVICE_POLL.saturating_sub(self.last_default_check.elapsed()));
                }
                wait
            }
        }
    }

    fn follows_default_device(&self) -> bool {
        self.chosen_device.is_none()
    }

    fn playback_active(&self) -> bool {
        self.reports.read(|view| view.state() != PlaybackState::Stopped)
    }

    fn emit_error(&self, index: Option<usize>, error: &AudioError) {
        let name = index.and_then(|i| self.queue.get(i)).map(QueueItem::name).unwrap_or_default();
        tracing::warn!(%name, %error, "playback error");
        let event = EngineEvent::Error { index, name, kind: error.kind(), reason: error.to_string() };
        self.reports.update(|view| view.send(event));
    }

    /// Whether there is audio still to decode or to move into the ring.
    fn busy(&self) -> bool {
        self.decoding.is_some() || !self.pending.is_empty()
    }

    fn consumed(&self) -> u64 {
        self.shared.consumed_frames.load(Ordering::Acquire)
    }

    fn playing_index_and_position(&self) -> Option<(usize, f64)> {
        self.reports.read(|view| view.playing(self.consumed()))
    }

    fn publish_queue(&self) {
        let track_ids: Vec<i64> = self.queue.items().iter().map(|item| item.track_id).collect();
        let names = self.queue.items().iter().map(QueueItem::name).collect();
        let (shuffle, repeat) = (self.queue.shuffle(), self.queue.repeat());
        self.reports.update(|view| {
            view.queue_names = names;
            view.queue_track_ids = track_ids.clone();
            view.shuffle = shuffle;
            view.repeat = repeat;
            view.send(EngineEvent::QueueChanged { track_ids, shuffle, repeat });
        });
    }

    fn set_state(&self, state: PlaybackState) {
        self.reports.update(|view| view.set_state(state));
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::PlayNow(items, start) => {
                self.queue.replace(items, start);
                self.publish_queue();
                self.shared.paused.store(false, Ordering::Relaxed);
                self.start_at(start, 0.0);
            }
            Command::Cue(items, start, position) => {
                self.queue.replace(items, start);
                self.publish_queue();
                self.shared.paused.store(true, Ordering::Relaxed);
                self.start_at(start, position);
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
                let has_output = !matches!(self.device, DeviceState::Closed);
                if has_output && self.playback_active() {
                    self.shared.paused.store(true, Ordering::Relaxed);
                    self.set_state(PlaybackState::Paused);
                }
            }
            Command::Resume => {
                if self.reports.read(|view| view.state()) == PlaybackState::Paused {
                    self.shared.paused.store(false, Ordering::Relaxed);
                    let waiting = matches!(self.device, DeviceState::Awaiting { .. });
                    self.set_state(if waiting { PlaybackState::Buffering } else { PlaybackState::Playing });
                }
            }
            Command::Stop => self.stop(),
            Command::Volume(slider) => self.shared.set_volume(perceptual_volume(slider)),
            Command::Gain(gain) => {
                self.gain = gain;
                if let Some(chain) = self.device.chain_mut() {
                    chain.set_gain_settings(gain);
                }
            }
            Command::Device(device) => {
                self.chosen_device = device;
                self.reopen_device();
            }
            Command::DeviceLost => {
                if self.device.open().is_some() && self.shared.device_failed.load(Ordering::Acquire) {
                    tracing::warn!("the output device failed; reopening");
                    self.reopen_device();
                }
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
        let running = |device: &DeviceState| device.open().is_some_and(|open| open.output.running());
        if running(&self.device) && !was_paused {
            std::thread::sleep(RAMP_DOWN);
        }
        if let DeviceState::Open(open) = &mut self.device
            && let Err(error) = open.output.start()
        {
            // Only the callback can empty the ring, so a stream still waiting for its prefill
            // starts now (silent while the flush holds it paused). Failing that, the prefill
            // check reports it.
            tracing::warn!(%error, "cannot start the output to flush it");
        }
        self.reports.update(|view| view.begin_flush(self.consumed(), &self.shared));
        let request = self.shared.flush_request.fetch_add(1, Ordering::AcqRel) + 1;
        if running(&self.device) {
            let deadline = Instant::now() + FLUSH_TIMEOUT;
            while self.shared.flush_done.load(Ordering::Acquire) < request && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        // Whatever the callback did not drop is counted as gone, so positions stay aligned.
        self.reports.update(|view| {
            self.shared.consumed_frames.store(self.pushed_frames, Ordering::Release);
            view.end_flush();
        });
        self.pending.clear();
        self.shared.paused.store(was_paused, Ordering::Relaxed);
    }

    fn stop(&mut self) {
        self.flush();
        if let Some(chain) = self.device.chain_mut() {
            chain.reset();
        }
        self.decoding = None;
        if matches!(self.device, DeviceState::Awaiting { .. }) {
            // Nothing is left to go on with once a device appears.
            self.device = DeviceState::Closed;
        }
        if let DeviceState::Open(open) = &mut self.device {
            open.priming_since = None;
        }
        self.shared.priming.store(false, Ordering::Relaxed);
        self.shared.expect_audio.store(false, Ordering::Relaxed);
        self.shared.paused.store(false, Ordering::Relaxed);
        self.reports.update(|view| {
            view.clear_current();
            view.set_state(PlaybackState::Stopped);
        });
    }

    fn start_at(&mut self, index: usize, position: f64) {
        if !self.playback_active() {
            self.follow_a_changed_default();
        }
        self.flush();
        if let Some(chain) = self.device.chain_mut() {
            chain.reset();
        }
        self.begin_priming();
        self.open_from(index, position);
        if self.decoding.is_some() {
            let paused = self.shared.paused.load(Ordering::Relaxed);
            self.set_state(if paused { PlaybackState::Paused } else { PlaybackState::Playing });
        }
    }

    /// A stopped player does not watch the system default (it sleeps); when it starts again
    /// on an output that is no longer the default, that output is closed so the start opens
    /// the new default.
    fn follow_a_changed_default(&mut self) {
        if !self.follows_default_device() {
            return;
        }
        let Some(open) = self.device.open() else { return };
        self.last_default_check = Instant::now();
        let default = self.outputs.default_device_name();
        if default.is_some() && default.as_deref() != Some(open.output.device_name.as_str()) {
            tracing::info!(?default, "the default output device changed while stopped");
            self.device = DeviceState::Closed;
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
                    if let DeviceState::Awaiting { resume, .. } = &mut self.device {
                        *resume = (i, position);
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
        if self.device.open().is_none() {
            self.open_device_for(item)?;
        }
        let chain = self.device.chain_mut().ok_or(AudioError::NoDevice)?;
        let started = chain.start(item, position, &mut self.pending)?;
        let start_frame = self.pushed_frames + (self.pending.len() / OUTPUT_CHANNELS) as u64;
        self.decoding = Some(index);
        self.queue.set_current(Some(index));
        let track = PlayingTrack {
            index,
            track_id: item.track_id,
            name: started.name,
            duration_secs: started.duration_secs,
            start_frame,
            offset_secs: position,
        };
        self.reports.update(|view| view.push_mark(Mark::Track(track)));
        Ok(())
    }

    fn end_of_queue(&mut self) {
        if let DeviceState::Open(open) = &mut self.device
            && let Err(error) = open.chain.finish(&mut self.pending)
        {
            self.emit_error(None, &error);
        }
        self.decoding = None;
        let at_frame = self.pushed_frames + (self.pending.len() / OUTPUT_CHANNELS) as u64;
        self.reports.update(|view| view.push_mark(Mark::End { at_frame }));
    }

    /// Opens the device at the rate of the first track it will play.
    fn open_device_for(&mut self, item: &QueueItem) -> Result<(), AudioError> {
        let rate = crate::decode::TrackDecoder::open(item)?.rate();
        self.open_device(rate)
    }

    /// Opens an output at `rate`; on failure the device state is left as it was (closed, or
    /// waiting for a device).
    fn open_device(&mut self, rate: u32) -> Result<(), AudioError> {
        if self.device.open().is_some() {
            // A device may refuse a second stream while the first is open.
            self.device = DeviceState::Closed;
        }
        let open = device::open(
            self.outputs.as_ref(),
            self.chosen_device.as_deref(),
            rate,
            self.gain,
            &self.stream_errors,
        )?;
        self.shared.consumed_frames.store(self.pushed_frames, Ordering::Release);
        self.shared.flush_done.store(self.shared.flush_request.load(Ordering::Acquire), Ordering::Release);
        self.shared.device_failed.store(false, Ordering::Release);
        let (rate, name) = (open.rate(), open.output.device_name.clone());
        tracing::info!(device = %name, rate, "output opened");
        self.reports.update(|view| {
            view.rate = rate;
            view.device = Some(name);
        });
        self.device = DeviceState::Open(Box::new(open));
        self.begin_priming();
        Ok(())
    }

    /// Reopens the output (after a failure, a default-device change or a device choice) and
    /// continues from the same position.
    fn reopen_device(&mut self) {
        let resume = self.playing_index_and_position();
        let rate = match &self.device {
            DeviceState::Open(open) => open.rate(),
            DeviceState::Awaiting { rate, .. } => *rate,
            DeviceState::Closed => 44_100,
        };
        self.device = DeviceState::Closed;
        self.decoding = None;
        self.pending.clear();
        // What the ring held went with the old stream unplayed; counting it as pushed would
        // move the position forward by that much until the new track mark is reached.
        let consumed = self.consumed();
        self.pushed_frames = consumed;
        self.reports.update(|view| view.drop_marks(consumed, &self.shared));
        if let Err(error) = self.open_device(rate) {
            self.emit_error(None, &error);
            match resume {
                // Losing the device is no reason to lose the place: wait for one to appear
                // (a headset plugged back in, a USB card reconnected) and go on from there.
                Some(resume) => {
                    tracing::warn!("no output device; playback waits for one");
                    self.reports.update(|view| view.device = None);
                    self.device = DeviceState::Awaiting { resume, rate, last_try: Instant::now() };
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
        if let Some((index, position)) = resume {
            self.open_from(index, position);
        }
    }

    /// Tries again, now and then, to open an output for a player whose device went away.
    fn retry_awaited_device(&mut self) {
        let DeviceState::Awaiting { resume, rate, last_try } = &mut self.device else { return };
        if last_try.elapsed() < DEVICE_RETRY {
            return;
        }
        *last_try = Instant::now();
        let (resume, rate) = (*resume, *rate);
        if let Err(error) = self.open_device(rate) {
            tracing::debug!(%error, "still no output device");
            return;
        }
        tracing::info!("an output device is back; playback goes on");
        self.go_on_on_the_new_output(Some(resume));
    }

    fn watch_device(&mut self) {
        let Some(open) = self.device.open() else {
            self.retry_awaited_device();
            return;
        };
        if self.shared.device_failed.load(Ordering::Acquire) {
            tracing::warn!("the output device failed; reopening");
            self.reopen_device();
            return;
        }
        if self.follows_default_device()
            && self.last_default_check.elapsed() >= DEFAULT_DEVICE_POLL
            && self.playback_active()
        {
            self.last_default_check = Instant::now();
            let default = self.outputs.default_device_name();
            if default.is_some() && default.as_deref() != Some(open.output.device_name.as_str()) {
                tracing::info!(?default, "the default output device changed");
                self.reopen_device();
            }
        }
    }

    /// Until the prefill is in the ring, starvation is the start of playback, not an underrun.
    fn begin_priming(&mut self) {
        self.shared.expect_audio.store(false, Ordering::Relaxed);
        self.shared.priming.store(true, Ordering::Relaxed);
        if let DeviceState::Open(open) = &mut self.device {
            open.priming_since = Some(Instant::now());
        }
    }

    /// Starts the device once the ring holds the prefill (or the source has had its time),
    /// and from then on counts an empty ring as an underrun, until everything the queue had
    /// to give is in the ring: a ring that runs dry after that is the end, not an underrun.
    fn update_expectations(&mut self) {
        let more_to_come = self.busy();
        let DeviceState::Open(open) = &mut self.device else {
            if !more_to_come {
                self.shared.expect_audio.store(false, Ordering::Relaxed);
            }
            return;
        };
        let Some(since) = open.priming_since else {
            if !more_to_come {
                self.shared.expect_audio.store(false, Ordering::Relaxed);
            }
            return;
        };
        if open.queued_frames() < open.prefill_frames() && more_to_come && since.elapsed() < PREFILL_TIMEOUT {
            return;
        }
        open.priming_since = None;
        self.shared.priming.store(false, Ordering::Relaxed);
        if let Err(error) = open.output.start() {
            self.emit_error(None, &error);
            self.stop();
            return;
        }
        self.shared.expect_audio.store(more_to_come, Ordering::Relaxed);
    }

    /// Moves decoded audio into the ring and decodes more while there is room.
    fn pump(&mut self) {
        self.pump_ring();
        self.update_expectations();
    }

    fn pump_ring(&mut self) {
        for _ in 0..16 {
            let DeviceState::Open(open) = &mut self.device else {
                self.pending.clear();
                return;
            };
            if !self.pending.is_empty() {
                let room = open.ring.slots() / OUTPUT_CHANNELS * OUTPUT_CHANNELS;
                let count = room.min(self.pending.len());
                let (pushed, _) = open.ring.push_partial_slice(&self.pending[..count]);
                let pushed = pushed.len();
                self.pending.drain(..pushed);
                self.pushed_frames += (pushed / OUTPUT_CHANNELS) as u64;
                if !self.pending.is_empty() {
                    return;
                }
            }
            let Some(index) = self.decoding else { return };
            match open.chain.fill(&mut self.pending) {
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
    use std::sync::Mutex;

    use super::*;
    use crate::engine::report::reporting;
    use crate::output::{Callback, DeviceStream, Output};

    use crate::engine::tests::tone_wav;

    const RATE: u32 = 44_100;

    /// A device whose clock is the test: it hands the ring's consumer over so the test can
    /// call the real callback in whatever bursts it likes.
    #[derive(Default)]
    struct ByHand {
        consumer: Arc<Mutex<Option<rtrb::Consumer<f32>>>>,
    }

    struct NoStream;

    impl DeviceStream for NoStream {
        fn play(&self) -> Result<(), AudioError> {
            Ok(())
        }
    }

    impl Outputs for ByHand {
        fn open(
            &self,
            _device: Option<&str>,
            rate: u32,
            consumer: rtrb::Consumer<f32>,
            _errors: StreamErrors,
        ) -> Result<Output, AudioError> {
            *self.consumer.lock().unwrap() = Some(consumer);
            Ok(Output::new(Box::new(NoStream), rate, "by hand".into()))
        }

        fn default_device_name(&self) -> Option<String> {
            None
        }
    }

    fn decoder(outputs: Box<dyn Outputs>) -> (DecoderThread, Arc<Shared>, std::sync::mpsc::Sender<Command>) {
        let shared = Arc::new(Shared::new());
        let (sender, receiver) = std::sync::mpsc::channel();
        let config =
            EngineConfig { device: Some("by hand".into()), volume: 1.0, gain: GainSettings::default() };
        let (_, reports, _reporter) = reporting(Arc::clone(&shared), Arc::new(|_| {}));
        let errors = StreamErrors::new(Arc::clone(&shared), Arc::new(|| {}));
        let decoder = DecoderThread::new(receiver, &config, Arc::clone(&shared), reports, outputs, errors);
        (decoder, shared, sender)
    }

    /// The decoder's turn: it decodes until the ring is full or the queue is done.
    fn refill(decoder: &mut DecoderThread) {
        decoder.pump();
        while decoder.busy() && decoder.device.open().is_some_and(|open| open.ring_has_room()) {
            decoder.pump();
        }
    }

    #[test]
    fn a_device_pulling_large_bursts_is_never_starved_and_start_and_end_are_not_underruns() {
        let dir = tempfile::tempdir().unwrap();
        let wav = tone_wav(&dir, 3);
        let outputs = ByHand::default();
        let consumer = Arc::clone(&outputs.consumer);
        let (mut decoder, shared, _commands) = decoder(Box::new(outputs));
        decoder.handle(Command::PlayNow(vec![QueueItem::file(&wav)], 0));
        let consumer = consumer.lock().unwrap().take().expect("the play opened an output");
        let mut callback = Callback::new(consumer, Arc::clone(&shared), RATE);
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

    #[test]
    fn a_cued_queue_waits_paused_at_its_position_and_resumes_from_there() {
        let dir = tempfile::tempdir().unwrap();
        let wav = tone_wav(&dir, 3);
        let outputs = ByHand::default();
        let consumer = Arc::clone(&outputs.consumer);
        let (mut decoder, shared, _commands) = decoder(Box::new(outputs));
        decoder.handle(Command::Cue(vec![QueueItem::file(&wav), QueueItem::file(&wav)], 1, 2.0));
        assert_eq!(decoder.reports.read(|view| view.state()), PlaybackState::Paused);
        assert!(shared.paused.load(Ordering::Relaxed), "nothing sounds until resumed");
        let consumer = consumer.lock().unwrap().take().unwrap();
        let mut callback = Callback::new(consumer, Arc::clone(&shared), RATE);
        refill(&mut decoder);
        decoder.handle(Command::Resume);
        assert_eq!(decoder.reports.read(|view| view.state()), PlaybackState::Playing);
        let mut burst = vec![0.0f32; 4_096 * OUTPUT_CHANNELS];
        callback.fill(&mut burst, OUTPUT_CHANNELS);
        let (index, position) = decoder.playing_index_and_position().expect("a track plays");
        assert_eq!(index, 1);
        assert!((2.0..2.5).contains(&position), "resumed at {position} s, cued at 2 s");
    }

    #[test]
    fn with_nothing_to_do_the_decoder_thread_sleeps_until_a_command_comes() {
        let dir = tempfile::tempdir().unwrap();
        let wav = tone_wav(&dir, 3);
        let outputs = ByHand::default();
        let consumer = Arc::clone(&outputs.consumer);
        let (mut decoder, shared, _commands) = decoder(Box::new(outputs));
        assert_eq!(decoder.wait(), Wait::Forever, "before anything played");

        decoder.handle(Command::PlayNow(vec![QueueItem::file(&wav)], 0));
        assert_eq!(decoder.wait(), Wait::No, "a track to decode and room in the ring");
        let consumer = consumer.lock().unwrap().take().unwrap();
        let mut callback = Callback::new(consumer, Arc::clone(&shared), RATE);
        refill(&mut decoder);
        assert!(matches!(decoder.wait(), Wait::For(_)), "playing: it waits for room, then for the end");

        // Paused with a full ring, the device takes nothing: no reason to wake.
        decoder.handle(Command::Pause);
        let paused = decoder.wait();
        assert_eq!(paused, Wait::Forever, "paused on a named device");

        decoder.handle(Command::Resume);
        let mut burst = vec![0.0f32; 16_384 * OUTPUT_CHANNELS];
        while decoder.busy() {
            callback.fill(&mut burst, OUTPUT_CHANNELS);
            refill(&mut decoder);
        }
        decoder.handle(Command::Stop);
        assert_eq!(decoder.wait(), Wait::Forever, "stopped");

        // Following the system default, a playing or paused player checks it now and then;
        // a stopped one does not.
        decoder.chosen_device = None;
        decoder.handle(Command::PlayNow(vec![QueueItem::file(&wav)], 0));
        refill(&mut decoder);
        decoder.handle(Command::Pause);
        assert!(matches!(decoder.wait(), Wait::For(wait) if wait <= DEFAULT_DEVICE_POLL));
        decoder.handle(Command::Stop);
        assert_eq!(decoder.wait(), Wait::Forever, "stopped, following the default");
    }
}
