//! The device side: cpal streams and the real-time callback. The callback only copies samples
//! out of the ring, ramps a gain and counts frames: no allocation, no lock, no blocking.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SizedSample};

use crate::AudioError;
use crate::chain::OUTPUT_CHANNELS;

/// An output device as front ends list it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct DeviceInfo {
    /// The identifier to pass back when choosing the device.
    pub name: String,
    /// A human-readable description.
    pub description: String,
    pub is_default: bool,
}

/// The output devices of the default host.
pub fn list_devices() -> Result<Vec<DeviceInfo>, AudioError> {
    let host = cpal::default_host();
    let default_id = host.default_output_device().and_then(|d| d.id().ok()).map(|id| id.to_string());
    let devices = host.output_devices().map_err(|e| AudioError::Device(e.to_string()))?;
    Ok(devices
        .filter_map(|device| {
            let name = device.id().ok()?.to_string();
            let description =
                device.description().map(|d| d.name().to_owned()).unwrap_or_else(|_| name.clone());
            let is_default = default_id.as_deref() == Some(name.as_str());
            Some(DeviceInfo { name, description, is_default })
        })
        .collect())
}

/// State shared between the decoder thread, the reporter and the callback. Only atomics, so
/// the callback never waits.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The reference point for `first_sample_nanos`.
    pub epoch: std::time::Instant,
    /// Set by a play command; the callback clears it and stamps `first_sample_nanos` when it
    /// hands the first frame to the device.
    pub first_sample_pending: AtomicBool,
    pub first_sample_nanos: AtomicU64,
    /// Frames taken out of the ring by the callback, played or flushed.
    pub consumed_frames: AtomicU64,
    /// Callbacks that found the ring short while audio was expected.
    pub underruns: AtomicU64,
    /// Set while the decoder has more to give; an empty ring is then an underrun.
    pub expect_audio: AtomicBool,
    pub paused: AtomicBool,
    /// Target amplitude, as f32 bits.
    pub volume_bits: AtomicU32,
    /// The decoder bumps this to have the callback drop what the ring holds.
    pub flush_request: AtomicU64,
    pub flush_done: AtomicU64,
    /// The stream reported that the device is gone or changed.
    pub device_failed: AtomicBool,
    /// Set while a start waits for its prefill: the reporter shows a long wait as buffering,
    /// since the callback counts no underruns meanwhile.
    pub priming: AtomicBool,
}

impl Shared {
    pub(crate) fn new() -> Self {
        Shared {
            epoch: std::time::Instant::now(),
            first_sample_pending: AtomicBool::new(false),
            first_sample_nanos: AtomicU64::new(0),
            consumed_frames: AtomicU64::new(0),
            underruns: AtomicU64::new(0),
            expect_audio: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            volume_bits: AtomicU32::new(1.0f32.to_bits()),
            flush_request: AtomicU64::new(0),
            flush_done: AtomicU64::new(0),
            device_failed: AtomicBool::new(false),
            priming: AtomicBool::new(false),
        }
    }

    pub(crate) fn set_volume(&self, amplitude: f32) {
        self.volume_bits.store(amplitude.to_bits(), Ordering::Relaxed);
    }
}

/// A built output stream, not yet pulling from its ring.
pub(crate) trait DeviceStream: Send {
    /// Starts the device pulling from the ring.
    fn play(&self) -> Result<(), AudioError>;
}

impl DeviceStream for cpal::Stream {
    fn play(&self) -> Result<(), AudioError> {
        StreamTrait::play(self).map_err(|e| AudioError::Device(e.to_string()))
    }
}

pub(crate) struct Output {
    stream: Box<dyn DeviceStream>,
    started: bool,
    pub rate: u32,
    pub device_name: String,
}

impl Output {
    pub(crate) fn new(stream: Box<dyn DeviceStream>, rate: u32, device_name: String) -> Self {
        Output { stream, started: false, rate, device_name }
    }

    /// Lets the device start pulling from the ring. Deferred until the ring holds audio, so
    /// the first callbacks play the track rather than silence.
    pub(crate) fn start(&mut self) -> Result<(), AudioError> {
        if !self.started {
            self.stream.play()?;
            self.started = true;
        }
        Ok(())
    }

    /// Whether the device is pulling from the ring (and so will answer a flush request).
    pub(crate) fn running(&self) -> bool {
        self.started
    }
}

