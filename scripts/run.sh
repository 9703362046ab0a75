#!/usr/bin/env bash
# Installs what is missing, builds Loft and opens it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"

npx tauri build --debug --no-bundle
app="$PWD/target/debug/loft-desktop"

if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  echo "No display found: opening Loft on a virtual X display (xvfb-run). Screenshots: 'import -display \$DISPLAY -window root'." >&2
  exec xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" "$app" "$@"
fi
exec "$app" "$@"
