#!/usr/bin/python3
"""Summarise and plot bench/heat_sequence.sh (issue 3, benchmark 2).

usage: /usr/bin/python3 bench/heat_sequence.py OUTDIR RESULT.md IMGDIR

Reads OUTDIR/<grid>/<policy>/summary.json (+ uptime.txt, command.txt) and writes the Markdown
result file (machine, date, commands, load, one table per grid) and IMGDIR/heat_sequence.png.
Best fixed in hindsight = the best (fewest total iterations) of the five fixed omegas 1.0..1.8.
Instance-optimal (approximate) only at grids where all 20 arms 1.00..1.95 were run as fixed
policies: per-step minimum of the iterations over those 20 runs.
"""
import json, os, re, sys
import numpy as np

FIVE = ["fixed_1.00", "fixed_1.20", "fixed_1.40", "fixed_1.60", "fixed_1.80"]
ARMS = ["fixed_%.2f" % (1.0 + 0.05 * i) for i in range(20)]
ORDER = FIVE + ["best_fixed", "best_fixed_20", "instance_opt", "tsallis_inf", "tsallis_inf_cb",
                "chebcb", "cg_none", "cg_icc"]
LABEL = {"best_fixed": "best fixed in hindsight (of the 5)",
         "best_fixed_20": "best fixed of the 20-arm grid",
         "instance_opt": "instance-optimal (approx., per-step min of 20 fixed runs)",
         "tsallis_inf": "Tsallis-INF", "tsallis_inf_cb": "Tsallis-INF-CB (5 bins, kappa dt)",
         "chebcb": "ChebCB (6 terms, kappa dt)", "cg_none": "CG, no preconditioner (PETSc)",
         "cg_icc": "CG + ICC(0) (PETSc)"}
for p in ARMS:
    LABEL[p] = "fixed omega %s" % p[6:]


def load(outdir):
    runs = {}
    for g in sorted(os.listdir(outdir)):
        if not g.isdigit():
            continue
        for pol in sorted(os.listdir(os.path.join(outdir, g))):
            d = os.path.join(outdir, g, pol)
            f = os.path.join(d, "summary.json")
            if not os.path.exists(f):
                continue
            s = json.load(open(f))
            r = s["results"]
            st = r["steps"]
            up = open(os.path.join(d, "uptime.txt")).read().strip().splitlines()
            loads = [re.search(r"load average: ([\d.]+)", u).group(1) for u in up]
            runs[(int(g), pol)] = dict(
                it=np.array(st["iterations"], dtype=float), sec=np.array(st["seconds"]),
                omega=np.array(st["omega"]) if "omega" in st else None,
                kdt=np.array(st["kappa_dt"]) if "kappa_dt" in st else None,
                total_it=r["totals"]["iterations"], solve_s=r["totals"]["solve_seconds"],
                wall_s=s["wall_seconds"], nonconv=r["totals"]["nonconverged"],
                steps=r["totals"]["steps"], solver=r["solver"], load="%s→%s" % tuple(loads[:2]),
                cmd=open(os.path.join(d, "command.txt")).read().strip())
    return runs


def derived(runs, g):
    """best fixed (of 5), best of 20, instance-optimal approx. for grid g."""
    out = {}
    five = [p for p in FIVE if (g, p) in runs]
    if five:
        b = min(five, key=lambda p: runs[(g, p)]["total_it"])
        out["best_fixed"] = dict(runs[(g, b)], which=b)
    arms = [p for p in ARMS if (g, p) in runs]
    if len(arms) == 20:
        b = min(arms, key=lambda p: runs[(g, p)]["total_it"])
        out["best_fixed_20"] = dict(runs[(g, b)], which=b)
        its = np.array([runs[(g, p)]["it"] for p in arms])
        secs = np.array([runs[(g, p)]["sec"] for p in arms])
        k = its.argmin(axis=0)
        cols = np.arange(its.shape[1])
        it = its[k, cols]
        sec = secs[k, cols]
        out["instance_opt"] = dict(it=it, sec=sec, total_it=int(it.sum()), solve_s=float(sec.sum()),
                                   wall_s=None, nonconv=0, steps=its.shape[1], load="",
                                   omega=np.array([1.0 + 0.05 * i for i in k]), which=None)
    return out


