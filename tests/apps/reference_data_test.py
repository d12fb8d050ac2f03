#!/usr/bin/python3
"""The published reference data of issue 7 and the cavity deviation tool that uses it:
data/reference/ghia1982_{u,v}.csv (Ghia, Ghia & Shin 1982, Tables I and II), data/reference/dfg_2d.json
(Schaefer & Turek 1996) and bench/cavity_reference.py (centreline profiles of a run and their maximum
deviation from Ghia). Needs numpy and h5py (Debian's, hence /usr/bin/python3); no fluxion binary."""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import unittest

import numpy as np

SOURCE = pathlib.Path(__file__).resolve().parents[2]
WORK = None
cr = None  # bench/cavity_reference.py, imported in main()

U_COORDS = [1.0, 0.9766, 0.9688, 0.9609, 0.9531, 0.8516, 0.7344, 0.6172, 0.5, 0.4531, 0.2813,
            0.1719, 0.1016, 0.0703, 0.0625, 0.0547, 0.0]
V_COORDS = [1.0, 0.9688, 0.9609, 0.9531, 0.9453, 0.9063, 0.8594, 0.8047, 0.5, 0.2344, 0.2266,
            0.1563, 0.0938, 0.0781, 0.0703, 0.0625, 0.0]
RES = [100, 400, 1000, 3200, 5000, 7500, 10000]


def write_h5(path, ux, uy, lower=(0.0, 0.0), upper=(1.0, 1.0), steps=(0, 40)):
    """A run file in fluxion's layout (docs/output.md): cell-centred (ny, nx, 3) velocity per step."""
    import h5py

    ny, nx = ux.shape
    with h5py.File(path, "w") as f:
        f.attrs["lower"] = np.array(lower)
        f.attrs["upper"] = np.array(upper)
        f.attrs["cells"] = np.array([nx, ny])
        f["geometry/x"] = np.linspace(lower[0], upper[0], nx + 1)
        f["geometry/y"] = np.linspace(lower[1], upper[1], ny + 1)
        for k, s in enumerate(steps):
            data = np.zeros((ny, nx, 3))
            if k == len(steps) - 1:  # only the last step holds the field; earlier ones are zero
                data[:, :, 0] = ux
                data[:, :, 1] = uy
            f[f"fields/velocity/{s:06d}"] = data


def cell_centres(n, lo=0.0, hi=1.0):
    nodes = np.linspace(lo, hi, n + 1)
    return 0.5 * (nodes[:-1] + nodes[1:])


