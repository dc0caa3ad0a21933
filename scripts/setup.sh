#!/usr/bin/env bash
# Installs what Rollcall needs, skipping whatever is already there.
#   scripts/setup.sh          build tools: wasm target, cargo-leptos, wasm-bindgen, wasm-opt
#   scripts/setup.sh --test   also Chromium, Playwright, aiosmtpd, and a PostgreSQL server
# Nothing is downloaded from outside crates.io, npm and Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
with_tests=false
[ "${1:-}" = "--test" ] && with_tests=true

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

apt_packages=()
command -v pkg-config >/dev/null || apt_packages+=(pkg-config)
if $with_tests; then
  command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || apt_packages+=(chromium)
  /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || apt_packages+=(python3-aiosmtpd)
  command -v psql >/dev/null || apt_packages+=(postgresql-client)
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    ls /etc/postgresql/*/main >/dev/null 2>&1 || apt_packages+=(postgresql)
  fi
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
  say "installing ${apt_packages[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

if $with_tests && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

rustup target list --installed | grep -qx wasm32-unknown-unknown \
  || { say "adding the wasm32 target"; rustup target add wasm32-unknown-unknown; }

if ! cargo leptos --version >/dev/null 2>&1; then
  say "building cargo-leptos 0.3.9 (about 17 minutes on 2 cores, once)"
  cargo install cargo-leptos --locked --version 0.3.9 --features no_downloads
fi

# wasm-bindgen's CLI must match the wasm-bindgen crate in Cargo.lock exactly.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
  say "building wasm-bindgen-cli $want"
  # Without --locked: its lock names a webpki-roots release the registry lacks.
  cargo install wasm-bindgen-cli --version "=$want"
fi

# Debian's binaryen is too old; the npm package ships a current wasm-opt.
if ! wasm-opt --version 2>/dev/null | grep -Eq 'version_1[3-9][0-9]'; then
  say "installing wasm-opt (binaryen) from npm"
  npm install -g --no-audit --no-fund binaryen@132 >/dev/null
fi

if $with_tests; then
  say "installing Playwright (it uses Debian's Chromium; no browser download)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >/dev/null)
fi
say "ready"
