//! Real audio fixtures for the library tests, made with ffmpeg on first use and cached in
//! Cargo's per-target temp directory (so a test run makes them once, not once per test).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// One fixture format: the file name, and the ffmpeg arguments that encode it.
pub struct Format {
    pub name: &'static str,
    pub file: &'static str,
    pub codec: &'static [&'static str],
    /// Containers whose tag format has no album artist / disc number (WAV's RIFF INFO).
    pub basic_tags_only: bool,
}

pub const FORMATS: &[Format] = &[
    Format {
        name: "mp3",
        file: "tone.mp3",
        codec: &["-c:a", "libmp3lame", "-b:a", "64k", "-id3v2_version", "4"],
        basic_tags_only: false,
    },
    Format { name: "flac", file: "tone.flac", codec: &["-c:a", "flac"], basic_tags_only: false },
    Format {
        name: "aac",
        file: "tone-aac.m4a",
        codec: &["-c:a", "aac", "-b:a", "64k"],
        basic_tags_only: false,
    },
    Format { name: "alac", file: "tone-alac.m4a", codec: &["-c:a", "alac"], basic_tags_only: false },
    Format {
        name: "vorbis",
        file: "tone.ogg",
        codec: &["-c:a", "libvorbis", "-q:a", "2"],
        basic_tags_only: false,
    },
    Format {
        name: "opus",
        file: "tone.opus",
        codec: &["-c:a", "libopus", "-b:a", "48k"],
        basic_tags_only: false,
    },
    Format { name: "wav", file: "tone.wav", codec: &["-c:a", "pcm_s16le"], basic_tags_only: true },
    Format {
        name: "aiff",
        file: "tone.aiff",
        codec: &["-c:a", "pcm_s16be", "-write_id3v2", "1"],
        basic_tags_only: false,
    },
];

/// The tags every fixture carries.
pub const TAGS: &[(&str, &str)] = &[
    ("title", "Hoppípolla"),
    ("artist", "Sigur Rós"),
    ("album", "Takk..."),
    ("album_artist", "Sigur Rós"),
    ("track", "3/11"),
    ("disc", "1/2"),
    ("date", "2005"),
    ("genre", "Post-Rock"),
    ("composer", "Jón Þór Birgisson"),
];

pub fn require_tool(tool: &str) {
    let found = Command::new(tool).arg("-version").output().is_ok()
        || Command::new(tool).arg("--version").output().is_ok();
    assert!(found, "the tests need `{tool}` on PATH (Debian: apt-get install {tool}); it is missing");
}

/// Encodes one second of tone to `out` with `tags` set.
pub fn encode(out: &Path, codec: &[&str], tags: &[(&str, &str)], seconds: f32) {
    require_tool("ffmpeg");
    let mut command = Command::new("ffmpeg");
    command.args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"]);
    command.arg(format!("sine=frequency=440:sample_rate=44100:duration={seconds}"));
    command.args(["-ac", "2"]);
    command.args(codec);
    for (key, value) in tags {
        command.arg("-metadata").arg(format!("{key}={value}"));
    }
    command.arg(out);
    let output = command.output().expect("ffmpeg runs");
    assert!(
        output.status.success(),
        "ffmpeg failed for {}: {}",
        out.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The directory of fixtures, one file per format, all tagged with [`TAGS`].
pub fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("loft-library-fixtures-v1");
        if root.join("complete").exists() {
            return root;
        }
        // Built beside and renamed into place, so concurrent test binaries never see half.
        let building = root.with_extension(format!("building-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&building);
        std::fs::create_dir_all(&building).unwrap();
        for format in FORMATS {
            encode(&building.join(format.file), format.codec, TAGS, 1.0);
        }
        std::fs::write(building.join("complete"), b"").unwrap();
        if std::fs::rename(&building, &root).is_err() {
            let _ = std::fs::remove_dir_all(&building);
        }
        root
    })
}

pub fn fixture(file: &str) -> PathBuf {
    fixtures().join(file)
}

/// Copies fixture `file` to `to`, creating parent folders.
pub fn copy_fixture(file: &str, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(fixture(file), to).unwrap();
}
