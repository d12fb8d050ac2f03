#!/usr/bin/python3
"""End-to-end tests of the `insr` app (issue 11) and of `insr_sample`: short runs of the three
examples checked against what is known without the app. Advection: the pulse at the last step
against the exact solution exp(-(x - a t - c)^2 / (2 w^2)) computed here, each step's fields,
times and weights files, and a saved step sampled at another resolution. Elasticity: the free fall
before contact against the exact discrete trajectory of implicit Euler (q_n = q_0 + g dt^2 n(n+1)/2)
and its energy loss per step ((g dt)^2 / 2 per unit mass). Taylor-Green: the fitted initial
vorticity against the exact 2 sin X sin Y. Bad input: another example's keys, output.cells of the
wrong dimension, more than one rank, a loss that turns non-finite (the steps before it kept in
failed/, the previous complete run untouched), on_failure: stop, weights files that are missing or
not weights."""
import csv
import json
import unittest

import fluxion_cli as cli
from fluxion_cli import run, write

import h5py
import numpy as np

ADVECTION = """\
    app: insr
    example: advection
    time: {dt: 0.05, steps: 12}
    network: {width: 20, hidden_layers: 2}
    samples: 2000
    initial:
      - {method: adam, iterations: 1500, learning_rate: 1.0e-3, resample: true}
      - {method: lbfgs, iterations: 300}
    optimizer: [{method: lbfgs, iterations: 60}]
    output: {cells: [400]}
    """

A, C, W = 0.25, -1.5, 0.1  # the default pulse: velocity, centre, width


def pulse(x, t):
    return np.exp(-0.5 * (x - A * t - C) ** 2 / W ** 2)


def history(folder):
    with open(cli.WORK / folder / "history.csv") as f:
        return list(csv.DictReader(f))


