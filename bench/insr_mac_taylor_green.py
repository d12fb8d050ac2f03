#!/usr/bin/python3
"""Grid baseline for INSR's 2D Euler example: fluxion's MAC projection solver on the inviscid
Taylor-Green vortex (Chen et al., ICML 2023, section 5.3).

usage: /usr/bin/python3 bench/insr_mac_taylor_green.py --fluxion PATH [--cells N [N ...]]
           [--advection S [S ...]] [--boundary slip|periodic] [--pc auto|PC] [--max-cfl C]
           [--min-substeps K [K ...]] [--omp-threads T] [--work DIR] [--json OUT]

The problem: [-1, 1]^2, u = sin(X) cos(Y) / pi, v = -cos(X) sin(Y) / pi, X = (x + 1) pi,
Y = (y + 1) pi, nu = 0, dt = 0.05, 100 steps to t = 5. It is a steady solution of the Euler
equations, so the exact velocity at t = 5 is the initial one. The config is
apps/configs/navier_stokes_taylor_green.yaml (free-slip walls; --boundary periodic switches all four
faces to periodic, which the field also satisfies).

Per grid N x N this runs `fluxion run CONFIG --set grid.cells=[N,N] --set time.dt=DT ...` into
WORK/<advection>_<boundary>_n<N>_k<K>/ and reads its run.h5 (docs/output.md: /fields/velocity/<step>, shape
(ny, nx, 3), attribute "time"; /geometry/x, /geometry/y the cell faces). It reports:

  - the velocity error at the last written step (t = 5) against the exact solution at the cell
    centres, over both components: relative L2 = sqrt(sum (e_u^2 + e_v^2)) / sqrt(sum (u^2 + v^2)),
    max |e|, mean |e| (over the 2 N^2 values). The app writes cell-centred velocities, each the mean
    of the two face values of the MAC state; for this field that mean is cos(pi h / 2) times the
    centre value, an O(h^2) output-interpolation error (2e-3 relative at N = 47). The column
    "rel L2 f" compares with the face means of the exact solution instead, which removes it: that
    is the error of the MAC state itself (seen through the same averaging). The t = 0 error of the
    same measure is in the JSON (the initial projection only; 1e-16: this field is discretely
    divergence-free, and the output is exactly the face means).
  - kinetic energy at t = 5 over the exact 1/pi^2 (from summary.json: the MAC state's).
  - the memory of the state: floats of u, v (faces) and p (cells) on the MAC grid: with walls
    u has (N + 1) N, v N (N + 1), p N^2, 3 N^2 + 2 N in all (periodic: 3 N^2). INSR's networks hold
    3330 + 3297 = 6627 floats; N = 47 gives 6721.
  - the wall time of the whole process (start-up, setup, 100 or more steps, output) and the time in
    the steps (summary.json results.timings.steps).

The fixed step: fluxion refuses time.dt above the CFL limit dt (max|u| + max|v|) / h <= 1 (its
semi-Lagrangian departure points must stay inside the ghost layer; upwind2 is stable only to 0.5),
and dt = 0.05 has CFL 0.05 (2 / pi) / h = 0.0159 N, above 1 from N = 63 on. There the run
takes k equal substeps of 0.05 / k, the fewest with CFL <= --max-cfl (0.95; 0.5 for upwind2); the
table shows dt and steps. The pressure solver: fluxion_mg where N is divisible by 8, else GAMG
(--pc auto; the bench/results of 2026-12-04 were made so). fluxion_mg on a grid that does not halve
(47 is prime) with a singular pressure operator (walls or periodic faces all around) factored the
whole grid by a dense SVD then: 68 s of setup at 47^2 against 0.15 s at 48^2; since then it takes a
shifted LU above 512 cells (0.1 s for the whole 47^2 run), so --pc fluxion_mg is as good. The runs get OMP_NUM_THREADS=1 (--omp-threads): Debian's OpenBLAS
is its OpenMP build, and its threads in PETSc's vector operations made a 128^2 run's pressure
solves 10-20x slower on a loaded 2-core machine (15-25 s instead of 1.2 s for 400 solves).

What the runs show (maccormack, slip; slip and periodic give the same errors): the error is first
order in dt and hardly depends on N at a given dt (rel L2 6.2e-2, 6.1e-2 at N = 32, 47 with
dt = 0.05; 3.5e-2, 3.4e-2, 3.2e-2 at N = 32, 47, 64 with dt = 0.025): at INSR's step the MAC
solver is limited by its time error (semi-Lagrangian trace with the velocity frozen at t_n, then a
projection), and finer grids gain mostly through the smaller dt their CFL limit forces.
--min-substeps 1 2 4 8 16 shows it. Odd N (47) do not put faces on the vortex-cell boundaries
x, y = 0; at small dt their max error is about 3x that of even N nearby (at dt = 0.05 no difference).
"""
import argparse
import datetime
import json
import math
import os
import shutil
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import machine  # noqa: E402  (bench/machine.py: what the result files say of the machine)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "apps", "configs", "navier_stokes_taylor_green.yaml")
DT = 0.05         # INSR's step
T_END = 5.0       # 100 steps
INSR_FLOATS = 3330 + 3297  # velocity + pressure networks
DEFAULT_CELLS = [16, 32, 47, 64, 128]
SCHEME_MAX_CFL = {"maccormack": 0.95, "semi_lagrangian": 0.95, "upwind2": 0.5}


