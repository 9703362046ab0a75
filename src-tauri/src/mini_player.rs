//! The mini player: a small window with the cover, title, artist, a seek bar and the transport,
//! that stands in for the main window while it is open. It loads the same UI with `#mini`, so
//! it drives the same player through the same commands and follows the same events. The main
//! window hides while it shows and comes back when it closes. Where it was put is remembered
//! by the window-state plugin like the main window's place; whether it stays on top of other
//! windows is a setting.

use std::sync::Arc;

use loft_core::Loft;
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

use crate::opening::show_main_window;

pub const LABEL: &str = "mini";
const MAIN: &str = "main";

/// Logical pixels: room for a 104 px cover beside two lines of text, the seek bar and a row of
/// buttons.
const SIZE: (f64, f64) = (380.0, 128.0);

/// Shows the mini player, making it the first time, and hides the main window.
pub fn show(app: &AppHandle) -> tauri::Result<()> {
    let window = match app.get_webview_window(LABEL) {
        Some(window) => window,
        None => build(app)?,
    };
    window.unminimize()?;
    window.show()?;
    window.set_focus()?;
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

/// Back to the full window: the main window shows and the mini player closes.
pub fn show_full(app: &AppHandle) {
    show_main_window(app);
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
        show_full(app);
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

/// A mini player closed by its own close button leaves the main window to come back: the app
/// is never left with no window and music playing unseen.
pub fn closed(app: &AppHandle) {
    if app.get_webview_window(MAIN).is_some_and(|main| !main.is_visible().unwrap_or(true)) {
        show_main_window(app);
    }
}
