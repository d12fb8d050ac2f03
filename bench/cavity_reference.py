#!/usr/bin/python3
"""Lid-driven cavity centreline profiles against Ghia, Ghia & Shin (1982).

Importable module and command line tool (run it with /usr/bin/python3: Debian's numpy, h5py and
matplotlib; the plain `python3` on PATH may lack them).

What it does
  * loads the reference tables data/reference/ghia1982_u.csv (Table I, u on x = 0.5) and
    ghia1982_v.csv (Table II, v on y = 0.5), including their "# suspect:" lines;
  * reads a simulated cavity and takes its centreline profiles:
      - a fluxion run: <output.dir>/run.h5 (docs/output.md: /fields/<name>/<6-digit step> datasets
        of shape (ny, nx, 3), cell-centred, /geometry/x and /geometry/y node coordinates); the last
        step of field `velocity` is used;
      - or two CSV files of (coordinate, value) rows, one for u(y) on x = 0.5 and one for v(x) on
        y = 0.5 (the OpenFOAM driver writes these), so every solver goes through the same code;
  * computes the deviation from Ghia: the simulated profile, normalised by the lid speed, is
    interpolated linearly to Ghia's points and the maximum absolute difference is taken over u and
    v together. Points flagged "suspect" in the tables (misprints in the paper, see the CSV
    headers) are left out of `max_dev` and reported separately; `max_dev_all` includes them;
  * plots the profiles of one or more solvers against Ghia's points.

Cell-centred data and the centrelines: with an even cell count no cell centre lies on x = 0.5, so
the vertical profile is the linear interpolation in x between the two neighbouring columns (the
mean of the two columns for a uniform grid), likewise in y for the horizontal profile. The wall
values come from the boundary conditions (no slip; u = lid speed on the lid y = 1), which Ghia's
first and last points also are; they are appended to the profile so that Ghia's near-wall points
are interpolated between the wall and the first cell centre rather than extrapolated.

Command line
  cavity_reference.py deviation --re 100 --h5 out/run.h5 [--json result.json]
  cavity_reference.py deviation --re 100 --u-csv u.csv --v-csv v.csv
  cavity_reference.py profiles --h5 out/run.h5 --u-csv u.csv --v-csv v.csv   (write the profiles)
  cavity_reference.py plot --re 100 --out fig.png --series fluxion:h5:out/run.h5 \
        --series icoFoam:csv:u.csv,v.csv
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass, field

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE_DIR = os.path.join(REPO, "data", "reference")


# ---------------------------------------------------------------------------------------------
# Reference tables


@dataclass
class GhiaTable:
    """One of Ghia's tables: `coord` (17 points, paper order) and one value column per Re."""

    component: str  # "u" (Table I, coordinate y on x = 0.5) or "v" (Table II, coordinate x on y = 0.5)
    coord: np.ndarray
    values: dict[int, np.ndarray]
    suspect: dict[int, list[float]] = field(default_factory=dict)  # Re -> coordinates

    def profile(self, re_number: int) -> tuple[np.ndarray, np.ndarray]:
        if re_number not in self.values:
            raise KeyError(f"Ghia's table {self.component} has no column for Re {re_number} "
                           f"(has {sorted(self.values)})")
        return self.coord, self.values[re_number]

    def suspect_mask(self, re_number: int) -> np.ndarray:
        mask = np.zeros(self.coord.shape, dtype=bool)
        for c in self.suspect.get(re_number, []):
            mask |= np.isclose(self.coord, c, atol=5e-5)
        return mask


_SUSPECT = re.compile(r"^#\s*suspect:\s*([uv])\s+Re(\d+)\s+[xy]=([0-9.]+)")


