#!/usr/bin/python3
"""Summarise and plot bench/heat_sequence.sh (issue 3, benchmark 2).

usage: /usr/bin/python3 bench/heat_sequence.py OUTDIR RESULT.md IMGDIR

Reads OUTDIR/<grid>/<policy>/summary.json (+ uptime.txt, command.txt) and writes the Markdown
result file (machine, date, commands, load; the summary tables and the claims of
docs/learned-relaxation.md, each computed here; one full table per grid) and IMGDIR/heat_sequence.png.
Best fixed in hindsight = the fixed omega with the fewest total iterations among the 20 arms
1.00..1.95 (the arms the learners choose from); the script says so when that best lies on the edge
of the grid. Instance-optimal (approximate) = per-step minimum of the iterations over the 20 fixed
runs.
"""
import json, os, re, sys
import numpy as np

ARMS = ["fixed_%.2f" % (1.0 + 0.05 * i) for i in range(20)]
LEARNERS = ["tsallis_inf", "tsallis_inf_cb", "chebcb"]
REFS = ["cg_none", "cg_icc"]
# the fixed omegas shown in the summary tables (all 20 are in the per-grid tables)
SHOWN = ["fixed_1.00", "fixed_1.20", "fixed_1.40", "fixed_1.60", "fixed_1.80", "fixed_1.90", "fixed_1.95"]
LABEL = {"best_fixed": "best fixed omega in hindsight (of 20)",
         "instance_opt": "instance-optimal (approx., per-step min of the 20 fixed runs)",
         "tsallis_inf": "Tsallis-INF", "tsallis_inf_cb": "Tsallis-INF-CB (5 bins, kappa dt)",
         "chebcb": "ChebCB (6 terms, kappa dt)", "cg_none": "CG, no preconditioner (PETSc)",
         "cg_icc": "CG + ICC(0) (PETSc)"}
for p in ARMS:
    LABEL[p] = "fixed omega %s" % p[6:]
HIGH, LOW = 1e-3, 1e-4  # kappa dt thresholds of the "high" and "low" halves of a period


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
    """best fixed of the 20 arms and the approximate instance-optimal policy for grid g."""
    out = {}
    arms = [p for p in ARMS if (g, p) in runs]
    if arms:
        b = min(arms, key=lambda p: runs[(g, p)]["total_it"])
        i = ARMS.index(b)
        # interior: both neighbouring arms ran and cost more (the edges of the 20 arms never are)
        interior = 0 < i < 19 and all((g, ARMS[j]) in runs for j in (i - 1, i + 1))
        out["best_fixed"] = dict(runs[(g, b)], which=b, complete=len(arms) == 20, interior=interior,
                                 ran=len(arms))
    if len(arms) == 20:
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


def get(runs, g, p):
    return derived(runs, g).get(p) if p in ("best_fixed", "instance_opt") else runs.get((g, p))


