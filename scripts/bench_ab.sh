#!/usr/bin/env bash
# Sign and confirm on both databases with the release build as it stands, labelled, so
# two commits can be set side by side in the same hour (this machine's speed drifts by
# 2-3x from hour to hour, more than most changes move a figure):
#   git checkout A && scripts/build_production.sh && scripts/bench_ab.sh A
#   git checkout B && scripts/build_production.sh && scripts/bench_ab.sh B
# Each database: 1,000,000 signatures preloaded; sign closed loop (16 clients) and at
# 250/s, then confirm closed loop and at 250/s, each with half the tokens those signs
# were mailed (a closed-loop run that uses up its half stops there). Each run at 250/s
# also reports what a request cost: the server's CPU, PostgreSQL's, and the server's
# context switches, counted from an empty outbox until it is empty again.
# With AB_STREAM=1, then the live stream: 250 fresh signs a second for ten seconds,
# their confirmations at 200 a second while as many subscribers as the open-file limit
# allows (19,000 here) watch, and the server's resident memory idle and 35 s after they
# have gone (it gives memory back every 30 s).
# With AB_PAGES=1, first the pledge's tally JSON (64 clients) and its page (32 clients),
# as scripts/bench.sh measures them, closed loop, on the preloaded database.
# About three minutes (five with the stream, one more with the pages). The results are also kept as JSON lines,
# in the cargo target folder as bench-ab-LABEL.jsonl (or in $AB_RESULTS).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rollcall/target}"
port=3500
preload="${PRELOAD:-1000000}"
pg="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
label=${1:?"a label for this build, such as its commit"}
bench_name=bench_ab
source scripts/bench_common.sh
prepare_run rollcall_ab
# What is measured: the build is not made here, so say which one it is.
say "$label: the release server built $(date -r "$bin" '+%F %T'), the checkout at $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' with changes')"
out="${AB_RESULTS:-$CARGO_TARGET_DIR/bench-ab-$label.jsonl}"
run() { "$tool" --base "http://127.0.0.1:$port" --seconds 10 --json "$results" --label "$label-$kind" "$@"; }

for kind in sqlite postgres; do
  if [ "$kind" = sqlite ]; then
    db_url="sqlite://$work/ab.db"
  else
    fresh_pg_database
    db_url="$pg/$scratch_db"
  fi
  load_demo "$db_url"
  rm -rf "$mails/mail" && mkdir -p "$mails/mail"
  start_server "$db_url" "file://$mails/mail"
  sleep 1
  idle=$(rss_bytes)
  if [ "${AB_PAGES:-}" = 1 ]; then
    run tally --slug general-strike-pledge-demo --clients 64
    run page --slug general-strike-pledge-demo --clients 32
  fi
  run sign --clients 16
  costed_run "$label-$kind" "$db_url" --seconds 10 sign --rate 250
  "$tool" tokens --mail-dir "$mails/mail" --out "$work/tokens"
  # Half the tokens each, so no run presses a link another has used (a second press
  # writes nothing, and would look fast).
  half=$(( $(wc -l < "$work/tokens") / 2 ))
  head -n "$half" "$work/tokens" > "$work/tokens-a"
  tail -n "+$(( half + 1 ))" "$work/tokens" > "$work/tokens-b"
  run confirm --tokens "$work/tokens-a" --clients 16
  costed_run "$label-$kind" "$db_url" --seconds 10 confirm --tokens "$work/tokens-b" --rate 250
  if [ "${AB_STREAM:-}" = 1 ]; then
    fresh_tokens "$mails/mail" "$db_url" "$work/tokens"
    run --rate 200 stream --subscribers "$(stream_subscribers)" --tokens "$work/tokens-stream" --server-pid "$server_pid"
    sleep 35
    after=$(rss_bytes)
    say "$label-$kind: resident memory idle $(( idle / 1048576 )) MB, 35 s after the stream $(( after / 1048576 )) MB"
    printf '{"label":"%s","scenario":"memory","idle_bytes":%s,"after_bytes":%s}\n' "$label-$kind" "$idle" "$after" >> "$results"
  fi
  stop_server
done
cp "$results" "$out"
say "results as JSON lines in $out"
