use std::path::PathBuf;

/// Everything the library can fail with. A single bad music file is never one of these: it
/// becomes a [`crate::ScanError`] in the scan report instead.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("the library database {path} cannot be used: {source}")]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("library database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("{path} is not a folder that can be read: {source}")]
    FolderUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a folder")]
    NotAFolder { path: PathBuf },
    #[error("{path} is already in the library as part of {parent}")]
    FolderAlreadyCovered { path: PathBuf, parent: PathBuf },
    #[error("{path} is not a library folder")]
    UnknownFolder { path: PathBuf },
    #[error("there is no track {0}")]
    UnknownTrack(i64),
    #[error("cannot watch the library folders: {0}")]
    Watch(String),
    #[error("unknown sort field {0:?}; use one of: {fields}", fields = crate::SortField::NAMES.join(", "))]
    UnknownSortField(String),
    #[error("unknown source {0:?}; use one of: {sources}", sources = crate::SourceFilter::NAMES.join(", "))]
    InvalidSource(String),
    #[error("there is no playlist {0}")]
    UnknownPlaylist(String),
    #[error("playlist {playlist} has no entry {entry}")]
    UnknownPlaylistEntry { playlist: String, entry: String },
    #[error("{0}")]
    InvalidPlaylist(String),
    #[error("cannot read or write the playlist file {path}: {source}")]
    PlaylistFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("input/output error: {0}")]
    Io(#[from] std::io::Error),
    /// The caller asked for something that cannot be done as asked (a rating of 7, a track with
    /// no file to read its content from).
    #[error("{0}")]
    InvalidInput(String),
    /// A rule playlist's rule cannot be read or evaluated.
    #[error("{0}")]
    InvalidRule(String),
}

impl LibraryError {
    /// A stable, machine-readable name for the kind of failure.
    pub fn kind(&self) -> &'static str {
        match self {
            LibraryError::Database { .. } | LibraryError::Sql(_) => "library_database",
            LibraryError::FolderUnreadable { .. }
            | LibraryError::NotAFolder { .. }
            | LibraryError::FolderAlreadyCovered { .. }
            | LibraryError::UnknownFolder { .. }
            | LibraryError::UnknownSortField(_)
            | LibraryError::InvalidSource(_)
            | LibraryError::InvalidPlaylist(_)
            | LibraryError::InvalidInput(_)
            | LibraryError::InvalidRule(_) => "invalid_input",
            LibraryError::UnknownTrack(_)
            | LibraryError::UnknownPlaylist(_)
            | LibraryError::UnknownPlaylistEntry { .. } => "not_found",
            LibraryError::Watch(_) => "library_watch",
            LibraryError::Io(_) | LibraryError::PlaylistFile { .. } => "io",
        }
    }
}

pub type Result<T, E = LibraryError> = std::result::Result<T, E>;
