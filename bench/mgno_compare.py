#!/usr/bin/python3
"""MgNO against its baselines (issue 9), from trained models (`fluxion train
apps/configs/<model>_<study>.yaml`), written as a table (bench/results/mgno_<study>_<date>.md,
.json) and plots in docs/.

--study darcy (default): MgNO, FNO and U-Net on the 64^2 Darcy test split and zero-shot on the
  128^2 one; docs/mgno_error_vs_parameters.png, docs/mgno_validation_vs_time.png.
--study ns: MgNO and FNO on the Navier-Stokes test trajectories, one step (t -> t + 1) and a
  10-step rollout from each trajectory's first snapshot; docs/mgno_ns_validation_vs_time.png.

  /usr/bin/python3 bench/mgno_compare.py [--study darcy|ns] [--models ...] [--runs fluxion-out]
      [--test FILE] [--test128 FILE]

bench/mgno_darcy.sh and bench/mgno_ns.sh run each study whole (data, training, this script)."""
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


# What each study evaluates: its models, test files, the eval keys its data needs.
STUDIES = {
    "darcy": {"models": ["mgno", "fno", "unet"], "test": "fluxion-out/darcy_dataset/run_test.h5",
              "test128": "fluxion-out/darcy_dataset_128/run_test.h5", "data": "", "eval": "",
              "title": "Darcy 64^2", "loss": "H1"},
    "ns": {"models": ["mgno", "fno"], "test": "fluxion-out/ns2d_small/run_test.h5", "test128": None,
           "data": ", input: vorticity, step: 5", "eval": "rollout: 10\n",
           "title": "Navier-Stokes 64^2, t -> t + 1", "loss": "L2"},
}


