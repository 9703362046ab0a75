#!/usr/bin/env bash
# Every test Loft has, in the order that fails fastest: formatting, lints, Rust tests, the UI's
# type check and unit tests, then the end-to-end tests of the real app.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --for-tests
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "rustfmt"
cargo fmt --all -- --check

step "UI build (the desktop crate embeds it)"
npm run ui:build --silent

step "clippy, warnings denied"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "the storage crate builds without the audio stack"
# loft-locker must not pull in audio output or decoding (it reaches the engine only through
# loft-media's traits), so it builds on a machine without ALSA.
locker_tree=$(cargo tree -p loft-locker -e normal --prefix none --locked)
audio_stack=$(grep -E '^(alsa|cpal|symphonia)' <<<"$locker_tree" || true)
if [ -n "$audio_stack" ]; then
  printf 'loft-locker depends on the audio stack:\n%s\n' "$audio_stack" >&2
  exit 1
fi

step "Rust tests (cargo-nextest: each in a process of its own, with a time limit)"
cargo nextest run --workspace --exclude loft-desktop --locked

step "Rust doc tests (nextest does not run them)"
cargo test --doc --workspace --exclude loft-desktop --locked

step "desktop shell: IPC contract (bindings and payload fixtures up to date, one payload per command and event), media controls, file associations, capabilities"
cargo test -p loft-desktop --locked

step "UI type check"
npm run ui:check --silent

step "UI unit tests"
npm run ui:test --silent

step "end-to-end tests of the real app"
tests/run-e2e.sh
