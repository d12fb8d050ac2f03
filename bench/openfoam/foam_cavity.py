#!/usr/bin/python3
"""Helpers for bench/openfoam_cavity.sh: read icoFoam's cell velocity (ASCII field files) directly.

  foam_cavity.py change CASE T_OLD T_NEW        prints max |U(T_NEW) - U(T_OLD)| over all cells
  foam_cavity.py profiles CASE T N U_CSV V_CSV  writes the centreline profiles at time T of the
                                                 N x N unit cavity (blockMesh order: x fastest)
The profiles go through bench/cavity_reference.py (same interpolation and walls as fluxion's).
"""
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import cavity_reference  # noqa: E402


def read_internal_vector(path: str) -> np.ndarray:
    """internalField of a volVectorField in ASCII: (ncells, 3)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"internalField\s+nonuniform\s+List<vector>\s*(\d+)\s*\(", text)
    if not m:
        if re.search(r"internalField\s+uniform", text):
            raise ValueError(f"{path}: uniform internalField (initial condition?)")
        raise ValueError(f"{path}: no ASCII nonuniform List<vector> internalField")
    n = int(m.group(1))
    body = text[m.end():]
    end = body.index("\n)")
    vals = np.array(re.findall(r"\(([^()]*)\)", body[:end]))
    a = np.array([[float(t) for t in v.split()] for v in vals])
    if a.shape != (n, 3):
        raise ValueError(f"{path}: read {a.shape}, header says {n} vectors")
    return a


def main(argv):
    if len(argv) >= 4 and argv[0] == "change":
        case, t_old, t_new = argv[1:4]
        a = read_internal_vector(os.path.join(case, t_old, "U"))
        b = read_internal_vector(os.path.join(case, t_new, "U"))
        print(f"{np.abs(b - a).max():.6e}")
        return 0
    if len(argv) == 6 and argv[0] == "profiles":
        case, t, n, u_csv, v_csv = argv[1], argv[2], int(argv[3]), argv[4], argv[5]
        u = read_internal_vector(os.path.join(case, t, "U"))
        if u.shape[0] != n * n:
            raise SystemExit(f"{case}/{t}/U has {u.shape[0]} cells, expected {n}x{n}")
        ux = u[:, 0].reshape(n, n)  # blockMesh: cell index = i + n j, x fastest
        uy = u[:, 1].reshape(n, n)
        nodes = np.linspace(0.0, 1.0, n + 1)
        p = cavity_reference.profiles_from_cells(ux, uy, nodes, nodes, 1.0,
                                                 source=f"icoFoam {case} t={t}")
        cavity_reference.write_profiles_csv(p, u_csv, v_csv,
                                            header=f"icoFoam centreline profiles, {case}, t = {t}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
