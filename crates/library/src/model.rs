//! The values the library hands to front ends.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::LibraryError;

pub const UNKNOWN_ARTIST: &str = "Unknown Artist";
pub const UNKNOWN_ALBUM: &str = "Unknown Album";
pub const VARIOUS_ARTISTS: &str = "Various Artists";

/// A music folder the user added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct Folder {
    pub id: i64,
    pub path: PathBuf,
    /// Seconds since the Unix epoch.
    pub added_at: i64,
}

/// One track as front ends show it. Missing tags are filled for display ("Unknown Artist",
/// "Unknown Album", the file name as title); the index itself keeps them empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct Track {
    pub id: i64,
    pub title: String,
    pub artist: String,
    pub artists: Vec<String>,
    pub album: String,
    pub album_artist: String,
    pub track_no: Option<u32>,
    pub track_total: Option<u32>,
    pub disc_no: Option<u32>,
    pub disc_total: Option<u32>,
    pub year: Option<i32>,
    pub date: Option<String>,
    pub genre: String,
    pub composer: String,
    pub duration_ms: u64,
    pub sample_rate: Option<u32>,
    pub channels: Option<u32>,
    pub bit_depth: Option<u32>,
    pub bitrate_kbps: Option<u32>,
    pub replaygain: ReplayGain,
    pub musicbrainz: MusicBrainzIds,
    pub compilation: bool,
    /// The container, as the format table (loft-media) names it: "mpeg", "flac", "mp4", "vorbis".
    pub format: String,
    pub cover_id: Option<i64>,
    /// Plays on every device (with a locker; this device's alone without one).
    pub play_count: u64,
    /// When it was last played, anywhere (milliseconds since the epoch).
    pub last_played_ms: Option<u64>,
    /// A heart.
    pub loved: bool,
    /// 0 to 5 stars, or none.
    pub rating: Option<u8>,
    /// Where a long track goes on from (milliseconds into it), when it was left midway.
    pub resume_ms: Option<u64>,
    /// Seconds since the Unix epoch.
    pub added_at: i64,
    /// A local copy, lossily converted to text for display; [`crate::Library::track_path`] gives
    /// the exact path. `None` once the track lives only elsewhere.
    pub path: Option<String>,
    /// SHA-256 of the file's bytes, lowercase hex; `None` until the background hasher got to it.
    pub sha256: Option<String>,
    /// Where its copies are: on this computer, in the locker, or both.
    pub source: crate::TrackSource,
    /// What the offline cache holds of it.
    pub offline: crate::OfflineState,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct ReplayGain {
    pub track_gain_db: Option<f64>,
    pub track_peak: Option<f64>,
    pub album_gain_db: Option<f64>,
    pub album_peak: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct MusicBrainzIds {
    pub recording_id: Option<String>,
    pub track_id: Option<String>,
    pub release_id: Option<String>,
    pub artist_id: Option<String>,
    pub release_artist_id: Option<String>,
}

/// An album: tracks grouped by album artist and album title, compilations under
/// "Various Artists".
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct Album {
    /// For display; "Unknown Album" when the tag is missing.
    pub title: String,
    /// For display; "Various Artists" for compilations, "Unknown Artist" when unknown.
    pub album_artist: String,
    /// What [`crate::Library::album_tracks`] takes to list this album (the stored values).
    pub key: AlbumKey,
    pub year: Option<i32>,
    pub track_count: u64,
    pub duration_ms: u64,
    pub cover_id: Option<i64>,
}

/// Names one album exactly as the index groups it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct AlbumKey {
    pub album_artist: String,
    pub album: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct Artist {
    /// For display; "Unknown Artist" when the tag is missing.
    pub name: String,
    pub track_count: u64,
    pub album_count: u64,
}

/// The columns a track list can be sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SortField {
    Title,
    #[default]
    Artist,
    Album,
    AlbumArtist,
    Year,
    Genre,
    Duration,
    Added,
    PlayCount,
    LastPlayed,
    Rating,
    Loved,
}

impl SortField {
    pub const NAMES: &[&str] = &[
        "title",
        "artist",
        "album",
        "album_artist",
        "year",
        "genre",
        "duration",
        "added",
        "play_count",
        "last_played",
        "rating",
        "loved",
    ];