/// Where the engine gets its output streams. [`CpalOutputs`] is the one it plays through;
/// the engine's unit tests wrap it to take every device away, or stand in for the device's
/// clock to pull from the ring by hand.
pub(crate) trait Outputs: Send {
    /// Opens `device_name` (or the default device) at `preferred_rate` if it can, playing
    /// from `consumer`; `errors` is told when the stream fails.
    fn open(
        &self,
        device_name: Option<&str>,
        preferred_rate: u32,
        consumer: rtrb::Consumer<f32>,
        errors: StreamErrors,
    ) -> Result<Output, AudioError>;

    /// The identifier of the current default output device.
    fn default_device_name(&self) -> Option<String>;
}

/// The system's devices through cpal.
pub(crate) struct CpalOutputs;

impl Outputs for CpalOutputs {
    fn open(
        &self,
        device_name: Option<&str>,
        preferred_rate: u32,
        consumer: rtrb::Consumer<f32>,
        errors: StreamErrors,
    ) -> Result<Output, AudioError> {
        open_output(device_name, preferred_rate, consumer, errors)
    }

    fn default_device_name(&self) -> Option<String> {
        cpal::default_host().default_output_device().and_then(|d| d.id().ok()).map(|id| id.to_string())
    }
}

/// Opens `device_name` (or the default device), preferring `preferred_rate` so most tracks
/// play without conversion, and builds a stream fed from `consumer`; [`Output::start`] starts
/// it.
fn open_output(
    device_name: Option<&str>,
    preferred_rate: u32,
    consumer: rtrb::Consumer<f32>,
    errors: StreamErrors,
) -> Result<Output, AudioError> {
    let host = cpal::default_host();
    let device = match device_name {
        None => host.default_output_device().ok_or(AudioError::NoDevice)?,
        Some(name) => host
            .output_devices()
            .map_err(|e| AudioError::Device(e.to_string()))?
            .find(|d| {
                d.id().is_ok_and(|id| id.to_string() == name)
                    || d.description().is_ok_and(|desc| desc.name() == name)
            })
            .ok_or_else(|| AudioError::UnknownDevice(name.to_owned()))?,
    };
    let name = device.id().map(|id| id.to_string()).unwrap_or_else(|_| "unknown".into());
    let default = device.default_output_config().map_err(|e| AudioError::Device(e.to_string()))?;
    let supported = device
        .supported_output_configs()
        .map_err(|e| AudioError::Device(e.to_string()))?
        // The device's own channel count: a plug device also offers mono, listed first, and
        // a stream opened mono would fold every track down to one channel.
        .filter(|c| c.sample_format() == default.sample_format() && c.channels() == default.channels())
        .find(|c| c.min_sample_rate() <= preferred_rate && preferred_rate <= c.max_sample_rate())
        .map(|c| c.with_sample_rate(preferred_rate));
    let config = supported.unwrap_or(default);
    let sample_format = config.sample_format();
    let stream_config: cpal::StreamConfig = config.into();
    let rate = stream_config.sample_rate;
    let stream = match sample_format {
        cpal::SampleFormat::F32 => build::<f32>(&device, &stream_config, consumer, errors),
        cpal::SampleFormat::I16 => build::<i16>(&device, &stream_config, consumer, errors),
        cpal::SampleFormat::I32 => build::<i32>(&device, &stream_config, consumer, errors),
        cpal::SampleFormat::U16 => build::<u16>(&device, &stream_config, consumer, errors),
        other => return Err(AudioError::Device(format!("unsupported sample format {other}"))),
    }?;
    // The period is what one callback must supply at once; the ring has to hold several.
    let period = stream.buffer_size().ok();
    tracing::info!(device = %name, rate, ?period, format = %sample_format, "output stream built");
    Ok(Output::new(Box::new(stream), rate, name))
}

fn build<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    consumer: rtrb::Consumer<f32>,
    errors: StreamErrors,
) -> Result<cpal::Stream, AudioError>
where
    T: SizedSample + FromSample<f32>,
{
    let device_channels = usize::from(config.channels);
    let mut callback = Callback::new(consumer, Arc::clone(&errors.shared), config.sample_rate);
    device
        .build_output_stream(
            *config,
            move |data: &mut [T], _: &cpal::OutputCallbackInfo| callback.fill(data, device_channels),
            move |error: cpal::Error| errors.report(&error),
            None,
        )
        .map_err(|e| AudioError::Device(e.to_string()))
}

