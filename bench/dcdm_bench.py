#!/usr/bin/python3
"""DCDM benchmark (issue 8): pressure solves of smoke scenes (bench/configs/dcdm_smoke{2d,3d}.yaml,
obstacles the models never saw) by CG, ICC-CG, PETSc GAMG, hypre BoomerAMG, fluxion's multigrid
CG, DCDM and the network as an FCG preconditioner: iterations and seconds per pressure solve to
relative residuals 1e-4 and 1e-6, the network's share of DCDM's time (PETSc's -log_view event
DCDMNetwork against MatMult). Every solver runs the same scene for STEPS steps from rest (each
step is one pressure system; the first is the same system for all).

  /usr/bin/python3 bench/dcdm_bench.py [--scenes 3d32 2d256 2d512 3d64 3d128] [--steps 3]
      [--solvers cg icc gamg hypre fluxion_mg dcdm fcg_dcdm dcdm_mgno fcg_dcdm_mgno]
      [--rtols 1e-4 1e-6] [--cap 2000]

dcdm_mgno and fcg_dcdm_mgno: DCDM with the MgNO direction network data/models/dcdm_mgno_3d
(apps/configs/dcdm_mgno_3d.yaml) instead of the paper's network.

Writes bench/results/dcdm_bench_<date>.md (the table, with machine, command, date) and .json."""
import argparse
import datetime
import json
import pathlib
import platform
import re
import subprocess
import sys
import tempfile

import machine

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCENES = {  # name -> (config, cells, model)
    "3d32": ("dcdm_smoke3d.yaml", "[32,32,32]", "data/models/dcdm_3d/model.pt"),
    "2d256": ("dcdm_smoke2d.yaml", "[256,256]", "data/models/dcdm_2d/model.pt"),
    "2d512": ("dcdm_smoke2d.yaml", "[512,512]", "data/models/dcdm_2d/model.pt"),
    "3d64": ("dcdm_smoke3d.yaml", "[64,64,64]", "data/models/dcdm_3d/model.pt"),
    "3d128": ("dcdm_smoke3d.yaml", "[128,128,128]", "data/models/dcdm_3d/model.pt"),
}
SOLVERS = {  # name -> --set overrides (the model is added for the dcdm ones)
    "cg": ["solver.type=petsc", "solver.ksp=cg", "solver.pc=none"],
    "icc": ["solver.type=petsc", "solver.ksp=cg", "solver.pc=icc"],
    "gamg": ["solver.type=petsc", "solver.ksp=cg", "solver.pc=gamg"],
    "hypre": ["solver.type=petsc", "solver.ksp=cg", "solver.pc=hypre"],
    "fluxion_mg": ["solver.type=petsc", "solver.ksp=cg", "solver.pc=fluxion_mg"],
    "dcdm": ["solver.type=dcdm", "solver.method=dcdm"],
    "fcg_dcdm": ["solver.type=dcdm", "solver.method=fcg"],
    "dcdm_mgno": ["solver.type=dcdm", "solver.method=dcdm"],
    "fcg_dcdm_mgno": ["solver.type=dcdm", "solver.method=fcg"],
}
# The *_mgno solvers use DCDM with an MgNO direction network (issue 9) instead of the scene's model.
MGNO_MODELS = {"2d": None, "3d": "data/models/dcdm_mgno_3d/model.pt"}


def log_time(log, event):
    """Seconds of a -log_view event (max over ranks column), 0 when absent."""
    for line in log.splitlines():
        fields = line.split()
        if fields and fields[0] == event and len(fields) > 3:
            try:
                return float(fields[3])
            except ValueError:
                return 0.0
    return 0.0


def run(fluxion, scene, solver, rtol, steps, cap, work):
    config, cells, model = SCENES[scene]
    sets = [f"grid.cells={cells}", f"time.max_steps={steps}", f"solver.rtol={rtol}",
            f"solver.max_iterations={cap}", "solver.allow_nonconvergence=true"] + SOLVERS[solver]
    if solver.endswith("_mgno"):
        model = MGNO_MODELS[scene[:2]]
        if model is None:
            return {"error": f"no MgNO direction network for {scene[:2]} scenes"}
    if "dcdm" in solver:
        sets.append(f"solver.model={ROOT / model}")
    out = work / f"{scene}-{solver}-{rtol}"
    log = work / f"{scene}-{solver}-{rtol}.log"
    cmd = [fluxion, "run", str(ROOT / "bench" / "configs" / config), "-o", str(out), "-log_view", f":{log}"]
    for s in sets:
        cmd += ["--set", s]
    t = subprocess.run(cmd, capture_output=True, text=True)
    if t.returncode != 0:
        return {"error": (t.stderr or t.stdout).strip().splitlines()[-1]}
    summary = json.loads((out / "summary.json").read_text())["results"]
    text = log.read_text() if log.exists() else ""
    steps_ = summary["steps"]
    return {"iterations": steps_["iterations"], "solve_seconds": steps_["solve_seconds"],
            "nonconverged": summary["totals"]["nonconverged"], "network_seconds": log_time(text, "DCDMNetwork"),
            "matmult_seconds": log_time(text, "MatMult"), "solver": summary["solver"]}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fluxion", default=str(ROOT / "build/release/apps/fluxion/fluxion"))
    p.add_argument("--scenes", nargs="+", default=list(SCENES))
    p.add_argument("--solvers", nargs="+", default=list(SOLVERS))
    p.add_argument("--rtols", nargs="+", type=float, default=[1e-4, 1e-6])
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--cap", type=int, default=2000)
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / f"dcdm_bench_{datetime.date.today()}"))
    a = p.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="dcdm_bench.") as tmp:
        work = pathlib.Path(tmp)
        for scene in a.scenes:
            for rtol in a.rtols:
                for solver in a.solvers:
                    r = run(a.fluxion, scene, solver, rtol, a.steps, a.cap, work)
                    results[f"{scene} {rtol:g} {solver}"] = r
                    print(scene, rtol, solver, r.get("iterations", r.get("error")), flush=True)
    cpu = machine.cpu_model()
    lines = [f"# DCDM benchmark ({datetime.date.today()})", "",
             f"Machine: {cpu}, {machine.cpus()} CPUs, {platform.system()} {platform.release()}; one rank.",
             f"Command: /usr/bin/python3 bench/dcdm_bench.py {' '.join(sys.argv[1:])}", "",
             "Per pressure solve of the first steps of the scene (iterations: per step; seconds: mean per solve; "
             "network: DCDM's network share of the run's time, from -log_view). '-' : did not reach the tolerance "
             f"within {a.cap} iterations.", "",
             "| scene | rtol | solver | iterations per step | s per solve | network s (total) | MatMult s (total) |",
             "|---|---|---|---|---|---|---|"]
    for key, r in results.items():
        scene, rtol, solver = key.split()
        if "error" in r:
            lines.append(f"| {scene} | {rtol} | {solver} | error: {r['error'][:80]} | | | |")
            continue
        its = " ".join(str(i) if i < a.cap else "-" for i in r["iterations"])
        mean = sum(r["solve_seconds"]) / max(1, len(r["solve_seconds"]))
        lines.append(f"| {scene} | {rtol} | {solver} | {its} | {mean:.3g} | {r['network_seconds']:.3g} | "
                     f"{r['matmult_seconds']:.3g} |")
    out = pathlib.Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps(results, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
