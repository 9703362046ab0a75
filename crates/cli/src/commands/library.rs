use std::path::PathBuf;

use clap::Subcommand;
use loft_core::Loft;
use loft_core::library_types::ScanReport;
use serde::Serialize;

use super::CliError;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum LibraryCommand {
    /// Add music folders to the library (then run `loft scan`).
    Add {
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
    },
    /// Remove a music folder and its tracks from the library (the files stay on disk).
    Remove {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// List the music folders.
    List,
}

#[derive(Serialize)]
struct Removed {
    folder: PathBuf,
    tracks_removed: u64,
}

pub fn run(loft: &Loft, out: &Output, command: LibraryCommand) -> Result<(), CliError> {
    match command {
        LibraryCommand::Add { dirs } => {
            let mut added = Vec::with_capacity(dirs.len());
            for dir in dirs {
                added.push(loft.add_library_folder(&dir)?);
            }
            out.emit(&added, |folders| {
                folders.iter().map(|f| format!("added {}\n", f.path.display())).collect::<String>()
            });
        }
        LibraryCommand::Remove { dir } => {
            let tracks_removed = loft.remove_library_folder(&dir)?;
            out.emit(&Removed { folder: dir, tracks_removed }, |r| {
                format!("removed {} ({} tracks left the library)", r.folder.display(), r.tracks_removed)
            });
        }
        LibraryCommand::List => {
            let folders = loft.library_folders()?;
            out.emit(&folders, |folders| {
                if folders.is_empty() {
                    "no music folders yet; add one with `loft library add DIR`".to_owned()
                } else {
                    folders.iter().map(|f| format!("{}\n", f.path.display())).collect()
                }
            });
        }
    }
    Ok(())
}

/// `loft scan`: brings the index in step with the music folders.
pub fn scan(loft: &Loft, out: &Output) -> Result<(), CliError> {
    let report = loft.scan_library()?;
    out.emit(&report, render_report);
    Ok(())
}

fn render_report(report: &ScanReport) -> String {
    let mut text = format!(
        "scanned {} files in {:.2} s: {} added, {} updated, {} moved, {} removed, {} unchanged, {} errors\n",
        report.files_seen,
        report.seconds,
        report.added,
        report.updated,
        report.moved,
        report.removed,
        report.unchanged,
        report.errors.len()
    );
    for error in &report.errors {
        text.push_str(&format!("error: {}: {}\n", error.path, error.reason));
    }
    text
}