# ---------------------------------------------------------------------------------------------
# The exact solution

def exact_velocity(x, y):
    """u, v of the Taylor-Green vortex at points (x, y) (arrays of one shape)."""
    X, Y = (x + 1.0) * math.pi, (y + 1.0) * math.pi
    return np.sin(X) * np.cos(Y) / math.pi, -np.cos(X) * np.sin(Y) / math.pi


def initial_cfl(n, dt):
    """dt (max|u| + max|v|) / h over the MAC faces of an N x N grid, as fluxion computes it for the
    initial field (u on the x-faces x_i = -1 + i h at cell-centre heights, v likewise)."""
    h = 2.0 / n
    faces = -1.0 + h * np.arange(n + 1)
    centres = -1.0 + h * (np.arange(n) + 0.5)
    u, _ = exact_velocity(*np.meshgrid(faces, centres))
    _, v = exact_velocity(*np.meshgrid(centres, faces))
    return dt * (np.abs(u).max() + np.abs(v).max()) / h


def state_floats(n, boundary):
    """Floats of u, v, p on an N x N MAC grid: faces of both kinds and the cells."""
    return 3 * n * n if boundary == "periodic" else 3 * n * n + 2 * n


# ---------------------------------------------------------------------------------------------
# Reading a run

def velocity_steps(h5_path):
    """[(time, u, v)] of every written step (u, v of shape (ny, nx), cell centres) and the faces."""
    import h5py

    steps = []
    with h5py.File(h5_path, "r") as f:
        group = f["fields/velocity"]
        for key in sorted(group.keys()):
            d = group[key]
            a = np.asarray(d[...], dtype=float)
            steps.append((float(d.attrs["time"]), a[:, :, 0], a[:, :, 1]))
        xf = np.asarray(f["geometry/x"][...], dtype=float)
        yf = np.asarray(f["geometry/y"][...], dtype=float)
    return steps, xf, yf


def errors(u, v, ue, ve):
    """Relative L2, max and mean absolute error over both components."""
    e = np.concatenate([(u - ue).ravel(), (v - ve).ravel()])
    ref = np.concatenate([ue.ravel(), ve.ravel()])
    return dict(rel_l2=float(np.linalg.norm(e) / np.linalg.norm(ref)), max_abs=float(np.abs(e).max()),
                mean_abs=float(np.abs(e).mean()))


def evaluate(run_dir):
    """The errors of a finished run: at the last written step, at t = 0, and per written step."""
    steps, xf, yf = velocity_steps(os.path.join(run_dir, "run.h5"))
    h = xf[1] - xf[0]
    xc, yc = 0.5 * (xf[:-1] + xf[1:]), 0.5 * (yf[:-1] + yf[1:])
    ue, ve = exact_velocity(*np.meshgrid(xc, yc))  # (ny, nx) like the data
    # The mean of the two exact face values of each cell: sin(X +- pi h/2) averages to cos(pi h/2) sin(X).
    c = math.cos(math.pi * h / 2.0)
    t, u, v = steps[-1]
    if abs(t - T_END) > 1e-6:
        print(f"    warning: the last written step is at t = {t:.6g}, not {T_END:g}", flush=True)
    _, u0, v0 = steps[0]
    per_step = [dict(time=s[0], **errors(s[1], s[2], ue, ve)) for s in steps]
    return dict(time=t, h=h, centres=errors(u, v, ue, ve), faces=errors(u, v, c * ue, c * ve),
                initial_faces=errors(u0, v0, c * ue, c * ve), per_step=per_step)


# ---------------------------------------------------------------------------------------------
# Running

