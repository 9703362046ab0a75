fn main() {
    // Every command the UI may call is listed here; the capability in capabilities/ grants
    // exactly these, so a command added without a grant is refused at run time.
    let commands = &[
        "app_info",
        "get_settings",
        "set_volume",
        "set_replaygain",
        "set_output_device",
        "output_devices",
        "library_folders",
        "add_library_folder",
        "remove_library_folder",
        "pick_folder",
        "scan_library",
        "tracks",
        "track_count",
        "search",
        "albums",
        "album_tracks",
        "artists",
        "artist_tracks",
        "show_in_folder",
        "player_status",
        "tracks_by_id",
        "play_tracks",
        "queue_play_next",
        "queue_append",
        "queue_remove",
        "queue_move",
        "queue_clear",
        "toggle_play",
        "next_track",
        "previous_track",
        "seek",
        "set_shuffle",
        "set_repeat",
    ];
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("failed to run the Tauri build script");
}
