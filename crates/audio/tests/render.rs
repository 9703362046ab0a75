//! The offline render path: the same chain playback runs, checked sample by sample.

mod common;

use common::*;
use loft_audio::{GainSettings, RenderOptions, ReplayGainMode, render_to_wav};

fn no_gain() -> RenderOptions {
    RenderOptions {
        gain: GainSettings { mode: ReplayGainMode::Off, preamp_db: 0.0 },
        ..RenderOptions::default()
    }
}

fn to_i16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|&s| {
            let scaled = s * 32768.0;
            assert_eq!(scaled, scaled.round(), "sample {s} is not a 16-bit value");
            scaled as i16
        })
        .collect()
}

#[test]
fn flac_and_wav_render_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let reference = noise_i16(RATE as usize * 2 + 123, 7);
    let wav = temp_path(&dir, "noise.wav");
    write_wav_i16(&wav, &reference, RATE, 2);
    let flac_path = temp_path(&dir, "noise.flac");
    flac(&wav, &flac_path, &[]);

    for input in [&wav, &flac_path] {
        let out = temp_path(&dir, "out.wav");
        let report = render_to_wav(&[file_item(input)], &out, &no_gain()).unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        let (rate, rendered) = read_render(&out);
        assert_eq!(rate, RATE);
        assert_eq!(to_i16(&rendered), reference, "{} is not bit-exact", input.display());
    }
}

#[test]
fn flac_24_bit_renders_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let reference: Vec<i32> = noise_i16(RATE as usize, 11).iter().map(|&s| i32::from(s) * 256 + 77).collect();
    let wav = temp_path(&dir, "noise24.wav");
    write_wav_i24(&wav, &reference, RATE);
    let flac_path = temp_path(&dir, "noise24.flac");
    flac(&wav, &flac_path, &[]);
    let out = temp_path(&dir, "out.wav");
    render_to_wav(&[file_item(&flac_path)], &out, &no_gain()).unwrap();
    let (_, rendered) = read_render(&out);
    let as_i24: Vec<i32> = rendered.iter().map(|&s| (s * 8_388_608.0) as i32).collect();
    assert_eq!(as_i24, reference);
}

/// Cuts one continuous tone into three files at odd frame counts.
fn cut_tone(dir: &tempfile::TempDir) -> (Vec<i16>, Vec<std::path::PathBuf>) {
    let whole = tone_i16(RATE as usize * 6, RATE, 440.0, 0.5);
    let cuts = [0usize, 88_211, 176_399, whole.len() / 2];
    let mut parts = Vec::new();
    for (i, pair) in cuts.windows(2).enumerate() {
        let path = temp_path(dir, &format!("part{i}.wav"));
        write_wav_i16(&path, &whole[pair[0] * 2..pair[1] * 2], RATE, 2);
        parts.push(path);
    }
    (whole, parts)
}

#[test]
fn flac_parts_join_without_a_seam() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, parts) = cut_tone(&dir);
    let items: Vec<_> = parts
        .iter()
        .map(|wav| {
            let path = wav.with_extension("flac");
            flac(wav, &path, &[]);
            file_item(&path)
        })
        .collect();
    let out = temp_path(&dir, "joined.wav");
    let report = render_to_wav(&items, &out, &no_gain()).unwrap();
    assert_eq!(report.track_starts.iter().map(|s| s.1).collect::<Vec<_>>(), vec![0, 88_211, 176_399]);
    let (_, rendered) = read_render(&out);
    assert_eq!(to_i16(&rendered), whole, "the joined FLAC parts differ from the continuous tone");
}

