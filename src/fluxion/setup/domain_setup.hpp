// Builders of the geometry from a Config: grid, boundary conditions and obstacles, with the schema keys they read.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "fluxion/core/boundary.hpp"
#include "fluxion/core/config.hpp"
#include "fluxion/core/grid.hpp"
#include "fluxion/core/solid_mask.hpp"

namespace fluxion {

/// grid.cells, grid.lower, grid.upper (2 or 3 entries each: the dimension).
void declare_grid(Schema& s, std::vector<long> cells, std::vector<double> lower, std::vector<double> upper);
/// boundary.<face>.type and .value for the six faces.
void declare_boundary(Schema& s, const std::string& default_type);
/// obstacles: a list of {type: box|sphere|circle|cylinder|mesh, ...}.
void declare_obstacles(Schema& s);

/// The length of grid.cells; ConfigError when grid.lower or grid.upper has another length.
int grid_dimension(const Config& c);

/// The geometry every grid app starts from: boundary conditions, the grid they imply
/// (periodic axes), and the obstacles (null when none).
///   Schema s;  declare_grid(s, {64, 64}, {0, 0}, {1, 1});  declare_boundary(s, "dirichlet");  declare_obstacles(s);
///   Domain d = make_domain(Config::from_file("my.yaml", s), PETSC_COMM_WORLD, "/folder/of/my.yaml");
struct Domain {
  BoundaryConditions boundary;
  std::shared_ptr<const Grid> grid;
  std::shared_ptr<SolidMask> solid;
};
Domain make_domain(const Config& c, MPI_Comm comm, const std::filesystem::path& config_dir);

BoundaryConditions make_boundary(const Config& c, int dim);
std::shared_ptr<const Grid> make_grid(const Config& c, MPI_Comm comm, const BoundaryConditions& bc);
/// Null when the config lists no obstacles. Mesh files resolve against config_dir, then the
/// working directory, then fluxion's data folder.
std::shared_ptr<SolidMask> make_obstacles(const Config& c, std::shared_ptr<const Grid> grid,
                                          const std::filesystem::path& config_dir);

/// fluxion's data folder (meshes/, apps/configs/): <prefix>/share/fluxion of an installed fluxion
/// (found from this library's own location, so also inside an embedding program), else the source
/// tree it was built from.
std::filesystem::path data_dir();

/// Finds a data file named in a config (see make_obstacles); ConfigError at `key` if absent.
std::filesystem::path resolve_data_file(const Config& c, const std::string& key,
                                        const std::filesystem::path& config_dir);

}  // namespace fluxion
