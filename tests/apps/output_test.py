#!/usr/bin/python3
"""Hostile output cases of `fluxion run`: overlong paths, XML characters in names, a failed or
killed run on top of a complete one, two runs into one folder, folders that cannot be written,
config files that are not files or are empty, and PETSc options (misspelled, rejected, anywhere)."""
import hashlib
import json
import os
import signal
import subprocess
import time
import unittest
import xml.etree.ElementTree as ET

import fluxion_cli as cli
from fluxion_cli import SMALL, run, write

import h5py

# A heat run long enough to be stopped or killed in the middle: every step is written.
LONG_HEAT = """\
    app: heat
    grid: {cells: [16, 16], lower: [0, 0], upper: [1, 1]}
    problem: {initial: "x*(1-x)"}
    time: {dt: 0.001, steps: 1000000}
    output: {every: 1}
    """


def fresh(name):
    out = cli.WORK / name
    subprocess.run(["rm", "-rf", str(out)], check=True)
    return out


def digests(folder):
    """sha256 of every visible file directly in `folder` (not failed/, .staging/ or the lock)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()
            if p.is_file() and not p.name.startswith(".")}


def error_lines(result):
    return [l for l in result.stderr.splitlines() if l.startswith("fluxion: error:")]


def one_error(test, result, *expected, code=None):
    """Non-zero exit without a signal, exactly one error line, holding every `expected` text."""
    test.assertGreater(result.returncode, 0, result.stdout + result.stderr)
    if code is not None:
        test.assertEqual(result.returncode, code, result.stderr)
    lines = error_lines(result)
    test.assertEqual(len(lines), 1, result.stderr)
    for e in expected:
        test.assertIn(e, lines[0])
    return lines[0]


def wait_for(path, process, what):
    """Polls until `path` exists (the run got that far); fails if the process ended first."""
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the run ended before {what}: {process.communicate()}")
        time.sleep(0.05)


def start(args):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return subprocess.Popen([cli.ARGS.fluxion] + args, cwd=cli.WORK, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


class LongPaths(unittest.TestCase):
    """Item 2: Open MPI's MPI-IO aborted ("buffer overflow detected") on paths over ~244 characters."""

    def test_long_output_folder_is_refused_on_1_and_2_ranks(self):
        out = cli.WORK / ("d" * 240)
        for ranks in (1, 2):
            r = run(["run", str(write("long.yaml", SMALL)), "-o", str(out)], ranks=ranks)
            line = one_error(self, r, "-o/--output", "MPI-IO", "characters", code=2)
            self.assertNotIn("overflow", r.stderr)
            self.assertNotIn("solving", r.stdout)  # found before any computing
            self.assertFalse(out.exists(), line)

    def test_long_output_name_blames_its_line(self):
        cfg = write("longname.yaml", SMALL + "output: {name: " + "n" * 250 + "}\n")
        r = run(["run", str(cfg), "-o", str(fresh("longname"))])
        one_error(self, r, "longname.yaml:", "output.name", "255", code=2)

    def test_long_output_dir_in_the_config_blames_output_dir(self):
        cfg = write("longdir.yaml", SMALL + "output: {dir: " + "e" * 236 + "}\n")
        r = run(["run", str(cfg)])
        one_error(self, r, "longdir.yaml:", "output.dir", "MPI-IO", code=2)

    def test_a_path_just_inside_the_limit_runs(self):
        # The run file goes to <dir>/.staging/run.h5 first; 244 characters are allowed on 1 rank.
        out = cli.WORK / ("f" * (244 - len(str(cli.WORK)) - len("/.staging/run.h5") - 1))
        subprocess.run(["rm", "-rf", str(out)], check=True)
        self.assertEqual(len(str(out / ".staging" / "run.h5")), 244)
        r = run(["run", str(write("edge.yaml", SMALL)), "-o", str(out)])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue((out / "run.h5").is_file())


class XmlCharacters(unittest.TestCase):
    """Item 4: output.name with &, <, > and quotes gives valid XML that references the right files."""

    def test_xdmf_and_pvd_parse_and_point_at_the_files(self):
        out = fresh("xmlname")
        name = "a&b<c>\"d'e"
        cfg = write("xmlname.yaml", SMALL + "output: {name: '" + name.replace("'", "''") + "', format: hdf5+vti}\n")
        r = run(["run", str(cfg), "-o", str(out)])
        self.assertEqual(r.returncode, 0, r.stderr)
        root = ET.parse(out / (name + ".xdmf")).getroot()
        items = [d.text for d in root.iter("DataItem") if d.get("Format") == "HDF"]
        self.assertTrue(items)
        with h5py.File(out / (name + ".h5"), "r") as f:
            for item in items:
                file, dataset = item.split(":", 1)
                self.assertEqual(file, name + ".h5")
                self.assertIn(dataset, f)
        pvd = ET.parse(out / (name + ".pvd")).getroot()
        files = [d.get("file") for d in pvd.iter("DataSet")]
        self.assertEqual(files, [name + "_000000.vti"])
        self.assertTrue((out / files[0]).is_file())


