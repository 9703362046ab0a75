//! Sample processing between the decoder and the output: channel mapping, gain and rate
//! conversion. Everything here runs on the decoder thread, never in the audio callback.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, FixedAsync, Indexing, Resampler, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};

use crate::AudioError;
use crate::decode::GainTags;

/// Which ReplayGain value to apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReplayGainMode {
    Off,
    #[default]
    Track,
    Album,
}

/// How loudness is normalised between tracks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GainSettings {
    pub mode: ReplayGainMode,
    /// Added to the tagged gain, in dB.
    pub preamp_db: f32,
}

impl Default for GainSettings {
    fn default() -> Self {
        GainSettings { mode: ReplayGainMode::Track, preamp_db: 0.0 }
    }
}

/// The linear factor for a track: the chosen gain plus pre-amp, lowered when the tagged peak
/// would clip. Untagged tracks play at unity so that lossless files stay bit-exact.
pub fn replaygain_factor(tags: &GainTags, settings: &GainSettings) -> f32 {
    let (gain, peak) = match settings.mode {
        ReplayGainMode::Off => return 1.0,
        ReplayGainMode::Track => {
            (tags.track_gain_db.or(tags.album_gain_db), tags.track_peak.or(tags.album_peak))
        }
        ReplayGainMode::Album => {
            (tags.album_gain_db.or(tags.track_gain_db), tags.album_peak.or(tags.track_peak))
        }
    };
    let Some(gain_db) = gain else { return 1.0 };
    let factor = 10f32.powf((gain_db + settings.preamp_db) / 20.0);
    match peak {
        Some(peak) if peak > 0.0 && factor * peak > 1.0 => 1.0 / peak,
        _ => factor,
    }
}

/// Maps a volume slider position (0 to 1) onto amplitude. Loudness follows amplitude roughly
/// as a cube root, so a cubic curve makes equal slider steps sound like equal steps.
pub fn perceptual_volume(slider: f32) -> f32 {
    let s = slider.clamp(0.0, 1.0);
    s * s * s
}

/// Converts interleaved frames of `from` channels into stereo, appending to `out`. Mono is
/// copied to both sides; more than two channels are downmixed with the centre and surrounds
/// at -3 dB and the result scaled so a full-scale input cannot clip. LFE is left out.
pub fn map_to_stereo(input: &[f32], from: usize, out: &mut Vec<f32>) {
    match from {
        1 => {
            for &s in input {
                out.extend_from_slice(&[s, s]);
            }
        }
        2 => out.extend_from_slice(input),
        n => {
            // Symphonia orders channels FL, FR, FC, LFE, then surround pairs (left, right).
            const SIDE: f32 = std::f32::consts::FRAC_1_SQRT_2;
            let surround_pairs = (n.saturating_sub(4)) as f32 / 2.0;
            let norm = 1.0 / (1.0 + SIDE + SIDE * surround_pairs);
            for frame in input.chunks_exact(n) {
                let mut left = frame[0];
                let mut right = frame[1];
                if n > 2 {
                    left += SIDE * frame[2];
                    right += SIDE * frame[2];
                }
                for (i, &s) in frame.iter().enumerate().skip(4) {
                    if i % 2 == 0 {
                        left += SIDE * s;
                    } else {
                        right += SIDE * s;
                    }
                }
                out.extend_from_slice(&[left * norm, right * norm]);
            }
        }
    }
}

pub fn apply_gain(samples: &mut [f32], factor: f32) {
    if factor != 1.0 {
        for s in samples {
            *s *= factor;
        }
    }
}

const CONVERTER_CHUNK_FRAMES: usize = 1024;

/// Streams audio from one sample rate to another. It keeps its filter state across calls so a
/// run of tracks at the same rate is converted as one continuous signal (no seam at joins).
pub struct RateConverter {
    resampler: Async<f32>,
    channels: usize,
    from: u32,
    to: u32,
    pending: Vec<f32>,
    chunk_out: Vec<f32>,
    delay_to_drop: usize,
    frames_in: u64,
    frames_out: u64,
}

impl RateConverter {
    pub fn new(from: u32, to: u32, channels: usize) -> Result<Self, AudioError> {
        let params = SincInterpolationParameters::new(128, WindowFunction::BlackmanHarris2)
            .oversampling_factor(128)
            .interpolation(SincInterpolationType::Linear);
        let ratio = f64::from(to) / f64::from(from);
        let resampler =
            Async::<f32>::new_sinc(ratio, 1.0, &params, CONVERTER_CHUNK_FRAMES, channels, FixedAsync::Input)
                .map_err(|e| AudioError::Resample(e.to_string()))?;
        let delay_to_drop = resampler.output_delay();
        let chunk_out = vec![0.0; resampler.output_frames_max() * channels];
        Ok(RateConverter {
            resampler,
            channels,
            from,
            to,
            pending: Vec::with_capacity(CONVERTER_CHUNK_FRAMES * channels * 2),
            chunk_out,
            delay_to_drop,
            frames_in: 0,
            frames_out: 0,
        })
    }

    pub fn from_rate(&self) -> u32 {
        self.from
    }

