#!/usr/bin/env bash
# Installs what building and testing Loft needs on Debian or Ubuntu, skipping what is there:
# the system libraries Tauri and ALSA link against, the tools the tests use, the npm packages,
# and (for tests) tauri-driver and cargo-nextest. Safe to run again; it only installs what is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."

for_tests=0
[[ "${1:-}" == "--for-tests" ]] && for_tests=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# Build: Tauri's GTK/WebKit stack, the tray's app indicator and ALSA for cpal. Tests: a virtual
# X server, the WebKit WebDriver, the encoders that make test audio, and playerctl, which drives
# the app's MPRIS media controls; x11-utils' xprop and xwininfo, which read the windows' state;
# python3-gi and gdbus, with which the tray test plays a desktop's tray host.
packages=(build-essential pkg-config curl file libssl-dev libwebkit2gtk-4.1-dev libgtk-3-dev
  librsvg2-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev libasound2-dev libopus-dev
  libayatana-appindicator3-dev xvfb xauth)
if [[ $for_tests -eq 1 ]]; then
  packages+=(webkit2gtk-driver ffmpeg lame flac alsa-utils dbus-x11 procps playerctl x11-utils
    python3-gi libglib2.0-bin)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  say "Installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  [[ -x "$HOME/.cargo/bin/cargo" ]] || {
    say "Installing the Rust toolchain with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
  }
  export PATH="$HOME/.cargo/bin:$PATH"
fi

node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'
}
if ! node_ok; then
  command -v node >/dev/null 2>&1 || { say "Installing Node.js"; as_root apt-get install -y -qq nodejs npm; }
  node_ok || {
    echo "Loft's UI needs Node.js 20.19 or newer (found $(node --version 2>/dev/null || echo none))." >&2
    echo "Install a current Node.js (https://nodejs.org or your distribution's backports) and run this again." >&2
    exit 1
  }
fi

# `npm ci` installs exactly what the committed lock file lists and never rewrites it, so a fresh
# clone stays clean; it refuses a lock that package.json has outgrown. The lock lists every
# platform's optional packages (the Tauri CLI's binaries for macOS, Windows, musl…): `npm install`
# adds them to a lock that lacks them, and `npm ci` refuses one. Skipped when node_modules is
# newer than the lock and the package.json files.
npm_stale() {
  local installed=node_modules/.package-lock.json
  [[ ! -f $installed || package-lock.json -nt $installed || package.json -nt $installed || ui/package.json -nt $installed ]]
}
if npm_stale; then
  say "Installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [[ $for_tests -eq 1 ]] && ! command -v tauri-driver >/dev/null 2>&1; then
  say "Installing tauri-driver"
  cargo install tauri-driver --version '^2.0' --locked
fi

# The Rust tests run under cargo-nextest: each test in a process of its own, with a time limit
# (.config/nextest.toml).
if [[ $for_tests -eq 1 ]] && ! cargo nextest --version >/dev/null 2>&1; then
  say "Installing cargo-nextest"
  cargo install cargo-nextest --locked
fi
