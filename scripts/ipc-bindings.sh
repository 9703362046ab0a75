#!/usr/bin/env bash
# Regenerates what the UI knows of the shell's IPC from the Rust side: ui/src/lib/bindings.ts
# (every command, its argument and result types, the error shape and the event channel) and
# ui/src/lib/bindings.payloads.ts (one payload of each, checked by the UI's type check and
# tests). Run it after changing a command, a type that crosses IPC or an event, and commit both
# files; the tests fail while they are stale.
set -euo pipefail
cd "$(dirname "$0")/.."

# The desktop crate embeds the built UI, so it needs one to compile.
[[ -f ui/dist/index.html ]] || npm run ui:build --silent
LOFT_UPDATE_BINDINGS=1 cargo test -p loft-desktop --locked ipc::contract
