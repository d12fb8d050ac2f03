"""What the end-to-end tests of the `fluxion` command share: how they call it (optionally under
mpiexec), where they write, and their command line (--fluxion, --mpiexec, --pvpython,
--source-dir, --work-dir)."""
import argparse
import os
import pathlib
import subprocess
import sys
import textwrap
import unittest

ARGS = None
WORK = None

# A small 2D Poisson run with an obstacle (32 x 16 cells, variable k), shared by the suites.
SMALL = """\
    app: poisson
    grid: {cells: [32, 16], lower: [0, 0], upper: [2, 1]}
    problem:
      k: "1 + x"
      source: "1"
    obstacles:
      - {type: circle, center: [1.0, 0.5], radius: 0.2}
    """


def run(args, ranks=1, cwd=None):
    """Runs `fluxion ARGS` in the work folder; returns the CompletedProcess (text output)."""
    cmd = [ARGS.fluxion] + args
    if ranks > 1:
        cmd = [ARGS.mpiexec, "-n", str(ranks), "--oversubscribe", "--allow-run-as-root"] + cmd
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return subprocess.run(cmd, cwd=cwd or WORK, capture_output=True, text=True, env=env, timeout=300)


def write(name, text):
    """Writes a dedented text file into the work folder and returns its path."""
    path = WORK / name
    path.write_text(textwrap.dedent(text))
    return path


def main():
    global ARGS, WORK
    parser = argparse.ArgumentParser()
    parser.add_argument("--fluxion", required=True)
    parser.add_argument("--mpiexec", default="mpiexec")
    parser.add_argument("--pvpython", default="")
    parser.add_argument("--source-dir", default="")
    parser.add_argument("--work-dir", required=True)
    ARGS, rest = parser.parse_known_args()
    WORK = pathlib.Path(ARGS.work_dir).resolve()
    WORK.mkdir(parents=True, exist_ok=True)
    unittest.main(module="__main__", argv=[sys.argv[0]] + rest, verbosity=2)
