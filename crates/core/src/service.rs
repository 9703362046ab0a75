use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::{CoreError, Event, NoEvents, Profile, Settings, SharedSink};

/// The longest [`Settings::last_view`] kept: a view name and an id, with room to spare.
const MAX_LAST_VIEW_BYTES: usize = 200;

/// What a front end shows in an "about" line and what tests check.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct AppInfo {
    pub version: String,
    pub data_dir: PathBuf,
    pub database: PathBuf,
    pub logs_dir: PathBuf,
}

/// The player service. One per process; both front ends hold exactly one and call into it.
pub struct Loft {
    profile: Profile,
    settings: Mutex<Settings>,
    events: SharedSink,
    pub(crate) library: crate::library::LibraryService,
    pub(crate) streaming: crate::streaming::StreamingService,
    /// What the locker's parts share, the owner of the open locker among them.
    pub(crate) hub: Arc<crate::hub::Hub>,
    pub(crate) uploads: Arc<crate::uploads::Uploads>,
    pub(crate) background: crate::background::SyncLoop,
    /// Kept for as long as the service lives (dropped last).
    runtime: Option<crate::session::Runtime>,
}

impl Loft {
    /// Opens (or creates) the profile at `data_dir`, for a front end that ignores events.
    pub fn open(data_dir: impl Into<PathBuf>) -> Result<Self, CoreError> {
        Self::open_with_events(data_dir, Arc::new(NoEvents))
    }

    /// Opens (or creates) the profile at `data_dir`; `events` receives everything the service
    /// reports while it runs. The service makes a small runtime of its own for its async work.
    pub fn open_with_events(data_dir: impl Into<PathBuf>, events: SharedSink) -> Result<Self, CoreError> {
        Self::open_on(data_dir, events, crate::session::Runtime::own()?)
    }

    /// Like [`Loft::open_with_events`], with the async work on the front end's own
    /// multi-threaded runtime (the desktop shell's), so a process runs one runtime, not two.
    pub fn open_with_runtime(
        data_dir: impl Into<PathBuf>,
        events: SharedSink,
        runtime: tokio::runtime::Handle,
    ) -> Result<Self, CoreError> {
        Self::open_on(data_dir, events, crate::session::Runtime::Borrowed(runtime))
    }

    fn open_on(
        data_dir: impl Into<PathBuf>,
        events: SharedSink,
        runtime: crate::session::Runtime,
    ) -> Result<Self, CoreError> {
        let profile = Profile::open(data_dir)?;
        let settings = Settings::load(&profile.settings_path())?;
        tracing::info!(data_dir = %profile.root().display(), "profile opened");
        let library = crate::library::LibraryService::open(&profile.database_path())?;
        let handle = runtime.handle().clone();
        let hub = Arc::new(crate::hub::Hub {
            session: crate::session::Session::start(&handle, profile.clone(), events.clone()),
            library: library.library().clone(),
            events: events.clone(),
            profile: profile.clone(),
            runtime: handle,
            locker_url: Mutex::new(settings.locker_url.clone()),
        });
        let uploads = Arc::new(crate::uploads::Uploads::new(hub.clone()));
        Ok(Loft {
            profile,
            settings: Mutex::new(settings),
            events,
            library,
            streaming: crate::streaming::StreamingService::default(),
            hub,
            uploads,
            background: crate::background::SyncLoop::default(),
            runtime: Some(runtime),
        })
    }

    /// Where the service's components send what front ends should hear about.
    pub fn events(&self) -> &SharedSink {
        &self.events
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    pub fn data_dir(&self) -> &Path {
        self.profile.root()
    }

    pub fn info(&self) -> AppInfo {
        AppInfo {
            version: crate::VERSION.to_owned(),
            data_dir: self.profile.root().to_owned(),
            database: self.profile.database_path(),
            logs_dir: self.profile.logs_dir(),
        }
    }

    pub fn settings(&self) -> Settings {
        self.lock_settings().clone()
    }

    /// Applies `change` to the settings and persists the result before returning it.
    pub fn update_settings(&self, change: impl FnOnce(&mut Settings)) -> Result<Settings, CoreError> {
        let mut settings = self.lock_settings();
        let mut next = settings.clone();
        change(&mut next);
        next.save(&self.profile.settings_path())?;
        *settings = next.clone();
        *self.hub.locker_url.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) =
            next.locker_url.clone();
        drop(settings);
        self.events.emit(Event::SettingsChanged { settings: next.clone() });
        Ok(next)
    }

    /// Remembers where the desktop window is ([`Settings::last_view`]). Kept short and
    /// printable: it is the window's to interpret, and settings.json is no place for a blob.
    pub fn set_last_view(&self, view: &str) -> Result<Settings, CoreError> {
        if view.len() > MAX_LAST_VIEW_BYTES || view.chars().any(char::is_control) {
            return Err(CoreError::InvalidInput(format!(
                "a view is a name of at most {MAX_LAST_VIEW_BYTES} printable characters"
            )));
        }
        if self.lock_settings().last_view == view {
            return Ok(self.settings());
        }
        self.update_settings(|settings| settings.last_view = view.to_owned())
    }

    pub fn set_volume(&self, volume: f32) -> Result<Settings, CoreError> {
        if !(0.0..=1.0).contains(&volume) || volume.is_nan() {
            return Err(CoreError::InvalidInput(format!("volume must be between 0 and 1, not {volume}")));
        }
        self.update_settings(|s| s.volume = volume)
    }

    fn lock_settings(&self) -> std::sync::MutexGuard<'_, Settings> {
        // A panic while holding this lock cannot leave the settings half-changed (they are
        // replaced whole), so a poisoned lock is still safe to use.
        self.settings.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Loft {
    fn drop(&mut self) {
        self.background.stop(true);
        self.uploads.queue.close();
        // An upload or sync still running must not hold up closing the app; an interrupted
        // upload resumes at the next start. A borrowed runtime belongs to the front end.
        if let Some(crate::session::Runtime::Owned(runtime)) = self.runtime.take() {
            runtime.shutdown_timeout(std::time::Duration::from_secs(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_persists_across_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        let loft = Loft::open(tmp.path()).unwrap();
        loft.set_volume(0.3).unwrap();
        drop(loft);
        let reopened = Loft::open(tmp.path()).unwrap();
        assert_eq!(reopened.settings().volume, 0.3);
    }

    #[test]
    fn out_of_range_volume_is_refused_and_nothing_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let loft = Loft::open(tmp.path()).unwrap();
        let before = loft.settings();
        let error = loft.set_volume(1.5).unwrap_err();
        assert_eq!(error.kind(), "invalid_input");
        assert_eq!(loft.settings(), before);
        assert!(loft.set_volume(f32::NAN).is_err());
    }

    #[test]
    fn the_last_view_persists_and_nonsense_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let loft = Loft::open(tmp.path()).unwrap();
        loft.set_last_view("playlists/01HZX3").unwrap();
        for refused in ["x".repeat(MAX_LAST_VIEW_BYTES + 1), "albums\nvolume".to_owned()] {
            assert_eq!(loft.set_last_view(&refused).unwrap_err().kind(), "invalid_input");
        }
        drop(loft);
        assert_eq!(Loft::open(tmp.path()).unwrap().settings().last_view, "playlists/01HZX3");
    }

    #[test]
    fn info_names_the_profile() {
        let tmp = tempfile::tempdir().unwrap();
        let loft = Loft::open(tmp.path()).unwrap();
        let info = loft.info();
        assert_eq!(info.data_dir, tmp.path());
        assert_eq!(info.version, crate::VERSION);
    }
}
