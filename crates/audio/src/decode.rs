//! One track's decoder: demux with symphonia, decode, drop the encoder's delay and padding
//! frames, and land sample-accurately after a seek. Output is interleaved `f32` in the track's
//! own rate and channel count.

use std::sync::OnceLock;

use symphonia::core::codecs::audio::well_known::{
    CODEC_ID_AAC, CODEC_ID_MP1, CODEC_ID_MP2, CODEC_ID_MP3, CODEC_ID_OPUS, CODEC_ID_VORBIS,
};
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::{MetadataOptions, MetadataRevision, RawValue, StandardTag};
use symphonia::core::units::{Time, TimeBase, Timestamp};

use crate::AudioError;
use crate::source::{QueueItem, SymphoniaSource};

/// After this many undecodable packets in a row the file is reported as corrupt rather than
/// skipped over packet by packet.
const MAX_CONSECUTIVE_DECODE_ERRORS: u32 = 8;

fn codecs() -> &'static CodecRegistry {
    static REGISTRY: OnceLock<CodecRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_audio_decoder::<symphonia_adapter_libopus::OpusDecoder>();
        registry
    })
}

/// ReplayGain values read from a file's tags, in dB and linear peak.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GainTags {
    pub track_gain_db: Option<f32>,
    pub track_peak: Option<f32>,
    pub album_gain_db: Option<f32>,
    pub album_peak: Option<f32>,
}

/// The encoder delay and the playable length of an AAC track, in frames, from an iTunes
/// `iTunSMPB` tag or the MP4 edit list. symphonia's MP4 reader applies neither, so without
/// them every AAC track would start with the encoder's priming frames and end with its padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EncoderTrim {
    pub delay: u64,
    pub frames: u64,
}

impl EncoderTrim {
    /// Parses the tag's hex fields: a reserved word, the delay, the padding and the original
    /// sample count (then fields nobody uses). `total` is the track's frame count including
    /// delay and padding, for files that leave the sample count at zero.
    pub(crate) fn parse(text: &str, total: Option<u64>) -> Option<Self> {
        let mut fields = text.split_whitespace().map(|f| u64::from_str_radix(f, 16));
        let (_reserved, delay, padding, frames) =
            (fields.next()?.ok()?, fields.next()?.ok()?, fields.next()?.ok()?, fields.next()?.ok()?);
        let frames = match (frames, total) {
            (0, Some(total)) => total.checked_sub(delay.checked_add(padding)?)?,
            (0, None) => return None,
            (frames, _) => frames,
        };
        // A tag copied from another encoding of the song can claim more than the stream has;
        // trimming by it would cut real audio, so it is ignored.
        let end = delay.checked_add(frames)?;
        let fits = total.is_none_or(|total| end <= total);
        (frames > 0 && fits && end < 1 << 40).then_some(EncoderTrim { delay, frames })
    }

    /// From an edit list: the start is exact (media time is in samples), but the duration is
    /// in the movie's timescale, often milliseconds (ffmpeg writes 2000 for 88 211 frames). It
    /// is taken one tick long, so at most that much of the encoder's fade-out plays rather than
    /// any real audio being cut.
    pub(crate) fn from_edit(edit: crate::mp4::Edit, rate: u32, total: Option<u64>) -> Option<Self> {
        let rescale = |value: u64, from: u32| {
            u64::try_from(u128::from(value) * u128::from(rate) / u128::from(from)).ok()
        };
        let delay = rescale(edit.media_time, edit.media_timescale)?;
        let after_delay = total.map(|total| total.checked_sub(delay)).unwrap_or(Some(u64::MAX))?;
        let frames = match edit.duration {
            0 => after_delay,
            duration => rescale(duration.checked_add(1)?, edit.movie_timescale)?.min(after_delay),
        };
        let trims = delay > 0 || frames < after_delay;
        (trims && frames > 0 && frames < 1 << 40).then_some(EncoderTrim { delay, frames })
    }
}