def choose_dt(n, max_cfl, min_substeps=1):
    """0.05 / k with the fewest k >= min_substeps that keeps the CFL number of the initial field
    <= max_cfl."""
    k = max(min_substeps, math.ceil(initial_cfl(n, DT) / max_cfl - 1e-12))
    return DT / k, k


def choose_pc(n, pc):
    if pc != "auto":
        return pc
    return "fluxion_mg" if n % 8 == 0 else "gamg"


def run_one(fluxion, config, work, n, scheme, boundary, pc, max_cfl, min_substeps, omp_threads):
    dt, substeps = choose_dt(n, max_cfl, min_substeps)
    name = f"{scheme}_{boundary}_n{n}_k{substeps}"
    out = os.path.join(work, name)
    shutil.rmtree(out, ignore_errors=True)
    pc = choose_pc(n, pc)
    cmd = [fluxion, "run", config, "--set", f"grid.cells=[{n},{n}]", "--set", f"time.dt={dt!r}",
           "--set", f"advection.scheme={scheme}", "--set", f"solver.pc={pc}",
           "--set", "output.interval=0.5", "-o", out]
    if boundary == "periodic":
        for face in ("x_lower", "x_upper", "y_lower", "y_upper"):
            cmd += ["--set", f"boundary.{face}.type=periodic"]
    log = os.path.join(work, name + ".log")
    print(f"--- {name}: dt {dt:g} ({substeps} per 0.05), pc {pc}", flush=True)
    env = dict(os.environ)
    if omp_threads > 0:
        env["OMP_NUM_THREADS"] = str(omp_threads)
    start = time.perf_counter()
    with open(log, "w") as f:
        rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
    wall = time.perf_counter() - start
    record = dict(cells=n, advection=scheme, boundary=boundary, pc=pc, dt=dt, substeps=substeps,
                  min_substeps=min_substeps, omp_threads=omp_threads, cfl=initial_cfl(n, dt),
                  state_floats=state_floats(n, boundary), wall_seconds=wall,
                  command=" ".join(cmd), returncode=rc, log=log)
    if rc != 0:
        with open(log) as f:
            tail = f.read().strip().splitlines()[-3:]
        print(f"    FAILED (exit {rc}): " + " | ".join(tail), flush=True)
        record["error"] = "\n".join(tail)
        return record
    with open(os.path.join(out, "summary.json")) as f:
        s = json.load(f)
    totals, timings = s["results"]["totals"], s["results"]["timings"]
    record.update(steps=totals["steps"], final_time=totals["final_time"],
                  kinetic_energy=totals["kinetic_energy"],
                  kinetic_energy_ratio=totals["kinetic_energy"] * math.pi ** 2,  # exact: 1 / pi^2
                  max_divergence=totals["max_divergence"], mean_pressure_iterations=totals["mean_iterations"],
                  setup_seconds=timings["setup"], steps_seconds=timings["steps"], run_dir=out)
    record.update(evaluate(out))
    print(f"    {record['steps']} steps to t = {record['final_time']:.4g}, rel L2 {record['centres']['rel_l2']:.3e}, "
          f"{wall:.1f} s wall", flush=True)
    return record


