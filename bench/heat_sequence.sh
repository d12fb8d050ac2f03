#!/usr/bin/env bash
# Benchmark 2 of issue 3: the heat-equation sequence of "Learning to Relax" (experiment (b)) with
# SSOR-preconditioned CG, omega fixed or chosen per step by an online learner.
#   apps/configs/heat.yaml (Crank-Nicolson, dt = 1e-3, kappa(t), moving bump), time.steps = STEPS,
#   grids 25, 50, 100, 200 per side; policies:
#     fixed omega 1.0 1.2 1.4 1.6 1.8 (ssor_cg, tune none), Tsallis-INF, Tsallis-INF-CB and ChebCB
#     (context kappa_dt on [0, 0.01], 20 arms 1.0..1.95, seed 0), unpreconditioned CG (petsc cg/none),
#     PETSc ICC-CG (petsc cg/icc); all rtol 1e-8, warm start from the previous step.
#   At grids in ARMGRIDS also the 15 other values of the 20-arm grid as fixed policies (for the
#   approximate instance-optimal policy: per-step minimum over the 20 fixed runs).
# Usage: bench/heat_sequence.sh [OUTDIR]   (env: STEPS=5000 JOBS=2 GRIDS="200 100 50 25" ARMGRIDS="25 50")
# then:  /usr/bin/python3 bench/heat_sequence.py OUTDIR bench/results/heat_sequence_<date>.md docs/img
set -euo pipefail
cd "$(dirname "$0")/.."
FLUXION=${FLUXION:-build/release/apps/fluxion/fluxion}
OUT=${1:-/tmp/heat_sequence}
STEPS=${STEPS:-5000}
JOBS=${JOBS:-2}
GRIDS=${GRIDS:-"200 100 50 25"}
ARMGRIDS=${ARMGRIDS-"25 50"}
mkdir -p "$OUT"

# one line per run: grid policy extra --set arguments
jobs_list() {
  for n in $GRIDS; do
    for w in 1.00 1.20 1.40 1.60 1.80; do
      echo "$n fixed_$w --set solver.type=ssor_cg --set solver.omega.value=$w"
    done
    echo "$n tsallis_inf --set solver.type=ssor_cg --set solver.omega.tune=tsallis_inf --set solver.omega.context=none"
    echo "$n tsallis_inf_cb --set solver.type=ssor_cg --set solver.omega.tune=tsallis_inf_cb"
    echo "$n chebcb --set solver.type=ssor_cg --set solver.omega.tune=chebcb"
    echo "$n cg_none --set solver.type=petsc --set solver.ksp=cg --set solver.pc=none"
    echo "$n cg_icc --set solver.type=petsc --set solver.ksp=cg --set solver.pc=icc"
  done
  for n in $ARMGRIDS; do
    for i in $(seq 0 19); do
      w=$(printf '%.2f' "$(echo "1.0 + 0.05*$i" | bc -l)")
      case $w in 1.00|1.20|1.40|1.60|1.80) continue ;; esac
      echo "$n fixed_$w --set solver.type=ssor_cg --set solver.omega.value=$w"
    done
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
  echo "$FLUXION run $cfg --set grid.cells=[$n,$n] --set time.steps=$STEPS --set output.every=1000000 $* -o $d" > "$d/command.txt"
  /usr/bin/time -f "%e s wall, %U s user, %M KB" -o "$d/time.txt" \
    "$FLUXION" run "$cfg" --set "grid.cells=[$n,$n]" --set "time.steps=$STEPS" \
      --set output.every=1000000 "$@" -o "$d" > "$d/log.txt" 2>&1 || echo "FAILED $n $pol" >&2
  uptime >> "$d/uptime.txt"
  rm -f "$d/run.h5" "$d/run.xdmf"
  echo "$(date +%T) done $n $pol: $(cat "$d/time.txt" | head -1) | $(tail -1 "$d/uptime.txt" | sed 's/.*load/load/')"
}
export -f run_one; export FLUXION OUT STEPS

# heat.yaml without its solver.omega block (fixed omega and the PETSc references: a context or a
# learner may not be set there); everything else identical
awk '/^  omega:/{skip=1; next} skip && /^    /{next} {skip=0; print}' apps/configs/heat.yaml > "$OUT/heat_no_omega.yaml"
lscpu > "$OUT/lscpu.txt"; date -Is > "$OUT/date.txt"; uptime > "$OUT/uptime_start.txt"
jobs_list | xargs -P "$JOBS" -L 1 bash -c 'run_one "$@"' _
uptime > "$OUT/uptime_end.txt"
