//! Logs go to a daily file in the profile's `logs/` directory, so a user can attach them to a
//! bug report. `RUST_LOG` overrides the default level.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Keep the returned guard alive for the life of the process:
/// dropping it flushes the log file.
pub fn init_file_logging(logs_dir: &Path, file_prefix: &str) -> Option<WorkerGuard> {
    let appender = tracing_appender::rolling::daily(logs_dir, file_prefix);
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .is_ok();
    installed.then_some(guard)
}
