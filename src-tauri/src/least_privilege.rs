//! What the window is granted, checked: the production capability lets it call Loft's own
//! commands and listen to events, and nothing more; the grant to emit events, which only the
//! end-to-end tests need, is in a capability that only the `e2e` feature adds.

const PRODUCTION: &str = include_str!("../capabilities/main-window.json");
const E2E_ONLY: &str = include_str!("../e2e/capability.json");

fn permissions(capability: &str) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_str(capability).unwrap();
    json["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|permission| permission.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_production_window_only_calls_our_commands_and_listens() {
    assert_eq!(
        permissions(PRODUCTION),
        ["core:event:allow-listen", "core:event:allow-unlisten", "app-commands"]
    );
}

#[test]
fn emitting_events_is_granted_to_test_builds_only() {
    assert_eq!(permissions(E2E_ONLY), ["core:event:allow-emit"]);
    assert!(!std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities/e2e.json").exists());
}

#[test]
fn the_grants_name_loft_s_own_two_windows_and_no_other() {
    for capability in [PRODUCTION, E2E_ONLY] {
        let json: serde_json::Value = serde_json::from_str(capability).unwrap();
        assert_eq!(json["windows"], serde_json::json!(["main", crate::mini_player::LABEL]));
    }
}
