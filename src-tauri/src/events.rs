//! Forwards the service's events to the window as one Tauri event, `loft://event`, whose
//! payload carries a `type` tag the UI switches on.

use std::sync::OnceLock;

use loft_core::EventSink;
use serde::Serialize;
use tauri::{AppHandle, Emitter};

/// What the window receives on `loft://event`: the service's [`loft_core::Event`] as it is
/// (a newtype serializes as its content). It is a type of its own so the generated bindings
/// can name the channel and type its payload.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct LoftEvent(pub loft_core::Event);

impl tauri_specta::Event for LoftEvent {
    const NAME: &'static str = "loft://event";
}

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
    fn emit(&self, event: loft_core::Event) {
        // Emitted by name rather than through `tauri_specta::Event::emit`, which panics when
        // the event was not mounted; a sink runs on the service's worker threads.
        let name = <LoftEvent as tauri_specta::Event>::NAME;
        if let Some(app) = self.app.get()
            && let Err(error) = app.emit(name, LoftEvent(event))
        {
            tracing::warn!(%error, "could not forward an event to the window");
        }
    }
}
