#!/usr/bin/env bash
# What a sign and a confirm cost the server, counted rather than timed, so two builds can
# be compared in any hour (this machine's speed drifts 2-3x, and a rate or a CPU time
# drifts with it; instructions do not, and system calls and context switches far less,
# though waits and wake-ups still move them a little):
#   - system calls, messages to PostgreSQL (`sendto`; the HTTP answers go out with
#     `writev`) and context switches, per request: `perf stat -p` on the release server
#     for 2,500 requests at 250/s, from an empty outbox until it is empty again;
#   - instructions per request in the server's own code (the outbox worker's mail and,
#     on SQLite, SQLite's own work included; not the kernel's, nor PostgreSQL's):
#     the same server under `valgrind --tool=callgrind --instr-atstart=no`, counting only
#     while 400 requests at 20/s go in, from an empty outbox until it is empty again.
# Both databases, 100,000 signatures preloaded (PRELOAD sets it). Usage, for each build:
#   scripts/build_production.sh && scripts/bench_count.sh LABEL
# About three minutes. The results are kept as JSON lines in the cargo target folder as
# bench-count-LABEL.jsonl (or in $COUNT_RESULTS), and printed as a table; the profiles
# in the cargo target folder as bench-count-LABEL-DATABASE-REQUEST.callgrind (read them
# with `callgrind_annotate`).
set -euo pipefail
# A load run or a count that fails inside $(...) stops the script, not just the subshell.
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rollcall/target}"
port=3600
preload="${PRELOAD:-100000}"
pg="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
label=${1:?"a label for this build, such as its commit"}
bench_name=bench_count
source scripts/bench_common.sh
for needed in perf valgrind callgrind_control; do
  command -v "$needed" >/dev/null || { say "$needed is missing (apt-get install -y linux-perf valgrind)"; exit 1; }
done
prepare_run rollcall_count
say "$label: the release server built $(date -r "$bin" '+%F %T'), the checkout at $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' with changes')"
out="${COUNT_RESULTS:-$CARGO_TARGET_DIR/bench-count-$label.jsonl}"

# Appends one JSON line: what RUN's REQUESTS requests cost, from the named counters.
record() {
  local on=$1 run=$2 requests=$3; shift 3
  python3 - "$results" "$label" "$on" "$run" "$requests" "$@" <<'PY'
import json, sys
results, label, on, run, requests, *counts = sys.argv[1:]
n = int(requests)
line = {"label": label, "scenario": "count", "on": on, "run": run, "requests": n}
for pair in counts:
    name, total = pair.split("=")
    if not total.isdigit():
        sys.exit(f"{name}: not counted ({total!r})")
    line[name] = int(total) / n if n else None
with open(results, "a") as out:
    out.write(json.dumps(line) + "\n")
PY
}

# The load tool at RATE for SECONDS on SCENARIO (and its arguments); prints how many
# requests were answered with a success, and says so when any were not.
load() {
  local rate=$1 seconds=$2; shift 2
  rm -f "$work/load.jsonl"
  "$tool" --base "http://127.0.0.1:$port" --seconds "$seconds" --rate "$rate" \
    --json "$work/load.jsonl" --label "$label" "$@" >/dev/null
  tail -n 1 "$work/load.jsonl" | python3 -c '
import json, sys
r = json.load(sys.stdin)
if r["ok"] != r["requests"]:
    print(r["scenario"], r["requests"] - r["ok"], "of", r["requests"], "requests failed:", r["statuses"], file=sys.stderr)
print(r["ok"])'
}

# Waits for the outbox to empty, and stops the run if it does not.
outbox_emptied() {
  wait_for_mail "$1"
  [ "$(outbox_left "$1")" = 0 ] || { say "the outbox did not empty within five minutes"; exit 1; }
}

