// Builders of the linear solver from a Config section: solver type, omega tuner, learner state, with
// the schema keys they read and the table of which keys each solver type and learner reads.
#pragma once

#include <mpi.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fluxion/core/config.hpp"
#include "fluxion/core/file_lock.hpp"
#include "fluxion/linalg/linear_solver.hpp"
#include "fluxion/tune/omega_tuner.hpp"

namespace fluxion {

/// <prefix>.*: type, ksp, pc, rtol, atol, max_iterations, matrix_free, allow_nonconvergence, ordering,
/// and omega.* (the SOR family's relaxation factor, fixed or tuned online). `contexts` are the
/// context names the app provides (for the docs of <prefix>.omega.context; make_solver checks them).
/// `defaults` changes what the type and rtol keys default to (a solver for well-conditioned
/// systems, such as implicit viscosity, wants a cheaper default than CG + multigrid to 1e-8).
struct SolverDefaults {
  std::string type = "petsc";
  double rtol = 1e-8;
};
void declare_solver(Schema& s, const std::string& prefix = "solver", const std::vector<std::string>& contexts = {},
                    const SolverDefaults& defaults = {});

/// Which keys of the solver section a choice reads: `key` (relative to the prefix, e.g. "ksp" or
/// "omega.bins") is read when `selector` ("type" or "omega.tune") has one of `values`. make_solver
/// rejects a key given for a choice that does not read it (see there); every key declare_solver
/// declares is in this table.
struct SolverKeyUse {
  std::string key;
  std::string selector;
  std::vector<std::string> values;
};
const std::vector<SolverKeyUse>& solver_key_table();

/// Lexicographic SOR on several ranks is processor-block SOR (each rank sweeps its own block with
/// its neighbours' values from the start of the sweep), which diverges for omega near 2. Above
/// this omega, make_solver warns when it builds such a solver (type sor with ordering
/// lexicographic, or petsc_sor_richardson, on more than one rank); the default ordering `auto`
/// takes red-black there, which converges for every omega in (0, 2).
inline constexpr double kBlockSorSafeOmega = 1.6;

/// What make_solver built: the solver the app solves with, and what it calls around the solves
/// when <prefix>.omega.tune chose an omega tuner. Move-only; holds the tuner state file's lock.
struct SolverSetup {
  std::unique_ptr<LinearSolver> solver;
  OmegaTuner* tuner = nullptr;       // solver.get() when omega.tune is not none, else null
  std::string context;               // omega.context: the context the tuner sees ("" for none)
  std::filesystem::path state_file;  // omega.state ("" for none), relative to the working directory
  bool state_loaded = false;         // the state file existed and was loaded: learning continues
  bool state_saved = false;          // finish() wrote it
  /// "<state_file>.lock", held from make_solver until this setup is destroyed, so that two runs
  /// never learn into one state file (the second is refused before it computes). Null without a state file.
  std::unique_ptr<FileLock> state_lock;
  /// The warnings make_solver printed (rank 0 of its communicator), one line each.
  std::vector<std::string> warnings;

  /// Passes `value` to the solver when `name` is the context the config chose; else does nothing.
  /// An app calls it before each solve for every context it provides (make_solver's `contexts`).
  void set_context(const std::string& name, double value);
  /// At the end of a successful run: saves the tuner state to state_file atomically (on rank 0 of
  /// `comm`; an IoError reaches every rank). Nothing to do without a tuner or a state file.
  void finish(MPI_Comm comm);
  /// The tuner as a JSON object (summary.json's "tuner" entry): learner, grid, per-solve omega /
  /// iterations / context, totals, learner overhead, state file; "null" without a tuner.
  std::string tuner_summary_json() const;
  /// One line for the summary table ("" without a tuner).
  std::string tuner_line() const;
};

/// The solver of the `prefix` section. Collective over `comm` (the grid's communicator).
/// `monitor`, when given, is called after each iteration (progress reports; type petsc only).
/// `contexts` names the scalars the app can pass to the tuner through SolverSetup::set_context
/// (e.g. {"kappa_dt"}); omega.context must be one of them or none. With omega.state set, its
/// folder must exist and be writable, the state file is locked (a second run using it is refused)
/// and loaded when it exists. Config mistakes, a key that the chosen type or learner does not read
/// (solver_key_table), and a corrupt or incompatible state file are ConfigErrors at the key. Only a
/// key left in the file after `type` or `omega.tune` was changed with --set is ignored with a
/// warning instead; --set may also give such a key its default (which clears the file's value).
///   auto setup = make_solver(config, comm, "solver", monitor, {"kappa_dt"});
///   setup.solver->set_operator(op);
///   for (...) { setup.set_context("kappa_dt", kappa * dt); report = setup.solver->solve(b, x); }
///   setup.finish(comm);
SolverSetup make_solver(const Config& c, MPI_Comm comm, const std::string& prefix = "solver",
                        std::function<void(int, double)> monitor = {}, const std::vector<std::string>& contexts = {});

/// Throws NumericalError with the report's summary unless the solve converged or the config
/// allows non-convergence (<prefix>.allow_nonconvergence).
void check_converged(const Config& c, const SolveReport& report, const std::string& prefix = "solver");

}  // namespace fluxion
