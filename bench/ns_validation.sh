#!/usr/bin/env bash
# Validation studies of the flow solvers (issue 7, "Validation"), one simulation at a time:
#   cavity      lid-driven cavity, Re 100/400/1000 at 64^2 and 128^2 (apps/configs/cavity_re<Re>.yaml,
#               implicit viscosity, time.steady_tolerance 1e-5 as in the configs): deviation from
#               Ghia et al. (1982), steps, CPU seconds, steady time; figures docs/img/cavity_re<Re>.png
#   tg          Taylor-Green vortex with the projection solver on the periodic [0, 2 pi]^2, nu 0.05, to
#               t = 1: (a) CFL 0.5 (space and time refined together), (b) a fixed small dt with
#               implicit viscosity (space alone), (c) 64^2 with dt halved (time alone)
#   poiseuille  steady channel flow [0, 2] x [0, 1], u = 4 y (1 - y) in and initially, outflow, walls,
#               nu 0.1, implicit viscosity, to t = 2: error of u on x = 1 (spatial order)
#   spectral    Taylor-Green with the spectral solver (apps/configs/spectral_taylor_green.yaml,
#               if_rk4 and cn_rk2): energy against the exact decay
# Every run's max |div u| after projection comes from its summary.json. bench/ns_validation.py reads
# all runs found in the work folder and writes the result file and the figures.
#
#   bench/ns_validation.sh [--only "cavity tg poiseuille spectral"] [--cavity-re "100 400 1000"]
#                          [--cavity-n "64 128"] [--tg-n "16 32 64 128"] [--work DIR]
#                          [--results FILE] [--img-dir DIR] [--reuse] [--report-only]
#
#   --work         run outputs (default /tmp/fluxion-ns-validation; never the repository)
#   --results      default bench/results/ns_validation_<date>.md
#   --reuse        keep a run whose summary.json says "completed" (same command line) instead of
#                  running it again
#   --report-only  run nothing; write the result file from the runs in the work folder
#
# Time on 2 shared cores: cavity about 4 min (Re 1000 at 128^2: 2 min), the rest about 2 min.
# Requires the fluxion build (build/release) and /usr/bin/python3 with numpy, h5py, matplotlib.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FLUXION="${FLUXION:-build/release/apps/fluxion/fluxion}"
PY=/usr/bin/python3
only="cavity tg poiseuille spectral"
cavity_re="100 400 1000"
cavity_n="64 128"
tg_n="16 32 64 128"
work=/tmp/fluxion-ns-validation
results=""
img_dir=docs/img
reuse=false
report_only=false
args_given="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only="$2"; shift 2 ;;
    --cavity-re) cavity_re="$2"; shift 2 ;;
    --cavity-n) cavity_n="$2"; shift 2 ;;
    --tg-n) tg_n="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --results) results="$2"; shift 2 ;;
    --img-dir) img_dir="$2"; shift 2 ;;
    --reuse) reuse=true; shift ;;
    --report-only) report_only=true; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "ns_validation.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$results" ] || results="bench/results/ns_validation_$(date +%F).md"
[ -x "$FLUXION" ] || { echo "ns_validation.sh: $FLUXION not built (scripts/setup)" >&2; exit 3; }
mkdir -p "$work/cfg" "$(dirname "$results")" "$img_dir"
wants() { case " $only " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

source bench/fluxion_runs.sh   # run NAME CONFIG [--set ...]

# --- configs written here (the solver's own configs are used where they exist) ---------------------
cat > "$work/cfg/taylor_green.yaml" <<'EOF'
# Taylor-Green vortex on the periodic [0, 2 pi]^2: u = sin x cos y e^(-2 nu t), v = -cos x sin y e^(-2 nu t)
app: navier_stokes
title: "Taylor-Green vortex (projection solver)"
grid:
  cells: [32, 32]
  lower: [0, 0]
  upper: [6.283185307179586, 6.283185307179586]
boundary:
  x_lower: {type: periodic}
  x_upper: {type: periodic}
  y_lower: {type: periodic}
  y_upper: {type: periodic}
initial:
  u: "sin(x)*cos(y)"
  v: "-cos(x)*sin(y)"
viscosity:
  scheme: implicit
fluid:
  nu: 0.05
time:
  end: 1
output:
  interval: 0.25
EOF
cat > "$work/cfg/poiseuille.yaml" <<'EOF'
# Plane Poiseuille flow in the channel [0, 2] x [0, 1]: u = 4 y (1 - y), v = 0, dp/dx = -8 nu (steady)
app: navier_stokes
title: "Plane Poiseuille flow"
grid:
  cells: [32, 16]
  lower: [0, 0]
  upper: [2, 1]
boundary:
  x_lower: {type: inflow, u: "4*y*(1-y)"}
  x_upper: {type: outflow}
  y_lower: {type: wall}
  y_upper: {type: wall}
initial:
  u: "4*y*(1-y)"
viscosity:
  scheme: implicit
fluid:
  nu: 0.1
time:
  end: 2
  cfl: 0.5
output:
  interval: 1
EOF

if wants cavity; then
  for re_number in $cavity_re; do
    for n in $cavity_n; do
      run "cavity_re${re_number}_n${n}" "apps/configs/cavity_re${re_number}.yaml" --set "grid.cells=[$n,$n]"
    done
  done
fi
if wants tg; then
  # Implicit viscosity throughout (the config): with explicit viscosity the viscous limit
  # dt <= h^2 / (4 nu) binds below CFL 0.5 from 128^2 on, so (a) would not refine dt with h.
  for n in $tg_n; do   # (a) CFL 0.5 = dt (max|u| + max|v|) / h: dt = h / 4, space and time together
    run "tg_cfl_n${n}" "$work/cfg/taylor_green.yaml" --set "grid.cells=[$n,$n]" --set time.cfl=0.5
  done
  # (b) and (c) use a fixed dt: before 309027b (the pressure increment starts from zero) the PETSc
  # pressure solve failed there at step 2 ("DIVERGED_DTOL in 0 iterations"); it needs that build.
  for n in $tg_n; do   # (b) fixed dt 0.002 and 0.001: their Richardson extrapolation in time
    # (2 u_0.001 - u_0.002, the scheme being first order in time; see (c)) leaves the spatial error
    run "tg_dt_n${n}" "$work/cfg/taylor_green.yaml" --set "grid.cells=[$n,$n]" --set time.dt=0.002
    run "tg_dth_n${n}" "$work/cfg/taylor_green.yaml" --set "grid.cells=[$n,$n]" --set time.dt=0.001
  done
  for dt in 0.02 0.01 0.005 0.0025; do   # (c) 128^2, dt halved: the temporal error (CFL 1 is dt 0.0245)
    run "tg_time_dt${dt}" "$work/cfg/taylor_green.yaml" --set "grid.cells=[128,128]" --set "time.dt=$dt" \
      --set output.interval=1
  done
fi
if wants poiseuille; then
  for n in 8 16 32 64; do
    run "poiseuille_n${n}" "$work/cfg/poiseuille.yaml" --set "grid.cells=[$((2 * n)),$n]"
  done
fi
if wants spectral; then
  for scheme in if_rk4 cn_rk2; do
    run "spectral_tg_${scheme}" apps/configs/spectral_taylor_green.yaml --set "time.scheme=$scheme"
  done
fi

cpu_model="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
$PY bench/ns_validation.py report --work "$work" --results "$results" --img-dir "$img_dir" \
  --machine "$cpu_model, $(nproc) cores" --load "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --command "bench/ns_validation.sh${args_given:+ $args_given}" --fluxion "$FLUXION"
echo "wrote $results"
