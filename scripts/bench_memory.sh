#!/usr/bin/env bash
# Where the server's resident memory goes on SQLite, step by step, for the release build
# as it stands: 1,000,000 signatures preloaded; then idle (a second after the start),
# after one tally and one page request, after 10 s each of tally and page reads (64 and
# 32 clients), after 10 s each of signs and confirms (16 clients), and 35 s after a
# crowd of live-count subscribers (as many as the open-file limit allows, 19,000 here)
# watched 200 confirmations a second (the server gives memory back every 30 s). Each
# step prints the resident set, its anonymous and file-backed parts (the file-backed
# part is mostly the program's code), and the threads; at the end, with gdb on the machine,
# glibc's own count of the bytes it has handed out and still holds (`malloc_stats`),
# and the largest mappings.
#   scripts/bench_memory.sh LABEL
# The pool's size and glibc's tunables can be set side by side without a rebuild (the
# server inherits the environment; it sets glibc's trimming and mapping thresholds
# itself, so those two tunables have no effect):
#   BENCH_DB_CONNECTIONS=8 scripts/bench_memory.sh pool8
#   GLIBC_TUNABLES=glibc.malloc.arena_max=2 scripts/bench_memory.sh arenas2
# About four minutes. The build is not made here (see bench_ab.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rollcall/target}"
port=3610
preload="${PRELOAD:-1000000}"
pg="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
label=${1:?"a label for this run"}
bench_name=bench_memory
source scripts/bench_common.sh
prepare_run rollcall_memory
say "$label: the release server built $(date -r "$bin" '+%F %T'), the checkout at $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' with changes')"

step() {
  # One read of the server's status: the resident set and its parts add up exactly.
  local status
  status=$(awk '/^(VmRSS|RssAnon|RssFile|RssShmem|Threads):/ {printf "%s %s ", $1, $2}' "/proc/$server_pid/status") \
    || { say "the server is gone"; exit 1; }
  say "$label, $1: $status(KiB)"
}
run() { "$tool" --base "http://127.0.0.1:$port" --seconds 10 --json "$results" --label "$label" "$@"; }

db_url="sqlite://$work/memory.db"
load_demo "$db_url"
mkdir -p "$mails/mail"
start_server "$db_url" "file://$mails/mail"
sleep 1
step "idle"
curl -fs -o /dev/null "http://127.0.0.1:$port/api/v1/campaigns/general-strike-pledge-demo/tally"
curl -fs -o /dev/null -H 'accept-encoding: gzip, br' "http://127.0.0.1:$port/c/general-strike-pledge-demo"
sleep 1
step "one tally and one page"
run tally --slug general-strike-pledge-demo --clients 64
run page --slug general-strike-pledge-demo --clients 32
step "10 s of tally and of page reads"
run sign --clients 16
wait_for_mail "$db_url"
"$tool" tokens --mail-dir "$mails/mail" --out "$work/tokens"
run confirm --tokens "$work/tokens" --clients 16
step "10 s of signs and of confirms"
fresh_tokens "$mails/mail" "$db_url" "$work/tokens"
run --rate 200 stream --subscribers "$(stream_subscribers)" --tokens "$work/tokens-stream" --server-pid "$server_pid"
sleep 35
step "35 s after the crowd"
if command -v gdb >/dev/null; then
  # malloc_stats writes to the server's standard error, which is its log.
  timeout 60 gdb -p "$server_pid" -batch -ex 'call (void)malloc_stats()' >/dev/null 2>&1 || true
  sleep 0.5
  say "$label: glibc's count, all arenas (in use: handed out; system: taken from the kernel, not all of it resident)"
  grep -a -A2 '^Total' "$work/server.log" || say "no count: gdb could not call malloc_stats"
fi
say "$label: the largest mappings (resident KiB, addresses, file)"
awk '/^[0-9a-f]+-[0-9a-f]+ / {range = $1; name = $6} /^Rss:/ && $2 > 512 {print $2, range, name}' \
  "/proc/$server_pid/smaps" | sort -rn | awk 'NR <= 16'
stop_server
