#!/usr/bin/env bash
# Issue 7's performance table of the MAC projection solver (app navier_stokes): steps per second
# and the share of the step spent in the pressure solve (and the viscous solves), for the 2D
# cavity (256^2, Re 1000, implicit viscosity) and smoke plume (the default run at 256 x 512, the
# same spacing), and 3D smoke plumes (64^3 and 128^3 cells on [0,1]^2 x [0,2]), on 1 and 2 ranks.
# Each row runs a fixed number of steps from the initial state (output only at the end); the
# numbers are the app's own timings from summary.json (results.timings), best of REPS runs.
# Usage: bench/ns_perf.sh [RESULT.md]
#   env: FLUXION=build/release/apps/fluxion/fluxion REPS=2 MPIEXEC=mpiexec CASES="cavity256 smoke256 smoke64 smoke128"
set -euo pipefail
cd "$(dirname "$0")/.."
FLUXION=${FLUXION:-build/release/apps/fluxion/fluxion}
REPS=${REPS:-2}
MPIEXEC=${MPIEXEC:-mpiexec}
CASES=${CASES:-"cavity256 smoke256 smoke64 smoke128"}
RESULT=${1:-bench/results/ns_perf_$(date +%F).md}
WORK=$(mktemp -d /tmp/ns_perf.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# name -> config and overrides; steps: enough for a stable rate, few enough for 128^3.
declare -A CONFIG=([cavity256]=apps/configs/cavity_re1000.yaml [smoke256]=apps/configs/default.yaml
                   [smoke64]=apps/configs/smoke3d.yaml [smoke128]=apps/configs/smoke3d.yaml)
declare -A SETS=([cavity256]="grid.cells=[256,256]" [smoke256]="grid.cells=[256,512]"
                 [smoke64]="grid.cells=[64,64,128]" [smoke128]="grid.cells=[128,128,256]")
declare -A STEPS=([cavity256]=200 [smoke256]=100 [smoke64]=20 [smoke128]=5)

rows=()
for name in $CASES; do
  for ranks in 1 2; do
    for rep in $(seq "$REPS"); do
      out="$WORK/${name}_r${ranks}_$rep"
      "$MPIEXEC" -n "$ranks" --oversubscribe --allow-run-as-root "$FLUXION" run "${CONFIG[$name]}" -o "$out" \
        --set "${SETS[$name]}" --set "time.max_steps=${STEPS[$name]}" --set time.end=1000 \
        --set output.interval=1000 --set time.steady_tolerance=0 >/dev/null
    done
    rows+=("$name $ranks $WORK/${name}_r${ranks}")
  done
done

/usr/bin/python3 - "$RESULT" "$REPS" "$FLUXION" "${rows[@]}" <<'PY'
import datetime, json, os, pathlib, platform, sys

result, reps, fluxion, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
lines = [f"# MAC projection solver: steps per second (issue 7)", "",
         f"Machine: {model}, {os.cpu_count()} CPUs; {datetime.date.today()}; load at the end "
         f"{os.getloadavg()[0]:.2f}.",
         f"Command: `bench/ns_perf.sh` (FLUXION={fluxion}, REPS={reps}); best of {reps} runs per row, "
         "the app's own timings (summary.json results.timings). Cells are cells of the pressure grid.", "",
         "| case | grid | ranks | steps | steps/s | pressure share | viscous share | pressure its/step |",
         "|---|---|---|---|---|---|---|---|"]
for row in rows:
    name, ranks, prefix = row.split()
    best = None
    for rep in range(1, reps + 1):
        s = json.loads(pathlib.Path(f"{prefix}_{rep}/summary.json").read_text())
        t = s["results"]["timings"]
        if best is None or t["steps"] < best[1]["timings"]["steps"]:
            best = (s, s["results"])
    s, r = best
    t = r["timings"]
    steps = r["totals"]["steps"]
    cells = "x".join(str(c) for c in s["config"]["grid"]["cells"])
    lines.append(f"| {name} | {cells} | {ranks} | {steps} | {steps / t['steps']:.2f} | "
                 f"{t['pressure_solves'] / t['steps']:.0%} | {t.get('viscous_solves', 0.0) / t['steps']:.0%} | "
                 f"{r['totals']['mean_iterations']:.1f} |")
pathlib.Path(result).write_text("\n".join(lines) + "\n")
print("\n".join(lines))
PY
