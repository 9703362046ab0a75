use std::path::{Path, PathBuf};

use crate::CoreError;

/// The identifier of the desktop app. The default data directory is named after it so the
/// desktop app and the `loft` command share one profile.
pub const APP_IDENTIFIER: &str = "app.loft.player";

/// Environment variable that names the data directory, for both front ends (tests use it to
/// give every app instance a profile of its own).
pub const DATA_DIR_ENV: &str = "LOFT_DATA_DIR";

/// The per-user data directory: `$XDG_DATA_HOME/app.loft.player` on Linux,
/// `~/Library/Application Support/app.loft.player` on macOS, `%APPDATA%\app.loft.player` on
/// Windows — the same place Tauri's `app_data_dir` resolves to.
pub fn default_data_dir() -> Result<PathBuf, CoreError> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::data_dir().map(|d| d.join(APP_IDENTIFIER)).ok_or(CoreError::NoDataDir)
}

/// The files of one profile: everything Loft keeps for a user lives below `root`.
#[derive(Debug, Clone)]
pub struct Profile {
    root: PathBuf,
}

impl Profile {
    /// Opens the profile at `root`, creating its directories when they are missing.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, CoreError> {
        let root = root.into();
        let profile = Profile { root };
        for dir in [profile.root.clone(), profile.cache_dir(), profile.logs_dir()] {
            std::fs::create_dir_all(&dir)
                .map_err(|source| CoreError::DataDir { path: dir.clone(), source })?;
        }
        Ok(profile)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The SQLite index of the library.
    pub fn database_path(&self) -> PathBuf {
        self.root.join("library.sqlite3")
    }

    pub fn settings_path(&self) -> PathBuf {
        self.root.join("settings.json")
    }

    /// The offline cache of locker audio and the cover thumbnails.
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// Local state of the connected locker: the catalog cache, the clock, upload journals.
    pub fn locker_state_dir(&self) -> PathBuf {
        self.root.join("locker")
    }

    /// This profile's device id in a locker's catalog: generated once, then read back from
    /// `device-id`, so every run of the app and of `loft` on this profile is one device.
    pub fn device_id(&self) -> Result<String, CoreError> {
        let path = self.root.join("device-id");
        let wrap = |source| CoreError::DataDir { path: path.clone(), source };
        match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_owned()),
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(wrap(error)),
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        // Written beside and renamed into place: two processes starting at once keep one id.
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        std::fs::write(&tmp, &id).map_err(wrap)?;
        match std::fs::hard_link(&tmp, &path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(wrap(error));
            }
        }
        let _ = std::fs::remove_file(&tmp);
        Ok(std::fs::read_to_string(&path).map_err(wrap)?.trim().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_creates_the_layout() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("nested/profile");
        let profile = Profile::open(&root).unwrap();
        assert!(profile.cache_dir().is_dir());
        assert!(profile.logs_dir().is_dir());
        assert_eq!(profile.database_path(), root.join("library.sqlite3"));
    }

    #[test]
    fn the_device_id_is_made_once_and_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let profile = Profile::open(tmp.path()).unwrap();
        let id = profile.device_id().unwrap();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(Profile::open(tmp.path()).unwrap().device_id().unwrap(), id);
        let other = tempfile::tempdir().unwrap();
        assert_ne!(Profile::open(other.path()).unwrap().device_id().unwrap(), id);
    }

    #[test]
    fn open_reports_an_unusable_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let error = Profile::open(file.join("profile")).unwrap_err();
        assert_eq!(error.kind(), "data_dir");
        assert!(error.to_string().contains("not-a-dir"), "{error}");
    }
}
