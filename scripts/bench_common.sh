# Shared by the benchmark scripts (sourced, not run): the release server started on a
# database and a mail URL, the 1,000,000 signatures preloaded, the outbox waited on.
# The sourcing script sets $root, $port, $pg and $preload, and calls prepare_run.

say() { printf '\033[1m%s:\033[0m %s\n' "${bench_name:-bench}" "$*"; }

# A folder for the server's mail files, on tmpfs where there is one. Each mail is a new
# file in one folder: on this machine's ext4, creating 2,000 a second took a sixth of
# both cores in the kernel's inode allocator and spinning on the folder's lock (perf,
# 2026-12-07). That is the cost of the stand-in for an SMTP relay, not of Rollcall:
# production mail leaves over SMTP, the path `scripts/bench_day.sh` measures.
# tmpfs only with a GiB free (a container's is often 64 MB; a full one would hold mail
# back and the outbox would wait).
mail_folder() {
  local free_kib
  free_kib=$(df --output=avail -k /dev/shm 2>/dev/null | tail -n 1 | tr -d ' ')
  if [ "${free_kib:-0}" -ge 1048576 ] 2>/dev/null; then mktemp -d -p /dev/shm; else mktemp -d; fi
}

# The release binaries' paths, a scratch folder and its results file, and a folder for
# mail; on exit the server stops, the scratch PostgreSQL database named $1 is dropped and
# the folders removed.
prepare_run() {
  scratch_db=$1
  # ROLLCALL_BIN: another build to measure (an A/B run of two commits' binaries).
  bin="${ROLLCALL_BIN:-$CARGO_TARGET_DIR/production/rollcall}"
  tool="$CARGO_TARGET_DIR/release/rollcall-bench"
  work=$(mktemp -d)
  mails=$(mail_folder)
  results="$work/results.jsonl"
  server_pid=""
  trap cleanup_run EXIT
}

cleanup_run() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $scratch_db WITH (FORCE)" 2>/dev/null || true
  rm -rf "$work" "$mails"
}

# A fresh scratch PostgreSQL database.
fresh_pg_database() {
  psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $scratch_db WITH (FORCE)" -c "CREATE DATABASE $scratch_db"
}

# 1,000,000 confirmed signatures spread over the general-strike demo's locals, and
# their tally rows, so the database is the size of a big campaign's.
preload_sql() {
  local series=$1
  cat <<SQL
INSERT INTO signatures (id, campaign_id, local_id, given_name, family_name, email, canonical_email,
  language, text_id, show_name, status, created_at, confirmed_at)
SELECT $2, c.id, 1 + (n % 300), 'Pre', 'Loaded', 'pre' || n || '@example.org', 'pre' || n || '@example.org',
  'en', t.id, (n % 10 = 0), 'confirmed', $3, $3
FROM $series,
  (SELECT id FROM campaigns WHERE slug = 'general-strike-pledge-demo') c,
  (SELECT MIN(id) AS id FROM campaign_texts WHERE campaign_id = (SELECT id FROM campaigns WHERE slug = 'general-strike-pledge-demo')) t;
INSERT INTO local_tallies (campaign_id, local_id, shard, count)
SELECT campaign_id, local_id, 0, COUNT(*) FROM signatures
WHERE status = 'confirmed' AND campaign_id = (SELECT id FROM campaigns WHERE slug = 'general-strike-pledge-demo')
GROUP BY campaign_id, local_id;
SQL
}

# The demo campaigns and $preload signatures, on a fresh database, and a partner key the
# load tool signs through the JSON API with (ROLLCALL_PARTNER_KEY).
load_demo() {
  local db_url=$1
  DATABASE_URL="$db_url" "$bin" --config /dev/null demo >/dev/null
  ROLLCALL_PARTNER_KEY=$(DATABASE_URL="$db_url" "$bin" --config /dev/null api-key create --role partner --label bench \
    | tail -n 1 | awk '{print $NF}')
  export ROLLCALL_PARTNER_KEY
  if [[ "$db_url" == sqlite* ]]; then
    preload_sql "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $preload) SELECT n FROM s)" \
      "randomblob(16)" "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-' || (n % 720) || ' hours')" \
      | sqlite3 "${db_url#sqlite://}"
  else
    preload_sql "generate_series(1, $preload) AS n" "gen_random_uuid()" "now() - (n % 720) * interval '1 hour'" \
      | psql -q "$db_url"
    psql -q "$db_url" -c "VACUUM ANALYZE"
  fi
}

# The pool: SQLite with the server's default of 4 (its writers take turns in the
# process, and more readers on two cores read no faster but keep more page caches,
# schemas, statements and allocator arenas for good); PostgreSQL with 16, one for each
# client of the closed-loop runs. BENCH_DB_CONNECTIONS sets both, to put pools side by side.
db_connections() { if [ -n "${BENCH_DB_CONNECTIONS:-}" ]; then echo "$BENCH_DB_CONNECTIONS"; elif [[ "$1" == sqlite* ]]; then echo 4; else echo 16; fi; }

# The release server on $port, its rate limiter on and the load tool's addresses trusted.
# With $server_wrap set to a command and its options (valgrind's, say), the server runs
# under it, in the same process, and is given two minutes to answer rather than 20 s.
start_server() {
  local db_url=$1 mail_url=$2 tries=100
  [ -n "${server_wrap:-}" ] && tries=600
  # shellcheck disable=SC2086 # $server_wrap is a command and its options
  DATABASE_URL="$db_url" MAIL_URL="$mail_url" LEPTOS_ENV=prod LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    LEPTOS_SITE_ROOT="$root/target/site" PUBLIC_URL="http://127.0.0.1:$port" \
    TRUSTED_PROXIES=127.0.0.0/8 DATABASE_MAX_CONNECTIONS="$(db_connections "$db_url")" RUST_LOG=warn \
    MAILS_PER_MINUTE=1000000 \
    ${server_wrap:-} "$bin" --config /dev/null serve >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 "$tries"); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && return; sleep 0.2; done
  say "the server did not start${server_wrap:+ under ${server_wrap%% *}}"; cat "$work/server.log"; exit 1
}

