"""Bad input end to end (issue 12): hostile mesh files, grids too large to index or to hold, bad
coefficients, incompatible Neumann data, NaN in an exact solution, huge expressions. Each error is
one line naming the config file, line and key, with a non-zero exit and no output written."""
import json
import os
import shutil
import struct
import unittest

import fluxion_cli as cli
from fluxion_cli import run, write

POISSON = """\
    app: poisson
    grid: {cells: [16, 16], lower: [0, 0], upper: [1, 1]}
    problem:
      k: "1"
      source: "1"
    """

MESH = """\
    app: poisson
    grid: {cells: [8, 8, 8], lower: [-1.2, -1.2, -1.2], upper: [1.2, 1.2, 1.2]}
    obstacles:
      - {type: mesh, file: FILE}
    """

HEAT = """\
    app: heat
    grid: {cells: [16, 16], lower: [0, 0], upper: [1, 1]}
    problem:
      k: "K"
      source: "SOURCE"
    time: {dt: 0.01, steps: 5}
    output: {every: 1}
    """


class BadInput(unittest.TestCase):
    def fail_with(self, name, text, *expected, code=2, ranks=1, extra=()):
        """Runs the config; expects exit `code`, one error line holding every `expected` part, no output."""
        out = cli.WORK / ("out_" + name)
        shutil.rmtree(out, ignore_errors=True)
        r = run(["run", str(write(name, text)), "-o", str(out)] + list(extra), ranks=ranks)
        if ranks == 1:
            self.assertEqual(r.returncode, code, r.stdout + r.stderr)
            lines = [l for l in r.stderr.splitlines() if l.strip()]
        else:  # mpiexec adds its own report of the failed ranks; fluxion prints once, from rank 0
            self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
            lines = [l for l in r.stderr.splitlines() if l.startswith("fluxion: ")]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("fluxion: error: "), lines[0])
        for part in expected:
            self.assertIn(part, lines[0])
        return lines[0], out

    def succeed(self, name, text):
        """Runs the config; expects exit 0; returns stdout + stderr and summary.json's results."""
        out = cli.WORK / ("out_" + name)
        shutil.rmtree(out, ignore_errors=True)
        r = run(["run", str(write(name, text)), "-o", str(out)])
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout + r.stderr, json.loads((out / "summary.json").read_text())["results"]

    def mesh_error(self, file_name, data, *expected):
        path = cli.WORK / file_name
        if path.is_dir():
            shutil.rmtree(path)
        path.write_bytes(data)
        line, out = self.fail_with("mesh_" + file_name + ".yaml", MESH.replace("FILE", file_name),
                                   "mesh_" + file_name + ".yaml:4: obstacles[0].file: ", str(path), *expected)
        self.assertFalse((out / "run.h5").exists())

    # ---- item 1: hostile meshes ----

    def test_binary_stl_claiming_2_31_triangles(self):
        self.mesh_error("huge.stl", bytes(80) + struct.pack("<I", 0x7FFFFFFF) + bytes(100),
                        "binary STL header declares 2147483647 triangles", "the file has 184 bytes")

    def test_obj_with_an_absurd_index(self):
        self.mesh_error("absurd.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 2000000000\n",
                        "line 4: face vertex index 2000000000 is out of range (the file has 3 vertices)")

    def test_ply_with_an_impossible_count(self):
        self.mesh_error("huge.ply", b"ply\nformat binary_little_endian 1.0\nelement vertex 2000000000\n"
                                    b"property float x\nproperty float y\nproperty float z\nelement face 1\n"
                                    b"property list uchar int vertex_indices\nend_header\n" + bytes(64),
                        "element 'vertex' declares 2000000000 entries")

    def test_vtp_lying_about_its_points(self):
        text = (pathlib_source() / "meshes" / "sphere.vtp").read_text()
        self.mesh_error("lying.vtp", text.replace('NumberOfPoints="642"', 'NumberOfPoints="2000000000"').encode(),
                        "declares NumberOfPoints=2000000000")
        self.mesh_error("cut.vtp", text[: len(text) // 3].encode(), "truncated")

    def test_mesh_that_is_a_folder_or_a_fifo(self):
        folder = cli.WORK / "folder.stl"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        self.fail_with("folder.yaml", MESH.replace("FILE", "folder.stl"), "obstacles[0].file", "is a folder")
        fifo = cli.WORK / "fifo.stl"
        if fifo.exists():
            fifo.unlink()
        os.mkfifo(fifo)  # opening it for reading would block: the run must not
        self.fail_with("fifo.yaml", MESH.replace("FILE", "fifo.stl"), "obstacles[0].file", "not a regular file")

    def test_obstacle_key_of_another_shape_is_an_error(self):
        # strict: a mesh's placement on a sphere (or a radius on a box) was silently ignored
        text = POISSON + "obstacles:\n      - {type: circle, center: [0.5, 0.5], radius: 0.2, scale: 2}\n"
        self.fail_with("shape_keys.yaml", text, "shape_keys.yaml:7: obstacles[0].scale: ",
                       "does not apply to a circle obstacle (read only for mesh); remove it")
        text = POISSON + "obstacles:\n      - {type: box, lower: [0.1, 0.1], upper: [0.3, 0.3], radius: 1}\n"
        self.fail_with("box_keys.yaml", text, "obstacles[0].radius: ", "read only for sphere, circle, cylinder")

    # ---- item 8: grids that cannot be indexed or held ----

    def test_grid_petsc_cannot_index(self):
        self.fail_with("cube.yaml", POISSON.replace("[16, 16]", "[100000, 100000, 100000]")
                       .replace("[0, 0]", "[0, 0, 0]").replace("[1, 1]", "[1, 1, 1]"),
                       "cube.yaml:2: grid.cells: [100000, 100000, 100000] is 1000000000000000 cells",
                       "PETSc here indexes at most 2147483647")

    def test_grid_memory_cannot_hold(self):
        line, _ = self.fail_with("plane.yaml", POISSON.replace("[16, 16]", "[40000, 40000]"),
                                 "plane.yaml:2: grid.cells: [40000, 40000] needs about 894 GiB; this machine has ")
        self.assertTrue(line.endswith("GiB available"), line)

    def test_heat_step_count_beyond_the_bound(self):
        # 2e9 steps once reserved a 2e9-report vector up front (std::bad_alloc): now a config error
        self.fail_with("steps.yaml", HEAT.replace("K", "1").replace("SOURCE", "0").replace("steps: 5", "steps: 2000000000"),
                       "steps.yaml:6: time.steps", "2000000000", "out of range")

    # ---- item 12: coefficients, compatibility, NaN errors ----

    def test_zero_k_names_key_and_point_on_one_and_two_ranks(self):
        text = POISSON.replace('k: "1"', 'k: "x > 0.5 ? 0 : 1"')
        for ranks in (1, 2):
            self.fail_with("k0.yaml", text, "k0.yaml:4: problem.k: k = 0 at (x, y) = (0.53125, 0.03125)",
                           "k must be finite and > 0", ranks=ranks)

    def test_negative_c_and_nan_source(self):
        self.fail_with("c.yaml", POISSON.replace('source: "1"', 'source: "1"\n      c: "-1"'),
                       "c.yaml:6: problem.c: c = -1 at (x, y) = (0.03125, 0.03125)")
        self.fail_with("f.yaml", POISSON.replace('source: "1"', 'source: "log(y - 0.5)"'),
                       "f.yaml:5: problem.source: f = NaN at (x, y) = (0.03125, 0.03125)")

    def test_heat_coefficients(self):
        self.fail_with("heat_k.yaml", HEAT.replace("K", "y > 0.5 ? -1 : 1").replace("SOURCE", "0"),
                       "heat_k.yaml:4: problem.k: k = -1 at (x, y) = (0.03125, 0.53125)", "k must be finite and >= 0")
        self.fail_with("heat_f.yaml", HEAT.replace("K", "1").replace("SOURCE", "t > 0.025 ? log(x - 2) : 1"),
                                   "heat_f.yaml:5: problem.source: f = NaN at (x, y) = (0.03125, 0.03125) at t = 0.03",
                                   code=1)

    def test_incompatible_neumann_data_warn_and_are_in_the_summary(self):
        text = POISSON.rstrip(" ") + "    boundary:\n" + "".join(f"      {face}: {{type: neumann}}\n"
                                                   for face in ("x_lower", "x_upper", "y_lower", "y_upper"))
        output, results = self.succeed("neumann.yaml", text)
        self.assertIn("warning: the boundary conditions fix u only up to a constant", output)
        self.assertIn("removes their mean, 1 (1 times the mean |f|)", output)
        c = results["compatibility"]
        self.assertAlmostEqual(c["mean_removed"], 1.0, places=12)
        self.assertAlmostEqual(c["relative"], 1.0, places=12)
        self.assertTrue(c["warned"])
        # Compatible data (f = cos(pi x) sums to zero over the cell centres): no warning.
        output, results = self.succeed("neumann_ok.yaml", text.replace('source: "1"', 'source: "cos(pi*x)"'))
        self.assertNotIn("warning: the boundary conditions", output)
        self.assertFalse(results["compatibility"]["warned"])

    def test_error_against_an_exact_solution_with_nan_is_nan(self):
        output, results = self.succeed(
            "nan_exact.yaml", POISSON.replace('source: "1"', 'source: "1"\n      exact: "sqrt(x - 0.5)"'))
        self.assertIn("L2 nan, max nan", output)
        error = results["error"]
        self.assertIsNone(error["l2"])  # JSON has no NaN: null
        self.assertIsNone(error["max"])

    # ---- item 13: a 100 kB expression is not echoed whole ----

    def test_huge_expression_is_shortened(self):
        formula = "x + " * 25000 + ")"
        line, _ = self.fail_with("long.yaml", POISSON.replace('source: "1"', f'source: "{formula}"'),
                                 "long.yaml:5: problem.source: invalid expression 'x + x + ",
                                 f"... ({len(formula)} characters)")
        self.assertLess(len(line), 400)


def pathlib_source():
    import pathlib
    return pathlib.Path(cli.ARGS.source_dir)


if __name__ == "__main__":
    cli.main()