def evaluate(fluxion, study, model, model_file, test, out):
    cfg = out.with_suffix(".yaml")
    cfg.write_text(f"model: {model}\nmodel_file: {model_file}\npredictions: false\n{study['eval']}"
                   f"data: {{test: {test}{study['data']}}}\n")
    r = subprocess.run([fluxion, "eval", str(cfg), "-o", str(out)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"fluxion eval {cfg} failed:\n{r.stderr[-1500:]}")
    return json.loads((out / "summary.json").read_text())["results"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fluxion", default=str(ROOT / "build/release/apps/fluxion/fluxion"))
    p.add_argument("--study", choices=sorted(STUDIES), default="darcy")
    p.add_argument("--models", nargs="+", help="default: every model of the study")
    p.add_argument("--runs", default=str(ROOT / "fluxion-out"), help="folder holding <model>_<study>/")
    p.add_argument("--test", help="the test split (default: the study's)")
    p.add_argument("--test128", help="Darcy: the 128^2 test split for the zero-shot column")
    p.add_argument("--out", default=str(ROOT / "bench/results"))
    p.add_argument("--docs", default=str(ROOT / "docs"))
    a = p.parse_args()
    study = STUDIES[a.study]
    test = a.test or str(ROOT / study["test"])
    test128 = a.test128 or (study["test128"] and str(ROOT / study["test128"]))
    date = datetime.date.today().isoformat()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in a.models or study["models"]:
            run = pathlib.Path(a.runs) / f"{model}_{a.study}"
            train = json.loads((run / "summary.json").read_text())["results"]
            history = list(csv.DictReader((run / "loss.csv").open()))
            row = {"model": model, "parameters": train["parameters"], "epochs": train["epochs"],
                   "stopped_by": train["stopped_by"], "training_seconds": train["training_seconds"],
                   "best_validation": train["best_validation_loss"],
                   "history": [{k: float(v) for k, v in h.items()} for h in history]}
            e = evaluate(a.fluxion, study, model, run / "model.pt", test, pathlib.Path(tmp) / f"{model}64")
            row.update({"l2": e["relative_l2"], "h1": e["relative_h1"],
                        "ms_per_sample": 1e3 * e["inference_seconds"] / e["samples"]})
            if "rollout" in e:
                row.update({"rollout_steps": e["rollout"]["steps"], "rollout_l2": e["rollout"]["relative_l2"]})
            if test128 and pathlib.Path(test128).exists():
                e128 = evaluate(a.fluxion, study, model, run / "model.pt", test128, pathlib.Path(tmp) / f"{model}128")
                row.update({"l2_128": e128["relative_l2"], "h1_128": e128["relative_h1"]})
            rows.append(row)
            print(model, {k: v for k, v in row.items() if k != "history"}, flush=True)
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"mgno_{a.study}_{date}"
    stem.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = [f"# MgNO against its baselines: {study['title']} ({date})", "",
             f"Machine: {machine.cpu_model()}, {machine.cpus()} CPUs; each model trained on 1 thread "
             f"(apps/configs/<model>_{a.study}.yaml). Command: `/usr/bin/python3 bench/mgno_compare.py "
             f"{' '.join(sys.argv[1:])}`.", ""]
    if a.study == "darcy":
        lines += ["Test split: 100 pairs; errors are means over the samples (relative, per sample). "
                  "128^2: the same models, not retrained, on the 128^2 test split (zero-shot).", "",
                  "| model | parameters | epochs | training s | test rel. L2 | test rel. H1 | 128^2 rel. L2 | "
                  "128^2 rel. H1 | inference ms/sample |", "|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            lines.append(f"| {r['model']} | {r['parameters']} | {r['epochs']} ({r['stopped_by']}) | "
                         f"{r['training_seconds']:.0f} | {r['l2']:.3e} | {r['h1']:.3e} | "
                         f"{r.get('l2_128', float('nan')):.3e} | {r.get('h1_128', float('nan')):.3e} | "
                         f"{r['ms_per_sample']:.2f} |")
    else:
        lines += ["Test split: the 10 test trajectories (never seen in training), every pair of snapshots "
                  "5 apart (t -> t + 1); rollout: the model applied 10 times from each trajectory's first "
                  "snapshot, compared with the solver's state at t = 10. Errors: means of per-sample "
                  "relative L2.", "",
                  "| model | parameters | epochs | training s | one-step rel. L2 | 10-step rollout rel. L2 | "
                  "inference ms/sample |", "|---|---|---|---|---|---|---|"]
        for r in rows:
            lines.append(f"| {r['model']} | {r['parameters']} | {r['epochs']} ({r['stopped_by']}) | "
                         f"{r['training_seconds']:.0f} | {r['l2']:.3e} | {r['rollout_l2']:.3e} | "
                         f"{r['ms_per_sample']:.2f} |")
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    docs = pathlib.Path(a.docs)
    if a.study == "darcy":
        fig, ax = plt.subplots(figsize=(5, 3.6))
        for r in rows:
            ax.scatter(r["parameters"], r["l2"], s=40)
            ax.annotate(r["model"], (r["parameters"], r["l2"]), textcoords="offset points", xytext=(5, 5))
        ax.set_xlabel("parameters")
        ax.set_ylabel("test relative L2 error (64^2)")
        ax.set_yscale("log")
        ax.set_title(f"Darcy 64^2, same CPU budget ({date})", fontsize=9)
        fig.tight_layout()
        fig.savefig(docs / "mgno_error_vs_parameters.png", dpi=120)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for r in rows:
        t = [sum(h["seconds"] for h in r["history"][: i + 1]) / 60 for i in range(len(r["history"]))]
        ax.plot(t, [h["validation_loss"] for h in r["history"]], label=r["model"])
    ax.set_xlabel("training time (minutes, 1 thread)")
    ax.set_ylabel(f"validation relative {study['loss']} error")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title(f"{study['title']} ({date})", fontsize=9)
    fig.tight_layout()
    fig.savefig(docs / ("mgno_validation_vs_time.png" if a.study == "darcy" else "mgno_ns_validation_vs_time.png"),
                dpi=120)


if __name__ == "__main__":
    main()
