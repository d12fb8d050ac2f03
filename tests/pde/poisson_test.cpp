// Poisson verification: observed order of accuracy against manufactured solutions, obstacles,
// singular problems, the same answer on 1 and on N ranks; and bad data (coefficients, incompatible
// Neumann data, NaN in an exact solution), for Poisson and for the heat problem that shares the checks.
#include "fluxion/pde/poisson.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "../support/manufactured.hpp"
#include "fluxion/core/error.hpp"
#include "fluxion/linalg/petsc_solver.hpp"
#include "fluxion/pde/heat.hpp"

namespace fluxion {
namespace {

using testing::Manufactured;

struct Study {
  std::vector<ErrorNorms> errors;
  std::vector<SolveReport> reports;
};

// Solves the manufactured problem on grids of base * 2^r cells per axis (r = 0..refinements-1).
Study convergence(MPI_Comm comm, const Manufactured& m, GridSpec spec, const std::array<bool, 6>& dirichlet,
                  int refinements, std::shared_ptr<SolidMask> (*obstacle)(std::shared_ptr<const Grid>) = nullptr,
                  bool periodic_x = false) {
  Study s;
  const auto base = spec.cells;
  for (int r = 0; r < refinements; ++r) {
    for (int a = 0; a < spec.dim; ++a) spec.cells[a] = base[a] << r;
    spec.periodic[0] = periodic_x;
    auto grid = std::make_shared<const Grid>(comm, spec);
    PoissonSpec p;
    p.k = Expression(m.k);
    p.c = Expression(m.c);
    p.source = Expression(m.source());
    p.boundary = m.boundary(spec.dim, dirichlet);
    if (periodic_x) p.boundary[Face::XLower].type = p.boundary[Face::XUpper].type = BcType::Periodic;
    std::shared_ptr<const SolidMask> solid = obstacle ? obstacle(grid) : nullptr;
    PoissonProblem problem(grid, p, solid);
    PetscSolver solver({.rtol = 1e-11});  // the default: CG + fluxion_mg, so the orders hold with it
    s.reports.push_back(problem.solve(solver));
    EXPECT_TRUE(s.reports.back().converged) << s.reports.back().summary();
    EXPECT_EQ(s.reports.back().solver, "petsc cg+fluxion_mg");
    ::testing::Test::RecordProperty("solve" + std::to_string(r), s.reports.back().summary());
    std::printf("  %s\n", s.reports.back().summary().c_str());
    s.errors.push_back(problem.error(Expression(m.u)));
  }
  return s;
}

void expect_second_order(const Study& s) {
  for (std::size_t r = 1; r < s.errors.size(); ++r) {
    const double order_l2 = std::log2(s.errors[r - 1].l2 / s.errors[r].l2);
    const double order_max = std::log2(s.errors[r - 1].max / s.errors[r].max);
    EXPECT_NEAR(order_l2, 2.0, 0.1) << "L2 order between refinements " << r - 1 << " and " << r
                                    << " (errors " << s.errors[r - 1].l2 << ", " << s.errors[r].l2 << ")";
    EXPECT_NEAR(order_max, 2.0, 0.1) << "max-norm order between refinements " << r - 1 << " and " << r
                                     << " (errors " << s.errors[r - 1].max << ", " << s.errors[r].max << ")";
  }
}

GridSpec box2d() { return {.dim = 2, .cells = {16, 8, 1}, .lower = {0, 0, 0}, .upper = {1, 0.5, 1}}; }
GridSpec box3d() { return {.dim = 3, .cells = {12, 12, 12}, .lower = {0, 0, 0}, .upper = {1, 1, 1}}; }
constexpr std::array<bool, 6> kAllDirichlet = {true, true, true, true, true, true};
constexpr std::array<bool, 6> kAllNeumann = {false, false, false, false, false, false};
constexpr std::array<bool, 6> kMixed = {true, false, false, true, true, false};

TEST(PoissonOrder, Dirichlet2dConstantK) {
  expect_second_order(convergence(PETSC_COMM_WORLD, testing::trig2d(), box2d(), kAllDirichlet, 4));
}
TEST(PoissonOrder, Dirichlet2dVariableK) {
  expect_second_order(
      convergence(PETSC_COMM_WORLD, testing::with_variable_k(testing::trig2d()), box2d(), kAllDirichlet, 4));
}
TEST(PoissonOrder, Mixed2dVariableKWithReaction) {
  auto m = testing::with_variable_k(testing::trig2d());
  m.c = "1+x*x";
  expect_second_order(convergence(PETSC_COMM_WORLD, m, box2d(), kMixed, 4));
}
TEST(PoissonOrder, PureNeumann2dIsSolvedUpToAConstant) {
  const auto s = convergence(PETSC_COMM_WORLD, testing::with_variable_k(testing::trig2d()), box2d(), kAllNeumann, 4);
  expect_second_order(s);
}
TEST(PoissonOrder, PeriodicX2d) {
  Manufactured m;
  m.u = "sin(2*pi*x)*cos(3*y+0.2)";
  m.ux = "2*pi*cos(2*pi*x)*cos(3*y+0.2)";
  m.uy = "-3*sin(2*pi*x)*sin(3*y+0.2)";
  m.lap = "-(4*pi*pi+9)*sin(2*pi*x)*cos(3*y+0.2)";
  expect_second_order(convergence(PETSC_COMM_WORLD, m, box2d(), kMixed, 4, nullptr, true));
}
TEST(PoissonOrderMpi, Dirichlet3dVariableK) {
  expect_second_order(
      convergence(PETSC_COMM_WORLD, testing::with_variable_k(testing::trig3d()), box3d(), kAllDirichlet, 4));
}
TEST(PoissonOrderMpi, Mixed3dConstantK) {
  expect_second_order(convergence(PETSC_COMM_WORLD, testing::trig3d(), box3d(), kMixed, 4));
}
TEST(PoissonOrder, PureNeumann3dVariableK) {
  expect_second_order(
      convergence(PETSC_COMM_WORLD, testing::with_variable_k(testing::trig3d()), box3d(), kAllNeumann, 3));
}

// u = cos(2 pi x) cos(2 pi y) has du/dn = 0 on the faces of the box [0.5, 1] x [0.25, 0.5]...
// which is aligned with cell faces on every grid here, so the obstacle's no-flux condition is exact
// and the scheme must stay second order around it.
std::shared_ptr<SolidMask> corner_box(std::shared_ptr<const Grid> grid) {
  auto mask = std::make_shared<SolidMask>(grid);
  mask->add(BoxShape{{0.5, 0.25, 0.0}, {1.0, 0.5, 0.0}});
  return mask;
}
TEST(PoissonOrderMpi, ObstacleFacesCarryNoFlux) {
  Manufactured m;
  m.u = "cos(2*pi*x)*cos(4*pi*y)";
  m.ux = "-2*pi*sin(2*pi*x)*cos(4*pi*y)";
  m.uy = "-4*pi*cos(2*pi*x)*sin(4*pi*y)";
  m.lap = "-20*pi*pi*cos(2*pi*x)*cos(4*pi*y)";
  const auto s = convergence(PETSC_COMM_WORLD, m, box2d(), kAllDirichlet, 4, corner_box);
  expect_second_order(s);
}

// The parallel solution equals, cell by cell, a serial solve of the same problem on each rank.
TEST(PoissonMpi, SameSolutionOnOneAndManyRanks) {
  const auto m = testing::with_variable_k(testing::trig3d());
  GridSpec spec = box3d();
  spec.cells = {24, 16, 20};
  auto solve_on = [&](MPI_Comm comm) {
    auto grid = std::make_shared<const Grid>(comm, spec);
    PoissonSpec p{Expression(m.k), Expression(m.c), Expression(m.source()), m.boundary(3, kMixed)};
    auto problem = std::make_unique<PoissonProblem>(grid, p);
    PetscSolver solver({.rtol = 1e-12});
    const SolveReport report = problem->solve(solver);
    EXPECT_TRUE(report.converged) << report.summary();
    return problem;
  };
  auto parallel = solve_on(PETSC_COMM_WORLD);
  auto serial = solve_on(PETSC_COMM_SELF);
  FieldReadArray pa(parallel->solution()), sa(serial->solution());
  double max_difference = 0.0;
  for_each_cell(parallel->grid().owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
    max_difference = std::max(max_difference, std::abs(pa(i, j, k) - sa(i, j, k)));
  });
  EXPECT_LT(max_difference, 1e-9 * serial->solution().norm_max());
}

// ---- Bad data: every test below gives the same result on any number of ranks ----

std::shared_ptr<const Grid> unit_square(PetscInt n) {
  return std::make_shared<const Grid>(PETSC_COMM_WORLD, GridSpec{.dim = 2, .cells = {n, n, 1}});
}

/// The NumericalError message of f(), or "" when it throws none.
template <class F>
std::string numerical_error(F&& f) {
  try {
    f();
  } catch (const NumericalError& e) {
    return e.what();
  }
  return "";
}

PoissonSpec dirichlet_spec(const std::string& k, const std::string& c, const std::string& source) {
  return {Expression(k, "cfg.yaml:4: problem.k"), Expression(c, "cfg.yaml:5: problem.c"),
          Expression(source, "cfg.yaml:6: problem.source"), BoundaryConditions::uniform(BcType::Dirichlet)};
}

// k = 0 in one cell (centre (0.53125, 0.03125) of a 16 x 16 grid) used to reach PETSc as "Zero diagonal
// on row ..."; now the key, the value and the point are named, identically on every rank.
TEST(PoissonBadDataMpi, CoefficientsAreCheckedWhereSampled) {
  auto grid = unit_square(16);
  const std::string one_cell = "(x > 0.5 && x < 0.5625 && y < 0.0625)";
  EXPECT_EQ(numerical_error([&] { PoissonProblem(grid, dirichlet_spec(one_cell + " ? 0 : 1", "0", "1")); }),
            "cfg.yaml:4: problem.k: k = 0 at (x, y) = (0.53125, 0.03125); k must be finite and > 0 (expression '" +
                one_cell + " ? 0 : 1')");
  EXPECT_EQ(numerical_error([&] { PoissonProblem(grid, dirichlet_spec("1", one_cell + " ? -2 : 0", "1")); }),
            "cfg.yaml:5: problem.c: c = -2 at (x, y) = (0.53125, 0.03125); c must be finite and >= 0 (expression '" +
                one_cell + " ? -2 : 0')");
  // NaN everywhere: the first cell of rank 0 is (0, 0) on any number of ranks.
  const std::string source = numerical_error([&] { PoissonProblem(grid, dirichlet_spec("1", "0", "sqrt(x - 2)")); });
  EXPECT_EQ(source.rfind("cfg.yaml:6: problem.source: f = NaN at (x, y) = (0.03125, 0.03125); f must be finite", 0),
            0u)
      << source;
  const std::string infinite = numerical_error([&] { PoissonProblem(grid, dirichlet_spec("1 / (x - x)", "0", "1")); });
  EXPECT_NE(infinite.find("problem.k: k = inf at (x, y) = (0.03125, 0.03125)"), std::string::npos) << infinite;
  // Good data: no error.
  EXPECT_EQ(numerical_error([&] { PoissonProblem(grid, dirichlet_spec("1 + x", "y", "sin(x)")); }), "");
}

PoissonSpec neumann_spec(const std::string& source, const std::string& x_upper_flux) {
  PoissonSpec p;
  p.source = Expression(source);
  p.boundary = BoundaryConditions::uniform(BcType::Neumann);
  p.boundary[Face::XUpper].value = Expression(x_upper_flux);
  return p;
}

// Pure Neumann: the solve removes the mean of f + boundary fluxes over the fluid cells. With f = 1
// and no flux that mean is 1 (all of |f|); f = -1 with an outward flux 1 through x = 1 is compatible
// (the flux enters the last column as +1/h = +16: sum -256 + 16 * 16 = 0).
TEST(PoissonBadDataMpi, IncompatibleNeumannDataAreMeasured) {
  auto grid = unit_square(16);
  const Compatibility bad = PoissonProblem(grid, neumann_spec("1", "0")).compatibility();
  EXPECT_TRUE(bad.singular);
  EXPECT_DOUBLE_EQ(bad.mean_removed, 1.0);
  EXPECT_DOUBLE_EQ(bad.relative, 1.0);
  EXPECT_TRUE(bad.significant());

  const Compatibility flux = PoissonProblem(grid, neumann_spec("0", "0.5")).compatibility();
  EXPECT_DOUBLE_EQ(flux.mean_removed, 0.5 * 16 * 16 / 256.0);  // 16 faces of 0.5 / h over 256 cells
  EXPECT_DOUBLE_EQ(flux.relative, 1.0);

  const Compatibility good = PoissonProblem(grid, neumann_spec("-1", "1")).compatibility();
  EXPECT_NEAR(good.mean_removed, 0.0, 1e-13);
  EXPECT_FALSE(good.significant());
  // The midpoint sum of cos(pi x) over the cell centres is zero to round-off.
  EXPECT_FALSE(PoissonProblem(grid, neumann_spec("cos(pi*x)", "0")).compatibility().significant());
  // Not singular with a Dirichlet face: nothing is removed.
  EXPECT_FALSE(PoissonProblem(grid, dirichlet_spec("1", "0", "1")).compatibility().singular);
}

// An exact solution with NaNs (sqrt of a negative) used to give a max that skipped them.
TEST(PoissonBadDataMpi, ErrorNormsWithNanAreNan) {
  auto grid = unit_square(16);
  PoissonProblem problem(grid, dirichlet_spec("1", "0", "1"));
  const ErrorNorms half = problem.error(Expression("sqrt(x - 0.5)"));  // NaN for x < 0.5 only
  EXPECT_TRUE(std::isnan(half.l2));
  EXPECT_TRUE(std::isnan(half.max));
  const ErrorNorms finite = problem.error(Expression("x"));  // u = 0 before the solve: |e| = x
  EXPECT_DOUBLE_EQ(finite.max, 1.0 - 1.0 / 32);
}

TEST(HeatBadDataMpi, CoefficientsAreCheckedWhereSampled) {
  auto grid = unit_square(16);
  auto spec = [](const std::string& k, const std::string& initial, const std::string& source) {
    HeatSpec h;
    h.k = Expression(k, "heat.yaml:4: problem.k");
    h.initial = Expression(initial, "heat.yaml:5: problem.initial");
    h.source = Expression(source, "heat.yaml:6: problem.source");
    h.boundary = BoundaryConditions::uniform(BcType::Dirichlet);
    h.dt = 0.25;
    return h;
  };
  const std::string one_cell = "(x > 0.5 && x < 0.5625 && y < 0.0625)";
  // k = 0 is allowed in heat (no diffusion there); k < 0 is not.
  EXPECT_EQ(numerical_error([&] { HeatProblem(grid, spec(one_cell + " ? 0 : 1", "0", "0")); }), "");
  EXPECT_EQ(numerical_error([&] { HeatProblem(grid, spec(one_cell + " ? -1 : 1", "0", "0")); }),
            "heat.yaml:4: problem.k: k = -1 at (x, y) = (0.53125, 0.03125); k must be finite and >= 0 (expression '" +
                one_cell + " ? -1 : 1')");
  EXPECT_NE(numerical_error([&] { HeatProblem(grid, spec("1", "log(x - 0.5)", "0")); })
                .find("heat.yaml:5: problem.initial: u0 = NaN at (x, y) = (0.03125, 0.03125)"),
            std::string::npos);
  // The source turns NaN after t = 0.3: the step to t = 0.5 names it and the time, and leaves u(0.25).
  HeatProblem problem(grid, spec("1", "0", "t < 0.3 ? 1 : sqrt(x - 2)"));
  PetscSolver solver({.rtol = 1e-10});
  ASSERT_TRUE(problem.step(solver).solve.converged);
  const std::string late = numerical_error([&] { (void)problem.step(solver); });
  EXPECT_NE(late.find("heat.yaml:6: problem.source: f = NaN at (x, y) = (0.03125, 0.03125) at t = 0.5"),
            std::string::npos)
      << late;
  EXPECT_DOUBLE_EQ(problem.time(), 0.25);
  EXPECT_EQ(problem.steps_taken(), 1);
}

}  // namespace
}  // namespace fluxion
