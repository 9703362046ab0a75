//! The one owner of the open locker: a task that opens, reuses and closes it, with the
//! profile's device lock, driven by messages from every part of the service that needs the
//! locker (sync, uploads, playlists, listening, streaming). Because opening goes through this
//! one task, a process never opens the same locker twice (two handles would each count this
//! device's log on their own) and a second process on the same profile is refused plainly.
//!
//! Whether the locker answers is kept beside it ([`Session::note`]): every locker call's result
//! passes through `note`, which tells the front ends when the locker stops or starts answering
//! and tells the offline cache, whose streams see the network first while playing.

use std::sync::Mutex;

use loft_locker::{Credentials, Locker, LockerError, OfflineCache};
use tokio::sync::{mpsc, oneshot};

use crate::{CoreError, Event, Profile, SharedSink};

/// Worker threads of a runtime the service makes for itself (the CLI; the desktop shell lends
/// its own): the locker's work is network- and disk-bound, and it shares two cores with
/// playback.
const RUNTIME_WORKERS: usize = 2;

/// The runtime the service's async work runs on: its own, or the front end's.
pub(crate) enum Runtime {
    Owned(tokio::runtime::Runtime),
    Borrowed(tokio::runtime::Handle),
}

impl Runtime {
    pub(crate) fn own() -> Result<Runtime, CoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(RUNTIME_WORKERS)
            .thread_name("loft-locker")
            .enable_all()
            .build()
            .map_err(CoreError::Io)?;
        Ok(Runtime::Owned(runtime))
    }

    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        match self {
            Runtime::Owned(runtime) => runtime.handle(),
            Runtime::Borrowed(handle) => handle,
        }
    }
}

/// What a front end's blocking call uses to wait for async work: it must not be called from
/// async code (tokio refuses to block a runtime worker); the service's own async code never
/// does.
pub(crate) fn block_on<F: Future>(runtime: &tokio::runtime::Handle, future: F) -> F::Output {
    runtime.block_on(future)
}

/// The open locker, and whether this call opened it (then it has not been synced in this
/// process yet).
pub(crate) struct Opened {
    pub locker: Locker,
    pub fresh: bool,
}

/// What the user gave when connecting a locker.
#[derive(Default)]
pub(crate) struct Given {
    /// The credentials they typed (else the environment's or the keychain's).
    pub credentials: Option<Credentials>,
    /// The passphrase or recovery key of an encrypted locker.
    pub secret: Option<loft_locker::LockerSecret>,
    /// Create the locker encrypted with this passphrase, when the location is empty.
    pub new_passphrase: Option<String>,
}

enum Command {
    /// The open locker at `url`, opening it (with `credentials`, else the environment's or the
    /// keychain's) if it is not the open one; with `credentials`, always opened again with them.
    Open { url: String, given: Option<Given>, reply: oneshot::Sender<Result<Opened, CoreError>> },
    /// Closes the open locker and lets go of the device lock.
    Close { reply: oneshot::Sender<()> },
}

/// The handle every part of the service talks to the owner through. Cheap to share.
pub(crate) struct Session {
    commands: mpsc::UnboundedSender<Command>,
    events: SharedSink,
    /// Whether the last call reached the locker; `None` before the first.
    reachable: Mutex<Option<bool>>,
    /// The offline cache, once streaming opened it.
    cache: Mutex<Option<OfflineCache>>,
    /// Whether edits push the outbox themselves (the CLI) or leave it to the background loop
    /// (the app), which then returns from an edit at once, reachable or not.
    pushes_in_background: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// The owner task's state: only it touches the open locker and the device lock.
struct Owner {
    profile: Profile,
    open: Option<Locker>,
    /// `<profile>/locker/open.lock`, held while this process may write to the locker: the
    /// profile is one device, and two processes writing one device's log would each number its
    /// files on their own.
    device_lock: Option<std::fs::File>,
    pushes_in_background: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Session {
    /// Starts the owner task on `runtime`.
    pub(crate) fn start(runtime: &tokio::runtime::Handle, profile: Profile, events: SharedSink) -> Session {
        let (commands, inbox) = mpsc::unbounded_channel();
        let pushes_in_background = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let owner = Owner {
            profile,
            open: None,
            device_lock: None,
            pushes_in_background: pushes_in_background.clone(),
        };
        runtime.spawn(owner.run(inbox));
        Session {
            commands,
            events,
            reachable: Mutex::new(None),
            cache: Mutex::new(None),
            pushes_in_background,
        }
    }

    /// Leaves pushing edits to the background loop (or back to each edit).
    pub(crate) fn push_in_background(&self, background: bool) {
        self.pushes_in_background.store(background, std::sync::atomic::Ordering::SeqCst);
    }

    /// The open locker at `url`, opened now if it is not open yet.
    pub(crate) async fn locker(&self, url: &str) -> Result<Opened, CoreError> {
        self.ask_open(url, None).await
    }

    /// Opens the locker at `url` with what the user gave when connecting: the credentials they
    /// typed, and for an encrypted locker its passphrase (or, to create one, a new passphrase).
    pub(crate) async fn open_with(&self, url: &str, given: Given) -> Result<Opened, CoreError> {
        self.ask_open(url, Some(given)).await
    }

    async fn ask_open(&self, url: &str, given: Option<Given>) -> Result<Opened, CoreError> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(Command::Open { url: url.to_owned(), given, reply }).map_err(|_| stopped())?;
        let opened = answer.await.map_err(|_| stopped())?;
        // Opening is the first request a process makes: it tells whether the locker answers
        // (a locker opened out of reach answers nothing yet, which the first real request says).
        if let Err(CoreError::Locker(error)) = &opened
            && error.is_transient()
        {
            self.note_reached(false, Some(error));
        }
        opened
    }