def table(runs, g):
    d = derived(runs, g)
    rows = []
    bf = d.get("best_fixed")
    for p in ORDER:
        r = d.get(p) if p in d else runs.get((g, p))
        if r is None:
            continue
        name = LABEL.get(p, p)
        if r.get("which"):
            name += " = omega %s" % r["which"][6:]
        ri = "%.2f" % (r["total_it"] / bf["total_it"]) if bf else ""
        rs = "%.2f" % (r["solve_s"] / bf["solve_s"]) if bf else ""
        om = ""
        if r.get("omega") is not None and p in ("tsallis_inf", "tsallis_inf_cb", "chebcb"):
            last = r["omega"][-1000:]
            om = "%.2f" % np.median(last)
        wall = "%.1f" % r["wall_s"] if r.get("wall_s") else "–"
        rows.append("| %s | %s | %.2f | %.2f | %s | %s | %s | %s | %s | %s |" % (
            name, f"{int(r['total_it']):,}", r["total_it"] / r["steps"], r["solve_s"], wall, ri, rs,
            om, r["nonconv"], r["load"]))
    head = ("| policy | total iterations | per step | solve s | run wall s | iterations / best fixed "
            "| solve s / best fixed | median omega, last 1000 steps | non-converged | load before→after |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    return head + "\n" + "\n".join(rows), d


def plot(runs, grids, imgdir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    fig, ax = plt.subplots(1, 2, figsize=(13, 5))
    style = {"fixed_1.00": ("0.75", "-"), "fixed_1.20": ("0.6", "-"), "fixed_1.40": ("0.45", "-"),
             "fixed_1.60": ("0.3", "-"), "fixed_1.80": ("0.15", "-"),
             "instance_opt": ("k", ":"), "tsallis_inf": ("tab:blue", "-"),
             "tsallis_inf_cb": ("tab:orange", "-"), "chebcb": ("tab:red", "-"),
             "cg_none": ("tab:green", "--"), "cg_icc": ("tab:purple", "--")}
    for p, (c, ls) in style.items():
        xs, ys = [], []
        for g in grids:
            r = derived(runs, g).get(p) if p == "instance_opt" else runs.get((g, p))
            if r is not None:
                xs.append(g); ys.append(r["total_it"])
        if xs:
            ax[0].plot(xs, ys, ls, color=c, marker="o", ms=4, label=LABEL.get(p, p))
    ax[0].set_xscale("log"); ax[0].set_yscale("log")
    ax[0].set_xticks(grids); ax[0].set_xticklabels([str(g) for g in grids])
    ax[0].xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax[0].set_xlabel("grid cells per side"); ax[0].set_ylabel("total iterations over the sequence")
    ax[0].set_title("Total iterations per policy")
    ax[0].legend(fontsize=7); ax[0].grid(True, which="both", alpha=0.3)
    g = max(grids)
    for p, (c, ls) in style.items():
        r = derived(runs, g).get(p) if p == "instance_opt" else runs.get((g, p))
        if r is not None:
            ax[1].plot(np.arange(1, len(r["it"]) + 1), np.cumsum(r["it"]), ls, color=c, lw=1.2,
                       label=LABEL.get(p, p))
    kd = runs.get((g, "chebcb"), {}).get("kdt")
    if kd is not None:
        a2 = ax[1].twinx()
        a2.fill_between(np.arange(1, len(kd) + 1), kd, color="tab:cyan", alpha=0.12, lw=0)
        a2.set_ylabel("kappa(t) dt (shaded)")
    steps = runs[(g, "chebcb")]["steps"] if (g, "chebcb") in runs else ""
    ax[1].set_xlabel("time step"); ax[1].set_ylabel("cumulative iterations")
    ax[1].set_title("Cumulative iterations, %d x %d grid, %s steps" % (g, g, steps))
    ax[1].grid(True, alpha=0.3)
    fig.suptitle("Heat sequence (Crank-Nicolson, dt 1e-3), SSOR-PCG with fixed / learned omega")
    fig.tight_layout()
    out = os.path.join(imgdir, "heat_sequence.png")
    fig.savefig(out, dpi=110)
    print("wrote", out)


def main():
    outdir, md, imgdir = sys.argv[1:4]
    runs = load(outdir)
    grids = sorted({g for g, _ in runs})
    lines = ["# Heat-equation sequence with SSOR-PCG (issue 3, benchmark 2)", ""]
    date = open(os.path.join(outdir, "date.txt")).read().strip()
    cpu = {}
    for l in open(os.path.join(outdir, "lscpu.txt")):
        k, _, v = l.partition(":")
        cpu[k.strip()] = v.strip()
    lines += ["- date (start of the runs): %s" % date,
              "- machine (lscpu): %s, %s CPUs; Debian 12 VM shared with other engineers (load per run "
              "below)" % (cpu.get("Model name"), cpu.get("CPU(s)")),
              "- load at start: `%s`" % open(os.path.join(outdir, "uptime_start.txt")).read().strip()]
    if os.path.exists(os.path.join(outdir, "uptime_end.txt")):
        lines.append("- load at end: `%s`" % open(os.path.join(outdir, "uptime_end.txt")).read().strip())
    lines += ["- command: `bench/heat_sequence.sh %s` (2 runs at a time, one core each), then "
              "`/usr/bin/python3 bench/heat_sequence.py %s %s %s`" % (outdir, outdir, md, imgdir),
              "- one run's command, e.g.: `%s`" % runs[(grids[-1], "chebcb")]["cmd"] if (grids[-1], "chebcb") in runs else "",
              "", "Columns: total iterations over the steps; solve s = sum of the per-step solve "
              "wall times (summary.json `totals.solve_seconds`; excludes assembly, the source "
              "evaluation and the per-step operator rebuild); run wall s = the whole `fluxion run`; "
              "ratios against the best fixed omega of the five run (1.0, 1.2, 1.4, 1.6, 1.8), which is "
              "not the best of the 20-arm grid. Instance-optimal (only at grids where all 20 arms ran "
              "as fixed policies): per-step minimum of the iterations over those 20 runs, seconds of the "
              "same run; approximate because each run's warm start (the previous step's solution) differs "
              "slightly between runs (to rtol 1e-8), so the 20 runs do not solve bit-identical systems.", ""]
    for g in grids:
        t, d = table(runs, g)
        lines += ["## %d x %d cells (%d steps)" % (g, g, runs[(g, "fixed_1.00")]["steps"] if (g, "fixed_1.00") in runs else 0), "", t, ""]
        if "best_fixed_20" in d:
            arms = ["%s: %s" % (p[6:], f"{runs[(g, p)]['total_it']:,}") for p in ARMS]
            lines += ["All 20 fixed arms (total iterations): " + ", ".join(arms) + ".", ""]
    open(md, "w").write("\n".join(lines) + "\n")
    print("wrote", md)
    plot(runs, grids, imgdir)


if __name__ == "__main__":
    main()