# System calls, `sendto` and context switches for SCENARIO at 250/s, 10 s.
perf_counted() {
  local on=$1 db_url=$2; shift 2
  local events=raw_syscalls:sys_enter,syscalls:sys_enter_sendto,context-switches requests
  outbox_emptied "$db_url"
  perf stat -x, -e "$events" -p "$server_pid" -o "$work/perf.csv" &
  local perf_pid=$!
  sleep 0.5
  kill -0 "$perf_pid" 2>/dev/null || { say "perf stat could not count (run as root, with tracefs mounted)"; exit 1; }
  requests=$(load 250 10 "$@")
  outbox_emptied "$db_url"
  kill -INT "$perf_pid"
  wait "$perf_pid" || true
  # perf's CSV: value,unit,event,...
  record "$on" "$1" "$requests" \
    "syscalls=$(awk -F, '$3 == "raw_syscalls:sys_enter" {print $1}' "$work/perf.csv")" \
    "sendto=$(awk -F, '$3 == "syscalls:sys_enter_sendto" {print $1}' "$work/perf.csv")" \
    "context_switches=$(awk -F, '$3 == "context-switches" {print $1}' "$work/perf.csv")"
}

# Instructions for SCENARIO at 20/s, 20 s, on the server started under callgrind.
callgrind_counted() {
  local on=$1 db_url=$2; shift 2
  local requests dump
  outbox_emptied "$db_url"
  callgrind_control -z "$server_pid" >/dev/null
  callgrind_control -i on "$server_pid" >/dev/null
  requests=$(load 20 20 "$@")
  outbox_emptied "$db_url"
  callgrind_control -d "$1" "$server_pid" >/dev/null
  callgrind_control -i off "$server_pid" >/dev/null
  dump=$(ls -t "$work"/callgrind.out.* | head -n 1)
  # Kept, to read with callgrind_annotate.
  cp "$dump" "$CARGO_TARGET_DIR/bench-count-$label-$on-$1.callgrind"
  record "$on" "$1" "$requests" "instructions=$(awk '/^(summary|totals):/ {print $2; exit}' "$dump")"
}

# Signs, then confirms with the links those signs were mailed.
sign_then_confirm() {
  local counted=$1 on=$2 db_url=$3
  outbox_emptied "$db_url"
  rm -f "$mails"/mail/*
  "$counted" "$on" "$db_url" sign
  "$tool" tokens --mail-dir "$mails/mail" --out "$work/tokens"
  "$counted" "$on" "$db_url" confirm --tokens "$work/tokens"
}

for on in sqlite postgres; do
  if [ "$on" = sqlite ]; then
    db_url="sqlite://$work/count.db"
  else
    fresh_pg_database
    db_url="$pg/$scratch_db"
  fi
  load_demo "$db_url"
  rm -rf "$mails/mail" && mkdir -p "$mails/mail"
  start_server "$db_url" "file://$mails/mail"
  # A warm-up, so first requests' one-off work (statements prepared, pages cached) is
  # not counted.
  load 50 2 sign >/dev/null
  sign_then_confirm perf_counted "$on" "$db_url"
  stop_server
  # Under callgrind, which runs the server about fifty times slower.
  server_wrap="valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$work/callgrind.out.%p" \
    start_server "$db_url" "file://$mails/mail"
  load 10 2 sign >/dev/null
  sign_then_confirm callgrind_counted "$on" "$db_url"
  stop_server
done

cp "$results" "$out"
python3 - "$results" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault((r["run"], r["on"]), {}).update(r)
print("| request | on | instructions | system calls | sendto | context switches |")
print("| --- | --- | ---: | ---: | ---: | ---: |")
fmt = lambda v, f: "" if v is None else format(v, f)
for (run, on), r in sorted(rows.items(), key=lambda kv: (kv[0][0] != "sign", kv[0][1])):
    print(f"| {run} | {on} | {fmt(r.get('instructions'), ',.0f')} | {fmt(r.get('syscalls'), '.1f')} "
          f"| {fmt(r.get('sendto'), '.1f')} | {fmt(r.get('context_switches'), '.1f')} |")
PY
say "results as JSON lines in $out"
