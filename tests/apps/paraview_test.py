#!/usr/bin/python3
"""ParaView (pvpython) on real runs of `fluxion run`: a 2D run opens drawn in the x-y plane, the
solid cells are hidden (vtkGhostType) in the XDMF and in the VTI series, and a name full of XML
characters opens. setup installs ParaView: without pvpython the test exits 77 (a ctest skip)."""
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
src.UpdatePipeline()
info = src.GetDataInformation()
display = simple.Show(src, simple.CreateView("RenderView"))
surface = simple.ExtractSurface(Input=src)
surface.UpdatePipeline()
print(json.dumps({"bounds": list(info.GetBounds()), "cells": info.GetNumberOfCells(),
                  "arrays": [src.CellData[i].Name for i in range(len(src.CellData))],
                  "representation": display.SMProxy.GetProperty("Representation").GetElement(0),
                  "drawn_cells": surface.GetDataInformation().GetNumberOfCells(),
                  "drawn_u_range": list(surface.CellData["u"].GetRange()),
                  "u_range": list(src.CellData["u"].GetRange())}))
"""


def probe(path):
    """Runs PV_SCRIPT on `path`: offscreen first, else under a virtual display (xvfb-run -a may
    race with another xvfb-run for a display number, offscreen rendering needs no display)."""
    script = cli.WORK / "pv_probe.py"
    script.write_text(PV_SCRIPT)
    commands = [[cli.ARGS.pvpython, "--force-offscreen-rendering"]]
    if shutil.which("xvfb-run"):
        commands.append([shutil.which("xvfb-run"), "-a", cli.ARGS.pvpython])
    for command in commands:
        p = subprocess.run(command + [str(script), str(path)], capture_output=True, text=True, timeout=300)
        if p.returncode == 0:
            return json.loads(p.stdout.strip().splitlines()[-1])
    raise AssertionError(f"pvpython failed on {path}: {p.stderr[-3000:]}")


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
