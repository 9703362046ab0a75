//! The mini player: a small window with the cover, title, artist, a seek bar and the transport,
//! that stands in for the main window while it is open. It loads the same UI with `#mini`, so
//! it drives the same player through the same commands and follows the same events. The main
//! window hides while it shows and comes back when it closes. Where it was put is remembered
//! by the window-state plugin like the main window's place; whether it stays on top of other
//! windows is a setting.

use std::sync::Arc;

use loft_core::Loft;
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

use crate::opening::{raise_main_window, show_main_window};

pub const LABEL: &str = "mini";
const MAIN: &str = "main";

/// Logical pixels: room for a 104 px cover beside two lines of text, the seek bar and a row of
/// buttons.
const SIZE: (f64, f64) = (380.0, 128.0);

/// Shows the mini player, making it the first time, and hides the main window.
pub fn show(app: &AppHandle) -> tauri::Result<()> {
    let window = match app.get_webview_window(LABEL) {
        Some(window) => window,
        // Two callers at once (the button and the tray): the second build finds the label
        // taken, and the window the first one made is the one to show.
        None => build(app).or_else(|error| app.get_webview_window(LABEL).ok_or(error))?,
    };
    window.show()?;
    if let Err(error) = window.unminimize().and_then(|()| window.set_focus()) {
        tracing::debug!(%error, "cannot bring the mini player to the front");
    }
    if let Some(main) = app.get_webview_window(MAIN) {
        main.hide()?;
    }
    Ok(())
}

fn build(app: &AppHandle) -> tauri::Result<WebviewWindow> {
    let on_top = app.state::<Arc<Loft>>().settings().mini_player_on_top;
    WebviewWindowBuilder::new(app, LABEL, WebviewUrl::App("index.html#mini".into()))
        .title("Loft mini player")
        .inner_size(SIZE.0, SIZE.1)
        .min_inner_size(SIZE.0, SIZE.1)
        .resizable(false)
        .maximizable(false)
        .always_on_top(on_top)
        .visible(false)
        .build()
}

/// Closes the mini player if it is open.
pub fn close(app: &AppHandle) {
    if let Some(mini) = app.get_webview_window(LABEL)
        && let Err(error) = mini.close()
    {
        tracing::warn!(%error, "cannot close the mini player");
    }
}

/// Whether the mini player is what the user sees now.
pub fn is_shown(app: &AppHandle) -> bool {
    app.get_webview_window(LABEL).is_some_and(|window| window.is_visible().unwrap_or(false))
}

/// Switches between the two: the tray's "Mini player" item.
pub fn toggle(app: &AppHandle) {
    if is_shown(app) {
        show_main_window(app);
    } else if let Err(error) = show(app) {
        tracing::warn!(%error, "cannot show the mini player");
    }
}

/// Applies the "stay on top" setting to the mini player if it is open.
pub fn apply_on_top(app: &AppHandle, on_top: bool) -> tauri::Result<()> {
    match app.get_webview_window(LABEL) {
        Some(window) => window.set_always_on_top(on_top),
        None => Ok(()),
    }
}

/// The mini player is closing (its own close button, or [`close`]): the main window comes
/// back, so the app is never left with no window while it runs. Quitting destroys the windows
/// without asking them to close, so nothing shows on the way out.
pub fn closing(app: &AppHandle) {
    raise_main_window(app);
}
