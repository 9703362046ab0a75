//! The Loft desktop app: a thin shell. It opens the window, turns UI calls into calls on the
//! player service in `loft-core`, and forwards the service's events to the UI.

// Keeps Windows from opening a console window next to the app in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod covers;
mod events;

use std::sync::Arc;

fn main() {
    let data_dir = match loft_core::default_data_dir() {
        Ok(dir) => dir,
        Err(error) => exit_with(&error),
    };
    // Logging starts before the service opens, so what opening it reports is kept too.
    let _log_guard = match loft_core::Profile::open(&data_dir) {
        Ok(profile) => loft_core::logging::init_file_logging(&profile.logs_dir(), "loft-desktop.log"),
        Err(error) => exit_with(&error),
    };
    tracing::info!(version = loft_core::VERSION, "starting the desktop app");
    let window_events = Arc::new(events::WindowEvents::default());
    let loft = match loft_core::Loft::open_with_events(data_dir, window_events.clone()) {
        Ok(loft) => loft,
        Err(error) => {
            tracing::error!(%error, "cannot open the profile");
            exit_with(&error)
        }
    };

    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .register_asynchronous_uri_scheme_protocol(covers::SCHEME, covers::handle)
        .setup(move |app| {
            window_events.attach(app.handle().clone());
            start_background_work(app.handle().clone());
            Ok(())
        })
        .manage(Arc::new(loft))
        .manage(loft_core::SharedPlayer::default())
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::app::get_settings,
            commands::app::set_volume,
            commands::app::set_replaygain,
            commands::app::set_output_device,
            commands::app::output_devices,
            commands::library::library_folders,
            commands::library::add_library_folder,
            commands::library::remove_library_folder,
            commands::library::pick_folder,
            commands::library::scan_library,
            commands::library::tracks,
            commands::library::track_count,
            commands::library::search,
            commands::library::albums,
            commands::library::album_tracks,
            commands::library::artists,
            commands::library::artist_tracks,
            commands::library::show_in_folder,
            commands::player::player_status,
            commands::locker::locker_status,
            commands::locker::connect_locker,
            commands::locker::test_locker_connection,
            commands::locker::disconnect_locker,
            commands::locker::set_locker_quota,
            commands::locker::upload_paths,
            commands::locker::uploads,
            commands::locker::cancel_upload,
            commands::locker::retry_upload,
            commands::locker::clear_finished_uploads,
            commands::locker::pick_and_upload,
            commands::locker::sync_locker,
            commands::locker::remove_from_locker,
            commands::locker::pin_tracks,
            commands::locker::unpin_tracks,
            commands::locker::cache_status,
            commands::locker::set_cache_limit,
            commands::locker::clear_cache,
            commands::locker::track_availability,
            commands::playlists::playlists,
            commands::playlists::playlist_tracks,
            commands::playlists::create_playlist,
            commands::playlists::rename_playlist,
            commands::playlists::delete_playlist,
            commands::playlists::playlist_add,
            commands::playlists::playlist_remove,
            commands::playlists::playlist_move,
            commands::playlists::import_m3u8,
            commands::playlists::export_m3u8,
            commands::player::tracks_by_id,
            commands::player::play_tracks,
            commands::player::queue_play_next,
            commands::player::queue_append,
            commands::player::queue_remove,
            commands::player::queue_move,
            commands::player::queue_clear,
            commands::player::toggle_play,
            commands::player::next_track,
            commands::player::previous_track,
            commands::player::seek,
            commands::player::set_shuffle,
            commands::player::set_repeat,
        ])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        tracing::error!(%error, "the desktop app stopped with an error");
        eprintln!("Loft: {error}");
        std::process::exit(1);
    }
}

/// What runs while the window is open: a scan to catch up with what changed while Loft was
/// closed, then the folder watcher, the background hasher, the locker's sync loop (which
/// resumes interrupted uploads), downloads for offline that did not finish, and a watch on the
/// offline cache so the window's badges follow what streams complete or evict. None of it
/// delays the window.
fn start_background_work(app: tauri::AppHandle) {
    use tauri::Manager;
    let spawned = std::thread::Builder::new().name("loft-startup".into()).spawn(move || {
        let loft = app.state::<Arc<loft_core::Loft>>();
        if let Err(error) = loft.scan_library() {
            tracing::warn!(%error, "the start-up scan failed");
        }
        if let Err(error) = loft.start_watching() {
            tracing::warn!(%error, "cannot watch the library folders");
        }
        loft.start_hashing();
        loft.start_locker_sync();
        let loft: Arc<loft_core::Loft> = Arc::clone(&loft);
        if let Err(error) = loft.resume_downloads() {
            tracing::warn!(%error, "cannot resume the downloads for offline");
        }
        // Streams fill the cache and evictions empty it without a command being involved;
        // checking is a comparison in memory, and emits an event only when something changed.
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3));
            if let Err(error) = loft.refresh_offline_index() {
                tracing::warn!(%error, "cannot update the offline badges");
            }
        }
    });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the background work");
    }
}

fn exit_with(error: &loft_core::CoreError) -> ! {
    eprintln!("Loft cannot start: {error}");
    std::process::exit(1);
}
