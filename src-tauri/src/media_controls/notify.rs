//! A desktop notification when a new track starts (a setting, off by default), through
//! org.freedesktop.Notifications on the session bus, with the cover as its icon. Each one
//! replaces the previous, so skipping through an album leaves one notification, not ten.

use std::collections::HashMap;
use std::sync::Arc;

use loft_core::Loft;
use mpris_server::zbus;
use mpris_server::zbus::zvariant::Value;
use tauri::{AppHandle, Manager};

use super::Control;
use super::now_playing::{Change, NowPlaying, PlayState};

/// The notification's title and body for what plays: the title, then "Artist — Album", with
/// the characters notification servers read as markup escaped.
pub fn notification_text(now: &NowPlaying) -> Option<(String, String)> {
    let track = now.track.as_ref()?;
    let mut body = track.artists.join(", ");
    if !track.album.is_empty() {
        if !body.is_empty() {
            body.push_str(" — ");
        }
        body.push_str(&track.album);
    }
    Some((track.title.clone(), escape_markup(&body)))
}

fn escape_markup(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

pub struct Notifier {
    app: AppHandle,
    session_bus: Option<zbus::blocking::Connection>,
    /// The notification shown last, which the next one replaces.
    shown: u32,
}

impl Notifier {
    pub fn new(app: AppHandle) -> Notifier {
        Notifier { app, session_bus: None, shown: 0 }
    }

    fn notify(&mut self, now: &NowPlaying) -> zbus::Result<()> {
        let Some((summary, body)) = notification_text(now) else { return Ok(()) };
        if self.session_bus.is_none() {
            self.session_bus = Some(zbus::blocking::Connection::session()?);
        }
        let Some(bus) = self.session_bus.as_ref() else { return Err(zbus::Error::Unsupported) };
        let icon = now
            .track
            .as_ref()
            .and_then(|track| track.art_path.as_ref())
            .and_then(|path| path.to_str())
            .map_or_else(|| "loft-desktop".to_owned(), |path| format!("file://{path}"));
        let mut hints: HashMap<&str, Value<'_>> = HashMap::new();
        hints.insert("desktop-entry", Value::from("loft-desktop"));
        hints.insert("category", Value::from("x-gnome.music"));
        let actions: Vec<&str> = Vec::new();
        let reply = bus.call_method(
            Some("org.freedesktop.Notifications"),
            "/org/freedesktop/Notifications",
            Some("org.freedesktop.Notifications"),
            "Notify",
            &("Loft", self.shown, icon.as_str(), summary.as_str(), body.as_str(), actions, hints, -1i32),
        )?;
        self.shown = reply.body().deserialize::<u32>()?;
        Ok(())
    }
}

impl Control for Notifier {
    fn changed(&mut self, now: &NowPlaying, change: &Change) {
        if !matches!(change, Change::Track(_)) || now.state != PlayState::Playing {
            return;
        }
        if !self.app.state::<Arc<Loft>>().settings().notify_on_track_change {
            return;
        }
        if let Err(error) = self.notify(now) {
            tracing::debug!(%error, "cannot show a notification for the new track");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media_controls::now_playing::TrackInfo;

    #[test]
    fn the_text_names_title_artists_and_album_escaped() {
        assert_eq!(notification_text(&NowPlaying::default()), None);
        let mut now = NowPlaying {
            track: Some(TrackInfo {
                title: "Halo".into(),
                artists: vec!["Beyoncé".into()],
                album: "I Am... Sasha <Fierce> & more".into(),
                ..TrackInfo::default()
            }),
            ..NowPlaying::default()
        };
        assert_eq!(
            notification_text(&now),
            Some(("Halo".into(), "Beyoncé — I Am... Sasha &lt;Fierce&gt; &amp; more".into()))
        );
        now.track = Some(TrackInfo { title: "song".into(), ..TrackInfo::default() });
        assert_eq!(notification_text(&now), Some(("song".into(), String::new())));
    }
}
