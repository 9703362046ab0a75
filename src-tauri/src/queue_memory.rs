//! The play queue across restarts: saved as playback goes (each new track, queue edit, pause
//! or seek, and on exit), and loaded paused when the app starts without files to open.

use std::sync::Arc;

use loft_core::{Loft, SharedPlayer};
use tauri::{AppHandle, Manager};

use crate::media_controls::Control;
use crate::media_controls::now_playing::{Change, NowPlaying};

/// Saves the queue whenever playback changes in a way worth keeping.
pub struct QueueSaver {
    pub app: AppHandle,
}

impl Control for QueueSaver {
    fn changed(&mut self, _now: &NowPlaying, change: &Change) {
        if !matches!(change, Change::Volume) {
            save(&self.app);
        }
    }
}

/// Writes what the player holds; a player never started has nothing to write.
pub fn save(app: &AppHandle) {
    let Some(player) = app.state::<SharedPlayer>().running() else { return };
    if let Err(error) = app.state::<Arc<Loft>>().save_play_queue(&player.status()) {
        tracing::warn!(%error, "cannot save the play queue");
    }
}

/// The engine takes the restored queue on its own thread; the status shows it a moment later.
fn wait_for_the_queue(app: &AppHandle) {
    let players = app.state::<SharedPlayer>();
    for _ in 0..50 {
        if players.status().index.is_some() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Loads the saved queue, paused, on a thread of its own: the player starts on the way.
pub fn restore(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let loft: Arc<Loft> = Arc::clone(&app.state::<Arc<Loft>>());
        if loft.saved_play_queue().is_none() {
            return;
        }
        let restored = app
            .state::<SharedPlayer>()
            .get_or_start(&loft)
            .and_then(|player| loft.restore_play_queue(&player));
        match restored {
            Ok(true) => {
                tracing::info!("restored the play queue, paused");
                wait_for_the_queue(&app);
                crate::media_controls::show_player_status(&app);
            }
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "cannot restore the play queue"),
        }
    });
}
