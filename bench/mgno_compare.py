#!/usr/bin/python3
"""MgNO against FNO and U-Net on the Darcy data set (issue 9): evaluates trained models (from
`fluxion train apps/configs/<model>_darcy.yaml`) on the 64^2 test split and zero-shot on the 128^2
one, and writes the comparison table (bench/results/mgno_darcy_<date>.md, .json) and the plots
docs/mgno_error_vs_parameters.png and docs/mgno_validation_vs_time.png.

  /usr/bin/python3 bench/mgno_compare.py [--models mgno fno unet] [--runs fluxion-out]
      [--test fluxion-out/darcy_dataset/run_test.h5] [--test128 fluxion-out/darcy_dataset_128/run_test.h5]

bench/mgno_darcy.sh runs the whole study (data, training, this script)."""
import argparse
import csv
import datetime
import json
import pathlib
import subprocess
import sys
import tempfile

import machine

ROOT = pathlib.Path(__file__).resolve().parent.parent


def evaluate(fluxion, model, model_file, test, out):
    cfg = out.with_suffix(".yaml")
    cfg.write_text(f"model: {model}\nmodel_file: {model_file}\ndata: {{test: {test}}}\npredictions: false\n")
    r = subprocess.run([fluxion, "eval", str(cfg), "-o", str(out)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"fluxion eval {cfg} failed:\n{r.stderr[-1500:]}")
    return json.loads((out / "summary.json").read_text())["results"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fluxion", default=str(ROOT / "build/release/apps/fluxion/fluxion"))
    p.add_argument("--models", nargs="+", default=["mgno", "fno", "unet"])
    p.add_argument("--runs", default=str(ROOT / "fluxion-out"), help="folder holding <model>_darcy/")
    p.add_argument("--test", default=str(ROOT / "fluxion-out/darcy_dataset/run_test.h5"))
    p.add_argument("--test128", default=str(ROOT / "fluxion-out/darcy_dataset_128/run_test.h5"))
    p.add_argument("--out", default=str(ROOT / "bench/results"))
    p.add_argument("--docs", default=str(ROOT / "docs"))
    a = p.parse_args()
    date = datetime.date.today().isoformat()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in a.models:
            run = pathlib.Path(a.runs) / f"{model}_darcy"
            train = json.loads((run / "summary.json").read_text())["results"]
            history = list(csv.DictReader((run / "loss.csv").open()))
            row = {"model": model, "parameters": train["parameters"], "epochs": train["epochs"],
                   "stopped_by": train["stopped_by"], "training_seconds": train["training_seconds"],
                   "best_validation_h1": train["best_validation_loss"],
                   "history": [{k: float(v) for k, v in h.items()} for h in history]}
            e64 = evaluate(a.fluxion, model, run / "model.pt", a.test, pathlib.Path(tmp) / f"{model}64")
            row.update({"l2": e64["relative_l2"], "h1": e64["relative_h1"],
                        "ms_per_sample": 1e3 * e64["inference_seconds"] / e64["samples"]})
            if pathlib.Path(a.test128).exists():
                e128 = evaluate(a.fluxion, model, run / "model.pt", a.test128, pathlib.Path(tmp) / f"{model}128")
                row.update({"l2_128": e128["relative_l2"], "h1_128": e128["relative_h1"]})
            rows.append(row)
            print(model, {k: v for k, v in row.items() if k != "history"}, flush=True)
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"mgno_darcy_{date}"
    stem.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = [f"# MgNO, FNO and U-Net on Darcy 64^2 ({date})", "",
             f"Machine: {machine.cpu_model()}, {machine.cpus()} CPUs; each model trained on 1 thread "
             f"(apps/configs/<model>_darcy.yaml). Command: `/usr/bin/python3 bench/mgno_compare.py "
             f"{' '.join(sys.argv[1:])}`.", "",
             "Test split: 100 pairs; errors are means over the samples (relative, per sample). "
             "128^2: the same models, not retrained, on the 128^2 test split (zero-shot).", "",
             "| model | parameters | epochs | training s | test rel. L2 | test rel. H1 | 128^2 rel. L2 | "
             "128^2 rel. H1 | inference ms/sample |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['parameters']} | {r['epochs']} ({r['stopped_by']}) | "
                     f"{r['training_seconds']:.0f} | {r['l2']:.3e} | {r['h1']:.3e} | "
                     f"{r.get('l2_128', float('nan')):.3e} | {r.get('h1_128', float('nan')):.3e} | "
                     f"{r['ms_per_sample']:.2f} |")
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for r in rows:
        ax.scatter(r["parameters"], r["l2"], s=40)
        ax.annotate(r["model"], (r["parameters"], r["l2"]), textcoords="offset points", xytext=(5, 5))
    ax.set_xlabel("parameters")
    ax.set_ylabel("test relative L2 error (64^2)")
    ax.set_yscale("log")
    ax.set_title(f"Darcy 64^2, same CPU budget ({date})", fontsize=9)
    fig.tight_layout()
    fig.savefig(pathlib.Path(a.docs) / "mgno_error_vs_parameters.png", dpi=120)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for r in rows:
        t = [sum(h["seconds"] for h in r["history"][: i + 1]) / 60 for i in range(len(r["history"]))]
        ax.plot(t, [h["validation_loss"] for h in r["history"]], label=r["model"])
    ax.set_xlabel("training time (minutes, 1 thread)")
    ax.set_ylabel("validation relative H1 error")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title(f"Darcy 64^2 ({date})", fontsize=9)
    fig.tight_layout()
    fig.savefig(pathlib.Path(a.docs) / "mgno_validation_vs_time.png", dpi=120)


if __name__ == "__main__":
    main()
