#!/usr/bin/env bash
# Builds the real desktop app (UI embedded) and runs the end-to-end tests against it through
# tauri-driver and WebKitWebDriver on a virtual X display.
set -euo pipefail
cd "$(dirname "$0")/.."

npx tauri build --debug --no-bundle
# The S3 server the cloud tests start and stop (crates/testkit).
cargo build -p loft-testkit --bin loft-test-s3

export LOFT_APP_BINARY="$PWD/target/debug/loft-desktop"
# WebKit wants a session bus; give the tests a private one instead of whatever the host has.
exec xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" \
  dbus-run-session -- node --test --test-concurrency=1 tests/e2e/
