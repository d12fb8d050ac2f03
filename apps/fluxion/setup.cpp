// Config -> grid, boundary conditions, obstacles, solver.
#include "setup.hpp"

#include "fluxion/core/error.hpp"
#include "fluxion/io/mesh_voxelizer.hpp"
#include "fluxion/linalg/petsc_solver.hpp"

namespace fluxion::apps {

namespace {
std::array<double, 3> point(const Config& c, const std::string& key, int dim) {
  const auto v = c.reals(key);
  if (static_cast<int>(v.size()) != dim)
    c.fail(key, "has " + std::to_string(v.size()) + " entries; expected " + std::to_string(dim) +
                    " (the grid is " + std::to_string(dim) + "D)");
  std::array<double, 3> p{};
  std::copy(v.begin(), v.end(), p.begin());
  return p;
}
}  // namespace

void declare_grid(Schema& s, std::vector<long> cells, std::vector<double> lower, std::vector<double> upper) {
  s.section("grid", "The uniform cell-centred grid; 2 entries per list for 2D, 3 for 3D")
      .integer_list("grid.cells", std::move(cells), "Cells per axis", Length::between(2, 3), Range::at_least(1))
      .real_list("grid.lower", std::move(lower), "Lower corner of the domain box", Length::between(2, 3))
      .real_list("grid.upper", std::move(upper), "Upper corner of the domain box", Length::between(2, 3));
}

void declare_boundary(Schema& s, const std::string& default_type) {
  s.section("boundary", "Boundary conditions per face (z faces only in 3D)");
  for (const char* face : kFaceNames) {
    const std::string key = std::string("boundary.") + face;
    s.string(key + ".type", default_type,
             "dirichlet: u = value; neumann: outward flux k du/dn = value; periodic: wraps to the opposite face",
             {"dirichlet", "neumann", "periodic"})
        .expression(key + ".value", "0", "Boundary value or flux, a formula of x, y, z, t");
  }
}

void declare_obstacles(Schema& s) {
  Schema o;
  o.string("type", required, "Obstacle shape", {"box", "sphere", "circle", "cylinder", "mesh"})
      .real_list("center", {}, "sphere, circle, cylinder: centre (a point on the axis for a cylinder)")
      .real("radius", 0.0, "sphere, circle, cylinder: radius", Range::at_least(0))
      .real_list("lower", {}, "box: lower corner")
      .real_list("upper", {}, "box: upper corner")
      .string("axis", "z", "cylinder: axis direction", {"x", "y", "z"})
      .string("file", "", "mesh: a closed surface (STL, OBJ, PLY, VTP), relative to the config's folder")
      .real("scale", 1.0, "mesh: scale factor, applied first", Range::greater_than(0))
      .real_list("translate", {0.0, 0.0, 0.0}, "mesh: translation, applied last", Length::exactly(3))
      .real("rotate_z", 0.0, "mesh: rotation about z in degrees, after scaling")
      .real("slice_z", 0.0, "mesh in a 2D run: the z of the cross-section");
  s.list("obstacles", o, "Solid regions: cells whose centre is inside carry no flux (homogeneous Neumann)");
}

void declare_solver(Schema& s, const std::string& p) {
  s.section(p, "The linear solver")
      .string(p + ".type", "petsc", "Solver family", {"petsc"})
      .string(p + ".ksp", "cg", "PETSc KSP type (cg, gmres, bcgs, richardson, preonly, ...)")
      .string(p + ".pc", "mg",
              "Preconditioner: mg (geometric multigrid on the grid), gamg, hypre, sor, icc, ilu, jacobi, lu, none")
      .real(p + ".rtol", 1e-8, "Relative tolerance on ||b - Ax|| / ||b - Ax0||", Range::greater_than(0).and_less_than(1))
      .real(p + ".atol", 1e-50, "Absolute tolerance on ||b - Ax||", Range::greater_than(0))
      .integer(p + ".max_iterations", 10000, "Iteration cap; reaching it is non-convergence", Range::at_least(1))
      .boolean(p + ".matrix_free", false, "Apply the operator matrix-free (then pc must be none or jacobi)")
      .boolean(p + ".allow_nonconvergence", false, "Go on (with a warning) when a solve does not converge");
}

int grid_dimension(const Config& c) {
  const int dim = static_cast<int>(c.integers("grid.cells").size());
  for (const char* key : {"grid.lower", "grid.upper"})
    if (static_cast<int>(c.reals(key).size()) != dim)
      c.fail(key, "has " + std::to_string(c.reals(key).size()) + " entries; expected " + std::to_string(dim) +
                      " like grid.cells");
  return dim;
}

BoundaryConditions make_boundary(const Config& c, int dim) {
  BoundaryConditions bc;
  for (int f = 0; f < 2 * dim; ++f) {
    const std::string key = std::string("boundary.") + kFaceNames[f];
    const std::string type = c.string(key + ".type");
    FaceBc face;
    face.type = type == "dirichlet" ? BcType::Dirichlet : type == "neumann" ? BcType::Neumann : BcType::Periodic;
    face.value = Expression(c.expression(key + ".value"), c.label(key + ".value"));
    bc[static_cast<Face>(f)] = face;
  }
  for (int a = 0; a < dim; ++a) {
    const bool lo = bc[static_cast<Face>(2 * a)].type == BcType::Periodic;
    const bool hi = bc[static_cast<Face>(2 * a + 1)].type == BcType::Periodic;
    if (lo != hi)
      c.fail(std::string("boundary.") + kFaceNames[lo ? 2 * a + 1 : 2 * a] + ".type",
             std::string("must be periodic too, since boundary.") + kFaceNames[lo ? 2 * a : 2 * a + 1] +
                 " is periodic");
  }
  return bc;
}

std::shared_ptr<const Grid> make_grid(const Config& c, MPI_Comm comm, const BoundaryConditions& bc) {
  const int dim = grid_dimension(c);
  GridSpec spec;
  spec.dim = dim;
  const auto cells = c.integers("grid.cells");
  const auto lower = c.reals("grid.lower"), upper = c.reals("grid.upper");
  for (int a = 0; a < dim; ++a) {
    spec.cells[a] = static_cast<PetscInt>(cells[a]);
    spec.lower[a] = lower[a];
    spec.upper[a] = upper[a];
    if (!(upper[a] > lower[a]))
      c.fail("grid.upper", std::string("entry ") + "xyz"[a] + " (" + std::to_string(upper[a]) +
                               ") must be greater than grid.lower's (" + std::to_string(lower[a]) + ")");
  }
  spec.periodic = bc.periodic_axes();
  return std::make_shared<const Grid>(comm, spec);
}

std::filesystem::path data_dir() {
  // An installed fluxion finds its data beside itself (bin/../share/fluxion); a build-tree one
  // uses the source tree it was built from.
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto installed = exe.parent_path().parent_path() / "share" / "fluxion";
    if (std::filesystem::exists(installed / "meshes")) return installed;
  }
  return FLUXION_SOURCE_DATA_DIR;
}

