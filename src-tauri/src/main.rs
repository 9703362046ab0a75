//! The Loft desktop app: a thin shell. It opens the window, turns UI calls into calls on the
//! player service in `loft-core`, and forwards the service's events to the UI.

// Keeps Windows from opening a console window next to the app in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod covers;
mod events;
mod file_types;
mod ipc;
#[cfg(test)]
mod least_privilege;
mod media_controls;
mod mini_player;
mod opening;
mod queue_memory;
mod tray;
mod window_state;

use std::sync::Arc;

use tauri::Manager;

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
    // The service's async work runs on Tauri's own runtime: one runtime in the process.
    let runtime = tauri::async_runtime::handle().inner().clone();
    let loft = match loft_core::Loft::open_with_runtime(data_dir, window_events.clone(), runtime) {
        Ok(loft) => loft,
        Err(error) => {
            tracing::error!(%error, "cannot open the profile");
            exit_with(&error)
        }
    };

    let ipc = ipc::builder();
    let invoke_handler = ipc.invoke_handler();
    let result = tauri::Builder::default()
        // First, so that a second launch hands its arguments over and exits before anything
        // else starts in it.
        .plugin(tauri_plugin_single_instance::init(|app, args, cwd| {
            opening::show_main_window(app);
            let _ = opening::open_args(app, args, cwd.into());
        }))
        .plugin(
            tauri_plugin_window_state::Builder::default()
                // A window hidden in the tray at quit still opens shown.
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::all()
                        - tauri_plugin_window_state::StateFlags::VISIBLE,
                )
                .build(),
        )
        .plugin(tauri_plugin_dialog::init())
        .register_asynchronous_uri_scheme_protocol(covers::SCHEME, covers::handle)
        .setup(move |app| {
            #[cfg(feature = "e2e")]
            app.add_capability(include_str!("../e2e/capability.json"))?;
            ipc.mount_events(app);
            window_events.attach(app.handle().clone());
            start_background_work(app.handle().clone());
            window_state::start(app.handle());
            let tray = tray::create(app.handle());
            app.manage(TrayShown(tray.is_some()));
            let mut extra_controls: Vec<Box<dyn media_controls::Control>> =
                vec![Box::new(queue_memory::QueueSaver { app: app.handle().clone() })];
            extra_controls.extend(tray.map(|tray| Box::new(tray) as Box<dyn media_controls::Control>));
            media_controls::start(app.handle(), extra_controls);
            let launched_in = std::env::current_dir().unwrap_or_default();
            if !opening::open_args(app.handle(), std::env::args().collect(), launched_in) {
                queue_memory::restore(app.handle());
            }
            Ok(())
        })
        .manage(Arc::new(loft))
        .manage(loft_core::SharedPlayer::default())
        .invoke_handler(invoke_handler)
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::Moved(_) | tauri::WindowEvent::Resized(_) = event {
                window_state::window_changed(window.app_handle());
            }
            if let tauri::WindowEvent::CloseRequested { .. } = event
                && window.label() == mini_player::LABEL
            {
                mini_player::closing(window.app_handle());
            }
            if let tauri::WindowEvent::CloseRequested { api, .. } = event
                && window.label() == "main"
                && keeps_playing_when_closed(window.app_handle())
            {
                api.prevent_close();
                if let Err(error) = window.hide() {
                    tracing::warn!(%error, "cannot hide the window in the tray");
                }
            }
        })
        .build(tauri::generate_context!())
        .map(|app| app.run(on_run_event));
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

/// Whether the tray icon could be shown: without it, a hidden window could only come back
/// through a second launch.
struct TrayShown(bool);

/// Closing the window hides it while music plays, if the user keeps that setting on and the
/// tray is there to bring it back.
fn keeps_playing_when_closed(app: &tauri::AppHandle) -> bool {
    let tray_shown = app.try_state::<TrayShown>().is_some_and(|shown| shown.0);
    let setting = app.state::<Arc<loft_core::Loft>>().settings().keep_playing_when_closed;
    let playing = matches!(
        app.state::<loft_core::SharedPlayer>().status().state,
        loft_core::player::PlaybackState::Playing | loft_core::player::PlaybackState::Buffering
    );
    tray_shown && setting && playing
}

/// On the way out, the play queue is saved where it is. macOS hands the files to open (a
/// double-click in the Finder, "Open With") to the running app as an event rather than as
/// arguments.
fn on_run_event(app: &tauri::AppHandle, event: tauri::RunEvent) {
    if let tauri::RunEvent::Exit = event {
        queue_memory::save(app);
    }
    #[cfg(target_os = "macos")]
    if let tauri::RunEvent::Opened { urls } = &event {
        let args = std::iter::once(String::new()).chain(urls.iter().map(|url| url.to_string())).collect();
        let _ = opening::open_args(app, args, std::path::PathBuf::from("/"));
    }
}

fn exit_with(error: &loft_core::CoreError) -> ! {
    eprintln!("Loft cannot start: {error}");
    std::process::exit(1);
}
