//! `loft pin`, `loft unpin` and `loft cache …`: the offline cache of locker audio.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use loft_core::library_types::Page;
use loft_core::locker_types::{CacheState, format_size, parse_size};
use loft_core::{Event, EventSink, Loft, SharedSink};

use super::CliError;
use crate::output::Output;

#[derive(Debug, Args)]
pub struct PinArgs {
    /// Track ids (as `loft tracks` lists them), album titles or playlist ids/names.
    #[arg(required = true, value_name = "TRACK_ID|ALBUM|PLAYLIST")]
    targets: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// How full the cache is, and what each cached track holds.
    Status,
    /// Remove everything cached that is not pinned.
    Clear,
    /// Set the cache's size cap ("2GiB", "500MB", bytes); evicts what no longer fits.
    Limit { size: String },
}

/// Turns each target into library track ids: a number is a track, then a playlist by id or
/// name, then an album by title.
fn resolve_targets(loft: &Loft, targets: &[String]) -> Result<Vec<i64>, CliError> {
    let mut ids = Vec::new();
    for target in targets {
        if let Ok(id) = target.parse::<i64>() {
            ids.push(id);
            continue;
        }
        if let Ok(playlist) = loft.find_playlist(target) {
            let entries = loft.playlist_tracks(&playlist.id)?;
            ids.extend(entries.iter().filter_map(|entry| entry.track.as_ref().map(|track| track.id)));
            continue;
        }
        let albums: Vec<_> = loft
            .albums(Page::ALL)?
            .into_iter()
            .filter(|album| album.title.eq_ignore_ascii_case(target))
            .collect();
        match albums.as_slice() {
            [album] => ids.extend(loft.album_tracks(&album.key)?.iter().map(|track| track.id)),
            [] => {
                return Err(CliError::Usage(format!(
                    "'{target}' is not a track id, a playlist or an album title"
                )));
            }
            several => {
                let artists: Vec<_> = several.iter().map(|album| album.album_artist.as_str()).collect();
                return Err(CliError::Usage(format!(
                    "several albums are called '{target}' (by {}); pin their tracks by id",
                    artists.join(", ")
                )));
            }
        }
    }
    Ok(ids)
}

pub fn pin(loft: &Loft, out: &Output, args: PinArgs) -> Result<(), CliError> {
    let ids = resolve_targets(loft, &args.targets)?;
    let report = loft.pin(&ids)?;
    let failed = report.failed.len();
    out.emit(&report, |report| {
        let mut text = format!("pinned {} tracks", report.pinned.len());
        if !report.local.is_empty() {
            text.push_str(&format!(", {} are local files already", report.local.len()));
        }
        for (id, reason) in &report.failed {
            text.push_str(&format!("\ntrack {id}: {reason}"));
        }
        text
    });
    if failed > 0 {
        return Err(CliError::Usage(format!("{failed} tracks could not be downloaded for offline use")));
    }
    Ok(())
}

pub fn unpin(loft: &Loft, out: &Output, args: PinArgs) -> Result<(), CliError> {
    let ids = resolve_targets(loft, &args.targets)?;
    loft.unpin(&ids)?;
    out.emit(&serde_json::json!({ "unpinned": ids }), |_| format!("unpinned {} tracks", ids.len()));
    Ok(())
}

fn describe(state: &CacheState) -> String {
    match *state {
        CacheState::None => "not cached".into(),
        CacheState::Partial { bytes, size } => {
            format!("partial, {} of {}", format_size(bytes), format_size(size))
        }
        CacheState::Complete { size } => format!("complete, {}", format_size(size)),
        CacheState::Pinned { size, complete: true, .. } => format!("pinned, {}", format_size(size)),
        CacheState::Pinned { bytes, size, complete: false } => {
            format!("pinned, downloading {} of {}", format_size(bytes), format_size(size))
        }
    }
}

pub fn run(loft: &Loft, out: &Output, command: CacheCommand) -> Result<(), CliError> {
    match command {
        CacheCommand::Status => {
            let status = loft.cache_status()?;
            out.emit(&status, |status| {
                let summary = &status.summary;
                let mut text = format!(
                    "{} of {} used, {} tracks ({} complete, {} pinned: {})",
                    format_size(summary.used_bytes),
                    format_size(summary.limit_bytes),
                    summary.entries,
                    summary.complete,
                    summary.pinned,
                    format_size(summary.pinned_bytes)
                );
                if !status.locker_reachable {
                    text.push_str("\nthe locker could not be reached on the last try");
                }
                for track in &status.tracks {
                    text.push_str(&format!(
                        "\n{}\t{}\t{}",
                        track.track_id,
                        track.title,
                        describe(&track.cache)
                    ));
                }
                text
            });
        }
        CacheCommand::Clear => {
            let freed = loft.clear_cache()?;
            out.emit(&serde_json::json!({ "freed_bytes": freed }), |_| {
                format!("freed {} (pinned tracks stay)", format_size(freed))
            });
        }
        CacheCommand::Limit { size } => {
            let bytes = parse_size(&size).map_err(|error| CliError::Usage(error.to_string()))?;
            loft.set_cache_limit(bytes)?;
            out.emit(&serde_json::json!({ "limit_bytes": bytes }), |_| {
                format!("the offline cache may now use {}", format_size(bytes))
            });
        }
    }
    Ok(())
}

/// Adds download progress on stderr to another sink: a line per track at most twice a second.
pub fn with_download_progress(inner: SharedSink) -> SharedSink {
    Arc::new(DownloadLog { inner, last: Mutex::new(None) })
}

struct DownloadLog {
    inner: SharedSink,
    last: Mutex<Option<(Instant, i64)>>,
}

impl EventSink for DownloadLog {
    fn emit(&self, event: Event) {
        if let Event::DownloadProgress { track_id, bytes, size } = event {
            let mut last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let due = match *last {
                None => true,
                Some((at, id)) => {
                    id != track_id || bytes == size || at.elapsed() >= Duration::from_millis(500)
                }
            };
            if due {
                *last = Some((Instant::now(), track_id));
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "downloading track {track_id}: {} of {}",
                    format_size(bytes),
                    format_size(size)
                );
            }
        }
        self.inner.emit(event);
    }
}
