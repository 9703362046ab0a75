//! The listening-state benchmark (docs/PERFORMANCE.md, "Listening state and smart playlists"):
//! a year of listening — 10,000 plays and 500 edits (hearts, ratings, playlist adds, moves and
//! renames) — on two devices sharing one locker on a real S3 server on loopback. The targets:
//! a sync converges in under 2 s, and the year adds under 2 MB to the locker.
//!
//! `cargo run --release -p loft-locker --example listening_bench` runs the `daily`, `offline`
//! and `encrypted` scenarios; pick others with `-- --scenario NAME` (repeatable), and shrink
//! with `--tracks N`, `--plays N`, `--edits N`.
//!
//! Edits never push on their own here (`set_push_on_commit(false)`, as in the desktop app,
//! whose background loop syncs every minute): what a sync writes is what waited since the last.
//! Scenarios:
//! - `daily`: each device syncs once at the end of each day's listening (its plays and edits of
//!   the day in one log file).
//! - `app`: a sync after every play and every edit. This is the app's own cadence while music
//!   plays (a sync a minute, a song lasting longer), one log file each; it costs a real sync
//!   per play, so run it on a slice of the year (`--plays 1000 --edits 50`).
//! - `offline`: both devices away from the locker the whole year (every play waits in the
//!   outbox), then each syncs once: the largest sync there can be.
//! - `encrypted`: `daily` on an encrypted locker.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use loft_locker::{Locker, LockerSecret, OpenOptions};
use support::{Backend, TestStorage, test_options, wav};

const DAY_MS: u64 = 86_400_000;
/// 2026-01-01, when the simulated year starts.
const YEAR_START_MS: u64 = 1_767_225_600_000;
const PASSPHRASE: &str = "a year of listening, benchmarked";
const DEVICES: [&str; 2] = ["desktop", "laptop"];

struct Settings {
    tracks: usize,
    plays: usize,
    edits: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Daily,
    App,
    Offline,
    Encrypted,
}

/// When a device syncs during the year.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cadence {
    EveryPlay,
    EveryDay,
    Never,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Daily => "daily (a sync per device per day, plaintext)",
            Scenario::App => "app (a sync per play or edit, plaintext)",
            Scenario::Offline => "offline (a year in the outbox, then one sync each, plaintext)",
            Scenario::Encrypted => "daily (a sync per device per day, encrypted)",
        }
    }

    fn cadence(self) -> Cadence {
        match self {
            Scenario::Daily | Scenario::Encrypted => Cadence::EveryDay,
            Scenario::App => Cadence::EveryPlay,
            Scenario::Offline => Cadence::Never,
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let number_after = |flag: &str, default: usize| {
        args.iter()
            .position(|arg| arg == flag)
            .and_then(|at| args.get(at + 1)?.replace('_', "").parse().ok())
            .unwrap_or(default)
    };
    let settings = Settings {
        tracks: number_after("--tracks", 2_000),
        plays: number_after("--plays", 10_000),
        edits: number_after("--edits", 500),
    };
    let mut scenarios: Vec<Scenario> = args
        .windows(2)
        .filter(|pair| pair[0] == "--scenario")
        .map(|pair| match pair[1].as_str() {
            "daily" => Scenario::Daily,
            "app" => Scenario::App,
            "offline" => Scenario::Offline,
            "encrypted" => Scenario::Encrypted,
            other => panic!("no scenario '{other}' (daily, app, offline, encrypted)"),
        })
        .collect();
    if scenarios.is_empty() {
        scenarios = vec![Scenario::Daily, Scenario::Offline, Scenario::Encrypted];
    }
    let music = tempfile::tempdir().expect("a temp dir");
    let files = write_music(music.path(), settings.tracks);
    for scenario in scenarios {
        run(scenario, &settings, &files).await;
    }
}

/// Small tagged WAV files: the catalog's tracks. Their audio does not matter here, only that
/// the catalog holds realistic entries (title, artist, album, file name, size).
fn write_music(dir: &Path, count: usize) -> Vec<PathBuf> {
    (0..count)
        .map(|index| {
            let album = index / 10;
            let path = dir.join(format!("{:02} Song number {index}.wav", index % 10 + 1));
            let bytes = wav(
                index as u64 + 1,
                256,
                &format!("Song number {index}"),
                &format!("Artist {}", album / 4),
                &format!("Album {album}"),
            );
            std::fs::write(&path, bytes).expect("a music file");
            path
        })
        .collect()
}

/// One device's year: its plays (track index, when) in order, and after which of them it
/// makes an edit.
struct Year {
    plays: Vec<(usize, u64)>,
    edit_after: Vec<bool>,
}

/// Splits the plays and edits between the two devices over 365 days. Plays favour some tracks
/// (a few are played very often, most rarely), as listening does.
fn plan(settings: &Settings) -> [Year; 2] {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut years = [
        Year { plays: Vec::new(), edit_after: Vec::new() },
        Year { plays: Vec::new(), edit_after: Vec::new() },
    ];
    for play in 0..settings.plays {
        let device = play % 2;
        // Spread evenly over the year, at some minute of the day.
        let day = (play as u64 * 365) / settings.plays.max(1) as u64;
        let at = YEAR_START_MS + day * DAY_MS + (random() * DAY_MS as f64) as u64;
        let track = ((random().powi(3)) * settings.tracks as f64) as usize;
        years[device].plays.push((track.min(settings.tracks - 1), at));
    }
    for (device, year) in years.iter_mut().enumerate() {
        let edits = settings.edits / 2 + usize::from(device == 0) * (settings.edits % 2);
        let count = year.plays.len();
        year.plays.sort_by_key(|(_, at)| *at);
        year.edit_after = (0..count)
            .map(|index| edits > 0 && (index + 1) * edits / count.max(1) > index * edits / count.max(1))
            .collect();
    }
    years
}

/// Every file under the locker's root, summed by the folder a file lives in.
fn sizes_by_folder(root: &Path) -> BTreeMap<String, (u64, usize)> {
    fn walk(dir: &Path, root: &Path, into: &mut BTreeMap<String, (u64, usize)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, into);
            } else if let Ok(metadata) = entry.metadata() {
                let relative =
                    path.strip_prefix(root).expect("under the root").to_string_lossy().into_owned();
                // Two levels (catalog/log, catalog/snapshot, parts/sha256), three under sealed/catalog/.
                let folder = relative.rsplit_once('/').map_or("(root)".to_owned(), |(folder, _)| {
                    let depth = if folder.starts_with("sealed/catalog/") { 3 } else { 2 };
                    folder.split('/').take(depth).collect::<Vec<_>>().join("/")
                });
                let slot = into.entry(folder).or_default();
                slot.0 += metadata.len();
                slot.1 += 1;
            }
        }
    }
    let mut sizes = BTreeMap::new();
    walk(root, root, &mut sizes);
    sizes
}

