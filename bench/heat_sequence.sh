#!/usr/bin/env bash
# Benchmark 2 of issue 3: the heat-equation sequence of "Learning to Relax" (experiment (b)) with
# SSOR-preconditioned CG, omega fixed or chosen per step by an online learner.
#   apps/configs/heat.yaml (Crank-Nicolson, dt = 1e-3, kappa(t), moving bump), time.steps = STEPS,
#   grids 25, 50, 100, 200 per side; policies:
#     fixed omega: every value of the learners' 20-arm grid 1.00, 1.05, .., 1.95 (ssor_cg, tune none),
#     so that the best fixed omega in hindsight is over the same arms the learners choose from;
#     Tsallis-INF, Tsallis-INF-CB and ChebCB (context kappa_dt on [0, 0.01], seed 0, no state file:
#     every run learns from scratch), unpreconditioned CG (petsc cg/none), PETSc ICC-CG (petsc cg/icc);
#     all rtol 1e-8, warm start from the previous step.
# Usage: bench/heat_sequence.sh [OUTDIR]
#   env: FLUXION=build/release/apps/fluxion/fluxion STEPS=5000 JOBS=2 GRIDS="25 50 100 200"
#        NICE=0 (nice level of the runs: iteration counts do not depend on it, times do)
#        POLICIES="fixed_1.90 chebcb ..." runs only these policies, in this order (default: all)
# then:  /usr/bin/python3 bench/heat_sequence.py OUTDIR bench/results/heat_sequence_<date>.md docs/img
# A run whose summary.json exists is skipped, so an interrupted sweep continues where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
FLUXION=${FLUXION:-build/release/apps/fluxion/fluxion}
OUT=${1:-/tmp/heat_sequence}
STEPS=${STEPS:-5000}
JOBS=${JOBS:-2}
GRIDS=${GRIDS:-"25 50 100 200"}
NICE=${NICE:-0}
mkdir -p "$OUT"

# one line per run: grid policy extra --set arguments. Cheap grids first, and in each grid the
# learners and the fixed omegas from 1.95 down, so that an interrupted sweep has the figures that
# matter (the best fixed omega lies at the high end on the large grids); the PETSc references last.
jobs_list() {
  for n in $GRIDS; do
    echo "$n tsallis_inf --set solver.type=ssor_cg --set solver.omega.tune=tsallis_inf --set solver.omega.context=none --set solver.omega.state='\"\"'"
    echo "$n tsallis_inf_cb --set solver.type=ssor_cg --set solver.omega.tune=tsallis_inf_cb --set solver.omega.state='\"\"'"
    echo "$n chebcb --set solver.type=ssor_cg --set solver.omega.tune=chebcb --set solver.omega.state='\"\"'"
    for i in $(seq 19 -1 0); do
      w=$(printf '%.2f' "$(echo "1.0 + 0.05*$i" | bc -l)")
      echo "$n fixed_$w --set solver.type=ssor_cg --set solver.omega.value=$w"
    done
    echo "$n cg_icc --set solver.type=petsc --set solver.ksp=cg --set solver.pc=icc"
    echo "$n cg_none --set solver.type=petsc --set solver.ksp=cg --set solver.pc=none"
  done
}

run_one() {  # grid policy args...
  local n=$1 pol=$2; shift 2
  local d="$OUT/$n/$pol"
  if [ -f "$d/summary.json" ]; then return 0; fi
  mkdir -p "$d"
  uptime > "$d/uptime.txt"
  local cfg=apps/configs/heat.yaml
  case $pol in fixed_*|cg_*) cfg=$OUT/heat_no_omega.yaml ;; esac
  echo "$FLUXION run $cfg --set 'grid.cells=[$n,$n]' --set time.steps=$STEPS --set output.every=1000000 $* -o $d" > "$d/command.txt"
  nice -n "$NICE" /usr/bin/time -f "%e s wall, %U s user, %M KB" -o "$d/time.txt" \
    "$FLUXION" run "$cfg" --set "grid.cells=[$n,$n]" --set "time.steps=$STEPS" \
      --set output.every=1000000 "$@" -o "$d" > "$d/log.txt" 2>&1 || echo "FAILED $n $pol" >&2
  uptime >> "$d/uptime.txt"
  rm -f "$d/run.h5" "$d/run.xdmf"
  echo "$(date +%T) done $n $pol: $(head -1 "$d/time.txt") | $(tail -1 "$d/uptime.txt" | sed 's/.*load/load/')"
}
export -f run_one; export FLUXION OUT STEPS NICE

# heat.yaml without its solver.omega block (fixed omega and the PETSc references: a context, a
# learner or a state file may not be set there); everything else identical
awk '/^  omega:/{skip=1; next} skip && /^    /{next} {skip=0; print}' apps/configs/heat.yaml > "$OUT/heat_no_omega.yaml"
# a continued sweep keeps the first start's date and load, and appends its own command line
lscpu > "$OUT/lscpu.txt"
[ -f "$OUT/date.txt" ] || { date -Is > "$OUT/date.txt"; uptime > "$OUT/uptime_start.txt"; }
git describe --always --dirty > "$OUT/git.txt" 2>/dev/null || true
echo "$(date -Is): bench/heat_sequence.sh $OUT (FLUXION=$FLUXION STEPS=$STEPS JOBS=$JOBS GRIDS=\"$GRIDS\" NICE=$NICE${POLICIES:+ POLICIES=\"$POLICIES\"})" >> "$OUT/command.txt"
selected() {  # jobs_list, or only the POLICIES in their order
  if [ -z "${POLICIES:-}" ]; then jobs_list; return; fi
  local all; all=$(jobs_list)
  for n in $GRIDS; do for p in $POLICIES; do awk -v n="$n" -v p="$p" '$1 == n && $2 == p' <<<"$all"; done; done
}
selected | xargs -P "$JOBS" -L 1 bash -c 'run_one "$@"' _
uptime > "$OUT/uptime_end.txt"
