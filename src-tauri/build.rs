fn main() {
    // Every command the UI may call is listed here; the capability in capabilities/ grants
    // exactly these, so a command added without a grant is refused at run time.
    let commands = &["app_info", "get_settings", "set_volume"];
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("failed to run the Tauri build script");
}
