//! A corpus of real, tagged audio files: short ffmpeg templates, one per format, copied with
//! their own tags written by lofty. Shared by the library benchmark and the `make_corpus`
//! example (included with `#[path]`, as neither is a library target).

use std::io::Cursor;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use lofty::config::WriteOptions;
use lofty::file::FileType;
use lofty::tag::{Accessor, ItemKey, Tag, TagExt};

/// Template formats: file extension and the ffmpeg arguments that make it. Short, small
/// files: the scan reads headers and tags, so audio length barely matters.
const TEMPLATES: &[(&str, &[&str])] = &[
    ("mp3", &["-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "32k"]),
    ("flac", &["-ar", "44100", "-ac", "2", "-c:a", "flac"]),
    ("m4a", &["-ar", "44100", "-ac", "2", "-c:a", "aac", "-b:a", "32k"]),
    ("ogg", &["-ar", "44100", "-ac", "2", "-c:a", "libvorbis", "-q:a", "0"]),
    ("opus", &["-ar", "48000", "-ac", "2", "-c:a", "libopus", "-b:a", "24k"]),
    ("wav", &["-ar", "22050", "-ac", "1", "-c:a", "pcm_s16le"]),
    ("aiff", &["-ar", "22050", "-ac", "1", "-c:a", "pcm_s16be"]),
];

pub const WORDS: &[&str] = &[
    "love", "night", "sky", "river", "golden", "shadow", "summer", "electric", "heart", "dream", "fire",
    "ocean", "silver", "morning", "city", "wild", "blue", "echo", "stone", "light", "rain", "garden",
    "velvet", "storm",
];
pub const ARTIST_STEMS: &[&str] = &[
    "Beyoncé",
    "Sigur Rós",
    "Björk",
    "Mötley Crüe",
    "The Beatles",
    "Daft Punk",
    "Røyksopp",
    "Zoë Keating",
    "Amadou & Mariam",
    "Hüsker Dü",
    "Ólafur Arnalds",
    "Radiohead",
    "Nina Simone",
    "Kraftwerk",
    "Café Tacvba",
];
pub const GENRES: &[&str] =
    &["Rock", "Jazz", "Electronic", "Pop", "Post-Rock", "Classical", "Hip-Hop", "Folk"];

/// One template: its extension, its tag format and its bytes.
pub type Template = (String, FileType, Vec<u8>);

/// Makes one short template per format in `dir` with ffmpeg.
pub fn make_templates(dir: &Path) -> Vec<Template> {
    std::fs::create_dir_all(dir).unwrap();
    TEMPLATES
        .iter()
        .map(|(ext, codec)| {
            let path = dir.join(format!("template.{ext}"));
            let output = Command::new("ffmpeg")
                .args([
                    "-hide_banner",
                    "-loglevel",
                    "error",
                    "-y",
                    "-f",
                    "lavfi",
                    "-i",
                    "sine=frequency=330:duration=1",
                ])
                .args(*codec)
                .arg(&path)
                .output()
                .expect("the corpus needs ffmpeg on PATH (Debian: apt-get install ffmpeg)");
            assert!(output.status.success(), "ffmpeg: {}", String::from_utf8_lossy(&output.stderr));
            let file_type = FileType::from_path(&path).unwrap();
            (ext.to_string(), file_type, std::fs::read(&path).unwrap())
        })
        .collect()
}

/// Writes files `from..to` of the corpus: copies of the templates, each with its own tags
/// (written by lofty into the copy), in Artist/Album/NN Title.ext folders.
pub fn generate(corpus: &Path, templates: &[Template], from: usize, to: usize) {
    let next = AtomicUsize::new(from);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= to {
                        break;
                    }
                    write_one(corpus, templates, i);
                }
            });
        }
    });
}

fn write_one(corpus: &Path, templates: &[Template], i: usize) {
    let album_index = i / 10;
    let artist_index = album_index / 4;
    let (ext, file_type, bytes) = &templates[album_index % templates.len()];
    let artist = format!("{} {}", ARTIST_STEMS[artist_index % ARTIST_STEMS.len()], artist_index);
    let album = format!(
        "{} {} {}",
        WORDS[album_index % WORDS.len()],
        WORDS[(album_index / 7) % WORDS.len()],
        album_index
    );
    let title = format!("{} {} {}", WORDS[i % WORDS.len()], WORDS[(i / 3 + 5) % WORDS.len()], i);
    let track = (i % 10) as u32 + 1;

    let mut tag = Tag::new(file_type.primary_tag_type());
    tag.set_title(title.clone());
    tag.set_artist(artist.clone());
    tag.set_album(album.clone());
    tag.set_genre(GENRES[album_index % GENRES.len()].to_owned());
    tag.set_track(track);
    tag.set_track_total(10);
    tag.set_disk(1);
    tag.insert_text(ItemKey::AlbumArtist, artist.clone());
    tag.insert_text(ItemKey::Year, (1960 + album_index % 60).to_string());
    let mut file = Cursor::new(bytes.clone());
    tag.save_to(&mut file, WriteOptions::default()).unwrap();

    let dir = corpus.join(format!("{artist_index:05} {artist}")).join(format!("{album_index:06} {album}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{track:02} {title}.{ext}")), file.into_inner()).unwrap();
}

/// What `du -sh` says `dir` takes on disk.
pub fn corpus_size(dir: &Path) -> String {
    let output = Command::new("du").args(["-sh"]).arg(dir).output();
    output
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}
