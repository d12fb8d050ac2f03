#!/usr/bin/env bash
# Runs fluxion's Poisson path (poisson_overhead) against the same problem on plain PETSc
# (poisson_plain_petsc) for CG with pc in {mg, gamg, hypre (boomeramg), sor (SSOR)}, and writes
# bench/results/poisson_overhead_<date>[_n<N>].md: machine, load, exact commands, best-of-REPS table.
# It builds nothing.
#
#   bench/run_poisson_overhead.sh PATH/poisson_overhead PATH/poisson_plain_petsc [N]
#
#   N       cells per axis (default 128; 64 for a quick run)
#   env     REPS=3 (runs per configuration; the table keeps each column's minimum)
#           PCS="mg gamg hypre sor"   SOURCE=one|sin   OUT=path/to/result.md
#           EXTRA="..." PETSc options added to every run
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,14p' "$0" >&2
  exit 2
fi
FLUXION_BIN=$(readlink -f "$1")
PLAIN_BIN=$(readlink -f "$2")
N=${3:-128}
REPS=${REPS:-3}
PCS=${PCS:-"mg gamg hypre sor"}
SOURCE=${SOURCE:-one}
EXTRA=${EXTRA:-}
HERE=$(cd "$(dirname "$0")" && pwd)
DATE=$(date +%F)
SUFFIX=""
[[ "$N" != 128 ]] && SUFFIX="_n${N}"
OUT=${OUT:-$HERE/results/poisson_overhead_${DATE}${SUFFIX}.md}
mkdir -p "$(dirname "$OUT")"
RAW=$(mktemp)
trap 'rm -f "$RAW"' EXIT

pc_options() {
  case "$1" in
    sor) echo "-pc_sor_symmetric" ;;
    hypre) echo "-pc_hypre_type boomeramg" ;;
    *) echo "" ;;
  esac
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

LOAD_START=$(uptime)
COMMANDS=()
for pc in $PCS; do
  opts="-bench_n $N -bench_pc $pc -bench_source $SOURCE $(pc_options "$pc") $EXTRA"
  COMMANDS+=("$FLUXION_BIN $opts" "$PLAIN_BIN $opts")
  for ((r = 1; r <= REPS; r++)); do
    # Alternate the two programs so that a change in the machine's load hits both.
    for bin in "$FLUXION_BIN" "$PLAIN_BIN"; do
      load=$(loadavg)
      # shellcheck disable=SC2086
      line=$("$bin" $opts | grep '^RESULT ' || true)
      if [[ -z "$line" ]]; then
        echo "run failed: $bin $opts" >&2
        exit 1
      fi
      echo "$line rep=$r load=\"$load\"" | tee -a "$RAW" >&2
    done
  done
done
LOAD_END=$(uptime)

python3 - "$RAW" "$OUT" "$N" "$REPS" "$SOURCE" "$LOAD_START" "$LOAD_END" "${GLIBC_TUNABLES:-}" "${COMMANDS[@]}" <<'PY'
import re, shlex, subprocess, sys, datetime
raw, out, n, reps, source, load_start, load_end, tunables = sys.argv[1:9]
commands = sys.argv[9:]
rows = []
for line in open(raw):
    d = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))
    rows.append({k: v.strip('"') for k, v in d.items()})

def lscpu(field):
    for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if l.startswith(field + ":"):
            return l.split(":", 1)[1].strip()
    return "?"

keys = ["assemble", "setup", "solve", "ksp_solve"]
best, info = {}, {}
for r in rows:
    k = (r["pc"], r["impl"])
    b = best.setdefault(k, {c: float("inf") for c in keys + ["total"]})
    vals = {c: float(r[c]) for c in keys}
    vals["total"] = vals["assemble"] + vals["setup"] + vals["solve"]
    for c in vals:
        b[c] = min(b[c], vals[c])
    info[k] = (r["its"], r["converged"], r["norm2"])

pcs = list(dict.fromkeys(r["pc"] for r in rows))
label = {"mg": "mg (PCMG, Q0, Galerkin)", "gamg": "gamg", "hypre": "hypre (boomeramg)", "sor": "sor (SSOR)"}
L = []
L.append(f"# Poisson overhead: fluxion vs plain PETSc, {n}^3 cells")
L.append("")
L.append(f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}")
L.append(f"- machine: {lscpu('Model name')}, {lscpu('CPU(s)')} CPUs ({lscpu('Core(s) per socket')} cores per socket, "
         f"{lscpu('Thread(s) per core')} threads per core), shared with other users")
L.append(f"- load (uptime) at start: `{load_start.strip()}`; at end: `{load_end.strip()}`; per run in the raw lines below")
L.append(f"- problem: -lap u = f on [0,1]^3, homogeneous Dirichlet, f = {'1' if source == 'one' else '3 pi^2 sin(pi x) sin(pi y) sin(pi z)'}, "
         "cell-centred 7-point stencil; CG, rtol 1e-8 (unpreconditioned norm), x0 = 0, 1 MPI rank")
L.append(f"- GLIBC_TUNABLES: `{tunables or '(unset)'}`")
L.append(f"- best of {reps} runs per column (each column's minimum on its own); seconds, wall clock")
L.append("- assemble: fluxion = PoissonProblem (sample k, c, f; stencil weights; boundary terms) + StencilOperator::matrix(); "
         "plain = DMCreateMatrix + MatSetValuesStencil rows + rhs. setup: KSP configuration + KSPSetUp. "
         "solve: fluxion = PetscSolver::solve() (initial and final residual + KSPSolve), plain = KSPSolve; "
         "ksp: KSPSolve alone.")
L.append("")
L.append("| pc | fluxion assemble | setup | solve (ksp) | total | plain assemble | setup | solve | total | "
         "overhead assemble+solve | overhead total | iterations fluxion / plain | same solution |")
L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for pc in pcs:
    f, p = best.get((pc, "fluxion")), best.get((pc, "plain"))
    if not f or not p:
        continue
    ov = (f["assemble"] + f["solve"]) / (p["assemble"] + p["solve"]) - 1.0
    ovt = f["total"] / p["total"] - 1.0
    fi, pi = info[(pc, "fluxion")], info[(pc, "plain")]
    same = "yes" if fi[0] == pi[0] and abs(float(fi[2]) - float(pi[2])) <= 1e-10 * abs(float(pi[2])) else "NO"
    conv = "" if fi[1] == "1" and pi[1] == "1" else " (not converged)"
    L.append(f"| {label.get(pc, pc)} | {f['assemble']:.2f} | {f['setup']:.2f} | {f['solve']:.2f} ({f['ksp_solve']:.2f}) | "
             f"{f['total']:.2f} | {p['assemble']:.2f} | {p['setup']:.2f} | {p['solve']:.2f} | {p['total']:.2f} | "
             f"{100 * ov:+.1f}% | {100 * ovt:+.1f}% | {fi[0]} / {pi[0]}{conv} | {same} (norm2 {float(pi[2]):.10e}) |")
L.append("")
L.append("## Commands")
L.append("")
L.append("```")
for c in commands:
    L.append(c)
L.append("```")
L.append("")
L.append("## Raw results (one line per run)")
L.append("")
L.append("```")
L.extend(l.rstrip() for l in open(raw))
L.append("```")
open(out, "w").write("\n".join(L) + "\n")
print(out)
PY
