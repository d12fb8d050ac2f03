#!/usr/bin/python3
"""Table and figure of bench/dfg_cylinder.sh (run with /usr/bin/python3: Debian's numpy, matplotlib).

  dfg_cylinder.py --work DIR --results FILE --img-dir DIR [--window 3] --machine M --load L --command C

Reads the runs dfg2d1_<nx>x<ny> and dfg2d2_<nx>x<ny> in the work folder (summary.json
results.steps: time, drag_coefficient, lift_coefficient per step) and the published intervals of
data/reference/dfg_2d.json.

  * 2D-1: c_D and c_L of the last step (steady state). Observed order from three grids,
    p = log2(|c_1 - c_2| / |c_2 - c_3|), and from the error against FEATFLOW's high-accuracy
    reference, log2(|e_coarse| / |e_fine|) for each pair.
  * 2D-2: over the window t >= t_end - window: c_D max, c_L max (the largest step values) and the
    Strouhal number St = f D / U_mean with D = 0.1, U_mean = 1, f from (i) the upward zero
    crossings of c_L - mean(c_L) (linear interpolation; f = (crossings - 1) / (t_last - t_first)) and
    (ii) the peak of the FFT of c_L resampled uniformly (linear interpolation, Hann window, 16x zero
    padding, parabolic interpolation of the peak).
"""
from __future__ import annotations

import argparse
import datetime
import glob
import json
import math
import os
import re
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
D = 0.1


def load(d: str):
    try:
        s = json.load(open(os.path.join(d, "summary.json")))
    except (OSError, ValueError):
        return None
    if s.get("status") != "completed":
        return None
    st = s["results"]["steps"]
    return s, np.asarray(st["time"], float), np.asarray(st["drag_coefficient"], float), \
        np.asarray(st["lift_coefficient"], float)


BOXES = ((0.1, 0.4, 0.1, 0.31), (0.05, 0.6, 0.05, 0.36), (0.12, 0.3, 0.12, 0.28))


def cv_force(path: str, box: tuple, nu: float, rho: float = 1.0) -> np.ndarray:
    """Force on the obstacle from a steady momentum balance on the box [x0, x1] x [y0, y1] (edges
    on cell faces, the cylinder inside): F = sum over the box edges of (sigma n - rho u (u . n)) ds,
    sigma = -p I + mu (grad u + grad u^T), from the last step of run.h5 (cell-centred velocity and
    pressure; face values as means of the two cells, normal derivatives as their difference,
    tangential ones as central differences). Independent of the staircase: converges with the field."""
    import h5py

    with h5py.File(path, "r") as f:
        key = sorted(f["fields/pressure"].keys())[-1]
        p = np.asarray(f["fields/pressure"][key][...], float)
        vel = np.asarray(f["fields/velocity"][key][...], float)
        x = np.asarray(f["geometry/x"][...], float)
        y = np.asarray(f["geometry/y"][...], float)
    u, v = vel[:, :, 0], vel[:, :, 1]
    hx, hy = x[1] - x[0], y[1] - y[0]
    mu = rho * nu
    i0, i1 = (int(round((b - x[0]) / hx)) for b in box[:2])
    j0, j1 = (int(round((b - y[0]) / hy)) for b in box[2:])
    force = np.zeros(2)
    rows, cols = slice(j0, j1), slice(i0, i1)
    for i, s in ((i0, -1.0), (i1, 1.0)):  # edges x = const, normal (s, 0)
        uf, vf, pf = (0.5 * (a[rows, i - 1] + a[rows, i]) for a in (u, v, p))
        ux, vx = (u[rows, i] - u[rows, i - 1]) / hx, (v[rows, i] - v[rows, i - 1]) / hx
        uy = sum(u[j0 + 1:j1 + 1, c] - u[j0 - 1:j1 - 1, c] for c in (i - 1, i)) / (4 * hy)
        force += np.array([np.sum((-pf + 2 * mu * ux) * s - rho * uf * uf * s),
                           np.sum(mu * (uy + vx) * s - rho * vf * uf * s)]) * hy
    for j, s in ((j0, -1.0), (j1, 1.0)):  # edges y = const, normal (0, s)
        uf, vf, pf = (0.5 * (a[j - 1, cols] + a[j, cols]) for a in (u, v, p))
        uy, vy = (u[j, cols] - u[j - 1, cols]) / hy, (v[j, cols] - v[j - 1, cols]) / hy
        vx = sum(v[r, i0 + 1:i1 + 1] - v[r, i0 - 1:i1 - 1] for r in (j - 1, j)) / (4 * hx)
        force += np.array([np.sum(mu * (uy + vx) * s - rho * uf * vf * s),
                           np.sum((-pf + 2 * mu * vy) * s - rho * vf * vf * s)]) * hx
    return force


