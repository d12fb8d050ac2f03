// Config -> grid, boundary conditions, obstacles, solver.
#include "setup.hpp"

#include <cstdio>

#include <algorithm>
#include <numeric>
#include <sstream>

#include "fluxion/core/error.hpp"
#include "fluxion/io/mesh_voxelizer.hpp"
#include "fluxion/io/xdmf.hpp"
#include "fluxion/linalg/petsc_solver.hpp"
#include "fluxion/linalg/sor_solver.hpp"
#include "fluxion/tune/chebcb.hpp"
#include "fluxion/tune/hdf5_state.hpp"
#include "fluxion/tune/tsallis_inf.hpp"

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

void declare_solver(Schema& s, const std::string& p, const std::vector<std::string>& contexts) {
  std::string provided = "none";
  for (const auto& name : contexts) provided += ", " + name;
  s.section(p, "The linear solver")
      .string(p + ".type", "petsc",
              "petsc: any KSP + PC (ksp, pc, matrix_free below); sor: matrix-free SOR (Richardson); ssor_cg: "
              "matrix-free SSOR-preconditioned CG; petsc_sor_richardson, petsc_ssor_cg: the same two through PETSc "
              "(KSPRICHARDSON / KSPCG + PCSOR)",
              {"petsc", "sor", "ssor_cg", "petsc_sor_richardson", "petsc_ssor_cg"})
      .string(p + ".ksp", "cg", "type petsc: PETSc KSP type (cg, gmres, bcgs, richardson, preonly, ...)")
      .string(p + ".pc", "mg",
              "type petsc: preconditioner: mg (geometric multigrid on the grid), gamg, hypre, sor, icc, ilu, jacobi, lu, none")
      .real(p + ".rtol", 1e-8, "Relative tolerance on ||b - Ax|| / ||b - Ax0||", Range::greater_than(0).and_less_than(1))
      .real(p + ".atol", 1e-50, "type petsc: absolute tolerance on ||b - Ax||", Range::greater_than(0))
      .integer(p + ".max_iterations", 10000,
               "Iteration cap; reaching it is non-convergence (and what a tuner is charged for that solve)",
               Range::at_least(1))
      .boolean(p + ".matrix_free", false, "type petsc: apply the operator matrix-free (then pc must be none or jacobi)")
      .boolean(p + ".allow_nonconvergence", false, "Go on (with a warning) when a solve does not converge")
      .string(p + ".ordering", "lexicographic",
              "type sor: sweep order; red_black gives the same iterates on any number of ranks",
              {"lexicographic", "red_black"});
  s.section(p + ".omega", "The SOR family's relaxation factor omega: fixed, or chosen before each solve by an online "
                          "learner fed the iteration counts (Khodak et al., Learning to Relax)")
      .real(p + ".omega.value", 1.5, "Fixed omega (when tune is none)", Range::greater_than(0).and_less_than(2))
      .string(p + ".omega.tune", "none",
              "none: fixed omega; tsallis_inf: bandit over the arms; tsallis_inf_cb: one bandit per context bin; "
              "chebcb: regression on Chebyshev features of the context",
              {"none", "tsallis_inf", "tsallis_inf_cb", "chebcb"})
      .string(p + ".omega.context", "none",
              "The scalar the contextual learners see before each solve; this app provides: " + provided)
      .real_list(p + ".omega.context_range", {0.0, 1.0},
                 "tsallis_inf_cb, chebcb: the context interval [a, b] (binned / mapped to [-1, 1]; outside: clamped)",
                 Length::exactly(2))
      .integer(p + ".omega.bins", 5, "tsallis_inf_cb: context bins", Range::at_least(1))
      .integer(p + ".omega.terms", 6, "chebcb: Chebyshev terms T_0..T_{terms-1}", Range::at_least(1))
      .integer(p + ".omega.seed", 0, "Seed of the learner's random draws (runs are reproducible)", Range::at_least(0))
      .string(p + ".omega.state", "",
              "HDF5 file of the learner's state (relative to the working directory): loaded before the first solve "
              "when it exists, saved atomically at the end, so the next run continues learning");
  s.section(p + ".omega.arms", "The omega values the learner chooses from: count values from min to max")
      .real(p + ".omega.arms.min", 1.0, "Smallest omega", Range::greater_than(0).and_less_than(2))
      .real(p + ".omega.arms.max", 1.95, "Largest omega", Range::greater_than(0).and_less_than(2))
      .integer(p + ".omega.arms.count", 20, "Number of values (1: min only)", Range::at_least(1));
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

Domain make_domain(const Config& c, MPI_Comm comm, const std::filesystem::path& config_dir) {
  Domain d;
  d.boundary = make_boundary(c, grid_dimension(c));
  d.grid = make_grid(c, comm, d.boundary);
  d.solid = make_obstacles(c, d.grid, config_dir);
  return d;
}

std::string format_number(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
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

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::unique_ptr<RelaxationSolver> make_relaxation_solver(const Config& c, const std::string& p, const std::string& type,
                                                         double omega) {
  const double rtol = c.real(p + ".rtol");
  const int cap = static_cast<int>(c.integer(p + ".max_iterations"));
  if (type == "sor") {
    SorSolverSettings s;
    s.ordering = c.string(p + ".ordering") == "red_black" ? SorOrdering::RedBlack : SorOrdering::Lexicographic;
    s.omega = omega;
    s.rtol = rtol;
    s.max_iterations = cap;
    return std::make_unique<SorSolver>(s);
  }
  if (type == "ssor_cg") return std::make_unique<SsorCgSolver>(SsorCgSettings{omega, rtol, cap});
  PetscSorSettings s;
  s.method = type == "petsc_ssor_cg" ? PetscSorMethod::SsorCg : PetscSorMethod::Richardson;
  s.omega = omega;
  s.rtol = rtol;
  s.max_iterations = cap;
  return std::make_unique<PetscSorSolver>(s);
}

std::unique_ptr<OnlineLearner> make_learner(const Config& c, const std::string& p, const std::string& tune, int arms) {
  const auto seed = static_cast<std::uint64_t>(c.integer(p + ".omega.seed"));
  if (tune == "tsallis_inf") return std::make_unique<TsallisInf>(arms, seed);
  const auto range = c.reals(p + ".omega.context_range");
  if (!(range[0] < range[1]))
    c.fail(p + ".omega.context_range", "[" + std::to_string(range[0]) + ", " + std::to_string(range[1]) +
                                           "] is empty; expected [a, b] with a < b");
  if (tune == "tsallis_inf_cb")
    return std::make_unique<TsallisInfCb>(arms, static_cast<int>(c.integer(p + ".omega.bins")), range[0], range[1], seed);
  return std::make_unique<ChebCb>(arms, static_cast<int>(c.integer(p + ".omega.terms")), range[0], range[1], seed);
}

}  // namespace

SolverSetup make_solver(const Config& c, const std::string& p, std::function<void(int, double)> monitor,
                        const std::vector<std::string>& contexts) {
  SolverSetup setup;
  const std::string type = c.string(p + ".type");
  const std::string tune = c.string(p + ".omega.tune");
  const std::string o = p + ".omega";
  if (type != "sor" && c.is_set(p + ".ordering"))
    c.fail(p + ".ordering", "applies to solver type sor only (this is " + type + ")");

  if (type == "petsc") {
    if (c.is_set(o))
      c.fail(o, "applies to the SOR family (type sor, ssor_cg, petsc_sor_richardson, petsc_ssor_cg), not petsc; "
                "with petsc, pass PCSOR options in the petsc: section");
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
    setup.solver = std::move(solver);
    return setup;
  }

  if (tune == "none") {
    for (const char* key : {".context", ".state"})
      if (c.is_set(o + key)) c.fail(o + key, "needs a learner: set " + o + ".tune (it is none)");
    setup.solver = make_relaxation_solver(c, p, type, c.real(o + ".value"));
    return setup;
  }

  if (c.is_set(o + ".value"))
    c.fail(o + ".value", "is the fixed omega, but " + o + ".tune (" + tune + ") chooses omega; remove one of them");
  const std::string context = c.string(o + ".context");
  if (context != "none" && std::find(contexts.begin(), contexts.end(), context) == contexts.end())
    c.fail(o + ".context", "context '" + context + "' is not provided by app '" + c.string("app") + "'; it provides: " +
                               (contexts.empty() ? std::string("none (use none)") : "none, " + join(contexts)));
  if (context == "none" && tune != "tsallis_inf")
    c.fail(o + ".tune", "'" + tune + "' learns from a context, but " + o + ".context is none" +
                            (contexts.empty() ? " (app '" + c.string("app") + "' provides none); use tsallis_inf"
                                              : "; set it to one of: " + join(contexts)));
  const double lo = c.real(o + ".arms.min"), hi = c.real(o + ".arms.max");
  const int count = static_cast<int>(c.integer(o + ".arms.count"));
  if (!(lo < hi))
    c.fail(o + ".arms.min", "(" + std::to_string(lo) + ") must be smaller than " + o + ".arms.max (" +
                                std::to_string(hi) + ")");
  ArmGrid arms(lo, hi, count);
  OmegaTunerSettings settings;
  settings.nonconvergence_cost = static_cast<double>(c.integer(p + ".max_iterations"));
  settings.use_context = context != "none";
  auto tuner = std::make_unique<OmegaTuner>(make_relaxation_solver(c, p, type, arms[0]),
                                            make_learner(c, p, tune, arms.size()), std::move(arms), settings);
  setup.tuner = tuner.get();
  setup.context = context == "none" ? "" : context;
  setup.state_file = c.string(o + ".state");
  if (!setup.state_file.empty()) {
    try {
      setup.state_loaded = load_tuner_state(setup.state_file, *tuner, IfMissing::Ignore);
    } catch (const IoError& e) {
      c.fail(o + ".state", std::string(e.what()) + " (the file is left as it is)");
    }
  }
  setup.solver = std::move(tuner);
  return setup;
}

void SolverSetup::set_context(const std::string& name, double value) {
  if (tuner && !context.empty() && name == context) tuner->set_context(value);
}

void SolverSetup::finish(MPI_Comm comm) {
  if (!tuner || state_file.empty()) return;
  io_detail::on_root(comm, [&] { save_tuner_state(state_file, *tuner); });
  state_saved = true;
}

nlohmann::json SolverSetup::tuner_summary() const {
  if (!tuner) return nullptr;
  nlohmann::json omega = nlohmann::json::array(), iterations = nlohmann::json::array(),
                 contexts = nlohmann::json::array(), converged = nlohmann::json::array();
  long long total = 0;
  for (const auto& h : tuner->history()) {
    omega.push_back(h.omega);
    iterations.push_back(h.iterations);
    contexts.push_back(h.context);
    converged.push_back(h.converged);
    total += h.iterations;
  }
  const double solve = tuner->solve_seconds(), learn = tuner->learner_seconds();
  const auto grid = tuner->arms().values();
  return {{"learner", tuner->learner().name()},
          {"solver", tuner->solver().name()},
          {"context", context.empty() ? "none" : context},
          {"grid", std::vector<double>(grid.begin(), grid.end())},
          {"state_file", state_file.string()},
          {"state_loaded", state_loaded},
          {"state_saved", state_saved},
          {"steps_before", tuner->loaded_steps()},
          {"steps", tuner->steps()},
          {"omega", omega},
          {"iterations", iterations},
          {"context_values", contexts},
          {"converged", converged},
          {"total_iterations", total},
          {"solve_seconds", solve},
          {"learner_seconds", learn},
          {"learner_overhead", solve > 0 ? learn / solve : 0.0}};
}

std::string SolverSetup::tuner_line() const {
  if (!tuner) return "";
  std::ostringstream s;
  s.precision(4);
  const auto& h = tuner->history();
  s << tuner->learner().name() << " over " << tuner->arms().size() << " omegas";
  if (h.size() == 1) {
    s << ": chose " << h[0].omega << " (" << h[0].iterations << " iterations)";
  } else if (!h.empty()) {
    double mean = 0.0;
    for (const auto& step : h) mean += step.omega;
    s << ": " << h.size() << " solves, mean omega " << mean / static_cast<double>(h.size());
  }
  s << ", learner step " << tuner->steps();
  if (!state_file.empty())
    s << "; state " << (state_loaded ? "loaded from " : "new, ") << state_file.string() << (state_saved ? ", saved" : "");
  return s.str();
}

void check_converged(const Config& c, const SolveReport& report, const std::string& p) {
  if (report.converged) return;
  if (c.boolean(p + ".allow_nonconvergence")) return;
  throw NumericalError(report.summary() + " (set " + p + ".allow_nonconvergence: true to go on anyway)");
}

}  // namespace fluxion::apps