class GhiaTables(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.u, cls.v = cr.load_ghia(str(SOURCE / "data" / "reference"))

    def test_seventeen_points_in_the_papers_order_and_every_re_column(self):
        np.testing.assert_array_equal(self.u.coord, U_COORDS)
        np.testing.assert_array_equal(self.v.coord, V_COORDS)
        self.assertEqual(sorted(self.u.values), RES)
        self.assertEqual(sorted(self.v.values), RES)
        for t in (self.u, self.v):
            for re_number in RES:
                self.assertEqual(t.values[re_number].shape, (17,))
                self.assertTrue(np.all(np.isfinite(t.values[re_number])))

    def test_wall_values(self):
        for re_number in RES:
            u = dict(zip(self.u.coord, self.u.values[re_number]))
            v = dict(zip(self.v.coord, self.v.values[re_number]))
            self.assertEqual(u[1.0], 1.0, f"u at the lid, Re {re_number}")
            self.assertEqual(u[0.0], 0.0, f"u at the bottom, Re {re_number}")
            self.assertEqual(v[0.0], 0.0, f"v at the left wall, Re {re_number}")
            self.assertEqual(v[1.0], 0.0, f"v at the right wall, Re {re_number}")

    def test_values_that_the_transcriptions_disagreed_on_are_the_majority_reading(self):
        # cross-checked entries (see the CSV headers); a changed digit here is a changed benchmark
        u = {r: dict(zip(self.u.coord, self.u.values[r])) for r in RES}
        v = {r: dict(zip(self.v.coord, self.v.values[r])) for r in RES}
        self.assertEqual(u[100][0.5], -0.20581)
        self.assertEqual(u[400][0.2813], -0.32726)
        self.assertEqual(u[1000][0.1719], -0.38289)
        self.assertEqual(v[100][0.8047], -0.24533)
        self.assertEqual(v[400][0.5], 0.05186)
        self.assertEqual(v[1000][0.9063], -0.51550)
        self.assertEqual(v[400][0.8594], -0.44993)

    def test_column_sums_of_the_validated_reynolds_numbers(self):
        # a checksum of Re 100/400/1000 (the validation cases) against accidental edits
        sums = {r: (round(float(self.u.values[r].sum()), 5), round(float(self.v.values[r].sum()), 5))
                for r in (100, 400, 1000)}
        self.assertEqual(sums, {100: (3.28674, 0.0273), 400: (2.81385, -0.01683),
                                1000: (2.05789, -0.23732)})

    def test_suspect_entries_are_flagged(self):
        self.assertEqual(self.v.suspect, {400: [0.9063]})
        self.assertEqual(self.u.suspect, {3200: [0.4531], 10000: [0.5]})
        self.assertEqual(self.v.suspect_mask(400).sum(), 1)
        self.assertEqual(self.v.suspect_mask(100).sum(), 0)


class Deviation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tables = cr.load_ghia(str(SOURCE / "data" / "reference"))

    def ghia_csvs(self, re_number, du=None, dv=None):
        """Ghia's own profile as the two CSVs (with optional perturbations {coord: delta})."""
        tu, tv = self.tables
        paths = []
        for t, delta, name in ((tu, du or {}, "u"), (tv, dv or {}, "v")):
            c, g = t.profile(re_number)
            g = g.copy()
            for k, d in delta.items():
                g[np.isclose(c, k)] += d
            p = WORK / f"ghia_{name}_{re_number}.csv"
            p.write_text(f"# Ghia's own profile\ncoord,{name}\n"
                         + "".join(f"{a},{b}\n" for a, b in zip(c, g)))
            paths.append(str(p))
        return paths

    def test_ghia_profile_has_zero_deviation(self):
        for re_number in RES:
            u_csv, v_csv = self.ghia_csvs(re_number)
            d = cr.deviation(cr.read_csv_profiles(u_csv, v_csv), re_number, self.tables)
            self.assertEqual(d.max_dev, 0.0, re_number)
            self.assertEqual(d.max_dev_all, 0.0, re_number)

    def test_a_known_perturbation_is_the_deviation(self):
        u_csv, v_csv = self.ghia_csvs(400, du={0.2813: 0.0125}, dv={0.1563: -0.003})
        d = cr.deviation(cr.read_csv_profiles(u_csv, v_csv), 400, self.tables)
        self.assertAlmostEqual(d.max_dev, 0.0125, places=12)
        self.assertAlmostEqual(d.max_dev_u, 0.0125, places=12)
        self.assertAlmostEqual(d.max_dev_v, 0.003, places=12)
        self.assertEqual(d.worst, "u y=0.2813")

    def test_a_suspect_point_counts_only_in_max_dev_all(self):
        u_csv, v_csv = self.ghia_csvs(400, dv={0.9063: -0.14})
        p = cr.read_csv_profiles(u_csv, v_csv)
        d = cr.deviation(p, 400, self.tables)
        self.assertEqual(d.max_dev, 0.0)
        self.assertAlmostEqual(d.max_dev_all, 0.14, places=12)
        d_all = cr.deviation(p, 400, self.tables, exclude_suspect=False)
        self.assertAlmostEqual(d_all.max_dev, 0.14, places=12)

    def test_csv_without_walls_gets_the_wall_values(self):
        u_csv, v_csv = self.ghia_csvs(100)
        for path in (u_csv, v_csv):  # drop the two wall rows
            lines = pathlib.Path(path).read_text().splitlines()
            body = [l for l in lines[2:] if l.split(",")[0] not in ("1.0", "0.0")]
            pathlib.Path(path).write_text("\n".join(lines[:2] + body) + "\n")
        p = cr.read_csv_profiles(u_csv, v_csv)
        self.assertEqual((p.y[0], p.u[0], p.y[-1], p.u[-1]), (0.0, 0.0, 1.0, 1.0))
        self.assertEqual(cr.deviation(p, 100, self.tables).max_dev, 0.0)

    def expected_for_linear_field(self, re_number):
        """u = y, v = 0 (both exact under linear interpolation): the deviation is known in closed form."""
        tu, tv = self.tables
        cu, gu = tu.profile(re_number)
        cv, gv = tv.profile(re_number)
        du = np.abs(cu - gu)[~tu.suspect_mask(re_number)]
        dv = np.abs(gv)[~tv.suspect_mask(re_number)]
        return max(du.max(), dv.max()), du.max(), dv.max()

    def test_run_h5_even_and_odd_grids_scaled_box_and_lid_speed(self):
        for n, lower, upper, lid in ((64, (0, 0), (1, 1), 1.0), (33, (0, 0), (1, 1), 1.0),
                                     (48, (-1.0, 2.0), (3.0, 6.0), 2.5)):
            xc = cell_centres(n, lower[0], upper[0])
            yc = cell_centres(n, lower[1], upper[1])
            X, Y = np.meshgrid((xc - lower[0]) / (upper[0] - lower[0]),
                               (yc - lower[1]) / (upper[1] - lower[1]))
            ux = lid * (Y + 0.7 * (X - 0.5))  # linear in x: the centreline value is exactly lid * y
            uy = lid * 0.3 * (Y - 0.5)  # zero on y = 0.5 after linear interpolation
            path = WORK / f"linear_{n}.h5"
            write_h5(path, ux, uy, lower, upper)
            p = cr.read_fluxion_h5(str(path), lid_speed=lid)
            for re_number in (100, 400, 1000):
                want, want_u, want_v = self.expected_for_linear_field(re_number)
                d = cr.deviation(p, re_number, self.tables)
                self.assertAlmostEqual(d.max_dev, want, places=12, msg=(n, re_number))
                self.assertAlmostEqual(d.max_dev_u, want_u, places=12)
                self.assertAlmostEqual(d.max_dev_v, want_v, places=12)

    def test_run_h5_uses_the_last_step_and_names_a_missing_field(self):
        n = 16
        Y = np.repeat(cell_centres(n)[:, None], n, axis=1)
        path = WORK / "steps.h5"
        write_h5(path, Y, np.zeros((n, n)), steps=(0, 10, 250))
        p = cr.read_fluxion_h5(str(path))
        np.testing.assert_allclose(p.u[1:-1], cell_centres(n))
        self.assertTrue(p.source.endswith("/000250"))
        first = cr.read_fluxion_h5(str(path), step=0)
        self.assertEqual(np.abs(first.u[1:-1]).max(), 0.0)
        with self.assertRaisesRegex(KeyError, "pressure"):
            cr.read_fluxion_h5(str(path), field_name="pressure")


class CommandLine(unittest.TestCase):
    def test_deviation_and_plot_commands(self):
        n = 32
        Y = np.repeat(cell_centres(n)[:, None], n, axis=1)
        h5 = WORK / "cli.h5"
        write_h5(h5, Y, np.zeros((n, n)))
        tool = str(SOURCE / "bench" / "cavity_reference.py")
        out_json = WORK / "cli.json"
        r = subprocess.run([sys.executable, tool, "deviation", "--re", "100", "--h5", str(h5),
                            "--json", str(out_json)], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Re 100: max deviation", r.stdout)
        d = json.loads(out_json.read_text())
        self.assertEqual(len(d["points"]), 34)
        u_csv, v_csv = WORK / "cli_u.csv", WORK / "cli_v.csv"
        r = subprocess.run([sys.executable, tool, "profiles", "--h5", str(h5), "--u-csv", str(u_csv),
                            "--v-csv", str(v_csv)], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        r2 = subprocess.run([sys.executable, tool, "deviation", "--re", "100", "--u-csv", str(u_csv),
                             "--v-csv", str(v_csv)], capture_output=True, text=True)
        self.assertEqual(r2.returncode, 0, r2.stderr)
        r1 = subprocess.run([sys.executable, tool, "deviation", "--re", "100", "--h5", str(h5)],
                            capture_output=True, text=True)
        self.assertEqual(r2.stdout, r1.stdout)  # the CSV route gives the same numbers
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            self.skipTest("matplotlib missing: plot not tested")
        png = WORK / "cli.png"
        r = subprocess.run([sys.executable, tool, "plot", "--re", "400", "--out", str(png),
                            "--series", f"synthetic:h5:{h5}", "--series", f"csv:csv:{u_csv},{v_csv}"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(png.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")


class OpenFoamReader(unittest.TestCase):
    def test_ascii_vector_field(self):
        sys.path.insert(0, str(SOURCE / "bench" / "openfoam"))
        import foam_cavity

        case = WORK / "foamcase" / "1.5"
        case.mkdir(parents=True, exist_ok=True)
        (case / "U").write_text(
            "FoamFile\n{\n    class volVectorField;\n    object U;\n}\n"
            "dimensions [0 1 -1 0 0 0 0];\n\ninternalField   nonuniform List<vector> \n3\n(\n"
            "(0.1 -0.2 0)\n(1e-05 2.5 0)\n(-3 0 0)\n)\n;\n\nboundaryField\n{\n"
            "    movingWall { type fixedValue; value uniform (1 0 0); }\n}\n")
        a = foam_cavity.read_internal_vector(str(case / "U"))
        np.testing.assert_array_equal(a, [[0.1, -0.2, 0], [1e-5, 2.5, 0], [-3, 0, 0]])


class DfgBenchmark(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = json.loads((SOURCE / "data" / "reference" / "dfg_2d.json").read_text())

    def test_geometry_fluid_and_reynolds_numbers(self):
        g = self.d["geometry"]
        self.assertEqual((g["channel"]["x_max"], g["channel"]["y_max"]), (2.2, 0.41))
        self.assertEqual((g["cylinder"]["center"], g["cylinder"]["diameter"]), ([0.2, 0.2], 0.1))
        self.assertEqual((self.d["fluid"]["rho"], self.d["fluid"]["nu"]), (1.0, 0.001))
        for name, u_max, re_number in (("2D-1", 0.3, 20), ("2D-2", 1.5, 100)):
            c = self.d["cases"][name]
            self.assertEqual(c["U_max"], u_max)
            self.assertAlmostEqual(c["U_mean"], 2.0 / 3.0 * u_max, places=12)
            self.assertAlmostEqual(c["U_mean"] * 0.1 / self.d["fluid"]["nu"], re_number, places=9)
            self.assertEqual(c["Re"], re_number)

    def test_published_intervals(self):
        want = {"2D-1": {"c_D": (5.57, 5.59), "c_L": (0.0104, 0.0110), "delta_p": (0.1172, 0.1176),
                         "L_a": (0.0842, 0.0852)},
                "2D-2": {"c_D_max": (3.22, 3.24), "c_L_max": (0.99, 1.01), "St": (0.295, 0.305),
                         "delta_p": (2.46, 2.50)}}
        for case, quantities in want.items():
            got = self.d["cases"][case]["intervals"]
            self.assertEqual(sorted(got), sorted(quantities))
            for q, (lo, hi) in quantities.items():
                self.assertEqual((got[q]["lower_bound"], got[q]["upper_bound"]), (lo, hi), (case, q))

    def test_high_accuracy_reference_lies_in_the_intervals(self):
        c = self.d["cases"]["2D-1"]
        for q, value in c["reference"].items():
            self.assertLessEqual(c["intervals"][q]["lower_bound"], value, q)
            self.assertLessEqual(value, c["intervals"][q]["upper_bound"], q)


def main():
    global WORK, cr
    parser = argparse.ArgumentParser()
    parser.add_argument("--work-dir", default="")
    args, rest = parser.parse_known_args()
    WORK = pathlib.Path(args.work_dir or tempfile.mkdtemp(prefix="reference-data-")).resolve()
    WORK.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(SOURCE / "bench"))
    import cavity_reference

    cr = cavity_reference
    unittest.main(module="__main__", argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
