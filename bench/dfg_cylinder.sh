#!/usr/bin/env bash
# The DFG cylinder benchmarks of Schafer & Turek (1996) with the navier_stokes app (issue 7,
# "Validation"), one simulation at a time:
#   2D-1  steady, Re 20 (apps/configs/cylinder_dfg_2d1.yaml, implicit viscosity, steady tolerance
#         STEADY_TOL, default 1e-4) at D/h = 10, 20 (and 40 with --fine): c_D and c_L at the end
#         against the published intervals (data/reference/dfg_2d.json) and the observed order
#   2D-2  periodic, Re 100 (apps/configs/cylinder_dfg_2d2.yaml, implicit viscosity) to t = T_END
#         (default 14) at D/h = 10 and 20: c_D max, c_L max over the last WINDOW s (default 3) and the
#         Strouhal number St = f D / U_mean from the lift signal (zero crossings and an FFT)
# bench/dfg_cylinder.py writes the table and docs/img/dfg_2d2_lift.png.
#
#   bench/dfg_cylinder.sh [--only "2d1 2d2"] [--fine] [--work DIR] [--results FILE] [--img-dir DIR]
#                         [--reuse] [--report-only]
#
#   --fine         also 2D-1 at 880 x 164 (D/h = 40: about 6 min on 2 shared cores; the rest: 5 min)
#   --work         run outputs (default /tmp/fluxion-dfg-cylinder; never the repository)
#   --results      default bench/results/dfg_cylinder_<date>.md
#   --reuse        keep a completed run with the same command line
#   --report-only  run nothing; write the report from what is in the work folder
#
# Grids: the channel is 2.2 x 0.41 and D = 0.1, so D/h = 10 is 220 x 41 cells (h = 0.01).
# Requires the fluxion build (build/release) and /usr/bin/python3 with numpy, matplotlib.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FLUXION="${FLUXION:-build/release/apps/fluxion/fluxion}"
PY=/usr/bin/python3
STEADY_TOL="${STEADY_TOL:-1e-4}"
T_END="${T_END:-14}"
WINDOW="${WINDOW:-3}"
only="2d1 2d2"
fine=false
work=/tmp/fluxion-dfg-cylinder
results=""
img_dir=docs/img
reuse=false
report_only=false
args_given="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only="$2"; shift 2 ;;
    --fine) fine=true; shift ;;
    --work) work="$2"; shift 2 ;;
    --results) results="$2"; shift 2 ;;
    --img-dir) img_dir="$2"; shift 2 ;;
    --reuse) reuse=true; shift ;;
    --report-only) report_only=true; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "dfg_cylinder.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$results" ] || results="bench/results/dfg_cylinder_$(date +%F).md"
[ -x "$FLUXION" ] || { echo "dfg_cylinder.sh: $FLUXION not built (scripts/setup)" >&2; exit 3; }
mkdir -p "$work" "$(dirname "$results")" "$img_dir"
wants() { case " $only " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

source bench/fluxion_runs.sh   # run NAME CONFIG [--set ...]

if wants 2d1; then
  grids="220x41 440x82"
  $fine && grids="$grids 880x164"
  for g in $grids; do
    run "dfg2d1_${g}" apps/configs/cylinder_dfg_2d1.yaml --set "grid.cells=[${g%x*},${g#*x}]" \
      --set viscosity.scheme=implicit --set "time.steady_tolerance=$STEADY_TOL" --set output.interval=100
  done
fi
if wants 2d2; then
  for g in 220x41 440x82; do
    run "dfg2d2_${g}" apps/configs/cylinder_dfg_2d2.yaml --set "grid.cells=[${g%x*},${g#*x}]" \
      --set viscosity.scheme=implicit --set "time.end=$T_END" --set output.interval=1
  done
fi

cpu_model="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
$PY bench/dfg_cylinder.py --work "$work" --results "$results" --img-dir "$img_dir" --window "$WINDOW" \
  --machine "$cpu_model, $(nproc) cores" --load "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --command "STEADY_TOL=$STEADY_TOL T_END=$T_END WINDOW=$WINDOW bench/dfg_cylinder.sh${args_given:+ $args_given}"
echo "wrote $results"
