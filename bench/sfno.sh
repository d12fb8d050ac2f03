#!/usr/bin/env bash
# SFNO, its FNO-3d baseline and Spectral-Refiner (issue 10), end to end on 2 cores (about an hour):
#  1. data (if not there): 110 trajectories of the paper's flow at 64^2 (100 train, 10 test; ~5 min
#     on 2 ranks) and the same 10 test trajectories simulated at 256^2 (dataset.first_index; ~2 min);
#  2. SFNO and FNO-3d trained side by side, one thread and 35 minutes each (if no model.pt yet);
#  3. eval on the 64^2 test windows and zero-shot on the 256^2 ones (both models);
#  4. Spectral-Refiner on the 256^2 windows (one thread: its wall time is its CPU time);
#  5. fluxion's spectral solver making the same 40 snapshots at 256^2 from a random field (1 rank);
#  6. bench/sfno_report.py: bench/results/sfno_<date>.md and the figures of docs/sfno.md.
#   bench/sfno.sh [build dir, default build/release]
set -euo pipefail
cd "$(dirname "$0")/.."
fluxion="${1:-build/release}/apps/fluxion/fluxion"
out=fluxion-out
mpi=(mpirun --oversubscribe -n 2)
[[ $(id -u) -eq 0 ]] && mpi+=(--allow-run-as-root)
if [[ ! -f $out/ns2d_sfno/run_test.h5 ]]; then
  "${mpi[@]}" "$fluxion" run apps/configs/ns2d_dataset.yaml --set dataset.trajectories=110 --set dataset.train=100 \
    --set dataset.validation=0 --set dataset.test=10 -o $out/ns2d_sfno
fi
if [[ ! -f $out/ns2d_sfno_256/run_test.h5 ]]; then
  "${mpi[@]}" "$fluxion" run apps/configs/ns2d_dataset.yaml --set 'grid.cells=[256,256]' --set 'dataset.cells=[256,256]' \
    --set dataset.first_index=100 --set dataset.trajectories=10 --set dataset.train=0 --set dataset.validation=0 \
    --set dataset.test=10 -o $out/ns2d_sfno_256
fi
if [[ ! -f $out/sfno_ns/model.pt || ! -f $out/fno3d_ns/model.pt ]]; then
  "$fluxion" train apps/configs/sfno_ns.yaml > $out/sfno_ns.log 2>&1 &
  sfno=$!
  "$fluxion" train apps/configs/fno3d_ns.yaml > $out/fno3d_ns.log 2>&1
  wait "$sfno"
fi
export OMP_NUM_THREADS=1
for model in sfno fno3d; do
  eval_set=(--set model=$model --set model_file=$out/${model}_ns/model.pt)
  "$fluxion" eval apps/configs/sfno_ns_eval.yaml "${eval_set[@]}" -o $out/${model}_ns_eval
  "$fluxion" eval apps/configs/sfno_ns_eval.yaml "${eval_set[@]}" --set data.test=$out/ns2d_sfno_256/run_test.h5 \
    -o $out/${model}_ns_zeroshot
done
"$fluxion" eval apps/configs/sfno_ns_refine.yaml -o $out/sfno_ns_refine
"$fluxion" run apps/configs/ns2d_dataset.yaml --set 'grid.cells=[256,256]' --set 'dataset.cells=[256,256]' \
  --set dataset.first_index=100 --set dataset.trajectories=1 --set dataset.train=0 --set dataset.validation=0 \
  --set dataset.test=1 --set dataset.spinup=0 --set dataset.snapshots=40 -o $out/ns2d_sfno_solver_timing
/usr/bin/python3 bench/sfno_report.py
