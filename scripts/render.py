"""Renders one cell field of a fluxion run to a PNG with ParaView, as a user would see it.

    pvpython scripts/render.py /abs/path/run.xdmf u out.png [step]
    xvfb-run -a pvpython scripts/render.py ...      (on a machine without a display)

Open the .xdmf by its absolute path (ParaView 5.11 resolves the HDF5 file wrongly otherwise).
"""
import sys

from paraview import simple

if len(sys.argv) < 4:
    sys.exit(__doc__)
xdmf, field, png = sys.argv[1], sys.argv[2], sys.argv[3]
reader = simple.OpenDataFile(xdmf)
times = list(reader.TimestepValues) if hasattr(reader.TimestepValues, "__len__") else [reader.TimestepValues]
step = int(sys.argv[4]) if len(sys.argv) > 4 else len(times) - 1
view = simple.CreateView("RenderView")
view.ViewSize = [900, 480]
view.ViewTime = times[step] if times else 0.0
display = simple.Show(reader, view)
display.Representation = "Surface"  # ParaView's default for 2D runs; 3D runs would show an outline
simple.ColorBy(display, ("CELLS", field))
display.RescaleTransferFunctionToDataRange(True)
display.SetScalarBarVisibility(view, True)
view.ResetCamera()
simple.Render(view)
simple.SaveScreenshot(png, view)
print(f"{png}: {field} at t = {view.ViewTime}")
