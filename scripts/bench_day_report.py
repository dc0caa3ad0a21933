"""The "Record day" section of BENCHMARKS.md from scripts/bench_day.sh's JSON lines."""
import json
import subprocess
import sys

results = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
seconds, preload = sys.argv[2], int(sys.argv[3])
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                     capture_output=True, text=True).stdout.strip()


def of(scenario):
    return [r for r in results if r["scenario"] == scenario]


def mark(ok):
    return "met" if ok else "**missed**"


out = ["<!-- day:begin -->", "## A signer's whole path, and the record day", "",
       f"`scripts/bench_day.sh` (release build, {seconds} s a run, {preload:,} signatures preloaded, the",
       "rate limiter on). The server mails over SMTP to a sink inside the load tool; each",
       "confirmation link is pressed as its mail arrives, so a signature is counted only",
       "after the whole path. Sign to counted runs from the signer's scheduled send (open",
       "loop) to the confirm's answer. Lost: acknowledged but not counted a minute after",
       f"the schedule ended. Machine: {cpu}, 2 cores.", "",
       "### Flow: 100 signers a second (target: p99 sign to counted under 5 s)", "",
       "| on | signed | mailed (twice) | counted | lost | sign p99 ms | sign to counted p50 ms | p99 ms | max ms | target |",
       "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
for r in of("flow"):
    out.append(f"| {r['label']} | {r['signed_ok']} of {r['signs']} | {r['mails']} ({r['duplicates']}) | {r['counted']} | {r['lost']} "
               f"| {r['sign_p99_ms']:.1f} | {r['counted_p50_ms']:.0f} | {r['counted_p99_ms']:.0f} | {r['counted_max_ms']:.0f} "
               f"| {mark(r['counted_p99_ms'] < 5000 and r['lost'] == 0)} |")
out += ["", "### Record day: the mix at once", "",
        "Watching: server-sent-event streams held on the campaign's count for the whole run",
        "(any dropped before the end are shown; one in 100 times",
        "delivery, from a confirm's answer to the watcher's count including it). Failures:",
        "5xx answers and requests with no answer, over every request of the mix. Memory: the",
        "server's resident set before the first run and 75 s after the record day.", "",
        "| on | watching | page p99 ms (< 200) | tally p99 ms (< 50) | signs | sign to counted p99 ms | delivery p99 ms | failures | lost | KiB per watcher | memory idle → after (< 2x) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
memory = {r["label"]: r for r in of("memory")}
for r in of("record-day"):
    s, f = r["stream"], r["flow"]
    m = memory.get(r["label"])
    mem = f"{m['idle'] / 2**20:.0f} → {m['after'] / 2**20:.0f} MiB, {mark(m['after'] < 2 * m['idle'])}" if m else ""
    kib = f"{s['kib_per_subscriber']:.1f}" if s.get("kib_per_subscriber") is not None else ""
    held = f"{s['held']} of {s['subscribers']}" + (f", {s['ended_early']} dropped" if s["ended_early"] else "")
    held += f" ({s['mode'].split(' on ', 1)[-1]})"
    out.append(f"| {r['label']} | {held} | {r['page']['p99_ms']:.1f} {mark(r['page']['p99_ms'] < 200)} "
               f"| {r['tally']['p99_ms']:.1f} {mark(r['tally']['p99_ms'] < 50)} | {f['signed_ok']} of {f['signs']} "
               f"| {f['counted_p99_ms']:.0f} | {s['delivery_p99_ms']:.0f} | {r['failures']} {mark(r['failures'] == 0)} "
               f"| {f['lost']} {mark(f['lost'] == 0)} | {kib} | {mem} |")
out += ["", "| on | part | requests | per second | p50 ms | p99 ms | max ms | answers |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
for r in of("record-day"):
    for part in ("page", "tally"):
        p = r[part]
        answers = ", ".join(f"{k}: {v}" for k, v in p["statuses"].items())
        if p["errors"]:
            answers += f", no answer: {p['errors']}"
        out.append(f"| {r['label']} | {part} | {p['requests']} | {p['per_second']:.0f} | {p['p50_ms']:.1f} | {p['p99_ms']:.1f} | {p['max_ms']:.1f} | {answers} |")
out.append("<!-- day:end -->")
print("\n".join(out))
