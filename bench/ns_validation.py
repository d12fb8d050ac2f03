#!/usr/bin/python3
"""Tables and figures of bench/ns_validation.sh (run with /usr/bin/python3: Debian's numpy, h5py,
matplotlib).

  ns_validation.py report --work DIR --results FILE --img-dir DIR --machine M --load L --command C

reads every run that the driver left in the work folder (a sub-folder per run with summary.json,
run.h5 and cmd.txt) and writes one Markdown file. Cases that have no runs are left out.

Formulas (stated in the result file as well)
  * Cavity: bench/cavity_reference.py (imported): deviation = max over Ghia's points of
    |u/U_lid - Ghia| on x = 0.5 and |v/U_lid - Ghia| on y = 0.5, the cell-centred profile
    interpolated linearly; the points flagged "suspect" (misprints) left out, and counted in the
    "incl. suspect" column.
  * Taylor-Green on [0, 2 pi]^2: u = sin x cos y g(t), v = -cos x sin y g(t), g = exp(-2 nu t).
    Kinetic energy E = integral of |u|^2 / 2 = (1/2)(4 pi^2)(1/2) g^2 = pi^2 exp(-4 nu t) (the
    domain mean of |u|^2 is g^2 / 2). The solver writes cell-centred velocities, the mean of the two
    face values of each component; for this field that mean is cos(h/2) times the value at the
    centre, and the midpoint sum of sin^2 on a uniform periodic grid is exact, so the energy of the
    exact solution as written is E_h(t) = cos^2(h/2) pi^2 exp(-4 nu t). The velocity error is
    max over cells and components of |u_written - cos(h/2) u_exact(centre)|, i.e. against the exact
    face values averaged like the solver averages its own (the output interpolation does not count).
  * Poiseuille: u = 4 y (1 - y); the profile on x = 1 (the face line between the two middle
    columns: the mean of the two cell columns, exact for a profile independent of x) against the
    exact values at the cell centres: max and RMS error.
  * Spectral Taylor-Green: summary.json results.outputs energy against
    E(t) = A^2/4 exp(-4 nu k^2 t), k = 2 pi n / L (docs/spectral.md).
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cavity_reference as cr  # noqa: E402


def load_summary(d: str) -> dict | None:
    try:
        s = json.load(open(os.path.join(d, "summary.json")))
    except (OSError, ValueError):
        return None
    return s if s.get("status") == "completed" else None


def cmd_of(d: str) -> str:
    try:
        return open(os.path.join(d, "cmd.txt")).read().strip()
    except OSError:
        return "?"


def binary_stamps(work: str) -> str:
    """The build times that the runs' binary.txt files record (bench/fluxion_runs.sh)."""
    stamps = sorted({open(p).read().strip() for p in glob.glob(os.path.join(work, "*", "binary.txt"))})
    return ", ".join(stamps) if stamps else "not recorded"


def order(e_coarse: float, e_fine: float, ratio: float = 2.0) -> float:
    if e_coarse <= 0 or e_fine <= 0:
        return float("nan")
    return math.log(e_coarse / e_fine) / math.log(ratio)


def fmt_order(x: float) -> str:
    return "" if not np.isfinite(x) else f"{x:.2f}"


def velocity_steps(h5: str):
    """[(time, u (ny, nx), v (ny, nx))] of every written step, and the node coordinates."""
    import h5py

    out = []
    with h5py.File(h5, "r") as f:
        g = f["fields/velocity"]
        for k in sorted(g.keys()):
            d = g[k]
            a = np.asarray(d[...], dtype=float)
            out.append((float(d.attrs["time"]), a[:, :, 0], a[:, :, 1]))
        x = np.asarray(f["geometry/x"][...], dtype=float)
        y = np.asarray(f["geometry/y"][...], dtype=float)
    return out, x, y


# ---------------------------------------------------------------------------------------------
# Cavity


