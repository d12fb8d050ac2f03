#!/usr/bin/env bash
# The goals of issue 6 beyond the side-by-side table (bench/pressure_solvers.sh): fluxion_mg's CG
# iterations against the grid (3D 32^3..256^3 through poisson_overhead, 2D 256^2..4096^2 through
# `fluxion run`), with and without obstacles (the 2D default run's wing and hole, the sphere of
# apps/configs/poisson3d.yaml, the wing in a 3D box), under strong coefficient jumps against PCMG,
# GAMG and BoomerAMG, and on 1 and 2 ranks. Writes bench/results/mg_goals_<date>.md.
#
#   bench/mg_goals.sh BUILD_DIR            (e.g. build/release)
#   env  SIZES3="32 64 128 256"  SIZES2="256 512 1024 2048 4096"  OUT_DIR=bench/results
set -euo pipefail
if [[ $# -lt 1 ]]; then
  sed -n '2,9p' "$0" >&2
  exit 2
fi
BUILD=$(readlink -f "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
FLUXION=$BUILD/apps/fluxion/fluxion
OVERHEAD=$BUILD/bench/poisson_overhead
SIZES3=${SIZES3:-32 64 128 256}
SIZES2=${SIZES2:-256 512 1024 2048 4096}
OUT_DIR=${OUT_DIR:-$HERE/results}
OUT=$OUT_DIR/mg_goals_$(date +%F).md
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT_DIR"

# run NAME CONFIG [--set ...]: `fluxion run`, then "iterations setup_s solve_s" from summary.json.
run() {
  local name=$1 cfg=$2
  shift 2
  "$FLUXION" run "$cfg" -o "$WORK/$name" "$@" > "$WORK/$name.log" 2>&1 || { echo "failed: see $WORK/$name.log" >&2; cat "$WORK/$name.log" >&2; exit 1; }
  /usr/bin/python3 - "$WORK/$name/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["results"]["solve"]
its = str(s["iterations"]) + ("" if s["converged"] else " (not converged)")
print(its, "%.3f" % s["setup_seconds"], "%.3f" % (s["seconds"] - s["setup_seconds"]))
PY
}

# overhead N PC [mpi ranks]: "iterations assemble setup solve" from poisson_overhead's RESULT line.
overhead() {
  local n=$1 pc=$2 ranks=${3:-1} line
  if [[ $ranks == 1 ]]; then
    line=$("$OVERHEAD" -bench_n "$n" -bench_pc "$pc" | grep '^RESULT ')
  else
    line=$(mpiexec --allow-run-as-root --oversubscribe -n "$ranks" "$OVERHEAD" -bench_n "$n" -bench_pc "$pc" | grep -m1 '^RESULT ')
  fi
  local f
  for f in its assemble setup solve; do sed -n "s/.* $f=\([0-9.e+-]*\).*/\1/p" <<<"$line"; done | paste -sd' '
}

dirichlet() {  # NAME DIM N K: -div(k grad u) = 1 on the unit square / cube, N^DIM cells, u = 0 on every face
  local name=$1 dim=$2 n=$3 k=$4 faces="x y" cells="$3, $3" lower="0, 0" upper="1, 1" f
  if [[ $dim == 3 ]]; then faces="x y z"; cells="$n, $n, $n"; lower="0, 0, 0"; upper="1, 1, 1"; fi
  {
    echo "app: poisson"
    echo "grid: {cells: [$cells], lower: [$lower], upper: [$upper]}"
    echo "problem: {k: \"$k\", source: \"1\"}"
    echo "boundary:"
    for f in $faces; do
      echo "  ${f}_lower: {type: dirichlet, value: \"0\"}"
      echo "  ${f}_upper: {type: dirichlet, value: \"0\"}"
    done
  } > "$WORK/$name.yaml"
  echo "$WORK/$name.yaml"
}

# A 3D box around the NACA wing of meshes/ (a smoke-scene-like obstacle): closed walls, inflow
# potential on x.
cat > "$WORK/wing3d.yaml" <<EOF
app: poisson
grid: {cells: [128, 64, 64], lower: [0, 0, 0], upper: [2, 1, 1]}
problem: {k: "1", source: "0"}
boundary:
  x_lower: {type: dirichlet, value: "1"}
  x_upper: {type: dirichlet, value: "0"}
  y_lower: {type: neumann, value: "0"}
  y_upper: {type: neumann, value: "0"}
  z_lower: {type: neumann, value: "0"}
  z_upper: {type: neumann, value: "0"}
obstacles:
  - {type: mesh, file: $ROOT/meshes/naca0012_wing.stl, scale: 0.6, translate: [0.7, 0.5, 0.5], rotate_z: -10}
EOF

CHECKER='1 + 9999*(sin(4*pi*x)*sin(4*pi*y)*sin(4*pi*z) > 0)'
TWOPHASE='3 + 9*(sin(7.3*x+1)*cos(6.1*y-0.4) + 0.6*sin(13.1*x*y+2.1) + 0.3*cos(17*x-11*y) >= 0)'

{
  echo "# fluxion_mg against the goals of issue 6"
  echo
  echo "- date: $(date -Is); machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- source tree: \`$(git -C "$HERE" describe --always --dirty 2>/dev/null || echo '?')\`"
  echo "- command: \`bench/mg_goals.sh ${1}\` (SIZES3=\"$SIZES3\", SIZES2=\"$SIZES2\"); CG to rtol 1e-8 from x0 = 0 throughout; seconds are single runs"
  echo
  echo "## Iterations against the grid (goal: <= 12 at every size)"
  echo
  echo "3D: -lap u = 1 on the unit cube, homogeneous Dirichlet (\`poisson_overhead -bench_n N -bench_pc fluxion_mg\`):"
  echo
  echo "| cells | iterations | assemble s | setup s | solve s |"
  echo "|---|---|---|---|---|"
  for n in $SIZES3; do
    read -r its a s v <<<"$(overhead "$n" fluxion_mg)"
    echo "| ${n}^3 | $its | $a | $s | $v |"
  done
  echo
  echo "2D: -lap u = 1 on the unit square, homogeneous Dirichlet (\`fluxion run\`, pc fluxion_mg):"
  echo
  echo "| cells | iterations | setup s | solve s |"
  echo "|---|---|---|---|"
  for n in $SIZES2; do
    read -r its s v <<<"$(run "square$n" "$(dirichlet "square$n" 2 "$n" 1)")"
    echo "| ${n}^2 | $its | $s | $v |"
  done
  echo
  echo "## Obstacles (goal: iterations <= 1.5x the obstacle-free count at the same size)"
  echo
  echo "| case | cells | with obstacles | without | ratio |"
  echo "|---|---|---|---|---|"
  case_number=0
  obstacle_row() {  # label cells config [--set ...]
    local label=$1 cells=$2 cfg=$3
    shift 3
    local with without
    case_number=$((case_number + 1))
    read -r with _ _ <<<"$(run "obstacles_$case_number" "$cfg" "$@")"
    read -r without _ _ <<<"$(run "free_$case_number" "$cfg" "$@" --set 'obstacles=[]')"
    echo "| $label | $cells | $with | $without | $(/usr/bin/python3 -c "print('%.2f' % (${with%% *} / ${without%% *}))") |"
  }
  obstacle_row "2D plate: NACA wing + hole (apps/configs/default.yaml)" "256 x 128" "$ROOT/apps/configs/default.yaml"
  obstacle_row "2D plate: NACA wing + hole" "1024 x 512" "$ROOT/apps/configs/default.yaml" --set 'grid.cells=[1024,512]'
  obstacle_row "3D sphere (apps/configs/poisson3d.yaml)" "128 x 64 x 64" "$ROOT/apps/configs/poisson3d.yaml" --set 'grid.cells=[128,64,64]'
  obstacle_row "3D NACA wing in a box" "128 x 64 x 64" "$WORK/wing3d.yaml"
  echo
  echo "## Strong coefficient jumps (fluxion_mg against PCMG, GAMG, BoomerAMG)"
  echo
  echo "- two-phase: k = 12 / 3 on a fixed smooth level set, \`$TWOPHASE\`, 256^2 cells (the Darcy field of issue 9 is a Gaussian random field; this is a deterministic stand-in)"
  echo "- checkerboard: k = 1 / 10^4 on 4^3 blocks, \`$CHECKER\`, 64^3 cells"
  echo
  echo "| case | pc | iterations | setup s | solve s |"
  echo "|---|---|---|---|---|"
  twophase=$(dirichlet twophase 2 256 "$TWOPHASE")
  checker=$(dirichlet checker 3 64 "$CHECKER")
  # fluxion_mg picks its transfers (auto: constant ones under strong jumps); fluxion_mg_linear
  # forces the linear pair (petsc: {pc_fluxion_mg_prolongation: linear}) to show what auto avoids.
  jump_row() {  # label config pc
    local extra=(--set "solver.pc=${3%_linear}")
    [[ $3 == *_linear ]] && extra+=(--set petsc.pc_fluxion_mg_prolongation=linear)
    read -r its s v <<<"$(run "jump_$(basename "$2" .yaml)_$3" "$2" "${extra[@]}")"
    echo "| $1 | $3 | $its | $s | $v |"
  }
  for pc in fluxion_mg fluxion_mg_linear mg gamg hypre; do jump_row "two-phase 12/3, 256^2" "$twophase" $pc; done
  for pc in fluxion_mg fluxion_mg_linear mg gamg hypre; do jump_row "checkerboard 1/10^4, 64^3" "$checker" $pc; done
  echo
  echo "## 1 and 2 ranks (goal: iterations within +-1)"
  echo
  echo "\`poisson_overhead -bench_n 128 -bench_pc fluxion_mg\`, under \`mpiexec -n 2\` for 2 ranks; parallel efficiency = (setup + solve on 1) / (2 x (setup + solve on 2))"
  echo
  echo "| ranks | iterations | assemble s | setup s | solve s | efficiency |"
  echo "|---|---|---|---|---|---|"
  read -r its1 a1 s1 v1 <<<"$(overhead 128 fluxion_mg 1)"
  read -r its2 a2 s2 v2 <<<"$(overhead 128 fluxion_mg 2)"
  echo "| 1 | $its1 | $a1 | $s1 | $v1 | |"
  echo "| 2 | $its2 | $a2 | $s2 | $v2 | $(/usr/bin/python3 -c "print('%.2f' % (($s1 + $v1) / (2 * ($s2 + $v2))))") |"
  echo
  echo "- load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT"
cat "$OUT"
