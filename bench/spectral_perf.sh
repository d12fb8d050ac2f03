#!/usr/bin/env bash
# Issue 7's spectral goal: steps per second of the spectral_ns2d app at 256^2 and 1024^2 on 1 and
# 2 ranks (cn_rk2: 2 evaluations = 8 inverse + 2 forward FFTs per step; both FFTW MPI layouts on
# 2 ranks), against the time the step's own FFTs took in the same run (SpectralNs2d times every
# transform it runs); goal: a step within 2x of its FFTs. Kolmogorov flow from a random field,
# fixed dt 1e-4, FFTW_MEASURE plans; the best of REPS runs per row.
# Usage: bench/spectral_perf.sh [RESULT.md]
#   env: FLUXION=build/release/apps/fluxion/fluxion REPS=3 MPIEXEC=mpiexec
set -euo pipefail
cd "$(dirname "$0")/.."
FLUXION=${FLUXION:-build/release/apps/fluxion/fluxion}
REPS=${REPS:-3}
MPIEXEC=${MPIEXEC:-mpiexec}
RESULT=${1:-bench/results/spectral_perf_$(date +%F).md}
WORK=$(mktemp -d /tmp/spectral_perf.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

cat > "$WORK/perf.yaml" <<'YAML'
app: spectral_ns2d
problem: {viscosity: 1.0e-3, drag: 0.1, forcing: {type: kolmogorov, amplitude: 1.0, wavenumber: 4}}
initial: {type: random, alpha: 2.5, tau: 7.0, seed: 0}
time: {scheme: cn_rk2, dt: 1.0e-4, cfl: 0.5}
fft: {planner: measure}
YAML

rows=()
for spec in "256 1 transposed 400" "256 2 transposed 400" "256 2 slabs 400" \
            "1024 1 transposed 30" "1024 2 transposed 30" "1024 2 slabs 30"; do
  read -r n ranks layout steps <<< "$spec"
  end=$(/usr/bin/python3 -c "print($steps * 1e-4)")
  for rep in $(seq "$REPS"); do
    out="$WORK/n${n}_r${ranks}_${layout}_$rep"
    "$MPIEXEC" -n "$ranks" --oversubscribe --allow-run-as-root "$FLUXION" run "$WORK/perf.yaml" -o "$out" \
      --set "grid.cells=[$n,$n]" --set "fft.layout=$layout" --set "time.end=$end" --set "time.output_interval=$end" >/dev/null
  done
  rows+=("$n $ranks $layout $WORK/n${n}_r${ranks}_${layout}")
done

/usr/bin/python3 - "$RESULT" "$REPS" "$FLUXION" "${rows[@]}" <<'PY'
import json, pathlib, platform, subprocess, sys, datetime
result, reps, fluxion, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
lines = [f"# spectral_ns2d steps per second against its own FFTs ({datetime.date.today()})", "",
         f"Machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, "
         f"load before: {open('/proc/loadavg').read().split()[0]}; {platform.platform()}.",
         f"Command: `bench/spectral_perf.sh` (FLUXION={fluxion}); best of {reps} runs per row.",
         "Run: Kolmogorov flow from a random field, cn_rk2 (2 evaluations: 8 inverse + 2 forward real FFTs a step),",
         "fixed dt 1e-4, FFTW_MEASURE. `FFT s/step` is the time SpectralNs2d measured around its own FFTW calls",
         "during the same steps; `step / FFTs` the goal's ratio (goal: <= 2).", "",
         "| grid | ranks | layout | steps | steps/s | s/step | FFT s/step | step / FFTs |",
         "|---|---|---|---|---|---|---|---|"]
for row in rows:
    n, ranks, layout, prefix = row.split()
    best = None
    for rep in range(1, reps + 1):
        t = json.loads(pathlib.Path(f"{prefix}_{rep}/summary.json").read_text())["results"]["totals"]
        if best is None or t["step_seconds"] < best["step_seconds"]:
            best = t
    per_step = best["step_seconds"] / best["steps"]
    fft = best["fft_seconds"] / best["steps"]
    lines.append(f"| {n}^2 | {ranks} | {layout if ranks != '1' else 'serial'} | {best['steps']} | {1 / per_step:.1f} | "
                 f"{per_step * 1e3:.2f} ms | {fft * 1e3:.2f} ms | {per_step / fft:.2f} |")
pathlib.Path(result).write_text("\n".join(lines) + "\n")
print("\n".join(lines))
PY
