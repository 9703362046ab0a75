//! The library benchmark: a corpus of real, tagged audio files, then scan speed, rescan time,
//! peak memory while scanning, and query latency with a large library.
//!
//! Run: `cargo bench -p loft-library --bench library`
//!
//! Sizes: LOFT_BENCH_FILES (default 20000) for the scan-speed runs, LOFT_BENCH_LARGE_FILES
//! (default 100000) for peak memory and queries. The corpus is written under Cargo's target
//! temp directory and deleted at the end unless LOFT_BENCH_KEEP_CORPUS is set.
//!
//! `LOFT_BENCH_ONLY=locker` runs only the locker part: a new device's first sync putting
//! LOFT_BENCH_LARGE_FILES catalog tracks into the index, then the same report again.

#[path = "../examples/support/corpus.rs"]
mod corpus;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use corpus::{ARTIST_STEMS, GENRES, WORDS, corpus_size, generate, make_templates};
use loft_library::{Library, LockerCopy, Page, SortField, TrackQuery};

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let small = env_count("LOFT_BENCH_FILES", 20_000);
    let large = env_count("LOFT_BENCH_LARGE_FILES", 100_000).max(small);
    if std::env::var("LOFT_BENCH_ONLY").as_deref() == Ok("locker") {
        locker_apply(large);
        return;
    }
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("loft-library-bench");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let corpus = root.join("corpus");
    let templates = make_templates(&root.join("templates"));

    println!("loft-library benchmark: {small} files for scan speed, {large} for memory and queries");
    println!("machine: {}", machine());

    let started = Instant::now();
    generate(&corpus, &templates, 0, small);
    println!(
        "corpus: {small} files generated in {:.1} s ({})",
        started.elapsed().as_secs_f64(),
        corpus_size(&corpus)
    );

    warm_page_cache(&corpus);
    let library = Library::open(root.join("small.sqlite3")).unwrap();
    library.add_folder(&corpus).unwrap();
    let report = library.scan(&|_| {}).unwrap();
    assert_eq!(report.added as usize + report.errors.len(), small, "{:?}", report.errors.first());
    println!(
        "full scan, {} files, warm cache: {:.2} s = {:.0} files/s ({} errors)",
        report.files_seen,
        report.seconds,
        report.files_seen as f64 / report.seconds,
        report.errors.len()
    );
    let rescan = library.scan(&|_| {}).unwrap();
    assert_eq!(rescan.unchanged, report.added);
    println!("rescan with nothing changed, {} files: {:.3} s", rescan.files_seen, rescan.seconds);
    drop(library);

    generate(&corpus, &templates, small, large);
    warm_page_cache(&corpus);
    let before = peak_rss_kib();
    let reset = reset_peak_rss();
    let library = Library::open(root.join("large.sqlite3")).unwrap();
    library.add_folder(&corpus).unwrap();
    let report = library.scan(&|_| {}).unwrap();
    let peak = peak_rss_kib();
    println!(
        "full scan, {} files: {:.2} s = {:.0} files/s; peak RSS {} (process peak before the scan: {}{})",
        report.files_seen,
        report.seconds,
        report.files_seen as f64 / report.seconds,
        mib(peak),
        mib(before),
        if reset { ", reset before scanning" } else { ", could not reset: figure includes generation" }
    );
    let rescan = library.scan(&|_| {}).unwrap();
    println!("rescan with nothing changed, {} files: {:.3} s", rescan.files_seen, rescan.seconds);

    queries(&library);

    if std::env::var_os("LOFT_BENCH_KEEP_CORPUS").is_none() {
        let _ = std::fs::remove_dir_all(&root);
    } else {
        println!("corpus kept in {}", root.display());
    }
}

fn warm_page_cache(dir: &Path) {
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let _ = std::fs::read(&path);
            }
        }
    }
}

