use clap::Subcommand;
use loft_core::{Loft, ReplayGainMode};

use super::CliError;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Print every setting.
    Show,
    /// Set the volume, from 0 to 1.
    Volume { level: f32 },
    /// Set the ReplayGain mode.
    Replaygain {
        #[arg(value_parser = ["off", "track", "album"])]
        mode: String,
    },
}

pub fn run(loft: &Loft, out: &Output, command: SettingsCommand) -> Result<(), CliError> {
    let settings = match command {
        SettingsCommand::Show => loft.settings(),
        SettingsCommand::Volume { level } => loft.set_volume(level)?,
        SettingsCommand::Replaygain { mode } => {
            let mode = match mode.as_str() {
                "off" => ReplayGainMode::Off,
                "track" => ReplayGainMode::Track,
                "album" => ReplayGainMode::Album,
                other => return Err(CliError::Usage(format!("unknown ReplayGain mode {other:?}"))),
            };
            loft.update_settings(|s| s.replaygain = mode)?
        }
    };
    out.emit(&settings, |s| {
        format!(
            "volume:       {:.2}\noutput:       {}\nreplaygain:   {:?}\ncache limit:  {} bytes",
            s.volume,
            s.output_device.as_deref().unwrap_or("system default"),
            s.replaygain,
            s.cache_limit_bytes
        )
    });
    Ok(())
}
