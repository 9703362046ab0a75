//! Offline rendering: the playback chain written to a WAV file instead of a device. Used by
//! `loft render` and by the tests, so what they check is what the speakers get.

use std::path::Path;

use crate::AudioError;
use crate::chain::{Chain, Fill, OUTPUT_CHANNELS};
use crate::dsp::GainSettings;
use crate::source::QueueItem;

#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// The output rate; `None` keeps the first playable track's rate.
    pub rate: Option<u32>,
    pub gain: GainSettings,
    /// Where the first playable track starts, in seconds (a seek before rendering).
    pub start_secs: f64,
}

/// A track that could not be rendered; the render went on without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackFailure {
    pub index: usize,
    pub name: String,
    pub kind: crate::AudioErrorKind,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RenderReport {
    pub rate: u32,
    pub channels: u16,
    pub frames: u64,
    /// Where each rendered track starts in the output, in frames: (queue index, frame).
    pub track_starts: Vec<(usize, u64)>,
    pub failures: Vec<TrackFailure>,
}

/// Renders `items` one after another, gaplessly, into a 32-bit float stereo WAV at `out`.
/// A track that fails is reported in the result and skipped, like playback does.
pub fn render_to_wav(
    items: &[QueueItem],
    out: &Path,
    options: &RenderOptions,
) -> Result<RenderReport, AudioError> {
    let write_error = |source: std::io::Error| AudioError::Write { path: out.to_owned(), source };
    let mut failures = Vec::new();
    let mut chain: Option<Chain> = None;
    let mut writer: Option<hound::WavWriter<std::io::BufWriter<std::fs::File>>> = None;
    let mut buffer: Vec<f32> = Vec::with_capacity(16 * 1024);
    let mut frames = 0u64;
    let mut track_starts = Vec::new();

    let write = |writer: &mut Option<hound::WavWriter<_>>, buffer: &mut Vec<f32>, frames: &mut u64| {
        if let Some(w) = writer.as_mut() {
            for &s in buffer.iter() {
                w.write_sample(s).map_err(hound_error).map_err(write_error)?;
            }
            *frames += (buffer.len() / OUTPUT_CHANNELS) as u64;
        }
        buffer.clear();
        Ok::<(), AudioError>(())
    };

    for (index, item) in items.iter().enumerate() {
        let fail = |error: AudioError| TrackFailure {
            index,
            name: item.name(),
            kind: error.kind(),
            reason: error.to_string(),
        };
        if chain.is_none() {
            let rate = match options.rate {
                Some(rate) => rate,
                None => match crate::decode::TrackDecoder::open(item) {
                    Ok(decoder) => decoder.rate(),
                    Err(error) => {
                        failures.push(fail(error));
                        continue;
                    }
                },
            };
            chain = Some(Chain::new(rate, options.gain));
            let spec = hound::WavSpec {
                channels: OUTPUT_CHANNELS as u16,
                sample_rate: rate,
                bits_per_sample: 32,
                sample_format: hound::SampleFormat::Float,
            };
            writer = Some(hound::WavWriter::create(out, spec).map_err(hound_error).map_err(write_error)?);
        }
        let Some(chain) = chain.as_mut() else { continue };
        let position = if track_starts.is_empty() { options.start_secs } else { 0.0 };
        if let Err(error) = chain.start(item, position, &mut buffer) {
            failures.push(fail(error));
            continue;
        }
        write(&mut writer, &mut buffer, &mut frames)?;
        track_starts.push((index, frames));
        loop {
            match chain.fill(&mut buffer) {
                Ok(Fill::Decoded) => write(&mut writer, &mut buffer, &mut frames)?,
                Ok(Fill::TrackEnded) => break,
                Err(error) => {
                    failures.push(fail(error));
                    break;
                }
            }
        }
    }
    let Some(mut chain) = chain else {
        return Err(AudioError::InvalidInput(match failures.first() {
            Some(failure) => format!("nothing to render: {}", failure.reason),
            None => "nothing to render: the queue is empty".into(),
        }));
    };
    chain.finish(&mut buffer)?;
    write(&mut writer, &mut buffer, &mut frames)?;
    if let Some(writer) = writer {
        writer.finalize().map_err(hound_error).map_err(write_error)?;
    }
    Ok(RenderReport {
        rate: chain.output_rate(),
        channels: OUTPUT_CHANNELS as u16,
        frames,
        track_starts,
        failures,
    })
}

fn hound_error(error: hound::Error) -> std::io::Error {
    match error {
        hound::Error::IoError(e) => e,
        other => std::io::Error::other(other.to_string()),
    }
}
