#!/usr/bin/python3
"""End-to-end tests of `fluxion run` with app: darcy_dataset: the files' layout and attributes, the
values (a two-phase coefficient, u > 0, cell averages of the fine solve), the same data on 1 and 2
ranks, the example config, a failed solve, and bad input reported at its key."""
import json
import shutil
import unittest

import fluxion_cli as cli
from fluxion_cli import run, write

import h5py
import numpy as np



def darcy(cells=16, dtype="float32", solver="{}"):
    return f"""\
    app: darcy_dataset
    dataset: {{fine_cells: [32, 32], cells: [{cells}, {cells}], train: 4, test: 2, seed: 3, dtype: {dtype}}}
    solver: {solver}
    """


DARCY = darcy()


def attr(f, name):
    value = f.attrs[name]
    return value.decode() if isinstance(value, bytes) else value


class Dataset(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out, cls.results = {}, {}
        runs = {
            "1": (DARCY, 1),
            "2": (DARCY, 2),
            # float64 at the fine grid itself (blocks of 1 cell) and averaged to 16^2: the same samples.
            "fine": (darcy(32, "float64"), 1),
            "coarse64": (darcy(16, "float64"), 1),
        }
        for name, (text, ranks) in runs.items():
            out = cli.WORK / f"darcy-{name}"
            shutil.rmtree(out, ignore_errors=True)
            cls.results[name] = run(["run", str(write(f"darcy_{name}.yaml", text)), "-o", str(out)], ranks=ranks)
            cls.out[name] = out

    def setUp(self):
        for name, result in self.results.items():
            self.assertEqual(result.returncode, 0, f"{name}: {result.stdout}{result.stderr}")

    def test_layout_and_attributes(self):
        first = 0
        for split, n in (("train", 4), ("test", 2)):
            with h5py.File(self.out["1"] / f"run_{split}.h5", "r") as f:
                for name in ("a", "u"):
                    self.assertEqual(f[name].shape, (n, 16, 16))
                    self.assertEqual(f[name].dtype, np.float32)
                self.assertEqual(list(f["sample_index"][:]), list(range(first, first + n)))
                self.assertEqual(len(set(f["seeds"][:])), n)
                self.assertEqual(attr(f, "split"), split)
                self.assertEqual(attr(f, "dtype"), "float32")
                self.assertIn("app: darcy_dataset", attr(f, "config"))
                self.assertIn("fine_cells: [32, 32]", attr(f, "config"))
                np.testing.assert_array_equal(f.attrs["cells"], [16, 16])
                np.testing.assert_array_equal(f.attrs["fine_cells"], [32, 32])
                np.testing.assert_array_equal(f.attrs["lower"], [0, 0])
                np.testing.assert_array_equal(f.attrs["upper"], [1, 1])
                self.assertEqual((f.attrs["alpha"][0], f.attrs["tau"][0]), (2.0, 3.0))
                self.assertEqual((f.attrs["a_plus"][0], f.attrs["a_minus"][0]), (12.0, 3.0))
                self.assertGreater(f.attrs["generation_seconds"][0], 0.0)
                self.assertIn("cg+fluxion_mg", attr(f, "solver"))
            first += n
        self.assertEqual(sorted(p.name for p in self.out["1"].iterdir()), ["run_test.h5", "run_train.h5", "summary.json"])
        results = json.loads((self.out["2"] / "summary.json").read_text())["results"]
        self.assertEqual(results["totals"]["samples"], 6)
        self.assertEqual(results["totals"]["ranks"], 2)
        self.assertEqual(len(results["samples"]["iterations"]), 6)
        self.assertGreater(results["totals"]["generation_seconds"], 0.0)

    def test_values(self):
        for split in ("train", "test"):
            with h5py.File(self.out["1"] / f"run_{split}.h5", "r") as f:
                a, u = f["a"][:], f["u"][:]
            self.assertTrue(np.all(np.isfinite(a)) and np.all(np.isfinite(u)))
            # Cell averages of a two-phase field: in [3, 12], most cells wholly in one phase.
            self.assertGreaterEqual(a.min(), 3.0)
            self.assertLessEqual(a.max(), 12.0)
            self.assertGreater(np.isin(a, [3.0, 12.0]).mean(), 0.5)
            self.assertTrue(np.any(a == 3.0) and np.any(a == 12.0))
            # f = 1 > 0 and u = 0 on the walls: u > 0 inside, below the a = 3 solution's 0.0737 / 3.
            self.assertGreater(u.min(), 0.0)
            self.assertLess(u.max(), 0.0737 / 3)
            self.assertGreater(np.abs(u[0] - u[1]).max(), 1e-4)  # distinct samples

    def test_fine_grid_is_two_phase_and_averages_to_the_stored_grid(self):
        with h5py.File(self.out["fine"] / "run_train.h5", "r") as f:
            a, u = f["a"][:], f["u"][:]
        self.assertEqual(a.shape, (4, 32, 32))
        self.assertEqual(set(np.unique(a)), {3.0, 12.0})
        with h5py.File(self.out["coarse64"] / "run_train.h5", "r") as f:
            a16, u16 = f["a"][:], f["u"][:]
        blocks = lambda v: v.reshape(4, 16, 2, 16, 2).mean(axis=(2, 4))  # (sample, y, x) in 2 x 2 blocks
        np.testing.assert_allclose(a16, blocks(a), rtol=0, atol=1e-14)
        np.testing.assert_allclose(u16, blocks(u), rtol=0, atol=1e-17)

    def test_same_data_on_1_and_2_ranks(self):
        for split in ("train", "test"):
            with h5py.File(self.out["1"] / f"run_{split}.h5", "r") as f1, h5py.File(self.out["2"] / f"run_{split}.h5", "r") as f2:
                for name in ("a", "u", "seeds"):
                    np.testing.assert_array_equal(f1[name][:], f2[name][:], f"{split}/{name}")


class ShippedConfig(unittest.TestCase):
    def test_apps_configs_darcy_dataset_runs_small(self):
        out = cli.WORK / "darcy-shipped"
        shutil.rmtree(out, ignore_errors=True)
        config = str(cli.ARGS.source_dir) + "/apps/configs/darcy_dataset.yaml"
        result = run(["run", config, "--set", "dataset.train=2", "--set", "dataset.test=1", "--set",
                      "dataset.fine_cells=[64,64]", "--set", "dataset.cells=[16,16]", "-o", str(out)])
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        with h5py.File(out / "run_test.h5", "r") as f:
            self.assertEqual(f["u"].shape, (1, 16, 16))
            self.assertEqual(list(f["sample_index"][:]), [2])


class Failures(unittest.TestCase):
    def run_config(self, text, ranks=1):
        path = write("darcy_bad.yaml", text)
        out = cli.WORK / "darcy-bad"
        shutil.rmtree(out, ignore_errors=True)
        return run(["run", str(path), "-o", str(out)], ranks=ranks), out

    def expect_error(self, text, key, fragment):
        result, out = self.run_config(text)
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertIn(key, result.stderr)
        self.assertIn(fragment, result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertFalse((out / "run_train.h5").exists())

    def test_stored_grid_that_does_not_divide_the_fine_grid(self):
        self.expect_error(DARCY.replace("cells: [16, 16]", "cells: [16, 12]"), "darcy_bad.yaml:2: dataset.cells",
                          "ny is 12, which does not divide dataset.fine_cells' 32")

    def test_negative_and_zero_counts(self):
        self.expect_error(DARCY.replace("train: 4", "train: -1"), "dataset.train", "-1")
        self.expect_error(DARCY.replace("test: 2", "test: -3"), "dataset.test", "-3")
        self.expect_error(DARCY.replace("train: 4, test: 2", "train: 0, test: 0"), "dataset.train",
                          "expected at least one sample")

    def test_unknown_key(self):
        self.expect_error(DARCY.replace("seed: 3", "seed: 3, trian: 5"), "dataset.trian", "train")

    def test_solver_setting_petsc_refuses(self):
        self.expect_error(darcy(solver="{ksp: no_such_ksp}"), "solver", "no_such_ksp")

    def test_a_solve_that_does_not_converge_stops_the_run_and_leaves_no_partial_file(self):
        result, out = self.run_config(darcy(solver="{max_iterations: 2}"), ranks=2)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("sample 0 (seed ", result.stderr)
        self.assertFalse(list(out.rglob("*.h5")) + list(out.rglob("*.tmp")))


if __name__ == "__main__":
    cli.main()