fn queries(library: &Library) {
    let tracks = library.track_count().unwrap();
    // Warm the read connections and SQLite's cache the way a running app would be.
    for _ in 0..3 {
        library.tracks(&TrackQuery::default()).unwrap();
        library.search("love", 50).unwrap();
    }

    let searches = [
        "beyonce",
        "sigur ros",
        "love",
        "night sky",
        "bjork 12",
        "the",
        "a",
        "mot",
        "golden river",
        "electric 4",
        "jazz",
        "zoe",
        "husker du",
        "cafe tac",
        "velvet storm 123",
        "no such words here",
        "o",
        "s",
        "rain",
        "ocean 9",
    ];
    let mut times = Vec::new();
    let mut worst_query = ("", Duration::ZERO);
    for round in 0..25 {
        for query in searches {
            let started = Instant::now();
            let found = library.search(query, 100).unwrap();
            let took = started.elapsed();
            if round == 0 && query == "beyonce" {
                assert!(!found.is_empty());
            }
            if took > worst_query.1 {
                worst_query = (query, took);
            }
            times.push(took);
        }
    }
    println!(
        "search over {tracks} tracks, limit 100, {} queries: p50 {}, p99 {}, max {} ({:?})",
        times.len(),
        ms(percentile(&mut times, 50.0)),
        ms(percentile(&mut times, 99.0)),
        ms(worst_query.1),
        worst_query.0
    );

    let mut worst = (String::new(), Duration::ZERO);
    let mut all = Vec::new();
    for name in SortField::NAMES {
        let sort: SortField = name.parse().unwrap();
        for descending in [false, true] {
            let mut runs = Vec::new();
            for _ in 0..10 {
                let started = Instant::now();
                let rows = library
                    .tracks(&TrackQuery { sort, descending, offset: 0, limit: 200, ..TrackQuery::default() })
                    .unwrap();
                runs.push(started.elapsed());
                assert_eq!(rows.len(), 200);
            }
            let median = percentile(&mut runs, 50.0);
            all.extend(runs.iter().copied());
            if median > worst.1 {
                worst = (format!("{name}{}", if descending { " desc" } else { "" }), median);
            }
        }
    }
    println!(
        "first 200 rows of each sorted track view ({} views x 10 runs): p50 {}, p99 {}, slowest view median {} ({})",
        SortField::NAMES.len() * 2,
        ms(percentile(&mut all, 50.0)),
        ms(percentile(&mut all, 99.0)),
        ms(worst.1),
        worst.0
    );
    let deep = Instant::now();
    library
        .tracks(&TrackQuery { sort: SortField::Title, offset: 50_000, limit: 200, ..TrackQuery::default() })
        .unwrap();
    println!("200 rows at offset 50,000 (title order): {}", ms(deep.elapsed()));

    let mut albums = Vec::new();
    let mut artists = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        library.albums(Page { offset: 0, limit: 200 }).unwrap();
        albums.push(started.elapsed());
        let started = Instant::now();
        library.artists(Page { offset: 0, limit: 200 }).unwrap();
        artists.push(started.elapsed());
    }
    println!(
        "first 200 albums: p50 {}; first 200 artists: p50 {}",
        ms(percentile(&mut albums, 50.0)),
        ms(percentile(&mut artists, 50.0))
    );
    let started = Instant::now();
    let every_album = library.albums(Page::ALL).unwrap();
    println!("all {} albums: {}", every_album.len(), ms(started.elapsed()));
}

/// A new device's first sync as the index sees it: `count` locker-only tracks applied in one
/// transaction, then the same report again (a sync that repeats what the index has).
fn locker_apply(count: usize) {
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(dir.path().join("library.sqlite3")).unwrap();
    let copies: Vec<LockerCopy> = (0..count as u64)
        .map(|i| LockerCopy {
            id: format!("{i:064x}"),
            size: 3_000_000 + i,
            file_name: Some(format!("{} {i}.flac", WORDS[i as usize % WORDS.len()])),
            title: Some(format!("{} {}", WORDS[i as usize % WORDS.len()], i)),
            artist: Some(ARTIST_STEMS[i as usize % ARTIST_STEMS.len()].to_owned()),
            album: Some(format!("Album {}", i % 10_000)),
            genre: Some(GENRES[i as usize % GENRES.len()].to_owned()),
            year: Some(1970 + (i % 50) as u32),
            track_no: Some((i % 12) as u32 + 1),
            duration_ms: Some(200_000),
            added_ms: 1_700_000_000_000 + i,
            ..LockerCopy::default()
        })
        .collect();
    let started = Instant::now();
    let applied = library.apply_locker_changes(&copies, &[]).unwrap();
    assert_eq!(applied.added, count as u64);
    println!("locker: {count} catalog tracks into a fresh index: {:.2} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let again = library.apply_locker_changes(&copies, &[]).unwrap();
    assert!(!again.changed_anything());
    println!("locker: the same {count} again, nothing changed: {:.2} s", started.elapsed().as_secs_f64());
}

fn percentile(times: &mut [Duration], p: f64) -> Duration {
    times.sort();
    let rank = ((p / 100.0) * times.len() as f64).ceil() as usize;
    times[rank.clamp(1, times.len()) - 1]
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "unknown".to_owned(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Linux resets the peak-RSS mark of a process when "5" is written to its clear_refs.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", b"5").is_ok()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}