def load_table(path: str) -> GhiaTable:
    """Parse one ghia1982_<u|v>.csv: '#' comment lines, a header row, 17 data rows."""
    component = None
    suspect: dict[int, list[float]] = {}
    rows = []
    header = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                m = _SUSPECT.match(line)
                if m:
                    suspect.setdefault(int(m.group(2)), []).append(float(m.group(3)))
                    component = component or m.group(1)
                continue
            if header is None:
                header = [h.strip() for h in line.split(",")]
                continue
            rows.append([float(t) for t in line.split(",")])
    if header is None or not rows:
        raise ValueError(f"{path}: no header or no data rows")
    data = np.array(rows)
    if data.shape[1] != len(header):
        raise ValueError(f"{path}: {data.shape[1]} columns in the data, {len(header)} in the header")
    res = []
    for h in header[1:]:
        if not h.startswith("Re"):
            raise ValueError(f"{path}: column {h!r} is not Re<number>")
        res.append(int(h[2:]))
    name = os.path.basename(path)
    component = "u" if "_u" in name else "v" if "_v" in name else component
    return GhiaTable(component=component, coord=data[:, 0],
                     values={r: data[:, i + 1] for i, r in enumerate(res)}, suspect=suspect)


def load_ghia(reference_dir: str = REFERENCE_DIR) -> tuple[GhiaTable, GhiaTable]:
    """Table I (u along x = 0.5) and Table II (v along y = 0.5)."""
    return (load_table(os.path.join(reference_dir, "ghia1982_u.csv")),
            load_table(os.path.join(reference_dir, "ghia1982_v.csv")))


# ---------------------------------------------------------------------------------------------
# Simulated profiles


@dataclass
class Profiles:
    """Centreline profiles of one run, in physical units (not yet normalised)."""

    y: np.ndarray  # coordinates along x = 0.5 (ascending)
    u: np.ndarray
    x: np.ndarray  # coordinates along y = 0.5 (ascending)
    v: np.ndarray
    lid_speed: float = 1.0
    source: str = ""


def _line_through(centres: np.ndarray, at: float) -> tuple[int, int, float]:
    """Indices i0, i1 and weight w so that value(at) = (1 - w) f[i0] + w f[i1] (linear)."""
    if at <= centres[0]:
        return 0, 0, 0.0
    if at >= centres[-1]:
        return len(centres) - 1, len(centres) - 1, 0.0
    i1 = int(np.searchsorted(centres, at))
    i0 = i1 - 1
    w = (at - centres[i0]) / (centres[i1] - centres[i0])
    return i0, i1, float(w)


def profiles_from_cells(ux: np.ndarray, uy: np.ndarray, x_nodes: np.ndarray, y_nodes: np.ndarray,
                        lid_speed: float = 1.0, source: str = "") -> Profiles:
    """Centreline profiles from cell-centred components `ux`, `uy` of shape (ny, nx).

    The cavity is [x0, x1] x [y0, y1] from the node coordinates; the centrelines are at its middle,
    given as fractions 0.5 of the box, and coordinates are returned normalised to [0, 1] so that a
    unit cavity and a scaled one compare alike. Wall values (no slip, lid speed on the top wall)
    close both ends of each profile.
    """
    ux = np.asarray(ux, dtype=float)
    uy = np.asarray(uy, dtype=float)
    x_nodes = np.asarray(x_nodes, dtype=float)
    y_nodes = np.asarray(y_nodes, dtype=float)
    ny, nx = ux.shape
    if uy.shape != ux.shape or len(x_nodes) != nx + 1 or len(y_nodes) != ny + 1:
        raise ValueError(f"shapes do not match: u {ux.shape}, v {uy.shape}, "
                         f"{len(x_nodes)} x nodes, {len(y_nodes)} y nodes")
    lx = x_nodes[-1] - x_nodes[0]
    ly = y_nodes[-1] - y_nodes[0]
    xc = (0.5 * (x_nodes[:-1] + x_nodes[1:]) - x_nodes[0]) / lx
    yc = (0.5 * (y_nodes[:-1] + y_nodes[1:]) - y_nodes[0]) / ly
    i0, i1, w = _line_through(xc, 0.5)
    u_line = (1 - w) * ux[:, i0] + w * ux[:, i1]
    j0, j1, wy = _line_through(yc, 0.5)
    v_line = (1 - wy) * uy[j0, :] + wy * uy[j1, :]
    y = np.concatenate([[0.0], yc, [1.0]])
    u = np.concatenate([[0.0], u_line, [lid_speed]])
    x = np.concatenate([[0.0], xc, [1.0]])
    v = np.concatenate([[0.0], v_line, [0.0]])
    return Profiles(y=y, u=u, x=x, v=v, lid_speed=lid_speed, source=source)


