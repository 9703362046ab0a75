use std::path::PathBuf;

use clap::Subcommand;
use loft_core::Loft;
use loft_core::library_types::{Playlist, PlaylistEntry, SmartPlaylistInfo, SmartRule, Track};
use serde::Serialize;

use super::CliError;
use crate::output::Output;

/// Positions on the command line count from 1, as `loft playlist show` numbers the entries.
#[derive(Debug, Subcommand)]
pub enum PlaylistCommand {
    /// Create an empty playlist.
    Create { name: String },
    /// Rename a playlist.
    Rename {
        #[arg(value_name = "ID|NAME")]
        playlist: String,
        new_name: String,
    },
    /// Delete a playlist (its tracks stay in the library).
    Delete {
        #[arg(value_name = "ID|NAME")]
        playlist: String,
    },
    /// Add library tracks (ids as `loft tracks` lists them) at the end, or at --at.
    Add {
        #[arg(value_name = "ID|NAME")]
        playlist: String,
        #[arg(required = true, value_name = "TRACK_ID")]
        track_ids: Vec<i64>,
        /// Insert before this position (from 1) instead of at the end.
        #[arg(long, value_name = "POSITION")]
        at: Option<usize>,
    },
    /// Remove entries, named by position (from 1) or entry id.
    Remove {
        #[arg(value_name = "ID|NAME")]
        playlist: String,
        #[arg(required = true, value_name = "POSITION|ENTRY_ID")]
        entries: Vec<String>,
    },
    /// Move an entry (by position or entry id) to another position.
    Move {
        #[arg(value_name = "ID|NAME")]
        playlist: String,
        #[arg(value_name = "FROM")]
        from: String,
        #[arg(value_name = "TO")]
        to: usize,
    },
    /// List the playlists, or show one playlist's tracks.
    Show {
        #[arg(value_name = "ID|NAME")]
        playlist: Option<String>,
    },
    /// Import an M3U/M3U8 file as a new playlist; lines that match no library track are listed.
    Import {
        #[arg(value_name = "FILE.m3u8")]
        file: PathBuf,
        /// The new playlist's name (default: the file's own, else its file name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Write a playlist to an M3U8 file.
    Export {
        #[arg(value_name = "ID|NAME")]
        playlist: String,
        #[arg(value_name = "FILE.m3u8")]
        file: PathBuf,
    },
    /// Put the playlists made on this device before the locker was connected into the locker,
    /// so every device sees them (sync first).
    Publish,
    /// Rule playlists ("smart"): create, edit, delete. `loft playlist show` lists them and shows
    /// their tracks.
    #[command(subcommand)]
    Smart(SmartCommand),
}

#[derive(Debug, Subcommand)]
pub enum SmartCommand {
    /// Create a rule playlist, e.g. --rule "genre is Jazz and rating >= 4 and last played not in
    /// last 90 days sort by plays desc limit 50". Fields: title, artist, album, album artist,
    /// genre, composer, format, year, duration (seconds), plays, rating, loved, last played,
    /// added. Operators: is, is not, contains, does not contain, starts with, >, >=, <, <=,
    /// in last N days, not in last N days. Join conditions with `and` or with `or`.
    Create {
        name: String,
        #[arg(long, value_name = "RULE")]
        rule: String,
    },
    /// Change a rule playlist's rule (and, with --name, its name).
    Edit {
        #[arg(value_name = "ID|NAME")]
        playlist: String,
        #[arg(long, value_name = "RULE")]
        rule: String,
        #[arg(long)]
        name: Option<String>,
    },
    Delete {
        #[arg(value_name = "ID|NAME")]
        playlist: String,
    },
}

/// A rule playlist by id, else by name.
fn find_smart(loft: &Loft, named: &str) -> Result<SmartPlaylistInfo, CliError> {
    let all = loft.smart_playlists()?;
    if let Some(found) = all.iter().find(|playlist| playlist.id == named) {
        return Ok(found.clone());
    }
    let mut by_name = all.into_iter().filter(|playlist| playlist.name.eq_ignore_ascii_case(named));
    match (by_name.next(), by_name.next()) {
        (Some(found), None) => Ok(found),
        (Some(_), Some(_)) => {
            Err(CliError::Usage(format!("several rule playlists are named {named}; give its id")))
        }
        (None, _) => Err(CliError::Usage(format!("there is no playlist {named}"))),
    }
}

fn describe_smart(playlist: &SmartPlaylistInfo, tracks: usize) -> String {
    let kind = if playlist.builtin { "built in" } else { "rule" };
    format!("{}  {}  ({kind}, {tracks} tracks)", playlist.id, playlist.name)
}

#[derive(Serialize)]
struct Shown {
    playlist: Playlist,
    entries: Vec<PlaylistEntry>,
}

#[derive(Serialize)]
struct Edited {
    playlist: Playlist,
    /// Entry ids the edit created (add) or removed (remove).
    entry_ids: Vec<String>,
}

fn clock(milliseconds: u64) -> String {
    let seconds = (milliseconds + 500) / 1000;
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 { format!("{hours}:{minutes:02}:{seconds:02}") } else { format!("{minutes}:{seconds:02}") }
}

fn describe(playlist: &Playlist) -> String {
    let unavailable = match playlist.unavailable_count {
        0 => String::new(),
        n => format!(", {n} unavailable"),
    };
    format!(
        "{}  {}  ({} tracks, {}{unavailable})",
        playlist.id,
        playlist.name,
        playlist.track_count,
        clock(playlist.duration_ms)
    )
}

/// A 1-based position from the command line as a 0-based index.
fn index_of(position: usize, length: usize) -> Result<usize, CliError> {
    if position == 0 || position > length {
        return Err(CliError::Usage(format!(
            "position {position} is not in the playlist; positions go from 1 to {length}"
        )));
    }
    Ok(position - 1)
}

/// The entry a position (from 1) or an entry id names.
fn entry_id(entries: &[PlaylistEntry], named: &str) -> Result<String, CliError> {
    if let Ok(position) = named.parse::<usize>() {
        return Ok(entries[index_of(position, entries.len())?].entry_id.clone());
    }
    entries
        .iter()
        .find(|entry| entry.entry_id == named)
        .map(|entry| entry.entry_id.clone())
        .ok_or_else(|| CliError::Usage(format!("the playlist has no entry {named}")))
}

pub fn run(loft: &Loft, out: &Output, command: PlaylistCommand) -> Result<(), CliError> {
    match command {
        PlaylistCommand::Create { name } => {
            let playlist = loft.create_playlist(&name)?;
            out.emit(&playlist, |p| format!("created {}", describe(p)));
        }
        PlaylistCommand::Rename { playlist, new_name } => {
            let id = loft.find_playlist(&playlist)?.id;
            let renamed = loft.rename_playlist(&id, &new_name)?;
            out.emit(&renamed, |p| format!("renamed {}", describe(p)));
        }
        PlaylistCommand::Delete { playlist } => {
            let playlist = loft.find_playlist(&playlist)?;
            loft.delete_playlist(&playlist.id)?;
            out.emit(&playlist, |p| format!("deleted {}", describe(p)));
        }
        PlaylistCommand::Add { playlist, track_ids, at } => {
            let playlist = loft.find_playlist(&playlist)?;
            let at = match at {
                Some(position) => Some(index_of(position, playlist.track_count as usize + 1)?),
                None => None,
            };
            let entry_ids = loft.playlist_add(&playlist.id, &track_ids, at)?;
            let playlist = loft.find_playlist(&playlist.id)?;
            out.emit(&Edited { playlist, entry_ids }, |e| {
                format!("added {} to {}", e.entry_ids.len(), describe(&e.playlist))
            });
        }
        PlaylistCommand::Remove { playlist, entries } => {
            let playlist = loft.find_playlist(&playlist)?;
            let current = loft.playlist_tracks(&playlist.id)?;
            let mut entry_ids = Vec::new();
            for named in &entries {
                let id = entry_id(&current, named)?;
                if !entry_ids.contains(&id) {
                    entry_ids.push(id);
                }
            }
            loft.playlist_remove(&playlist.id, &entry_ids)?;
            let playlist = loft.find_playlist(&playlist.id)?;
            out.emit(&Edited { playlist, entry_ids }, |e| {
                format!("removed {} from {}", e.entry_ids.len(), describe(&e.playlist))
            });
        }
        PlaylistCommand::Move { playlist, from, to } => {
            let playlist = loft.find_playlist(&playlist)?;
            let current = loft.playlist_tracks(&playlist.id)?;
            let entry = entry_id(&current, &from)?;
            let to = index_of(to, current.len())?;
            loft.playlist_move(&playlist.id, &entry, to)?;
            show(loft, out, &playlist.id)?;
        }
        PlaylistCommand::Show { playlist: None } => {
            // Plain playlists, then the rule playlists (marked `"smart": true`), in one list.
            let playlists = loft.playlists()?;
            let mut listed: Vec<serde_json::Value> =
                playlists.iter().map(|playlist| serde_json::to_value(playlist).unwrap_or_default()).collect();
            let mut text: String = if playlists.is_empty() {
                "no playlists yet; make one with `loft playlist create NAME`\n".to_owned()
            } else {
                playlists.iter().map(|p| describe(p) + "\n").collect()
            };
            for playlist in loft.smart_playlists()? {
                let track_count = loft.smart_playlist_tracks(&playlist.id)?.len();
                text.push_str(&(describe_smart(&playlist, track_count) + "\n"));
                listed.push(serde_json::json!({
                    "id": playlist.id, "name": playlist.name, "smart": true, "builtin": playlist.builtin,
                    "rule": playlist.rule, "track_count": track_count,
                }));
            }
            out.emit(&listed, |_| text);
        }
        PlaylistCommand::Show { playlist: Some(playlist) } => match loft.find_playlist(&playlist) {
            Ok(found) => show(loft, out, &found.id)?,
            Err(error) => match find_smart(loft, &playlist) {
                Ok(smart) => show_smart(loft, out, &smart)?,
                Err(_) => return Err(error.into()),
            },
        },
        PlaylistCommand::Smart(SmartCommand::Create { name, rule }) => {
            let rule = SmartRule::parse(&rule).map_err(loft_core::CoreError::from)?;
            let saved = loft.save_smart_playlist(None, &name, &rule)?;
            show_smart(loft, out, &saved)?;
        }
        PlaylistCommand::Smart(SmartCommand::Edit { playlist, rule, name }) => {
            let found = find_smart(loft, &playlist)?;
            let rule = SmartRule::parse(&rule).map_err(loft_core::CoreError::from)?;
            let saved =
                loft.save_smart_playlist(Some(&found.id), name.as_deref().unwrap_or(&found.name), &rule)?;
            show_smart(loft, out, &saved)?;
        }
        PlaylistCommand::Smart(SmartCommand::Delete { playlist }) => {
            let found = find_smart(loft, &playlist)?;
            loft.delete_smart_playlist(&found.id)?;
            out.emit(&found, |found| format!("deleted {}", found.name));
        }
        PlaylistCommand::Import { file, name } => {
            let report = loft.import_m3u8(&file, name.as_deref())?;
            out.emit(&report, |r| {
                let mut text = format!("imported {} tracks into {}\n", r.added, describe(&r.playlist));
                for line in &r.unmatched {
                    text.push_str(&format!(
                        "not matched, line {}: {}: {}\n",
                        line.line, line.entry, line.reason
                    ));
                }
                text
            });
        }
        PlaylistCommand::Export { playlist, file } => {
            let id = loft.find_playlist(&playlist)?.id;
            let report = loft.export_m3u8(&id, &file)?;
            out.emit(&report, |r| {
                let mut text = format!("wrote {} tracks to {}\n", r.written, r.path.display());
                for skipped in &r.not_written {
                    text.push_str(&format!(
                        "left out (as a comment) #{}: {}: {}\n",
                        skipped.position + 1,
                        skipped.name,
                        skipped.reason
                    ));
                }
                text
            });
        }
        PlaylistCommand::Publish => {
            let report = loft.publish_playlists_to_locker()?;
            out.emit(&report, |r| {
                let mut text = format!("published {} playlists to the locker\n", r.published.len());
                for name in &r.kept_local {
                    text.push_str(&format!(
                        "kept on this device only: {name} (an entry's content is unknown here)\n"
                    ));
                }
                text
            });
        }
    }
    Ok(())
}

fn show_smart(loft: &Loft, out: &Output, playlist: &SmartPlaylistInfo) -> Result<(), CliError> {
    #[derive(Serialize)]
    struct ShownSmart<'a> {
        playlist: &'a SmartPlaylistInfo,
        tracks: Vec<Track>,
    }
    let tracks = loft.smart_playlist_tracks(&playlist.id)?;
    out.emit(&ShownSmart { playlist, tracks }, |shown| {
        let mut text = describe_smart(shown.playlist, shown.tracks.len()) + "\n";
        for (index, track) in shown.tracks.iter().enumerate() {
            text.push_str(&format!(
                "{:>4}. {} - {} ({}, {} plays)\n",
                index + 1,
                track.artist,
                track.title,
                clock(track.duration_ms),
                track.play_count
            ));
        }
        text
    });
    Ok(())
}