#[test]
fn lame_mp3_parts_join_without_a_gap_or_click() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, parts) = cut_tone(&dir);
    let items: Vec<_> = parts
        .iter()
        .map(|wav| {
            let path = wav.with_extension("mp3");
            lame(wav, &path);
            file_item(&path)
        })
        .collect();
    let out = temp_path(&dir, "joined.wav");
    let report = render_to_wav(&items, &out, &no_gain()).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let (_, rendered) = read_render(&out);
    // LAME's header states delay and padding, so not one frame is added or lost.
    assert_eq!(rendered.len(), whole.len(), "the joined MP3 parts have a different length");
    assert_eq!(report.track_starts.iter().map(|s| s.1).collect::<Vec<_>>(), vec![0, 88_211, 176_399]);
    // ffmpeg, which also honours LAME's header, decodes the same parts to the reference. Near
    // each seam ours must match it: a gap, a repeat or a shift of a single frame would not.
    // (Each part was encoded on its own, so both decoders show the same small codec error at
    // a file edge; that is the encoder's doing, not the join's.)
    let reference: Vec<i16> =
        items.iter().flat_map(|item| ffmpeg_decode_i16(std::path::Path::new(&item.name()))).collect();
    assert_eq!(reference.len(), whole.len());
    for seam in [88_211usize, 176_399] {
        for i in (seam - 400) * 2..(seam + 400) * 2 {
            let expected = f32::from(reference[i]) / 32768.0;
            assert!(
                (expected - rendered[i]).abs() < 0.002,
                "seam at {seam}: sample {i} is {}, ffmpeg decodes {expected}",
                rendered[i]
            );
            let tone = f32::from(whole[i]) / 32768.0;
            assert!((tone - rendered[i]).abs() < 0.12, "seam at {seam}: sample {i} strays from the tone");
        }
    }
}

/// The AAC frames (1024 samples each) ffmpeg's encoder wrote to `path`, delay and padding
/// included.
fn aac_stream_frames(path: &std::path::Path) -> u64 {
    let output = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "a:0", "-count_packets"])
        .args(["-show_entries", "stream=nb_read_packets", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("the audio tests need `ffprobe` (Debian package ffmpeg): {e}"));
    let packets: u64 = String::from_utf8_lossy(&output.stdout).trim().parse().expect("a packet count");
    packets * 1024
}

/// Tags `path` as iTunes does: ffmpeg states its encoder delay (1024 frames) only in an edit
/// list, which symphonia does not read, so the iTunSMPB tag is written here with lofty.
fn tag_itunsmpb(path: &std::path::Path, original_frames: u64) {
    use lofty::config::WriteOptions;
    use lofty::mp4::{Atom, AtomData, AtomIdent, Ilst};
    use lofty::tag::TagExt;
    let delay = 1024;
    let padding = aac_stream_frames(path) - delay - original_frames;
    let zeros = " 00000000".repeat(8);
    let text = format!(" 00000000 {delay:08X} {padding:08X} {original_frames:016X}{zeros}");
    let mut ilst = Ilst::new();
    let ident = AtomIdent::Freeform { mean: "com.apple.iTunes".into(), name: "iTunSMPB".into() };
    ilst.insert(Atom::new(ident, AtomData::UTF8(text)));
    ilst.save_to_path(path, WriteOptions::default()).unwrap();
}

