// Builders shared by the apps: grid, boundary conditions, obstacles and linear solver from a Config,
// with the schema keys they read.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fluxion/core/boundary.hpp"
#include "fluxion/core/config.hpp"
#include "fluxion/core/grid.hpp"
#include "fluxion/core/solid_mask.hpp"
#include "fluxion/linalg/linear_solver.hpp"
#include "fluxion/tune/omega_tuner.hpp"

namespace fluxion::apps {

/// grid.cells, grid.lower, grid.upper (2 or 3 entries each: the dimension).
void declare_grid(Schema& s, std::vector<long> cells, std::vector<double> lower, std::vector<double> upper);
/// boundary.<face>.type and .value for the six faces.
void declare_boundary(Schema& s, const std::string& default_type);
/// obstacles: a list of {type: box|sphere|circle|cylinder|mesh, ...}.
void declare_obstacles(Schema& s);
/// solver.*: type, ksp, pc, rtol, atol, max_iterations, matrix_free, allow_nonconvergence, ordering,
/// and omega.* (the SOR family's relaxation factor, fixed or tuned online). `contexts` are the
/// context names the app provides (for the docs of solver.omega.context; make_solver checks them).
void declare_solver(Schema& s, const std::string& prefix = "solver", const std::vector<std::string>& contexts = {});

int grid_dimension(const Config& c);

/// The geometry every grid app starts from: boundary conditions, the grid they imply
/// (periodic axes), and the obstacles (null when none).
struct Domain {
  BoundaryConditions boundary;
  std::shared_ptr<const Grid> grid;
  std::shared_ptr<SolidMask> solid;
};
Domain make_domain(const Config& c, MPI_Comm comm, const std::filesystem::path& config_dir);

/// printf-style formatting of one number, for summary tables ("%.3f s").
std::string format_number(const char* format, double value);
BoundaryConditions make_boundary(const Config& c, int dim);
std::shared_ptr<const Grid> make_grid(const Config& c, MPI_Comm comm, const BoundaryConditions& bc);
/// Null when the config lists no obstacles. Mesh files resolve against config_dir, then the
/// working directory, then fluxion's data folder.
std::shared_ptr<SolidMask> make_obstacles(const Config& c, std::shared_ptr<const Grid> grid,
                                          const std::filesystem::path& config_dir);
/// What make_solver built: the solver the app solves with, and what it calls around the solves
/// when solver.omega.tune chose an omega tuner.
struct SolverSetup {
  std::unique_ptr<LinearSolver> solver;
  OmegaTuner* tuner = nullptr;       // solver.get() when solver.omega.tune is not none, else null
  std::string context;               // solver.omega.context: the context the tuner sees ("" for none)
  std::filesystem::path state_file;  // solver.omega.state ("" for none), relative to the working directory
  bool state_loaded = false;         // the state file existed and was loaded: learning continues
  bool state_saved = false;          // finish() wrote it

  /// Passes `value` to the solver when `name` is the context the config chose; else does nothing.
  /// An app calls it before each solve for every context it provides (make_solver's `contexts`).
  void set_context(const std::string& name, double value);
  /// At the end of a successful run: saves the tuner state to state_file atomically (on rank 0 of
  /// `comm`; an IoError reaches every rank). Nothing to do without a tuner or a state file.
  void finish(MPI_Comm comm);
  /// summary.json's "tuner" entry: learner, grid, per-solve omega / iterations / context, totals,
  /// learner overhead, state file; null without a tuner.
  nlohmann::json tuner_summary() const;
  /// One line for the summary table ("" without a tuner).
  std::string tuner_line() const;
};

/// The solver of the `prefix` section. `monitor`, when given, is called after each iteration
/// (progress reports; solver.type petsc only). `contexts` names the scalars the app can pass to
/// the tuner through SolverSetup::set_context (e.g. {"kappa_dt"}); solver.omega.context must be
/// one of them or none. With solver.omega.state set, the state is loaded here when the file
/// exists. Config mistakes, and a corrupt or incompatible state file, are ConfigErrors at the key.
///   auto setup = make_solver(config, "solver", monitor, {"kappa_dt"});
///   setup.solver->set_operator(op);
///   for (...) { setup.set_context("kappa_dt", kappa * dt); report = setup.solver->solve(b, x); }
///   setup.finish(comm);  results["tuner"] = setup.tuner_summary();
SolverSetup make_solver(const Config& c, const std::string& prefix = "solver",
                        std::function<void(int, double)> monitor = {}, const std::vector<std::string>& contexts = {});

/// Throws NumericalError with the report's summary unless the solve converged or the config
/// allows non-convergence (solver.allow_nonconvergence).
void check_converged(const Config& c, const SolveReport& report, const std::string& prefix = "solver");

/// fluxion's data folder (meshes/, apps/configs/): <prefix>/share/fluxion when installed,
/// else the source tree.
std::filesystem::path data_dir();

/// Finds a data file named in a config (see make_obstacles); ConfigError at `key` if absent.
std::filesystem::path resolve_data_file(const Config& c, const std::string& key,
                                        const std::filesystem::path& config_dir);

}  // namespace fluxion::apps
