#!/usr/bin/env bash
# The benchmark suite: builds the release server and the load tool, runs each scenario
# on SQLite and on PostgreSQL with 1,000,000 confirmed signatures preloaded, measures the
# yardsticks in the same run (pgbench doing a sign's and a confirm's writes; nginx
# serving the same tally and page bytes), and writes BENCHMARKS.md.
#   scripts/bench.sh            the whole suite (about 15 minutes after the build)
#   SECONDS_PER_RUN=5 scripts/bench.sh   shorter runs
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rollcall/target}"
secs="${SECONDS_PER_RUN:-10}"
preload="${PRELOAD:-1000000}"
pg="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
port=3300
nginx_port=3400

bench_name=bench
source scripts/bench_common.sh
subscribers=$(stream_subscribers)

[ "$subscribers" -ge 20000 ] || say "the open-file limit ($(ulimit -n)) allows $subscribers live-stream subscribers, not 20,000"

scripts/setup.sh --test
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || {
  say "installing nginx from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
}
command -v pgbench >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-contrib >/dev/null
command -v sqlite3 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null

say "building the release server and the load tool"
scripts/build_production.sh >/dev/null
cargo build --release -p bench >/dev/null
bin="$CARGO_TARGET_DIR/production/rollcall"
tool="$CARGO_TARGET_DIR/release/rollcall-bench"

work=$(mktemp -d)
chmod 755 "$work" # nginx's workers read the static copies
mails=$(mail_folder)
results="$work/results.jsonl"
server_pid=""
nginx_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS rollcall_bench WITH (FORCE)" 2>/dev/null || true
  rm -rf "$work" "$mails"
}
trap cleanup EXIT

run() { "$tool" --base "http://127.0.0.1:$port" --seconds "$secs" --json "$results" "$@"; }

rate_of() { # the closed-loop rate of the last result, halved
  python3 -c "import json,sys; r=[json.loads(l) for l in open('$results')][-1]; print(max(1, round(r['per_second']/2)))"
}

# Confirmations a second while the crowd watches.
stream_rate=200

suite() {
  local label=$1 db_url=$2
  say "$label: loading the demo and $preload signatures"
  load_demo "$db_url"
  rm -rf "$mails/mail-$label" && mkdir -p "$mails/mail-$label"
  start_server "$db_url" "file://$mails/mail-$label"
  sleep 1
  rss_bytes > "$work/rss-idle-$label"
  run --label "$label" tally --slug general-strike-pledge-demo --clients 64
  run --label "$label" page --slug general-strike-pledge-demo --clients 32
  run --label "$label" sign --clients 16
  run --label "$label" sign --rate "$(rate_of)"
  wait_for_mail "$db_url"
  "$tool" tokens --mail-dir "$mails/mail-$label" --out "$work/tokens"
  head -n "$(( $(wc -l < "$work/tokens") / 2 ))" "$work/tokens" > "$work/tokens-a"
  tail -n "+$(( $(wc -l < "$work/tokens") / 2 + 1 ))" "$work/tokens" > "$work/tokens-b"
  run --label "$label" confirm --tokens "$work/tokens-a" --clients 16
  local half
  half=$(rate_of)
  run --label "$label" confirm --tokens "$work/tokens-b" --rate "$half"
  # Watching: $subscribers on the live count while $stream_rate a second are confirmed,
  # with fresh signatures (tokens not confirmed above).
  head -n "$(( half * secs ))" "$work/tokens-b" | cat "$work/tokens-a" - > "$work/tokens-used"
  fresh_tokens "$mails/mail-$label" "$db_url" "$work/tokens-used"
  run --label "$label" --rate "$stream_rate" stream --subscribers "$subscribers" --tokens "$work/tokens-stream" --server-pid "$server_pid"
  curl -s "http://127.0.0.1:$port/api/v1/campaigns/general-strike-pledge-demo/tally" > "$work/tally.json"
  curl -s "http://127.0.0.1:$port/c/general-strike-pledge-demo" > "$work/page.html"
  # What stays once the subscribers have gone and the server has given memory back
  # (it does so every 30 s).
  sleep 35
  rss_bytes > "$work/rss-$label"
  # The same over HTTP/2, 100 watchers to a connection as behind a proxy speaking h2c to
  # the server: 20,000 then fit under the open-file limit. On a restarted server, so
  # its weight before them is not the first crowd's freed memory, which the second
  # would reuse and seem to weigh less. (Cold: what the first request warms up counts
  # against the subscribers.)
  head -n "$(( stream_rate * secs ))" "$work/tokens-stream" >> "$work/tokens-used"
  fresh_tokens "$mails/mail-$label" "$db_url" "$work/tokens-used"
  stop_server
  start_server "$db_url" "file://$mails/mail-$label"
  run --label "$label" --rate "$stream_rate" --streams-per-connection 100 stream --subscribers 20000 --tokens "$work/tokens-stream" --server-pid "$server_pid"
  stop_server
  rm -rf "$mails/mail-$label" # tmpfs is memory: this suite's mail goes before the next
  if [[ "$db_url" == sqlite* ]]; then
    say "yardstick: the same writes straight to SQLite, 16 clients"
    "$tool" --seconds "$secs" --clients 16 --json "$results" sqlite-yardstick --db "${db_url#sqlite://}" --what sign
    "$tool" --seconds "$secs" --clients 16 --json "$results" sqlite-yardstick --db "${db_url#sqlite://}" --what confirm
  fi
}

