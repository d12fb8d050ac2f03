#!/usr/bin/python3
"""ParaView (pvpython) on real runs of `fluxion run`: a 2D run opens drawn in the x-y plane, the
solid cells are hidden (vtkGhostType) in the XDMF and in the VTI series, and a name full of XML
characters opens; a learned model's predictions file plays one sample per time step, a space-time
model's (SFNO, refined) its predicted frames at their times, and an insr elastic body is drawn
where its displacement puts it (Warp By Vector). setup
installs ParaView: without pvpython the test exits 77 (a ctest skip)."""
import json
import os
import shutil
import subprocess
import sys
import unittest

import fluxion_cli as cli
from fluxion_cli import SMALL, run, write

import h5py
import numpy as np


# What a user sees on opening the file: the representation ParaView picks by itself, and what it
# draws (the surface ParaView renders, from which hidden cells are left out) with its colour range.
PV_SCRIPT = """
import json, sys
from paraview import simple
src = simple.OpenDataFile(sys.argv[1])
array, time = sys.argv[2], float(sys.argv[3])
scene = simple.GetAnimationScene()  # the time a user picks in the toolbar
scene.UpdateAnimationUsingDataTimeSteps()
scene.AnimationTime = time
src.UpdatePipeline(time)
info = src.GetDataInformation()
display = simple.Show(src, simple.CreateView("RenderView"))
surface = simple.ExtractSurface(Input=src)
surface.UpdatePipeline(time)
print(json.dumps({"bounds": list(info.GetBounds()), "cells": info.GetNumberOfCells(),
                  "arrays": [src.CellData[i].Name for i in range(len(src.CellData))],
                  "times": list(src.TimestepValues) if src.TimestepValues else [],
                  "representation": display.SMProxy.GetProperty("Representation").GetElement(0),
                  "drawn_cells": surface.GetDataInformation().GetNumberOfCells(),
                  "drawn_u_range": list(surface.CellData[array].GetRange()),
                  "u_range": list(src.CellData[array].GetRange())}))
"""


def probe(path, array="u", time=0.0):
    """Runs PV_SCRIPT on `path` at `time` (ranges of `array`): offscreen first, else under a virtual
    display (xvfb-run -a may race with another xvfb-run for a display number, offscreen rendering
    needs no display)."""
    return pvpython(PV_SCRIPT, [str(path), array, repr(time)])


def pvpython(text, args, name="pv_probe.py"):
    """Runs the pvpython script `text` with `args`; returns the JSON its last output line holds."""
    script = cli.WORK / name
    script.write_text(text)
    commands = [[cli.ARGS.pvpython, "--force-offscreen-rendering"]]
    if shutil.which("xvfb-run"):
        commands.append([shutil.which("xvfb-run"), "-a", cli.ARGS.pvpython])
    for command in commands:
        p = subprocess.run(command + [str(script)] + args, capture_output=True, text=True, timeout=300)
        if p.returncode == 0:
            return json.loads(p.stdout.strip().splitlines()[-1])
    raise AssertionError(f"pvpython failed on {args[0]}: {p.stderr[-3000:]}")


