//! No sleep while playing: while music plays Loft asks the system not to suspend for
//! inactivity, and lets go as soon as playback pauses or stops, so the system sleeps as usual
//! otherwise (and a suspend the user asks for still happens). Through the keepawake crate: a
//! logind "idle" inhibitor lock on Linux, `SetThreadExecutionState(ES_SYSTEM_REQUIRED)` on
//! Windows, a `PreventUserIdleSystemSleep` IOPMAssertion on macOS. The display may still turn
//! off: this is music, not video.
//!
//! Windows ties the request to the thread that made it, so it is made and released on the
//! controls' one long-lived thread, which is where [`super::Control::changed`] runs.

use std::time::{Duration, Instant};

use super::Control;
use super::now_playing::{Change, NowPlaying, PlayState};

/// Whether the system should be kept awake in this state: only while music plays.
pub fn keeps_awake(state: PlayState) -> bool {
    state == PlayState::Playing
}

#[derive(Default)]
pub struct KeepAwake {
    /// The request while it is held; dropping it lets the system sleep.
    held: Option<keepawake::KeepAwake>,
    /// The platform refused (no logind in a container, a bus restarting): not asked again
    /// before this, so a system without the service is not asked at every play.
    retry_after: Option<Instant>,
}

/// How long after a refusal the platform is asked again.
const RETRY_AFTER: Duration = Duration::from_secs(10 * 60);

fn request() -> keepawake::Result<keepawake::KeepAwake> {
    keepawake::Builder::default()
        .idle(true)
        .reason("Playing music")
        .app_name("Loft")
        .app_reverse_domain("app.loft.desktop")
        .create()
}

impl Control for KeepAwake {
    fn changed(&mut self, now: &NowPlaying, change: &Change) {
        if !matches!(change, Change::State) {
            return;
        }
        if !keeps_awake(now.state) {
            if self.held.take().is_some() {
                tracing::debug!("the system may sleep again");
            }
            return;
        }
        if self.held.is_some() || self.retry_after.is_some_and(|after| Instant::now() < after) {
            return;
        }
        match request() {
            Ok(held) => {
                tracing::debug!("keeping the system awake while music plays");
                self.held = Some(held);
                self.retry_after = None;
            }
            Err(error) => {
                tracing::info!(%error, "cannot keep the system from sleeping while music plays");
                self.retry_after = Some(Instant::now() + RETRY_AFTER);
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
    fn a_platform_that_refused_is_not_asked_again_at_once() {
        let mut keep_awake =
            KeepAwake { retry_after: Some(Instant::now() + RETRY_AFTER), ..KeepAwake::default() };
        let playing = NowPlaying { state: PlayState::Playing, ..NowPlaying::default() };
        keep_awake.changed(&playing, &Change::State);
        assert!(keep_awake.held.is_none());
    }

    /// The request and its release against what this machine offers. Windows and macOS always
    /// grant it; a Linux without logind on its system bus (a container, CI) refuses, and is
    /// then not asked again for a while.
    #[test]
    fn playing_asks_and_pausing_releases() {
        let mut keep_awake = KeepAwake::default();
        let playing = NowPlaying { state: PlayState::Playing, ..NowPlaying::default() };
        keep_awake.changed(&playing, &Change::State);
        if cfg!(any(target_os = "windows", target_os = "macos")) {
            assert!(keep_awake.held.is_some(), "the system refused to stay awake");
        } else {
            assert!(keep_awake.held.is_some() || keep_awake.retry_after.is_some());
        }
        let paused = NowPlaying { state: PlayState::Paused, ..NowPlaying::default() };
        keep_awake.changed(&paused, &Change::State);
        assert!(keep_awake.held.is_none(), "paused, the system may sleep");
    }
}
