use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Args;
use loft_core::player::audio::{GainSettings, RenderOptions, ReplayGainMode, render_to_wav};
use loft_core::player::{gain_settings, output_devices, resolve_item};
use loft_core::{Event, Loft, Player};

use super::CliError;
use crate::output::Output;

#[derive(Debug, Args)]
pub struct PlayArgs {
    /// Audio files or library track ids, played in this order.
    #[arg(required = true, value_name = "FILE|TRACK_ID")]
    items: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Audio files or library track ids, joined gaplessly in this order.
    #[arg(required = true, value_name = "FILE|TRACK_ID")]
    items: Vec<String>,
    /// The WAV file to write (32-bit float, stereo).
    #[arg(long, value_name = "OUT.wav")]
    out: PathBuf,
    /// Output sample rate; defaults to the first track's.
    #[arg(long, value_name = "HZ")]
    rate: Option<u32>,
    /// ReplayGain mode; defaults to the one in settings.
    #[arg(long, value_parser = ["off", "track", "album"])]
    replaygain: Option<String>,
}

fn resolve_all(
    loft: &Loft,
    arguments: &[String],
) -> Result<Vec<loft_core::player::audio::QueueItem>, CliError> {
    arguments.iter().map(|a| resolve_item(loft, a).map_err(CliError::from)).collect()
}

pub fn play(loft: &Loft, out: &Output, args: PlayArgs) -> Result<(), CliError> {
    let items = resolve_all(loft, &args.items)?;
    let (sender, events) = std::sync::mpsc::channel::<Event>();
    let player = Player::start_with_events(loft, Arc::new(sender))?;
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupted);
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
        .map_err(|e| CliError::Usage(format!("cannot catch Ctrl-C: {e}")))?;
    player.play_now(items, 0)?;
    loop {
        if interrupted.load(Ordering::Relaxed) {
            // Stop ramps the output down before the process ends, so there is no click.
            player.stop()?;
            break;
        }
        match events.recv_timeout(Duration::from_millis(100)) {
            Ok(Event::QueueEnded) => break,
            Ok(Event::PlaybackError { message, .. }) => eprintln!("loft: {message}"),
            Ok(event @ Event::TrackChanged { .. }) => out.emit(&event, |e| match e {
                Event::TrackChanged { name, .. } => format!("playing {name}"),
                _ => String::new(),
            }),
            Ok(_) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    drop(player);
    Ok(())
}

#[derive(serde::Serialize)]
struct RenderSummary {
    out: PathBuf,
    rate: u32,
    channels: u16,
    frames: u64,
    seconds: f64,
    failures: Vec<RenderFailure>,
}

#[derive(serde::Serialize)]
struct RenderFailure {
    index: usize,
    name: String,
    kind: loft_core::player::audio::AudioErrorKind,
    message: String,
}

pub fn render(loft: &Loft, out: &Output, args: RenderArgs) -> Result<(), CliError> {
    let items = resolve_all(loft, &args.items)?;
    let gain = match args.replaygain.as_deref() {
        None => gain_settings(&loft.settings()),
        Some("off") => GainSettings { mode: ReplayGainMode::Off, preamp_db: 0.0 },
        Some("track") => GainSettings { mode: ReplayGainMode::Track, preamp_db: 0.0 },
        Some("album") => GainSettings { mode: ReplayGainMode::Album, preamp_db: 0.0 },
        Some(other) => return Err(CliError::Usage(format!("unknown ReplayGain mode {other:?}"))),
    };
    if args.rate.is_some_and(|r| !(8_000..=384_000).contains(&r)) {
        return Err(CliError::Usage("--rate must be between 8000 and 384000 Hz".into()));
    }
    let options = RenderOptions { rate: args.rate, gain, start_secs: 0.0 };
    let report = render_to_wav(&items, &args.out, &options).map_err(loft_core::CoreError::from)?;
    for failure in &report.failures {
        eprintln!("loft: {}", failure.reason);
    }
    let summary = RenderSummary {
        out: args.out,
        rate: report.rate,
        channels: report.channels,
        frames: report.frames,
        seconds: report.frames as f64 / f64::from(report.rate),
        failures: report
            .failures
            .into_iter()
            .map(|f| RenderFailure { index: f.index, name: f.name, kind: f.kind, message: f.reason })
            .collect(),
    };
    out.emit(&summary, |s| {
        format!("wrote {} ({} frames, {:.3} s at {} Hz)", s.out.display(), s.frames, s.seconds, s.rate)
    });
    Ok(())
}

#[derive(serde::Serialize)]
struct DeviceRow {
    name: String,
    description: String,
    default: bool,
}

pub fn devices(out: &Output) -> Result<(), CliError> {
    let devices: Vec<DeviceRow> = output_devices()?
        .into_iter()
        .map(|d| DeviceRow { name: d.name, description: d.description, default: d.is_default })
        .collect();
    out.emit(&devices, |rows| {
        rows.iter()
            .map(|d| format!("{} {} ({})", if d.default { "*" } else { " " }, d.name, d.description))
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}
