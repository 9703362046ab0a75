pub mod audio;
pub mod browse;
pub mod cache;
pub mod info;
pub mod library;
pub mod listening;
pub mod locker;
pub mod playlist;
pub mod settings;

/// Why a command failed; printed as one line on stderr.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Core(#[from] loft_core::CoreError),
    #[error("{0}")]
    Usage(String),
    /// The command ran and reported what it found, which was a failure (exit status 1).
    #[error("{0}")]
    Failed(String),
}
