//! Makes a library of real, tagged audio files for benchmarks that need a big profile (the
//! player window's benchmark, tests/bench/ui-bench.mjs): the same corpus as the library
//! benchmark, so the desktop app sees what a user's scanned folder gives it.
//!
//! `cargo run --release -p loft-library --example make_corpus -- write DIR COUNT` writes COUNT
//! files into DIR (emptied first). Scan them with the real CLI (`loft library add DIR`, then
//! `loft scan`), then `make_corpus -- hash PROFILE_DIR` hashes every file the way the app's
//! background hasher eventually would: a long-lived 100,000-track profile has no hashing left
//! to do, and a hasher reading at 24 MiB/s would skew idle CPU and memory figures.

#[path = "support/corpus.rs"]
mod corpus;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use loft_library::{HashPace, Library};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["write", dir, count] => {
            let Ok(count) = count.replace('_', "").parse::<usize>() else {
                eprintln!("COUNT must be a number, not {count}");
                return ExitCode::FAILURE;
            };
            write(PathBuf::from(dir), count);
            ExitCode::SUCCESS
        }
        ["hash", profile] => {
            hash(PathBuf::from(profile));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: make_corpus write DIR COUNT | make_corpus hash PROFILE_DIR");
            ExitCode::FAILURE
        }
    }
}

fn write(dir: PathBuf, count: usize) {
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(&dir);
    let templates = dir.join(".templates");
    let made = corpus::make_templates(&templates);
    // The scanner would index the templates too; the corpus is exactly COUNT tracks.
    std::fs::remove_dir_all(&templates).unwrap();
    corpus::generate(&dir, &made, 0, count);
    println!(
        "{count} files written to {} in {:.1} s ({})",
        dir.display(),
        started.elapsed().as_secs_f64(),
        corpus::corpus_size(&dir)
    );
}

fn hash(profile: PathBuf) {
    let started = Instant::now();
    // The profile's index, where loft-core keeps it (loft_core::Profile::database_path).
    let library = Library::open(profile.join("library.sqlite3")).unwrap();
    let report = library.hash_pending(HashPace::UNLIMITED, &AtomicBool::new(false)).unwrap();
    println!(
        "hashed {} files ({} merged, {} failed) in {:.1} s",
        report.hashed,
        report.merged,
        report.failed,
        started.elapsed().as_secs_f64()
    );
}
