//! `loft love`, `loft unlove`, `loft rate` and `loft history`: listening state from the command
//! line. With a locker connected it follows the user to every device.

use clap::Args;
use loft_core::Loft;
use loft_core::library_types::Track;

use super::CliError;
use crate::output::Output;

#[derive(Debug, Args)]
pub struct TrackArg {
    /// The track, as `loft tracks` lists it ("id").
    #[arg(value_name = "TRACK_ID")]
    track: i64,
}

#[derive(Debug, Args)]
pub struct RateArgs {
    #[arg(value_name = "TRACK_ID")]
    track: i64,
    /// 0 to 5 stars; `none` clears the rating.
    #[arg(value_name = "0-5|none")]
    rating: String,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How many plays to list, latest first.
    #[arg(long, default_value_t = 50)]
    limit: u64,
}

fn describe(track: &Track) -> String {
    let heart = if track.loved { " ♥" } else { "" };
    let stars = track.rating.map(|stars| format!(" {}", "★".repeat(usize::from(stars)))).unwrap_or_default();
    format!("{}  {} - {}{heart}{stars}  ({} plays)", track.id, track.artist, track.title, track.play_count)
}

pub fn love(loft: &Loft, out: &Output, track: TrackArg, loved: bool) -> Result<(), CliError> {
    let track = loft.set_loved(track.track, loved)?;
    out.emit(&track, describe);
    Ok(())
}

pub fn rate(loft: &Loft, out: &Output, args: RateArgs) -> Result<(), CliError> {
    let rating = match args.rating.trim() {
        "none" | "" => None,
        text => Some(
            text.parse::<u8>()
                .ok()
                .filter(|stars| *stars <= 5)
                .ok_or_else(|| CliError::Usage(format!("'{text}' is not a rating; give 0 to 5, or none")))?,
        ),
    };
    let track = loft.set_rating(args.track, rating)?;
    out.emit(&track, describe);
    Ok(())
}

pub fn history(loft: &Loft, out: &Output, args: HistoryArgs) -> Result<(), CliError> {
    let tracks = loft.history(args.limit)?;
    out.emit(&tracks, |tracks| {
        if tracks.is_empty() {
            return "nothing played yet".to_owned();
        }
        tracks
            .iter()
            .map(|track| {
                let when = track.last_played_ms.map(super::locker::ago).unwrap_or_default();
                format!("{when:>12}  {}\n", describe(track))
            })
            .collect()
    });
    Ok(())
}
