#!/usr/bin/env bash
# The MgNO study of issue 9 end to end (about 65 minutes on 2 cores): the Darcy data at 64^2 and
# 128^2, MgNO, FNO and U-Net trained under one CPU budget each (1 thread, ~30 minutes; two
# trainings at a time, one per core), then bench/mgno_compare.py (table + plots).
#   bench/mgno_darcy.sh [build dir, default build/release]
set -euo pipefail
cd "$(dirname "$0")/.."
fluxion="${1:-build/release}/apps/fluxion/fluxion"
mpi=(mpirun --oversubscribe -n 2)
[[ $(id -u) -eq 0 ]] && mpi+=(--allow-run-as-root)
"${mpi[@]}" "$fluxion" run apps/configs/darcy_dataset.yaml
"${mpi[@]}" "$fluxion" run apps/configs/darcy_dataset.yaml --set 'dataset.cells=[128,128]' -o fluxion-out/darcy_dataset_128
"$fluxion" train apps/configs/mgno_darcy.yaml > fluxion-out/mgno_darcy.log 2>&1 &
mgno=$!
"$fluxion" train apps/configs/fno_darcy.yaml > fluxion-out/fno_darcy.log 2>&1
"$fluxion" train apps/configs/unet_darcy.yaml > fluxion-out/unet_darcy.log 2>&1
wait "$mgno"
/usr/bin/python3 bench/mgno_compare.py
