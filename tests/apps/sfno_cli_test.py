#!/usr/bin/python3
"""End-to-end tests of SFNO, FNO-3d and Spectral-Refiner (issue 10) through `fluxion train` and
`fluxion eval`, on small trajectories of fluxion's own 2D Navier-Stokes data set (ns2d_dataset at
32^2, the test trajectories also at 64^2): a small SFNO beats persisting the last input frame on
held-out windows; eval runs zero-shot on the finer grid; refinement lowers the residual norm it
minimises (both time derivatives) and writes prediction, truth, refined and errors with an XDMF
whose times are the frames'; FNO-3d trains in the same loop; trajectories shorter than the
window, grids that are not periodic-compatible, data of another viscosity, refining a model
without SFNO's output layer and refine keys without refinement are clear errors."""
import json
import re
import shutil
import unittest

import fluxion_cli as cli
from fluxion_cli import run, write

import h5py
import numpy as np

IN, OUT = 4, 8  # the window of the small networks (the paper's: 10 -> 40)
SNAPSHOTS = 14
DATA = None     # {"train": path, "test": path, "test64": path}
MODEL = None    # the trained small SFNO

SFNO = """\
    model: sfno
    data: {train: %s, stride: 2}
    network: {in_frames: 4, out_frames: 8, width: 8, modes_x: 4, modes_y: 4, modes_t: 3, layers: 2,
              latent_frames: 4, mlp_channels: 16}
    training: {epochs: 30, batch_size: 4, learning_rate: 0.003, schedule: one_cycle, threads: 1, checkpoint: false}
    """

FNO3D = """\
    model: fno3d
    data: {train: %s, stride: 2}
    network: {in_frames: 4, out_frames: 8, width: 6, modes_x: 4, modes_y: 4, modes_t: 3, layers: 2,
              projection_channels: 16}
    training: {epochs: 2, batch_size: 4, threads: 1, checkpoint: false}
    """

EVAL = """\
    model: %s
    model_file: %s
    data: {test: %s, stride: %d}
    predictions: 1
    """


DATASET = """\
    app: ns2d_dataset
    grid: {cells: [%d, %d]}
    problem: {viscosity: 1.0e-3, forcing: {type: li}}
    initial: {type: random, alpha: 2.5, tau: 7.0}
    time: {cfl: 0.5, dt_max: 0.01}
    dataset: {trajectories: %d, train: %d, validation: 0, test: 2, first_index: %d, seed: 0, spinup: 1.0,
              interval: 0.1, snapshots: 14, cells: [%d, %d]}
    """


def make_data():
    """6 trajectories of the paper's flow at 32^2 (4 train, 2 test) and the 2 test ones at 64^2."""
    global DATA
    if DATA is not None:
        return DATA
    for n, count, train, first in ((32, 6, 4, 0), (64, 2, 0, 4)):
        cfg = write(f"data{n}.yaml", DATASET % (n, n, count, train, first, n, n))
        r = run(["run", str(cfg), "-o", f"data{n}"])
        assert r.returncode == 0, r.stderr + r.stdout
    DATA = {"train": cli.WORK / "data32" / "run_train.h5", "test": cli.WORK / "data32" / "run_test.h5",
            "test64": cli.WORK / "data64" / "run_test.h5"}
    return DATA


def trained_sfno():
    """The small SFNO of the suites, trained once per run (never a model of an earlier build)."""
    global MODEL
    if MODEL is None:
        shutil.rmtree(cli.WORK / "sfno", ignore_errors=True)
        r = run(["train", str(write("sfno.yaml", SFNO % make_data()["train"])), "-o", "sfno"])
        assert r.returncode == 0, r.stderr + r.stdout
        MODEL = cli.WORK / "sfno" / "model.pt"
    return MODEL


def persistence_error(path, stride):
    """The mean relative L2 error of predicting every frame of a window as its last input frame."""
    with h5py.File(path, "r") as f:
        w = f["vorticity"][()].astype(np.float64)
    errors = []
    for traj in w:
        for s in range(0, SNAPSHOTS - IN - OUT + 1, stride):
            truth = traj[s + IN:s + IN + OUT]
            errors.append(np.linalg.norm(truth - traj[s + IN - 1]) / np.linalg.norm(truth))
    return float(np.mean(errors))


