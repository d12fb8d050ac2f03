#!/usr/bin/python3
"""INSR (issue 11): the tables and figures from the runs of bench/insr.sh (fluxion-out/...),
written to bench/results/insr_<date>.md (.json) and docs/:

  docs/insr_advection.png     the pulse at t = 12 (exact, INSR, the midpoint rule's own solution) and
                              the relative L2 error over time (INSR against the PDE and against the
                              time stepping, and the stepping's own error)
  docs/insr_taylor_green.png  the velocity error over time (INSR) with the MAC solver's at t = 5, and
                              INSR's vorticity at t = 5
  docs/insr_elasticity.png    the energies of the falling square over time, and the deformed body at
                              a few steps

  /usr/bin/python3 bench/insr_report.py [--runs fluxion-out] [--out bench/results] [--docs docs]"""
import argparse
import datetime
import json
import pathlib

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import insr_splitting_reference as splitting  # noqa: E402
import machine  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAPER = {"advection": "3.0e-3 (5.33 GPU-hours); grid 1.46e-2", "taylor_green": "3.35e-4 (14 h)"}


def results(path):
    return json.loads((path / "summary.json").read_text())["results"]


def e(v):
    return f"{v:.3e}"


def advection_rows(runs, grid):
    adv = results(runs / "insr_advection")
    f = adv["final"]
    rows = [("INSR, midpoint rule, L-BFGS 100/step", adv["parameters"], adv["seconds"], f["max_error"],
             f["mean_abs_error"], f["relative_l2_error"], f["relative_l2_error_vs_stepping"]),
            ("midpoint rule, exact in space (Fourier series)", "-", None, None, None,
             f["stepping_relative_l2_error"], 0.0)]
    for r in grid["results"]:
        if r["points"] == 901 and r.get("mode", "fixed") == "fixed":
            name = {"cn2": "grid: Crank-Nicolson + 2nd-order central", "cn4": "grid: Crank-Nicolson + 4th-order central",
                    "gl4": "grid: Gauss-Legendre RK4 + 4th-order central",
                    "lw": f"grid: Lax-Wendroff, {r['substeps']} substeps per dt"}[r["scheme"]]
            rows.append((name, r["state_floats"], r["wall_seconds"], r["max_abs_error"], r["mean_abs_error"],
                         r["rel_l2_error"], None))
    return adv, rows


