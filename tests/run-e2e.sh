#!/usr/bin/env bash
# Builds the real desktop app (UI embedded) and runs the end-to-end tests against it through
# tauri-driver and WebKitWebDriver on a virtual X display. Arguments name test files to run
# instead of all of them (tests/run-e2e.sh tests/e2e/encrypted.test.mjs).
#
# Usage: tests/run-e2e.sh [TEST_FILE...] (all of tests/e2e/ by default).
#
# Time limits: every test and hook has one (tests/e2e/lib/limits.mjs), and the whole run has
# RUN_LIMIT_MINUTES. A run stopped at its limit names the tests that were still running.
set -euo pipefail
cd "$(dirname "$0")/.."

# The whole run takes about 4 minutes on a 2-core machine.
RUN_LIMIT_MINUTES=15

# The e2e feature lets the tests emit events to the window (src-tauri/e2e/capability.json).
# The .deb is bundled too (about 10 s), so package.test.mjs can read what it installs.
npx tauri build --debug --bundles deb --features e2e
# The S3 and WebDAV servers the cloud tests start and stop (crates/testkit).
cargo build -p loft-testkit --bin loft-test-s3 --bin loft-test-dav --locked

export LOFT_APP_BINARY="${CARGO_TARGET_DIR:-$PWD/target}/debug/loft-desktop"
LOFT_DEB="$(ls -t "${CARGO_TARGET_DIR:-$PWD/target}"/debug/bundle/deb/*.deb | head -n 1)"
export LOFT_DEB
export LOFT_TEST_S3_BINARY="${CARGO_TARGET_DIR:-$PWD/target}/debug/loft-test-s3"
export LOFT_TEST_DAV_BINARY="${CARGO_TARGET_DIR:-$PWD/target}/debug/loft-test-dav"
LOFT_E2E_RUNNING_FILE="$(mktemp)"
export LOFT_E2E_RUNNING_FILE
trap 'rm -f "$LOFT_E2E_RUNNING_FILE"' EXIT

# What a person reads: Node's own choice, the spec reporter on a terminal and TAP otherwise.
if [[ -t 1 ]]; then reporter=spec; else reporter=tap; fi

# --test-force-exit: a test file's process ends when its tests have, even if a test that passed
# its time limit left something waiting behind it.
# WebKit wants a session bus; give the tests a private one instead of whatever the host has.
timeout --kill-after=30s "${RUN_LIMIT_MINUTES}m" \
  xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" \
  dbus-run-session -- \
  node --test --test-concurrency=1 --test-force-exit \
  --test-reporter="$reporter" --test-reporter-destination=stdout \
  --test-reporter="$PWD/tests/e2e/lib/running-tests-reporter.mjs" --test-reporter-destination=stderr \
  "${@:-tests/e2e/}" &
run=$!
# timeout(1) puts the run in a process group of its own, which a Ctrl-C on the terminal does
# not reach: pass it on. (A trap runs only while the script waits on a background job.)
trap 'kill -TERM -- "-$run" 2>/dev/null' INT TERM
status=0
wait "$run" || status=$?
# A trapped signal ends `wait` early; the run's own status comes once it has stopped.
while kill -0 "$run" 2>/dev/null; do wait "$run" || status=$?; done

# timeout(1) exits with 124 when it stopped the run, 137 when it had to kill it.
if [[ $status -eq 124 || $status -eq 137 ]]; then
  echo >&2
  echo "The end-to-end tests passed their time limit of $RUN_LIMIT_MINUTES minutes and were stopped." >&2
  if [[ -s "$LOFT_E2E_RUNNING_FILE" ]]; then
    echo "Still running:" >&2
    sed 's/^/  /' "$LOFT_E2E_RUNNING_FILE" >&2
  fi
fi
exit "$status"
