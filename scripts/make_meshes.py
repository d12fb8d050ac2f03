#!/usr/bin/env python3
"""Writes the obstacle surface meshes in meshes/: closed, outward-oriented triangle meshes.

Usage: python3 scripts/make_meshes.py meshes/

Plain Python (no numpy), deterministic: the same command always writes the same bytes.
Every mesh is checked before it is written: each edge is shared by exactly two triangles
that traverse it in opposite directions, and the enclosed (signed) volume is positive.
"""

import math
import os
import sys


# ---------------------------------------------------------------- geometry


def icosphere(radius, subdivisions):
    """Icosahedron refined `subdivisions` times, vertices projected onto the sphere."""
    t = (1.0 + math.sqrt(5.0)) / 2.0
    verts = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0),
             (0, -1, t), (0, 1, t), (0, -1, -t), (0, 1, -t),
             (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    verts = [_normalize(v) for v in verts]
    tris = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11),
            (1, 5, 9), (5, 11, 4), (11, 10, 2), (10, 7, 6), (7, 1, 8),
            (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9),
            (4, 9, 5), (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1)]
    for _ in range(subdivisions):
        midpoint = {}

        def mid(a, b):
            key = (min(a, b), max(a, b))
            if key not in midpoint:
                va, vb = verts[a], verts[b]
                verts.append(_normalize(tuple((va[i] + vb[i]) / 2.0 for i in range(3))))
                midpoint[key] = len(verts) - 1
            return midpoint[key]

        refined = []
        for a, b, c in tris:
            ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
            refined += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        tris = refined
    verts = [tuple(radius * x for x in v) for v in verts]
    return verts, tris


def extrusion(profile, z0, z1, cap_center):
    """Closes a counter-clockwise 2D polygon extruded over [z0, z1]; each cap is a fan
    around `cap_center`, which must see the whole polygon (the polygon is star-shaped)."""
    n = len(profile)
    verts = [(x, y, z0) for x, y in profile] + [(x, y, z1) for x, y in profile]
    verts += [(cap_center[0], cap_center[1], z0), (cap_center[0], cap_center[1], z1)]
    bottom, top = 2 * n, 2 * n + 1
    tris = []
    for i in range(n):
        j = (i + 1) % n
        tris += [(i, j, n + j), (i, n + j, n + i)]  # side quad, outward for a CCW profile
        tris += [(bottom, j, i), (top, n + i, n + j)]  # caps: -z below, +z above
    return verts, tris


def cylinder(radius, z0, z1, segments):
    profile = [(radius * math.cos(2 * math.pi * i / segments),
                radius * math.sin(2 * math.pi * i / segments)) for i in range(segments)]
    return extrusion(profile, z0, z1, (0.0, 0.0))


def naca0012_profile(points_per_side):
    """NACA 0012 (chord 1, leading edge at the origin) with the closed-trailing-edge
    coefficient -0.1036; cosine spacing clusters points at both edges. Counter-clockwise:
    trailing edge, upper surface to the leading edge, lower surface back."""
    def half_thickness(x):
        return 0.6 * (0.2969 * math.sqrt(x) - 0.1260 * x - 0.3516 * x ** 2
                      + 0.2843 * x ** 3 - 0.1036 * x ** 4)

    xs = [0.5 * (1.0 + math.cos(math.pi * i / points_per_side))
          for i in range(points_per_side + 1)]  # 1 -> 0
    upper = [(x, half_thickness(x)) for x in xs]  # trailing edge to leading edge
    lower = [(x, -half_thickness(x)) for x in reversed(xs)][1:-1]  # leading to trailing edge, exclusive
    profile = upper + lower
    profile[0] = (1.0, 0.0)
    profile[points_per_side] = (0.0, 0.0)
    return profile


# ---------------------------------------------------------------- checks


def _normalize(v):
    n = math.sqrt(sum(x * x for x in v))
    return tuple(x / n for x in v)


def _cross(a, b):
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _sub(a, b):
    return tuple(a[i] - b[i] for i in range(3))


