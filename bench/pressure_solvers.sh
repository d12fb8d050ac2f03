#!/usr/bin/env bash
# Every pressure-Poisson solver side by side in one run (issue 6): -lap u = 1 on the unit cube,
# homogeneous Dirichlet, CG to rtol 1e-8 from x0 = 0, 1 rank, N^3 cells. fluxion's path
# (poisson_overhead) with fluxion_mg (matrix-free), PETSc's PCMG default, GAMG, BoomerAMG, SSOR
# and ICC; hypre's PFMG on plain PETSc (a DMDA with -dm_mat_type hyprestruct). Writes
# bench/results/pressure_solvers_<date>_n<N>.md: machine, load, commands, and per solver the
# iterations, assemble / setup / solve seconds (best of REPS) and peak resident memory.
#
#   bench/pressure_solvers.sh BUILD_DIR [N ...]       (default N: 64 128)
#   env  REPS=3   SOLVERS="fluxion_mg mg gamg hypre pfmg sor icc"   OUT_DIR=bench/results
set -euo pipefail

if [[ $# -lt 1 ]]; then
  sed -n '2,11p' "$0" >&2
  exit 2
fi
BUILD=$(readlink -f "$1")
shift
SIZES=("${@:-64 128}")
[[ $# -eq 0 ]] && SIZES=(64 128)
REPS=${REPS:-3}
SOLVERS=${SOLVERS:-"fluxion_mg mg gamg hypre pfmg sor icc"}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT_DIR=${OUT_DIR:-$HERE/results}
FLUXION_BIN=$BUILD/bench/poisson_overhead
PLAIN_BIN=$BUILD/bench/poisson_plain_petsc
mkdir -p "$OUT_DIR"

command_for() {  # solver n -> the command line
  case "$1" in
    pfmg) echo "$PLAIN_BIN -bench_n $2 -bench_pc pfmg -dm_mat_type hyprestruct" ;;
    hypre) echo "$FLUXION_BIN -bench_n $2 -bench_pc hypre -pc_hypre_type boomeramg" ;;
    sor) echo "$FLUXION_BIN -bench_n $2 -bench_pc sor -pc_sor_symmetric" ;;
    *) echo "$FLUXION_BIN -bench_n $2 -bench_pc $1" ;;
  esac
}

for N in "${SIZES[@]}"; do
  OUT=$OUT_DIR/pressure_solvers_$(date +%F)_n$N.md
  RAW=$(mktemp)
  LOAD_START=$(uptime)
  for solver in $SOLVERS; do
    cmd=$(command_for "$solver" "$N")
    for ((r = 1; r <= REPS; r++)); do
      # shellcheck disable=SC2086
      out=$( { /usr/bin/time -f "MAXRSS_KB=%M" $cmd; } 2>&1 ) || { echo "run failed: $cmd" >&2; echo "$out" >&2; exit 1; }
      line=$(grep '^RESULT ' <<<"$out")
      rss=$(grep -o 'MAXRSS_KB=[0-9]*' <<<"$out" | cut -d= -f2)
      echo "$line solver=$solver rss_kb=$rss load=\"$(cut -d' ' -f1-3 /proc/loadavg)\" cmd=\"$cmd\"" | tee -a "$RAW" >&2
    done
  done
  LOAD_END=$(uptime)
  /usr/bin/python3 - "$RAW" "$OUT" "$N" "$REPS" "$LOAD_START" "$LOAD_END" <<'PY'
import datetime, re, subprocess, sys
raw, out, n, reps, load_start, load_end = sys.argv[1:7]
rows = [{k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', l)} for l in open(raw)]
def lscpu(field):
    for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if l.startswith(field + ":"):
            return l.split(":", 1)[1].strip()
    return "?"
label = {"fluxion_mg": "fluxion_mg (matrix-free MG-CG)", "mg": "PCMG (Q0, Galerkin; the default before issue 6)",
         "gamg": "GAMG", "hypre": "hypre BoomerAMG", "pfmg": "hypre PFMG (hyprestruct, plain PETSc)",
         "sor": "SSOR-CG (PETSc)", "icc": "ICC(0)-CG"}
best = {}
for r in rows:
    b = best.setdefault(r["solver"], dict(assemble=1e300, setup=1e300, solve=1e300, total=1e300, rss=1e300, its=r["its"],
                                          converged=r["converged"], cmd=r["cmd"]))
    t = {k: float(r[k]) for k in ("assemble", "setup", "solve")}
    t["total"] = sum(t.values())
    t["rss"] = float(r["rss_kb"]) / 1024.0
    for k, v in t.items():
        b[k] = min(b[k], v)
cells = int(n) ** 3
L = [f"# Pressure Poisson solvers side by side, {n}^3 cells", "",
     f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}; command: `bench/pressure_solvers.sh BUILD {n}` (REPS={reps})",
     f"- machine: {lscpu('Model name')}, {lscpu('CPU(s)')} CPUs, shared; load at start `{load_start.strip()}`, at end `{load_end.strip()}`",
     "- problem: -lap u = 1 on [0,1]^3, homogeneous Dirichlet, cell-centred 7-point stencil; CG to rtol 1e-8 "
     "(unpreconditioned norm), x0 = 0, 1 MPI rank",
     f"- seconds: best of {reps} runs per column; memory: peak resident set of the whole process (smallest of the runs)",
     "- assemble: fluxion = PoissonProblem + the AIJ matrix (fluxion_mg: none, matrix-free); PFMG = DMCreateMatrix "
     "(hyprestruct) + MatSetValuesStencil. setup: KSP configuration + KSPSetUp (hierarchy). solve: the solve.", "",
     "| solver | iterations | assemble s | setup s | solve s | total s | setup+solve vs PFMG | peak MB | bytes per cell |",
     "|---|---|---|---|---|---|---|---|---|"]
pf = best.get("pfmg")
for s, b in best.items():
    ratio = f"{(b['setup'] + b['solve']) / (pf['setup'] + pf['solve']):.2f}x" if pf else "-"
    its = b["its"] + ("" if b["converged"] == "1" else " (not converged)")
    L.append(f"| {label.get(s, s)} | {its} | {b['assemble']:.3f} | {b['setup']:.3f} | {b['solve']:.3f} | {b['total']:.3f} "
             f"| {ratio} | {b['rss']:.0f} | {b['rss'] * 2**20 / cells:.0f} |")
L += ["", "Commands:", ""] + [f"- `{b['cmd']}`" for b in best.values()] + ["", "Raw lines:", "", "```"] + \
     [l.rstrip() for l in open(raw)] + ["```", ""]
open(out, "w").write("\n".join(L))
print(out)
PY
  rm -f "$RAW"
done