def results(folder):
    return json.loads((cli.WORK / folder / "summary.json").read_text())["results"]


class Sfno(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = trained_sfno()

    def eval(self, name, test, extra="", stride=2):
        r = run(["eval", str(write(f"{name}.yaml", EVAL % ("sfno", self.model, test, stride) + extra)), "-o", name])
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        return results(name)

    def test_it_learns_more_than_persistence_and_runs_at_a_finer_grid(self):
        data = make_data()
        train = results("sfno")
        self.assertEqual(train["samples"], 4 * ((SNAPSHOTS - IN - OUT) // 2 + 1))
        e = self.eval("sfno-eval", data["test"])
        self.assertEqual(e["windows"], 2 * ((SNAPSHOTS - IN - OUT) // 2 + 1))
        self.assertEqual(len(e["relative_l2_per_frame"]), OUT)
        persistence = persistence_error(data["test"], 2)
        self.assertLess(e["relative_l2"], 0.7 * persistence, f"persistence {persistence}")
        # Zero-shot at 64^2: the same trajectories simulated on the finer grid.
        z = self.eval("sfno-64", data["test64"])
        self.assertEqual(z["grid"], [64, 64])
        self.assertLess(z["relative_l2"], persistence_error(data["test64"], 2))

    def test_refinement_lowers_the_residual_it_minimises_and_writes_both_trajectories(self):
        data = make_data()
        for derivative in ("spectral", "bdf"):
            name = f"sfno-refine-{derivative}"
            refine = f"refine: {{iterations: 15, time_derivative: {derivative}, bdf_order: 2, anchor: 0.3}}\n"
            e = self.eval(name, data["test64"], refine, stride=6)
            ref = e["refine"]
            self.assertEqual(len(ref["residual_before_per_window"]), e["windows"])
            for before, after in zip(ref["residual_before_per_window"], ref["residual_after_per_window"]):
                self.assertLess(after, 0.95 * before, derivative)
            self.assertTrue(np.isfinite(ref["relative_l2"]))
            self.assertEqual(len(ref["residual_history_window_0"]), 15)
        with h5py.File(cli.WORK / "sfno-refine-spectral" / "predictions.h5", "r") as f:
            w = f["window_000"]
            self.assertEqual(sorted(w), ["error", "prediction", "refined", "refined_error", "truth"])
            self.assertEqual(len(w["refined"]), OUT)
            truth, refined = w["truth"]["000003"][()], w["refined"]["000003"][()]
            np.testing.assert_allclose(w["refined_error"]["000003"][()], refined - truth, atol=1e-5)
            self.assertEqual(truth.shape, (64, 64))
        with h5py.File(data["test64"], "r") as f:
            np.testing.assert_allclose(truth, f["vorticity"][0, IN + 3], atol=1e-6)
        xdmf = (cli.WORK / "sfno-refine-spectral" / "predictions_000.xdmf").read_text()
        times = [float(t) for t in re.findall(r'<Time Value="([^"]+)"', xdmf)]
        # ns2d_dataset's snapshot k is at spinup + (k + 1) interval; the first predicted one is k = IN.
        np.testing.assert_allclose(times, [1.0 + (IN + f + 1) * 0.1 for f in range(OUT)], atol=1e-9)

    def test_the_header_records_the_flow(self):
        data = self.model.read_bytes()
        start = data.index(b'{"architecture"')
        header = json.JSONDecoder().raw_decode(data[start:].decode("utf-8", errors="replace"))[0]
        self.assertEqual(header["architecture"], "sfno")
        self.assertAlmostEqual(header["training"]["viscosity"], 1e-3)
        self.assertAlmostEqual(header["training"]["interval"], 0.1)
        self.assertEqual(header["training"]["grid"], [32, 32])


class Fno3d(unittest.TestCase):
    def test_trains_and_evaluates_in_the_same_loop_and_cannot_be_refined(self):
        data = make_data()
        r = run(["train", str(write("fno3d.yaml", FNO3D % data["train"])), "-o", "fno3d"])
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        model = cli.WORK / "fno3d" / "model.pt"
        r = run(["eval", str(write("fno3d_eval.yaml", EVAL % ("fno3d", model, data["test"], 2))), "-o", "fno3d-eval"])
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        self.assertTrue(np.isfinite(results("fno3d-eval")["relative_l2"]))
        r = run(["eval", str(write("fno3d_refine.yaml", EVAL % ("fno3d", model, data["test"], 2) +
                                   "refine: {iterations: 3}\n")), "-o", "fno3d-refine"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("refine.iterations", r.stderr)
        self.assertIn("fno3d", r.stderr)


class BadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = make_data()

    def fails(self, verb, text, *needles):
        r = run([verb, str(write("bad.yaml", text)), "-o", "bad"])
        self.assertNotEqual(r.returncode, 0, r.stdout)
        for needle in needles:
            self.assertIn(needle, r.stderr)

    def copy(self, name, edit):
        path = cli.WORK / name
        shutil.copy(self.data["test"], path)
        with h5py.File(path, "r+") as f:
            edit(f)
        return path

    def test_trajectories_shorter_than_the_window(self):
        def shorten(f):
            w = f["vorticity"][:, :IN + OUT - 1]
            del f["vorticity"]
            f["vorticity"] = w
        path = self.copy("short.h5", shorten)
        self.fails("train", SFNO % path, "short.h5", f"{IN + OUT - 1} snapshots", "window")

    def test_grids_that_are_not_periodic_compatible(self):
        def odd(f):
            w = f["vorticity"][:, :, :, :31]
            del f["vorticity"]
            f["vorticity"] = w
        self.fails("train", SFNO % self.copy("odd.h5", odd), "data.train", "31 x 32", "even sides")
        path = cli.WORK / "tiny.h5"
        with h5py.File(path, "w") as f:
            f["vorticity"] = np.zeros((2, SNAPSHOTS, 6, 6), np.float32)
        self.fails("train", SFNO % path, "6 x 6", "at least 8 x 8")

    def test_another_layout(self):
        path = cli.WORK / "pairs.h5"
        with h5py.File(path, "w") as f:
            f["vorticity"] = np.zeros((8, 32, 32), np.float32)
        self.fails("train", SFNO % path, "pairs.h5", "trajectories x snapshots x ny x nx")

    def test_data_of_another_viscosity_than_the_model(self):
        path = self.copy("nu.h5", lambda f: f.attrs.modify("viscosity", 1e-4))
        self.fails("eval", EVAL % ("sfno", trained_sfno(), path, 2), "nu.h5", "viscosity",
                   "0.0001", "0.001")

    def test_refinement_needs_the_flow_of_the_data(self):
        path = self.copy("no_attrs.h5", lambda f: (f.attrs.__delitem__("viscosity"), f.attrs.__delitem__("interval")))
        self.fails("eval", EVAL % ("sfno", trained_sfno(), path, 2) + "refine: {iterations: 2}\n",
                   "no_attrs.h5", "viscosity and interval")

    def test_refinement_needs_the_forcing_and_room_for_its_modes(self):
        path = self.copy("no_forcing.h5", lambda f: f.__delitem__("forcing"))
        self.fails("eval", EVAL % ("sfno", trained_sfno(), path, 2) + "refine: {iterations: 2}\n",
                   "no_forcing.h5", "no dataset 'forcing'")
        self.fails("eval", EVAL % ("sfno", trained_sfno(), self.data["test"], 2) +
                   "refine: {iterations: 2, modes: [17, 0, 0]}\n", "refine.modes", "32 x 32")

    def test_more_windows_asked_than_the_file_holds_is_a_warning(self):
        text = (SFNO % self.data["test"]).replace("epochs: 30", "epochs: 1").replace("stride: 2}", "stride: 2, samples: 99}")
        r = run(["train", str(write("many.yaml", text)), "-o", "many"])
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        self.assertIn("data.samples", r.stderr)
        self.assertIn("99 windows asked", r.stderr)
        self.assertEqual(results("many")["samples"], 2 * ((SNAPSHOTS - IN - OUT) // 2 + 1))

    def test_refine_keys_without_refinement(self):
        self.fails("eval", EVAL % ("sfno", trained_sfno(), self.data["test"], 2) +
                   "refine: {s: -2.0}\n", "refine.s", "no effect")


if __name__ == "__main__":
    cli.main()