# SQLite, then PostgreSQL.
suite sqlite "sqlite://$work/bench.db"
psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS rollcall_bench WITH (FORCE)" -c "CREATE DATABASE rollcall_bench"
suite postgres "$pg/rollcall_bench"

say "yardstick: pgbench doing a sign's and a confirm's writes, 16 clients"
# The confirms' pending signatures, prepared beforehand as the server's are (more than
# any run takes; confirm.sql fails a transaction that finds none, and pgbench exits 2).
psql -q -v ON_ERROR_STOP=1 "$pg/rollcall_bench" <<'SQL'
INSERT INTO signatures (id, campaign_id, local_id, given_name, family_name, email, canonical_email,
  language, text_id, show_name, status, confirm_token_hash, confirm_expires_at, created_at)
SELECT gen_random_uuid(), 1, 1 + (n % 300), 'Pending', 'Signer', 'pending' || n || '@example.org',
  'pending' || n || '@example.org', 'en', 1, false, 'pending', md5(n::text) || md5(random()::text),
  now() + interval '7 days', now()
FROM generate_series(1, 300000) AS n;
VACUUM ANALYZE signatures;
SQL
for script in sign confirm; do
  if ! pgbench -n -c 16 -j 2 -T "$secs" -f "bench/$script.sql" "$pg/rollcall_bench" > "$work/pgbench-$script.txt" 2>&1; then
    say "pgbench $script failed"; cat "$work/pgbench-$script.txt"; exit 1
  fi
  grep -E '^(number of (transactions|failed)|latency average|tps)' "$work/pgbench-$script.txt"
  tps=$(awk '/^tps/ {print $3; exit}' "$work/pgbench-$script.txt")
  echo "{\"scenario\":\"$script\",\"label\":\"pgbench\",\"per_second\":$tps}" >> "$results"
done

say "yardstick: nginx serving the same tally and page bytes, pre-compressed (gzip_static), keep-alive"
mkdir -p "$work/static/api" "$work/nginx"
cp "$work/tally.json" "$work/static/tally.json"
cp "$work/page.html" "$work/static/page.html"
# Compressed once, as Rollcall keeps the tally's gzip once per version.
gzip -k -6 "$work/static/tally.json" "$work/static/page.html"
chmod -R a+rX "$work/static"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  types { application/json json; text/html html; }
  gzip on; gzip_static on; gzip_types application/json text/html; gzip_min_length 0;
  keepalive_requests 100000;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$nginx_port; root $work/static; }
}
CONF
nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
sleep 1
"$tool" --base "http://127.0.0.1:$nginx_port" --seconds "$secs" --json "$results" --label nginx tally --path /tally.json --clients 64
"$tool" --base "http://127.0.0.1:$nginx_port" --seconds "$secs" --json "$results" --label nginx page --path /page.html --clients 32

say "writing BENCHMARKS.md"
MAIL_FOLDER_FS=$(stat -f -c %T "$mails") python3 scripts/bench_report.py "$results" "$work" > "$work/BENCHMARKS.md"
# The reading of the figures and the side-by-side runs (scripts/bench_ab.sh) are
# written by hand; the export and pledge figures come from scripts/bench_export.sh and
# scripts/bench_pledge.sh, the record day from scripts/bench_day.sh; all are kept as
# they were.
for part in reading ab exports pledges day; do
  if grep -q "<!-- $part:begin -->" BENCHMARKS.md 2>/dev/null; then
    { echo; sed -n "/<!-- $part:begin -->/,/<!-- $part:end -->/p" BENCHMARKS.md; } >> "$work/BENCHMARKS.md"
  fi
done
cp "$work/BENCHMARKS.md" BENCHMARKS.md
cat BENCHMARKS.md