pub(crate) struct TrackDecoder {
    name: String,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    rate: u32,
    channels: usize,
    time_base: TimeBase,
    duration_frames: Option<u64>,
    gain_tags: GainTags,
    /// Frames before this timestamp are dropped (set by a seek, and by an encoder delay).
    start_ts: i64,
    /// Frames from this timestamp on are the encoder's padding, when a tag says where it starts.
    end_ts: Option<i64>,
    /// How far a seek's target lies past the playback time in the stream's timestamps: the AAC
    /// encoder delay (timestamps count it), or Opus's pre-skip (symphonia's Ogg reader stamps
    /// the packets after a seek that much early, so a seek landed 312 frames short).
    lead_frames: u64,
    /// Frames decoded and dropped before a seek's target so the decoder's state has settled:
    /// Opus needs 80 ms (RFC 7845); without it the first 15 ms after a seek came out faded.
    preroll_frames: u64,
    /// MP3, Vorbis and Opus decoders drop the packet's trim frames themselves; for the other
    /// codecs the trim is applied here.
    decoder_trims: bool,
    decoded: Vec<f32>,
    output_range: std::ops::Range<usize>,
    frames_out: u64,
}

impl TrackDecoder {
    /// Opens and probes `item`. A panic in the opener, the stream or symphonia is an error.
    pub(crate) fn open(item: &QueueItem) -> Result<Self, AudioError> {
        crate::contain(|| item.name(), || Self::open_unguarded(item))
    }

