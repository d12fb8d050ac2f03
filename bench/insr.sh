#!/usr/bin/env bash
# INSR (issue 11) end to end on one core each, one run after the other (about 65 minutes):
#  1. 1D advection, 240 steps, L-BFGS (apps/configs/insr_advection.yaml);
#  2. the same for the first 24 steps with the other optimisers (Adam as the authors run it, with
#     plateau decay and new points every iteration; Levenberg-Marquardt) and integrators (implicit and
#     explicit Euler);
#  3. the Taylor-Green vortex, 100 steps (apps/configs/insr_taylor_green.yaml);
#  4. the falling elastic square, 50 steps (apps/configs/insr_elasticity.yaml);
#  5. the grid baselines: 1D advection schemes at the networks' memory (bench/insr_grid_advection.py)
#     and fluxion's MAC solver on the Taylor-Green vortex (bench/insr_mac_taylor_green.py), at the
#     networks' memory and with smaller steps;
#  6. bench/insr_report.py: bench/results/insr_<date>.md and the figures of docs/insr.md (with the
#     Taylor-Green splitting carried out exactly in space, bench/insr_splitting_reference.py).
#   bench/insr.sh [build dir, default build/release]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
fluxion="$build/apps/fluxion/fluxion"
out=fluxion-out
export OMP_NUM_THREADS=1
"$fluxion" run apps/configs/insr_advection.yaml -o $out/insr_advection > $out/insr_advection.log 2>&1
short=(--set time.steps=24)
"$fluxion" run apps/configs/insr_advection.yaml "${short[@]}" \
  --set 'optimizer=[{method: adam, iterations: 5000, learning_rate: 1.0e-4, resample: true}]' \
  -o $out/insr_advection_adam > $out/insr_advection_adam.log 2>&1
"$fluxion" run apps/configs/insr_advection.yaml "${short[@]}" \
  --set 'optimizer=[{method: gauss_newton, iterations: 10, cg_iterations: 30}]' \
  -o $out/insr_advection_gauss_newton > $out/insr_advection_gauss_newton.log 2>&1
for integrator in implicit_euler explicit_euler; do
  "$fluxion" run apps/configs/insr_advection.yaml "${short[@]}" --set advection.integrator=$integrator \
    -o $out/insr_advection_$integrator > $out/insr_advection_$integrator.log 2>&1
done
"$fluxion" run apps/configs/insr_taylor_green.yaml -o $out/insr_taylor_green > $out/insr_taylor_green.log 2>&1
"$fluxion" run apps/configs/insr_elasticity.yaml -o $out/insr_elasticity > $out/insr_elasticity.log 2>&1
/usr/bin/python3 bench/insr_grid_advection.py --json $out/insr_grid_advection.json
/usr/bin/python3 bench/insr_grid_advection.py --convergence --json $out/insr_grid_advection_convergence.json > /dev/null
/usr/bin/python3 bench/insr_mac_taylor_green.py --fluxion "$fluxion" --json $out/insr_mac_taylor_green.json
/usr/bin/python3 bench/insr_mac_taylor_green.py --fluxion "$fluxion" --cells 128 --min-substeps 16 64 \
  --work $out/insr_mac_tg_fine --json $out/insr_mac_taylor_green_fine.json
/usr/bin/python3 bench/insr_report.py --runs $out