def read_fluxion_h5(path: str, field_name: str = "velocity", step: int | None = None,
                    lid_speed: float = 1.0) -> Profiles:
    """Profiles from a fluxion run file (docs/output.md): the last (or the given) step."""
    import h5py

    with h5py.File(path, "r") as f:
        group_path = f"fields/{field_name}"
        if group_path not in f:
            have = sorted(f["fields"].keys()) if "fields" in f else []
            raise KeyError(f"{path}: no field {field_name!r} (fields: {have})")
        group = f[group_path]
        steps = sorted(group.keys())
        if not steps:
            raise ValueError(f"{path}: field {field_name!r} has no steps")
        key = f"{step:06d}" if step is not None else steps[-1]
        data = np.asarray(group[key][...], dtype=float)
        x_nodes = np.asarray(f["geometry/x"][...], dtype=float)
        y_nodes = np.asarray(f["geometry/y"][...], dtype=float)
    if data.ndim != 3 or data.shape[2] < 2:
        raise ValueError(f"{path}: {group_path}/{key} has shape {data.shape}, expected (ny, nx, 3)")
    return profiles_from_cells(data[:, :, 0], data[:, :, 1], x_nodes, y_nodes, lid_speed,
                               source=f"{path}:{group_path}/{key}")


def read_profile_csv(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(coordinate, value) rows; '#' comments and one optional non-numeric header row."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p for p in re.split(r"[,\s]+", line) if p]
            try:
                rows.append([float(parts[0]), float(parts[1])])
            except (ValueError, IndexError):
                if rows:
                    raise ValueError(f"{path}: cannot read row {line!r}")
    if not rows:
        raise ValueError(f"{path}: no data rows")
    a = np.array(rows)
    order = np.argsort(a[:, 0], kind="stable")
    return a[order, 0], a[order, 1]


def read_csv_profiles(u_csv: str, v_csv: str, lid_speed: float = 1.0) -> Profiles:
    """Profiles from two CSVs; the walls (coordinate 0 and 1) are added if the files lack them."""
    y, u = read_profile_csv(u_csv)
    x, v = read_profile_csv(v_csv)
    if y[0] > 1e-12:
        y, u = np.r_[0.0, y], np.r_[0.0, u]
    if y[-1] < 1 - 1e-12:
        y, u = np.r_[y, 1.0], np.r_[u, lid_speed]
    if x[0] > 1e-12:
        x, v = np.r_[0.0, x], np.r_[0.0, v]
    if x[-1] < 1 - 1e-12:
        x, v = np.r_[x, 1.0], np.r_[v, 0.0]
    return Profiles(y=y, u=u, x=x, v=v, lid_speed=lid_speed, source=f"{u_csv},{v_csv}")


def write_profiles_csv(p: Profiles, u_csv: str, v_csv: str, header: str = "") -> None:
    for path, c, val, names in ((u_csv, p.y, p.u, "y,u"), (v_csv, p.x, p.v, "x,v")):
        with open(path, "w", encoding="utf-8") as f:
            if header:
                f.write("".join(f"# {h}\n" for h in header.splitlines()))
            f.write(names + "\n")
            for a, b in zip(c, val):
                f.write(f"{a:.8f},{b:.8f}\n")


# ---------------------------------------------------------------------------------------------
# Deviation


@dataclass
class Deviation:
    re: int
    max_dev: float  # over u and v, suspect points excluded
    max_dev_all: float  # including the suspect points
    max_dev_u: float
    max_dev_v: float
    worst: str  # where max_dev is reached, e.g. "v x=0.9063"
    points: list  # per Ghia point: component, coordinate, ghia, simulated, |difference|, suspect

    def as_dict(self) -> dict:
        return {"re": self.re, "max_dev": self.max_dev, "max_dev_all": self.max_dev_all,
                "max_dev_u": self.max_dev_u, "max_dev_v": self.max_dev_v, "worst": self.worst,
                "points": self.points}


def deviation(p: Profiles, re_number: int, tables: tuple[GhiaTable, GhiaTable] | None = None,
              exclude_suspect: bool = True) -> Deviation:
    """Maximum |simulated / lid_speed - Ghia| at Ghia's points (linear interpolation)."""
    tu, tv = tables or load_ghia()
    points = []
    worst = ("", -1.0)
    per = {}
    for table, coord, vals, name in ((tu, p.y, p.u, "u"), (tv, p.x, p.v, "v")):
        gc, gv = table.profile(re_number)
        sim = np.interp(gc, coord, np.asarray(vals) / p.lid_speed)
        diff = np.abs(sim - gv)
        sus = table.suspect_mask(re_number)
        axis = "y" if name == "u" else "x"
        for c, g, s, d, flag in zip(gc, gv, sim, diff, sus):
            points.append({"component": name, axis: float(c), "ghia": float(g), "sim": float(s),
                           "abs_diff": float(d), "suspect": bool(flag)})
        use = ~sus if exclude_suspect else np.ones_like(sus)
        per[name] = float(diff[use].max())
        per[name + "_all"] = float(diff.max())
        k = int(np.argmax(np.where(use, diff, -1.0)))
        if diff[k] > worst[1]:
            worst = (f"{name} {axis}={gc[k]:.4f}", float(diff[k]))
    return Deviation(re=re_number, max_dev=max(per["u"], per["v"]),
                     max_dev_all=max(per["u_all"], per["v_all"]), max_dev_u=per["u"],
                     max_dev_v=per["v"], worst=worst[0], points=points)


# ---------------------------------------------------------------------------------------------
# Plot


def plot(series: list[tuple[str, Profiles]], re_number: int, out: str,
         tables: tuple[GhiaTable, GhiaTable] | None = None, title: str = "") -> None:
    """u(y) on x = 0.5 and v(x) on y = 0.5 of each series, with Ghia's points (suspect ones hollow)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tu, tv = tables or load_ghia()
    fig, (ax_u, ax_v) = plt.subplots(1, 2, figsize=(11, 4.8))
    for label, p in series:
        ax_u.plot(p.u / p.lid_speed, p.y, lw=1.4, label=label)
        ax_v.plot(p.x, p.v / p.lid_speed, lw=1.4, label=label)
    for ax, table, swap in ((ax_u, tu, True), (ax_v, tv, False)):
        c, g = table.profile(re_number)
        sus = table.suspect_mask(re_number)
        xs, ys = (g, c) if swap else (c, g)
        ax.plot(xs[~sus], ys[~sus], "ko", ms=5, label="Ghia et al. 1982")
        if sus.any():
            ax.plot(xs[sus], ys[sus], "ko", ms=7, mfc="none",
                    label="Ghia, suspect (misprint; not counted)")
        ax.grid(alpha=0.3)
    ax_u.set_xlabel("u / U_lid on x = 0.5")
    ax_u.set_ylabel("y")
    ax_v.set_xlabel("x")
    ax_v.set_ylabel("v / U_lid on y = 0.5")
    ax_v.legend(fontsize=8, loc="lower left")
    fig.suptitle(title or f"Lid-driven cavity, Re {re_number}: centreline profiles")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------
# Command line


def _profiles_from_args(a: argparse.Namespace) -> Profiles:
    if a.h5:
        return read_fluxion_h5(a.h5, a.field, a.step, a.lid_speed)
    if a.u_csv and a.v_csv:
        return read_csv_profiles(a.u_csv, a.v_csv, a.lid_speed)
    raise SystemExit("cavity_reference.py: give --h5 RUN.h5, or --u-csv and --v-csv")


def _parse_series(spec: str, lid_speed: float) -> tuple[str, Profiles]:
    try:
        label, kind, paths = spec.split(":", 2)
    except ValueError:
        raise SystemExit(f"--series {spec!r}: expected LABEL:h5:PATH or LABEL:csv:U.csv,V.csv")
    if kind == "h5":
        return label, read_fluxion_h5(paths, lid_speed=lid_speed)
    if kind == "csv":
        u_csv, v_csv = paths.split(",", 1)
        return label, read_csv_profiles(u_csv, v_csv, lid_speed)
    raise SystemExit(f"--series {spec!r}: kind must be h5 or csv")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def source_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--h5", help="fluxion run file (run.h5)")
        p.add_argument("--field", default="velocity")
        p.add_argument("--step", type=int, default=None, help="step number (default: the last)")
        p.add_argument("--u-csv", help="u(y) on x = 0.5, rows of coordinate,value")
        p.add_argument("--v-csv", help="v(x) on y = 0.5, rows of coordinate,value")
        p.add_argument("--lid-speed", type=float, default=1.0)

    d = sub.add_parser("deviation", help="maximum deviation from Ghia for one Re")
    source_args(d)
    d.add_argument("--re", type=int, required=True)
    d.add_argument("--include-suspect", action="store_true",
                   help="count the points flagged suspect in the tables too")
    d.add_argument("--json", help="write the full result (per point) here")
    d.add_argument("--reference-dir", default=REFERENCE_DIR)

    pr = sub.add_parser("profiles", help="write the centreline profiles of a run.h5 as two CSVs")
    pr.add_argument("--h5", required=True)
    pr.add_argument("--field", default="velocity")
    pr.add_argument("--step", type=int, default=None)
    pr.add_argument("--lid-speed", type=float, default=1.0)
    pr.add_argument("--u-csv", required=True)
    pr.add_argument("--v-csv", required=True)

    pl = sub.add_parser("plot", help="plot profiles against Ghia")
    pl.add_argument("--re", type=int, required=True)
    pl.add_argument("--out", required=True)
    pl.add_argument("--series", action="append", required=True,
                    help="LABEL:h5:RUN.h5 or LABEL:csv:U.csv,V.csv (repeatable)")
    pl.add_argument("--lid-speed", type=float, default=1.0)
    pl.add_argument("--title", default="")
    pl.add_argument("--reference-dir", default=REFERENCE_DIR)

    a = ap.parse_args(argv)
    if a.cmd == "deviation":
        tables = load_ghia(a.reference_dir)
        dev = deviation(_profiles_from_args(a), a.re, tables, exclude_suspect=not a.include_suspect)
        if a.json:
            with open(a.json, "w", encoding="utf-8") as f:
                json.dump(dev.as_dict(), f, indent=1)
        print(f"Re {a.re}: max deviation {dev.max_dev:.5f} (u {dev.max_dev_u:.5f}, "
              f"v {dev.max_dev_v:.5f}; worst at {dev.worst}); "
              f"with suspect points {dev.max_dev_all:.5f}")
        return 0
    if a.cmd == "profiles":
        p = read_fluxion_h5(a.h5, a.field, a.step, a.lid_speed)
        write_profiles_csv(p, a.u_csv, a.v_csv, header=f"centreline profiles of {p.source}")
        return 0
    if a.cmd == "plot":
        series = [_parse_series(s, a.lid_speed) for s in a.series]
        plot(series, a.re, a.out, load_ghia(a.reference_dir), a.title)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