def check_closed_and_outward(name, verts, tris):
    directed = {}
    for t in tris:
        for k in range(3):
            e = (t[k], t[(k + 1) % 3])
            directed[e] = directed.get(e, 0) + 1
    for (a, b), count in directed.items():
        if count != 1 or directed.get((b, a), 0) != 1:
            raise SystemExit(f"{name}: edge {a}-{b} is not shared by two consistently oriented triangles")
    volume = sum(_dot(verts[a], _cross(verts[b], verts[c])) for a, b, c in tris) / 6.0
    if volume <= 0.0:
        raise SystemExit(f"{name}: triangles face inwards (signed volume {volume})")
    return volume


def _dot(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _normal(verts, t):
    return _normalize(_cross(_sub(verts[t[1]], verts[t[0]]), _sub(verts[t[2]], verts[t[0]])))


# ---------------------------------------------------------------- writers


def _num(x):
    s = "%.9g" % x
    return "0" if s == "-0" else s


def _xyz(v):
    return " ".join(_num(x) for x in v)


def write_stl(path, name, verts, tris):
    lines = [f"solid {name}"]
    for t in tris:
        lines.append(f"facet normal {_xyz(_normal(verts, t))}")
        lines.append("outer loop")
        lines += [f"vertex {_xyz(verts[i])}" for i in t]
        lines.append("endloop")
        lines.append("endfacet")
    lines.append(f"endsolid {name}")
    _write(path, lines)


def write_obj(path, name, verts, tris):
    lines = [f"# {name}: closed triangle surface written by scripts/make_meshes.py", f"o {name}"]
    lines += [f"v {_xyz(v)}" for v in verts]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in tris]
    _write(path, lines)


def write_ply(path, name, verts, tris):
    lines = ["ply", "format ascii 1.0", f"comment {name}: written by scripts/make_meshes.py",
             f"element vertex {len(verts)}", "property double x", "property double y",
             "property double z", f"element face {len(tris)}",
             "property list uchar int vertex_indices", "end_header"]
    lines += [_xyz(v) for v in verts]
    lines += [f"3 {a} {b} {c}" for a, b, c in tris]
    _write(path, lines)


def write_vtp(path, name, verts, tris):
    lines = ['<?xml version="1.0"?>',
             '<VTKFile type="PolyData" version="1.0" byte_order="LittleEndian">',
             "<PolyData>",
             f'<Piece NumberOfPoints="{len(verts)}" NumberOfPolys="{len(tris)}">',
             "<Points>",
             '<DataArray type="Float64" NumberOfComponents="3" format="ascii">']
    lines += [_xyz(v) for v in verts]
    lines += ["</DataArray>", "</Points>", "<Polys>",
              '<DataArray type="Int64" Name="connectivity" format="ascii">']
    lines += [f"{a} {b} {c}" for a, b, c in tris]
    lines += ["</DataArray>", '<DataArray type="Int64" Name="offsets" format="ascii">']
    offsets = [str(3 * (i + 1)) for i in range(len(tris))]
    lines += [" ".join(offsets[i:i + 16]) for i in range(0, len(offsets), 16)]
    lines += ["</DataArray>", "</Polys>", "</Piece>", "</PolyData>", "</VTKFile>"]
    _write(path, lines)


def _write(path, lines):
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------- main


def main(argv):
    if len(argv) != 2:
        raise SystemExit("usage: python3 scripts/make_meshes.py <output folder>")
    out = argv[1]
    os.makedirs(out, exist_ok=True)

    meshes = {
        "sphere": (icosphere(1.0, 3), ["stl", "obj", "ply", "vtp"]),
        "cylinder": (cylinder(0.5, -0.5, 0.5, 64), ["obj"]),
        "naca0012_wing": (extrusion(naca0012_profile(64), -0.5, 0.5, (0.3, 0.0)), ["stl"]),
    }
    writers = {"stl": write_stl, "obj": write_obj, "ply": write_ply, "vtp": write_vtp}
    for name, ((verts, tris), formats) in meshes.items():
        volume = check_closed_and_outward(name, verts, tris)
        for ext in formats:
            path = os.path.join(out, f"{name}.{ext}")
            writers[ext](path, name, verts, tris)
            print(f"{path}: {len(verts)} points, {len(tris)} triangles, volume {volume:.6f}, "
                  f"{os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main(sys.argv)
