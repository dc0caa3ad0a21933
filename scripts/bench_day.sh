#!/usr/bin/env bash
# A signer's whole path, and the record day, on SQLite and on PostgreSQL with 1,000,000
# signatures preloaded. The server mails over SMTP to a sink inside the load tool, so
# every signature goes sign -> mail -> confirm -> counted, and any mail lost shows.
#   flow:       100 signers a second for DAY_SECONDS (default 600); target p99 from
#               sign to counted under 5 s
#   record-day: for DAY_SECONDS, 20,000 (or as many as the open-file limit allows)
#               watching the live count, 35 signs and 35 confirms a second through the
#               same path, 200 page views and 200 tally polls a second; targets page
#               p99 under 200 ms, tally p99 under 50 ms, no 5xx, no mail lost, memory
#               back under 2x idle 75 s after
# Writes the "Record day" section of BENCHMARKS.md.
#   scripts/bench_day.sh                   about 45 minutes after the build
#   DAY_SECONDS=60 scripts/bench_day.sh    shorter runs
#   DAY_DATABASES=sqlite scripts/bench_day.sh   one database (both by default)
#   DAY_STREAMS_PER_CONNECTION=100 scripts/bench_day.sh   the watchers over HTTP/2, 100
#               to a connection (as behind a proxy speaking h2c): 20,000 of them
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rollcall/target}"
secs="${DAY_SECONDS:-600}"
preload="${PRELOAD:-1000000}"
pg="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
port=3340
smtp_port=3345
slug=general-strike-pledge-demo

bench_name=bench-day
source scripts/bench_common.sh
streams="${DAY_STREAMS_PER_CONNECTION:-1}"
if [ "$streams" -gt 1 ]; then subscribers=20000; else subscribers=$(stream_subscribers); fi

scripts/setup.sh --test
command -v sqlite3 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null

say "building the release server and the load tool"
scripts/build_production.sh >/dev/null
cargo build --release -p bench >/dev/null
prepare_run rollcall_day_bench

suite() {
  local label=$1 db_url=$2
  say "$label: loading the demo and $preload signatures"
  load_demo "$db_url"
  start_server "$db_url" "smtp://127.0.0.1:$smtp_port"
  sleep 1
  local idle
  idle=$(rss_bytes)
  say "$label: flow, 100 signers a second for $secs s"
  "$tool" --base "http://127.0.0.1:$port" --seconds "$secs" --rate 100 --json "$results" --label "$label" \
    flow --slug "$slug" --smtp-port "$smtp_port"
  say "$label: record day, $subscribers watching, for $secs s"
  "$tool" --base "http://127.0.0.1:$port" --seconds "$secs" --json "$results" --label "$label" \
    --streams-per-connection "$streams" record-day --slug "$slug" --subscribers "$subscribers" --smtp-port "$smtp_port" --server-pid "$server_pid"
  # What stays 75 s after the crowd has gone: the server gives freed memory back every
  # 30 s (database connections stay open; see src/db.rs).
  sleep 75
  echo "{\"scenario\":\"memory\",\"label\":\"$label\",\"idle\":$idle,\"after\":$(rss_bytes)}" >> "$results"
  stop_server
}

for database in ${DAY_DATABASES:-sqlite postgres}; do
  case $database in
    sqlite) suite sqlite "sqlite://$work/bench.db" ;;
    postgres) fresh_pg_database; suite postgres "$pg/$scratch_db" ;;
    *) say "unknown database in DAY_DATABASES: $database"; exit 2 ;;
  esac
done

say "writing the Record day section of BENCHMARKS.md"
python3 scripts/bench_day_report.py "$results" "$secs" "$preload" | python3 scripts/bench_section.py day
