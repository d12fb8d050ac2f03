#!/usr/bin/python3
"""End-to-end tests of `fluxion run` with app: heat: a tiny run's HDF5 steps and summary arrays,
the shipped example configs, and bad time-stepping input reported at its file:line and key."""
import json
import pathlib
import shutil
import unittest

import fluxion_cli as cli
from fluxion_cli import run, write

import h5py
import numpy as np

TINY = """\
    app: heat
    grid: {cells: [16, 16], lower: [0, 0], upper: [1, 1]}
    problem:
      k: "1 + x"
      kappa: "1 + 0.5*sin(20*t)"
      source: "10*exp(-50*((x-0.5-0.2*cos(8*t))^2 + (y-0.5-0.2*sin(8*t))^2))"
      initial: "x*(1-x)"
    boundary:
      x_lower: {type: dirichlet, value: "0.1*t"}
      y_lower: {type: neumann, value: "0"}
      y_upper: {type: neumann, value: "0"}
    obstacles:
      - {type: circle, center: [0.7, 0.3], radius: 0.1}
    time: {dt: 0.01, steps: 7, scheme: crank_nicolson}
    output: {every: 3}
    """

class TinyRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = cli.WORK / "tiny"
        shutil.rmtree(cls.out, ignore_errors=True)
        cls.result = run(["run", str(write("tiny.yaml", TINY)), "-o", str(cls.out)])

    def test_exits_zero_with_a_summary_table(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        for row in ("total iterations", "mean iterations per step", "total solve time", "crank_nicolson"):
            self.assertIn(row, self.result.stdout)

    def test_h5_has_the_written_steps_with_increasing_times(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        with h5py.File(self.out / "run.h5", "r") as f:
            # the initial condition, every 3rd step and the last: t = 0, 0.03, 0.06, 0.07
            np.testing.assert_allclose(f["time"][:], [0.0, 0.03, 0.06, 0.07], atol=1e-12)
            steps = sorted(f["fields/u"].keys())
            self.assertEqual(len(steps), 4)
            times = [f["fields/u"][s].attrs["time"] for s in steps]
            self.assertTrue(all(a < b for a, b in zip(times, times[1:])), times)
            self.assertEqual(f["fields/u"][steps[-1]].shape, (16, 16))
            self.assertTrue(np.all(np.isfinite(f["fields/u"][steps[-1]][:])))
            self.assertIn("k", f["static"])
            self.assertIn("solid", f["static"])
            # the solid cells stay 0
            solid = f["static/solid"][:] > 0.5
            self.assertTrue(solid.any())
            self.assertEqual(np.abs(f["fields/u"][steps[-1]][:][solid]).max(), 0.0)

    def test_summary_has_per_step_arrays(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        results = json.loads((self.out / "summary.json").read_text())["results"]
        steps = results["steps"]
        for key in ("time", "kappa_dt", "iterations", "omega", "converged"):
            self.assertEqual(len(steps[key]), 7, key)
        np.testing.assert_allclose(steps["time"], 0.01 * np.arange(1, 8), atol=1e-12)
        # kappa(t_{n+1}) * dt
        np.testing.assert_allclose(steps["kappa_dt"], 0.01 * (1 + 0.5 * np.sin(20 * 0.01 * np.arange(1, 8))), rtol=1e-12)
        self.assertTrue(all(steps["converged"]))
        totals = results["totals"]
        self.assertEqual(totals["steps"], 7)
        self.assertEqual(totals["iterations"], sum(steps["iterations"]))
        self.assertAlmostEqual(totals["mean_iterations"], sum(steps["iterations"]) / 7)
        self.assertEqual(totals["written_steps"], 4)

class ExampleConfigs(unittest.TestCase):
    def test_heat_yaml_runs_shortened(self):
        out = cli.WORK / "example"
        shutil.rmtree(out, ignore_errors=True)
        r = run(["run", str(pathlib.Path(cli.ARGS.source_dir) / "apps/configs/heat.yaml"), "-o", str(out),
                 "--set", "time.steps=20", "--set", "grid.cells=[32,32]"])
        self.assertEqual(r.returncode, 0, r.stderr)
        steps = json.loads((out / "summary.json").read_text())["results"]["steps"]
        self.assertEqual(len(steps["iterations"]), 20)

    def test_heat3d_yaml_on_two_ranks_shortened(self):
        out = cli.WORK / "example3d"
        shutil.rmtree(out, ignore_errors=True)
        r = run(["run", str(pathlib.Path(cli.ARGS.source_dir) / "apps/configs/heat3d.yaml"), "-o", str(out),
                 "--set", "time.steps=4", "--set", "grid.cells=[16,16,16]"], ranks=2)
        self.assertEqual(r.returncode, 0, r.stderr)
        with h5py.File(out / "run.h5", "r") as f:
            self.assertEqual(len(f["time"]), 2)  # the initial condition and the last step

class BadInput(unittest.TestCase):
    def check(self, text, *expected, name="bad.yaml", extra=()):
        out = cli.WORK / "bad"
        shutil.rmtree(out, ignore_errors=True)
        r = run(["run", str(write(name, text)), "-o", str(out)] + list(extra))
        self.assertNotEqual(r.returncode, 0, r.stdout)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("fluxion: error: "), lines[0])
        for e in expected:
            self.assertIn(e, lines[0])

    def test_zero_or_negative_dt(self):
        self.check(TINY.replace("dt: 0.01", "dt: 0"), "zero_dt.yaml:", "time.dt", name="zero_dt.yaml")
        self.check(TINY.replace("dt: 0.01", "dt: -1e-3"), "negative_dt.yaml:", "time.dt", name="negative_dt.yaml")
        self.check(TINY, "time.dt", extra=["--set", "time.dt=-0.5"])

    def test_unknown_scheme(self):
        self.check(TINY.replace("scheme: crank_nicolson", "scheme: euler"), "scheme.yaml:", "time.scheme",
                   "backward_euler", name="scheme.yaml")

    def test_kappa_of_space_or_negative(self):
        self.check(TINY.replace('kappa: "1 + 0.5*sin(20*t)"', 'kappa: "1 + x"'), "kappa.yaml:", "problem.kappa",
                   name="kappa.yaml")
        self.check(TINY.replace('kappa: "1 + 0.5*sin(20*t)"', 'kappa: "-1"'), "kappa.yaml:", "problem.kappa",
                   name="kappa.yaml")

    def test_non_finite_source_stops_and_keeps_the_written_steps(self):
        out = cli.WORK / "nan"
        shutil.rmtree(out, ignore_errors=True)
        text = TINY.replace('source: "10*exp', 'source: "sqrt(0.045-t)*10*exp')
        r = run(["run", str(write("nan.yaml", text)), "-o", str(out)])
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("NaN", r.stderr)
        self.assertIn(str(out / "failed"), r.stderr)
        self.assertFalse((out / "run.h5").exists())  # a failed run is never taken for a complete one
        summary = json.loads((out / "failed" / "summary.json").read_text())
        self.assertEqual(summary["status"], "failed")
        self.assertIn("NaN", summary["reason"])
        with h5py.File(out / "failed" / "run.h5", "r") as f:  # t = 0 and 0.03 were written before step 5 failed
            np.testing.assert_allclose(f["time"][:], [0.0, 0.03], atol=1e-12)

if __name__ == "__main__":
    cli.main()
