//! No sleep while playing, on Linux: while music plays Loft holds a logind inhibitor lock
//! ("sleep" and "idle", mode "block"), and lets it go as soon as playback pauses or stops, so
//! the system suspends as usual otherwise. logind keeps the lock as long as the file
//! descriptor it returns is open. Reached through zbus as mpris-server re-exports it, the one
//! zbus of the app.

use mpris_server::zbus;
use mpris_server::zbus::zvariant::OwnedFd;

use super::Control;
use super::now_playing::{Change, NowPlaying, PlayState};

/// Whether the system should be kept awake in this state: only while music plays.
pub fn keeps_awake(state: PlayState) -> bool {
    state == PlayState::Playing
}

#[derive(Default)]
pub struct KeepAwake {
    system_bus: Option<zbus::blocking::Connection>,
    /// The inhibitor lock while it is held.
    lock: Option<OwnedFd>,
    /// logind could not be reached once: not asked again (a container, a system without it).
    unavailable: bool,
}

impl KeepAwake {
    fn acquire(&mut self) -> zbus::Result<OwnedFd> {
        if self.system_bus.is_none() {
            self.system_bus = Some(zbus::blocking::Connection::system()?);
        }
        let Some(bus) = self.system_bus.as_ref() else { return Err(zbus::Error::Unsupported) };
        let reply = bus.call_method(
            Some("org.freedesktop.login1"),
            "/org/freedesktop/login1",
            Some("org.freedesktop.login1.Manager"),
            "Inhibit",
            &("sleep:idle", "Loft", "Playing music", "block"),
        )?;
        reply.body().deserialize::<OwnedFd>()
    }
}

impl Control for KeepAwake {
    fn changed(&mut self, now: &NowPlaying, change: &Change) {
        if !matches!(change, Change::State) {
            return;
        }
        if !keeps_awake(now.state) {
            if self.lock.take().is_some() {
                tracing::debug!("the system may sleep again");
            }
            return;
        }
        if self.lock.is_some() || self.unavailable {
            return;
        }
        match self.acquire() {
            Ok(lock) => {
                tracing::debug!("keeping the system awake while music plays");
                self.lock = Some(lock);
            }
            Err(error) => {
                tracing::info!(%error, "cannot keep the system from sleeping while music plays");
                self.unavailable = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_playing_keeps_the_system_awake() {
        assert!(keeps_awake(PlayState::Playing));
        assert!(!keeps_awake(PlayState::Paused));
        assert!(!keeps_awake(PlayState::Stopped));
    }

    #[test]
    fn without_logind_playback_goes_on_and_nothing_is_held() {
        let mut keep_awake = KeepAwake { unavailable: true, ..KeepAwake::default() };
        let playing = NowPlaying { state: PlayState::Playing, ..NowPlaying::default() };
        keep_awake.changed(&playing, &Change::State);
        assert!(keep_awake.lock.is_none());
    }
}
