"""Puts a section into BENCHMARKS.md between `<!-- NAME:begin -->` and `<!-- NAME:end -->`,
replacing the one there or adding it at the end. The section (with its markers) comes on
standard input; it is echoed. Used by scripts/bench_export.sh and scripts/bench_pledge.sh."""
import re
import sys

name = sys.argv[1]
section = sys.stdin.read().strip("\n")
begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
assert section.startswith(begin) and section.endswith(end), "the section carries its markers"
try:
    text = open("BENCHMARKS.md").read()
except FileNotFoundError:
    text = "# Benchmarks\n"
if begin in text:
    text = re.sub(re.escape(begin) + ".*" + re.escape(end), lambda _: section, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open("BENCHMARKS.md", "w").write(text)
print(section)
