#!/usr/bin/env bash
# DCDM against CG and ICC-CG on white-noise right-hand sides (zero on solid cells) of the training
# domains of the shipped models, at the training size and larger (`fluxion eval`): iterations to
# relative residuals 1e-4 and 1e-6 and seconds. White noise holds every eigenmode equally: the
# hardest right-hand side for a network trained on low-frequency-weighted Ritz vectors.
# Usage: bench/dcdm_eval.sh [RESULT.md]
#   env: FLUXION=build/release/apps/fluxion/fluxion CASES="2d64 2d128 2d256 3d32"
#        MODEL_2D, MODEL_3D: other model files (default: the shipped data/models/dcdm_{2d,3d})
set -euo pipefail
cd "$(dirname "$0")/.."
FLUXION=${FLUXION:-build/release/apps/fluxion/fluxion}
CASES=${CASES:-"2d64 2d128 2d256 3d32"}
MODEL_2D=$(realpath "${MODEL_2D:-data/models/dcdm_2d/model.pt}")
MODEL_3D=$(realpath "${MODEL_3D:-data/models/dcdm_3d/model.pt}")
RESULT=${1:-bench/results/dcdm_eval_$(date +%F).md}
WORK=$(mktemp -d /tmp/dcdm_eval.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/2d.yaml" <<YAML
model: dcdm
grid: {cells: [64, 64], lower: [0, 0], upper: [1, 1]}
boundary:
  y_upper: {type: dirichlet, value: "0"}
obstacles:
  - {type: circle, center: [0.5, 0.55], radius: 0.12}
model_file: $MODEL_2D
max_iterations: 600
YAML
cat > "$WORK/3d.yaml" <<YAML
model: dcdm
grid: {cells: [32, 32, 32], lower: [0, 0, 0], upper: [1, 1, 1]}
boundary:
  z_upper: {type: dirichlet, value: "0"}
obstacles:
  - {type: sphere, center: [0.5, 0.5, 0.55], radius: 0.15}
model_file: $MODEL_3D
max_iterations: 400
YAML
declare -A CFG=([2d64]=2d [2d128]=2d [2d256]=2d [3d32]=3d [3d64]=3d [3d128]=3d)
declare -A CELLS=([2d64]="[64,64]" [2d128]="[128,128]" [2d256]="[256,256]" [3d32]="[32,32,32]" [3d64]="[64,64,64]" [3d128]="[128,128,128]")
{
  echo "# DCDM vs CG on white-noise right-hand sides ($(date +%F))"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs; one rank."
  echo "Models: $MODEL_2D, $MODEL_3D"
  echo "Command: bench/dcdm_eval.sh (CASES=\"$CASES\"). Iterations to 1e-4 / 1e-6 (-1: not within the cap), seconds to 1e-6 (network share)."
  echo
  echo "| case | DCDM | CG | ICC-CG | DCDM s (network s) | ICC-CG s |"
  echo "|---|---|---|---|---|---|"
} > "$RESULT"
for c in $CASES; do
  "$FLUXION" eval "$WORK/${CFG[$c]}.yaml" -o "$WORK/$c" --set "grid.cells=${CELLS[$c]}" >/dev/null
  /usr/bin/python3 - "$WORK/$c/summary.json" "$c" >> "$RESULT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
its = lambda k: f'{r[k]["iterations"]["1e-04"]} / {r[k]["iterations"]["1e-06"]}'
print(f'| {sys.argv[2]} | {its("dcdm")} | {its("cg")} | {its("cg+icc")} | '
      f'{r["dcdm"]["seconds"]:.2f} ({r["dcdm"]["network_seconds"]:.2f}) | {r["cg+icc"]["seconds"]:.3f} |')
PY
done
cat "$RESULT"
