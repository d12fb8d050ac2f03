#!/usr/bin/python3
"""DCDM on any torch device (issue 8): the pressure systems of the 3D smoke scene, exported by fluxion,
solved by the same DCDM iteration as fluxion's KSP `dcdm` (src/fluxion/learn/dcdm_ksp.cpp: unit-norm
residual into the network, A-orthogonalisation against the last two directions, optimal step, true
residual every step) and by plain CG, with the shipped network, in torch. Here the CPU cannot run DCDM
at 128^3 (about 45 s per network application); on a GPU it can, which gives the iteration counts of
the issue's goals and the wall time a GPU would give.

Two steps, so that the GPU machine needs neither PETSc nor fluxion:

  /usr/bin/python3 bench/dcdm_torch.py export --sizes 32 64 128 --steps 3 [--out bench/systems]
      runs `fluxion run bench/configs/dcdm_smoke3d.yaml` (cylinder, unseen in training) for --steps
      steps at each size with ICC-CG, dumps its pressure systems (-ksp_view_mat/-ksp_view_rhs), and
      stores each as a 7-point stencil (diagonal + 6 neighbour coefficients, solid cells flagged) and
      its right-hand sides (rounded to float32, so that 128^3 travels to a GPU machine) in
      <out>/smoke3d_<n>.npz. ICC-CG's own iterations to 1e-4 and 1e-6 are
      recorded beside them (from -ksp_monitor_true_residual).
  python3 bench/dcdm_torch.py table RESULT.json RESULT.md     (rewrites a solve's table)
  python3 bench/dcdm_torch.py solve [--systems bench/systems] [--model data/models/dcdm_3d/model.pt]
      [--device cuda] [--dtypes float32 bfloat16] [--cap 1000] [--json OUT.json] [--md OUT.md]
      solves every stored system with CG and DCDM to 1e-6 (iterations to 1e-4 read from the same
      history), timing the network and the rest apart; also times the network alone per size and dtype.

Needs numpy and torch (Debian: python3-numpy, python3-torch); `export` also needs fluxion built."""
import argparse
import datetime
import json
import pathlib
import platform
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
RTOLS = (1e-4, 1e-6)

# ---------------------------------------------------------------------------------------------
# export (numpy only)


def read_petsc_objects(path):
    """Every Mat (CSR) and Vec in a PETSc binary file, in order (big-endian int32/float64)."""
    data = path.read_bytes()
    pos, out = 0, []
    while pos < len(data):
        classid = int(np.frombuffer(data, ">i4", 1, pos)[0])
        if classid == 1211216:  # Mat
            m, n, nz = np.frombuffer(data, ">i4", 3, pos + 4)
            pos += 16
            lens = np.frombuffer(data, ">i4", m, pos).astype(np.int64)
            pos += 4 * m
            cols = np.frombuffer(data, ">i4", nz, pos).astype(np.int64)
            pos += 4 * nz
            vals = np.frombuffer(data, ">f8", nz, pos).astype(np.float64)
            pos += 8 * nz
            out.append(("mat", (int(m), int(n)), lens, cols, vals))
        elif classid == 1211214:  # Vec
            n = int(np.frombuffer(data, ">i4", 1, pos + 4)[0])
            pos += 8
            out.append(("vec", np.frombuffer(data, ">f8", n, pos).astype(np.float64)))
            pos += 8 * n
        else:
            sys.exit(f"{path}: unknown PETSc class id {classid} at byte {pos}")
    return out


def csr_to_stencil(shape, lens, cols, vals):
    """(diag, off[6], solid) of a 7-point matrix on a (nz, ny, nx) grid in natural order, x fastest.
    off[d] multiplies the neighbour in direction d: -x, +x, -y, +y, -z, +z."""
    nz_, ny, nx = shape
    n = nx * ny * nz_
    rows = np.repeat(np.arange(n), lens)
    offset = cols - rows
    steps = [-1, 1, -nx, nx, -nx * ny, nx * ny]
    diag = np.zeros(n)
    off = np.zeros((6, n))
    known = offset == 0
    diag[rows[known]] = vals[known]
    for d, s in enumerate(steps):
        hit = offset == s
        off[d, rows[hit]] = vals[hit]
        known |= hit
    if not known.all():
        sys.exit("the matrix is not a 7-point stencil in natural order")
    solid = (lens == 1) & (off == 0).all(axis=0)
    return diag, off, solid


def first_iteration_below(history, rtol):
    norm0 = history[0]
    for i, r in enumerate(history):
        if r <= rtol * norm0:
            return i
    return None


