use clap::Args;
use loft_core::Loft;
use loft_core::library_types::{Page, SortField, Track, TrackQuery};

use super::CliError;
use crate::output::Output;

#[derive(Debug, Args)]
pub struct TracksArgs {
    /// Sort by: title, artist, album, album_artist, year, genre, duration, added, play_count.
    #[arg(long, value_name = "FIELD", default_value = "artist")]
    sort: String,
    /// Reverse the order.
    #[arg(long)]
    desc: bool,
    /// Show at most N tracks (all when omitted).
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Skip the first N tracks.
    #[arg(long, value_name = "N", default_value_t = 0)]
    offset: u64,
    /// Which tracks: all, local (on this computer) or locker.
    #[arg(long, value_name = "SOURCE", default_value = "all")]
    source: String,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words to look for in titles, artists, albums, genres and composers.
    #[arg(required = true, value_name = "QUERY")]
    words: Vec<String>,
    /// Show at most N tracks.
    #[arg(long, value_name = "N", default_value_t = 100)]
    limit: u64,
}

pub fn tracks(loft: &Loft, out: &Output, args: TracksArgs) -> Result<(), CliError> {
    let sort: SortField = args.sort.parse().map_err(loft_core::CoreError::from)?;
    let query = TrackQuery {
        sort,
        descending: args.desc,
        offset: args.offset,
        limit: args.limit.unwrap_or(u64::MAX),
        source: args.source.parse().map_err(loft_core::CoreError::from)?,
    };
    let tracks = loft.tracks(&query)?;
    out.emit(&tracks, |tracks| render_tracks(tracks));
    Ok(())
}

pub fn search(loft: &Loft, out: &Output, args: SearchArgs) -> Result<(), CliError> {
    let tracks = loft.search(&args.words.join(" "), args.limit)?;
    out.emit(
        &tracks,
        |tracks| if tracks.is_empty() { "no matches".to_owned() } else { render_tracks(tracks) },
    );
    Ok(())
}

pub fn albums(loft: &Loft, out: &Output) -> Result<(), CliError> {
    let albums = loft.albums(Page::ALL)?;
    out.emit(&albums, |albums| {
        albums
            .iter()
            .map(|a| {
                let year = a.year.map(|y| format!("{y}, ")).unwrap_or_default();
                format!("{} — {} ({year}{} tracks)\n", a.album_artist, a.title, a.track_count)
            })
            .collect()
    });
    Ok(())
}

pub fn artists(loft: &Loft, out: &Output) -> Result<(), CliError> {
    let artists = loft.artists(Page::ALL)?;
    out.emit(&artists, |artists| {
        artists
            .iter()
            .map(|a| format!("{} ({} tracks, {} albums)\n", a.name, a.track_count, a.album_count))
            .collect()
    });
    Ok(())
}

fn render_tracks(tracks: &[Track]) -> String {
    tracks
        .iter()
        .map(|t| {
            let seconds = t.duration_ms / 1000;
            format!("{} — {} ({}) [{}:{:02}]\n", t.artist, t.title, t.album, seconds / 60, seconds % 60)
        })
        .collect()
}
