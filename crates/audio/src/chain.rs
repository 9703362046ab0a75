//! The processing chain shared by playback and offline rendering: decode one track after
//! another, map channels to stereo, apply ReplayGain and convert to the output rate. Tracks
//! at the same rate flow through one converter, so joins between them are seamless.

use crate::AudioError;
use crate::decode::TrackDecoder;
use crate::dsp::{GainSettings, RateConverter, apply_gain, map_to_stereo, replaygain_factor};
use crate::source::QueueItem;

/// The chain always produces interleaved stereo.
pub const OUTPUT_CHANNELS: usize = 2;

/// What a [`Chain::fill`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fill {
    /// Samples were appended (possibly none, while a converter fills up).
    Decoded,
    /// The current track has no more frames.
    TrackEnded,
}

/// Facts about the track just started, for events.
#[derive(Debug, Clone)]
pub(crate) struct StartedTrack {
    pub name: String,
    pub duration_secs: Option<f64>,
}

pub(crate) struct Chain {
    output_rate: u32,
    gain_settings: GainSettings,
    current: Option<TrackDecoder>,
    gain: f32,
    converter: Option<RateConverter>,
    mapped: Vec<f32>,
}

impl Chain {
    pub(crate) fn new(output_rate: u32, gain_settings: GainSettings) -> Self {
        Chain { output_rate, gain_settings, current: None, gain: 1.0, converter: None, mapped: Vec::new() }
    }

    pub(crate) fn output_rate(&self) -> u32 {
        self.output_rate
    }

    pub(crate) fn set_gain_settings(&mut self, settings: GainSettings) {
        self.gain_settings = settings;
        if let Some(decoder) = &self.current {
            self.gain = replaygain_factor(&decoder.gain_tags(), &settings);
        }
    }

    /// Opens `item` and continues the stream with it, from `position_secs`. What the previous
    /// track left in a converter of another rate is flushed into `out` first. A panic while
    /// opening, seeking or converting is an error, and the chain starts afresh after it.
    pub(crate) fn start(
        &mut self,
        item: &QueueItem,
        position_secs: f64,
        out: &mut Vec<f32>,
    ) -> Result<StartedTrack, AudioError> {
        let started = crate::contain(|| item.name(), || self.start_unguarded(item, position_secs, out));
        if matches!(started, Err(AudioError::Fault { .. })) {
            self.reset();
        }
        started
    }

    fn start_unguarded(
        &mut self,
        item: &QueueItem,
        position_secs: f64,
        out: &mut Vec<f32>,
    ) -> Result<StartedTrack, AudioError> {
        self.current = None;
        let mut decoder = TrackDecoder::open(item)?;
        if position_secs > 0.0 {
            decoder.seek(position_secs)?;
        }
        let rate = decoder.rate();
        let keeps_converter = self.converter.as_ref().is_some_and(|c| c.from_rate() == rate);
        if !keeps_converter {
            if let Some(mut old) = self.converter.take() {
                old.finish(out)?;
            }
            if rate != self.output_rate {
                self.converter = Some(RateConverter::new(rate, self.output_rate, OUTPUT_CHANNELS)?);
            }
        }
        self.gain = replaygain_factor(&decoder.gain_tags(), &self.gain_settings);
        let started =
            StartedTrack { name: decoder.name().to_owned(), duration_secs: decoder.duration_secs() };
        self.current = Some(decoder);
        Ok(started)
    }

    /// Forgets the current track and any converter state, as after a stop.
    pub(crate) fn reset(&mut self) {
        self.current = None;
        self.converter = None;
    }

    /// Decodes one block of the current track and appends it, processed, to `out`. A panic
    /// while reading, decoding or converting ends the track with an error, and the chain
    /// starts afresh after it.
    pub(crate) fn fill(&mut self, out: &mut Vec<f32>) -> Result<Fill, AudioError> {
        crate::catch_panic(|| self.fill_unguarded(out)).unwrap_or_else(|panic| {
            let name = self.current.as_ref().map(|d| d.name().to_owned()).unwrap_or_default();
            self.reset();
            Err(crate::fault(name, &panic))
        })
    }

    fn fill_unguarded(&mut self, out: &mut Vec<f32>) -> Result<Fill, AudioError> {
        let Some(decoder) = self.current.as_mut() else { return Ok(Fill::TrackEnded) };
        let channels = decoder.channels();
        let result = decoder.next_block();
        let block = match result {
            Ok(Some(block)) => block,
            Ok(None) => {
                self.current = None;
                return Ok(Fill::TrackEnded);
            }
            Err(error) => {
                self.current = None;
                return Err(error);
            }
        };
        self.mapped.clear();
        map_to_stereo(block, channels, &mut self.mapped);
        apply_gain(&mut self.mapped, self.gain);
        match self.converter.as_mut() {
            Some(converter) => converter.push(&self.mapped, out)?,
            None => out.extend_from_slice(&self.mapped),
        }
        Ok(Fill::Decoded)
    }

    /// Ends the stream: whatever a converter still holds is written out.
    pub(crate) fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), AudioError> {
        self.current = None;
        if let Some(mut converter) = self.converter.take() {
            converter.finish(out)?;
        }
        Ok(())
    }
}
