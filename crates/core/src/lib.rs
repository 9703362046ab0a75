//! The Loft player service.
//!
//! Every front end (the desktop shell in `src-tauri`, the `loft` command in `crates/cli`) talks
//! to one [`Loft`] value. It owns the profile on disk — database, cache, settings, logs — and
//! composes the library index, the audio engine and the locker as they land.

mod error;
mod events;
mod library;
mod locker;
pub mod logging;
mod playback;
pub mod player;
mod playlists;
mod profile;
mod search;
mod service;
mod settings;
mod streaming;
mod uploads;

pub use error::{CoreError, ErrorPayload};
pub use events::{Event, EventSink, NoEvents, SharedSink};
pub use locker::{LockerHandle, SyncSummary};
pub use playback::{PlaybackStatus, SharedPlayer};
pub use player::Player;
pub use playlists::{M3u8ImportReport, PublishReport};
pub use profile::{APP_IDENTIFIER, DATA_DIR_ENV, Profile, default_data_dir};
pub use search::SearchResults;
pub use service::{AppInfo, Loft};
pub use settings::{ReplayGainMode, Settings};
pub use streaming::{CacheStatus, PinReport, TrackAvailability, TrackCacheState};
pub use uploads::{UploadItem, UploadState};

/// The library types front ends receive from [`Loft`]'s library methods.
pub use loft_library as library_types;
/// The locker types front ends receive from [`Loft`]'s locker methods.
pub use loft_locker as locker_types;

/// The version every front end reports, taken from the workspace.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