    /// Closes the open locker, if any.
    pub(crate) async fn close(&self) {
        let (reply, answer) = oneshot::channel();
        if self.commands.send(Command::Close { reply }).is_ok() {
            let _ = answer.await;
        }
    }

    /// Passes a locker call's result through, telling the front ends when the locker stopped
    /// or started answering.
    pub(crate) fn note<T>(&self, result: Result<T, LockerError>) -> Result<T, CoreError> {
        match &result {
            Ok(_) => self.note_reached(true, None),
            Err(error) if error.is_transient() => self.note_reached(false, Some(error)),
            Err(_) => {}
        }
        Ok(result?)
    }

    fn note_reached(&self, reached: bool, error: Option<&LockerError>) {
        let cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        let cache_reachable = cache.as_ref().is_none_or(OfflineCache::locker_reachable);
        if let Some(cache) = &cache {
            cache.note_reachable(reached);
        }
        let before = self.reachable.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).replace(reached);
        // A stream that failed while playing counts as the locker having gone.
        let before = before.map(|before| before && cache_reachable);
        match (before, reached, error) {
            (Some(true) | None, false, Some(error)) => {
                tracing::warn!(error = %error.detail(), "the locker is unreachable");
                self.events.emit(Event::LockerUnreachable { message: error.to_string() });
            }
            (Some(false), true, _) => {
                tracing::info!("the locker is reachable again");
                self.events.emit(Event::LockerReachable);
            }
            _ => {}
        }
    }

    /// Whether the locker answered the last time anything asked, as far as this process knows
    /// (true before anything asked).
    pub(crate) fn seems_reachable(&self) -> bool {
        let synced = *self.reachable.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) != Some(false);
        let streamed = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
            .is_none_or(OfflineCache::locker_reachable);
        synced && streamed
    }

    /// Lets the offline cache hear when the locker answers again or stops.
    pub(crate) fn share_cache(&self, cache: &OfflineCache) {
        *self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(cache.clone());
    }
}

fn stopped() -> CoreError {
    CoreError::InvalidInput("the service is shutting down".to_owned())
}

impl Owner {
    async fn run(mut self, mut inbox: mpsc::UnboundedReceiver<Command>) {
        while let Some(command) = inbox.recv().await {
            match command {
                Command::Open { url, given, reply } => {
                    let opened = self.open(&url, given).await;
                    let _ = reply.send(opened);
                }
                Command::Close { reply } => {
                    self.open = None;
                    self.device_lock = None;
                    let _ = reply.send(());
                }
            }
        }
    }

    async fn open(&mut self, url: &str, given: Option<Given>) -> Result<Opened, CoreError> {
        let in_background = self.pushes_in_background.load(std::sync::atomic::Ordering::SeqCst);
        if given.is_none()
            && let Some(locker) = self.open.as_ref().filter(|locker| locker.url() == url)
        {
            locker.set_push_on_commit(!in_background);
            return Ok(Opened { locker: locker.clone(), fresh: false });
        }
        let Given { credentials, secret, new_passphrase } = given.unwrap_or_default();
        let credentials = match credentials {
            Some(credentials) => credentials,
            None => resolve_credentials(url).await?,
        };
        let device = self.profile.device_id()?;
        let state_dir = self.profile.locker_state_dir();
        self.lock_device(&state_dir)?;
        let options = loft_locker::OpenOptions {
            secret,
            new_locker_passphrase: new_passphrase.map(zeroize::Zeroizing::new),
            ..loft_locker::OpenOptions::default()
        };
        let locker = Locker::open_with(url, credentials, &device, &state_dir, options).await?;
        locker.set_push_on_commit(!in_background);
        self.open = Some(locker.clone());
        Ok(Opened { locker, fresh: true })
    }

    /// Takes this profile's device lock, or says which other program holds it.
    fn lock_device(&mut self, state_dir: &std::path::Path) -> Result<(), CoreError> {
        if self.device_lock.is_some() {
            return Ok(());
        }
        std::fs::create_dir_all(state_dir)
            .map_err(|source| CoreError::DataDir { path: state_dir.to_owned(), source })?;
        let path = state_dir.join("open.lock");
        let file = std::fs::File::create(&path)
            .map_err(|source| CoreError::DataDir { path: path.clone(), source })?;
        match file.try_lock() {
            Ok(()) => {
                self.device_lock = Some(file);
                Ok(())
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(CoreError::InvalidInput(format!(
                "Another Loft using the profile {} has its locker open (the desktop app, or another \
                 `loft` command); use the locker from there, or close it first",
                self.profile.root().display()
            ))),
            Err(std::fs::TryLockError::Error(source)) => Err(CoreError::DataDir { path, source }),
        }
    }
}

/// The environment's credentials, else the keychain's (which may block on the OS service).
pub(crate) async fn resolve_credentials(url: &str) -> Result<Credentials, CoreError> {
    let url = url.to_owned();
    blocking(move || Credentials::resolve(&url)).await
}

/// Runs blocking work (SQLite, the keychain, file metadata) off the runtime's workers.
pub(crate) async fn blocking<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, CoreError>
where
    T: Send + 'static,
    E: Into<CoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(Into::into),
        Err(error) => Err(CoreError::Io(std::io::Error::other(format!("a background task failed: {error}")))),
    }
}
