#!/usr/bin/python3
"""End-to-end tests of the `fluxion` command: what a user runs, what lands on disk, how bad input
is reported and the same answer under MPI. ParaView on real runs: paraview_test.py; hostile
output cases: output_test.py and full_disk_test.py."""
import hashlib
import json
import shutil
import textwrap
import unittest

import fluxion_cli as cli
from fluxion_cli import SMALL, run, write

import h5py
import numpy as np


def plate():
    """The steady Poisson plate (the default run before the flow solver), apps/configs/plate.yaml."""
    return str(cli.ARGS.source_dir) + "/apps/configs/plate.yaml"


class DefaultRun(unittest.TestCase):
    """`fluxion run` without a config: the 2D smoke plume around the wing, shortened here."""

    def test_is_a_smoke_plume_around_the_wing_written_as_a_time_series(self):
        out = cli.WORK / "default"
        shutil.rmtree(out, ignore_errors=True)
        r = run(["run", "-o", str(out), "--set", "time.end=0.3"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("open in ParaView", r.stdout)
        summary = json.loads((out / "summary.json").read_text())
        self.assertEqual(summary["app"], "navier_stokes")
        self.assertIn("naca0012_wing.stl", json.dumps(summary["config"]["obstacles"]))
        self.assertGreater(summary["results"]["solid_cells"], 50)
        with h5py.File(out / "run.h5", "r") as f:
            np.testing.assert_allclose(f["time"][:], [0.0, 0.1, 0.2, 0.3], atol=1e-12)
            rho = f["fields/density"][sorted(f["fields/density"].keys())[-1]][()]
            self.assertEqual(rho.shape, (256, 128))
            self.assertGreater(rho.max(), 0.99)  # the source
            self.assertEqual(f["fields/velocity"]["000003"].shape, (256, 128, 3))


class PlateRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = cli.WORK / "plate"
        shutil.rmtree(cls.out, ignore_errors=True)
        cls.result = run(["run", plate(), "-o", str(cls.out)])

    def test_exits_zero_and_prints_a_summary(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        self.assertIn("converged in", self.result.stdout)
        self.assertIn("open in ParaView", self.result.stdout)

    def test_writes_h5_xdmf_and_summary(self):
        for name in ("run.h5", "run.xdmf", "summary.json"):
            self.assertTrue((self.out / name).is_file(), name)
        summary = json.loads((self.out / "summary.json").read_text())
        self.assertEqual(summary["app"], "poisson")
        self.assertTrue(summary["results"]["solve"]["converged"])
        self.assertLess(summary["results"]["solve"]["final_residual"],
                        1e-7 * summary["results"]["solve"]["initial_residual"])
        self.assertEqual(summary["config"]["grid"]["cells"], [256, 128])
        self.assertGreater(summary["results"]["solid_cells"], 100)  # the disc and the wing

    def test_h5_holds_fields_grid_and_resolved_config(self):
        with h5py.File(self.out / "run.h5", "r") as f:
            u = f["fields/u/000000"][()]
            self.assertEqual(u.shape, (128, 256))
            self.assertTrue(np.all(np.isfinite(u)))
            solid = f["static/solid"][()]
            self.assertEqual(solid.shape, (128, 256))
            self.assertTrue(np.all(u[solid > 0.5] == 0.0))
            # Hot left edge (u = 1), cold right edge (u = 0): the solution lies between, up to
            # what the source adds.
            self.assertGreater(u[64, 0], 0.9)
            self.assertLess(abs(u[64, -1]), 0.05)
            config = f.attrs["config"]
            config = config.decode() if isinstance(config, bytes) else config
            self.assertIn("naca0012_wing.stl", config)
            self.assertIn("rtol", config)

class Overrides(unittest.TestCase):
    def test_set_changes_the_grid_and_is_echoed(self):
        out = cli.WORK / "override"
        r = run(["run", plate(), "-o", str(out), "--set", "grid.cells=[64,32]", "--set", "solver.rtol=1e-10"])
        self.assertEqual(r.returncode, 0, r.stderr)
        summary = json.loads((out / "summary.json").read_text())
        self.assertEqual(summary["config"]["grid"]["cells"], [64, 32])
        self.assertEqual(summary["config"]["solver"]["rtol"], 1e-10)
        with h5py.File(out / "run.h5", "r") as f:
            self.assertEqual(f["fields/u/000000"].shape, (32, 64))

    def test_a_grid_that_barely_halves_is_warned_about(self):
        # 21^3 cells do not halve: fluxion_mg (the default pc) smooths a coarsest level it cannot factor
        cube = ["--set", "grid.lower=[0,0,0]", "--set", "grid.upper=[1,1,1]", "--set", "obstacles=[]"]
        r = run(["run", plate(), "-o", str(cli.WORK / "odd"), "--set", "grid.cells=[21,21,21]"] + cube)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("grid.cells: the cell counts halve only 0 times, so fluxion_mg's coarsest level (9261 cells)",
                      r.stdout + r.stderr)
        r = run(["run", plate(), "-o", str(cli.WORK / "even"), "--set", "grid.cells=[24,24,24]"] + cube)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("halve only", r.stdout + r.stderr)
        r = run(["run", plate(), "-o", str(cli.WORK / "odd_mg"), "--set", "grid.cells=[21,21,21]", "--set", "solver.pc=mg"] + cube)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("halve only", r.stdout + r.stderr)

    def test_petsc_section_and_command_line_feed_petsc(self):
        cfg = write("gmres.yaml", SMALL + "petsc: {ksp_type: gmres}\n")
        r = run(["run", str(cfg), "-o", str(cli.WORK / "gmres")])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("gmres", json.loads((cli.WORK / "gmres" / "summary.json").read_text())["results"]["solve"]["solver"])
        r = run(["run", str(cfg), "-o", str(cli.WORK / "bcgs"), "-ksp_type", "bcgs"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("bcgs", json.loads((cli.WORK / "bcgs" / "summary.json").read_text())["results"]["solve"]["solver"])

    def test_exact_solution_error_is_reported_and_small(self):
        cfg = write("exact.yaml", """\
            app: poisson
            grid: {cells: [64, 64], lower: [0, 0], upper: [1, 1]}
            problem: {k: "1", source: "2*pi*pi*sin(pi*x)*sin(pi*y)", exact: "sin(pi*x)*sin(pi*y)"}
            """)
        r = run(["run", str(cfg), "-o", str(cli.WORK / "exact")])
        self.assertEqual(r.returncode, 0, r.stderr)
        err = json.loads((cli.WORK / "exact" / "summary.json").read_text())["results"]["error"]
        self.assertLess(err["max"], 1e-3)  # O(h^2) with h = 1/64

class NonConvergence(unittest.TestCase):
    def test_iteration_cap_stops_the_run_unless_allowed(self):
        cfg = write("capped.yaml", SMALL)
        r = run(["run", str(cfg), "-o", str(cli.WORK / "capped"), "--set", "solver.max_iterations=2"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("DID NOT CONVERGE", r.stderr)
        r = run(["run", str(cfg), "-o", str(cli.WORK / "capped"), "--set", "solver.max_iterations=2",
                 "--set", "solver.allow_nonconvergence=true"])
        self.assertEqual(r.returncode, 0, r.stderr)
        summary = json.loads((cli.WORK / "capped" / "summary.json").read_text())
        self.assertFalse(summary["results"]["solve"]["converged"])

class BadInput(unittest.TestCase):
    """Each mistake: non-zero exit, one clear line naming where, and an earlier run's files intact."""

    @classmethod
    def setUpClass(cls):
        cls.out = cli.WORK / "kept"
        shutil.rmtree(cls.out, ignore_errors=True)
        r = run(["run", str(write("good.yaml", SMALL)), "-o", str(cls.out)])
        assert r.returncode == 0, r.stderr
        cls.digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in cls.out.iterdir() if p.is_file()}

    def check(self, args, *expected):
        r = run(args + ["-o", str(self.out)])
        self.assertNotEqual(r.returncode, 0, r.stdout)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("fluxion: error: "), lines[0])
        for e in expected:
            self.assertIn(e, lines[0])
        now = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in self.out.iterdir() if p.is_file()}
        self.assertEqual(now, self.digests, "an earlier run's output changed")
        self.assertEqual(sorted(p.name for p in self.out.iterdir() if p.is_dir()), [], "bad input left a folder")

    def test_missing_file(self):
        self.check(["run", "does-not-exist.yaml"], "does-not-exist.yaml")

    def test_malformed_yaml(self):
        cfg = write("malformed.yaml", "app: poisson\ngrid: {cells: [32, 16]\nproblem: {k: 1}\n")
        self.check(["run", str(cfg)], "malformed.yaml:")

    def test_unknown_key_with_suggestion(self):
        cfg = write("unknown.yaml", SMALL + "solver: {rtoll: 1e-6}\n")
        self.check(["run", str(cfg)], "unknown.yaml:", "solver.rtoll", "solver.rtol")

    def test_wrong_type_and_range(self):
        cfg = write("type.yaml", SMALL + "solver: {rtol: abc}\n")
        self.check(["run", str(cfg)], "type.yaml:", "solver.rtol")
        self.check(["run", str(write("range.yaml", SMALL)), "--set", "solver.rtol=-1"], "solver.rtol")

    def test_bad_expression(self):
        cfg = write("expr.yaml", SMALL.replace('"1 + x"', '"1 + sin(x"'))
        self.check(["run", str(cfg)], "expr.yaml:", "problem.k", "1 + sin(x")

    def test_unknown_app(self):
        self.check(["run", str(write("app.yaml", SMALL.replace("app: poisson", "app: poison")))], "poison", "poisson")

    def test_missing_mesh(self):
        cfg = write("nomesh.yaml", SMALL + "  - {type: mesh, file: meshes/nothing.stl}\n")
        self.check(["run", str(cfg)], "nomesh.yaml:", "nothing.stl")

    def test_mesh_that_is_not_closed(self):
        # A tetrahedron with one face missing.
        (cli.WORK / "open.stl").write_text(textwrap.dedent("""\
            solid open
            facet normal 0 0 -1
            outer loop
            vertex 0 0 0
            vertex 0 1 0
            vertex 1 0 0
            endloop
            endfacet
            facet normal 0 -1 0
            outer loop
            vertex 0 0 0
            vertex 1 0 0
            vertex 0 0 1
            endloop
            endfacet
            facet normal -1 0 0
            outer loop
            vertex 0 0 0
            vertex 0 0 1
            vertex 0 1 0
            endloop
            endfacet
            endsolid open
            """))
        cfg = write("openmesh.yaml", SMALL + f"  - {{type: mesh, file: {cli.WORK / 'open.stl'}}}\n")
        self.check(["run", str(cfg)], "openmesh.yaml:", "not closed")

class Mpi(unittest.TestCase):
    def test_two_ranks_give_the_same_file_and_solution(self):
        cfg = write("mpi.yaml", """\
            app: poisson
            grid: {cells: [32, 16, 16], lower: [0, 0, 0], upper: [2, 1, 1]}
            problem: {k: "1 + y", source: "x"}
            obstacles:
              - {type: sphere, center: [1.0, 0.5, 0.5], radius: 0.25}
            solver: {rtol: 1.0e-11}
            """)
        results = []
        for ranks in (1, 2):
            out = cli.WORK / f"mpi{ranks}"
            r = run(["run", str(cfg), "-o", str(out)], ranks=ranks)
            self.assertEqual(r.returncode, 0, r.stderr)
            with h5py.File(out / "run.h5", "r") as f:
                names = []
                f.visit(names.append)
                results.append((sorted(names), f["fields/u/000000"][()], dict(f.attrs)))
        self.assertEqual(results[0][0], results[1][0])
        u1, u2 = results[0][1], results[1][1]
        self.assertEqual(u1.shape, (16, 16, 32))
        self.assertLess(np.max(np.abs(u1 - u2)), 1e-8 * np.max(np.abs(u1)))
        self.assertEqual(sorted(results[0][2]), sorted(results[1][2]))

class Commands(unittest.TestCase):
    def test_info_lists_apps_and_libraries(self):
        r = run(["info"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for word in ("fluxion", "poisson", "PETSc 3.", "HDF5 1.", "VTK 9."):
            self.assertIn(word, r.stdout)

    def test_help(self):
        r = run(["--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("run", r.stdout)
        r = run(["run", "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("--set", r.stdout)

    def test_config_doc_lists_every_key(self):
        r = run(["config-doc", "poisson"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for key in ("grid.cells", "problem.k", "solver.rtol", "boundary.x_lower.type", "output.dir"):
            self.assertIn(key, r.stdout)

if __name__ == "__main__":
    cli.main()
