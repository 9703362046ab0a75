//! The decoder thread's side of the output: whether an output is open, and if it is, the
//! stream, the ring that feeds it and the chain that runs at its rate, which exist together
//! and go together.

use std::time::{Duration, Instant};

use crate::AudioError;
use crate::chain::{Chain, OUTPUT_CHANNELS};
use crate::dsp::GainSettings;
use crate::output::{Output, Outputs, StreamErrors};

/// How much decoded audio waits in the ring. A device may take far more than one period at
/// once (a sink behind a pipe took 0.37 s in one burst, which a 0.25 s ring turned into
/// silence), and the ring must also ride out a busy machine. Its size costs no latency:
/// seeks and skips flush it, volume and pause act in the callback, and a queue edit that
/// changes the next track re-decodes from the playing position.
const RING_SECONDS: f64 = 1.0;
/// How much the ring holds before a (re)started stream counts as playing: the device then
/// starts on audio, not on silence.
const PREFILL_SECONDS: f64 = 0.1;
/// The decoder tops the ring up once this much of it is free.
const ROOM_FRAMES: usize = 1024;

pub(super) enum DeviceState {
    /// No output: none opened yet, or a play command found none to open.
    Closed,
    /// The output went away during playback and none could be opened in its place. Playback
    /// waits here, to go on from `resume` (queue index, seconds) when a device appears.
    Awaiting {
        resume: (usize, f64),
        rate: u32,
        last_try: Instant,
    },
    Open(Box<OpenOutput>),
}

impl DeviceState {
    pub(super) fn open(&self) -> Option<&OpenOutput> {
        match self {
            DeviceState::Open(open) => Some(open),
            _ => None,
        }
    }

    pub(super) fn chain_mut(&mut self) -> Option<&mut Chain> {
        match self {
            DeviceState::Open(open) => Some(&mut open.chain),
            _ => None,
        }
    }
}

pub(super) struct OpenOutput {
    pub output: Output,
    pub ring: rtrb::Producer<f32>,
    /// Decodes into the ring at the output's rate.
    pub chain: Chain,
    /// Set from a start or a reopen until the ring holds the prefill; meanwhile an empty
    /// ring is the start, not an underrun.
    pub priming_since: Option<Instant>,
}

impl OpenOutput {
    pub(super) fn rate(&self) -> u32 {
        self.output.rate
    }

    pub(super) fn ring_has_room(&self) -> bool {
        self.ring.slots() >= OUTPUT_CHANNELS * ROOM_FRAMES
    }

    /// How long the device takes to free room for another top-up, at its rate.
    pub(super) fn until_room(&self) -> Duration {
        let free = self.ring.slots() / OUTPUT_CHANNELS;
        let missing = ROOM_FRAMES.saturating_sub(free);
        Duration::from_secs_f64(missing as f64 / f64::from(self.rate().max(1)))
            .clamp(Duration::from_millis(1), Duration::from_millis(20))
    }

    /// Frames in the ring that the device has yet to take.
    pub(super) fn queued_frames(&self) -> usize {
        (self.ring.buffer().capacity() - self.ring.slots()) / OUTPUT_CHANNELS
    }

    /// How many frames a start waits for before the device starts pulling.
    pub(super) fn prefill_frames(&self) -> usize {
        let capacity = self.ring.buffer().capacity() / OUTPUT_CHANNELS;
        ((f64::from(self.rate()) * PREFILL_SECONDS) as usize).min(capacity / 2)
    }
}

/// The ring's size in samples for a device at `rate`.
fn ring_capacity(rate: u32) -> usize {
    ((f64::from(rate) * RING_SECONDS) as usize * OUTPUT_CHANNELS).max(4096)
}

/// Opens an output on `chosen` (`None`: the default), at `rate` if the device allows, with an
/// empty ring and a fresh chain. When the chosen device is gone, the default plays instead
/// rather than nothing at all.
pub(super) fn open(
    outputs: &dyn Outputs,
    chosen: Option<&str>,
    rate: u32,
    gain: GainSettings,
    errors: &StreamErrors,
) -> Result<OpenOutput, AudioError> {
    let capacity = ring_capacity(rate);
    let (ring, consumer) = rtrb::RingBuffer::new(capacity);
    let (output, ring) = match outputs.open(chosen, rate, consumer, errors.clone()) {
        Ok(output) => (output, ring),
        Err(error) if chosen.is_some() => {
            tracing::warn!(%error, "falling back to the default output device");
            let (ring, consumer) = rtrb::RingBuffer::new(capacity);
            // When the default fails too, the chosen device's error is the one to show.
            let output = outputs.open(None, rate, consumer, errors.clone()).map_err(|_| error)?;
            (output, ring)
        }
        Err(error) => return Err(error),
    };
    let chain = Chain::new(output.rate, gain);
    Ok(OpenOutput { output, ring, chain, priming_since: Some(Instant::now()) })
}
