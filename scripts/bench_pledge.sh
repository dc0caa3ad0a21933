#!/usr/bin/env bash
# Confirmations that all land in one place, beside the same load spread out: spread over
# the demo petition's locals; all in one local, on a petition and on a pledge whose local
# is still gathering (on PostgreSQL each such confirmation takes its turn on the local's
# row, so the one that completes the threshold sees every pledge before it); and all
# from community supporters, who share one counter. Same server, same load, same run;
# SQLite and PostgreSQL. Writes the "Pledges" section of BENCHMARKS.md.
#   scripts/bench_pledge.sh                      10 s a run (about 3 minutes after the build)
#   SECONDS_PER_RUN=5 scripts/bench_pledge.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rollcall/target}"
secs="${SECONDS_PER_RUN:-10}"
pg="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
port=3320

bench_name=bench-pledge
source scripts/bench_common.sh

scripts/setup.sh --test
command -v sqlite3 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null

say "building the release server (the API alone) and the load tool"
cargo build --profile production -p server >/dev/null
cargo build --release -p bench >/dev/null
prepare_run rollcall_pledge_bench

suite() {
  local label=$1 db_url=$2
  say "$label: the demo, one local of a million members, a petition and a pledge on it"
  DATABASE_URL="$db_url" "$bin" --config /dev/null demo >/dev/null
  DATABASE_URL="$db_url" "$bin" --config /dev/null locals import bench/fixtures/hot-local.csv >/dev/null
  for kind in petition pledge community; do
    DATABASE_URL="$db_url" "$bin" --config /dev/null campaign import "bench/fixtures/hot-$kind.toml" >/dev/null
  done
  DATABASE_URL="$db_url" MAIL_URL="file://$mails/mail" LEPTOS_ENV=prod LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    PUBLIC_URL="http://127.0.0.1:$port" TRUSTED_PROXIES=127.0.0.0/8 DATABASE_MAX_CONNECTIONS=16 \
    RUST_LOG=warn MAILS_PER_MINUTE=1000000 \
    "$bin" --config /dev/null serve >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  for kind in spread petition pledge community; do
    local sign=(sign --slug "hot-$kind")
    [ "$kind" = spread ] && sign=(sign --slug joint-statement-demo)
    [ "$kind" = community ] && sign+=(--community)
    rm -rf "$mails/mail" && mkdir -p "$mails/mail"
    "$tool" --base "http://127.0.0.1:$port" --seconds "$secs" --label "$label hot-$kind" "${sign[@]}" --clients 16 >/dev/null
    wait_for_mail "$db_url"
    "$tool" tokens --mail-dir "$mails/mail" --out "$work/tokens"
    "$tool" --base "http://127.0.0.1:$port" --seconds "$secs" --json "$results" --label "$label hot-$kind" \
      confirm --tokens "$work/tokens" --clients 16
    wait_for_mail "$db_url"
  done
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}

suite sqlite "sqlite://$work/bench.db"
fresh_pg_database
suite postgres "$pg/$scratch_db"

say "writing the Pledges section of BENCHMARKS.md"
python3 - "$results" "$secs" <<'PY' | python3 scripts/bench_section.py pledges
import json, subprocess, sys
results = {r["label"]: r for r in (json.loads(l) for l in open(sys.argv[1]) if l.strip())}
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
out = ["<!-- pledges:begin -->", "## Hot local: confirmations that all land in one place", "",
       "`scripts/bench_pledge.sh` (release build, " + sys.argv[2] + " s a run, 16 clients in a closed loop, the rate",
       "limiter on). The same confirmations spread over the demo petition's locals, then all in",
       "one local: on a petition, and on a pledge whose local is still gathering, where (on",
       "PostgreSQL) each confirmation takes its turn on the local's row so that the one",
       "completing the threshold counts every pledge before it; then all from community",
       "supporters. Target: one place at least 80% of spread out.",
       f"Machine: {cpu}, 2 cores.", "",
       "| database | confirmations | confirms/s | p50 ms | p99 ms | answers | ÷ spread out |",
       "| --- | --- | ---: | ---: | ---: | --- | ---: |"]
for db in ("sqlite", "postgres"):
    spread = results[f"{db} hot-spread"]
    for kind, name in (("spread", "spread over the demo's locals"), ("petition", "one local, petition"),
                       ("pledge", "one local, pledge gathering"), ("community", "community supporters")):
        r = results[f"{db} hot-{kind}"]
        ratio = "" if kind == "spread" else f"{r['per_second'] / spread['per_second']:.0%}"
        answers = ", ".join(f"{k}: {v}" for k, v in r["statuses"].items())
        out.append(f"| {db} | {name} | {r['per_second']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {answers} | {ratio} |")
out.append("<!-- pledges:end -->")
print("\n".join(out))
PY
