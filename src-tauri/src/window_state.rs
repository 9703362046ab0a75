//! The window's size, place and maximized state, kept by tauri-plugin-window-state. The plugin
//! writes them when the app exits normally; they are also written a moment after the window
//! is moved or resized, so a session that ends otherwise (logged out, killed, crashed) still
//! opens the window where it was.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tauri::{AppHandle, Manager};
use tauri_plugin_window_state::{AppHandleExt, StateFlags};

/// Everything but visibility: a window hidden in the tray at quit still opens shown.
pub fn flags() -> StateFlags {
    StateFlags::all() - StateFlags::VISIBLE
}

/// How long after the last move or resize the state is written: a drag is one write.
const SETTLE: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Moved(AtomicBool);

/// Starts the writer; [`window_changed`] tells it the window moved or was resized.
pub fn start(app: &AppHandle) {
    app.manage(Moved::default());
    let app = app.clone();
    let spawned = std::thread::Builder::new().name("loft-window-state".into()).spawn(move || {
        loop {
            std::thread::sleep(SETTLE);
            if app.state::<Moved>().0.swap(false, Ordering::Relaxed)
                && let Err(error) = app.save_window_state(flags())
            {
                tracing::warn!(%error, "cannot save the window's size and place");
            }
        }
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start saving the window's size and place");
    }
}

pub fn window_changed(app: &AppHandle) {
    if let Some(moved) = app.try_state::<Moved>() {
        moved.0.store(true, Ordering::Relaxed);
    }
}