class StagingAndFailure(unittest.TestCase):
    """Item 5: a failed or killed run never damages the previous complete run; summary.json says
    what the files beside it are."""

    def setUp(self):
        self.out = fresh("staging")
        r = run(["run", str(write("heat_ok.yaml", LONG_HEAT.replace("1000000", "4"))), "-o", str(self.out)])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.before = digests(self.out)
        summary = json.loads((self.out / "summary.json").read_text())
        self.assertEqual(summary["status"], "completed")
        self.assertEqual(summary["files"], ["run.h5", "run.xdmf"])

    def check_previous_run_intact(self):
        self.assertEqual(digests(self.out), self.before)
        with h5py.File(self.out / "run.h5", "r") as f:
            self.assertEqual(len(f["time"]), 5)  # the initial condition and 4 steps

    def test_sigkill_in_the_middle_keeps_the_previous_run(self):
        p = start(["run", str(write("heat_long.yaml", LONG_HEAT)), "-o", str(self.out)])
        wait_for(self.out / ".staging" / "run.xdmf", p, "writing its first step")
        p.send_signal(signal.SIGKILL)
        p.communicate()
        self.check_previous_run_intact()
        staged = json.loads((self.out / ".staging" / "summary.json").read_text())
        self.assertEqual(staged["status"], "running")
        # The next run finds the killed one and keeps it, readable, as failed/.
        r = run(["run", str(write("heat_ok.yaml", LONG_HEAT.replace("1000000", "4"))), "-o", str(self.out)])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("interrupted earlier run", r.stdout)
        failed = json.loads((self.out / "failed" / "summary.json").read_text())
        self.assertEqual(failed["status"], "failed")
        self.assertIn("interrupted", failed["reason"])
        self.assertEqual(failed["pid"], p.pid)
        with h5py.File(self.out / "failed" / "run.h5", "r") as f:
            written = len(f["time"])
        root = ET.parse(self.out / "failed" / "run.xdmf").getroot()
        self.assertLessEqual(len([g for g in root.iter("Time")]), written)
        self.assertFalse((self.out / ".staging").exists())

    def test_failing_run_keeps_the_previous_run_and_its_own_files_apart(self):
        cfg = write("heat_fail.yaml", LONG_HEAT.replace("1000000", "4") + "solver: {max_iterations: 1}\n")
        r = run(["run", str(cfg), "-o", str(self.out)])
        line = one_error(self, r, "DID NOT CONVERGE")
        self.assertIn(str(self.out / "failed"), line)
        self.check_previous_run_intact()
        self.assertEqual(json.loads((self.out / "summary.json").read_text())["status"], "completed")
        failed = json.loads((self.out / "failed" / "summary.json").read_text())
        self.assertEqual(failed["status"], "failed")
        self.assertIn("DID NOT CONVERGE", failed["reason"])
        self.assertEqual(failed["files"], ["run.h5", "run.xdmf"])
        with h5py.File(self.out / "failed" / "run.h5", "r") as f:
            self.assertEqual(len(f["time"]), 1)  # the initial condition only

    def test_bad_input_leaves_no_trace(self):
        r = run(["run", str(write("heat_bad.yaml", LONG_HEAT + "problem: {k: '1 +'}\n")), "-o", str(self.out)])
        self.assertNotEqual(r.returncode, 0)
        self.check_previous_run_intact()
        self.assertEqual(sorted(p.name for p in self.out.iterdir()), ["run.h5", "run.xdmf", "summary.json"])

    def test_a_new_run_replaces_every_file_of_the_previous_one(self):
        r = run(["run", str(write("renamed.yaml", LONG_HEAT.replace("1000000", "2").replace("every: 1", "every: 1, name: other"))),
                 "-o", str(self.out)])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(p.name for p in self.out.iterdir()), ["other.h5", "other.xdmf", "summary.json"])


class ConcurrentRuns(unittest.TestCase):
    """Item 6: a second run into a folder in use is refused, naming the first; the first finishes
    with its own data only."""

    def test_second_run_is_refused_and_the_first_completes(self):
        out = fresh("concurrent")
        cfg = write("heat_some.yaml", LONG_HEAT.replace("1000000", "300"))
        first = start(["run", str(cfg), "-o", str(out)])
        try:
            wait_for(out / ".staging" / "run.xdmf", first, "writing its first step")
            first.send_signal(signal.SIGSTOP)  # holds the lock for as long as the second run needs
            second = run(["run", str(write("other.yaml", SMALL)), "-o", str(out)])
        finally:
            first.send_signal(signal.SIGCONT)
        one_error(self, second, "is in use by another fluxion run", f"pid {first.pid} on")
        self.assertNotIn("solving", second.stdout)
        stdout, stderr = first.communicate(timeout=300)
        self.assertEqual(first.returncode, 0, stderr)
        summary = json.loads((out / "summary.json").read_text())
        self.assertEqual(summary["app"], "heat")
        self.assertEqual(summary["pid"], first.pid)
        with h5py.File(out / "run.h5", "r") as f:
            self.assertEqual(len(f["time"]), 301)  # t = 0 and every step
        self.assertFalse((out / ".fluxion.lock").exists())