    fn open_unguarded(item: &QueueItem) -> Result<Self, AudioError> {
        let name = item.name();
        let stream = item.opener.open().map_err(|source| AudioError::Open { name: name.clone(), source })?;
        let mss = MediaSourceStream::new(
            Box::new(SymphoniaSource::new(stream)),
            MediaSourceStreamOptions::default(),
        );
        let mut hint = Hint::new();
        if let Some(extension) = item.opener.extension() {
            hint.with_extension(&extension);
        }
        let mut format = symphonia::default::get_probe()
            .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
            .map_err(|e| classify(&name, e))?;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| AudioError::Unsupported { name: name.clone(), reason: "no audio track".into() })?;
        let track_id = track.id;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| AudioError::Unsupported { name: name.clone(), reason: "unknown codec".into() })?
            .clone();
        let rate = params
            .sample_rate
            .ok_or_else(|| AudioError::Unsupported { name: name.clone(), reason: "no sample rate".into() })?;
        let channels = params.channels.as_ref().map(|c| c.count()).unwrap_or(0);
        let time_base = track.time_base.unwrap_or_else(|| TimeBase::try_from_recip(rate).unwrap_or_default());
        let mut duration_frames = track.num_frames;
        let opus_pre_skip = if params.codec == CODEC_ID_OPUS { track.delay.unwrap_or(0) } else { 0 };
        let decoder = codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| AudioError::Unsupported { name: name.clone(), reason: e.to_string() })?;
        let (gain_tags, smpb) = read_tags(format.as_mut());
        // Only AAC is trimmed here: MP3 files carry the tag too, but their LAME header (which
        // the decoder honours) says the same. The tag is exact; the edit list is the fallback.
        let gapless = if params.codec == CODEC_ID_AAC {
            smpb.and_then(|text| EncoderTrim::parse(&text, duration_frames)).or_else(|| {
                let is_mp4 = format.format_info().short_name == "isomp4";
                let edit = is_mp4
                    .then(|| item.opener.open().ok())
                    .flatten()
                    .and_then(|mut stream| crate::mp4::sound_track_edit(stream.as_mut()))?;
                EncoderTrim::from_edit(edit, rate, duration_frames)
            })
        } else {
            None
        };
        if let Some(gapless) = gapless {
            duration_frames = Some(gapless.frames);
        }
        let mut decoder = TrackDecoder {
            name,
            format,
            decoder,
            track_id,
            rate,
            channels,
            time_base,
            duration_frames,
            gain_tags,
            decoder_trims: [CODEC_ID_MP1, CODEC_ID_MP2, CODEC_ID_MP3, CODEC_ID_VORBIS, CODEC_ID_OPUS]
                .contains(&params.codec),
            start_ts: 0,
            end_ts: None,
            lead_frames: u64::from(opus_pre_skip),
            preroll_frames: if params.codec == CODEC_ID_OPUS { u64::from(rate) * 80 / 1000 } else { 0 },
            decoded: Vec::new(),
            output_range: 0..0,
            frames_out: 0,
        };
        if let Some(gapless) = gapless {
            decoder.lead_frames = gapless.delay;
            decoder.start_ts = decoder.frames_to_ts(gapless.delay);
            decoder.end_ts = Some(decoder.frames_to_ts(gapless.delay + gapless.frames));
        }
        if decoder.channels == 0 {
            // Some containers only learn the layout from the first packet; decode it now so the
            // chain knows what it is mapping from.
            decoder.peek_channels()?;
        }
        Ok(decoder)
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn rate(&self) -> u32 {
        self.rate
    }

    pub(crate) fn channels(&self) -> usize {
        self.channels
    }

    pub(crate) fn gain_tags(&self) -> GainTags {
        self.gain_tags
    }

    /// The playable length in seconds, when the container states it.
    pub(crate) fn duration_secs(&self) -> Option<f64> {
        self.duration_frames.map(|f| f as f64 / f64::from(self.rate))
    }

    fn peek_channels(&mut self) -> Result<(), AudioError> {
        if self.next_block()?.is_none() {
            return Err(AudioError::Corrupt { name: self.name.clone(), reason: "no audio frames".into() });
        }
        if self.channels == 0 {
            return Err(AudioError::Unsupported { name: self.name.clone(), reason: "no channels".into() });
        }
        Ok(())
    }

    fn frames_to_ts(&self, frames: u64) -> i64 {
        let numer = u64::from(self.time_base.numer.get());
        let denom = u64::from(self.time_base.denom.get());
        (u128::from(frames) * u128::from(denom) / (u128::from(numer) * u128::from(self.rate))) as i64
    }

    fn ts_to_frames(&self, ts: i64) -> i64 {
        let numer = i128::from(self.time_base.numer.get());
        let denom = i128::from(self.time_base.denom.get());
        (i128::from(ts) * numer * i128::from(self.rate) / denom) as i64
    }

    /// Moves to `secs` from the start. Sample-accurate: the format seeks to a packet at or
    /// before the target and the frames before it are dropped as they are decoded. With an
    /// encoder delay the stream's target lies that much later, and seeking to the unshifted
    /// time leaves the decoder that much pre-roll to rebuild its overlap from.
    pub(crate) fn seek(&mut self, secs: f64) -> Result<(), AudioError> {
        let target_frames = (secs.max(0.0) * f64::from(self.rate)).round() as u64;
        let from_frames = target_frames.saturating_sub(self.preroll_frames);
        let target_ts = self.frames_to_ts(from_frames);
        let time = Time::try_from_secs_f64(from_frames as f64 / f64::from(self.rate))
            .ok_or_else(|| AudioError::InvalidInput(format!("cannot seek to {secs} s")))?;
        let seek = if self.time_base.numer.get() == 1 && self.time_base.denom.get() == self.rate {
            SeekTo::Timestamp { ts: Timestamp::new(target_ts), track_id: self.track_id }
        } else {
            SeekTo::Time { time, track_id: Some(self.track_id) }
        };
        match self.format.seek(SeekMode::Accurate, seek) {
            Ok(_) => {}
            // Seeking past the end is "play nothing more of this track", not a failure.
            Err(SymphoniaError::SeekError(kind))
                if self.duration_frames.is_some_and(|d| target_frames >= d) =>
            {
                tracing::debug!(name = %self.name, ?kind, "seek beyond the end");
            }
            Err(e) => return Err(AudioError::Seek { name: self.name.clone(), reason: e.to_string() }),
        }
        self.decoder.reset();
        self.start_ts = self.frames_to_ts(target_frames + self.lead_frames);
        self.output_range = 0..0;
        self.frames_out = target_frames;
        Ok(())
    }

    /// Decodes the next block of playable frames; `None` at the end of the track.
    pub(crate) fn next_block(&mut self) -> Result<Option<&[f32]>, AudioError> {
        if !self.output_range.is_empty() {
            // A block decoded by `peek_channels` that has not been handed out yet.
            let range = std::mem::replace(&mut self.output_range, 0..0);
            return Ok(Some(&self.decoded[range]));
        }
        let mut errors_in_a_row = 0;
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => return Ok(None),
                Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return self.end_of_data();
                }
                Err(e) => return Err(classify(&self.name, e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let buffer = match self.decoder.decode(&packet) {
                Ok(buffer) => buffer,
                Err(SymphoniaError::DecodeError(reason)) => {
                    errors_in_a_row += 1;
                    tracing::debug!(name = %self.name, reason, "skipping an undecodable packet");
                    if errors_in_a_row >= MAX_CONSECUTIVE_DECODE_ERRORS {
                        return Err(AudioError::Corrupt { name: self.name.clone(), reason: reason.into() });
                    }
                    continue;
                }
                Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return self.end_of_data();
                }
                Err(e) => return Err(classify(&self.name, e)),
            };
            errors_in_a_row = 0;
            let channels = buffer.spec().channels().count();
            if channels == 0 {
                continue;
            }
            if self.channels == 0 {
                self.channels = channels;
            } else if channels != self.channels {
                return Err(AudioError::Unsupported {
                    name: self.name.clone(),
                    reason: format!("channel count changes from {} to {channels} mid-stream", self.channels),
                });
            }
            let frames = buffer.frames();
            buffer.copy_to_vec_interleaved::<f32>(&mut self.decoded);
            let (trim_start, trim_end) = if self.decoder_trims {
                (0, 0)
            } else {
                let start = (packet.trim_start.get() as usize).min(frames);
                (start, (packet.trim_end.get() as usize).min(frames - start))
            };
            let first_ts = packet.pts.get() + packet.trim_start.get() as i64;
            // Frames before the seek target are dropped here, which is what makes seeks exact.
            let before_target = self.ts_to_frames(self.start_ts - first_ts).max(0) as usize;
            let start = (trim_start + before_target).min(frames - trim_end);
            let mut end = frames - trim_end;
            if let Some(end_ts) = self.end_ts {
                if first_ts >= end_ts {
                    // The rest of the stream is the encoder's padding.
                    return Ok(None);
                }
                end = end.min(trim_start + self.ts_to_frames(end_ts - first_ts) as usize);
            }
            if start >= end {
                continue;
            }
            self.frames_out += (end - start) as u64;
            return Ok(Some(&self.decoded[start * channels..end * channels]));
        }
    }

    fn end_of_data(&mut self) -> Result<Option<&[f32]>, AudioError> {
        // Readers end some streams with an unexpected EOF; only a stream that stops well short
        // of its stated length is truncated.
        let short_by = self.duration_frames.map(|d| d.saturating_sub(self.frames_out)).unwrap_or(0);
        if short_by > u64::from(self.rate) {
            return Err(AudioError::Corrupt {
                name: self.name.clone(),
                reason: format!("the file ends {:.1} s early", short_by as f64 / f64::from(self.rate)),
            });
        }
        Ok(None)
    }
}

