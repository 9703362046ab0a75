//! The tray icon: what plays, play/pause, next, previous, Show, the mini player and Quit. With
//! the setting "keep playing when the window is closed" on, closing the window while music plays
//! hides it here instead of quitting (see `main.rs`).

use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Wry};

use crate::media_controls::Control;
use crate::media_controls::actions::{Action, perform_in_background};
use crate::media_controls::now_playing::{Change, NowPlaying, PlayState};

const NOTHING_PLAYING: &str = "Nothing playing";

/// The tray's menu items that change with playback. The icon is kept so it stays shown.
pub struct Tray {
    icon: TrayIcon,
    now_playing: MenuItem<Wry>,
    play_pause: MenuItem<Wry>,
}

/// Makes the tray icon. On Linux it needs the app indicator library, which the tray loads at
/// run time and panics without: a desktop with none gets no tray rather than no app.
pub fn create(app: &AppHandle) -> Option<Tray> {
    let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(app)));
    match made {
        Ok(Ok(tray)) => Some(tray),
        Ok(Err(error)) => {
            tracing::warn!(%error, "cannot show the tray icon");
            None
        }
        Err(_) => {
            tracing::warn!("cannot show the tray icon: the system has no tray support");
            None
        }
    }
}

fn build(app: &AppHandle) -> tauri::Result<Tray> {
    let now_playing = MenuItem::with_id(app, "now-playing", NOTHING_PLAYING, false, None::<&str>)?;
    let play_pause = MenuItem::with_id(app, "play-pause", "Play", true, None::<&str>)?;
    let next = MenuItem::with_id(app, "next", "Next", true, None::<&str>)?;
    let previous = MenuItem::with_id(app, "previous", "Previous", true, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", "Show Loft", true, None::<&str>)?;
    let mini = MenuItem::with_id(app, "mini-player", "Mini player", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &now_playing,
            &PredefinedMenuItem::separator(app)?,
            &play_pause,
            &next,
            &previous,
            &PredefinedMenuItem::separator(app)?,
            &show,
            &mini,
            &quit,
        ],
    )?;
    let mut builder = TrayIconBuilder::with_id("loft")
        .tooltip("Loft")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(on_menu_event)
        .on_tray_icon_event(|icon, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                crate::opening::show_main_window(icon.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let icon = builder.build(app)?;
    Ok(Tray { icon, now_playing, play_pause })
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    match event.id().as_ref() {
        "play-pause" => perform_in_background(app, Action::PlayPause),
        "next" => perform_in_background(app, Action::Next),
        "previous" => perform_in_background(app, Action::Previous),
        "show" => crate::opening::show_main_window(app),
        "mini-player" => crate::mini_player::toggle(app),
        "quit" => app.exit(0),
        _ => {}
    }
}

/// The tray's line for what plays: "Title — Artist", or the title alone.
pub fn now_playing_label(now: &NowPlaying) -> String {
    match &now.track {
        None => NOTHING_PLAYING.to_owned(),
        Some(track) if track.artists.is_empty() => track.title.clone(),
        Some(track) => format!("{} — {}", track.title, track.artists.join(", ")),
    }
}

impl Control for Tray {
    fn changed(&mut self, now: &NowPlaying, change: &Change) {
        let result = match change {
            Change::State => {
                let label = if now.state == PlayState::Playing { "Pause" } else { "Play" };
                self.play_pause.set_text(label)
            }
            Change::Track(_) => {
                let label = now_playing_label(now);
                // Menus show at most a line; a long title is cut, not the menu widened.
                let shown: String = label.chars().take(60).collect();
                self.now_playing
                    .set_text(shown)
                    .and_then(|()| self.icon.set_tooltip(Some(format!("Loft — {label}"))))
            }
            Change::Seeked(_) | Change::Queue | Change::Volume => Ok(()),
        };
        if let Err(error) = result {
            tracing::warn!(%error, "cannot update the tray menu");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media_controls::now_playing::TrackInfo;

    #[test]
    fn the_label_names_the_title_and_artists() {
        let mut now = NowPlaying::default();
        assert_eq!(now_playing_label(&now), "Nothing playing");
        now.track = Some(TrackInfo { title: "Song".into(), ..TrackInfo::default() });
        assert_eq!(now_playing_label(&now), "Song");
        now.track = Some(TrackInfo {
            title: "Song".into(),
            artists: vec!["A".into(), "B".into()],
            ..TrackInfo::default()
        });
        assert_eq!(now_playing_label(&now), "Song — A, B");
    }
}
