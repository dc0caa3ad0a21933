#!/usr/bin/env bash
# Sets up, builds the release, loads the demo campaigns, and serves Rollcall on its
# defaults: SQLite in ./rollcall.db, mail as .eml files in ./mail, http://127.0.0.1:3000
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rollcall/target}"
scripts/setup.sh
cargo leptos build --release --precompress
bin="$CARGO_TARGET_DIR/release/rollcall"
"$bin" demo
echo "Rollcall: http://127.0.0.1:3000 (mail lands in ./mail; Ctrl-C stops)"
exec "$bin" serve
