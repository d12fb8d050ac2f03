#!/usr/bin/python3
"""Plots and tables for docs/learned-relaxation.md.

  plot_bandit.py bandit CSV [OUTDIR]
      CSV from shifted_laplacian_bandit --csv: cumulative iterations against instance, one line per
      policy (linear axes; mean over seeds, band = min..max over seeds;
      right panel: the same divided by the instance-optimal policy's cumulative cost), one figure per variance:
      OUTDIR/shifted_laplacian_high.png and _low.png (OUTDIR defaults to docs/img).

  plot_bandit.py sweep JSON
      Google Benchmark JSON from sor_sweep_bench: prints a markdown table with ns per unknown,
      the bytes-per-unknown model, effective GB/s, the fraction of the triad bandwidth measured in
      the same run, and the speed-up over PETSc's MatSOR forward sweep.
"""
import csv
import json
import os
import sys
from collections import defaultdict


def bandit(path, outdir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    with open(path) as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    policies = header[4:]
    data = defaultdict(lambda: defaultdict(list))  # variance -> seed -> rows
    for r in rows:
        data[r[0]][int(r[1])].append([float(v) for v in r[4:]])
    style = {
        "Gauss-Seidel": ("k", "-"),
        "fixed omega": (None, ":"),
        "best fixed": ("tab:blue", "--"),
        "instance-optimal": ("tab:green", "--"),
        "Tsallis-INF-CB": ("tab:purple", "-"),
        "Tsallis-INF": ("tab:orange", "-"),
        "ChebCB": ("tab:red", "-"),
    }
    os.makedirs(outdir, exist_ok=True)
    for variance, seeds in data.items():
        arr = np.array([seeds[s] for s in sorted(seeds)])  # seeds x T x policies
        T = arr.shape[1]
        t = np.arange(1, T + 1)
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 5))
        io = [q for q, nm in enumerate(policies) if nm.startswith("instance-optimal")][0]
        ref = arr[:, :, io].mean(axis=0)
        for p, name in enumerate(policies):
            color, ls = None, "-"
            for key, (c, l) in style.items():
                if name.startswith(key):
                    color, ls = c, l
                    break
            if name.startswith("fixed omega"):  # shades of grey, darker for larger omega
                w = float(name.split()[-1])
                color = str(round(0.75 - (w - 1.2) * 0.8, 2))
            mean = arr[:, :, p].mean(axis=0)
            label = name
            if name.startswith("best fixed"):
                label = "best fixed in hindsight"
            ax.plot(t, mean, color=color, linestyle=ls, label=label, linewidth=1.6)
            ax2.plot(t, mean / ref, color=color, linestyle=ls, label=label, linewidth=1.6)
            if arr.shape[0] > 1:
                ax.fill_between(t, arr[:, :, p].min(axis=0), arr[:, :, p].max(axis=0), color=color, alpha=0.12,
                                linewidth=0)
        ax.set_xlabel("instance")
        ax.set_ylabel("cumulative SOR iterations")
        ax.set_title(f"Shifted Laplacian, {variance}-variance c_t ({arr.shape[0]} seeds, mean; band min-max)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
        ax2.set_ylim(0.9, 3.0)
        ax2.set_xlabel("instance")
        ax2.set_ylabel("cumulative cost / cumulative cost of instance-optimal")
        ax2.set_title("the same, relative to instance-optimal (mean over seeds)")
        ax2.grid(True, alpha=0.3)
        fig.tight_layout()
        out = os.path.join(outdir, f"shifted_laplacian_{variance}.png")
        fig.savefig(out, dpi=110)
        print(out)


def sweep(path):
    with open(path) as f:
        j = json.load(f)
    runs = [b for b in j["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    # Best (lowest time) of the repetitions of each benchmark.
    best = {}
    for b in runs:
        name = b["name"].split("/real_time")[0]
        name = name.rsplit("/repeats:", 1)[0]
        if name not in best or b["real_time"] < best[name]["real_time"]:
            best[name] = b
    triad = max((b["bytes_per_second"] for n, b in best.items() if n.startswith("BM_StreamTriad")), default=None)
    petsc = {}
    for n, b in best.items():
        if n.startswith("BM_PetscMatSOR_Forward"):
            petsc[n.split("/", 1)[1]] = b["ns_per_unknown"]
    print(f"Triad (best of the two triad runs): {triad / 1e9:.2f} GB/s\n")
    # The same from CPU time (less sensitive to preemption on a shared machine).
    best_cpu = {}
    for b in runs:
        name = b["name"].split("/real_time")[0].rsplit("/repeats:", 1)[0]
        if name not in best_cpu or b["cpu_time"] < best_cpu[name]["cpu_time"]:
            best_cpu[name] = b

    def cpu_ns(b):  # cpu_time is per iteration in the run's unit (ms here)
        return b["cpu_time"] * 1e6 / (b["items_per_second"] * b["real_time"] * 1e-3)

    triad_cpu = max(24.0 / cpu_ns(b) for n, b in best_cpu.items() if n.startswith("BM_StreamTriad"))
    petsc_cpu = {n.split("/", 1)[1]: cpu_ns(b) for n, b in best_cpu.items() if n.startswith("BM_PetscMatSOR_Forward")}
    print(f"Triad from CPU time: {triad_cpu:.2f} GB/s\n")
    print("Best wall time of the repetitions (first ns column) and best CPU time (second):\n")
    print("| kernel | problem | ms per sweep | ns per unknown | B per unknown (model) | effective GB/s | "
          "fraction of triad | speed-up over MatSOR forward | ns per unknown (CPU) | GB/s (CPU) | "
          "fraction of triad (CPU) | speed-up (CPU) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    order = ["BM_MatrixFreeSOR_Lexicographic", "BM_MatrixFreeSOR_RedBlack", "BM_PetscMatSOR_Forward"]
    for n, b in sorted(best.items(), key=lambda kv: (order.index(kv[0].split("/")[0]) if kv[0].split("/")[0] in order
                                                     else 99, kv[0])):
        if n.startswith("BM_StreamTriad"):
            continue
        kernel, args = n.split("/", 1)
        dim, cells = args.split("/")
        prob = f"{dim}D {cells}^{dim}"
        ns = b["ns_per_unknown"]
        gbs = b["bytes_per_second"] / 1e9
        sp = petsc.get(args, float("nan")) / ns
        print(f"| {kernel[3:]} | {prob} | {b['real_time']:.2f} | {ns:.2f} | {b['B_per_unknown']:.0f} | {gbs:.2f} | "
              f"{100 * b['bytes_per_second'] / triad:.0f}% | {sp:.2f}x | {cpu_ns(best_cpu[n]):.2f} | "
              f"{b['B_per_unknown'] / cpu_ns(best_cpu[n]):.2f} | "
              f"{100 * b['B_per_unknown'] / cpu_ns(best_cpu[n]) / triad_cpu:.0f}% | "
              f"{petsc_cpu.get(args, float('nan')) / cpu_ns(best_cpu[n]):.2f}x |")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "bandit":
        bandit(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "docs/img")
    elif len(sys.argv) == 3 and sys.argv[1] == "sweep":
        sweep(sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