class Advection(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = run(["run", str(write("advection.yaml", ADVECTION)), "-o", "advection"])

    def test_the_pulse_moves_as_the_exact_solution_says(self):
        self.assertEqual(self.r.returncode, 0, self.r.stderr + self.r.stdout)
        with h5py.File(cli.WORK / "advection" / "run.h5") as f:
            steps = sorted(f["fields/u"])
            self.assertEqual(len(steps), 13)  # step 0 (the fitted initial condition) and 12 steps
            x = 0.5 * (f["geometry/x"][1:] + f["geometry/x"][:-1])
            self.assertEqual(len(x), 400)
            for k in (0, 12):
                t = f["fields/u"][steps[k]].attrs["time"]
                self.assertAlmostEqual(t, 0.05 * k, places=12)
                u = f["fields/u"][steps[k]][...].reshape(-1)
                # The midpoint rule's own error after 12 steps is 2.7e-3 (relative L2); the fit adds to it.
                err = np.linalg.norm(u - pulse(x, t)) / np.linalg.norm(pulse(x, t))
                self.assertLess(err, 1e-2, f"step {k}")
            # The field moved: the maximum sits 12 * 0.05 * 0.25 = 0.15 to the right of -1.5.
            self.assertAlmostEqual(x[np.argmax(u)], C + 0.15, delta=0.02)

    def test_history_and_summary_report_every_step(self):
        self.assertEqual(self.r.returncode, 0, self.r.stderr)
        rows = history("advection")
        self.assertEqual([int(r["step"]) for r in rows], list(range(13)))
        for r in rows[1:]:
            self.assertLessEqual(int(r["step_iterations"]), 60)
            self.assertGreater(float(r["step_loss"]), 0)
            # The exact solution of the stepping (Fourier series) against the PDE's: the midpoint
            # rule loses about 2.2e-4 per step here (|1 - G e^{i a k dt}| summed over the pulse).
            self.assertAlmostEqual(float(r["stepping_relative_l2_error"]) / int(r["step"]), 2.2e-4, delta=0.3e-4)
        summary = json.loads((cli.WORK / "advection" / "summary.json").read_text())
        self.assertEqual(summary["status"], "completed")
        self.assertIn("weights", summary["files"])
        res = summary["results"]
        self.assertEqual(res["parameters"], 901)
        self.assertEqual([h["step"] for h in res["history"]], list(range(13)))
        self.assertEqual(res["history"][0]["fits"], {})  # step 0 is the initial fit (results.initial_fit)
        self.assertEqual(res["history"][5]["fits"]["step"]["iterations"], int(rows[5]["step_iterations"]))
        self.assertLess(res["final"]["relative_l2_error_vs_stepping"], 1e-2)

    def test_weights_of_every_step_sample_at_any_resolution(self):
        self.assertEqual(self.r.returncode, 0, self.r.stderr)
        weights = sorted((cli.WORK / "advection" / "weights").iterdir())
        self.assertEqual([w.name for w in weights], [f"step_{k:06d}.h5" for k in range(13)])
        # The same grid as the run: the same values (the same network at the same points).
        cfg = write("sample.yaml", f"app: insr_sample\nweights: {weights[-1]}\ncells: [400]\n")
        r = run(["run", str(cfg), "-o", "sample400"])
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        with h5py.File(cli.WORK / "sample400" / "run.h5") as s, h5py.File(cli.WORK / "advection" / "run.h5") as f:
            last = sorted(f["fields/u"])[-1]
            np.testing.assert_allclose(s["fields/u/000000"][...], f["fields/u"][last][...], rtol=0, atol=1e-12)
            self.assertAlmostEqual(s["fields/u/000000"].attrs["time"], 0.6, places=12)
        # Five times finer: still the pulse at t = 0.6.
        r = run(["run", str(cfg), "--set", "cells=[2000]", "-o", "sample2000"])
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        with h5py.File(cli.WORK / "sample2000" / "run.h5") as s:
            x = 0.5 * (s["geometry/x"][1:] + s["geometry/x"][:-1])
            u = s["fields/u/000000"][...].reshape(-1)
            self.assertEqual(len(u), 2000)
            self.assertLess(np.abs(u - pulse(x, 0.6)).max(), 2e-2)


ELASTICITY = """\
    app: insr
    example: elasticity
    time: {dt: 0.02, steps: 5}
    network: {width: 16, hidden_layers: 1}
    samples: 512
    optimizer: [{method: lbfgs, iterations: 60}]
    output: {cells: [8, 8]}
    """


class Elasticity(unittest.TestCase):
    def test_free_fall_is_implicit_eulers_exactly(self):
        r = run(["run", str(write("elasticity.yaml", ELASTICITY)), "-o", "elasticity"])
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        rows = history("elasticity")
        g, dt, y0 = 9.81, 0.02, -0.5 + 1 / 16  # the lowest cell centre of the 8 x 8 output grid
        for row in rows:
            n = int(row["step"])
            # Implicit Euler under constant gravity: v_n = g dt n, q_n = q_0 - g dt^2 n (n + 1) / 2.
            self.assertAlmostEqual(float(row["lowest_y"]), y0 - g * dt * dt * n * (n + 1) / 2, delta=1e-5, msg=f"step {n}")
            self.assertAlmostEqual(float(row["kinetic_energy"]), 0.5 * (g * dt * n) ** 2, delta=1e-4, msg=f"step {n}")
            self.assertLess(abs(float(row["elastic_energy"])), 1e-6)  # a rigid fall: no deformation
            self.assertEqual(float(row["contact_energy"]), 0.0)
            if n > 0:  # implicit Euler loses (g dt)^2 / 2 of energy per unit mass each step
                loss = float(prev["total_energy"]) - float(row["total_energy"])
                self.assertAlmostEqual(loss, 0.5 * (g * dt) ** 2, delta=1e-4, msg=f"step {n}")
            prev = row
        with h5py.File(cli.WORK / "elasticity" / "run.h5") as f:
            self.assertEqual(set(f["fields"]), {"displacement", "velocity", "volume_change"})
            u = f["fields/displacement"][sorted(f["fields/displacement"])[-1]][...]
            self.assertEqual(u.shape, (8, 8, 3))  # 2D vectors are stored with z = 0 for ParaView
            np.testing.assert_allclose(u[..., 1], -g * dt * dt * 15, atol=1e-5)


TAYLOR_GREEN = """\
    app: insr
    example: taylor_green
    time: {dt: 0.05, steps: 1}
    network: {width: 24, hidden_layers: 2}
    samples: 4096
    boundary: {samples: 200, weight: 1}
    initial: [{method: lbfgs, iterations: 600}]
    optimizer: [{method: lbfgs, iterations: 30}]
    output: {cells: [32, 32]}
    """


class TaylorGreen(unittest.TestCase):
    def test_the_fitted_vortex_has_the_exact_vorticity(self):
        r = run(["run", str(write("tg.yaml", TAYLOR_GREEN)), "-o", "tg"])
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        rows = history("tg")
        self.assertEqual(len(rows), 2)
        for fit in ("advect", "pressure", "project"):
            self.assertGreater(int(rows[1][f"{fit}_iterations"]), 0, fit)
        with h5py.File(cli.WORK / "tg" / "run.h5") as f:
            self.assertEqual(set(f["fields"]), {"velocity", "pressure", "vorticity", "error"})
            n = 32
            c = -1 + (np.arange(n) + 0.5) * 2 / n
            X, Y = np.meshgrid((c + 1) * np.pi, (c + 1) * np.pi)  # [y, x] like the datasets
            w = f["fields/vorticity/000000"][...]
            exact = 2 * np.sin(X) * np.sin(Y)
            # The vorticity is a derivative of the fitted field (measured: 0.9% relative L2, 2% max).
            self.assertLess(np.linalg.norm(w - exact) / np.linalg.norm(exact), 0.02)
            self.assertLess(np.abs(w - exact).max() / np.abs(exact).max(), 0.05)
            u = f["fields/velocity/000001"][...]
            ue = np.stack([np.sin(X) * np.cos(Y), -np.cos(X) * np.sin(Y)], -1) / np.pi
            # One step of the splitting keeps the steady vortex (relative L2 error a few 1e-3 here).
            self.assertLess(np.linalg.norm(u[..., :2] - ue) / np.linalg.norm(ue), 0.05)


class BadInput(unittest.TestCase):
    def fails(self, cfg_text, name, *extra, ranks=1, code=2):
        r = run(["run", str(write(name + ".yaml", cfg_text))] + list(extra) + ["-o", name], ranks=ranks)
        self.assertEqual(r.returncode, code, r.stdout + r.stderr)
        return r.stderr

    def test_another_examples_keys_are_an_error(self):
        err = self.fails(ADVECTION + "elasticity: {density: 2}\n", "other_keys")
        self.assertIn("elasticity.density", err)
        self.assertIn("belongs to example elasticity", err)

    def test_output_cells_of_the_wrong_dimension(self):
        err = self.fails(ADVECTION, "cells2d", "--set", "output.cells=[10,10]")
        self.assertIn("output.cells", err)
        self.assertIn("1D", err)

    def test_one_rank_only(self):
        err = self.fails(ADVECTION, "two_ranks", ranks=2)
        self.assertIn("one rank", err)

    def test_a_non_finite_loss_stops_the_run_and_keeps_the_steps_before(self):
        good = run(["run", str(write("keep.yaml", ADVECTION)), "--set", "time.steps=1", "-o", "keep"])
        self.assertEqual(good.returncode, 0, good.stderr)
        # Adam moves each weight by about the learning rate per iteration: 1e200 overflows the loss.
        err = self.fails(ADVECTION, "keep", "--set", "optimizer=[{method: adam, iterations: 5, learning_rate: 1.0e+200}]",
                         code=1)
        self.assertIn("step 1", err)
        self.assertIn("not finite", err)
        failed = cli.WORK / "keep" / "failed"
        self.assertTrue((failed / "weights" / "step_000000.h5").exists())
        self.assertEqual(json.loads((failed / "summary.json").read_text())["status"], "failed")
        # The previous complete run is untouched.
        summary = json.loads((cli.WORK / "keep" / "summary.json").read_text())
        self.assertEqual(summary["status"], "completed")
        self.assertTrue((cli.WORK / "keep" / "weights" / "step_000001.h5").exists())

    def test_on_failure_stop_ends_the_run_at_the_first_step_short_of_its_tolerance(self):
        # The initial fit meets its target, the steps cannot meet theirs.
        initial = "initial=[{method: lbfgs, iterations: 300, target_loss: 1.0e-2}]"
        err = self.fails(ADVECTION, "stop", "--set", "on_failure=stop", "--set", initial,
                         "--set", "optimizer=[{method: lbfgs, iterations: 5, target_loss: 1.0e-30}]", code=1)
        self.assertIn("step 1 fit step: tolerance not reached", err)
        # continue (the default): the same run completes and lists the steps.
        r = run(["run", str(write("cont.yaml", ADVECTION)), "--set", "time.steps=2", "--set", initial,
                 "--set", "optimizer=[{method: lbfgs, iterations: 5, target_loss: 1.0e-30}]", "-o", "cont"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("tolerance not reached", r.stderr)
        summary = json.loads((cli.WORK / "cont" / "summary.json").read_text())
        self.assertEqual(len(summary["results"]["not_converged"]), 2)

    def test_sampler_weights_missing_or_not_weights(self):
        err = self.fails("app: insr_sample\nweights: nowhere.h5\ncells: [10]\n", "no_weights")
        self.assertIn("weights", err)
        self.assertIn("nowhere.h5", err)
        (cli.WORK / "junk.h5").write_text("not hdf5")
        err = self.fails(f"app: insr_sample\nweights: {cli.WORK / 'junk.h5'}\ncells: [10]\n", "junk_weights")
        self.assertIn("junk.h5", err)


if __name__ == "__main__":
    cli.main()
