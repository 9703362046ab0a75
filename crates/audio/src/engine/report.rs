//! Reporting: what front ends see of playback. The decoder thread records what it starts
//! (track marks at frame counts) and what it decides (states, errors, queue changes) in the
//! [`View`]; the reporter thread turns the callback's frame count into track changes,
//! positions and buffering, and is the only thread that hands events to the front end. Every
//! event is queued in the view under its lock and sent in that order, so a track change
//! always comes before the first position of that track.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{EngineEvent, EventFn, PREFILL_TIMEOUT, PlaybackState, PlayerStatus};
use crate::output::Shared;
use crate::queue::RepeatMode;

const POSITION_EVERY: Duration = Duration::from_millis(250);
/// How often the reporter looks at the device while something plays.
const REPORT_TICK: Duration = Duration::from_millis(50);

#[derive(Debug, Clone)]
pub(super) struct PlayingTrack {
    pub index: usize,
    pub track_id: i64,
    pub name: String,
    pub duration_secs: Option<f64>,
    /// The frame count at which this track (from `offset_secs`) reaches the device.
    pub start_frame: u64,
    pub offset_secs: f64,
}

/// Something the device reaches at a frame count.
#[derive(Debug)]
pub(super) enum Mark {
    Track(PlayingTrack),
    /// The queue's last frame.
    End {
        at_frame: u64,
    },
}

impl Mark {
    fn at_frame(&self) -> u64 {
        match self {
            Mark::Track(t) => t.start_frame,
            Mark::End { at_frame } => *at_frame,
        }
    }
}

/// What front ends can see of playback, and the events not yet sent.
#[derive(Debug)]
pub(super) struct View {
    marks: VecDeque<Mark>,
    current: Option<PlayingTrack>,
    state: PlaybackState,
    pub rate: u32,
    pub device: Option<String>,
    pub queue_names: Vec<String>,
    pub queue_track_ids: Vec<i64>,
    pub shuffle: bool,
    pub repeat: RepeatMode,
    /// Set while the callback drops what the ring holds: the frame count then runs ahead of
    /// what was played, so it says nothing about tracks or positions.
    flushing: bool,
    /// Events in the order they happened, for the reporter to send.
    unsent: Vec<EngineEvent>,
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
            flushing: false,
            unsent: Vec::new(),
        }
    }
}

impl View {
    pub(super) fn state(&self) -> PlaybackState {
        self.state
    }

    /// Queues `event` to be sent after everything queued before it.
    pub(super) fn send(&mut self, event: EngineEvent) {
        self.unsent.push(event);
    }

    pub(super) fn set_state(&mut self, state: PlaybackState) {
        if self.state != state {
            self.state = state;
            self.send(EngineEvent::StateChanged { state });
        }
    }

    pub(super) fn push_mark(&mut self, mark: Mark) {
        self.marks.push_back(mark);
    }

    /// Playback has stopped: no track is playing.
    pub(super) fn clear_current(&mut self) {
        self.current = None;
    }

    /// The track the device is in at frame count `consumed`, whether or not the reporter has
    /// announced it yet.
    fn playing_at(&self, consumed: u64) -> Option<&PlayingTrack> {
        let mut playing = self.current.as_ref();
        for mark in self.marks.iter().take_while(|m| m.at_frame() <= consumed) {
            playing = match mark {
                Mark::Track(track) => Some(track),
                Mark::End { .. } => None,
            };
        }
        playing
    }

    fn position_in(&self, track: &PlayingTrack, consumed: u64) -> f64 {
        let played = consumed.saturating_sub(track.start_frame);
        track.offset_secs + played as f64 / f64::from(self.rate.max(1))
    }

    /// The playing queue index and the position in it at frame count `consumed`.
    pub(super) fn playing(&self, consumed: u64) -> Option<(usize, f64)> {
        let track = self.playing_at(consumed)?;
        Some((track.index, self.position_in(track, consumed)))
    }

