//! The rule playlist benchmark (docs/PERFORMANCE.md, "Listening state and smart playlists"):
//! every built-in rule playlist and two of the user's, evaluated over a 100,000-track library;
//! the target is under 50 ms each.
//!
//! `cargo run --release -p loft-library --example smart_bench` (add `-- --tracks 20000` for a
//! smaller library). The library is a real SQLite
//! file in a temp dir, filled the way a locker sync fills it (`apply_locker_changes`, then
//! `apply_listening`), so every index and trigger the app has is there.

use std::time::{Duration, Instant};

use loft_library::{Library, Listening, LockerCopy, SmartRule, builtin_smart_playlists};

const RUNS: usize = 20;
/// "Now" for the rules' day counts: every timestamp below is at most this.
const NOW_MS: u64 = 1_800_000_000_000;
const DAY_MS: u64 = 86_400_000;
const GENRES: [&str; 12] = [
    "Jazz",
    "Rock",
    "Pop",
    "Classical",
    "Electronic",
    "Hip-Hop",
    "Folk",
    "Ambient",
    "Soul",
    "Metal",
    "Blues",
    "",
];

/// A small deterministic generator, so both runs see the same library.
struct Dice(u64);

impl Dice {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tracks = args
        .iter()
        .position(|arg| arg == "--tracks")
        .and_then(|at| args.get(at + 1)?.parse::<usize>().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temp dir");
    // `--db PATH` keeps the library for a look at the query plans (`sqlite3 PATH`).
    let path = args
        .iter()
        .position(|arg| arg == "--db")
        .and_then(|at| args.get(at + 1))
        .map_or_else(|| dir.path().join("library.db"), std::path::PathBuf::from);
    let library = Library::open(&path).expect("the library opens");

    let started = Instant::now();
    let (played, loved, rated) = fill(&library, tracks);
    println!(
        "library: {tracks} tracks, {played} played, {loved} loved, {rated} rated; filled in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut rules: Vec<(String, SmartRule)> =
        builtin_smart_playlists().into_iter().map(|(_, name, rule)| (name.to_owned(), rule)).collect();
    for text in [
        "genre is Jazz and rating >= 4 and last played not in last 90 days",
        "artist contains 17 sort by plays desc limit 100",
    ] {
        rules.push((format!("rule: {text}"), SmartRule::parse(text).expect("the rule reads")));
    }

    // The unlimited built-ins once more, cut to the first hundred tracks: what a window that
    // pages through a long list would ask for first.
    let first_pages: Vec<(String, SmartRule)> = rules
        .iter()
        .filter(|(_, rule)| rule.limit.is_none())
        .map(|(name, rule)| (format!("{name}, first 100"), SmartRule { limit: Some(100), ..rule.clone() }))
        .collect();
    rules.extend(first_pages);
    println!("{:<80} {:>7} {:>10} {:>10}", "playlist", "tracks", "median ms", "worst ms");
    for (name, rule) in &rules {
        // One evaluation first, so the statement is prepared and the pages are cached, as they
        // are for a window that shows the playlist a second time.
        let listed = library.smart_tracks(rule, NOW_MS).expect("the rule evaluates").len();
        let mut samples: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let started = Instant::now();
                let found = library.smart_tracks(rule, NOW_MS).expect("the rule evaluates");
                let elapsed = started.elapsed();
                assert_eq!(found.len(), listed);
                elapsed
            })
            .collect();
        samples.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{name:<80} {listed:>7} {:>10.2} {:>10.2}",
            ms(samples[RUNS / 2]),
            ms(*samples.last().expect("runs"))
        );
    }
}

/// Fills the library with `count` locker tracks and the listening state of a long-used
/// library: a fifth of the tracks played (a few of them very often), a few percent loved or
/// rated. Returns how many are played, loved and rated.
fn fill(library: &Library, count: usize) -> (usize, usize, usize) {
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
    let sha =
        |index: usize| format!("{:064x}", (index as u128 + 1) * 0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
    let mut copies = Vec::with_capacity(count);
    for index in 0..count {
        let album = index / 10;
        let artist = album / 5;
        copies.push(LockerCopy {
            id: sha(index),
            size: 5_000_000 + dice.below(30_000_000),
            file_name: Some(format!("{index:06}.flac")),
            title: Some(format!("Song {index} of album {album}")),
            artist: Some(format!("Artist {artist}")),
            album: Some(format!("Album {album}")),
            album_artist: None,
            genre: Some(GENRES[artist % GENRES.len()].to_owned()).filter(|genre| !genre.is_empty()),
            year: Some(1950 + (album % 75) as u32),
            track_no: Some((index % 10) as u32 + 1),
            disc_no: Some(1),
            duration_ms: Some(120_000 + dice.below(360_000)),
            // Added over five years.
            added_ms: NOW_MS - dice.below(5 * 365) * DAY_MS - dice.below(DAY_MS),
        });
    }
    for chunk in copies.chunks(10_000) {
        library.apply_locker_changes(chunk, &[]).expect("the tracks go in");
    }
    let (mut played, mut loved, mut rated) = (0, 0, 0);
    let mut states = Vec::new();
    for copy in &copies {
        let plays = match dice.below(100) {
            0..80 => 0,
            80..97 => 1 + dice.below(10),
            _ => 10 + dice.below(300),
        };
        let is_loved = dice.below(100) < 3;
        let rating = (dice.below(100) < 5).then(|| dice.below(6) as u8);
        if plays == 0 && !is_loved && rating.is_none() {
            continue;
        }
        played += usize::from(plays > 0);
        loved += usize::from(is_loved);
        rated += usize::from(rating.is_some());
        states.push(Listening {
            sha256: copy.id.clone(),
            play_count: plays,
            last_played_ms: (plays > 0).then(|| NOW_MS - dice.below(2 * 365) * DAY_MS - dice.below(DAY_MS)),
            loved: is_loved,
            rating,
            resume_ms: None,
        });
    }
    library.apply_listening(&states).expect("the listening state goes in");
    (played, loved, rated)
}