    /// The ORDER BY terms; each matches one index of the schema column for column.
    pub(crate) fn order_terms(self) -> &'static [&'static str] {
        match self {
            SortField::Title => &["t.sort_title", "t.id"],
            SortField::Artist => &["t.sort_artist", "t.sort_album", "t.disc_no", "t.track_no", "t.id"],
            SortField::Album => &["t.sort_album", "t.disc_no", "t.track_no", "t.id"],
            SortField::AlbumArtist => {
                &["t.sort_group_artist", "t.sort_album", "t.disc_no", "t.track_no", "t.id"]
            }
            SortField::Year => {
                &["t.year", "t.sort_group_artist", "t.sort_album", "t.disc_no", "t.track_no", "t.id"]
            }
            SortField::Genre => &["t.sort_genre", "t.sort_artist", "t.id"],
            SortField::Duration => &["t.duration_ms", "t.id"],
            SortField::Added => &["t.added_at", "t.id"],
            SortField::PlayCount => &["t.play_count", "t.id"],
            // Never played and unrated sort first going up, last going down (SQLite's NULLs).
            SortField::LastPlayed => &["t.last_played_ms", "t.id"],
            SortField::Rating => &["t.rating", "t.id"],
            SortField::Loved => &["t.loved", "t.id"],
        }
    }
}

impl std::str::FromStr for SortField {
    type Err = LibraryError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let normalized = name.trim().to_ascii_lowercase().replace('-', "_");
        Ok(match normalized.as_str() {
            "title" => SortField::Title,
            "artist" => SortField::Artist,
            "album" => SortField::Album,
            "album_artist" | "albumartist" => SortField::AlbumArtist,
            "year" | "date" => SortField::Year,
            "genre" => SortField::Genre,
            "duration" | "duration_ms" | "length" => SortField::Duration,
            "added" | "added_at" => SortField::Added,
            "play_count" | "plays" => SortField::PlayCount,
            "last_played" | "recently_played" => SortField::LastPlayed,
            "rating" | "stars" => SortField::Rating,
            "loved" | "heart" => SortField::Loved,
            _ => return Err(LibraryError::UnknownSortField(name.to_owned())),
        })
    }
}

/// Which tracks to list: a sorted view and one page of it, optionally only the tracks on this
/// computer or only those in the locker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct TrackQuery {
    pub sort: SortField,
    pub descending: bool,
    pub offset: u64,
    pub limit: u64,
    #[serde(default)]
    pub source: crate::SourceFilter,
}

impl Default for TrackQuery {
    fn default() -> Self {
        TrackQuery {
            sort: SortField::default(),
            descending: false,
            offset: 0,
            limit: 200,
            source: crate::SourceFilter::All,
        }
    }
}

/// One page of a grouped list (albums, artists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct Page {
    pub offset: u64,
    pub limit: u64,
}

impl Default for Page {
    fn default() -> Self {
        Page { offset: 0, limit: 500 }
    }
}

impl Page {
    pub const ALL: Page = Page { offset: 0, limit: i64::MAX as u64 };
}

/// A file the scan could not index, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct ScanError {
    /// Lossily converted to text when the name is not valid UTF-8.
    pub path: String,
    pub reason: String,
}

/// What a scan did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct ScanReport {
    /// Audio files found on disk in the scanned folders.
    pub files_seen: u64,
    pub added: u64,
    /// Files whose tags were read again because they changed.
    pub updated: u64,
    /// Files found at a new path and matched to their old entry by content.
    pub moved: u64,
    pub removed: u64,
    pub unchanged: u64,
    pub errors: Vec<ScanError>,
    pub seconds: f64,
}

impl ScanReport {
    /// Whether the index changed.
    pub fn changed_anything(&self) -> bool {
        self.added + self.updated + self.moved + self.removed > 0
    }
}

/// Where a running scan is, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScanProgress {
    /// Audio files found so far.
    pub files_seen: u64,
    /// New or changed files that need their tags read; known once the folders are walked.
    pub files_to_read: u64,
    pub files_read: u64,
}

/// Which rendition of a cover to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverSize {
    Original,
    Thumbnail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverImage {
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// What one background hashing pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HashReport {
    pub hashed: u64,
    /// Tracks found to have the same content as another and merged into it.
    pub merged: u64,
    pub failed: u64,
}