# SIGTERM, and a minute to drain; a server still running then is killed and said so, so a
# hung server cannot hold up the rest of the run.
stop_server() {
  kill "$server_pid"
  for _ in $(seq 1 600); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -9 "$server_pid" 2>/dev/null; then say "the server did not stop within a minute of SIGTERM; killed"; fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# The server's resident set, in bytes.
rss_bytes() { ps -o rss= -p "$server_pid" | awk '{print $1 * 1024}'; }

outbox_left() {
  local db_url=$1
  if [[ "$db_url" == sqlite* ]]; then sqlite3 "${db_url#sqlite://}" "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL";
  else psql -At "$db_url" -c "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"; fi
}

wait_for_mail() { # until the outbox is empty (at most five minutes)
  for _ in $(seq 1 600); do [ "$(outbox_left "$1")" = 0 ] && return; sleep 0.5; done
}

# Signatures to confirm in a stream run, none of them used before: 250 a second signed
# for ${secs:-10} s (not reported), then the tokens mailed to MAIL_DIR less those in USED,
# in $work/tokens-stream.
fresh_tokens() {
  local mail_dir=$1 db_url=$2 used=$3
  "$tool" --base "http://127.0.0.1:$port" --seconds "${secs:-10}" sign --rate 250 >/dev/null
  wait_for_mail "$db_url"
  "$tool" tokens --mail-dir "$mail_dir" --out "$work/tokens-all"
  grep -vxF -f "$used" "$work/tokens-all" > "$work/tokens-stream" || true
}

# Live-stream subscribers: 20,000, or as many as the open-file limit leaves room for
# (each is a connection on both ends; this machine's hard limit is 20,000).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
stream_subscribers() {
  local files
  files=$(ulimit -n)
  [ "$files" = unlimited ] && files=1000000
  echo "${STREAM_SUBSCRIBERS:-$(( files - 1000 < 20000 ? files - 1000 : 20000 ))}"
}

# "PID TICKS" for each of the processes PIDs still running: the CPU time each has used so
# far, in clock ticks (user and system).
cpu_ticks() {
  local pid ticks
  for pid in "$@"; do
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) && echo "$pid $ticks"
  done
  return 0
}

# Context switches of the process PID so far, summed over its threads.
context_switches() {
  { cat /proc/"$1"/task/*/status 2>/dev/null || true; } | awk '/ctxt_switches/ {n += $2} END {print n + 0}'
}

# Waits for the outbox to empty, runs the load tool's arguments at a fixed rate, waits
# for the outbox again, and writes what that cost a request: the server's CPU,
# PostgreSQL's (its processes that ran from start to end; on SQLite none) and the
# server's context switches. LABEL names the line; DB_URL is waited on. These move
# with the machine's speed too, if less than a closed-loop rate does.
costed_run() {
  local label=$1 db_url=$2; shift 2
  local pg_pids="" requests
  wait_for_mail "$db_url"
  [[ "$db_url" == postgres* ]] && pg_pids=$(pgrep -x postgres || true)
  cpu_ticks "$server_pid" > "$work/server-ticks-0"
  cpu_ticks $pg_pids > "$work/db-ticks-0"
  context_switches "$server_pid" > "$work/switches-0"
  "$tool" --base "http://127.0.0.1:$port" --json "$results" --label "$label" "$@"
  wait_for_mail "$db_url"
  cpu_ticks "$server_pid" > "$work/server-ticks-1"
  cpu_ticks $pg_pids > "$work/db-ticks-1"
  context_switches "$server_pid" > "$work/switches-1"
  requests=$(tail -n 1 "$results" | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"])')
  python3 - "$results" "$label" "$*" "$requests" "$(getconf CLK_TCK)" "$work" "${pg_pids:+postgres}" <<'PY'
import json, sys
results, label, run, requests, hz, work, database = sys.argv[1:]
n, hz = int(requests), int(hz)

def ticks(name):
    # Per process, and only those that ran from the first reading to the last.
    read = lambda end: dict(line.split() for line in open(f"{work}/{name}-ticks-{end}"))
    before, after = read(0), read(1)
    return sum(int(after[pid]) - int(before[pid]) for pid in before if pid in after)

def per_request(total):
    return total / n if n else None

switches = [int(open(f"{work}/switches-{end}").read()) for end in (0, 1)]
line = {"label": label, "scenario": "cost", "run": run, "requests": n,
        "server_cpu_ms": per_request(ticks("server") * 1000 / hz),
        "database_cpu_ms": per_request(ticks("db") * 1000 / hz) if database else None,
        "context_switches": per_request(switches[1] - switches[0])}
with open(results, "a") as out:
    out.write(json.dumps(line) + "\n")
if not n:
    print(f"{label}: {run}: no request answered, so no cost a request")
else:
    on_database = f", {line['database_cpu_ms']:.2f} ms of PostgreSQL's" if database else ""
    print(f"{label}: {run}: {line['server_cpu_ms']:.2f} ms of the server's CPU{on_database}, "
          f"{line['context_switches']:.1f} context switches a request")
PY
}