#[test]
fn aac_parts_with_itunsmpb_join_without_a_gap_or_click() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, parts) = cut_tone(&dir);
    let encoded: Vec<(std::path::PathBuf, usize)> = parts
        .iter()
        .map(|wav| {
            let path = wav.with_extension("m4a");
            ffmpeg(wav, &path, &["-c:a", "aac", "-b:a", "256k"]);
            let frames = hound::WavReader::open(wav).unwrap().duration();
            tag_itunsmpb(&path, u64::from(frames));
            (path, frames as usize)
        })
        .collect();
    let items: Vec<_> = encoded.iter().map(|(path, _)| file_item(path)).collect();
    let out = temp_path(&dir, "joined.wav");
    let report = render_to_wav(&items, &out, &no_gain()).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let (_, rendered) = read_render(&out);
    // The tag states delay and length, so not one frame is added or lost.
    assert_eq!(rendered.len(), whole.len(), "the joined AAC parts have a different length");
    assert_eq!(report.track_starts.iter().map(|s| s.1).collect::<Vec<_>>(), vec![0, 88_211, 176_399]);
    // ffmpeg drops the same delay by the edit list its muxer wrote (not by our tag), though not
    // the padding at the end, which is cut here at the part's length. Near each seam ours must
    // match it: a gap, a repeat or a shift of a single frame would not. (Each part was encoded
    // on its own, so both decoders show the same codec error at a file edge; that is the
    // encoder's doing, not the join's.)
    let reference: Vec<i16> = encoded
        .iter()
        .flat_map(|(path, frames)| ffmpeg_decode_i16(path).into_iter().take(frames * 2))
        .collect();
    assert_eq!(reference.len(), whole.len());
    for seam in [88_211usize, 176_399] {
        for i in (seam - 400) * 2..(seam + 400) * 2 {
            let expected = f32::from(reference[i]) / 32768.0;
            assert!(
                (expected - rendered[i]).abs() < 0.002,
                "seam at {seam}: sample {i} is {}, ffmpeg decodes {expected}",
                rendered[i]
            );
            // Against the tone itself AAC is looser than MP3: the first few frames of a part
            // encoded on its own stray by up to 0.16 (both decoders agree on it), still far
            // from the 0.5 a gap or a repeated block would show.
            let tone = f32::from(whole[i]) / 32768.0;
            assert!((tone - rendered[i]).abs() < 0.2, "seam at {seam}: sample {i} strays from the tone");
        }
    }
}

#[test]
fn aac_parts_without_a_tag_are_trimmed_by_their_edit_lists() {
    let dir = tempfile::tempdir().unwrap();
    let (_, parts) = cut_tone(&dir);
    let encoded: Vec<(std::path::PathBuf, usize)> = parts
        .iter()
        .map(|wav| {
            let path = wav.with_extension("m4a");
            ffmpeg(wav, &path, &["-c:a", "aac", "-b:a", "256k"]);
            (path, hound::WavReader::open(wav).unwrap().duration() as usize)
        })
        .collect();
    let items: Vec<_> = encoded.iter().map(|(path, _)| file_item(path)).collect();
    let out = temp_path(&dir, "joined.wav");
    let report = render_to_wav(&items, &out, &no_gain()).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let (_, rendered) = read_render(&out);
    let mut starts: Vec<usize> = report.track_starts.iter().map(|s| s.1 as usize).collect();
    starts.push(rendered.len() / 2);
    for (i, (path, frames)) in encoded.iter().enumerate() {
        // ffmpeg states the length in milliseconds, so up to a millisecond (44 frames) of the
        // encoder's fade-out may follow the part; without the edit list it was 1024 frames of
        // delay plus all the padding.
        let played = starts[i + 1] - starts[i];
        assert!((*frames..=frames + 45).contains(&played), "part {i}: {played} frames for {frames}");
        // The delay is dropped exactly: each part begins as ffmpeg (which also reads the edit
        // list) decodes it.
        let reference = ffmpeg_decode_i16(path);
        for j in 0..800 {
            let expected = f32::from(reference[j]) / 32768.0;
            let ours = rendered[starts[i] * 2 + j];
            assert!(
                (expected - ours).abs() < 0.002,
                "part {i}, sample {j}: {ours} against ffmpeg's {expected}"
            );
        }
    }
}

