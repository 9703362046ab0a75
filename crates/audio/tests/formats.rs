//! The format table (loft-media) says which formats the engine plays; uploads refuse and the
//! scan skips the others on its word. Here it is held to it: a real file of every format it
//! calls playable, under each of its extensions, renders through the engine, and the formats
//! it calls unplayable that ffmpeg can make do not.

mod common;

use common::*;
use loft_audio::{RenderOptions, render_to_wav};
use loft_media::{FORMATS, Format};

/// How ffmpeg makes a file of a format: one encoding per codec the row holds.
fn recipes(format: &Format) -> &'static [&'static [&'static str]] {
    match format.extension() {
        "mp3" => &[&["-c:a", "libmp3lame", "-b:a", "128k"]],
        "flac" => &[&["-c:a", "flac"]],
        "m4a" => &[&["-c:a", "aac", "-b:a", "128k", "-f", "mp4"], &["-c:a", "alac", "-f", "mp4"]],
        "aac" => &[&["-c:a", "aac", "-b:a", "128k", "-f", "adts"]],
        "ogg" => &[&["-c:a", "libvorbis", "-q:a", "4", "-f", "ogg"]],
        "opus" => &[&["-c:a", "libopus", "-b:a", "96k", "-f", "opus"]],
        "wav" => &[&["-c:a", "pcm_s16le", "-f", "wav"]],
        "aiff" => &[&["-c:a", "pcm_s16be", "-f", "aiff"]],
        "wv" => &[&["-c:a", "wavpack", "-f", "wv"]],
        "wma" => &[&["-c:a", "wmav2", "-f", "asf"]],
        "spx" => &[&["-c:a", "libspeex", "-ar", "16000", "-ac", "1", "-f", "ogg"]],
        _ => &[],
    }
}

/// One second of a 440 Hz tone at half scale, as a WAV to encode from.
fn source_wav(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let wav = temp_path(dir, "source.wav");
    write_wav_i16(&wav, &tone_i16(RATE as usize, RATE, 440.0, 0.5), RATE, 2);
    wav
}

#[test]
fn every_format_the_table_calls_playable_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let wav = source_wav(&dir);
    let mut checked = 0;
    for format in FORMATS.iter().filter(|format| format.playable) {
        assert!(!recipes(format).is_empty(), "{} is called playable but has no test file here", format.name);
        for (index, recipe) in recipes(format).iter().enumerate() {
            let encoded = temp_path(&dir, &format!("encoded-{index}.{}", format.extension()));
            ffmpeg(&wav, &encoded, recipe);
            // Every extension the table gives the format, as the probe hint the engine gets.
            for extension in format.extensions {
                let file = temp_path(&dir, &format!("tone-{index}.{extension}"));
                std::fs::copy(&encoded, &file).unwrap();
                let out = temp_path(&dir, "out.wav");
                let report = render_to_wav(&[file_item(&file)], &out, &RenderOptions::default())
                    .unwrap_or_else(|error| panic!("{} (.{extension}, {recipe:?}): {error}", format.name));
                assert!(report.failures.is_empty(), "{}: {:?}", format.name, report.failures);
                let seconds = report.frames as f64 / f64::from(report.rate);
                assert!(
                    (0.95..1.1).contains(&seconds),
                    "{} (.{extension}) rendered {seconds} s",
                    format.name
                );
                let (_, samples) = read_render(&out);
                let level = rms(&samples);
                assert!(level > 0.2, "{} (.{extension}) rendered a level of {level}", format.name);
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "only {checked} files were checked");
}

#[test]
fn formats_the_table_calls_unplayable_do_not_decode() {
    let dir = tempfile::tempdir().unwrap();
    let wav = source_wav(&dir);
    let mut checked = 0;
    for format in FORMATS.iter().filter(|format| !format.playable) {
        // Monkey's Audio, Musepack and protected AAC have no encoder in ffmpeg.
        for recipe in recipes(format) {
            let file = temp_path(&dir, &format!("tone.{}", format.extension()));
            ffmpeg(&wav, &file, recipe);
            let out = temp_path(&dir, "out.wav");
            let rendered = render_to_wav(&[file_item(&file)], &out, &RenderOptions::default());
            assert!(
                rendered.as_ref().is_err()
                    || rendered.as_ref().is_ok_and(|report| !report.failures.is_empty()),
                "{} is called unplayable but decoded: {rendered:?}",
                format.name
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 3, "WavPack, WMA and Speex are made and checked");
}
