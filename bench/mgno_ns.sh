#!/usr/bin/env bash
# MgNO against FNO on 2D periodic Navier-Stokes (issue 9), end to end (about 35 minutes on 2
# cores): the data set from fluxion's spectral solver (66 trajectories x 60 snapshots at 64^2, if
# not there yet), MgNO and FNO trained side by side under one CPU budget each (1 thread, 30
# minutes), then bench/mgno_compare.py --study ns (one-step and 10-step rollout errors, plot).
#   bench/mgno_ns.sh [build dir, default build/release]
set -euo pipefail
cd "$(dirname "$0")/.."
fluxion="${1:-build/release}/apps/fluxion/fluxion"
if [[ ! -f fluxion-out/ns2d_small/run_test.h5 ]]; then
  mpi=(mpirun --oversubscribe -n 2)
  [[ $(id -u) -eq 0 ]] && mpi+=(--allow-run-as-root)
  "${mpi[@]}" "$fluxion" run apps/configs/ns2d_dataset.yaml --set dataset.trajectories=66 --set dataset.train=55 \
    --set dataset.validation=1 --set dataset.test=10 --set dataset.snapshots=60 -o fluxion-out/ns2d_small
fi
"$fluxion" train apps/configs/mgno_ns.yaml > fluxion-out/mgno_ns.log 2>&1 &
mgno=$!
"$fluxion" train apps/configs/fno_ns.yaml > fluxion-out/fno_ns.log 2>&1
wait "$mgno"
/usr/bin/python3 bench/mgno_compare.py --study ns
