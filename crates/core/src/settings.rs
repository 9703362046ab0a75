use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::CoreError;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum ReplayGainMode {
    Off,
    #[default]
    Track,
    Album,
}

/// What the user chose and expects to find again after a restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(default)]
pub struct Settings {
    /// Linear slider position, 0.0 to 1.0; the engine maps it onto a perceptual curve.
    pub volume: f32,
    /// Output device by name; `None` follows the system default.
    pub output_device: Option<String>,
    pub replaygain: ReplayGainMode,
    /// Offline cache cap in bytes.
    pub cache_limit_bytes: u64,
    /// The connected locker (`s3://…`, `webdav+https://…`, `file:///…`); `None` when none is.
    /// Its credentials are never here: they live in the OS keychain or the environment.
    pub locker_url: Option<String>,
    /// Closing the desktop window while music plays hides it in the tray instead of quitting.
    /// On by default on Linux and Windows, as most players there do; macOS apps outlive their
    /// windows by convention already.
    pub keep_playing_when_closed: bool,
    /// A desktop notification with the cover and title when a new track starts.
    pub notify_on_track_change: bool,
    /// Files opened from outside (command line, "Open with") also add their folder to the
    /// library, instead of only playing.
    pub open_adds_folders: bool,
    /// The desktop's mini player stays above other windows.
    pub mini_player_on_top: bool,
    /// Where the desktop window was, to open there again: a view's name, with the open
    /// playlist's id after a slash ("playlists/…"). The window checks it against the views it
    /// has; empty for the default.
    pub last_view: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            volume: 0.8,
            output_device: None,
            replaygain: ReplayGainMode::Track,
            cache_limit_bytes: 2 * 1024 * 1024 * 1024,
            locker_url: None,
            keep_playing_when_closed: !cfg!(target_os = "macos"),
            notify_on_track_change: false,
            open_adds_folders: false,
            mini_player_on_top: false,
            last_view: String::new(),
        }
    }
}

impl Settings {
    /// Reads the settings; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Self, CoreError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| CoreError::Settings { path: path.to_owned(), reason: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(CoreError::Settings { path: path.to_owned(), reason: e.to_string() }),
        }
    }

    /// Writes the settings so that a crash leaves either the old or the new file, never half
    /// of one: write a sibling, flush it, rename it over.
    pub fn save(&self, path: &Path) -> Result<(), CoreError> {
        let json = serde_json::to_vec_pretty(self).expect("settings always serialize");
        let tmp = path.with_extension("json.tmp");
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&json)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults_and_save_round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("settings.json");
        assert_eq!(Settings::load(&path).unwrap(), Settings::default());

        let changed = Settings { volume: 0.25, replaygain: ReplayGainMode::Album, ..Settings::default() };
        changed.save(&path).unwrap();
        assert_eq!(Settings::load(&path).unwrap(), changed);
        assert!(!path.with_extension("json.tmp").exists());
    }

    #[test]
    fn unknown_fields_are_ignored_and_missing_ones_defaulted() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("settings.json");
        std::fs::write(&path, br#"{"volume": 0.5, "from_a_newer_version": true}"#).unwrap();
        let settings = Settings::load(&path).unwrap();
        assert_eq!(settings.volume, 0.5);
        assert_eq!(settings.replaygain, ReplayGainMode::Track);
    }

    #[test]
    fn corrupt_file_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("settings.json");
        std::fs::write(&path, b"{not json").unwrap();
        let error = Settings::load(&path).unwrap_err();
        assert_eq!(error.kind(), "settings");
        assert!(error.to_string().contains("settings.json"));
    }
}
