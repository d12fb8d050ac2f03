#!/usr/bin/python3
"""A smoke run whose every pressure solve is DCDM, next to the same run with multigrid (issue 8).

Runs a DCDM benchmark scene (bench/configs/dcdm_smoke{2d,3d}.yaml: obstacles the models never saw)
for a number of steps (per scene, or --steps) with
  - the reference: fluxion's multigrid CG to relative residual 1e-10,
  - fluxion's multigrid CG to --rtol (what a run would use),
  - DCDM with the shipped model to --rtol (no CG fallback),
and compares the fields each writes at the last step (velocity, pressure, smoke density,
temperature) with the reference: relative L2 differences over the fluid cells. DCDM is as good a
pressure solver as multigrid for this run when its differences are of the size of multigrid's own
at the same tolerance.

  /usr/bin/python3 bench/dcdm_smoke_compare.py [--scenes 2d64 3d32] [--steps N] [--rtol 1e-6]

Writes bench/results/dcdm_smoke_compare_<date>.md (machine, command, date) and .json."""
import argparse
import datetime
import json
import pathlib
import subprocess
import sys
import tempfile

import h5py
import numpy as np

import machine

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCENES = {  # name -> (config, cells, model, steps; DCDM on 2 CPUs: ~2 s per solve in 2D, ~50 s in 3D)
    "2d64": ("dcdm_smoke2d.yaml", "[64,64]", "data/models/dcdm_2d/model.pt", 60),
    "2d128": ("dcdm_smoke2d.yaml", "[128,128]", "data/models/dcdm_2d/model.pt", 20),
    "3d32": ("dcdm_smoke3d.yaml", "[32,32,32]", "data/models/dcdm_3d/model.pt", 8),
}
FIELDS = ("velocity", "pressure", "density", "temperature")


def run(fluxion, scene, label, sets, steps, work):
    config, cells = SCENES[scene][:2]
    out = work / f"{scene}-{label}"
    cmd = [fluxion, "run", str(ROOT / "bench" / "configs" / config), "-o", str(out)]
    for s in [f"grid.cells={cells}", f"time.max_steps={steps}", f"output.interval={steps}"] + sets:
        cmd += ["--set", s]
    t = subprocess.run(cmd, capture_output=True, text=True)
    if t.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{(t.stderr or t.stdout)[-2000:]}")
    summary = json.loads((out / "summary.json").read_text())["results"]
    with h5py.File(out / "run.h5", "r") as f:
        last = sorted(f["fields/velocity"].keys())[-1]
        fields = {name: f[f"fields/{name}/{last}"][...] for name in FIELDS}
        fields["solid"] = f["static/solid"][...] != 0
        time = float(f["time"][-1])
    return summary, fields, time


def relative_difference(a, b, fluid):
    """||a - b|| / ||b|| over the fluid cells (vector fields: all components)."""
    mask = fluid if a.ndim == fluid.ndim else fluid[..., None]
    d = np.where(mask, a - b, 0.0)
    ref = np.where(mask, b, 0.0)
    return float(np.linalg.norm(d) / max(np.linalg.norm(ref), 1e-300))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fluxion", default=str(ROOT / "build/release/apps/fluxion/fluxion"))
    p.add_argument("--scenes", nargs="+", default=["2d64", "3d32"], choices=list(SCENES))
    p.add_argument("--steps", type=int, help="steps of every scene (default: the scene's own)")
    p.add_argument("--rtol", type=float, default=1e-6)
    p.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = p.parse_args()
    date = datetime.date.today().isoformat()
    solvers = {
        "multigrid CG, rtol 1e-10 (reference)": ["solver.type=petsc", "solver.ksp=cg", "solver.pc=fluxion_mg",
                                                 "solver.rtol=1e-10"],
        f"multigrid CG, rtol {args.rtol:g}": ["solver.type=petsc", "solver.ksp=cg", "solver.pc=fluxion_mg",
                                              f"solver.rtol={args.rtol}"],
        f"DCDM, rtol {args.rtol:g}": ["solver.type=dcdm", "solver.method=dcdm", f"solver.rtol={args.rtol}",
                                      "solver.max_iterations=2000"],
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        for scene in args.scenes:
            results = {}
            for i, (label, sets) in enumerate(solvers.items()):
                if label.startswith("DCDM"):
                    sets = sets + [f"solver.model={ROOT / SCENES[scene][2]}"]
                results[label] = run(args.fluxion, scene, str(i), sets, args.steps or SCENES[scene][3], work)
                print(f"{scene} {label}: done", flush=True)
            ref_summary, ref_fields, _ = next(iter(results.values()))
            fluid = ~ref_fields["solid"]
            for label, (summary, fields, time) in results.items():
                rows.append({
                    "scene": scene, "solver": label, "time": time, "steps": summary["totals"]["steps"],
                    "mean_iterations": summary["totals"]["mean_iterations"],
                    "nonconverged": summary["totals"]["nonconverged"],
                    "solve_seconds": float(np.sum(summary["steps"]["solve_seconds"])),
                    "max_divergence": summary["totals"]["max_divergence"],
                    "differences": {name: relative_difference(fields[name], ref_fields[name], fluid)
                                    for name in FIELDS}})
                print(json.dumps(rows[-1]), flush=True)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"dcdm_smoke_compare_{date}"
    stem.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = [f"# A smoke run with DCDM in every pressure solve against the same run with multigrid ({date})", "",
             f"Machine: {machine.cpu_model()}, {machine.cpus()} CPUs. Command: "
             f"`/usr/bin/python3 bench/dcdm_smoke_compare.py {' '.join(sys.argv[1:])}`.", "",
             "Fields at the last step against the reference run (multigrid CG to 1e-10): relative L2 "
             "differences over the fluid cells. Iterations: mean per pressure solve.", "",
             "| scene | solver | steps | t | iterations | failed solves | solve s | max div | "
             + " | ".join(FIELDS) + " |", "|" + "---|" * (8 + len(FIELDS))]
    for r in rows:
        lines.append(f"| {r['scene']} | {r['solver']} | {r['steps']} | {r['time']:.3f} | {r['mean_iterations']:.1f} | "
                     f"{r['nonconverged']} | {r['solve_seconds']:.2f} | {r['max_divergence']:.1e} | "
                     + " | ".join(f"{r['differences'][n]:.1e}" for n in FIELDS) + " |")
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"wrote {stem}.md")


if __name__ == "__main__":
    main()