def cavity(work: str, img_dir: str, w) -> dict:
    runs = {}
    for d in sorted(glob.glob(os.path.join(work, "cavity_re*_n*"))):
        m = re.search(r"cavity_re(\d+)_n(\d+)$", d)
        s = load_summary(d)
        if not m or s is None:
            continue
        re_number, n = int(m.group(1)), int(m.group(2))
        prof = cr.read_fluxion_h5(os.path.join(d, "run.h5"))
        dev = cr.deviation(prof, re_number)
        t = s["results"]["totals"]
        c = s["config"]
        scheme = f"{c['advection']['scheme']}, {c['viscosity']['scheme']}, CFL {c['time']['cfl']:g}"
        runs[(re_number, n)] = dict(dev=dev, prof=prof, totals=t, cpu=s["results"]["timings"]["cpu_steps"],
                                    wall=s["results"]["timings"]["steps"], cmd=cmd_of(d), scheme=scheme)
    if not runs:
        return {}
    w("## Lid-driven cavity against Ghia, Ghia & Shin (1982)")
    w("")
    w("`apps/configs/cavity_re<Re>.yaml` as committed (the column 'scheme': advection, viscosity, CFL number from "
      "the run's resolved config; `time.steady_tolerance` 1e-5: steady when max|u^(n+1) - u^n| / (dt max|u|) <= 1e-5) "
      "with `--set grid.cells=[N,N]`. Deviation: maximum over Ghia's 17 + 17 points of |u - Ghia| on x = 0.5 and "
      "|v - Ghia| on y = 0.5 (lid speed 1), profiles interpolated linearly from the cell centres "
      "(bench/cavity_reference.py); the column 'incl. suspect' also counts the entries flagged as misprints in "
      "data/reference/ghia1982_[uv].csv (at Re 100-1000 only Re 400 v(x = 0.9063)). CPU s: summary.json "
      "results.timings.cpu_steps (the time-step loop's CPU time); steady t: the simulated time at the stop.")
    w("")
    w("| Re | N | scheme | deviation | worst point | incl. suspect | steady t | steps | CPU s | wall s | max \\|div u\\| | stop |")
    w("|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for (re_number, n), r in sorted(runs.items()):
        d, t = r["dev"], r["totals"]
        w(f"| {re_number} | {n} | {r['scheme']} | {d.max_dev:.4f} | {d.worst} | {d.max_dev_all:.4f} | {t['final_time']:.2f} | "
          f"{t['steps']} | {r['cpu']:.1f} | {r['wall']:.1f} | {t['max_divergence']:.1e} | "
          f"{'steady' if t.get('steady') else 'not steady: ' + t.get('stop_reason', '')} |")
    w("")
    floor = []
    for re_number in (100, 400):
        r = runs.get((re_number, 128))
        if r is None:
            continue
        d = r["dev"]
        note = "" if d.max_dev_all == d.max_dev else f"; {d.max_dev_all:.4f} counting the misprint"
        floor.append(f"Re {re_number}: {d.max_dev:.4f} ({'met' if d.max_dev <= 0.02 else 'missed'}{note})")
    if floor:
        w("Floor of issue 7 (deviation <= 0.02 at 128^2 for Re 100 and 400): " + "; ".join(floor) + ".")
        w("")
    for re_number in sorted({k[0] for k in runs}):
        series = [(f"fluxion {n}x{n} (dev {runs[(re_number, n)]['dev'].max_dev:.4f})", runs[(re_number, n)]["prof"])
                  for n in sorted(k[1] for k in runs if k[0] == re_number)]
        fig = os.path.join(img_dir, f"cavity_re{re_number}.png")
        schemes = sorted({runs[k]["scheme"] for k in runs if k[0] == re_number})
        cr.plot(series, re_number, fig,
                title=f"Lid-driven cavity, Re {re_number}: fluxion ({'; '.join(schemes)}) vs Ghia et al. (1982)")
        w(f"![cavity Re {re_number}]({os.path.relpath(fig, os.path.dirname(RESULTS))})")
        w("")
    return runs


# ---------------------------------------------------------------------------------------------
# Taylor-Green (projection solver)


def tg_errors(d: str, nu: float = 0.05) -> dict:
    steps, x, y = velocity_steps(os.path.join(d, "run.h5"))
    h = x[1] - x[0]
    xc = 0.5 * (x[:-1] + x[1:])
    yc = 0.5 * (y[:-1] + y[1:])
    X, Y = np.meshgrid(xc, yc)  # (ny, nx) like the data
    c = math.cos(h / 2)
    e_rel_max = 0.0
    for t, u, v in steps:
        e_h = 0.5 * float(np.sum(u * u + v * v)) * h * h
        e_ex_h = c * c * math.pi ** 2 * math.exp(-4 * nu * t)
        e_rel_max = max(e_rel_max, abs(e_h - e_ex_h) / e_ex_h)
    t, u, v = steps[-1]
    g = math.exp(-2 * nu * t)
    ue = c * np.sin(X) * np.cos(Y) * g
    ve = -c * np.cos(X) * np.sin(Y) * g
    err = float(max(np.abs(u - ue).max(), np.abs(v - ve).max()))
    e_h = 0.5 * float(np.sum(u * u + v * v)) * h * h
    e_exact = math.pi ** 2 * math.exp(-4 * nu * t)
    return dict(t=t, h=h, err=err, energy=e_h, energy_exact=e_exact,
                energy_rel_h=abs(e_h - c * c * e_exact) / (c * c * e_exact),
                energy_rel=abs(e_h - e_exact) / e_exact, energy_rel_max=e_rel_max, u=u, v=v)


def taylor_green(work: str, w) -> None:
    sets = {}
    for kind in ("cfl", "dt"):
        rows = []
        for d in glob.glob(os.path.join(work, f"tg_{kind}_n*")):
            s = load_summary(d)
            if s is None:
                continue
            n = int(re.search(r"_n(\d+)$", d).group(1))
            r = tg_errors(d)
            half = os.path.join(work, f"tg_dth_n{n}")
            if kind == "dt" and load_summary(half) is not None:  # Richardson in time: 2 u_(dt/2) - u_dt
                rh = tg_errors(half)
                ue, ve = 2 * rh["u"] - r["u"], 2 * rh["v"] - r["v"]
                c = math.cos(r["h"] / 2)
                xc = np.arange(n) * r["h"] + r["h"] / 2
                X, Y = np.meshgrid(xc, xc)
                g = math.exp(-2 * 0.05 * r["t"])
                r["err_rich"] = float(max(np.abs(ue - c * np.sin(X) * np.cos(Y) * g).max(),
                                          np.abs(ve + c * np.cos(X) * np.sin(Y) * g).max()))
                r["err_half"] = rh["err"]
            r.update(n=n, steps=s["results"]["totals"]["steps"],
                     div=s["results"]["totals"]["max_divergence"], cmd=cmd_of(d),
                     cpu=s["results"]["timings"]["cpu_steps"])
            rows.append(r)
        sets[kind] = sorted(rows, key=lambda r: r["n"])
    trows = []
    for d in glob.glob(os.path.join(work, "tg_time_dt*")):
        s = load_summary(d)
        if s is None:
            continue
        dt = float(re.search(r"_dt([0-9.]+)$", d).group(1))
        r = tg_errors(d)
        r.update(dt=dt, steps=s["results"]["totals"]["steps"], div=s["results"]["totals"]["max_divergence"])
        trows.append(r)
    trows.sort(key=lambda r: -r["dt"])
    if not sets["cfl"] and not sets["dt"] and not trows:
        return
    w("## Taylor-Green vortex, projection solver")
    w("")
    w("Periodic [0, 2 pi]^2, u = sin x cos y e^(-2 nu t), v = -cos x sin y e^(-2 nu t), nu = 0.05, to t = 1, "
      "MacCormack advection, implicit (backward Euler) viscosity, pressure by CG + fluxion_mg to 1e-8 "
      "(config written by the driver into the work folder: `<work>/cfg/taylor_green.yaml`).")
    w("")
    w("- Kinetic energy E = integral of |u|^2/2 over the domain = (1/2) * 4 pi^2 * <|u|^2> with <|u|^2> = "
      "e^(-4 nu t)/2, so E(t) = pi^2 e^(-4 nu t) (9.8696 at t = 0, 8.0805 at t = 1). The solver writes "
      "cell-centred velocities (the mean of the two face values), which for this field are cos(h/2) times the "
      "value at the centre: the exact solution as written has E_h = cos^2(h/2) pi^2 e^(-4 nu t). "
      "'energy err' is |E_computed - E_h| / E_h at t = 1 (the solver's own error); 'vs pi^2 e^(-4 nu t)' "
      "includes the output averaging; 'max over t' is the largest of the former over the written times "
      "(every 0.25).")
    w("- Velocity error: max over cells and both components at t = 1 of |u - cos(h/2) u_exact(centre)| "
      "(the exact face values averaged like the solver's own output); amplitude of u is e^(-0.1) = 0.905.")
    w("- Order: log2 of the ratio of successive errors.")
    w("")
    titles = {"cfl": "(a) CFL 0.5 (dt = h/4 from max|u| + max|v| = 2: space and time refined together)",
              "dt": "(b) fixed dt = 0.002 (500 steps) and 0.001"}
    for kind in ("cfl", "dt"):
        rows = sets[kind]
        if not rows:
            continue
        w(f"### {titles[kind]}")
        w("")
        rich = all("err_rich" in r for r in rows)
        w("| N | h | steps | max velocity error | order | energy err (vs E_h) | order | vs pi^2 e^(-4 nu t) | max over t | max \\|div u\\| | CPU s |"
          + (" error at dt 0.001 | extrapolated in time | order |" if rich else ""))
        w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|---:|" if rich else ""))
        prev = None
        for r in rows:
            o1 = order(prev["err"], r["err"]) if prev else float("nan")
            o2 = order(prev["energy_rel_h"], r["energy_rel_h"]) if prev else float("nan")
            extra = ""
            if rich:
                o3 = order(prev["err_rich"], r["err_rich"]) if prev else float("nan")
                extra = f" {r['err_half']:.3e} | {r['err_rich']:.3e} | {fmt_order(o3)} |"
            w(f"| {r['n']} | {r['h']:.4f} | {r['steps']} | {r['err']:.3e} | {fmt_order(o1)} | {r['energy_rel_h']:.3e} | "
              f"{fmt_order(o2)} | {r['energy_rel']:.3e} | {r['energy_rel_max']:.3e} | {r['div']:.1e} | {r['cpu']:.2f} |"
              + extra)
            prev = r
        w("")
        if rich:
            w("'extrapolated in time': max error of 2 u(dt = 0.001) - u(dt = 0.002), which cancels the first-order "
              "temporal error and leaves the spatial one (and O(dt^2)).")
            w("")
    if trows:
        w("### (c) 128^2, fixed dt halved (the temporal error)")
        w("")
        w("The difference between successive dt (max over cells and components of |u_dt - u_(dt/2)| at t = 1) "
          "cancels the spatial error, so its ratio gives the temporal order alone.")
        w("")
        w("| dt | steps | max velocity error | order | \\|u_dt - u_dt/2\\| | order | energy err (vs E_h) | max \\|div u\\| |")
        w("|---:|---:|---:|---:|---:|---:|---:|---:|")
        diffs = []
        for i, r in enumerate(trows):
            diffs.append(float(max(np.abs(r["u"] - trows[i + 1]["u"]).max(), np.abs(r["v"] - trows[i + 1]["v"]).max()))
                         if i + 1 < len(trows) else float("nan"))
        for i, r in enumerate(trows):
            o1 = order(trows[i - 1]["err"], r["err"]) if i else float("nan")
            o2 = order(diffs[i - 1], diffs[i]) if i and np.isfinite(diffs[i]) else float("nan")
            dtxt = f"{diffs[i]:.3e}" if np.isfinite(diffs[i]) else ""
            w(f"| {r['dt']:g} | {r['steps']} | {r['err']:.3e} | {fmt_order(o1)} | {dtxt} | {fmt_order(o2)} | "
              f"{r['energy_rel_h']:.3e} | {r['div']:.1e} |")
        w("")


# ---------------------------------------------------------------------------------------------
# Poiseuille


def poiseuille(work: str, w) -> None:
    rows = []
    for d in glob.glob(os.path.join(work, "poiseuille_n*")):
        s = load_summary(d)
        if s is None:
            continue
        n = int(re.search(r"_n(\d+)$", d).group(1))
        steps, x, y = velocity_steps(os.path.join(d, "run.h5"))
        t, u, v = steps[-1]
        nx = u.shape[1]
        line = 0.5 * (u[:, nx // 2 - 1] + u[:, nx // 2])
        vline = 0.5 * (v[:, nx // 2 - 1] + v[:, nx // 2])
        yc = 0.5 * (y[:-1] + y[1:])
        ex = 4 * yc * (1 - yc)
        e = line - ex
        rows.append(dict(n=n, t=t, err=float(np.abs(e).max()), rms=float(np.sqrt(np.mean(e * e))),
                         vmax=float(np.abs(vline).max()), steps=s["results"]["totals"]["steps"],
                         div=s["results"]["totals"]["max_divergence"]))
    if not rows:
        return
    rows.sort(key=lambda r: r["n"])
    w("## Plane Poiseuille flow (steady channel), projection solver")
    w("")
    w("Channel [0, 2] x [0, 1] with 2N x N cells, inflow u = 4 y (1 - y) at x = 0, outflow at x = 2, no-slip "
      "walls, nu = 0.1, implicit viscosity, initial u = 4 y (1 - y), CFL 0.5, to t = 2 "
      "(`<work>/cfg/poiseuille.yaml`). Error of u on x = 1 (mean of the two cell columns beside it) "
      "against 4 y (1 - y) at the cell centres; |v| on x = 1 should be 0.")
    w("")
    w("| N (cells across) | steps | max error of u | order | RMS error | order | max \\|v\\| on x = 1 | max \\|div u\\| |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|")
    prev = None
    for r in rows:
        w(f"| {r['n']} | {r['steps']} | {r['err']:.3e} | {fmt_order(order(prev['err'], r['err']) if prev else float('nan'))} | "
          f"{r['rms']:.3e} | {fmt_order(order(prev['rms'], r['rms']) if prev else float('nan'))} | {r['vmax']:.1e} | {r['div']:.1e} |")
        prev = r
    w("")


# ---------------------------------------------------------------------------------------------
# Spectral Taylor-Green


def spectral(work: str, w) -> None:
    rows = []
    for d in sorted(glob.glob(os.path.join(work, "spectral_tg_*"))):
        s = load_summary(d)
        if s is None:
            continue
        cfg = s["config"]
        nu = float(cfg["problem"]["viscosity"])
        drag = float(cfg["problem"].get("drag", 0.0) or 0.0)
        amp = float(cfg["initial"]["amplitude"])
        k = 2 * math.pi * float(cfg["initial"]["wavenumber"]) / float(cfg["grid"]["length"])
        outs = s["results"]["outputs"]  # per output: lists time, energy, ...
        times = np.asarray(outs["time"], float)
        exact = amp * amp / 4 * np.exp(-2 * (2 * nu * k * k + drag) * times)
        energy = np.asarray(outs["energy"], float)
        rows.append(dict(scheme=cfg["time"]["scheme"], n=cfg["grid"]["cells"], dt=cfg["time"]["dt"],
                         t=float(times[-1]), energy=float(energy[-1]), exact=float(exact[-1]),
                         worst=float(np.max(np.abs(energy - exact) / exact)), nu=nu))
    if not rows:
        return
    w("## Taylor-Green vortex, spectral solver")
    w("")
    w("`apps/configs/spectral_taylor_green.yaml` (64^2 on the unit torus, nu 0.01, A = 1, n = 1, dt 0.005, to t = 2) "
      "with `--set time.scheme=<scheme>`: summary.json results.outputs energy 1/2 <|u|^2> against "
      "E(t) = A^2/4 exp(-4 nu k^2 t), k = 2 pi, every 0.2. The convergence orders in dt (cn_rk2 and rk4_cn "
      "2.00, if_rk4 at round-off; nonlinear self-convergence 2.00 / 2.00 / 3.99) are measured by the tests "
      "and tabulated in docs/spectral.md ('Validation (measured)').")
    w("")
    w("| scheme | grid | dt | E(t_end) | exact | max relative error over the outputs |")
    w("|---|---|---:|---:|---:|---:|")
    for r in rows:
        w(f"| {r['scheme']} | {r['n'][0]}x{r['n'][1]} | {r['dt']} | {r['energy']:.12f} | {r['exact']:.12f} | {r['worst']:.2e} |")
    w("")


# ---------------------------------------------------------------------------------------------

RESULTS = "."


def main(argv=None) -> int:
    global RESULTS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report")
    r.add_argument("--work", required=True)
    r.add_argument("--results", required=True)
    r.add_argument("--img-dir", default="docs/img")
    r.add_argument("--machine", default="?")
    r.add_argument("--load", default="?")
    r.add_argument("--command", default="bench/ns_validation.sh")
    r.add_argument("--fluxion", default="build/release/apps/fluxion/fluxion")
    a = ap.parse_args(argv)
    RESULTS = a.results
    import datetime

    lines: list[str] = []
    w = lines.append
    w("# Flow solver validation (issue 7)")
    w("")
    w(f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    w(f"- machine: {a.machine}; load average when the report was written: {a.load} "
      "(machine shared with builds: CPU seconds are not clean)")
    w(f"- command: `{a.command}` (runs in `--work`, one at a time; each run's command line is in its cmd.txt; "
      f"binary {a.fluxion})")
    w(f"- binary build time(s) of the runs: {binary_stamps(a.work)}")
    w("- max |div u|: summary.json results.totals.max_divergence, the largest after any projection of the run")
    w("")
    cavity(a.work, a.img_dir, w)
    taylor_green(a.work, w)
    poiseuille(a.work, w)
    spectral(a.work, w)
    os.makedirs(os.path.dirname(os.path.abspath(a.results)), exist_ok=True)
    with open(a.results, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
