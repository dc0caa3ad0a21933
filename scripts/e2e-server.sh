#!/usr/bin/env bash
# The server the end-to-end tests drive: a fresh SQLite database with the demo loaded,
# mail written as .eml files into $E2E_DIR/mail. Started by Playwright's webServer.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${E2E_DIR:?}"
rm -rf "$dir" && mkdir -p "$dir/mail"
export DATABASE_URL="sqlite://$dir/e2e.db"
export MAIL_URL="file://$dir/mail"
export LEPTOS_SITE_ADDR="127.0.0.1:${E2E_PORT:-3100}"
export LEPTOS_SITE_ROOT="$root/target/site"
export PUBLIC_URL="http://127.0.0.1:${E2E_PORT:-3100}"
bin="${ROLLCALL_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/rollcall}"
cd "$dir"
"$bin" --config /dev/null demo
# A pledge with one small local, for pledge.spec.ts.
"$bin" --config /dev/null locals import "$root/end2end/fixtures/small-local.csv"
"$bin" --config /dev/null campaign import "$root/end2end/fixtures/walkout.toml"
# A partner site's key: the tests sign through the JSON API with it (the key is the last
# word printed).
"$bin" --config /dev/null api-key create --role partner --label e2e | tail -n 1 | awk '{print $NF}' > "$dir/partner-key"
# The first admin, as a union's web person makes it; the officer spec signs in as them.
printf '%s\n' "${E2E_ADMIN_PASSWORD:?}" | "$bin" --config /dev/null admin create --email "${E2E_ADMIN_EMAIL:?}"
# A second admin, who organizes the pledge in pledge.spec.ts (each sets up their own app).
printf '%s\n' "${E2E_ADMIN_PASSWORD:?}" | "$bin" --config /dev/null admin create --email "organizer-${E2E_ADMIN_EMAIL:?}"
# A third, whose dashboards a11y.spec.ts checks.
printf '%s\n' "${E2E_ADMIN_PASSWORD:?}" | "$bin" --config /dev/null admin create --email "a11y-${E2E_ADMIN_EMAIL:?}"
exec "$bin" --config /dev/null serve