fn classify(name: &str, error: SymphoniaError) -> AudioError {
    let name = name.to_owned();
    match error {
        SymphoniaError::Unsupported(reason) => AudioError::Unsupported { name, reason: reason.into() },
        SymphoniaError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            AudioError::Corrupt { name, reason: "the file ends unexpectedly".into() }
        }
        SymphoniaError::IoError(source) => AudioError::Open { name, source },
        other => AudioError::Corrupt { name, reason: other.to_string() },
    }
}

/// ReplayGain tags and the text of an `iTunSMPB` tag, if any.
fn read_tags(format: &mut dyn FormatReader) -> (GainTags, Option<String>) {
    let mut tags = GainTags::default();
    let mut smpb = None;
    let mut metadata = format.metadata();
    loop {
        if let Some(revision) = metadata.current() {
            collect_gain_tags(revision, &mut tags);
            smpb = smpb.or_else(|| find_smpb(revision));
        }
        if metadata.is_latest() {
            break;
        }
        metadata.pop();
    }
    (tags, smpb)
}

/// MP4 names the freeform tag `com.apple.iTunes:iTunSMPB`; ID3 comments call it `iTunSMPB`.
fn find_smpb(revision: &MetadataRevision) -> Option<String> {
    let all =
        revision.media.tags.iter().chain(revision.per_track.iter().flat_map(|t| t.metadata.tags.iter()));
    all.filter(|tag| tag.raw.key.to_ascii_lowercase().ends_with("itunsmpb")).find_map(|tag| {
        match &tag.raw.value {
            RawValue::String(text) => Some(text.to_string()),
            _ => None,
        }
    })
}