    /// Applies the marks the device has reached at `consumed`, queueing what they announce.
    fn advance(&mut self, consumed: u64, shared: &Shared) {
        while self.marks.front().is_some_and(|m| m.at_frame() <= consumed) {
            match self.marks.pop_front() {
                Some(Mark::Track(track)) => {
                    // A seek within the track is not a change of track.
                    let changed = self.current.as_ref().is_none_or(|c| c.index != track.index)
                        || track.offset_secs == 0.0;
                    if changed {
                        self.send(EngineEvent::TrackChanged {
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
                    self.set_state(PlaybackState::Stopped);
                    self.send(EngineEvent::QueueEnded);
                }
                None => {}
            }
        }
    }

    /// The ring is about to be emptied: what the device has played so far is announced, the
    /// marks ahead of it are dropped, and the frame count is not read until
    /// [`View::end_flush`].
    pub(super) fn begin_flush(&mut self, consumed: u64, shared: &Shared) {
        self.advance(consumed, shared);
        self.marks.clear();
        self.flushing = true;
    }

    pub(super) fn end_flush(&mut self) {
        self.flushing = false;
    }

    /// The output went away with what its ring held: marks ahead of what was played are
    /// dropped (playback is started again from the playing position).
    pub(super) fn drop_marks(&mut self, consumed: u64, shared: &Shared) {
        self.advance(consumed, shared);
        self.marks.clear();
    }

    pub(super) fn status(&self, consumed: u64, underruns: u64) -> PlayerStatus {
        let playing = self.playing_at(consumed);
        PlayerStatus {
            state: self.state,
            index: playing.map(|c| c.index),
            track_id: playing.map(|c| c.track_id),
            position_secs: playing.map_or(0.0, |track| self.position_in(track, consumed)),
            duration_secs: playing.and_then(|c| c.duration_secs),
            queue: self.queue_names.clone(),
            queue_track_ids: self.queue_track_ids.clone(),
            shuffle: self.shuffle,
            repeat: self.repeat,
            device: self.device.clone(),
            output_rate: (self.rate > 0).then_some(self.rate),
            underruns,
        }
    }
}

pub(super) fn lock(view: &Mutex<View>) -> MutexGuard<'_, View> {
    // The view is plain bookkeeping, valid after any panic that poisoned it.
    view.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The decoder thread's side: changes to the view, each followed by a wake-up of the reporter.
pub(super) struct Reports {
    view: Arc<Mutex<View>>,
    wake: SyncSender<()>,
}

impl Reports {
    /// Changes the view and has the reporter send what the change queued.
    pub(super) fn update<R>(&self, change: impl FnOnce(&mut View) -> R) -> R {
        let result = change(&mut lock(&self.view));
        // A full channel already holds a wake-up the reporter has yet to act on.
        let _ = self.wake.try_send(());
        result
    }

    pub(super) fn read<R>(&self, look: impl FnOnce(&View) -> R) -> R {
        look(&lock(&self.view))
    }
}

/// The view, the decoder thread's handle on it, and the reporter that sends its events. The
/// reporter runs until every [`Reports`] is dropped.
pub(super) fn reporting(shared: Arc<Shared>, events: EventFn) -> (Arc<Mutex<View>>, Reports, Reporter) {
    let view = Arc::new(Mutex::new(View::default()));
    let (wake, woken) = std::sync::mpsc::sync_channel(1);
    let reporter = Reporter {
        view: Arc::clone(&view),
        shared,
        events,
        woken,
        last_check: Instant::now(),
        last_position: Instant::now(),
        last_consumed: 0,
        last_underruns: 0,
        priming_since: None,
    };
    (Arc::clone(&view), Reports { view, wake }, reporter)
}

/// The thread that sends every event.
pub(super) struct Reporter {
    view: Arc<Mutex<View>>,
    shared: Arc<Shared>,
    events: EventFn,
    woken: Receiver<()>,
    last_check: Instant,
    last_position: Instant,
    last_consumed: u64,
    last_underruns: u64,
    priming_since: Option<Instant>,
}

impl Reporter {
    pub(super) fn run(mut self) {
        loop {
            let connected = match self.next_look() {
                None => self.woken.recv().is_ok(),
                Some(wait) => !matches!(self.woken.recv_timeout(wait), Err(RecvTimeoutError::Disconnected)),
            };
            for event in self.collect() {
                self.send(event);
            }
            if !connected {
                return;
            }
        }
    }

    /// How long until the device needs looking at again; `None` while nothing moves (stopped
    /// or paused), when only the decoder thread has news and it wakes the reporter to send it.
    fn next_look(&self) -> Option<Duration> {
        let view = lock(&self.view);
        let moving = match view.state {
            PlaybackState::Playing | PlaybackState::Buffering => true,
            PlaybackState::Paused => false,
            PlaybackState::Stopped => !view.marks.is_empty(),
        };
        moving.then(|| REPORT_TICK.saturating_sub(self.last_check.elapsed()))
    }

    /// Everything to send now: what the decoder thread queued, then what the device reached.
    fn collect(&mut self) -> Vec<EngineEvent> {
        let shared_view = Arc::clone(&self.view);
        let mut view = lock(&shared_view);
        if !view.flushing {
            let consumed = self.shared.consumed_frames.load(Ordering::Acquire);
            view.advance(consumed, &self.shared);
            if self.last_check.elapsed() >= REPORT_TICK {
                self.look(&mut view, consumed);
            }
        }
        std::mem::take(&mut view.unsent)
    }

    /// Buffering and positions, from how the frame count moved since the last look.
    fn look(&mut self, view: &mut View, consumed: u64) {
        self.last_check = Instant::now();
        let underruns = self.shared.underruns.load(Ordering::Relaxed);
        self.priming_since = match (self.shared.priming.load(Ordering::Relaxed), self.priming_since) {
            (true, since) => since.or_else(|| Some(Instant::now())),
            (false, _) => None,
        };
        // A source that takes longer than the prefill timeout to give its first audio (a
        // decoder blocked on the network) is buffering as much as a starved ring is.
        let slow_start = self.priming_since.is_some_and(|since| since.elapsed() >= PREFILL_TIMEOUT);
        // The ring ran dry while audio was expected: buffering, until frames flow again.
        let starving = (underruns > self.last_underruns || slow_start) && consumed == self.last_consumed;
        match view.state {
            PlaybackState::Playing if starving => view.set_state(PlaybackState::Buffering),
            PlaybackState::Buffering if consumed != self.last_consumed => {
                view.set_state(PlaybackState::Playing)
            }
            _ => {}
        }
        if view.state == PlaybackState::Playing && self.last_position.elapsed() >= POSITION_EVERY {
            self.last_position = Instant::now();
            if let Some(current) = view.current.as_ref() {
                let event = EngineEvent::Position {
                    index: current.index,
                    track_id: current.track_id,
                    position_secs: view.position_in(current, consumed),
                    duration_secs: current.duration_secs,
                };
                view.send(event);
            }
        }
        self.last_consumed = consumed;
        self.last_underruns = underruns;
    }

    fn send(&self, event: EngineEvent) {
        // The handler is the front end's code; its panic must not silence the engine.
        if let Err(panic) = crate::catch_panic(|| (self.events)(event)) {
            tracing::error!(panic, "the playback event handler panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(index: usize, start_frame: u64) -> Mark {
        Mark::Track(PlayingTrack {
            index,
            track_id: index as i64 + 100,
            name: format!("track {index}"),
            duration_secs: Some(1.0),
            start_frame,
            offset_secs: 0.0,
        })
    }

    fn reporter_with(view: View) -> (Reporter, Reports) {
        let (_, reports, reporter) = reporting(Arc::new(Shared::new()), Arc::new(|_| {}));
        *lock(&reporter.view) = view;
        (reporter, reports)
    }

    #[test]
    fn a_track_change_is_queued_before_any_position_of_that_track() {
        let (mut reporter, reports) = reporter_with(View { rate: 100, ..View::default() });
        reports.update(|view| {
            view.set_state(PlaybackState::Playing);
            view.push_mark(track(0, 0));
            view.push_mark(track(1, 100));
        });
        // The device is 20 frames into track 1 when the reporter first looks.
        reporter.shared.consumed_frames.store(120, Ordering::Release);
        reporter.last_check = Instant::now() - REPORT_TICK;
        reporter.last_position = Instant::now() - POSITION_EVERY;
        let events = reporter.collect();
        let kinds: Vec<(&str, usize)> = events
            .iter()
            .filter_map(|e| match e {
                EngineEvent::TrackChanged { index, .. } => Some(("track", *index)),
                EngineEvent::Position { index, .. } => Some(("position", *index)),
                _ => None,
            })
            .collect();
        assert_eq!(kinds, vec![("track", 0), ("track", 1), ("position", 1)], "{events:?}");
        let position = events.iter().find_map(|e| match e {
            EngineEvent::Position { position_secs, .. } => Some(*position_secs),
            _ => None,
        });
        assert_eq!(position, Some(0.2));
    }

    #[test]
    fn the_reporter_sleeps_until_woken_while_stopped_or_paused_and_ticks_while_playing() {
        let (reporter, reports) = reporter_with(View::default());
        assert_eq!(reporter.next_look(), None, "stopped");
        reports.update(|view| view.set_state(PlaybackState::Playing));
        assert!(reporter.next_look().is_some_and(|wait| wait <= REPORT_TICK), "playing");
        reports.update(|view| view.set_state(PlaybackState::Buffering));
        assert!(reporter.next_look().is_some(), "buffering");
        reports.update(|view| view.set_state(PlaybackState::Paused));
        assert_eq!(reporter.next_look(), None, "paused");
        // Stopped with the queue's end still ahead of the device: it looks until it is reached.
        reports.update(|view| {
            view.set_state(PlaybackState::Stopped);
            view.push_mark(Mark::End { at_frame: 10 });
        });
        assert!(reporter.next_look().is_some(), "stopped before the end mark");
    }

    #[test]
    fn the_playing_track_is_known_before_the_reporter_announces_it() {
        let mut view = View { rate: 100, ..View::default() };
        view.push_mark(track(0, 0));
        view.push_mark(track(1, 100));
        view.push_mark(Mark::End { at_frame: 200 });
        assert_eq!(view.playing(50), Some((0, 0.5)));
        assert_eq!(view.playing(150), Some((1, 0.5)));
        assert_eq!(view.playing(200), None);
        assert_eq!(view.status(150, 0).index, Some(1));
        assert!(view.unsent.is_empty(), "looking announces nothing");
    }
}