fn total(sizes: &BTreeMap<String, (u64, usize)>) -> u64 {
    sizes.values().map(|(bytes, _)| bytes).sum()
}

fn options(scenario: Scenario, creating: bool) -> OpenOptions {
    let mut options = test_options();
    if scenario == Scenario::Encrypted {
        if creating {
            options.new_locker_passphrase = Some(zeroize::Zeroizing::new(PASSPHRASE.to_owned()));
        } else {
            options.secret = Some(LockerSecret::passphrase(PASSPHRASE));
        }
    }
    options
}

/// Time spent in syncs, and the log files they wrote.
#[derive(Default)]
struct Syncs {
    times: Vec<Duration>,
    log_files: usize,
}

impl Syncs {
    async fn sync(&mut self, locker: &Locker) -> Duration {
        let waiting = locker.pending_ops().await;
        let started = Instant::now();
        let report = locker.sync().await.expect("a sync");
        let elapsed = started.elapsed();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.pending_ops, 0, "everything reached the locker");
        // A log file holds at most 2,000 ops (src/log.rs).
        self.log_files += waiting.div_ceil(2_000);
        self.times.push(elapsed);
        elapsed
    }

    fn summary(&self) -> String {
        let mut sorted = self.times.clone();
        sorted.sort();
        if sorted.is_empty() {
            return "no syncs".into();
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let total: Duration = sorted.iter().sum();
        format!(
            "{} syncs, {:.1} s in all: median {:.1} ms, 99th percentile {:.1} ms, worst {:.1} ms",
            sorted.len(),
            total.as_secs_f64(),
            ms(sorted[sorted.len() / 2]),
            ms(sorted[(sorted.len() * 99 / 100).min(sorted.len() - 1)]),
            ms(*sorted.last().expect("syncs"))
        )
    }
}

/// One edit, of the kind that comes next in the rotation: hearts, ratings and playlist edits
/// in about the proportions people make them.
async fn edit(locker: &Locker, number: usize, tracks: &[String], pick: usize) {
    let track = &tracks[pick % tracks.len()];
    match number % 10 {
        0..=3 => locker.set_loved(track, !number.is_multiple_of(7)).await.expect("a heart"),
        4..=6 => locker.set_rating(track, Some((number % 6) as u8)).await.expect("a rating"),
        _ => {
            let playlists = locker.playlists().await;
            let kind = (number / 10) % 4;
            let Some(playlist) =
                playlists.get(number % playlists.len().max(1)).filter(|_| playlists.len() >= 5 || kind != 0)
            else {
                locker.create_playlist(&format!("Mix {number}")).await.expect("a playlist");
                return;
            };
            match kind {
                2 if playlist.entries.len() >= 2 => {
                    let entry = &playlist.entries[number % playlist.entries.len()];
                    locker.playlist_move(&playlist.id, &entry.entry_id, 0).await.expect("a move");
                }
                3 => locker.rename_playlist(&playlist.id, &format!("Mix {number}")).await.expect("a rename"),
                _ => {
                    locker.playlist_add(&playlist.id, track, None).await.expect("an add");
                }
            }
        }
    }
}