std::filesystem::path resolve_data_file(const Config& c, const std::string& key,
                                        const std::filesystem::path& config_dir) {
  const std::filesystem::path name = c.string(key);
  if (name.empty()) c.fail(key, "is empty; expected a file name");
  if (name.is_absolute()) {
    if (!std::filesystem::exists(name)) c.fail(key, "file '" + name.string() + "' does not exist");
    return name;
  }
  for (const auto& base : {config_dir, std::filesystem::current_path(), data_dir()}) {
    if (!base.empty() && std::filesystem::exists(base / name)) return base / name;
  }
  c.fail(key, "file '" + name.string() + "' does not exist (looked in " + config_dir.string() +
                  ", the working directory and " + data_dir().string() + ")");
}

std::shared_ptr<SolidMask> make_obstacles(const Config& c, std::shared_ptr<const Grid> grid,
                                          const std::filesystem::path& config_dir) {
  const auto items = c.list("obstacles");
  if (items.empty()) return nullptr;
  const int dim = grid->dim();
  auto mask = std::make_shared<SolidMask>(grid);
  for (const Config& o : items) {
    const std::string type = o.string("type");
    if (type == "box") {
      mask->add(BoxShape{point(o, "lower", dim), point(o, "upper", dim)});
    } else if (type == "sphere" || type == "circle") {
      if (type == "circle" && dim != 2) o.fail("type", "circle is for 2D grids; use sphere or cylinder in 3D");
      if (!(o.real("radius") > 0)) o.fail("radius", "must be > 0 for a " + type);
      mask->add(SphereShape{point(o, "center", dim), o.real("radius")});
    } else if (type == "cylinder") {
      if (dim != 3) o.fail("type", "cylinder is for 3D grids; use circle in 2D");
      if (!(o.real("radius") > 0)) o.fail("radius", "must be > 0 for a cylinder");
      const std::string axis = o.string("axis");
      mask->add(CylinderShape{point(o, "center", dim), o.real("radius"), axis[0] - 'x'});
    } else {  // mesh
      const auto file = resolve_data_file(o, "file", config_dir);
      const auto t = o.reals("translate");
      MeshPlacement placement{o.real("scale"), {t[0], t[1], t[2]}, o.real("rotate_z")};
      try {
        add_mesh_obstacle(*mask, file, placement, o.real("slice_z"));
      } catch (const IoError& e) {
        o.fail("file", e.what());
      }
    }
  }
  return mask;
}

std::unique_ptr<LinearSolver> make_solver(const Config& c, const std::string& p,
                                          std::function<void(int, double)> monitor) {
  PetscSolverSettings s;
  s.ksp_type = c.string(p + ".ksp");
  s.pc_type = c.string(p + ".pc");
  s.rtol = c.real(p + ".rtol");
  s.atol = c.real(p + ".atol");
  s.max_iterations = static_cast<int>(c.integer(p + ".max_iterations"));
  s.matrix_free = c.boolean(p + ".matrix_free");
  if (s.matrix_free && s.pc_type != "none" && s.pc_type != "jacobi")
    c.fail(p + ".pc", "'" + s.pc_type + "' needs an assembled matrix; with matrix_free use none or jacobi");
  auto solver = std::make_unique<PetscSolver>(s);
  if (monitor) solver->set_monitor(std::move(monitor));
  return solver;
}

void check_converged(const Config& c, const SolveReport& report, const std::string& p) {
  if (report.converged) return;
  if (c.boolean(p + ".allow_nonconvergence")) return;
  throw NumericalError(report.summary() + " (set " + p + ".allow_nonconvergence: true to go on anyway)");
}

}  // namespace fluxion::apps