class UnwritableOutput(unittest.TestCase):
    """Item 11: an output folder that cannot be made is found before computing, with its path."""

    def test_output_below_a_file(self):
        blocker = write("blocker.txt", "not a folder\n")
        r = run(["run", str(write("small.yaml", SMALL)), "-o", str(blocker / "out")])
        one_error(self, r, str(blocker / "out"), "cannot create the output folder")
        self.assertNotIn("solving", r.stdout)

    def test_output_that_is_a_file(self):
        blocker = write("blocker2.txt", "not a folder\n")
        r = run(["run", str(write("small.yaml", SMALL)), "-o", str(blocker)])
        one_error(self, r, str(blocker))
        self.assertNotIn("solving", r.stdout)
        self.assertEqual(blocker.read_text(), "not a folder\n")


class ConfigFiles(unittest.TestCase):
    """Items 13 (part) and 14: config paths that are not YAML files, and an empty config."""

    def test_folder(self):
        one_error(self, run(["run", str(cli.WORK)]), "is a folder", code=2)

    def test_device(self):
        one_error(self, run(["run", "/dev/zero"]), "/dev/zero", "not a regular file", code=2)

    def test_fifo(self):
        fifo = cli.WORK / "cfg.fifo"
        if not fifo.exists():
            os.mkfifo(fifo)
        one_error(self, run(["run", str(fifo)]), "cfg.fifo", "not a regular file", code=2)

    def test_huge_file(self):
        huge = cli.WORK / "huge.yaml"
        with open(huge, "wb") as f:
            f.truncate(17 << 20)  # sparse: no disk used
        one_error(self, run(["run", str(huge)]), "huge.yaml", "at most 16 MiB", code=2)

    def test_empty_config_says_that_defaults_run(self):
        out = fresh("empty")
        for text in ("", "# only a comment\n\n---\n"):
            r = run(["run", str(write("empty.yaml", text)), "-o", str(out), "--set", "grid.cells=[32,16]"])
            self.assertEqual(r.returncode, 0, r.stderr)
            warnings = [l for l in r.stderr.splitlines() if l.startswith("fluxion: warning:")]
            self.assertEqual(len(warnings), 1, r.stderr)
            self.assertIn("empty.yaml is empty", warnings[0])
            self.assertIn("default", warnings[0])
            self.assertEqual(json.loads((out / "summary.json").read_text())["app"], "poisson")


class PetscOptions(unittest.TestCase):
    """Item 10: unused options are warned about and recorded; a rejected value is blamed where it
    was written; options may stand anywhere on the command line."""

    def test_misspelled_option_is_warned_about_and_recorded(self):
        out = fresh("montor")
        r = run(["run", str(write("small.yaml", SMALL)), "-o", str(out), "-ksp_montor", "-ksp_rtol", "1e-9"])
        self.assertEqual(r.returncode, 0, r.stderr)
        warnings = [l for l in r.stderr.splitlines() if l.startswith("fluxion: warning:")]
        self.assertEqual(warnings, ["fluxion: warning: PETSc option -ksp_montor was not used "
                                    "(misspelled, or not read by this app and solver)"])
        summary = json.loads((out / "summary.json").read_text())
        self.assertEqual(summary["unused_petsc_options"], ["-ksp_montor"])

    def test_unknown_type_on_the_command_line_is_blamed_on_the_command_line(self):
        r = run(["run", str(write("small.yaml", SMALL)), "-o", str(fresh("bogus")), "-ksp_type", "bogus"])
        line = one_error(self, r, "command line: -ksp_type bogus", "bogus", code=2)
        self.assertNotIn("small.yaml", line)

    def test_unknown_type_in_the_petsc_section_is_blamed_on_its_line(self):
        cfg = write("petsc_bogus.yaml", SMALL + "petsc: {pc_type: nosuchpc}\n")
        r = run(["run", str(cfg), "-o", str(fresh("bogus"))])
        one_error(self, r, "petsc_bogus.yaml:8", "petsc.pc_type", "nosuchpc", code=2)

    def test_options_before_the_config_path(self):
        cfg = write("heat_tiny.yaml", LONG_HEAT.replace("1000000", "2"))
        out = fresh("before")
        for args in (["run", "-ksp_monitor", str(cfg), "-o", str(out)],
                     ["-ksp_monitor", "run", str(cfg), "-o", str(out)],
                     ["run", "-ksp_view_pre", "-ksp_rtol", "1e-9", str(cfg), "-o", str(out)]):
            r = run(args)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("from " + str(cfg), r.stdout)
            self.assertEqual(json.loads((out / "summary.json").read_text())["app"], "heat", args)
        self.assertIn("KSP Object", r.stdout)  # -ksp_view_pre reached PETSc

    def test_help_states_the_rule(self):
        r = run(["run", "--help"])
        self.assertEqual(r.returncode, 0)
        for text in ("one dash", "longer than two characters", ".yaml", "failed/", "cannot share an output folder"):
            self.assertIn(text, r.stdout)


if __name__ == "__main__":
    cli.main()
