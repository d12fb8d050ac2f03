"""Opens a fluxion .xdmf (or .pvd/.vti) with ParaView's own reader and prints what ParaView sees.

Usage: pvpython scripts/check_paraview.py /abs/path/run.xdmf
Prints the reader, bounds, cell and point arrays (with component counts), the number of cells
and the time steps; exits non-zero when the bounds are degenerate in x or y or no array is found.
"""
import os
import sys

from paraview import simple, servermanager


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    # ParaView resolves the .h5 path wrongly when the .xdmf is given by a bare relative name.
    path = os.path.abspath(argv[1])
    if not os.path.isfile(path):
        print(f"check_paraview: {path}: no such file", file=sys.stderr)
        return 2
    reader = simple.OpenDataFile(path)
    if reader is None:
        print(f"check_paraview: {path}: ParaView has no reader for it", file=sys.stderr)
        return 1
    times = list(getattr(reader, "TimestepValues", []) or [])
    if isinstance(times, float):
        times = [times]
    reader.UpdatePipeline(times[-1] if times else 0.0)
    info = reader.GetDataInformation()
    bounds = info.GetBounds()
    cell_arrays = [(a.GetName(), a.GetNumberOfComponents()) for a in reader.CellData]
    point_arrays = [(a.GetName(), a.GetNumberOfComponents()) for a in reader.PointData]

    print(f"file:        {path}")
    print(f"reader:      {reader.GetXMLName()}")
    print(f"data type:   {info.GetDataClassName()}")
    print("bounds:      x [{:g}, {:g}]  y [{:g}, {:g}]  z [{:g}, {:g}]".format(*bounds))
    print(f"cells:       {info.GetNumberOfCells()}")
    print(f"points:      {info.GetNumberOfPoints()}")
    print("cell arrays: " + (", ".join(f"{n} ({c})" for n, c in cell_arrays) or "none"))
    print("point arrays: " + (", ".join(f"{n} ({c})" for n, c in point_arrays) or "none"))
    print(f"time steps:  {len(times)}: " + " ".join(f"{t:g}" for t in times))

    problems = []
    if not bounds[1] > bounds[0]:
        problems.append("degenerate in x")
    if not bounds[3] > bounds[2]:
        problems.append("degenerate in y")
    if not cell_arrays and not point_arrays:
        problems.append("no arrays")
    if problems:
        print("FAILED: " + ", ".join(problems), file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
