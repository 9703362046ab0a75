//! Runs the real `loft` binary.

use std::process::Command;

mod common;

use common::command as loft;

#[test]
fn help_lists_the_subcommands() {
    let output = Command::new(env!("CARGO_BIN_EXE_loft")).arg("--help").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for sub in ["info", "settings"] {
        assert!(text.contains(sub), "--help does not list {sub}:\n{text}");
    }
}

#[test]
fn version_works_with_a_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let output = loft(&tmp.path().join("x")).arg("--version").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.trim(), format!("loft {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn info_json_names_the_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let output = loft(tmp.path()).args(["info", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["data_dir"], tmp.path().to_str().unwrap());
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn settings_persist_between_runs() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(loft(tmp.path()).args(["settings", "volume", "0.4"]).status().unwrap().success());
    let output = loft(tmp.path()).args(["--json", "settings", "show"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!((json["volume"].as_f64().unwrap() - 0.4).abs() < 1e-6);
}

#[test]
fn errors_are_one_line_on_stderr_with_a_failing_exit() {
    let tmp = tempfile::tempdir().unwrap();
    let output = loft(tmp.path()).args(["settings", "volume", "7"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("loft: volume must be between 0 and 1"), "{stderr}");

    let blocker = tmp.path().join("file");
    std::fs::write(&blocker, b"").unwrap();
    let output = loft(&blocker.join("profile")).arg("info").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot use the data directory"), "{stderr}");
}
