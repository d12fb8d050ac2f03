// Poisson verification: observed order of accuracy against manufactured solutions, obstacles,
// singular problems, and the same answer on 1 and on N ranks.
#include "fluxion/pde/poisson.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "../support/manufactured.hpp"
#include "fluxion/linalg/petsc_solver.hpp"

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
    PetscSolver solver({.rtol = 1e-11});
    s.reports.push_back(problem.solve(solver));
    EXPECT_TRUE(s.reports.back().converged) << s.reports.back().summary();
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

}  // namespace
}  // namespace fluxion
