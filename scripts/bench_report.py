"""Turns the load tool's JSON lines into BENCHMARKS.md (called by scripts/bench.sh)."""
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

results = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
work = Path(sys.argv[2])


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, shell=True).stdout.strip().splitlines()[0]
    except Exception:
        return "unknown"


def find(scenario, label, mode_start=None):
    for r in results:
        if r["scenario"] == scenario and r["label"] == label and (mode_start is None or r.get("mode", "").startswith(mode_start)):
            return r
    return None


memory = open("/proc/meminfo").readline().split()[1]
print("# Benchmarks\n")
print("Reproduce with `scripts/bench.sh` (about 15 minutes after the release build). The load")
print("tool (`bench/`, `rollcall-bench`) runs on the same machine as the server, over loopback,")
print("from 8 source addresses (127.0.0.1-8, trusted as proxies, each request naming its own")
print("client), with the server's rate limiter on and 1,000,000 confirmed signatures preloaded.\n")
print("## Machine\n")
print(f"- {subprocess.run('nproc', capture_output=True, text=True).stdout.strip()} cores, {int(memory) // 1024 // 1024} GiB, {platform.platform()}")
print(f"- {version('rustc --version')}; {version('psql --version')}; SQLite {version('sqlite3 --version').split()[0]}; {version('nginx -v 2>&1')}")
mail_fs = os.environ.get("MAIL_FOLDER_FS", "the scratch folder's filesystem")
print(f"- server: release build, `LEPTOS_ENV=prod`, `DATABASE_MAX_CONNECTIONS` 4 on SQLite (the default) and 16 on PostgreSQL, mail written to files (on {mail_fs}), the")
print("  mail ceiling lifted (`MAILS_PER_MINUTE`) so the outbox drains between runs\n")
print("## Results\n")
print("| scenario | on | mode | requests | per second | p50 ms | p99 ms | max ms | answers |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
for r in results:
    if "requests" not in r:
        continue
    statuses = ", ".join(f"{k}: {v}" for k, v in r["statuses"].items())
    if r["errors"]:
        statuses += f", errors: {r['errors']}"
    print(f"| {r['scenario']} | {r['label']} | {r['mode']} | {r['requests']} | {r['per_second']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} | {statuses} |")

streams = [r for r in results if r["scenario"] == "stream"]


def transport(r):
    """"HTTP/1.1" or "HTTP/2, N to a connection", from the mode the tool reported."""
    return r["mode"].split(", confirming")[0].split(" on ", 1)[-1]

if streams:
    print("\n## Live stream\n")
    print("Subscribers hold the campaign's server-sent-event stream while confirmations go in")
    print("open loop; delivery is from a confirmation's answer to a subscriber's count including")
    print("it (one subscriber in 100 records it); memory is the server's resident set with the")
    print("subscribers minus before them, per subscriber.\n")
    print("| on | subscribers | held | refused | ended early | confirmed | events received | delivery p50 ms | p99 ms | max ms | KiB per subscriber |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in streams:
        kib = f"{r['kib_per_subscriber']:.1f}" if r.get("kib_per_subscriber") is not None else "not weighed"
        print(f"| {r['label']}, {transport(r)} | {r['subscribers']} | {r['held']} | {r['refused']} | {r['ended_early']} | {r['confirmed_ok']} of {r['confirms']} in {r['mode'].split('confirming ')[-1]} | {r['events']} | {r['delivery_p50_ms']:.1f} | {r['delivery_p99_ms']:.1f} | {r['delivery_max_ms']:.1f} | {kib} |")

print("\n## Against the yardsticks\n")
print("| what | Rollcall | yardstick | ratio | target |")
print("| --- | ---: | ---: | ---: | --- |")
for scenario, target in [("tally", "≥ 50%"), ("page", "≥ 25%")]:
    for label in ["sqlite", "postgres"]:
        ours, yard = find(scenario, label), find(scenario, "nginx")
        if ours and yard:
            print(f"| {scenario} on {label} vs nginx, same bytes | {ours['per_second']:.0f}/s | {yard['per_second']:.0f}/s | {ours['per_second'] / yard['per_second']:.0%} | {target} |")
for scenario in ["sign", "confirm"]:
    ours, yard = find(scenario, "postgres", "closed"), find(scenario, "pgbench")
    if ours and yard and yard["per_second"]:
        print(f"| {scenario} on postgres vs pgbench, same writes, 16 clients | {ours['per_second']:.0f}/s | {yard['per_second']:.0f}/s | {ours['per_second'] / yard['per_second']:.0%} | ≥ 50% |")
    ours, yard = find(scenario, "sqlite", "closed"), find(scenario, "sqlite-yardstick")
    if ours and yard and yard["per_second"]:
        print(f"| {scenario} on sqlite vs a minimal SQLite program, same writes | {ours['per_second']:.0f}/s | {yard['per_second']:.0f}/s | {ours['per_second'] / yard['per_second']:.0%} | ≥ 50% |")
    half = find(scenario, "postgres", "open")
    if half:
        print(f"| {scenario} on postgres at half its rate: p99 | {half['p99_ms']:.1f} ms | | | < 50 ms |")
    half = find(scenario, "sqlite", "open")
    if half:
        print(f"| {scenario} on sqlite at half its rate: p99 | {half['p99_ms']:.1f} ms | | | < 50 ms |")
for r in streams:
    on = f"{r['label']}, {transport(r)}"
    print(f"| stream on {on}: subscribers held | {r['held']} of {r['subscribers']} | | | 20,000 |")
    print(f"| stream on {on}: delivery p99 | {r['delivery_p99_ms']:.0f} ms | | | < 1 s |")
    if r.get("kib_per_subscriber") is not None:
        print(f"| stream on {on}: memory per subscriber | {r['kib_per_subscriber']:.1f} KiB | | | < 20 KiB |")
for label in ["sqlite", "postgres"]:
    idle = work / f"rss-idle-{label}"
    if idle.exists():
        print(f"| resident memory idle, {label} | {int(idle.read_text()) / 1e6:.0f} MB | | | < 50 MB |")
for label in ["sqlite", "postgres"]:
    rss = work / f"rss-{label}"
    if rss.exists():
        print(f"| resident memory 35 s after the {label} run | {int(rss.read_text()) / 1e6:.0f} MB | | | < 2x idle |")