def export(args):
    fluxion = pathlib.Path(args.fluxion)
    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = pathlib.Path(tmp)
            cmd = [str(fluxion), "run", str(ROOT / "bench/configs/dcdm_smoke3d.yaml"), "-o", str(tmp / "run"),
                   "--set", f"grid.cells=[{n},{n},{n}]", "--set", f"time.max_steps={args.steps}",
                   "--set", "solver.type=petsc", "--set", "solver.ksp=cg", "--set", "solver.pc=icc",
                   "--set", "solver.rtol=1e-8", "--set", "solver.max_iterations=5000",
                   "-ksp_view_mat", f"binary:{tmp / 'A.bin'}", "-ksp_view_rhs", f"binary:{tmp / 'b.bin'}",
                   "-ksp_monitor_true_residual"]
            t0 = time.time()
            run = subprocess.run(cmd, capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit(f"fluxion failed at {n}^3:\n{run.stderr[-2000:]}")
            # Residual histories per solve: "  k KSP ... true resid norm R ||r(i)||/||b|| ...".
            histories, current = [], None
            for line in run.stdout.splitlines():
                m = re.match(r"\s*(\d+) KSP .*true resid norm\s+(\S+)", line)
                if not m:
                    continue
                if int(m.group(1)) == 0:
                    current = []
                    histories.append(current)
                current.append(float(m.group(2)))
            mats = [o for o in read_petsc_objects(tmp / "A.bin") if o[0] == "mat"]
            vecs = [o[1] for o in read_petsc_objects(tmp / "b.bin") if o[0] == "vec"]
            _, (m_, _), lens, cols, vals = mats[-1]
            if any(not (np.array_equal(o[3], cols) and np.array_equal(o[4], vals)) for o in mats):
                sys.exit("the pressure matrix changes between steps; this script stores one")
            diag, off, solid = csr_to_stencil((n, n, n), lens, cols, vals)
            keep = [i for i, b in enumerate(vecs) if np.linalg.norm(b) > 0]
            icc = [{rt: first_iteration_below(histories[i], rt) for rt in RTOLS} for i in keep]
            np.savez_compressed(out_dir / f"smoke3d_{n}.npz", shape=np.array([n, n, n]), diag=diag, off=off,
                                solid=solid, rhs=np.array([vecs[i] for i in keep], dtype=np.float32),
                                icc_iterations=np.array([[d[rt] if d[rt] is not None else -1 for rt in RTOLS]
                                                         for d in icc]))
            print(f"{n}^3: {len(keep)} systems, {int(solid.sum())} solid cells, ICC-CG iterations "
                  f"{[list(d.values()) for d in icc]}, {time.time() - t0:.1f} s", flush=True)


# ---------------------------------------------------------------------------------------------
# solve (torch)


def solve(args):
    import torch
    import torch.nn.functional as F

    device = torch.device(args.device if args.device != "cuda" or torch.cuda.is_available() else "cpu")
    if args.threads:
        torch.set_num_threads(args.threads)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    scripted = torch.jit.load(args.model, map_location="cpu")
    header = json.loads(str(scripted.fluxion_header))
    net_opts = header["network"]
    if header["architecture"] != "dcdm" or net_opts["dim"] != 3:
        sys.exit(f"{args.model}: not a 3D dcdm model")
    weights = {k: v.detach().to(device) for k, v in scripted.named_parameters()}

    def conv(name, x, relu=True):
        w, b = weights[name + ".weight"], weights[name + ".bias"]
        y = F.conv3d(x, w.to(x.dtype), b.to(x.dtype), padding=w.shape[-1] // 2)
        return torch.relu(y) if relu else y

    def network(x):
        """The layer sequence of src/fluxion/learn/dcdm_net.cpp."""
        c = 0
        h = conv("first", x, relu=False)
        skips = []
        for level in range(net_opts["levels"]):
            a = conv(f"conv{c}", h if level == 0 else F.avg_pool3d(skips[-1], 2)); c += 1
            b = conv(f"conv{c}", a); c += 1
            a = conv(f"conv{c}", b) + a; c += 1
            b = conv(f"conv{c}", a); c += 1
            skips.append(b)
        a = h if net_opts["levels"] == 0 else F.avg_pool3d(skips[-1], 2)

        def pair(t):
            nonlocal c
            b = conv(f"conv{c}", t); c += 1
            out = conv(f"conv{c}", b) + t; c += 1
            return out

        for _ in range(net_opts["coarse_pairs"]):
            a = pair(a)
        for level in reversed(range(net_opts["levels"])):
            a = F.interpolate(a, scale_factor=2, mode="nearest") + skips[level]
            for _ in range(net_opts["decoder_pairs"]):
                a = pair(a)
        return conv("last", a, relu=False)

    multiple = 2 ** net_opts["levels"]

    def direction(r, solid, dtype):
        """The network's direction for residual r, as fluxion's DirectionNetwork::apply."""
        norm = torch.linalg.vector_norm(r)
        x = (r / norm).to(dtype)[None, None]
        pad = []
        for s in reversed(r.shape):
            pad += [0, (multiple - s % multiple) % multiple]
        x = F.pad(x, pad)
        with torch.no_grad():
            y = network(x)[0, 0, :r.shape[0], :r.shape[1], :r.shape[2]].to(r.dtype)
        if not torch.isfinite(y).all():
            raise FloatingPointError("the network's direction is not finite")
        return torch.where(solid, torch.zeros_like(y), y * norm)

    def stencil(diag, off):
        def apply(x):
            xp = F.pad(x[None, None], (1, 1, 1, 1, 1, 1))[0, 0]
            return (diag * x + off[0] * xp[1:-1, 1:-1, :-2] + off[1] * xp[1:-1, 1:-1, 2:]
                    + off[2] * xp[1:-1, :-2, 1:-1] + off[3] * xp[1:-1, 2:, 1:-1]
                    + off[4] * xp[:-2, 1:-1, 1:-1] + off[5] * xp[2:, 1:-1, 1:-1])
        return apply

    def dcdm(A, b, solid, dtype, rtol, cap):
        x = torch.zeros_like(b)
        r = b.clone()
        bnorm = torch.linalg.vector_norm(b).item()
        history = [1.0]
        p = [torch.zeros_like(b), torch.zeros_like(b)]  # p0 (older), p1
        ap = [torch.zeros_like(b), torch.zeros_like(b)]
        a = [1.0, 1.0]
        t_net = 0.0
        sync()
        t0 = time.perf_counter()
        for _ in range(cap):
            s = time.perf_counter()
            q = direction(r, solid, dtype)
            sync()
            t_net += time.perf_counter() - s
            q = q - (torch.sum(q * ap[1]) / a[1]) * p[1] - (torch.sum(q * ap[0]) / a[0]) * p[0]
            aq = A(q)
            pAp = torch.sum(q * aq).item()
            if not pAp > 0:
                break
            x += (torch.sum(q * r).item() / pAp) * q
            p, ap, a = [p[1], q], [ap[1], aq], [a[1], pAp]
            r = b - A(x)
            history.append(torch.linalg.vector_norm(r).item() / bnorm)
            if history[-1] <= rtol:
                break
        sync()
        return history, time.perf_counter() - t0, t_net

    def cg(A, b, rtol, cap):
        x = torch.zeros_like(b)
        r = b.clone()
        p = r.clone()
        rr = torch.sum(r * r).item()
        bnorm = rr ** 0.5
        history = [1.0]
        sync()
        t0 = time.perf_counter()
        for _ in range(cap):
            ap_ = A(p)
            alpha = rr / torch.sum(p * ap_).item()
            x += alpha * p
            r -= alpha * ap_
            rr_new = torch.sum(r * r).item()
            history.append(rr_new ** 0.5 / bnorm)
            if history[-1] <= rtol:
                break
            p = r + (rr_new / rr) * p
            rr = rr_new
        sync()
        return history, time.perf_counter() - t0

    def first_below(history, rtol):
        return next((i for i, h in enumerate(history) if h <= rtol), None)

    results = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
               "torch": torch.__version__,
               "model": str(pathlib.Path(args.model).resolve().relative_to(ROOT)) if pathlib.Path(args.model).resolve().is_relative_to(ROOT) else args.model, "threads": torch.get_num_threads(),
               "date": datetime.date.today().isoformat(), "command": " ".join(sys.argv), "systems": [],
               "network_seconds": []}
    dtypes = [getattr(torch, d) for d in args.dtypes]
    for path in sorted(pathlib.Path(args.systems).glob("smoke3d_*.npz"), key=lambda p: int(p.stem.split("_")[1])):
        z = np.load(path)
        shape = tuple(int(s) for s in z["shape"])
        if args.sizes and shape[0] not in args.sizes:
            continue
        diag = torch.tensor(z["diag"], device=device).reshape(shape)
        off = torch.tensor(z["off"], device=device).reshape((6,) + shape)
        solid = torch.tensor(z["solid"], device=device).reshape(shape)
        A = stencil(diag, off)
        # The network alone: median of 5 after 2 warm-ups.
        for dtype in dtypes:
            r = torch.randn(shape, device=device, dtype=torch.float64)
            times = []
            for i in range(7):
                sync()
                s = time.perf_counter()
                direction(r, solid, dtype)
                sync()
                times.append(time.perf_counter() - s)
            results["network_seconds"].append({"n": shape[0], "dtype": str(dtype).replace("torch.", ""),
                                               "seconds": float(np.median(times[2:]))})
            print(f"{shape[0]}^3 network {dtype}: {np.median(times[2:]):.4f} s", flush=True)
        for k, rhs in enumerate(z["rhs"][: args.max_systems]):
            b = torch.tensor(rhs, device=device, dtype=torch.float64).reshape(shape)
            row = {"n": shape[0], "system": k, "icc": dict(zip(map(str, RTOLS), map(int, z["icc_iterations"][k])))}
            h, t = cg(A, b, RTOLS[-1], 20 * args.cap)
            row["cg"] = {"iterations": {str(rt): first_below(h, rt) for rt in RTOLS}, "seconds": t}
            for dtype in dtypes:
                try:
                    h, t, t_net = dcdm(A, b, solid, dtype, RTOLS[-1], args.cap)
                except FloatingPointError as e:
                    row["dcdm_" + str(dtype).replace("torch.", "")] = {"error": str(e)}
                    continue
                row["dcdm_" + str(dtype).replace("torch.", "")] = {
                    "iterations": {str(rt): first_below(h, rt) for rt in RTOLS}, "seconds": t,
                    "network_seconds": t_net, "final_residual": h[-1], "steps": len(h) - 1}
            results["systems"].append(row)
            print(json.dumps(row), flush=True)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    if args.md:
        pathlib.Path(args.md).write_text(markdown(results))


def markdown(res):
    def its(d, rt):
        v = d.get("iterations", {}).get(str(rt)) if "iterations" in d else None
        return "-" if v is None else str(v)

    lines = [f"# DCDM in torch on the 3D smoke-scene pressure systems ({res['date']})", "",
             f"Device: {res['device']}, torch {res['torch']}, {res['threads']} CPU threads. "
             f"Model: `{res['model']}`. Command: `{res['command']}`.", "",
             "Iterations to relative residual 1e-4 / 1e-6 (\"-\": not reached within the cap), seconds to "
             "1e-6 (or to the cap; then the residual reached follows in brackets). ICC-CG's iterations are PETSc's on the CPU, from the export.", "",
             "| n^3 | system | ICC-CG | CG | CG s | " + " | ".join(
                 f"DCDM {d} | DCDM {d} s | network share" for d in sorted({k[5:] for r in res["systems"]
                                                                            for k in r if k.startswith("dcdm_")})) + " |"]
    dkeys = sorted({k for r in res["systems"] for k in r if k.startswith("dcdm_")})
    lines.append("|" + "---|" * (5 + 3 * len(dkeys)))
    for r in res["systems"]:
        cells = [str(r["n"]), str(r["system"]), f"{r['icc']['0.0001']} / {r['icc']['1e-06']}",
                 f"{its(r['cg'], 1e-4)} / {its(r['cg'], 1e-6)}", f"{r['cg']['seconds']:.3f}"]
        for k in dkeys:
            d = r.get(k, {})
            if "error" in d:
                cells += [d["error"], "", ""]
            else:
                reached = f"{its(d, 1e-4)} / {its(d, 1e-6)}"
                if d["final_residual"] > RTOLS[-1]:
                    reached += f" ({d['final_residual']:.1e} after {d['steps']})"
                cells += [reached, f"{d['seconds']:.2f}",
                          f"{100 * d['network_seconds'] / max(d['seconds'], 1e-12):.0f}%"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Network alone (one application, median of 5):", "", "| n^3 | dtype | s |", "|---|---|---|"]
    lines += [f"| {r['n']} | {r['dtype']} | {r['seconds']:.4f} |" for r in res["network_seconds"]]
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export")
    e.add_argument("--fluxion", default=str(ROOT / "build/release/apps/fluxion/fluxion"))
    e.add_argument("--sizes", nargs="+", type=int, default=[32, 64, 128])
    e.add_argument("--steps", type=int, default=3)
    e.add_argument("--out", default=str(ROOT / "bench/systems"))
    s = sub.add_parser("solve")
    s.add_argument("--systems", default=str(ROOT / "bench/systems"))
    s.add_argument("--model", default=str(ROOT / "data/models/dcdm_3d/model.pt"))
    s.add_argument("--device", default="cuda")
    s.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    s.add_argument("--sizes", nargs="+", type=int)
    s.add_argument("--cap", type=int, default=1000)
    s.add_argument("--max-systems", type=int, default=3)
    s.add_argument("--threads", type=int, default=0)
    s.add_argument("--json")
    s.add_argument("--md")
    t = sub.add_parser("table", help="rewrite the markdown table of a solve's JSON")
    t.add_argument("json")
    t.add_argument("md")
    args = p.parse_args()
    if args.command == "table":
        pathlib.Path(args.md).write_text(markdown(json.loads(pathlib.Path(args.json).read_text())))
    else:
        export(args) if args.command == "export" else solve(args)


if __name__ == "__main__":
    main()