#[test]
fn seek_lands_on_target_for_every_format() {
    let dir = tempfile::tempdir().unwrap();
    // Silence, then a tone that starts exactly at 2 s: where the tone begins after a seek to
    // 1.5 s says where the seek landed.
    let frames = RATE as usize * 4;
    let mut signal = tone_i16(frames, RATE, 440.0, 0.8);
    for s in &mut signal[..RATE as usize * 2 * 2] {
        *s = 0;
    }
    // Start the tone at a positive peak so its first sample stands out.
    let onset = RATE as usize * 2;
    let wav = temp_path(&dir, "burst.wav");
    for (i, s) in signal[onset * 2..].iter_mut().enumerate() {
        let n = i / 2;
        let t = n as f64 / f64::from(RATE);
        *s = ((2.0 * std::f64::consts::PI * 440.0 * t).cos() * 0.8 * 32767.0) as i16;
    }
    write_wav_i16(&wav, &signal, RATE, 2);

    let lossless: Vec<(&str, Vec<&str>)> =
        vec![("flac", vec![]), ("aiff", vec!["-c:a", "pcm_s16be"]), ("alac.m4a", vec!["-c:a", "alac"])];
    let lossy: Vec<(&str, Vec<&str>)> = vec![
        ("mp3", vec![]),
        ("aac.m4a", vec!["-c:a", "aac", "-b:a", "192k"]),
        ("aac-itunsmpb.m4a", vec!["-c:a", "aac", "-b:a", "192k"]),
        ("ogg", vec!["-c:a", "libvorbis", "-q:a", "5"]),
        ("opus", vec!["-c:a", "libopus", "-b:a", "128k"]),
    ];
    let encode = |name: &str, args: &[&str]| {
        let path = temp_path(&dir, &format!("burst.{name}"));
        match name {
            "flac" => flac(&wav, &path, &[]),
            "mp3" => lame(&wav, &path),
            "aac-itunsmpb.m4a" => {
                ffmpeg(&wav, &path, args);
                tag_itunsmpb(&path, frames as u64);
            }
            _ => ffmpeg(&wav, &path, args),
        }
        path
    };
    let seek_to = 1.5;
    let expected = ((2.0 - seek_to) * f64::from(RATE)) as i64;
    // Lossy seeks land exactly too (the encoder delay and Opus's pre-skip are accounted for);
    // 2 ms leaves room for a codec smearing the onset, far below the 23 ms (AAC delay) or
    // 6.5 ms (Opus pre-skip) an unaccounted offset would show.
    for (files, tolerance_frames) in [(lossless, 0i64), (lossy, (0.002 * f64::from(RATE)) as i64)] {
        for (name, args) in files {
            let path = encode(name, &args);
            let out = temp_path(&dir, "seek.wav");
            let options = RenderOptions { rate: Some(RATE), start_secs: seek_to, ..no_gain() };
            let report = render_to_wav(&[file_item(&path)], &out, &options).unwrap();
            assert!(report.failures.is_empty(), "{name}: {:?}", report.failures);
            let (_, rendered) = read_render(&out);
            let found =
                onset_frame(&rendered, 0.3).unwrap_or_else(|| panic!("{name}: the tone is missing")) as i64;
            assert!(
                (found - expected).abs() <= tolerance_frames,
                "{name}: the seek to {seek_to} s landed {} frames off",
                found - expected
            );
        }
    }
}

#[test]
fn replaygain_applies_track_or_album_gain_and_holds_peaks_below_clipping() {
    let dir = tempfile::tempdir().unwrap();
    let wav = temp_path(&dir, "tone.wav");
    write_wav_i16(&wav, &tone_i16(RATE as usize, RATE, 440.0, 0.5), RATE, 2);
    let tagged = temp_path(&dir, "tagged.flac");
    flac(
        &wav,
        &tagged,
        &[
            "-T",
            "REPLAYGAIN_TRACK_GAIN=-6.02 dB",
            "-T",
            "REPLAYGAIN_TRACK_PEAK=0.5",
            "-T",
            "REPLAYGAIN_ALBUM_GAIN=+12.00 dB",
            "-T",
            "REPLAYGAIN_ALBUM_PEAK=0.5",
        ],
    );
    let level = |mode: ReplayGainMode, preamp_db: f32| {
        let out = temp_path(&dir, "gain.wav");
        let options = RenderOptions { gain: GainSettings { mode, preamp_db }, ..RenderOptions::default() };
        render_to_wav(&[file_item(&tagged)], &out, &options).unwrap();
        rms(&read_render(&out).1)
    };
    let off = level(ReplayGainMode::Off, 0.0);
    let track = level(ReplayGainMode::Track, 0.0);
    let album = level(ReplayGainMode::Album, 0.0);
    let track_preamp = level(ReplayGainMode::Track, 6.02);
    assert!((track / off - 0.5).abs() < 0.005, "track gain gave {}", track / off);
    // +12 dB on a 0.5 peak would clip; the peak is held at full scale, a factor of 2.
    assert!((album / off - 2.0).abs() < 0.01, "album gain gave {}", album / off);
    assert!((track_preamp / off - 1.0).abs() < 0.01, "pre-amp gave {}", track_preamp / off);
}