def print_table(records):
    print("\nInviscid Taylor-Green on [-1, 1]^2 to t = 5: velocity error against the exact (steady) solution")
    print(f"{'scheme':<16} {'N':>4} {'floats':>7} {'x INSR':>6} {'dt':>8} {'steps':>5} {'CFL':>5} {'pc':>10} "
          f"{'rel L2':>9} {'max|e|':>9} {'mean|e|':>9} {'rel L2 f':>9} {'order':>5} {'E/E0':>6} "
          f"{'wall s':>7} {'steps s':>7}")
    prev = {}
    for r in records:
        key = (r["advection"], r["boundary"], r["min_substeps"])
        if r.get("returncode") != 0:
            print(f"{r['advection']:<16} {r['cells']:>4} {r['state_floats']:>7}  failed: {r.get('error', '').splitlines()[-1][:100]}")
            continue
        p = prev.get(key)
        order = ""
        if p is not None and p["h"] / r["h"] >= 1.2:  # no order between nearly equal grids
            order = f"{math.log(p['centres']['rel_l2'] / r['centres']['rel_l2']) / math.log(p['h'] / r['h']):.2f}"
        print(f"{r['advection']:<16} {r['cells']:>4} {r['state_floats']:>7} {r['state_floats'] / INSR_FLOATS:>6.2f} "
              f"{r['dt']:>8.4g} {r['steps']:>5} {r['cfl']:>5.2f} {r['pc']:>10} "
              f"{r['centres']['rel_l2']:>9.3e} {r['centres']['max_abs']:>9.3e} {r['centres']['mean_abs']:>9.3e} "
              f"{r['faces']['rel_l2']:>9.3e} {order:>5} {r['kinetic_energy_ratio']:>6.4f} "
              f"{r['wall_seconds']:>7.2f} {r['steps_seconds']:>7.2f}")
        prev[key] = r
    print("floats: u, v, p on the MAC grid; x INSR: over INSR's 6627; rel L2 f: against the face means of the exact "
          "field (no output interpolation error); order: of rel L2 between neighbouring N (h and dt together where "
          "substeps start); E/E0: kinetic energy over the exact 1/pi^2; wall s: the whole fluxion process; steps s: "
          "its time loop")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fluxion", required=True, help="the fluxion binary (e.g. build/release/apps/fluxion/fluxion)")
    ap.add_argument("--config", default=CONFIG, help="the config (default apps/configs/navier_stokes_taylor_green.yaml)")
    ap.add_argument("--cells", type=int, nargs="+", default=DEFAULT_CELLS, help="N of the N x N grids (16 32 47 64 128)")
    ap.add_argument("--advection", nargs="+", default=["maccormack"], choices=list(SCHEME_MAX_CFL),
                    help="advection schemes to run (maccormack)")
    ap.add_argument("--boundary", choices=["slip", "periodic"], default="slip",
                    help="slip: the config's free-slip walls; periodic: all four faces periodic")
    ap.add_argument("--pc", default="auto", help="pressure preconditioner: auto (fluxion_mg if 8 | N, else gamg) or any "
                                                 "solver.pc value")
    ap.add_argument("--max-cfl", type=float, default=None,
                    help="substep dt = 0.05 to CFL <= this (default 0.95; 0.5 for upwind2)")
    ap.add_argument("--min-substeps", type=int, nargs="+", default=[1],
                    help="also run with dt = 0.05 / K (at least; the CFL limit may ask for more) for each K given: "
                         "separates the time error from the space error (default 1: INSR's dt where allowed)")
    ap.add_argument("--omp-threads", type=int, default=1,
                    help="OMP_NUM_THREADS of the runs (default 1; 0: inherit). Debian's OpenBLAS is the OpenMP "
                         "build and threads PETSc's vector operations: on a loaded 2-core machine that made the "
                         "pressure solves of a 128^2 run 10-20x slower than with 1 thread")
    ap.add_argument("--work", default=os.path.join("fluxion-out", "insr_mac_taylor_green"),
                    help="where the runs go (default fluxion-out/insr_mac_taylor_green)")
    ap.add_argument("--json", metavar="OUT", help="write the results here")
    a = ap.parse_args()
    fluxion = os.path.abspath(a.fluxion)
    if not os.access(fluxion, os.X_OK):
        ap.error(f"--fluxion: {a.fluxion} is not an executable")
    if a.max_cfl is not None and not 0 < a.max_cfl <= 1:
        ap.error("--max-cfl: in (0, 1]")
    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    load = os.getloadavg()
    records = []
    for scheme in a.advection:
        max_cfl = a.max_cfl if a.max_cfl is not None else SCHEME_MAX_CFL[scheme]
        for k in sorted(set(a.min_substeps)):
            for n in sorted(a.cells):
                records.append(run_one(fluxion, os.path.abspath(a.config), work, n, scheme, a.boundary, a.pc,
                                       max_cfl, k, a.omp_threads))
    print(f"\n{machine.cpus()} CPUs ({machine.cpu_model()}), load before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    print_table(records)
    if a.json:
        for r in records:  # keep the JSON small: per-step errors stay, nothing else bulky is stored
            r.pop("log", None)
        out = dict(problem=dict(domain="[-1, 1]^2", initial="u = sin(X) cos(Y) / pi, v = -cos(X) sin(Y) / pi, "
                                "X = (x + 1) pi, Y = (y + 1) pi", nu=0, dt=DT, t_end=T_END,
                                exact="the initial field (steady Euler solution)", boundary=a.boundary),
                   insr_floats=INSR_FLOATS, config=os.path.relpath(os.path.abspath(a.config), REPO),
                   machine=dict(cpu=machine.cpu_model(), cpus=machine.cpus(), load_before=load,
                                load_after=os.getloadavg()),
                   date=datetime.datetime.now().isoformat(timespec="seconds"), command=" ".join(sys.argv),
                   results=records)
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
        print(f"wrote {a.json}")
    if any(r.get("returncode") != 0 for r in records):
        sys.exit(1)


if __name__ == "__main__":
    main()