fn show(loft: &Loft, out: &Output, id: &str) -> Result<(), CliError> {
    let playlist = loft.find_playlist(id)?;
    let entries = loft.playlist_tracks(id)?;
    out.emit(&Shown { playlist, entries }, |shown| {
        let mut text = describe(&shown.playlist) + "\n";
        for entry in &shown.entries {
            let state = match &entry.track {
                None => "  [unavailable: no longer in the library]",
                Some(track) if track.path.is_none() => "  [in the locker]",
                Some(_) => "",
            };
            text.push_str(&format!(
                "{:>4}. {} - {} ({}){state}\n",
                entry.position + 1,
                entry.artist,
                entry.title,
                clock(entry.duration_ms)
            ));
        }
        text
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_a_clock() {
        assert_eq!(clock(0), "0:00");
        assert_eq!(clock(61_400), "1:01");
        assert_eq!(clock(3_600_000 + 5_000), "1:00:05");
    }

    #[test]
    fn positions_count_from_one_and_out_of_range_is_a_clear_error() {
        assert_eq!(index_of(1, 3).unwrap(), 0);
        assert_eq!(index_of(3, 3).unwrap(), 2);
        assert!(index_of(0, 3).unwrap_err().to_string().contains("from 1 to 3"));
        assert!(index_of(4, 3).is_err());
    }
}
