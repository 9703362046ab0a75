//! The Loft desktop app: a thin shell. It opens the window, turns UI calls into calls on the
//! player service in `loft-core`, and forwards the service's events to the UI.

// Keeps Windows from opening a console window next to the app in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;

fn main() {
    let data_dir = match loft_core::default_data_dir() {
        Ok(dir) => dir,
        Err(error) => exit_with(&error),
    };
    let loft = match loft_core::Loft::open(data_dir) {
        Ok(loft) => loft,
        Err(error) => exit_with(&error),
    };
    let _log_guard = loft_core::logging::init_file_logging(&loft.profile().logs_dir(), "loft-desktop.log");
    tracing::info!(version = loft_core::VERSION, "starting the desktop app");

    let result = tauri::Builder::default()
        .manage(loft)
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::get_settings,
            commands::set_volume,
        ])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        tracing::error!(%error, "the desktop app stopped with an error");
        eprintln!("Loft: {error}");
        std::process::exit(1);
    }
}

fn exit_with(error: &loft_core::CoreError) -> ! {
    eprintln!("Loft cannot start: {error}");
    std::process::exit(1);
}