def cells_of(d: str) -> tuple[int, int]:
    m = re.search(r"_(\d+)x(\d+)$", d)
    return int(m.group(1)), int(m.group(2))


def inside(v: float, iv: dict) -> str:
    lo, hi = iv["lower_bound"], iv["upper_bound"]
    if lo <= v <= hi:
        return "inside"
    off = lo - v if v < lo else v - hi
    return f"outside by {off:.3g} ({100 * off / (0.5 * (lo + hi)):.1f}%)"


def strouhal(t: np.ndarray, cl: np.ndarray, u_mean: float) -> tuple[float, float, int]:
    x = cl - cl.mean()
    up = np.where((x[:-1] < 0) & (x[1:] >= 0))[0]
    tc = t[up] - x[up] * (t[up + 1] - t[up]) / (x[up + 1] - x[up])
    f_zc = (len(tc) - 1) / (tc[-1] - tc[0]) if len(tc) >= 2 else float("nan")
    n = len(t)
    tu = np.linspace(t[0], t[-1], n)
    xu = np.interp(tu, t, x)
    xu = (xu - xu.mean()) * np.hanning(n)
    pad = 16 * n
    spec = np.abs(np.fft.rfft(xu, pad))
    freqs = np.fft.rfftfreq(pad, tu[1] - tu[0])
    k = int(np.argmax(spec[1:])) + 1
    if 0 < k < len(spec) - 1:
        a, b, c = np.log(spec[k - 1:k + 2] + 1e-300)
        delta = 0.5 * (a - c) / (a - 2 * b + c)
    else:
        delta = 0.0
    f_fft = (k + delta) * (freqs[1] - freqs[0])
    return f_zc * D / u_mean, f_fft * D / u_mean, max(len(tc) - 1, 0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--img-dir", default="docs/img")
    ap.add_argument("--window", type=float, default=3.0)
    ap.add_argument("--machine", default="?")
    ap.add_argument("--load", default="?")
    ap.add_argument("--command", default="bench/dfg_cylinder.sh")
    a = ap.parse_args(argv)
    ref = json.load(open(os.path.join(REPO, "data", "reference", "dfg_2d.json")))
    L: list[str] = []
    w = L.append
    w("# DFG flow around a cylinder (Schafer & Turek 1996), navier_stokes app")
    w("")
    w(f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    w(f"- machine: {a.machine}; load average when the report was written: {a.load} "
      "(machine shared with builds: CPU seconds are not clean)")
    w(f"- command: `{a.command}` (each run's command line is in `<work>/<run>/cmd.txt`)")
    stamps = sorted({open(p).read().strip() for p in glob.glob(os.path.join(a.work, "*", "binary.txt"))})
    w(f"- binary build time(s) of the runs: {', '.join(stamps) if stamps else 'not recorded'}")
    w("- published intervals and reference values: data/reference/dfg_2d.json; c = 2 F / (rho U_mean^2 D), "
      "forces from summary.json results.steps; D/h = 10 is 220 x 41 cells (h = 0.01)")
    w("- the cylinder is a staircase of whole cells (SolidMask: a cell is solid when its centre is inside), "
      "so the geometry itself is first-order accurate in h")
    w("")

    # ---- 2D-1
    iv1 = ref["cases"]["2D-1"]["intervals"]
    r1 = ref["cases"]["2D-1"]["reference"]
    rows = []
    for d in glob.glob(os.path.join(a.work, "dfg2d1_*")):
        got = load(d)
        if got is None:
            continue
        s, t, cd, cl = got
        nx, ny = cells_of(d)
        tot = s["results"]["totals"]
        rows.append(dict(nx=nx, ny=ny, dh=D / (2.2 / nx), cd=cd[-1], cl=cl[-1], t=tot["final_time"],
                         steps=tot["steps"], steady=tot.get("steady"), stop=tot.get("stop_reason", ""),
                         div=tot["max_divergence"], cpu=s["results"]["timings"]["cpu_steps"],
                         solid=s["results"].get("solid_cells"),
                         tol=s["config"]["time"].get("steady_tolerance")))
        u_mean = ref["cases"]["2D-1"]["U_mean"]
        cv = [2 * cv_force(os.path.join(d, "run.h5"), b, float(s["config"]["fluid"]["nu"])) / (u_mean ** 2 * D)
              for b in BOXES]
        rows[-1].update(cv_cd=cv[0][0], cv_cl=cv[0][1], cv_cd_spread=max(c[0] for c in cv) - min(c[0] for c in cv),
                        cv_cl_spread=max(c[1] for c in cv) - min(c[1] for c in cv))
    rows.sort(key=lambda r: r["nx"])
    if rows:
        w("## 2D-1: steady, Re 20")
        w("")
        w(f"apps/configs/cylinder_dfg_2d1.yaml with implicit viscosity, steady when max|u^(n+1) - u^n| / "
          f"(dt max|u|) <= {rows[0]['tol']}; coefficients of the last step. Published intervals: c_D "
          f"{iv1['c_D']['lower_bound']}-{iv1['c_D']['upper_bound']}, c_L {iv1['c_L']['lower_bound']}-"
          f"{iv1['c_L']['upper_bound']}; reference (FEATFLOW) c_D {r1['c_D']:.5f}, c_L {r1['c_L']:.5f}.")
        w("")
        w("| cells | D/h | solid cells | c_D | vs interval | error vs ref | order | c_L | vs interval | error vs ref | order | steady t | steps | CPU s | max \\|div u\\| |")
        w("|---|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
        prev = None
        for r in rows:
            ed, el = r["cd"] - r1["c_D"], r["cl"] - r1["c_L"]
            od = ol = ""
            if prev:
                od = f"{math.log(abs(prev['cd'] - r1['c_D']) / abs(ed), 2):.2f}"
                ol = f"{math.log(abs(prev['cl'] - r1['c_L']) / abs(el), 2):.2f}"
            w(f"| {r['nx']}x{r['ny']} | {r['dh']:.0f} | {r['solid']} | {r['cd']:.4f} | {inside(r['cd'], iv1['c_D'])} | {ed:+.4f} | {od} | "
              f"{r['cl']:.5f} | {inside(r['cl'], iv1['c_L'])} | {el:+.5f} | {ol} | {r['t']:.2f}"
              f"{'' if r['steady'] else ' (not steady)'} | {r['steps']} | {r['cpu']:.1f} | {r['div']:.1e} |")
            prev = r
        w("")
        w("The same runs, forces from a momentum balance on a box around the cylinder instead of the solver's "
          "staircase surface sum (`cv_force` in bench/dfg_cylinder.py: box [0.1, 0.4] x [0.1, 0.31]; 'spread' is "
          "the range over the boxes " + ", ".join(f"[{b[0]}, {b[1]}] x [{b[2]}, {b[3]}]" for b in BOXES) + "):")
        w("")
        w("| cells | c_D (box) | spread | error vs ref | order | c_L (box) | spread | error vs ref | order |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        prev = None
        for r in rows:
            ed, el = r["cv_cd"] - r1["c_D"], r["cv_cl"] - r1["c_L"]
            od = f"{math.log(abs(prev['cv_cd'] - r1['c_D']) / abs(ed), 2):.2f}" if prev else ""
            ol = f"{math.log(abs(prev['cv_cl'] - r1['c_L']) / abs(el), 2):.2f}" if prev else ""
            w(f"| {r['nx']}x{r['ny']} | {r['cv_cd']:.4f} | {r['cv_cd_spread']:.4f} | {ed:+.4f} | {od} | {r['cv_cl']:.5f} | "
              f"{r['cv_cl_spread']:.5f} | {el:+.5f} | {ol} |")
            prev = r
        if len(rows) >= 2:
            a_, b_ = rows[-2], rows[-1]
            w("")
            w(f"Richardson extrapolation of the box values assuming first order (2 c_fine - c_coarse, "
              f"{b_['nx']}x{b_['ny']} and {a_['nx']}x{a_['ny']}): c_D {2 * b_['cv_cd'] - a_['cv_cd']:.4f}, "
              f"c_L {2 * b_['cv_cl'] - a_['cv_cl']:.5f}.")
        if len(rows) >= 3:
            c = rows[-3:]
            w("")
            for key, name in (("cd", "the solver's c_D"), ("cl", "the solver's c_L"),
                              ("cv_cd", "the box c_D"), ("cv_cl", "the box c_L")):
                num, den = c[0][key] - c[1][key], c[1][key] - c[2][key]
                p = math.log(abs(num / den), 2) if den != 0 and num != 0 else float("nan")
                limit = c[2][key] - den * den / (num - den) if num != den else float("nan")
                w(f"- three-grid order of {name} (from the differences alone, no reference): {p:.2f}, limit "
                  f"(Aitken) {limit:.5g}{' (differences change sign: not in the asymptotic range)' if num * den < 0 else ''}")
        w("")

    # ---- 2D-2
    iv2 = ref["cases"]["2D-2"]["intervals"]
    u_mean = ref["cases"]["2D-2"]["U_mean"]
    runs = []
    for d in glob.glob(os.path.join(a.work, "dfg2d2_*")):
        got = load(d)
        if got is None:
            continue
        s, t, cd, cl = got
        nx, ny = cells_of(d)
        runs.append((nx, ny, s, t, cd, cl))
    runs.sort(key=lambda r: r[0])
    if runs:
        w("## 2D-2: periodic, Re 100")
        w("")
        w(f"apps/configs/cylinder_dfg_2d2.yaml with implicit viscosity (CFL 0.9, MacCormack), from rest; over the "
          f"last {a.window:g} s of the run (the shedding settled before). Published: c_D,max "
          f"{iv2['c_D_max']['lower_bound']}-{iv2['c_D_max']['upper_bound']}, c_L,max {iv2['c_L_max']['lower_bound']}-"
          f"{iv2['c_L_max']['upper_bound']}, St {iv2['St']['lower_bound']}-{iv2['St']['upper_bound']} "
          "(St = f D / U_mean, D = 0.1, U_mean = 1).")
        w("")
        w("| cells | D/h | t_end | c_D max | vs interval | c_L max | vs interval | St (zero crossings) | St (FFT) | vs interval | periods in window | c_D max, previous window minus last | steps | CPU s | max \\|div u\\| |")
        w("|---|---:|---:|---:|---|---:|---|---:|---:|---|---:|---|---:|---:|---:|")
        for nx, ny, s, t, cd, cl in runs:
            te = t[-1]
            m = t >= te - a.window
            mp = (t >= te - 2 * a.window) & ~m
            st_zc, st_fft, periods = strouhal(t[m], cl[m], u_mean)
            drift = f"{cd[mp].max() - cd[m].max():+.4f}" if mp.any() else ""
            tot = s["results"]["totals"]
            w(f"| {nx}x{ny} | {D / (2.2 / nx):.0f} | {te:.2f} | {cd[m].max():.4f} | {inside(cd[m].max(), iv2['c_D_max'])} | "
              f"{cl[m].max():.4f} | {inside(cl[m].max(), iv2['c_L_max'])} | {st_zc:.4f} | {st_fft:.4f} | "
              f"{inside(st_zc, iv2['St'])} | {periods} | {drift} | {tot['steps']} | "
              f"{s['results']['timings']['cpu_steps']:.1f} | {tot['max_divergence']:.1e} |")
        w("")
        w("'c_D max, previous window minus last': c_D max over the window before the last one minus c_D max over the last "
          "(how settled the periodic state is).")
        w("")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
        for nx, ny, s, t, cd, cl in runs:
            lab = f"{nx}x{ny} (D/h = {D / (2.2 / nx):.0f})"
            ax1.plot(t, cl, lw=0.9, label=lab)
            ax2.plot(t, cd, lw=0.9, label=lab)
        for ax, key in ((ax1, "c_L_max"), (ax2, "c_D_max")):
            ax.axhspan(iv2[key]["lower_bound"], iv2[key]["upper_bound"], color="k", alpha=0.15,
                       label=f"published {key.replace('_max', ',max')}")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8, loc="lower left")
        te = max(r[3][-1] for r in runs)
        ax1.axvline(te - a.window, color="gray", ls=":")
        ax2.axvline(te - a.window, color="gray", ls=":")
        ax1.set_ylabel("lift coefficient c_L")
        ax2.set_ylabel("drag coefficient c_D")
        ax2.set_xlabel("t")
        ax2.set_ylim(max(0.0, ax2.get_ylim()[0]), min(ax2.get_ylim()[1], 4.0))
        fig.suptitle("DFG 2D-2 (Re 100): lift and drag on the cylinder; window after the dotted line")
        fig.tight_layout()
        os.makedirs(a.img_dir, exist_ok=True)
        out = os.path.join(a.img_dir, "dfg_2d2_lift.png")
        fig.savefig(out, dpi=110)
        plt.close(fig)
        w(f"![DFG 2D-2 lift and drag]({os.path.relpath(out, os.path.dirname(os.path.abspath(a.results)))})")
        w("")
    os.makedirs(os.path.dirname(os.path.abspath(a.results)), exist_ok=True)
    with open(a.results, "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
