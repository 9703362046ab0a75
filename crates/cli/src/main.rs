//! `loft`: the headless front end to the Loft player service.

mod commands;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::output::Output;

#[derive(Debug, Parser)]
#[command(name = "loft", version, about = "Loft, the music player for your disk and your own cloud", long_about = None)]
struct Cli {
    /// The profile to use: database, cache, settings and logs. Defaults to the directory the
    /// desktop app uses, so both see the same library.
    #[arg(long, global = true, value_name = "DIR", env = loft_core::DATA_DIR_ENV)]
    data_dir: Option<PathBuf>,

    /// Print machine-readable JSON instead of text (query commands).
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the version and where this profile keeps its files.
    Info,
    /// Show or change settings that the desktop app shares.
    #[command(subcommand)]
    Settings(commands::settings::SettingsCommand),
    /// Manage the music folders: add, remove, list.
    #[command(subcommand)]
    Library(commands::library::LibraryCommand),
    /// Scan the music folders and bring the library in step with them.
    Scan,
    /// The locker, your own storage shared by your devices: connect, status, quota, rm.
    #[command(subcommand)]
    Locker(commands::locker::LockerCommand),
    /// Upload files and folders to the locker (what it has already is skipped).
    Upload(commands::locker::UploadArgs),
    /// Bring in what your other devices changed in the locker.
    Sync,
    /// List tracks, sorted.
    Tracks(commands::browse::TracksArgs),
    /// Find tracks as you would type in the search box.
    Search(commands::browse::SearchArgs),
    /// List albums by album artist.
    Albums,
    /// List artists.
    Artists,
    /// Play files or library tracks through the audio device until the queue ends.
    Play(commands::audio::PlayArgs),
    /// Run the playback chain into a WAV file instead of the device.
    Render(commands::audio::RenderArgs),
    /// List the audio output devices.
    Devices,
    /// Playlists: create, rename, delete, add, remove, move, show, import and export M3U8.
    #[command(subcommand)]
    Playlist(commands::playlist::PlaylistCommand),
    /// Download locker tracks for offline use and keep them (a track id, album title or
    /// playlist); returns once downloaded, with progress on stderr.
    Pin(commands::cache::PinArgs),
    /// Let pinned tracks be evicted from the offline cache again.
    Unpin(commands::cache::PinArgs),
    /// The offline cache of locker audio: status, clear, limit.
    #[command(subcommand)]
    Cache(commands::cache::CacheCommand),
    /// Love a track (a heart), on every device.
    Love(commands::listening::TrackArg),
    /// Take a track's heart back.
    Unlove(commands::listening::TrackArg),
    /// Rate a track 0 to 5 stars (or `none`), on every device.
    Rate(commands::listening::RateArgs),
    /// The tracks played most recently, on any device.
    History(commands::listening::HistoryArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output::new(cli.json);
    match run(cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("loft: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, out: &Output) -> Result<(), commands::CliError> {
    let data_dir = match cli.data_dir {
        Some(dir) => dir,
        None => loft_core::default_data_dir()?,
    };
    let events = commands::cache::with_download_progress(commands::locker::StderrProgress::new());
    let loft = loft_core::Loft::open_with_events(data_dir, events)?;
    let _log_guard = loft_core::logging::init_file_logging(&loft.profile().logs_dir(), "loft-cli.log");
    match cli.command {
        Command::Info => commands::info::run(&loft, out),
        Command::Settings(command) => commands::settings::run(&loft, out, command),
        Command::Library(command) => commands::library::run(&loft, out, command),
        Command::Scan => commands::library::scan(&loft, out),
        Command::Locker(command) => commands::locker::run(&loft, out, command),
        Command::Upload(args) => commands::locker::upload(&loft, out, args),
        Command::Sync => commands::locker::sync(&loft, out),
        Command::Tracks(args) => commands::browse::tracks(&loft, out, args),
        Command::Search(args) => commands::browse::search(&loft, out, args),
        Command::Albums => commands::browse::albums(&loft, out),
        Command::Artists => commands::browse::artists(&loft, out),
        Command::Play(args) => commands::audio::play(&loft, out, args),
        Command::Render(args) => commands::audio::render(&loft, out, args),
        Command::Devices => commands::audio::devices(out),
        Command::Playlist(command) => commands::playlist::run(&loft, out, command),
        Command::Pin(args) => commands::cache::pin(&loft, out, args),
        Command::Unpin(args) => commands::cache::unpin(&loft, out, args),
        Command::Cache(command) => commands::cache::run(&loft, out, command),
        Command::Love(track) => commands::listening::love(&loft, out, track, true),
        Command::Unlove(track) => commands::listening::love(&loft, out, track, false),
        Command::Rate(args) => commands::listening::rate(&loft, out, args),
        Command::History(args) => commands::listening::history(&loft, out, args),
    }
}