/// What a stream's error callback does. A lost or changed device is flagged and the decoder
/// thread woken, which reopens the output and goes on from where playback was; an xrun is
/// only logged, since the backend recovers from it by itself.
#[derive(Clone)]
pub(crate) struct StreamErrors {
    shared: Arc<Shared>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl StreamErrors {
    /// `wake` is called once per failure, off the real-time callback: cpal reports errors on
    /// its error path, where waking a thread may allocate or take a lock.
    pub(crate) fn new(shared: Arc<Shared>, wake: Arc<dyn Fn() + Send + Sync>) -> Self {
        StreamErrors { shared, wake }
    }

    pub(crate) fn report(&self, error: &cpal::Error) {
        tracing::warn!(%error, "audio stream error");
        let lost = matches!(
            error.kind(),
            cpal::ErrorKind::DeviceNotAvailable
                | cpal::ErrorKind::DeviceChanged
                | cpal::ErrorKind::StreamInvalidated
        );
        // Until an output is opened again, more errors from the dying stream add nothing.
        if lost && !self.shared.device_failed.swap(true, Ordering::AcqRel) {
            (self.wake)();
        }
    }
}

/// What the real-time callback owns.
pub(crate) struct Callback {
    consumer: rtrb::Consumer<f32>,
    shared: Arc<Shared>,
    gain: f32,
    /// Largest gain change per frame: a full swing takes 10 ms, short enough to feel instant
    /// and long enough not to click.
    ramp_step: f32,
    flushes_seen: u64,
}

impl Callback {
    pub(crate) fn new(consumer: rtrb::Consumer<f32>, shared: Arc<Shared>, rate: u32) -> Self {
        let flushes_seen = shared.flush_request.load(Ordering::Acquire);
        Callback { consumer, shared, gain: 0.0, ramp_step: 1.0 / (rate as f32 * 0.010), flushes_seen }
    }

    pub(crate) fn fill<T: SizedSample + FromSample<f32>>(&mut self, data: &mut [T], device_channels: usize) {
        let flush = self.shared.flush_request.load(Ordering::Acquire);
        if flush != self.flushes_seen {
            let queued = self.consumer.slots();
            if let Ok(chunk) = self.consumer.read_chunk(queued) {
                chunk.commit_all();
            }
            self.shared.consumed_frames.fetch_add((queued / OUTPUT_CHANNELS) as u64, Ordering::AcqRel);
            self.flushes_seen = flush;
            self.shared.flush_done.store(flush, Ordering::Release);
        }
        let paused = self.shared.paused.load(Ordering::Relaxed);
        let volume = f32::from_bits(self.shared.volume_bits.load(Ordering::Relaxed));
        let target = if paused { 0.0 } else { volume };
        let mut consumed = 0u64;
        let mut starved = false;
        for frame in data.chunks_mut(device_channels) {
            let (left, right) = if paused && self.gain == 0.0 {
                (0.0, 0.0)
            } else if self.consumer.slots() >= OUTPUT_CHANNELS {
                let left = self.consumer.pop().unwrap_or(0.0);
                let right = self.consumer.pop().unwrap_or(0.0);
                consumed += 1;
                (left, right)
            } else {
                starved = true;
                (0.0, 0.0)
            };
            self.gain += (target - self.gain).clamp(-self.ramp_step, self.ramp_step);
            let (left, right) = (left * self.gain, right * self.gain);
            match frame {
                [mono] => *mono = T::from_sample((left + right) * 0.5),
                [l, r, rest @ ..] => {
                    *l = T::from_sample(left);
                    *r = T::from_sample(right);
                    for extra in rest {
                        *extra = T::from_sample(0.0f32);
                    }
                }
                [] => {}
            }
        }
        if consumed > 0 {
            self.shared.consumed_frames.fetch_add(consumed, Ordering::AcqRel);
            if self.shared.first_sample_pending.swap(false, Ordering::AcqRel) {
                let nanos = self.shared.epoch.elapsed().as_nanos() as u64;
                self.shared.first_sample_nanos.store(nanos, Ordering::Release);
            }
        }
        if starved && !paused && self.shared.expect_audio.load(Ordering::Relaxed) {
            self.shared.underruns.fetch_add(1, Ordering::Relaxed);
        }
    }
}