def variant_rows(runs, adv, steps=24):
    """The first `steps` steps: L-BFGS from the full run, the other optimisers and integrators."""
    h = adv["history"][steps]
    lbfgs_seconds = sum(r["seconds"] for r in adv["history"][1:steps + 1])
    lbfgs_its = sum(r["fits"]["step"]["iterations"] for r in adv["history"][1:steps + 1])
    rows = [("midpoint, L-BFGS (100 its)", lbfgs_seconds / steps, lbfgs_its / steps, h["relative_l2_error"],
             h["relative_l2_error_vs_stepping"], h["stepping_relative_l2_error"])]
    for name, folder in (("midpoint, Adam (authors': lr 1e-4, plateau, new points each iteration; 5000 its)",
                          "insr_advection_adam"),
                         ("midpoint, Levenberg-Marquardt (10 its, CG 30)", "insr_advection_gauss_newton"),
                         ("implicit Euler, L-BFGS (100 its)", "insr_advection_implicit_euler"),
                         ("explicit Euler, L-BFGS (100 its)", "insr_advection_explicit_euler")):
        path = runs / folder
        if not (path / "summary.json").exists():
            continue
        r = results(path)
        last = r["history"][-1]
        its = sum(x["fits"]["step"]["iterations"] for x in r["history"][1:]) / r["steps"]
        secs = sum(x["seconds"] for x in r["history"][1:]) / r["steps"]
        rows.append((name, secs, its, last["relative_l2_error"], last["relative_l2_error_vs_stepping"],
                     last["stepping_relative_l2_error"]))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default=str(ROOT / "fluxion-out"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--docs", default=str(ROOT / "docs"))
    a = ap.parse_args()
    runs, out, docs = pathlib.Path(a.runs), pathlib.Path(a.out), pathlib.Path(a.docs)
    date = datetime.date.today().isoformat()
    grid = json.loads((runs / "insr_grid_advection.json").read_text())
    mac = json.loads((runs / "insr_mac_taylor_green.json").read_text())
    fine = runs / "insr_mac_taylor_green_fine.json"
    if fine.exists():  # the MAC solver with smaller steps: what it does in a fraction of INSR's time
        mac["results"] += json.loads(fine.read_text())["results"]
    adv, adv_rows = advection_rows(runs, grid)
    var_rows = variant_rows(runs, adv)
    tg = results(runs / "insr_taylor_green")
    el = results(runs / "insr_elasticity")

    lines = [f"# INSR: fluxion's `insr` app against the grid solvers ({date})", "",
             f"Machine: {machine.cpu_model()}, {machine.cpus()} CPUs. Command: `bench/insr.sh` (every INSR run on one "
             "thread, one after the other; the grid baselines by bench/insr_grid_advection.py and "
             "bench/insr_mac_taylor_green.py); tables and figures by `bench/insr_report.py`. Errors at the last step "
             "against the exact solution: maximum, mean absolute and relative L2 (sqrt(sum e^2) / sqrt(sum u^2)) over "
             "the output grid's cell centres (INSR) or the solver's own points (grids). The paper's error metric is "
             "not stated in its code; its numbers are quoted as they are.", "",
             "## 1D advection, t = 12 (240 steps of 0.05)", "",
             "| method | memory (floats) | seconds | max error | mean abs error | rel L2 | rel L2 vs its own time stepping |",
             "|---|---|---|---|---|---|---|"]
    for name, mem, secs, mx, mean, rel, vs in adv_rows:
        lines.append(f"| {name} | {mem} | {'' if secs is None else f'{secs:.3g}'} | {'' if mx is None else e(mx)} | "
                     f"{'' if mean is None else e(mean)} | {e(rel)} | {'' if vs is None else e(vs)} |")
    lines += [f"| paper (INSR; grid) | 901 | | | | {PAPER['advection']} | |", "",
              "## 1D advection, optimisers and integrators: the first 24 steps (t = 1.2)", "",
              "| integrator, optimiser | seconds per step | iterations per step | rel L2 | rel L2 vs stepping | "
              "stepping's own rel L2 |", "|---|---|---|---|---|---|"]
    for name, secs, its, rel, vs, own in var_rows:
        lines.append(f"| {name} | {secs:.2f} | {its:.0f} | {e(rel)} | {e(vs)} | {e(own)} |")
    tf = tg["final"]
    # The splitting exact in space at the output grid's cell centres: the time stepping's own error.
    with h5py.File(runs / "insr_taylor_green" / "run.h5") as f:
        gx = f["geometry/x"][...]
        c = 0.5 * (gx[1:] + gx[:-1])
        X, Y = np.meshgrid(c, c)
        u = f["fields/velocity"][sorted(f["fields/velocity"])[-1]][...]
    split_errors, u_split = splitting.run(0.05, tg["steps"], 32, (X, Y))
    u_insr = np.stack([u[..., 0].ravel(), u[..., 1].ravel()])
    tg_vs_split = float(np.linalg.norm(u_insr - u_split) / np.linalg.norm(u_split))
    lines += ["", "## Taylor-Green vortex, t = 5 (100 steps of 0.05)", "",
              "| method | memory (floats) | dt | seconds | rel L2 | max error | mean abs error | rel L2 vs the exact-in-space splitting |",
              "|---|---|---|---|---|---|---|---|",
              f"| INSR, splitting (advect, pressure, project), L-BFGS 100/fit | {tg['parameters']} | 0.05 | "
              f"{tg['seconds']:.0f} | {e(tf['relative_l2_error'])} | {e(tf['max_error'])} | {e(tf['mean_abs_error'])} | "
              f"{e(tg_vs_split)} |",
              f"| the same splitting, exact in space (Fourier series; bench/insr_splitting_reference.py) | - | 0.05 | | "
              f"{e(split_errors[-1])} | | | 0 |"]
    for r in mac["results"]:
        if r.get("returncode") != 0:
            continue
        c = r["centres"]
        lines.append(f"| fluxion MAC, {r['advection']}, {r['cells']}^2 | {r['state_floats']} | {r['dt']:.4g} | "
                     f"{r['wall_seconds']:.1f} | {e(c['rel_l2'])} | {e(c['max_abs'])} | {e(c['mean_abs'])} | |")
    lines += [f"| paper (INSR) | 6627 | 0.05 | | {PAPER['taylor_green']} | | | |", "",
              "## Elastic square falling onto a plane (50 steps of 0.02)", "",
              "| step | t | kinetic | elastic | gravity | contact | total | lowest y |", "|---|---|---|---|---|---|---|---|"]
    for h in el["history"]:
        if h["step"] % 5 == 0:
            lines.append(f"| {h['step']} | {h['time']:.2f} | {h['kinetic_energy']:.4f} | {h['elastic_energy']:.4f} | "
                         f"{h['gravity_energy']:.4f} | {h['contact_energy']:.4f} | {h['total_energy']:.4f} | "
                         f"{h['lowest_y']:.4f} |")
    energy = [h["total_energy"] for h in el["history"]]
    rises = [(n, energy[n] - energy[n - 1]) for n in range(1, len(energy)) if energy[n] > energy[n - 1]]
    lines += ["", f"Elasticity: {el['parameters']} parameters, {el['seconds']:.0f} s, "
              f"{len(el['not_converged'])} of {el['steps']} steps short of their optimiser's tolerance; the total "
              "energy rises at steps " + (", ".join(f"{n} (+{d:.3g})" for n, d in rises) or "none") + ".",
              f"Taylor-Green: the first step took {tg['history'][1]['seconds']:.0f} s (the pressure network's first "
              f"fit runs the initial stages), the initial fit {tg['initial_seconds']:.0f} s.", ""]
    out.mkdir(parents=True, exist_ok=True)
    (out / f"insr_{date}.md").write_text("\n".join(lines))
    (out / f"insr_{date}.json").write_text(json.dumps(
        {"date": date, "machine": machine.cpu_model(), "cpus": machine.cpus(), "advection": adv_rows,
         "advection_variants": var_rows,
         "taylor_green": {"insr": tf, "seconds": tg["seconds"], "insr_vs_splitting": tg_vs_split,
                          "splitting_error": split_errors[-1]},
         "mac": [{k: r.get(k) for k in ("cells", "advection", "dt", "state_floats", "wall_seconds", "centres")}
                 for r in mac["results"]],
         "elasticity": [{k: h[k] for k in ("step", "time", "total_energy", "kinetic_energy", "elastic_energy",
                                           "gravity_energy", "contact_energy", "lowest_y")} for h in el["history"]]},
        indent=1))
    figures(runs, docs, adv, tg, el, mac, split_errors)
    print("\n".join(lines))


def figures(runs, docs, adv, tg, el, mac, split_errors):
    # Advection: the pulse at the end and the errors over time.
    with h5py.File(runs / "insr_advection" / "run.h5") as f:
        x = 0.5 * (f["geometry/x"][1:] + f["geometry/x"][:-1])
        last = sorted(f["fields/u"])[-1]
        u, exact = f["fields/u"][last][...].reshape(-1), f["fields/exact"][last][...].reshape(-1)
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
    ax[0].plot(x, exact, "k-", lw=1, label="exact")
    ax[0].plot(x, u, "C0--", lw=1.2, label="INSR (901 parameters)")
    ax[0].set_xlim(0.8, 2.0)
    ax[0].set_xlabel("x")
    ax[0].set_title("u at t = 12")
    ax[0].legend()
    t = [h["time"] for h in adv["history"]]
    ax[1].semilogy(t, [h["relative_l2_error"] for h in adv["history"]], "C0-", label="INSR vs exact")
    ax[1].semilogy(t[1:], [h["stepping_relative_l2_error"] for h in adv["history"][1:]], "k:",
                   label="midpoint rule (exact in space) vs exact")
    ax[1].semilogy(t, [h["relative_l2_error_vs_stepping"] for h in adv["history"]], "C1-", label="INSR vs midpoint rule")
    ax[1].set_xlabel("t")
    ax[1].set_title("relative L2 error")
    ax[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(docs / "insr_advection.png", dpi=90)
    plt.close(fig)
    # Taylor-Green: error over time and the final vorticity.
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    t = [h["time"] for h in tg["history"]]
    ax[0].semilogy(t, [h["relative_l2_error"] for h in tg["history"]], "C0-", label=f"INSR ({tg['parameters']} parameters)")
    ax[0].semilogy(t[1:], split_errors, "k:", label="the splitting, exact in space")
    for i, r in enumerate(r for r in mac["results"] if r.get("returncode") == 0):
        ax[0].semilogy([5.0], [r["centres"]["rel_l2"]], "o", color=f"C{i + 1}",
                       label=f"MAC {r['cells']}^2, dt {r['dt']:.2g} ({r['state_floats']} floats, {r['wall_seconds']:.0f} s)")
    ax[0].set_xlabel("t")
    ax[0].set_title("velocity, relative L2 error")
    ax[0].legend(fontsize=8)
    with h5py.File(runs / "insr_taylor_green" / "run.h5") as f:
        last = sorted(f["fields/vorticity"])[-1]
        w = f["fields/vorticity"][last][...]
    im = ax[1].imshow(w, origin="lower", extent=(-1, 1, -1, 1), cmap="RdBu_r")
    fig.colorbar(im, ax=ax[1])
    ax[1].set_title("INSR vorticity at t = 5 (exact: 2 sin X sin Y)")
    fig.tight_layout()
    fig.savefig(docs / "insr_taylor_green.png", dpi=90)
    plt.close(fig)
    # Elasticity: energies and the deformed body.
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    t = [h["time"] for h in el["history"]]
    for key, style in (("kinetic_energy", "C0-"), ("elastic_energy", "C1-"), ("gravity_energy", "C2-"),
                       ("contact_energy", "C3-"), ("total_energy", "k-")):
        ax[0].plot(t, [h[key] for h in el["history"]], style, label=key.replace("_", " "))
    ax[0].set_xlabel("t")
    ax[0].set_title("energies (per unit depth)")
    ax[0].legend(fontsize=8)
    with h5py.File(runs / "insr_elasticity" / "run.h5") as f:
        gx, gy = f["geometry/x"][...], f["geometry/y"][...]
        cx, cy = 0.5 * (gx[1:] + gx[:-1]), 0.5 * (gy[1:] + gy[:-1])
        X, Y = np.meshgrid(cx, cy)
        steps = sorted(f["fields/displacement"])
        # The body's outline (its outermost cell centres) at a few times, side by side.
        ring = [(j, i) for i in range(len(cx)) for j in (0,)] + [(j, len(cx) - 1) for j in range(len(cy))] + \
               [(len(cy) - 1, i) for i in reversed(range(len(cx)))] + [(j, 0) for j in reversed(range(len(cy)))]
        rows, cols = np.array([r for r, _ in ring]), np.array([c for _, c in ring])
        for i, s in enumerate(steps[::max(1, len(steps) // 7)]):
            d = f["fields/displacement"][s][...]
            px = X[rows, cols] + d[rows, cols, 0] + 1.3 * i
            py = Y[rows, cols] + d[rows, cols, 1]
            ax[1].fill(px, py, alpha=0.6, color=f"C{i % 10}")
            ax[1].text(1.3 * i, 0.6, f"t={f['fields/displacement'][s].attrs['time']:.2f}", ha="center", fontsize=7)
    ax[1].axhline(-1.0, color="k", lw=1)
    ax[1].set_aspect("equal")
    ax[1].set_ylim(-1.15, 0.9)
    ax[1].set_title("the body at a few times (shifted sideways; the plane y = -1)")
    fig.tight_layout()
    fig.savefig(docs / "insr_elasticity.png", dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
