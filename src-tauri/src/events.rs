//! Forwards the service's events to the window as one Tauri event, `loft://event`, whose
//! payload carries a `type` tag the UI switches on.

use std::sync::OnceLock;

use loft_core::{Event, EventSink};
use tauri::{AppHandle, Emitter};

pub const EVENT_NAME: &str = "loft://event";

/// The service is opened before the Tauri app exists, so the handle arrives later; events
/// emitted before that have no window to go to and are dropped.
#[derive(Default)]
pub struct WindowEvents {
    app: OnceLock<AppHandle>,
}

impl WindowEvents {
    pub fn attach(&self, app: AppHandle) {
        let _ = self.app.set(app);
    }
}

impl EventSink for WindowEvents {
    fn emit(&self, event: Event) {
        if let Some(app) = self.app.get()
            && let Err(error) = app.emit(EVENT_NAME, &event)
        {
            tracing::warn!(%error, "could not forward an event to the window");
        }
    }
}
