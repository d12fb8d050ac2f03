"""Renders one cell field of a fluxion run to a PNG with ParaView, as a user would see it.

    pvpython scripts/render.py /abs/path/run.xdmf u out.png [step]

Without an X display (DISPLAY unset) it runs itself again on a private Xvfb server (scripts/setup
installs xvfb): Debian's ParaView 5.11 renders only through X (it has neither EGL nor
OSMesa, so --force-offscreen-rendering still opens an X window, and pvpython segfaults without one).
Open the .xdmf by its absolute path (ParaView 5.11 resolves the HDF5 file wrongly otherwise).
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import time

if not os.environ.get("DISPLAY"):
    xvfb, pvpython = shutil.which("Xvfb"), shutil.which("pvpython")
    if os.environ.get("FLUXION_RENDER_XVFB") or not xvfb or not pvpython:
        sys.exit("render.py: no X display (DISPLAY is unset) and no working Xvfb: install xvfb "
                 "(scripts/setup does), or run it where a display is")
    # Xvfb picks a free display itself (-displayfd), so concurrent renders cannot race for one as
    # `xvfb-run -a` does; -noreset: by default the server resets whenever its last client leaves,
    # and a connection opened during the reset fails (pvpython opens and closes several). A child pvpython, not exec: this one has already started an MPI singleton,
    # whose OMPI_/PMIX_ variables would make the second join it.
    r, w = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(w), "-noreset", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                              pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    number = b""
    while not number.endswith(b"\n"):
        chunk = os.read(r, 16)
        if not chunk:
            sys.exit("render.py: Xvfb did not start")
        number += chunk
    display = number.decode().strip()
    # Xvfb announces the display a moment before it accepts clients (a client then fails about one
    # time in ten here): wait until the X connection setup succeeds.
    for _ in range(100):
        with socket.socket(socket.AF_UNIX) as x:
            try:
                x.connect("/tmp/.X11-unix/X" + display)
                x.sendall(struct.pack("<cxHHHHxx", b"l", 11, 0, 0, 0))  # setup request, no authorisation
                if x.recv(1) == b"\x01":  # 1: Success
                    break
            except OSError:
                pass
        time.sleep(0.1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_"))}
    env.update(DISPLAY=":" + display, FLUXION_RENDER_XVFB="1")
    try:
        code = subprocess.run([pvpython] + sys.argv, env=env).returncode
    finally:
        server.terminate()
        server.wait()
    sys.exit(code)

from paraview import simple  # noqa: E402 (after the display check: importing it needs none, rendering does)

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
