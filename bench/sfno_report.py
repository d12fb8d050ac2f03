#!/usr/bin/python3
"""SFNO, FNO-3d and Spectral-Refiner (issue 10): the table and figures from the runs of
bench/sfno.sh (fluxion-out/...), written to bench/results/sfno_<date>.md (.json) and docs/:

  docs/sfno_vorticity.png       window 0 at 256^2, last frame: reference, zero-shot SFNO, refined,
                                and both errors
  docs/sfno_error_spectrum.png  radial spectrum of the error before and after refinement (window 0,
                                averaged over its 40 frames), with the reference's
  docs/sfno_error_per_frame.png relative L2 error per predicted frame (mean over windows)
  docs/sfno_refine_loss.png     the residual norm over the refinement iterations (window 0)

  /usr/bin/python3 bench/sfno_report.py [--runs fluxion-out] [--out bench/results] [--docs docs]"""
import argparse
import datetime
import json
import pathlib

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import machine  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent


def results(path):
    return json.loads((path / "summary.json").read_text())["results"]


def radial_spectrum(field):
    """Energy per |k| shell, averaged over the frames of field [frames, n, n]."""
    n = field.shape[-1]
    c = np.fft.fft2(field) / (n * n)
    k = np.fft.fftfreq(n, 1.0 / n)
    kk = np.rint(np.sqrt(k[:, None] ** 2 + k[None, :] ** 2)).astype(int)
    energy = (np.abs(c) ** 2).mean(axis=0)
    return np.bincount(kk.ravel(), weights=energy.ravel())[: n // 2]


def window_arrays(path, names):
    with h5py.File(path, "r") as f:
        w = f["window_000"]
        return {n: np.stack([w[n][k][()] for k in sorted(w[n])]) for n in names}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", default=str(ROOT / "fluxion-out"))
    p.add_argument("--out", default=str(ROOT / "bench/results"))
    p.add_argument("--docs", default=str(ROOT / "docs"))
    a = p.parse_args()
    runs, docs = pathlib.Path(a.runs), pathlib.Path(a.docs)
    date = datetime.date.today().isoformat()

    models = {}
    for m in ("sfno", "fno3d"):
        train = results(runs / f"{m}_ns")
        e64, e256 = results(runs / f"{m}_ns_eval"), results(runs / f"{m}_ns_zeroshot")
        models[m] = {"parameters": train["parameters"], "epochs": train["epochs"], "stopped_by": train["stopped_by"],
                     "training_seconds": train["training_seconds"], "best_validation": train["best_validation_loss"],
                     "l2_64": e64["relative_l2"], "l2_64_max": e64["relative_l2_max"], "windows_64": e64["windows"],
                     "ms_64": 1e3 * e64["inference_seconds"] / e64["windows"],
                     "l2_256": e256["relative_l2"], "l2_256_max": e256["relative_l2_max"],
                     "ms_256": 1e3 * e256["inference_seconds"] / e256["windows"],
                     "per_frame_64": e64["relative_l2_per_frame"], "per_frame_256": e256["relative_l2_per_frame"]}
    refine_run = results(runs / "sfno_ns_refine")
    refine = refine_run["refine"]
    solver = results(runs / "ns2d_sfno_solver_timing")
    solver_seconds = solver["totals"]["trajectory_seconds"]
    solver_steps = solver["totals"]["steps"]
    before = np.array(refine_run["relative_l2_per_window"])
    after = np.array(refine["relative_l2_per_window"])
    summary = {"date": date, "machine": machine.cpu_model(), "cpus": machine.cpus(), "models": models,
               "refine": {k: v for k, v in refine.items() if not k.endswith("per_frame")},
               "refine_before": refine_run["relative_l2"], "refine_before_per_window": before.tolist(),
               "solver_seconds_40_snapshots_256": solver_seconds, "solver_steps": solver_steps}

    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"sfno_{date}.json").write_text(json.dumps(summary, indent=1))
    ratio = refine_run["relative_l2"] / refine["relative_l2"]
    refine_cost = refine["seconds_per_window"]
    lines = [f"# SFNO, FNO-3d and Spectral-Refiner on 2D Navier-Stokes ({date})", "",
             f"Machine: {machine.cpu_model()}, {machine.cpus()} CPUs. Command: `bench/sfno.sh` (training: 1 thread per "
             "model, the two side by side; eval, refinement and the solver: 1 thread / 1 rank). Data: fluxion's "
             "ns2d_dataset, the paper's flow (nu 1e-3, li forcing), 100 training trajectories at 64^2 (600 windows "
             "of 10 -> 40 snapshots, 0.2 apart), 10 test trajectories at 64^2 and at 256^2 (windows at snapshots 0 "
             "and 50: 20 windows).", "",
             "| model | parameters | epochs | training s | validation rel L2 | test 64^2 rel L2 (max) | zero-shot 256^2 rel L2 (max) | ms / window 64^2 | ms / window 256^2 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for m, r in models.items():
        lines.append(f"| {m} | {r['parameters']} | {r['epochs']} ({r['stopped_by']}) | {r['training_seconds']:.0f} | "
                     f"{r['best_validation']:.3e} | {r['l2_64']:.3e} ({r['l2_64_max']:.3e}) | "
                     f"{r['l2_256']:.3e} ({r['l2_256_max']:.3e}) | {r['ms_64']:.0f} | {r['ms_256']:.0f} |")
    lines += ["", f"Spectral-Refiner at 256^2: {refine['iterations']} Adam iterations per window on the widened output "
              f"layer (weights lr {refine['learning_rate']:g}, bias lr {refine['bias_learning_rate']:g}), loss "
              f"H^{refine['s']:g} (alpha {refine['alpha']:g}) of the vorticity residual, time derivative "
              f"{refine['time_derivative']}.", "",
              "| | zero-shot SFNO | refined | ratio |", "|---|---|---|---|",
              f"| relative L2 vs 256^2 reference (mean of {len(before)}) | {refine_run['relative_l2']:.4e} | "
              f"{refine['relative_l2']:.4e} | {ratio:.2f}x |",
              f"| worst window | {before.max():.4e} | {after.max():.4e} | |",
              f"| windows improved | | {int((after < before).sum())} of {len(before)} | |",
              f"| residual H^{refine['s']:g} norm | {refine['residual_before']:.4e} | {refine['residual_after']:.4e} | "
              f"{refine['residual_before'] / refine['residual_after']:.2f}x |",
              f"| seconds per window (1 thread) | | {refine_cost:.1f} (max {refine['seconds_per_window_max']:.1f}; "
              f"frozen layers {refine['frozen_layers_seconds_per_window']:.1f}) | |", "",
              f"Goal after <= before / 1.8: {'met' if ratio >= 1.8 else 'NOT met'} ({ratio:.2f}x). "
              f"Goal under a minute of CPU per window: {'met' if refine['seconds_per_window_max'] < 60 else 'NOT met'}.", "",
              f"fluxion's spectral solver (ns2d_dataset, cn_rk2, CFL 0.5, 1 rank) making 40 snapshots 0.2 apart at "
              f"256^2 from a random field: {solver_seconds:.1f} s ({solver_steps} steps). SFNO zero-shot at 256^2: "
              f"{models['sfno']['ms_256'] / 1e3:.2f} s per window ({solver_seconds / (models['sfno']['ms_256'] / 1e3):.1f}x "
              f"faster than the solver); with refinement {refine_cost:.1f} s "
              f"({'%.1fx faster' % (solver_seconds / refine_cost) if refine_cost < solver_seconds else '%.1fx slower' % (refine_cost / solver_seconds)} "
              f"than the solver).", ""]
    (out / f"sfno_{date}.md").write_text("\n".join(lines))
    print("\n".join(lines))

    # Figures: window 0 of the refinement run.
    arrays = window_arrays(runs / "sfno_ns_refine/predictions.h5", ["truth", "prediction", "refined"])
    truth, pred, refined = arrays["truth"], arrays["prediction"], arrays["refined"]
    last = truth.shape[0] - 1
    fig, ax = plt.subplots(1, 5, figsize=(18, 3.8))
    vmax = np.abs(truth[last]).max()
    emax = max(np.abs(pred[last] - truth[last]).max(), 1e-12)
    panels = [("reference 256^2", truth[last], vmax, "RdBu_r"), ("SFNO zero-shot", pred[last], vmax, "RdBu_r"),
              ("refined", refined[last], vmax, "RdBu_r"), ("error zero-shot", pred[last] - truth[last], emax, "PuOr_r"),
              ("error refined", refined[last] - truth[last], emax, "PuOr_r")]
    for axis, (title, field, scale, cmap) in zip(ax, panels):
        im = axis.imshow(field, origin="lower", cmap=cmap, vmin=-scale, vmax=scale, extent=(0, 1, 0, 1))
        axis.set_title(title)
        axis.set_xticks([])
        axis.set_yticks([])
        fig.colorbar(im, ax=axis, shrink=0.8)
    fig.suptitle(f"vorticity, window 0, frame {last + 1} of {truth.shape[0]} ({date})")
    fig.tight_layout()
    fig.savefig(docs / "sfno_vorticity.png", dpi=90)
    plt.close(fig)

    fig, axis = plt.subplots(figsize=(6, 4.2))
    k = np.arange(truth.shape[-1] // 2)
    for label, field in [("reference", truth), ("error zero-shot", pred - truth), ("error refined", refined - truth)]:
        axis.loglog(k[1:], radial_spectrum(field)[1:], label=label)
    axis.set_xlabel("|k|")
    axis.set_ylabel("energy of the vorticity per shell")
    axis.set_title(f"error spectrum, window 0 at 256^2 ({date})")
    axis.legend()
    fig.tight_layout()
    fig.savefig(docs / "sfno_error_spectrum.png", dpi=90)
    plt.close(fig)

    fig, axis = plt.subplots(figsize=(6.5, 4.2))
    frames = np.arange(1, len(models["sfno"]["per_frame_64"]) + 1)
    for m, r in models.items():
        axis.semilogy(frames, r["per_frame_64"], label=f"{m}, 64^2")
        axis.semilogy(frames, r["per_frame_256"], "--", label=f"{m}, zero-shot 256^2")
    axis.semilogy(frames, refine_run["refine"]["relative_l2_per_frame"], "k", label="sfno refined, 256^2")
    axis.set_xlabel("predicted frame (0.2 apart)")
    axis.set_ylabel("relative L2 error (mean over windows)")
    axis.set_title(f"error over the predicted window ({date})")
    axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(docs / "sfno_error_per_frame.png", dpi=90)
    plt.close(fig)

    history = refine.get("residual_history_window_0", [])
    if history:
        fig, axis = plt.subplots(figsize=(6, 4))
        axis.semilogy(np.arange(len(history)), history)
        axis.set_xlabel("Adam iteration")
        axis.set_ylabel(f"residual H^{refine['s']:g} norm")
        axis.set_title(f"Spectral-Refiner, window 0 ({date})")
        fig.tight_layout()
        fig.savefig(docs / "sfno_refine_loss.png", dpi=90)
        plt.close(fig)


if __name__ == "__main__":
    main()
