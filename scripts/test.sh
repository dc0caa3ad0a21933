#!/usr/bin/env bash
# Sets up and runs every check: formatting, lints (server and browser builds), unit
# and integration tests on SQLite and PostgreSQL with mail over real SMTP, and the
# end-to-end tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rollcall/target}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# Incremental state is kept per checkout path and grows without bound on a shared target
# folder; a test run gains little from it.
export CARGO_INCREMENTAL=0
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
scripts/setup.sh --test

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT

step "formatting"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p app --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings
cargo clippy -p rollcall --lib --tests -- -D warnings

# Databases left by an interrupted earlier run.
psql "$TEST_POSTGRES_URL/postgres" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'rollcall_it_%'" 2>/dev/null \
  | while read -r db; do psql -q "$TEST_POSTGRES_URL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"; done

step "unit and integration tests (SQLite and PostgreSQL, SMTP on loopback)"
cargo test --workspace 2>&1 | tee -a "$log"
step "domain tests as the browser compiles them (no server features)"
cargo test -p rollcall --lib 2>&1 | tee -a "$log"

step "end-to-end tests in Chromium, against the release build as it is served"
# Release, so the size budget (end2end/tests/budget.spec.ts) weighs what ships.
cargo leptos build --release --precompress
(cd end2end && ROLLCALL_BIN="$CARGO_TARGET_DIR/release/rollcall" npx playwright test) 2>&1 | tee -a "$log"

passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
e2e=$(grep -Eo '^ *[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
echo
echo "$((passed + e2e)) passed, 0 failed"