#[test]
fn a_corrupt_file_mid_queue_is_reported_and_the_queue_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let wav = temp_path(&dir, "good.wav");
    write_wav_i16(&wav, &tone_i16(RATE as usize * 3, RATE, 440.0, 0.5), RATE, 2);
    let good = temp_path(&dir, "good.flac");
    flac(&wav, &good, &[]);
    let garbage = temp_path(&dir, "garbage.flac");
    std::fs::write(&garbage, b"fLaC but not really, just some bytes that are not audio").unwrap();
    let truncated = temp_path(&dir, "truncated.flac");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let missing = temp_path(&dir, "missing.flac");

    let items =
        [file_item(&good), file_item(&garbage), file_item(&truncated), file_item(&missing), file_item(&wav)];
    let out = temp_path(&dir, "out.wav");
    let report = render_to_wav(&items, &out, &no_gain()).unwrap();
    let failed: Vec<usize> = report.failures.iter().map(|f| f.index).collect();
    assert_eq!(failed, vec![1, 2, 3], "{:?}", report.failures);
    assert!(report.failures[0].reason.contains("garbage.flac"), "{:?}", report.failures[0]);
    assert_eq!(report.failures[2].kind, "open");
    // Both good files played in full; the truncated one played what it had.
    let started: Vec<usize> = report.track_starts.iter().map(|s| s.0).collect();
    assert!(started.contains(&0) && started.contains(&4), "{started:?}");
    let last_start = report.track_starts.iter().find(|s| s.0 == 4).unwrap().1;
    assert_eq!(report.frames - last_start, RATE as u64 * 3);
}

#[test]
fn a_source_that_panics_is_a_fault_of_its_track_and_the_render_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let wav = temp_path(&dir, "good.wav");
    write_wav_i16(&wav, &tone_i16(RATE as usize, RATE, 440.0, 0.5), RATE, 2);
    let panics = loft_audio::QueueItem { track_id: 1, opener: std::sync::Arc::new(PanicsOnOpen) };
    let items = [file_item(&wav), panics, file_item(&wav)];
    let out = temp_path(&dir, "out.wav");
    let report = render_to_wav(&items, &out, &no_gain()).unwrap();
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    let failure = &report.failures[0];
    assert_eq!((failure.index, failure.kind), (1, loft_audio::AudioErrorKind::Fault), "{failure:?}");
    assert!(failure.reason.contains("panics-on-open.flac"), "{failure:?}");
    assert_eq!(report.frames, RATE as u64 * 2);
}

#[test]
fn mono_48k_is_resampled_and_mapped_to_stereo() {
    let dir = tempfile::tempdir().unwrap();
    let rate = 48_000;
    let mono: Vec<i16> = tone_i16(rate as usize * 2, rate, 1000.0, 0.5).chunks(2).map(|f| f[0]).collect();
    let wav = temp_path(&dir, "mono48.wav");
    write_wav_i16(&wav, &mono, rate, 1);
    let out = temp_path(&dir, "out.wav");
    let report =
        render_to_wav(&[file_item(&wav)], &out, &RenderOptions { rate: Some(44_100), ..no_gain() }).unwrap();
    assert_eq!(report.rate, 44_100);
    let (_, rendered) = read_render(&out);
    assert_eq!(rendered.len(), 44_100 * 2 * 2);
    let left: Vec<f32> = rendered.chunks(2).map(|f| f[0]).collect();
    assert!(rendered.chunks(2).all(|f| f[0] == f[1]), "mono must play on both sides");
    let crossings = left.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
    assert!((3990..=4010).contains(&crossings), "a 1 kHz tone for 2 s crossed zero {crossings} times");
}