class ParaView(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = cli.WORK / "pv"
        shutil.rmtree(cls.out, ignore_errors=True)
        r = run(["run", str(write("pv.yaml", SMALL + "output: {format: hdf5+vti}\n")), "-o", str(cls.out)])
        assert r.returncode == 0, r.stderr
        with h5py.File(cls.out / "run.h5", "r") as f:
            solid = f["static/solid"][()] > 0.5
            u = f["fields/u/000000"][()]
        cls.solid_cells = int(solid.sum())
        cls.fluid_u = (float(u[~solid].min()), float(u[~solid].max()))
        assert cls.solid_cells > 0 and cls.fluid_u[0] > 0.0

    def test_a_2d_run_opens_drawn_in_the_xy_plane(self):
        info = probe((self.out / "run.xdmf").resolve())
        b = info["bounds"]
        for got, want in zip(b[:4], (0.0, 2.0, 0.0, 1.0)):
            self.assertAlmostEqual(got, want)
        self.assertAlmostEqual(b[4], b[5])
        self.assertEqual(info["cells"], 32 * 16)
        for name in ("u", "f", "k", "solid", "vtkGhostType"):
            self.assertIn(name, info["arrays"])
        # A flat grid must be drawn without any user action ("Slice" draws nothing for it).
        self.assertEqual(info["representation"], "Surface")

    def test_solid_cells_are_hidden_in_the_xdmf_and_the_vti(self):
        for path in (self.out / "run.xdmf", self.out / "run.pvd"):
            with self.subTest(path=path.name):
                info = probe(path.resolve())
                self.assertEqual(info["cells"], 32 * 16)
                # The obstacle's cells (u = 0 there) are not drawn and not in the drawn colour range.
                self.assertEqual(info["drawn_cells"], 32 * 16 - self.solid_cells)
                self.assertAlmostEqual(info["drawn_u_range"][0], self.fluid_u[0], places=12)
                self.assertAlmostEqual(info["drawn_u_range"][1], self.fluid_u[1], places=12)
                self.assertEqual(info["u_range"][0], 0.0)  # the data itself still holds them

    def test_a_learned_models_predictions_open_one_sample_per_time(self):
        # A tiny MgNO trained for one epoch: what matters is that ParaView shows the right sample.
        if "mgno " not in run(["info"]).stdout:
            self.skipTest("fluxion built without torch (FLUXION_WITH_TORCH=OFF)")
        rng = np.random.default_rng(0)
        data = cli.WORK / "pv_pairs.h5"
        with h5py.File(data, "w") as f:
            f["a"] = rng.standard_normal((6, 16, 16)).astype(np.float32)
            f["u"] = rng.standard_normal((6, 16, 16)).astype(np.float32)
        cfg = write("pv_mgno.yaml", f"""\
            model: mgno
            data: {{train: {data}}}
            network: {{channels: 2, layers: 1, smoothing: [1, 1]}}
            training: {{epochs: 1, batch_size: 2, threads: 1, checkpoint: false}}
            """)
        r = run(["train", str(cfg), "-o", "pv_mgno"])
        self.assertEqual(r.returncode, 0, r.stderr)
        ev = write("pv_mgno_eval.yaml", f"model: mgno\nmodel_file: {cli.WORK / 'pv_mgno' / 'model.pt'}\n"
                                        f"data: {{test: {data}}}\n")
        r = run(["eval", str(ev), "-o", "pv_mgno_eval"])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = cli.WORK / "pv_mgno_eval"
        with h5py.File(out / "predictions.h5", "r") as f:
            truth, error = f["truth/000004"][()], f["error/000004"][()]
        info = probe((out / "predictions.xdmf").resolve(), "truth", 4.0)
        self.assertEqual(info["times"], [float(i) for i in range(6)])
        self.assertEqual(info["cells"], 16 * 16)
        self.assertEqual(info["representation"], "Surface")  # drawn at once, like a run's file
        for name in ("input", "truth", "prediction", "error"):
            self.assertIn(name, info["arrays"])
        self.assertAlmostEqual(info["u_range"][0], float(truth.min()), places=6)
        self.assertAlmostEqual(info["u_range"][1], float(truth.max()), places=6)
        info = probe((out / "predictions.xdmf").resolve(), "error", 4.0)
        self.assertAlmostEqual(info["u_range"][1], float(error.max()), places=6)

    def test_a_space_time_models_predictions_play_its_frames(self):
        # A tiny SFNO (one epoch, refined twice): each window's XDMF plays its predicted frames at
        # their physical times, and ParaView shows the frame asked for.
        if "sfno " not in run(["info"]).stdout:
            self.skipTest("fluxion built without torch (FLUXION_WITH_TORCH=OFF)")
        rng = np.random.default_rng(1)
        data = cli.WORK / "pv_trajectories.h5"
        with h5py.File(data, "w") as f:
            f["vorticity"] = rng.standard_normal((2, 12, 16, 16)).astype(np.float32)
            f["forcing"] = np.zeros((16, 16))
            for name, value in (("viscosity", 1e-3), ("interval", 0.1), ("spinup", 1.0)):
                f.attrs[name] = value
        cfg = write("pv_sfno.yaml", f"""\
            model: sfno
            data: {{train: {data}}}
            network: {{in_frames: 4, out_frames: 8, width: 4, modes_x: 2, modes_y: 2, modes_t: 2, layers: 2,
                      latent_frames: 4, mlp_channels: 4}}
            training: {{epochs: 1, batch_size: 1, threads: 1, checkpoint: false, validation_fraction: 0.5}}
            """)
        r = run(["train", str(cfg), "-o", "pv_sfno"])
        self.assertEqual(r.returncode, 0, r.stderr)
        ev = write("pv_sfno_eval.yaml", f"model: sfno\nmodel_file: {cli.WORK / 'pv_sfno' / 'model.pt'}\n"
                                        f"data: {{test: {data}}}\npredictions: 1\nrefine: {{iterations: 2}}\n")
        r = run(["eval", str(ev), "-o", "pv_sfno_eval"])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = cli.WORK / "pv_sfno_eval"
        with h5py.File(out / "predictions.h5", "r") as f:
            truth, refined = f["window_000/truth/000003"][()], f["window_000/refined/000003"][()]
        with h5py.File(data, "r") as f:
            data_truth = f["vorticity"][0, 4 + 3]  # window 0's fourth predicted frame
        np.testing.assert_array_equal(truth, data_truth)
        frame_time = 1.0 + (4 + 3 + 1) * 0.1  # snapshot k is at spinup + (k + 1) interval
        info = probe((out / "predictions_000.xdmf").resolve(), "truth", frame_time)
        np.testing.assert_allclose(info["times"], [1.0 + (4 + f + 1) * 0.1 for f in range(8)], atol=1e-9)
        self.assertEqual(info["cells"], 16 * 16)
        for name in ("prediction", "truth", "error", "refined", "refined_error"):
            self.assertIn(name, info["arrays"])
        self.assertAlmostEqual(info["u_range"][0], float(data_truth.min()), places=6)
        self.assertAlmostEqual(info["u_range"][1], float(data_truth.max()), places=6)
        info = probe((out / "predictions_000.xdmf").resolve(), "refined", frame_time)
        self.assertAlmostEqual(info["u_range"][1], float(refined.max()), places=6)

    def test_an_insr_body_is_drawn_deformed_by_its_displacement(self):
        # The elastic square of the insr app after 5 steps of free fall (a rigid shift of
        # g dt^2 n (n + 1) / 2 = 0.0589 down): Warp By Vector with `displacement` moves it there.
        if "insr " not in run(["info"]).stdout:
            self.skipTest("fluxion built without torch (FLUXION_WITH_TORCH=OFF)")
        cfg = write("pv_insr.yaml", """\
            app: insr
            example: elasticity
            time: {dt: 0.02, steps: 5}
            network: {width: 8, hidden_layers: 1}
            samples: 256
            optimizer: [{method: lbfgs, iterations: 30}]
            output: {cells: [8, 8]}
            """)
        r = run(["run", str(cfg), "-o", "pv_insr"])
        self.assertEqual(r.returncode, 0, r.stderr)
        info = pvpython("import json, sys\n"
                        "from paraview import simple\n"
                        "src = simple.OpenDataFile(sys.argv[1])\n"
                        "src.UpdatePipeline(0.1)\n"
                        "points = simple.CellDatatoPointData(Input=src)\n"
                        "warp = simple.WarpByVector(Input=points, Vectors=['POINTS', 'displacement'])\n"
                        "warp.UpdatePipeline(0.1)\n"
                        "print(json.dumps({'before': list(src.GetDataInformation().GetBounds()),\n"
                        "                  'after': list(warp.GetDataInformation().GetBounds())}))\n",
                        [str((cli.WORK / "pv_insr" / "run.xdmf").resolve())], "pv_warp.py")
        fall = 9.81 * 0.02 ** 2 * 15
        np.testing.assert_allclose(info["before"][:4], [-0.5, 0.5, -0.5, 0.5], atol=1e-12)
        np.testing.assert_allclose(info["after"][:4], [-0.5, 0.5, -0.5 - fall, 0.5 - fall], atol=1e-5)

    def test_a_name_with_xml_characters_opens(self):
        out = cli.WORK / "pv_xml"
        shutil.rmtree(out, ignore_errors=True)
        name = "a&b<c>\"d'e"
        cfg = write("pv_xml.yaml", SMALL + "output: {name: '" + name.replace("'", "''") + "'}\n")
        r = run(["run", str(cfg), "-o", str(out)])
        self.assertEqual(r.returncode, 0, r.stderr)
        info = probe((out / (name + ".xdmf")).resolve())
        self.assertEqual(info["cells"], 32 * 16)
        self.assertEqual(info["drawn_cells"], 32 * 16 - self.solid_cells)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:]]
    pv = args[args.index("--pvpython") + 1] if "--pvpython" in args else ""
    if not pv or not os.path.exists(pv):
        print("SKIP: pvpython not found (setup installs ParaView; give --pvpython PATH)")
        sys.exit(77)
    cli.main()