fn collect_gain_tags(revision: &MetadataRevision, tags: &mut GainTags) {
    let all =
        revision.media.tags.iter().chain(revision.per_track.iter().flat_map(|t| t.metadata.tags.iter()));
    for tag in all {
        let value = match &tag.std {
            Some(StandardTag::ReplayGainTrackGain(v)) => (&mut tags.track_gain_db, v.as_str()),
            Some(StandardTag::ReplayGainTrackPeak(v)) => (&mut tags.track_peak, v.as_str()),
            Some(StandardTag::ReplayGainAlbumGain(v)) => (&mut tags.album_gain_db, v.as_str()),
            Some(StandardTag::ReplayGainAlbumPeak(v)) => (&mut tags.album_peak, v.as_str()),
            _ => {
                let RawValue::String(text) = &tag.raw.value else { continue };
                let slot = match tag.raw.key.to_ascii_uppercase().as_str() {
                    "REPLAYGAIN_TRACK_GAIN" => &mut tags.track_gain_db,
                    "REPLAYGAIN_TRACK_PEAK" => &mut tags.track_peak,
                    "REPLAYGAIN_ALBUM_GAIN" => &mut tags.album_gain_db,
                    "REPLAYGAIN_ALBUM_PEAK" => &mut tags.album_peak,
                    _ => continue,
                };
                (slot, text.as_str())
            }
        };
        let (slot, text) = value;
        if let Some(number) = parse_gain_value(text) {
            *slot = Some(number);
        }
    }
}

/// Parses "-6.54 dB", "+1.2 dB" or "0.988" as written by ReplayGain scanners.
pub(crate) fn parse_gain_value(text: &str) -> Option<f32> {
    let trimmed = text.trim();
    let number = trimmed.strip_suffix("dB").or_else(|| trimmed.strip_suffix("db")).unwrap_or(trimmed);
    number.trim().trim_start_matches('+').parse::<f32>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itunsmpb_gives_delay_and_playable_length() {
        // As iTunes writes it: 2112 frames of delay, 316 of padding, 529 392 to play.
        let tag = " 00000000 00000840 0000013C 00000000000813F0 00000000 00000000 00000000 00000000";
        assert_eq!(EncoderTrim::parse(tag, None), Some(EncoderTrim { delay: 2112, frames: 529_392 }));
        // A zero sample count is taken from the stream's length.
        let no_count = " 00000000 00000400 00000200 0000000000000000";
        assert_eq!(
            EncoderTrim::parse(no_count, Some(10_240)),
            Some(EncoderTrim { delay: 1024, frames: 10_240 - 1024 - 512 })
        );
        assert_eq!(EncoderTrim::parse(no_count, None), None);
        // More than the stream holds: the tag belongs to another encoding.
        assert_eq!(EncoderTrim::parse(tag, Some(400_000)), None);
        assert_eq!(EncoderTrim::parse(" 0 FFFFFFFFFFFFFFFF 0 FFFFFFFFFFFFFFFF", None), None);
        assert_eq!(EncoderTrim::parse("not hex at all", Some(10_240)), None);
    }

    #[test]
    fn an_edit_list_trims_the_delay_exactly_and_the_end_to_within_a_tick() {
        let edit = |media_time, duration| crate::mp4::Edit {
            media_time,
            media_timescale: 44_100,
            duration,
            movie_timescale: 1000,
        };
        // ffmpeg's numbers for 88 211 frames: 1024 of delay, 2000 ms, 90 112 in the stream.
        let trim = EncoderTrim::from_edit(edit(1024, 2000), 44_100, Some(90_112)).unwrap();
        assert_eq!(trim, EncoderTrim { delay: 1024, frames: 88_244 });
        // An edit that trims nothing is no trim; one longer than the stream stops at its end.
        assert_eq!(EncoderTrim::from_edit(edit(0, 0), 44_100, Some(90_112)), None);
        let long = EncoderTrim::from_edit(edit(1024, 9000), 44_100, Some(90_112)).unwrap();
        assert_eq!(long, EncoderTrim { delay: 1024, frames: 90_112 - 1024 });
    }

    #[test]
    fn gain_values_parse_with_and_without_units() {
        assert_eq!(parse_gain_value("-6.54 dB"), Some(-6.54));
        assert_eq!(parse_gain_value("+1.50 dB"), Some(1.5));
        assert_eq!(parse_gain_value("0.988525"), Some(0.988525));
        assert_eq!(parse_gain_value("loud"), None);
    }
}