def table(runs, g):
    d = derived(runs, g)
    rows = []
    bf = d.get("best_fixed")
    for p in ARMS + ["best_fixed", "instance_opt"] + LEARNERS + REFS:
        r = get(runs, g, p)
        if r is None:
            continue
        name = LABEL.get(p, p)
        if r.get("which"):
            name += " = omega %s" % r["which"][6:]
        ri = "%.3f" % (r["total_it"] / bf["total_it"]) if bf else ""
        rs = "%.2f" % (r["solve_s"] / bf["solve_s"]) if bf else ""
        om = ""
        if r.get("omega") is not None and p in LEARNERS:
            om = "%.2f" % np.median(r["omega"][-1000:])
        wall = "%.1f" % r["wall_s"] if r.get("wall_s") else "–"
        rows.append("| %s | %s | %.2f | %.2f | %s | %s | %s | %s | %s | %s |" % (
            name, f"{int(r['total_it']):,}", r["total_it"] / r["steps"], r["solve_s"], wall, ri, rs,
            om, r["nonconv"], r["load"]))
    head = ("| policy | total iterations | per step | solve s | run wall s | iterations / best fixed "
            "| solve s / best fixed | median omega, last 1000 steps | non-converged | load before→after |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    return head + "\n" + "\n".join(rows)


def summary_tables(runs, grids):
    """The two tables of docs/learned-relaxation.md: iterations and solve seconds per policy and grid."""
    L = ["| policy | " + " | ".join("%d^2 | / best" % g for g in grids) + " |",
         "|---|" + "---|---|" * len(grids)]
    for p in SHOWN + ["best_fixed", "instance_opt"] + LEARNERS + REFS:
        cells = []
        for g in grids:
            r, bf = get(runs, g, p), get(runs, g, "best_fixed")
            if r is None or bf is None:
                cells += ["not run", ""]
                continue
            v = f"{int(r['total_it']):,}"
            if p == "best_fixed":
                v += " (%s)" % r["which"][6:]
            cells += [v, "%.2f" % (r["total_it"] / bf["total_it"])]
        L.append("| %s | %s |" % (LABEL[p], " | ".join(cells)))
    T = ["| policy | " + " | ".join("%d^2" % g for g in grids) + " |", "|---|" + "---|" * len(grids)]
    for p in ["best_fixed"] + LEARNERS + REFS:
        cells = []
        for g in grids:
            r, bf = get(runs, g, p), get(runs, g, "best_fixed")
            if r is None or bf is None:
                cells.append("not run")
            elif p == "best_fixed":
                cells.append("%.2f" % r["solve_s"] if r["solve_s"] < 10 else "%.1f" % r["solve_s"])
            else:
                s = "%.2f" % r["solve_s"] if r["solve_s"] < 10 else "%.1f" % r["solve_s"]
                cells.append("%s (%.2f)" % (s, r["solve_s"] / bf["solve_s"]))
        T.append("| %s | %s |" % (LABEL[p], " | ".join(cells)))
    return L, T


def rng(vals, fmt="%.2f"):
    lo, hi = min(vals), max(vals)
    return fmt % lo if fmt % lo == fmt % hi else (fmt % lo) + "–" + (fmt % hi)


def claims(runs, grids):
    """Every number quoted in the prose of docs/learned-relaxation.md, section 3."""
    L = []
    full = [g for g in grids if "instance_opt" in derived(runs, g)]
    # 1. best fixed per grid, and whether it is interior to the tested grid
    parts, edge = [], []
    for g in grids:
        bf = get(runs, g, "best_fixed")
        if bf is None:
            continue
        parts.append("%d^2: %s%s" % (g, bf["which"][6:], "" if bf["complete"] else " (of the %d arms run)" % bf["ran"]))
        if not bf["interior"]:
            edge.append(g)
    L.append("- Best fixed omega per grid: %s. %s" % (", ".join(parts),
             "It is not interior (a neighbouring arm is missing or it is 1.00 or 1.95) at %s: widen the grid there." %
             ", ".join("%d^2" % g for g in edge) if edge else
             "At every grid both neighbouring arms (omega +- 0.05) ran and cost more: the best is interior."))
    worst = []
    for g in grids:
        bf = get(runs, g, "best_fixed")
        if bf is None:
            continue
        w = max((p for p in ARMS if (g, p) in runs), key=lambda p: runs[(g, p)]["total_it"])
        worst.append("%d^2: omega %s costs %.2fx the best" % (g, w[6:], runs[(g, w)]["total_it"] / bf["total_it"]))
    L.append("- Worst fixed omega per grid: %s." % "; ".join(worst))
    # 2. Tsallis-INF against best fixed
    ti = [(g, get(runs, g, "tsallis_inf"), get(runs, g, "best_fixed")) for g in grids]
    ti = [(g, r, b) for g, r, b in ti if r is not None and b is not None]
    if ti:
        L.append("- Tsallis-INF / best fixed: iterations %s, solve time %s; median omega over the last 1000 steps: %s." % (
            ", ".join("%.3f" % (r["total_it"] / b["total_it"]) for _, r, b in ti),
            ", ".join("%.2f" % (r["solve_s"] / b["solve_s"]) for _, r, b in ti),
            ", ".join("%.2f (%d^2)" % (np.median(r["omega"][-1000:]), g) for g, r, _ in ti)))
    # 3. ChebCB against every fixed omega and the instance-optimal policy
    for g in grids:
        c, bf = get(runs, g, "chebcb"), get(runs, g, "best_fixed")
        if c is None or bf is None:
            continue
        beats = c["total_it"] < bf["total_it"]
        s = "- ChebCB at %d^2: %s iterations = %.3f x the best fixed omega (%s, %s): %s every fixed omega %s by %.1f%% in iterations; solve time %.2f x" % (
            g, f"{int(c['total_it']):,}", c["total_it"] / bf["total_it"], bf["which"][6:], f"{int(bf['total_it']):,}",
            "**beats**" if beats else "**does not beat**", "tested" if bf["complete"] else "run (%d of the 20)" % bf["ran"],
            100 * abs(1 - c["total_it"] / bf["total_it"]), c["solve_s"] / bf["solve_s"])
        io = get(runs, g, "instance_opt")
        if io is not None:
            s += "; %.3f x the approximate instance-optimal" % (c["total_it"] / io["total_it"])
        om, kd = c["omega"][-1000:], c["kdt"][-1000:]
        hi, lo = om[kd > HIGH], om[kd < LOW]
        s += "; over the last 1000 steps its median omega is %.2f when kappa dt > %g (%d steps) and %.2f when kappa dt < %g (%d steps)" % (
            np.median(hi), HIGH, len(hi), np.median(lo), LOW, len(lo))
        L.append(s + ".")
    # 4. Tsallis-INF-CB
    tc = [(g, get(runs, g, "tsallis_inf_cb"), get(runs, g, "best_fixed")) for g in grids]
    tc = [(g, r, b) for g, r, b in tc if r is not None and b is not None]
    if tc:
        L.append("- Tsallis-INF-CB / best fixed: %s." % ", ".join("%.3f (%d^2)" % (r["total_it"] / b["total_it"], g) for g, r, b in tc))
        c = tc[0][1]
        edges = np.linspace(0, 0.01, 6)
        counts = np.histogram(np.clip(c["kdt"], 0, 0.01), bins=edges)[0]
        L.append("  Steps per bin of [0, 0.01] (5 equal bins): %s of %d." % (", ".join(str(n) for n in counts), len(c["kdt"])))
    # 5. where the iterations are: steps with kappa dt > 1e-3
    for g in grids:
        share, low_mean = [], []
        for p in ARMS + LEARNERS:
            r = runs.get((g, p))
            if r is None:
                continue
            m = r["kdt"] > HIGH
            share.append(r["it"][m].sum() / r["it"].sum())
            low_mean.append(r["it"][~m].mean())
        if share:
            L.append("- %d^2, every SSOR run (%d: fixed and learned omega): steps with kappa dt > %g carry %s of the "
                     "iterations; the other steps cost %s iterations on average." % (
                         g, len(share), HIGH, rng([100 * s for s in share], "%.0f%%"), rng(low_mean, "%.1f")))
    # 6. references
    for g in grids:
        bf, c = get(runs, g, "best_fixed"), get(runs, g, "chebcb")
        n, i = get(runs, g, "cg_none"), get(runs, g, "cg_icc")
        if None in (bf, c, n, i):
            continue
        L.append("- References at %d^2: CG without preconditioner %.2fx the best fixed iterations (%.2fx its solve "
                 "time); ICC(0)-CG %.2fx the iterations (%.2fx the solve time, %.2fx ChebCB's iterations)." % (
                     g, n["total_it"] / bf["total_it"], n["solve_s"] / bf["solve_s"], i["total_it"] / bf["total_it"],
                     i["solve_s"] / bf["solve_s"], i["total_it"] / c["total_it"]))
    # 7. whole run against its solves at the largest grid
    g = max(grids)
    parts = []
    for p in ["best_fixed", "chebcb", "cg_icc"]:
        r = get(runs, g, p)
        if r is not None and r.get("wall_s"):
            parts.append("%s %.1f s run / %.1f s solves = %.2fx" % (LABEL[p] if p != "best_fixed" else "best fixed",
                                                                    r["wall_s"], r["solve_s"], r["wall_s"] / r["solve_s"]))
    if parts:
        L.append("- Whole `fluxion run` against its solve time at %d^2: %s." % (g, "; ".join(parts)))
    if full:
        L.append("- Approximate instance-optimal available at: %s." % ", ".join("%d^2" % g for g in full))
    return L


def plot(runs, grids, imgdir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    fig, ax = plt.subplots(1, 2, figsize=(13, 5))
    style = {"fixed_1.00": ("0.8", "-"), "fixed_1.20": ("0.65", "-"), "fixed_1.40": ("0.5", "-"),
             "fixed_1.60": ("0.35", "-"), "fixed_1.80": ("0.2", "-"), "fixed_1.95": ("0.05", "-"),
             "best_fixed": ("tab:brown", "--"), "instance_opt": ("k", ":"), "tsallis_inf": ("tab:blue", "-"),
             "tsallis_inf_cb": ("tab:orange", "-"), "chebcb": ("tab:red", "-"),
             "cg_none": ("tab:green", "--"), "cg_icc": ("tab:purple", "--")}
    for p, (c, ls) in style.items():
        xs, ys = [], []
        for g in grids:
            r = get(runs, g, p)
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
        r = get(runs, g, p)
        if r is not None:
            label = LABEL.get(p, p) + (" = omega %s" % r["which"][6:] if r.get("which") else "")
            ax[1].plot(np.arange(1, len(r["it"]) + 1), np.cumsum(r["it"]), ls, color=c, lw=1.2, label=label)
    kd = runs.get((g, "chebcb"), {}).get("kdt")
    if kd is not None:
        a2 = ax[1].twinx()
        a2.fill_between(np.arange(1, len(kd) + 1), kd, color="tab:cyan", alpha=0.12, lw=0)
        a2.set_ylabel("kappa(t) dt (shaded)")
    steps = runs[(g, "chebcb")]["steps"] if (g, "chebcb") in runs else ""
    ax[1].set_xlabel("time step"); ax[1].set_ylabel("cumulative iterations")
    ax[1].set_title("Cumulative iterations, %d x %d grid, %s steps" % (g, g, steps))
    ax[1].legend(fontsize=6, loc="upper left")
    ax[1].grid(True, alpha=0.3)
    fig.suptitle("Heat sequence (Crank-Nicolson, dt 1e-3), SSOR-PCG with fixed / learned omega "
                 "(bench/heat_sequence.sh + heat_sequence.py)")
    fig.tight_layout()
    out = os.path.join(imgdir, "heat_sequence.png")
    fig.savefig(out, dpi=110)
    print("wrote", out)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    outdir, md, imgdir = sys.argv[1:4]
    runs = load(outdir)
    grids = sorted({g for g, _ in runs})
    lines = ["# Heat-equation sequence with SSOR-PCG (issue 3, benchmark 2)", ""]
    date = open(os.path.join(outdir, "date.txt")).read().strip()
    cpu = {}
    for l in open(os.path.join(outdir, "lscpu.txt")):
        k, _, v = l.partition(":")
        cpu[k.strip()] = v.strip()
    rd = lambda name: open(os.path.join(outdir, name)).read().strip() if os.path.exists(os.path.join(outdir, name)) else "?"
    lines += ["- date (start of the runs): %s" % date,
              "- machine (lscpu): %s, %s CPUs; Debian 12 VM shared with other engineers (load per run "
              "below)" % (cpu.get("Model name"), cpu.get("CPU(s)")),
              "- source tree: `%s` (git describe of the checkout when the sweep last started; the FLUXION binary may be older)" % rd("git.txt"),
              "- load at start: `%s`" % rd("uptime_start.txt"),
              "- load at end: `%s`" % rd("uptime_end.txt"),
              "- command (a sweep continued after an interruption lists each start): %s; then "
              "`/usr/bin/python3 bench/heat_sequence.py %s %s %s`" % (
                  "; ".join("`%s`" % l for l in rd("command.txt").splitlines()), outdir, md, imgdir)]
    if (grids[-1], "chebcb") in runs:
        lines.append("- one run's command, e.g.: `%s`" % runs[(grids[-1], "chebcb")]["cmd"])
    lines += ["", "Iteration counts are deterministic (the same binary gives the same counts at any load); the "
              "seconds depend on the load.", "",
              "Columns: total iterations over the steps; solve s = sum of the per-step solve "
              "wall times (summary.json `totals.solve_seconds`; excludes assembly, the source "
              "evaluation and the per-step operator rebuild); run wall s = the whole `fluxion run`; "
              "ratios against the best fixed omega in hindsight among the 20 arms 1.00..1.95. "
              "Instance-optimal: per-step minimum of the iterations over the 20 fixed runs, seconds of the "
              "same run; approximate because each run's warm start (the previous step's solution) differs "
              "slightly between runs (to rtol 1e-8), so the 20 runs do not solve bit-identical systems.", "",
              "## Summary (the tables of docs/learned-relaxation.md)", "",
              "Total iterations over the steps, and the ratio to the best fixed omega:", ""]
    iterations, seconds = summary_tables(runs, grids)
    lines += iterations + ["", "Solve time (s; ratio to the best fixed omega's):", ""] + seconds
    lines += ["", "## Claims (computed)", ""] + claims(runs, grids) + [""]
    for g in grids:
        steps = next((r["steps"] for (gg, _), r in runs.items() if gg == g), 0)
        lines += ["## %d x %d cells (%d steps)" % (g, g, steps), "", table(runs, g), ""]
    open(md, "w").write("\n".join(lines) + "\n")
    print("wrote", md)
    plot(runs, grids, imgdir)


if __name__ == "__main__":
    main()
