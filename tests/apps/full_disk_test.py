#!/usr/bin/python3
"""`fluxion run` on a full disk (a small tmpfs): both apps, 1 and 2 ranks, one clear error and a
non-zero exit without a signal (HDF5 used to crash in MPI_Finalize); no temporaries left; the
XDMF beside a run file describes it; a complete earlier run survives. Needs root to mount a tmpfs:
without it the test exits 77, which ctest shows as a skip."""
import hashlib
import os
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

import fluxion_cli as cli
from fluxion_cli import run, write

import h5py

HEAT = """\
    app: heat
    grid: {cells: [CELLS, CELLS], lower: [0, 0], upper: [1, 1]}
    problem: {initial: "x*(1-x)", source: "1"}
    obstacles:
      - {type: circle, center: [0.5, 0.5], radius: 0.2}
    time: {dt: 0.001, steps: STEPS}
    output: {every: 1}
    """


def heat(cells, steps):
    return HEAT.replace("CELLS", str(cells)).replace("STEPS", str(steps))


class Tmpfs:
    """A tmpfs of `size` mounted at `path` for a with-block."""

    def __init__(self, path, size):
        self.path, self.size = path, size

    def __enter__(self):
        self.path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size}", "tmpfs", str(self.path)], check=True)
        return self.path

    def __exit__(self, *exc):
        subprocess.run(["umount", str(self.path)], check=True)


def files_below(path):
    return [os.path.join(d, f) for d, _, names in os.walk(path) for f in names]


class FullDisk(unittest.TestCase):
    def check_clean_failure(self, r, *expected):
        """Exit 1 (no signal, no abort), exactly one error line, no HDF5 error stack."""
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = [l for l in r.stderr.splitlines() if l.startswith("fluxion: error:")]
        self.assertEqual(len(lines), 1, r.stderr)
        for e in expected:
            self.assertIn(e, lines[0])
        for bad in ("HDF5-DIAG", "Segmentation", "signal", "Aborted", "core dumped"):
            self.assertNotIn(bad, r.stderr)
        return lines[0]

    def check_failed_run_readable(self, out):
        """failed/ holds a run file HDF5 opens and an XDMF whose every reference exists in it."""
        failed = out / "failed"
        with h5py.File(failed / "run.h5", "r") as f:
            self.assertIn("geometry", f)
            if (failed / "run.xdmf").exists():
                root = ET.parse(failed / "run.xdmf").getroot()
                for item in root.iter("DataItem"):
                    if item.get("Format") == "HDF":
                        self.assertIn(item.text.split(":", 1)[1], f)
        self.assertIn('"status": "failed"', (failed / "summary.json").read_text())

    def test_write_fails_midway_both_apps_1_and_2_ranks(self):
        plate = [str(cli.ARGS.source_dir) + "/apps/configs/plate.yaml"]  # 256 x 128 cells, ~1 MB of fields
        for ranks in (1, 2):
            for name, args in (("poisson", plate), ("heat", [str(write("heat64.yaml", heat(64, 3)))])):
                with self.subTest(app=name, ranks=ranks), Tmpfs(cli.WORK / "tmpfs", "64k") as disk:
                    out = disk / "out"
                    r = run(["run"] + args + ["-o", str(out)], ranks=ranks)
                    self.check_clean_failure(r, "run.h5", "full", str(out / "failed"))
                    self.check_failed_run_readable(out)
                    self.assertEqual([f for f in files_below(disk) if f.endswith(".tmp") or "reserve" in f], [])
                    self.assertFalse((out / ".staging").exists())

    def test_completely_full_disk_is_found_before_computing(self):
        for ranks in (1, 2):
            for name, args in (("poisson", [str(cli.ARGS.source_dir) + "/apps/configs/plate.yaml"]),
                               ("heat", [str(write("heat16.yaml", heat(16, 2)))])):
                with self.subTest(app=name, ranks=ranks), Tmpfs(cli.WORK / "tmpfs", "64k") as disk:
                    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
                    try:
                        while True:
                            os.write(fd, b"\0" * 4096)
                    except OSError:
                        os.close(fd)
                    out = disk / "out"
                    r = run(["run"] + args + ["-o", str(out)], ranks=ranks)
                    self.check_clean_failure(r, str(out), "No space left on device")
                    self.assertNotIn("solving", r.stdout)
                    self.assertNotIn("stepping", r.stdout)
                    self.assertEqual(os.listdir(out) if out.exists() else [], [])

    def test_disk_full_in_the_middle_keeps_the_earlier_run_and_no_temporaries(self):
        with Tmpfs(cli.WORK / "tmpfs", "512k") as disk:
            out = disk / "out"
            r = run(["run", str(write("heat8.yaml", heat(8, 3))), "-o", str(out)])
            self.assertEqual(r.returncode, 0, r.stderr)
            before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir() if p.is_file()}
            # 32 x 32 cells, 8 kB per step: the disk fills after some dozens of steps.
            r = run(["run", str(write("heat32.yaml", heat(32, 400))), "-o", str(out)])
            self.check_clean_failure(r, "full")
            after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir() if p.is_file()}
            self.assertEqual(after, before)
            self.check_failed_run_readable(out)
            with h5py.File(out / "failed" / "run.h5", "r") as f:
                self.assertGreater(len(f["time"]), 3)  # it failed in the middle, not at the start
            self.assertEqual([f for f in files_below(disk) if f.endswith(".tmp")], [])


if __name__ == "__main__":
    probe = "/tmp/fluxion-tmpfs-probe-%d" % os.getpid()
    os.makedirs(probe, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], capture_output=True, text=True)
    if mounted.returncode != 0:
        os.rmdir(probe)
        print("SKIP: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): " + mounted.stderr.strip())
        sys.exit(77)
    subprocess.run(["umount", probe], check=True)
    os.rmdir(probe)
    cli.main()
