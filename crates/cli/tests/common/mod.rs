//! Runs the real `loft` binary on a profile of the test's own, with nothing of the host's
//! profile or locker credentials leaking in: only the environment a test passes reaches it.

// Each test file uses the part it needs.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// What `loft` reads from the environment that a test must set itself or not at all.
const HOST_SETTINGS: [&str; 8] = [
    "LOFT_DATA_DIR",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "LOFT_WEBDAV_USER",
    "LOFT_WEBDAV_PASSWORD",
    "LOFT_LOCKER_PASSPHRASE",
    "LOFT_LOCKER_NEW_PASSPHRASE",
    "LOFT_LOCKER_RECOVERY_KEY",
];

/// `loft --data-dir DATA_DIR`, ready for arguments.
pub fn command(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_loft"));
    command.arg("--data-dir").arg(data_dir);
    for name in HOST_SETTINGS {
        command.env_remove(name);
    }
    // Keys of encrypted test lockers never go into the host's keychain.
    command.env("LOFT_NO_KEYCHAIN", "1");
    command
}

pub fn run(data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    command(data_dir).args(args).envs(env.iter().copied()).output().unwrap()
}

/// Runs `loft` and fails the test, with its stderr, unless it succeeds.
pub fn ok(data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let output = run(data_dir, env, args);
    assert!(output.status.success(), "loft {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// The `--json` answer of a command that must succeed.
pub fn json(data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Value {
    let mut args = args.to_vec();
    if !args.contains(&"--json") {
        args.push("--json");
    }
    serde_json::from_slice(&ok(data_dir, env, &args).stdout).unwrap()
}
