#!/usr/bin/env bash
# Iteration counts of the 3D Poisson benchmark problem (poisson_overhead: -lap u = 1 on [0,1]^3,
# Dirichlet, n^3 cells, CG, rtol 1e-8) against the grid, for CG + PETSc's PCMG, CG + fluxion_mg and CG + SSOR:
# how each preconditioner's count grows with n (docs/benchmarks.md, "Which PC by default").
# Counts are deterministic; it writes bench/results/poisson_iterations_<date>.md (builds nothing).
#
#   bench/poisson_iterations.sh PATH/poisson_overhead [N ...]     (default N: 16 32 64 128)
set -euo pipefail
if [[ $# -lt 1 ]]; then
  sed -n '2,7p' "$0" >&2
  exit 2
fi
BIN_ARG=$1; BIN=$(readlink -f "$1"); shift
SIZES=${*:-16 32 64 128}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$HERE/results/poisson_iterations_$(date +%F).md}
{
  echo "# Poisson 3D: CG iterations against the grid (mg, fluxion_mg, SSOR)"
  echo
  echo "- date: $(date -Is); machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; 1 MPI rank"
  echo "- source tree: \`$(git -C "$HERE" describe --always --dirty 2>/dev/null || echo '?')\`"
  echo "- command: \`bench/poisson_iterations.sh $BIN_ARG $SIZES\`, i.e. per n and pc: \`poisson_overhead -bench_n N -bench_pc PC\` (\`-pc_sor_symmetric\` for sor)"
  echo "- problem: -lap u = 1 on [0,1]^3, homogeneous Dirichlet, cell-centred 7-point stencil; CG, rtol 1e-8, x0 = 0"
  echo
  echo "| cells | mg (PCMG, Galerkin) | fluxion_mg | sor (SSOR) |"
  echo "|---|---|---|---|"
  for n in $SIZES; do
    row="| ${n}^3 |"
    for pc in ${PCS:-mg fluxion_mg sor}; do
      extra=""; [[ $pc == sor ]] && extra="-pc_sor_symmetric"
      # shellcheck disable=SC2086
      line=$("$BIN" -bench_n "$n" -bench_pc "$pc" $extra | grep '^RESULT ')
      its=$(sed -n 's/.* its=\([0-9]*\) converged=\([01]\).*/\1/p' <<<"$line")
      conv=$(sed -n 's/.* converged=\([01]\).*/\1/p' <<<"$line")
      [[ $conv == 1 ]] || its="$its (not converged)"
      row="$row $its |"
    done
    echo "$row"
  done
} > "$OUT"
cat "$OUT"