async fn run(scenario: Scenario, settings: &Settings, files: &[PathBuf]) {
    println!("\n== {} ==", scenario.name());
    let storage = TestStorage::start(Backend::S3).await;
    let states: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().expect("a temp dir")).collect();

    // The catalog: the tracks are uploaded once, from the first device.
    let started = Instant::now();
    let first = storage.open(DEVICES[0], states[0].path(), options(scenario, true)).await;
    let report = first.upload(files, None).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let tracks: Vec<String> = report.uploaded.iter().map(|file| file.track_id.clone()).collect();
    let second = storage.open(DEVICES[1], states[1].path(), options(scenario, false)).await;
    let devices = [first, second];
    for device in &devices {
        device.sync().await.expect("a first sync");
        device.set_push_on_commit(false);
    }
    // Compacted, so the year starts from snapshots rather than from the upload's log files:
    // two, as compaction keeps the one before the newest.
    for _ in 0..2 {
        devices[0].snapshot_and_compact().await.expect("a snapshot");
    }
    devices[1].sync().await.expect("a sync");
    let before = sizes_by_folder(&storage.objects_root);
    println!(
        "catalog: {} tracks uploaded and synced to both devices in {:.1} s; the locker holds {} files, {} bytes \
         ({} of them outside blobs/)",
        tracks.len(),
        started.elapsed().as_secs_f64(),
        before.values().map(|(_, files)| files).sum::<usize>(),
        total(&before),
        total(&before)
            - before
                .iter()
                .filter(|(folder, _)| folder.starts_with("blobs"))
                .map(|(_, (b, _))| b)
                .sum::<u64>()
    );

    let years = plan(settings);
    let mut syncs = Syncs::default();
    let mut edits_made = 0;
    let started = Instant::now();
    let cadence = scenario.cadence();
    // Day by day, each device's listening of that day in turn.
    let mut next = [0usize; 2];
    for day in 0..365u64 {
        let day_end = YEAR_START_MS + (day + 1) * DAY_MS;
        for (index, device) in devices.iter().enumerate() {
            let year = &years[index];
            while let Some(&(track, at)) = year.plays.get(next[index]).filter(|(_, at)| *at < day_end) {
                device.record_play(&tracks[track], at).await.expect("a play");
                if cadence == Cadence::EveryPlay {
                    syncs.sync(device).await;
                }
                if year.edit_after[next[index]] {
                    edit(device, edits_made, &tracks, track * 7 + edits_made).await;
                    edits_made += 1;
                    if cadence == Cadence::EveryPlay {
                        syncs.sync(device).await;
                    }
                }
                next[index] += 1;
            }
            if cadence == Cadence::EveryDay {
                syncs.sync(device).await;
            }
        }
    }
    let year_took = started.elapsed();

    // The year is over: each device syncs (the desktop first, then the laptop, then the
    // desktop again to take the laptop's last edits), and a new device syncs everything.
    let mut last = Vec::new();
    for (name, device) in [(DEVICES[0], &devices[0]), (DEVICES[1], &devices[1]), (DEVICES[0], &devices[0])] {
        let waiting = device.pending_ops().await;
        let took = syncs.sync(device).await;
        last.push(format!("{name} {:.0} ms ({waiting} ops written)", took.as_secs_f64() * 1000.0));
    }
    let newcomer = storage.open("newcomer", states[2].path(), options(scenario, false)).await;
    let started_new = Instant::now();
    let report = newcomer.sync().await.expect("the new device syncs");
    let newcomer_took = started_new.elapsed();

    let mut merged: Vec<Vec<String>> = Vec::new();
    for device in [&devices[0], &devices[1], &newcomer] {
        let mut all: Vec<String> =
            device.all_listening().await.iter().map(|state| format!("{state:?}")).collect();
        all.sort();
        merged.push(all);
    }
    assert_eq!(merged[0], merged[1], "the two devices converged");
    assert_eq!(merged[0], merged[2], "the new device sees the same state");
    let counted: u64 = devices[0].all_listening().await.iter().map(|state| state.play_count).sum();
    assert_eq!(counted, settings.plays as u64, "every play counted once");

    let after = sizes_by_folder(&storage.objects_root);
    println!(
        "year: {} plays and {edits_made} edits on two devices in {:.1} s of simulation",
        settings.plays,
        year_took.as_secs_f64()
    );
    println!("syncs during and after the year: {}", syncs.summary());
    println!("log files written: {}", syncs.log_files);
    println!("last syncs: {}", last.join(", "));
    println!(
        "a new device synced everything in {:.0} ms ({} listening states, {} playlists{})",
        newcomer_took.as_secs_f64() * 1000.0,
        report.listening_changed.len(),
        newcomer.playlists().await.len(),
        if report.rebuilt_from_snapshot { ", from a snapshot" } else { "" }
    );
    let added = total(&after) as i64 - total(&before) as i64;
    println!("added to the locker: {added} bytes ({:.2} MB)", added as f64 / 1e6);
    let folders: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for folder in folders.into_iter().filter(|folder| !folder.starts_with("blobs")) {
        let (was, was_files) = before.get(folder).copied().unwrap_or_default();
        let (now, now_files) = after.get(folder).copied().unwrap_or_default();
        println!(
            "  {folder:<20} {was:>10} bytes in {was_files:>5} files -> {now:>10} bytes in {now_files:>5} files"
        );
    }
}
