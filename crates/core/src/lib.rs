//! The Loft player service.
//!
//! Every front end (the desktop shell in `src-tauri`, the `loft` command in `crates/cli`) talks
//! to one [`Loft`] value. It owns the profile on disk — database, cache, settings, logs — and
//! composes the library index, the audio engine and the locker as they land.

mod background;
mod encryption;
mod error;
mod events;
mod hub;
mod index;
mod library;
mod listening;
mod locker;
pub mod logging;
mod opening;
mod playback;
pub mod player;
mod playlists;
mod profile;
mod saved_queue;
mod search;
mod service;
mod session;
mod settings;
mod streaming;
mod sync;
mod uploads;

pub use error::{CoreError, ErrorKind, ErrorPayload};
pub use events::{Event, EventSink, NoEvents, SharedSink};
pub use locker::LockerKeying;
pub use opening::{FileTags, MAX_OPENED_FILES, OpenedFiles, is_playlist_file, playable_files};
pub use playback::{PlaybackStatus, SharedPlayer};
pub use player::Player;
pub use playlists::{M3u8ImportReport, PublishReport};
pub use profile::{APP_IDENTIFIER, DATA_DIR_ENV, Profile, default_data_dir};
pub use saved_queue::{SavedEntry, SavedQueue};
pub use search::SearchResults;
pub use service::{AppInfo, Loft};
pub use settings::{ReplayGainMode, Settings};
pub use streaming::{CacheStatus, PinReport, TrackAvailability, TrackCacheState};
pub use sync::SyncSummary;
pub use uploads::{UploadItem, UploadState};

/// The library types front ends receive from [`Loft`]'s library methods.
pub use loft_library as library_types;
/// The locker types front ends receive from [`Loft`]'s locker methods.
pub use loft_locker as locker_types;

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}

/// The version every front end reports, taken from the workspace.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
