#!/usr/bin/env bash
# Runs a Google Benchmark program and keeps what a reader needs to trust or rerun it: OUT.txt (date,
# machine, source tree, load before and after, the exact command, then the console output) and
# OUT.json (the same results as JSON), then prints a table of the best repetition of each benchmark.
#
#   bench/run_gbench.sh OUT PATH/program [--benchmark_... options]
#   e.g. bench/run_gbench.sh bench/results/stencil_apply_$(date +%F) build/release/bench/stencil_apply_bench \
#          --benchmark_repetitions=10 --benchmark_enable_random_interleaving=true
set -euo pipefail
if [[ $# -lt 2 ]]; then
  sed -n '2,8p' "$0" >&2
  exit 2
fi
OUT=$1; shift
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$(dirname "$OUT")"
{
  echo "# $(basename "$1"), $(date -Is)"
  echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs"
  echo "# source tree: $(git -C "$HERE" describe --always --dirty 2>/dev/null || echo '?')"
  echo "# uptime before: $(uptime)"
  echo "# command: $* --benchmark_out=$OUT.json --benchmark_out_format=json"
} > "$OUT.txt"
"$@" --benchmark_out="$OUT.json" --benchmark_out_format=json >> "$OUT.txt" 2>&1
echo "# uptime after: $(uptime)" >> "$OUT.txt"
/usr/bin/python3 - "$OUT.json" <<'PY'
import json, sys
runs = [b for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
best = {}
for b in runs:
    name = b["name"].split("/repeats:")[0]
    r = best.setdefault(name, {"real": [], "cpu": [], "unit": b["time_unit"], "items": []})
    r["real"].append(b["real_time"]); r["cpu"].append(b["cpu_time"]); r["items"].append(b.get("items_per_second", 0))  # per CPU second (Google Benchmark's default)
print("| benchmark | repetitions | best wall | median wall | best CPU | median CPU | items per CPU second (best) |")
print("|---|---|---|---|---|---|---|")
for name, r in best.items():
    med = lambda v: sorted(v)[len(v) // 2]
    u = r["unit"]
    print(f"| {name} | {len(r['real'])} | {min(r['real']):.3g} {u} | {med(r['real']):.3g} {u} | {min(r['cpu']):.3g} {u} | "
          f"{med(r['cpu']):.3g} {u} | {max(r['items']) / 1e6:.0f} M/s |")
PY
