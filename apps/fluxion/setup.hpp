// Builders shared by the apps: grid, boundary conditions, obstacles and linear solver from a Config,
// with the schema keys they read.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>

#include "fluxion/core/boundary.hpp"
#include "fluxion/core/config.hpp"
#include "fluxion/core/grid.hpp"
#include "fluxion/core/solid_mask.hpp"
#include "fluxion/linalg/linear_solver.hpp"

namespace fluxion::apps {

/// grid.cells, grid.lower, grid.upper (2 or 3 entries each: the dimension).
void declare_grid(Schema& s, std::vector<long> cells, std::vector<double> lower, std::vector<double> upper);
/// boundary.<face>.type and .value for the six faces.
void declare_boundary(Schema& s, const std::string& default_type);
/// obstacles: a list of {type: box|sphere|circle|cylinder|mesh, ...}.
void declare_obstacles(Schema& s);
/// solver.*: type, ksp, pc, rtol, atol, max_iterations, matrix_free, allow_nonconvergence.
void declare_solver(Schema& s, const std::string& prefix = "solver");

int grid_dimension(const Config& c);
BoundaryConditions make_boundary(const Config& c, int dim);
std::shared_ptr<const Grid> make_grid(const Config& c, MPI_Comm comm, const BoundaryConditions& bc);
/// Null when the config lists no obstacles. Mesh files resolve against config_dir, then the
/// working directory, then fluxion's data folder.
std::shared_ptr<SolidMask> make_obstacles(const Config& c, std::shared_ptr<const Grid> grid,
                                          const std::filesystem::path& config_dir);
/// `monitor`, when given, is called after each iteration (progress reports).
std::unique_ptr<LinearSolver> make_solver(const Config& c, const std::string& prefix = "solver",
                                          std::function<void(int, double)> monitor = {});

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
