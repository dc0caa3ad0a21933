#!/usr/bin/env bash
# The export benchmark: 1,000,000 and 5,000,000 confirmed signatures exported as CSV by
# the release server, on SQLite and on PostgreSQL, beside each database's own CSV dump
# of the same rows (`sqlite3 -csv`, `psql \copy ... TO STDOUT CSV`) in the same run, with
# the server's peak resident memory while it streams. Writes the "Exports" section of
# BENCHMARKS.md.
#   scripts/bench_export.sh               1M and 5M rows (about 15 minutes after the build)
#   SIZES="100000" scripts/bench_export.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rollcall/target}"
sizes="${SIZES:-1000000 5000000}"
pg="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
port=3310
slug=general-strike-pledge-demo

say() { printf '\033[1mbench-export:\033[0m %s\n' "$*"; }

scripts/setup.sh --test
command -v sqlite3 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null

say "building the release server (the API alone: no site is needed)"
cargo build --profile production -p server >/dev/null
bin="$CARGO_TARGET_DIR/production/rollcall"

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS rollcall_export_bench WITH (FORCE)" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
rows="$work/rows.tsv"

# The same rows the export selects, in the database's own CSV.
columns="s.id, s.given_name, s.family_name, s.email, s.postal_code, s.phone, s.employer, s.local_id, s.language, s.text_id, s.created_at, s.confirmed_at, s.show_name, s.attested_by"
dump_sql="SELECT $columns FROM signatures s WHERE s.campaign_id = (SELECT id FROM campaigns WHERE slug = '$slug') AND s.status = 'confirmed' ORDER BY s.id"

preload() { # db_url n
  local db_url=$1 n=$2 series id when
  if [[ "$db_url" == sqlite* ]]; then
    series="(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $n) SELECT n FROM s)"
    id="randomblob(16)"
    when="strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-' || (n % 720) || ' hours')"
  else
    series="generate_series(1, $n) AS n"
    id="gen_random_uuid()"
    when="now() - (n % 720) * interval '1 hour'"
  fi
  local sql="INSERT INTO signatures (id, campaign_id, local_id, given_name, family_name, email, canonical_email,
  postal_code, phone, language, text_id, show_name, status, created_at, confirmed_at)
SELECT $id, c.id, 1 + (n % 300), 'Pre', 'Loaded', 'pre' || n || '@example.org', 'pre' || n || '@example.org',
  '60601', '+1 312 555 0100', 'en', t.id, (n % 10 = 0), 'confirmed', $when, $when
FROM $series,
  (SELECT id FROM campaigns WHERE slug = '$slug') c,
  (SELECT MIN(id) AS id FROM campaign_texts WHERE campaign_id = (SELECT id FROM campaigns WHERE slug = '$slug')) t;"
  if [[ "$db_url" == sqlite* ]]; then echo "$sql" | sqlite3 "${db_url#sqlite://}";
  else echo "$sql" | psql -q "$db_url"; psql -q "$db_url" -c "VACUUM ANALYZE signatures"; fi
}

peak_rss() { # pid, until the file $2 exists: the highest RSS seen, in bytes
  local pid=$1 stop=$2 peak=0 now
  while [ ! -e "$stop" ]; do
    now=$(ps -o rss= -p "$pid" 2>/dev/null | tr -d ' ' || echo 0)
    [ -n "$now" ] && [ "$now" -gt "$peak" ] && peak=$now
    sleep 0.05
  done
  echo $((peak * 1024))
}

measure() { # label db_url n
  local label=$1 db_url=$2 n=$3
  say "$label, $n rows: loading"
  DATABASE_URL="$db_url" "$bin" --config /dev/null demo >/dev/null
  preload "$db_url" "$n"
  local key
  key=$(DATABASE_URL="$db_url" "$bin" --config /dev/null api-key create --role organizer --campaign "$slug" \
    | tail -n 1 | awk '{print $NF}')
  DATABASE_URL="$db_url" MAIL_URL="file://$work/mail" LEPTOS_ENV=prod LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    RUST_LOG=warn \
    "$bin" --config /dev/null serve >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  local idle
  idle=$(( $(ps -o rss= -p "$server_pid" | tr -d ' ') * 1024 ))

  say "$label, $n rows: the export"
  rm -f "$work/done"
  peak_rss "$server_pid" "$work/done" > "$work/peak" &
  local watcher=$!
  local out
  out=$(curl -s -o "$work/export.csv" -w '%{time_total} %{size_download} %{http_code}' \
    -H "Authorization: Bearer $key" "http://127.0.0.1:$port/api/v1/campaigns/$slug/signatures.csv")
  touch "$work/done"; wait "$watcher"
  local lines
  lines=$(( $(wc -l < "$work/export.csv") - 1 ))
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

  say "$label, $n rows: the database's own CSV dump of the same rows"
  local start end
  start=$(date +%s.%N)
  if [[ "$db_url" == sqlite* ]]; then
    sqlite3 -csv -header "${db_url#sqlite://}" "$dump_sql" > "$work/dump.csv"
  else
    psql -q "$db_url" -c "\\copy ($dump_sql) TO STDOUT WITH (FORMAT csv, HEADER)" > "$work/dump.csv"
  fi
  end=$(date +%s.%N)
  echo "$label $n $out $lines $idle $(cat "$work/peak") $(python3 -c "print($end - $start)") $(stat -c %s "$work/dump.csv")" >> "$rows"
}

for n in $sizes; do
  rm -f "$work/bench.db"*
  measure sqlite "sqlite://$work/bench.db" "$n"
  psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS rollcall_export_bench WITH (FORCE)" -c "CREATE DATABASE rollcall_export_bench"
  measure postgres "$pg/rollcall_export_bench" "$n"
done

say "writing the Exports section of BENCHMARKS.md"
python3 - "$rows" <<'PY' | python3 scripts/bench_section.py exports
import subprocess, sys
rows = [line.split() for line in open(sys.argv[1])]
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
out = ["<!-- exports:begin -->", "## Exports", "",
       "`scripts/bench_export.sh` (release build, one `curl` with an organizer's API key; the",
       "yardstick is the database's own CSV dump of the same rows in the same run:",
       "`sqlite3 -csv`, `psql \\copy ... TO STDOUT CSV`). Peak memory is the server's resident",
       f"set sampled every 50 ms while it streams. Machine: {cpu}, 2 cores.", "",
       "| database | rows | Rollcall | rows/s | MB | database's own dump | ratio | server RSS idle → peak | status |",
       "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
for label, n, secs, size, code, lines, idle, peak, dump_secs, dump_size in rows:
    secs, dump_secs = float(secs), float(dump_secs)
    out.append(f"| {label} | {int(lines):,} of {int(n):,} | {secs:.1f} s | {int(lines) / secs:,.0f} | {int(size) / 1e6:.0f} | {dump_secs:.1f} s | {dump_secs / secs:.0%} | {int(idle) / 1e6:.0f} → {int(peak) / 1e6:.0f} MB | {code} |")
out.append("<!-- exports:end -->")
print("\n".join(out))
PY
