#!/usr/bin/env bash
# The build that production and the benchmarks run: the site (wasm, JS, CSS, precompressed)
# and the server linked whole (`--profile production`: fat LTO, one codegen unit), at
# $CARGO_TARGET_DIR/production/rollcall. The demo and the tests use the quicker `release`.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rollcall/target}"
cargo leptos build --release --precompress
cargo build --profile production -p server --bin rollcall
# The pages name the site's hashed files from hash.txt beside the running binary.
cp "$CARGO_TARGET_DIR/release/hash.txt" "$CARGO_TARGET_DIR/production/hash.txt"
echo "$CARGO_TARGET_DIR/production/rollcall"
