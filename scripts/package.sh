#!/usr/bin/env bash
# Builds the release app and its Linux package (.deb, with desktop entry and icons).
# AppImage is left out: its tooling is downloaded at build time. The Windows and macOS
# installers are built by .github/workflows/release.yml on those systems.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"
npx tauri build --bundles deb
ls -l target/release/bundle/deb/*.deb
