//! The file types the OS may hand to Loft ("Open with", double-click): the MIME types the
//! .deb's desktop entry declares (src-tauri/linux/loft-desktop.desktop) and MPRIS reports, and
//! the extensions the Windows and macOS bundles associate (tauri.conf.json). The format table
//! in loft-media decides what plays; the tests keep these lists in step with it.

/// Each playable format's MIME type as the format table names it, and the other names desktop
/// MIME databases (shared-mime-info) give the same formats.
pub const AUDIO_MIME_TYPES: &[&str] = &[
    "audio/mpeg",
    "audio/flac",
    "audio/x-flac",
    "audio/mp4",
    "audio/x-m4a",
    "audio/x-m4b",
    "audio/aac",
    "audio/ogg",
    "audio/x-vorbis+ogg",
    "audio/x-opus+ogg",
    "audio/opus",
    "audio/wav",
    "audio/x-wav",
    "audio/aiff",
    "audio/x-aiff",
];

/// M3U/M3U8 playlists, which open as a queue.
pub const PLAYLIST_MIME_TYPES: &[&str] =
    &["audio/x-mpegurl", "audio/mpegurl", "application/vnd.apple.mpegurl"];

/// Every MIME type Loft opens.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub fn audio_mime_types() -> Vec<&'static str> {
    AUDIO_MIME_TYPES.iter().chain(PLAYLIST_MIME_TYPES).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESKTOP_ENTRY: &str = include_str!("../linux/loft-desktop.desktop");
    const CONFIG: &str = include_str!("../tauri.conf.json");

    #[test]
    fn every_playable_format_is_declared_by_its_mime_type() {
        for format in loft_media::FORMATS.iter().filter(|format| format.playable) {
            assert!(
                AUDIO_MIME_TYPES.contains(&format.mime),
                "{} ({}) is not declared",
                format.name,
                format.mime
            );
        }
    }

    #[test]
    fn the_desktop_entry_declares_the_mime_types_and_takes_files() {
        let mime_line = DESKTOP_ENTRY
            .lines()
            .find_map(|line| line.strip_prefix("MimeType="))
            .expect("the desktop entry has a MimeType line");
        let declared: Vec<&str> = mime_line.split(';').filter(|mime| !mime.is_empty()).collect();
        assert_eq!(declared, audio_mime_types(), "the desktop entry's MimeType line");
        let exec = DESKTOP_ENTRY.lines().find(|line| line.starts_with("Exec=")).expect("an Exec line");
        assert!(exec.ends_with(" %F"), "the desktop entry must pass the files it opens: {exec}");
    }

    #[test]
    fn the_bundle_uses_the_entry_and_associates_every_playable_extension() {
        let config: serde_json::Value = serde_json::from_str(CONFIG).unwrap();
        assert_eq!(
            config["bundle"]["linux"]["deb"]["desktopTemplate"], "linux/loft-desktop.desktop",
            "the .deb must be built with the desktop entry tested here"
        );
        let associated: Vec<&str> = config["bundle"]["fileAssociations"]
            .as_array()
            .expect("file associations for Windows and macOS")
            .iter()
            .flat_map(|association| association["ext"].as_array().into_iter().flatten())
            .filter_map(|ext| ext.as_str())
            .collect();
        for extension in loft_media::playable_extensions() {
            assert!(associated.contains(&extension), "{extension} is not associated");
        }
        for playlist in ["m3u", "m3u8"] {
            assert!(associated.contains(&playlist), "{playlist} is not associated");
        }
    }
}
