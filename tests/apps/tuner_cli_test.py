#!/usr/bin/python3
"""End-to-end tests of the omega tuner through `fluxion run`: SOR-family solver types, a state file
that a second run continues from, summary.json's tuner entry, and bad input (one clear line naming
file:line and key, non-zero exit, nothing an earlier run wrote is lost)."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
import unittest

import fluxion_cli as cli
from fluxion_cli import run, write

import h5py

def summary(out):
    return json.loads((cli.WORK / out / "summary.json").read_text())

def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()

# Line 4 holds the solver section's first key, line 5 the omega map: messages must point there.
TUNED = """\
    app: poisson
    grid: {cells: [32, 16], lower: [0, 0], upper: [2, 1]}
    solver:
      type: ssor_cg
      omega: {tune: tsallis_inf, seed: 3, state: STATE}
    """

def tuned(name, state):
    return write(name, TUNED.replace("STATE", state))

class StateContinues(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.state = cli.WORK / "continue.h5"
        cls.state.unlink(missing_ok=True)
        cfg = tuned("continue.yaml", "continue.h5")
        cls.first = run(["run", str(cfg), "-o", "continue1"])
        cls.second = run(["run", str(cfg), "-o", "continue2"])

    def test_first_run_writes_the_state_and_a_tuner_summary(self):
        self.assertEqual(self.first.returncode, 0, self.first.stderr)
        self.assertIn("tsallis_inf(ssor-cg)", self.first.stdout)
        self.assertIn("state new", self.first.stdout)
        t = summary("continue1")["results"]["tuner"]
        solve = summary("continue1")["results"]["solve"]
        self.assertEqual(t["learner"], "tsallis_inf")
        self.assertEqual(t["solver"], "ssor-cg")
        self.assertEqual(len(t["grid"]), 20)
        self.assertFalse(t["state_loaded"])
        self.assertTrue(t["state_saved"])
        self.assertEqual((t["steps_before"], t["steps"]), (0, 1))
        self.assertEqual(len(t["omega"]), 1)
        self.assertIn(t["omega"][0], t["grid"])
        self.assertEqual(t["omega"][0], solve["omega"])
        self.assertEqual(t["iterations"], [solve["iterations"]])
        self.assertEqual(t["total_iterations"], solve["iterations"])
        self.assertTrue(solve["converged"])
        self.assertGreaterEqual(t["learner_seconds"], 0.0)

    def test_second_run_loads_it_and_the_step_count_continues(self):
        self.assertEqual(self.second.returncode, 0, self.second.stderr)
        self.assertIn("state loaded from continue.h5", self.second.stdout)
        t = summary("continue2")["results"]["tuner"]
        self.assertTrue(t["state_loaded"])
        self.assertEqual((t["steps_before"], t["steps"]), (1, 2))
        with h5py.File(self.state, "r") as f:
            self.assertEqual(f["learner"][()].decode(), "tsallis_inf")
            self.assertEqual(int(f["tuner/steps"][0]), 2)
            self.assertEqual(len(f["k"][()]), 20)
            self.assertIn("fluxion_state", f.attrs)
        self.assertFalse((cli.WORK / "continue.h5.tmp").exists())

    def test_same_seed_same_choice(self):
        cfg = write("seeded.yaml", TUNED.replace(", state: STATE", ""))
        omegas = []
        for out in ("seeded1", "seeded2"):
            r = run(["run", str(cfg), "-o", out])
            self.assertEqual(r.returncode, 0, r.stderr)
            omegas.append(summary(out)["results"]["tuner"]["omega"])
        self.assertEqual(omegas[0], omegas[1])

class SolverTypes(unittest.TestCase):
    def test_every_sor_family_type_converges_with_a_fixed_omega(self):
        for kind in ("sor", "ssor_cg", "petsc_sor_richardson", "petsc_ssor_cg"):
            cfg = write(f"type_{kind}.yaml", f"""\
                app: poisson
                grid: {{cells: [24, 12], lower: [0, 0], upper: [2, 1]}}
                solver: {{type: {kind}, omega: {{value: 1.7}}}}
                """)
            r = run(["run", str(cfg), "-o", f"type_{kind}"])
            self.assertEqual(r.returncode, 0, kind + ": " + r.stderr)
            s = summary(f"type_{kind}")["results"]
            self.assertTrue(s["solve"]["converged"], kind)
            self.assertEqual(s["solve"]["omega"], 1.7, kind)
            self.assertNotIn("tuner", s)

    def test_red_black_sor_tuned_on_two_ranks_saves_one_state(self):
        (cli.WORK / "mpi.h5").unlink(missing_ok=True)
        cfg = write("mpi_tuned.yaml", """\
            app: poisson
            grid: {cells: [24, 12], lower: [0, 0], upper: [2, 1]}
            solver:
              type: sor
              ordering: red_black
              omega: {tune: tsallis_inf, arms: {min: 1.5, max: 1.9, count: 5}, state: mpi.h5}
            """)
        for n, out in ((2, "mpi_a"), (2, "mpi_b")):
            r = run(["run", str(cfg), "-o", out], ranks=n)
            self.assertEqual(r.returncode, 0, r.stderr)
        t = summary("mpi_b")["results"]["tuner"]
        self.assertEqual(t["solver"], "sor red-black")
        for got, want in zip(t["grid"], [1.5, 1.6, 1.7, 1.8, 1.9], strict=True):
            self.assertAlmostEqual(got, want, places=12)
        self.assertEqual((t["steps_before"], t["steps"]), (1, 2))

class BadInput(unittest.TestCase):
    """Each mistake: non-zero exit, one line naming file:line and the key, earlier files intact."""

    @classmethod
    def setUpClass(cls):
        cls.out = cli.WORK / "tuner_kept"
        shutil.rmtree(cls.out, ignore_errors=True)
        cls.state = cli.WORK / "kept.h5"
        cls.state.unlink(missing_ok=True)
        r = run(["run", str(tuned("kept.yaml", "kept.h5")), "-o", str(cls.out)])
        assert r.returncode == 0, r.stderr
        cls.digests = {p.name: digest(p) for p in cls.out.iterdir()}
        cls.state_digest = digest(cls.state)

    def check(self, cfg, *expected):
        r = run(["run", str(cfg), "-o", str(self.out)])
        self.assertNotEqual(r.returncode, 0, r.stdout)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("fluxion: error: "), lines[0])
        for e in expected:
            self.assertIn(e, lines[0])
        self.assertEqual({p.name: digest(p) for p in self.out.iterdir()}, self.digests,
                         "an earlier run's output changed")
        self.assertEqual(digest(self.state), self.state_digest, "the earlier state file changed")
        return r

    def bad(self, name, omega_map):
        return write(name, TUNED.replace("{tune: tsallis_inf, seed: 3, state: STATE}", omega_map))

    def test_omega_outside_0_2(self):
        self.check(self.bad("omega2.yaml", "{value: 2.0}"), "omega2.yaml:5", "solver.omega.value", "< 2")
        self.check(self.bad("omega0.yaml", "{value: 0}"), "omega0.yaml:5", "solver.omega.value", "> 0")

    def test_empty_arm_set(self):
        self.check(self.bad("count0.yaml", "{tune: tsallis_inf, arms: {count: 0}}"), "count0.yaml:5",
                   "solver.omega.arms.count")

    def test_arm_min_not_below_max(self):
        self.check(self.bad("minmax.yaml", "{tune: tsallis_inf, arms: {min: 1.8, max: 1.2}}"), "minmax.yaml:5",
                   "solver.omega.arms.min", "smaller than solver.omega.arms.max")

    def test_arm_outside_0_2(self):
        self.check(self.bad("arm2.yaml", "{tune: tsallis_inf, arms: {max: 2.5}}"), "arm2.yaml:5",
                   "solver.omega.arms.max")

    def test_unknown_context(self):
        self.check(self.bad("context.yaml", "{tune: chebcb, context: kappa_dt}"), "context.yaml:5",
                   "solver.omega.context", "context 'kappa_dt' is not provided by app 'poisson'", "it provides")

    # Issue 12, item 9: keys the chosen type or learner does not read were accepted silently.
    def test_keys_the_solver_type_does_not_read(self):
        for key in ("ksp: cg", "pc: jacobi", "atol: 1.0e-30", "matrix_free: true"):
            name = key.split(":")[0]
            cfg = write(f"unread_{name}.yaml", TUNED.replace("type: ssor_cg", "type: sor\n      " + key))
            self.check(cfg, f"unread_{name}.yaml:5", f"solver.{name}: does not apply with solver.type sor",
                       "read only with type petsc")

    def test_keys_the_learner_does_not_read(self):
        self.check(self.bad("bins.yaml", "{tune: chebcb, context: shift, bins: 4}"), "bins.yaml:5",
                   "solver.omega.bins: does not apply with solver.omega.tune chebcb",
                   "read only with omega.tune tsallis_inf_cb")
        self.check(self.bad("terms.yaml", "{tune: tsallis_inf_cb, context: shift, terms: 4}"), "terms.yaml:5",
                   "solver.omega.terms: does not apply with solver.omega.tune tsallis_inf_cb",
                   "read only with omega.tune chebcb")

    # Issue 12, item 13: these sizes ended in std::bad_alloc.
    def test_size_like_keys_are_bounded(self):
        for key, bound in (("arms: {count: 1000000000}", "1000"), ("bins: 1000000000", "1000"),
                           ("terms: 1000000000", "64")):
            name = key.split(":")[0]
            self.check(self.bad(f"huge_{name}.yaml", "{tune: chebcb, context: shift, %s}" % key),
                       f"huge_{name}.yaml:5", "1000000000 is out of range", "<= " + bound)

    # Issue 12, item 8: integers were truncated to 32 bits (4294967301 -> 5 iterations).
    def test_integers_past_petsc_int_are_errors(self):
        cfg = write("iter32.yaml", TUNED.replace("type: ssor_cg", "type: ssor_cg\n      max_iterations: 4294967301"))
        self.check(cfg, "iter32.yaml:5", "solver.max_iterations: 4294967301 is out of range",
                   "<= 2147483647")
        cfg = write("cells32.yaml", TUNED.replace("[32, 16]", "[4294967360, 32]"))
        self.check(cfg, "cells32.yaml:2", "grid.cells[0]: 4294967360 is out of range")

    # Issue 12, item 11: the missing folder was found only when the state was saved, after the solve.
    def test_state_in_a_missing_folder_is_an_error_before_the_solve(self):
        r = self.check(tuned("nofolder.yaml", "no-such-folder/s.h5"), "nofolder.yaml:5", "solver.omega.state",
                       "the folder 'no-such-folder' does not exist")
        self.assertNotIn("solving", r.stdout)

    def test_contextual_learner_without_context(self):
        self.check(self.bad("cb.yaml", "{tune: chebcb}"), "cb.yaml:5", "solver.omega.tune", "chebcb")

    def test_state_without_learner(self):
        self.check(self.bad("nolearner.yaml", "{state: kept.h5}"), "nolearner.yaml:5", "solver.omega.state")

    def test_ordering_is_for_sor_only(self):
        cfg = write("ordering.yaml", TUNED.replace("type: ssor_cg", "type: ssor_cg\n      ordering: red_black"))
        self.check(cfg, "ordering.yaml:5", "solver.ordering")

    def test_corrupt_state_file_is_reported_and_left_alone(self):
        corrupt = cli.WORK / "corrupt.h5"
        corrupt.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 40 + b"not really")
        before = digest(corrupt)
        self.check(tuned("corrupt.yaml", "corrupt.h5"), "corrupt.yaml:5", "solver.omega.state", "corrupt.h5")
        self.assertEqual(digest(corrupt), before)
        self.assertFalse((cli.WORK / "corrupt.h5.tmp").exists())

    def test_state_of_another_grid_is_reported(self):
        cfg = self.bad("othergrid.yaml", "{tune: tsallis_inf, seed: 3, state: kept.h5, arms: {count: 10}}")
        self.check(cfg, "othergrid.yaml:5", "solver.omega.state", "kept.h5", "omega grid")

class SharedState(unittest.TestCase):
    """Issue 12, item 6: two runs learning into one state file both said "saved" and half the
    learning was lost. The file is locked for the whole run: the second is refused before computing."""

    def test_a_second_run_on_the_same_state_file_is_refused(self):
        state = cli.WORK / "shared.h5"
        state.unlink(missing_ok=True)
        cfg = write("shared.yaml", """\
            app: heat
            grid: {cells: [32, 32], lower: [0, 0], upper: [1, 1]}
            problem: {source: "1"}
            time: {dt: 1.0e-3, steps: 600}
            output: {every: 100000}
            solver:
              type: ssor_cg
              omega: {tune: tsallis_inf, seed: 1, state: shared.h5}
            """)
        for out in ("shared_a", "shared_b"):
            shutil.rmtree(cli.WORK / out, ignore_errors=True)
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        first = subprocess.Popen([cli.ARGS.fluxion, "run", str(cfg), "-o", "shared_a"], cwd=cli.WORK, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            lock = cli.WORK / "shared.h5.lock"
            deadline = time.monotonic() + 120
            while not lock.exists() and first.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertTrue(lock.exists(), "the first run never took the state file's lock")
            # Frozen while it holds the lock, so the second run surely meets it.
            first.send_signal(signal.SIGSTOP)
            second = run(["run", str(cfg), "-o", "shared_b"])
            first.send_signal(signal.SIGCONT)
        finally:
            first.send_signal(signal.SIGCONT)
            out, err = first.communicate(timeout=300)
        self.assertNotEqual(second.returncode, 0, second.stdout)
        lines = [l for l in second.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, second.stderr)
        self.assertIn("shared.yaml:8: solver.omega.state", lines[0])
        self.assertIn(f"is in use by another fluxion run (pid {first.pid} ", lines[0])
        self.assertNotIn("stepping", second.stdout)
        self.assertFalse((cli.WORK / "shared_b" / "run.h5").exists())
        # The first run is unharmed: it saved all its learning and nothing of the second's.
        self.assertEqual(first.returncode, 0, err)
        self.assertIn("saved", out)
        t = summary("shared_a")["results"]["tuner"]
        self.assertEqual((t["steps_before"], t["steps"]), (0, 600))
        with h5py.File(state, "r") as f:
            self.assertEqual(int(f["tuner/steps"][0]), 600)
        self.assertFalse(lock.exists())

if __name__ == "__main__":
    cli.main()