    /// Converts `input` (interleaved), appending whatever output is ready to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), AudioError> {
        self.pending.extend_from_slice(input);
        self.frames_in += (input.len() / self.channels) as u64;
        let chunk = CONVERTER_CHUNK_FRAMES * self.channels;
        let mut consumed = 0;
        while self.pending.len() - consumed >= chunk {
            self.process_chunk(consumed, None, out)?;
            consumed += chunk;
        }
        self.pending.drain(..consumed);
        Ok(())
    }

    /// Drains the filter: converts what is pending and emits exactly as many frames as the
    /// input length calls for, so the stream's duration is preserved.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), AudioError> {
        let expected = (self.frames_in as f64 * f64::from(self.to) / f64::from(self.from)).round() as u64;
        let pending_frames = self.pending.len() / self.channels;
        if pending_frames > 0 {
            self.pending.resize(CONVERTER_CHUNK_FRAMES * self.channels, 0.0);
            self.process_chunk_limited(Some(pending_frames), out, expected)?;
            self.pending.clear();
        }
        while self.frames_out < expected {
            self.pending.resize(CONVERTER_CHUNK_FRAMES * self.channels, 0.0);
            self.process_chunk_limited(Some(0), out, expected)?;
        }
        self.pending.clear();
        Ok(())
    }

    fn process_chunk(
        &mut self,
        offset: usize,
        partial: Option<usize>,
        out: &mut Vec<f32>,
    ) -> Result<(), AudioError> {
        self.process_at(offset, partial, out, u64::MAX)
    }

    fn process_chunk_limited(
        &mut self,
        partial: Option<usize>,
        out: &mut Vec<f32>,
        limit: u64,
    ) -> Result<(), AudioError> {
        self.process_at(0, partial, out, limit)
    }

    fn process_at(
        &mut self,
        offset: usize,
        partial: Option<usize>,
        out: &mut Vec<f32>,
        limit: u64,
    ) -> Result<(), AudioError> {
        let channels = self.channels;
        let input_slice = &self.pending[offset..offset + CONVERTER_CHUNK_FRAMES * channels];
        let input = InterleavedSlice::new(input_slice, channels, CONVERTER_CHUNK_FRAMES)
            .map_err(|e| AudioError::Resample(e.to_string()))?;
        let out_frames_cap = self.chunk_out.len() / channels;
        let mut output = InterleavedSlice::new_mut(&mut self.chunk_out, channels, out_frames_cap)
            .map_err(|e| AudioError::Resample(e.to_string()))?;
        let indexing = partial.map(|n| Indexing::new().partial_len(n));
        let (_, produced) = self
            .resampler
            .process_into_buffer(&input, &mut output, indexing.as_ref())
            .map_err(|e| AudioError::Resample(e.to_string()))?;
        let skip = self.delay_to_drop.min(produced);
        self.delay_to_drop -= skip;
        let available = (produced - skip) as u64;
        let take = available.min(limit.saturating_sub(self.frames_out)) as usize;
        out.extend_from_slice(&self.chunk_out[skip * channels..(skip + take) * channels]);
        self.frames_out += take as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaygain_prefers_the_chosen_value_and_prevents_clipping() {
        let tags = GainTags {
            track_gain_db: Some(-6.0),
            track_peak: Some(0.5),
            album_gain_db: Some(6.0),
            album_peak: Some(0.9),
        };
        let track = replaygain_factor(&tags, &GainSettings { mode: ReplayGainMode::Track, preamp_db: 0.0 });
        assert!((track - 0.501).abs() < 0.001, "{track}");
        // +6 dB would push a 0.9 peak to 1.8; it is held at 1/0.9.
        let album = replaygain_factor(&tags, &GainSettings { mode: ReplayGainMode::Album, preamp_db: 0.0 });
        assert!((album - 1.0 / 0.9).abs() < 1e-6, "{album}");
        let off = replaygain_factor(&tags, &GainSettings { mode: ReplayGainMode::Off, preamp_db: 0.0 });
        assert_eq!(off, 1.0);
        let untagged = replaygain_factor(&GainTags::default(), &GainSettings::default());
        assert_eq!(untagged, 1.0);
    }

    #[test]
    fn downmix_keeps_full_scale_input_from_clipping() {
        let frame = [1.0f32; 6];
        let mut out = Vec::new();
        map_to_stereo(&frame, 6, &mut out);
        assert_eq!(out.len(), 2);
        assert!(out[0] <= 1.0 && out[0] > 0.9, "{out:?}");
        let mut mono = Vec::new();
        map_to_stereo(&[0.25, -0.5], 1, &mut mono);
        assert_eq!(mono, vec![0.25, 0.25, -0.5, -0.5]);
    }

    #[test]
    fn converter_preserves_duration_and_frequency() {
        let from = 44_100;
        let to = 48_000;
        let mut converter = RateConverter::new(from, to, 1).unwrap();
        let tone: Vec<f32> = (0..from)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / from as f32).sin() * 0.5)
            .collect();
        let mut out = Vec::new();
        for piece in tone.chunks(777) {
            converter.push(piece, &mut out).unwrap();
        }
        converter.finish(&mut out).unwrap();
        assert_eq!(out.len(), to as usize);
        // A 1 kHz tone crosses zero 2000 times a second whatever the rate.
        let crossings = out.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
        assert!((1995..=2005).contains(&crossings), "{crossings}");
        // The delay was dropped: the output starts with the tone, not with silence.
        assert!(out[10..30].iter().any(|s| s.abs() > 0.1));
    }

    #[test]
    fn volume_curve_is_monotonic_and_spans_silence_to_unity() {
        assert_eq!(perceptual_volume(0.0), 0.0);
        assert_eq!(perceptual_volume(1.0), 1.0);
        assert!(perceptual_volume(0.5) < 0.5 && perceptual_volume(0.5) > perceptual_volume(0.4));
    }
}
