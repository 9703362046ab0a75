//! Files given to the app from outside: `loft-desktop FILE...`, the file manager's "Open with",
//! and a second launch, whose arguments the single-instance plugin hands to this process. They
//! play at once as a queue, without being added to the library (`Loft::open_paths`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use loft_core::{Loft, SharedPlayer};
use tauri::{AppHandle, Manager};

/// The paths a command line names: every argument after the program's name that is not an
/// option, relative ones taken from `cwd` (the launching shell's folder, which a second
/// launch reports), `file://` URLs as the paths they name.
pub fn paths_from_args(args: &[String], cwd: &Path) -> Vec<PathBuf> {
    args.iter()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .filter_map(|arg| {
            let path = match arg.strip_prefix("file://") {
                Some(rest) => file_url_path(rest)?,
                None => PathBuf::from(arg),
            };
            Some(if path.is_absolute() { path } else { cwd.join(path) })
        })
        .collect()
}

/// The path of a `file://` URL's remainder, percent escapes decoded; `None` for another host.
fn file_url_path(rest: &str) -> Option<PathBuf> {
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let bytes = rest.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    Some(PathBuf::from(String::from_utf8_lossy(&decoded).into_owned()))
}

/// Plays what the command line names, replacing the queue; does nothing when it names nothing.
/// Runs on a thread of its own: walking a folder and starting the engine take time. Returns
/// whether the command line named anything.
pub fn open_args(app: &AppHandle, args: Vec<String>, cwd: PathBuf) -> bool {
    let paths = paths_from_args(&args, &cwd);
    if paths.is_empty() {
        return false;
    }
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        if let Err(error) = play_paths(&app, &paths) {
            tracing::warn!(%error, "cannot play the files the app was opened with");
        }
    });
    true
}

fn play_paths(app: &AppHandle, paths: &[PathBuf]) -> Result<(), loft_core::CoreError> {
    let loft: Arc<Loft> = Arc::clone(&app.state::<Arc<Loft>>());
    let opened = loft.open_paths(paths)?;
    for skipped in &opened.skipped {
        tracing::info!(path = %skipped.display(), "an opened path is not something Loft plays");
    }
    if opened.items.is_empty() {
        return Ok(());
    }
    tracing::info!(files = opened.items.len(), "playing the opened files");
    let player = app.state::<SharedPlayer>().get_or_start(&loft)?;
    player.play_now(opened.items, 0)?;
    if loft.settings().open_adds_folders && loft.add_folders_of(paths)? > 0 {
        loft.scan_library()?;
    }
    Ok(())
}

/// Brings the main window to the front, shown and not minimized; the mini player, which stands
/// in for it, closes (so the two are never both shown, and closing one never leaves none).
pub fn show_main_window(app: &AppHandle) {
    raise_main_window(app);
    crate::mini_player::close(app);
}

/// Shows the main window and nothing else: for the mini player as it closes.
pub fn raise_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_become_absolute_paths_and_options_are_ignored() {
        let args: Vec<String> =
            ["loft-desktop", "a.mp3", "--flag", "/m/b.flac", "file:///m/Sigur%20R%C3%B3s/c.ogg"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let paths = paths_from_args(&args, Path::new("/home/me"));
        assert_eq!(
            paths,
            vec![
                PathBuf::from("/home/me/a.mp3"),
                PathBuf::from("/m/b.flac"),
                PathBuf::from("/m/Sigur Rós/c.ogg")
            ]
        );
        assert!(paths_from_args(&["loft-desktop".to_string()], Path::new("/")).is_empty());
        assert!(paths_from_args(&["x".into(), "file://nas/a.mp3".into()], Path::new("/")).is_empty());
    }
}
