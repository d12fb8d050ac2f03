// Heat-equation verification: temporal order of backward Euler and Crank-Nicolson, spatial
// order, conservation under no-flux boundaries, and the context each solve receives.
#include "fluxion/pde/heat.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>
#include <vector>

#include "../support/manufactured.hpp"
#include "fluxion/core/error.hpp"
#include "fluxion/linalg/petsc_solver.hpp"

namespace fluxion {
namespace {

using testing::Manufactured;

// u(x, t) = exp(-t) m.u(x) solves du/dt = div(kappa(t) k grad u) + f with
// f = exp(-t) (-m.u + kappa(t) (-div(k grad m.u))); the boundary data carry the same factor.
struct TimeDependent {
  Manufactured m;
  std::string kappa = "1+0.5*sin(t)";
  std::string g = "exp(-t)", dg = "-exp(-t)";  // the time factor and its derivative

  std::string u() const { return "(" + g + ")*(" + m.u + ")"; }
  std::string source() const {
    return "(" + dg + ")*(" + m.u + ")+(" + g + ")*(" + kappa + ")*(" + m.source() + ")";
  }
  BoundaryConditions boundary(int dim, const std::array<bool, 6>& dirichlet) const {
    BoundaryConditions bc;
    for (int f = 0; f < 2 * dim; ++f) {
      const Face face = static_cast<Face>(f);
      bc[face] = dirichlet[f] ? FaceBc{BcType::Dirichlet, Expression(u())}
                              : FaceBc{BcType::Neumann, Expression("(" + g + ")*(" + m.outward_flux(face) + ")")};
    }
    return bc;
  }
};

constexpr std::array<bool, 6> kAllDirichlet = {true, true, true, true, true, true};
constexpr std::array<bool, 6> kMixed = {true, false, false, true, true, false};

struct HeatRun {
  ErrorNorms error;
  std::unique_ptr<HeatProblem> problem;
  long iterations = 0;
};

HeatRun run(const TimeDependent& td, const std::array<bool, 6>& dirichlet, TimeScheme scheme, PetscInt nx, double dt,
        double t_end, int dim = 2) {
  GridSpec spec{.dim = dim, .cells = {nx, nx / 2, dim == 3 ? nx / 2 : 1}, .lower = {0, 0, 0}, .upper = {1, 0.5, 0.5}};
  auto grid = std::make_shared<const Grid>(PETSC_COMM_WORLD, spec);
  HeatSpec h;
  h.k = Expression(td.m.k);
  h.kappa = Expression(td.kappa);
  h.source = Expression(td.source());
  h.initial = Expression(td.u());
  h.boundary = td.boundary(dim, dirichlet);
  h.scheme = scheme;
  h.dt = dt;
  HeatRun r;
  r.problem = std::make_unique<HeatProblem>(grid, h);
  PetscSolver solver({.rtol = 1e-12});
  const long steps = std::lround(t_end / dt);
  for (long n = 0; n < steps; ++n) {
    const HeatStepReport s = r.problem->step(solver);
    EXPECT_TRUE(s.solve.converged) << s.solve.summary();
    r.iterations += s.solve.iterations;
  }
  EXPECT_NEAR(r.problem->time(), t_end, 1e-12);
  r.error = r.problem->error(Expression(td.u()));
  return r;
}

// A discrete eigenmode: phi = sin(pi x) sin(2 pi y) on [0,1] x [0,0.5] with homogeneous Dirichlet
// faces is an exact eigenvector of the cell-centred L, with eigenvalue lambda_h. With the source
// built from lambda_h, u = g(t) phi is the exact solution of the space-discrete system, so the error
// against it is the time discretisation's alone.
TimeDependent discrete_mode(PetscInt nx) {
  const double hx = 1.0 / nx, hy = 0.5 / (nx / 2);
  const double pi = std::acos(-1.0);
  const double lambda = 4 / (hx * hx) * std::pow(std::sin(pi * hx / 2), 2) + 4 / (hy * hy) * std::pow(std::sin(pi * hy), 2);
  char l[64];
  std::snprintf(l, sizeof l, "%.17g", lambda);
  TimeDependent td;
  td.m.u = "sin(pi*x)*sin(2*pi*y)";
  td.m.ux = "0"; td.m.uy = "0";  // only Dirichlet faces: the derivatives are not used
  td.m.lap = std::string("-") + l + "*sin(pi*x)*sin(2*pi*y)";
  return td;
}

std::vector<double> orders(const std::vector<HeatRun>& runs, bool max_norm = false) {
  std::vector<double> o;
  for (std::size_t r = 1; r < runs.size(); ++r) {
    const ErrorNorms &a = runs[r - 1].error, &b = runs[r].error;
    o.push_back(std::log2(max_norm ? a.max / b.max : a.l2 / b.l2));
  }
  return o;
}

void expect_order(const std::vector<HeatRun>& runs, double expected, const std::string& what) {
  for (bool max_norm : {false, true}) {
    const auto o = orders(runs, max_norm);
    for (std::size_t r = 0; r < o.size(); ++r)
      EXPECT_NEAR(o[r], expected, 0.15) << what << (max_norm ? ", max norm" : ", L2") << ", refinement " << r
                                        << " -> " << r + 1 << " (errors " << runs[r].error.l2 << ", "
                                        << runs[r + 1].error.l2 << ")";
  }
  std::printf("  %s: observed orders", what.c_str());
  for (double x : orders(runs)) std::printf(" %.3f", x);
  std::printf("\n");
}

// Temporal order at a fixed grid: dt halved three times, kappa(t) = 1 + 0.5 sin(t).
std::vector<HeatRun> dt_study(TimeScheme scheme, double dt0, PetscInt nx = 16) {
  const TimeDependent td = discrete_mode(nx);
  std::vector<HeatRun> runs;
  for (int r = 0; r < 4; ++r) runs.push_back(run(td, kAllDirichlet, scheme, nx, dt0 / (1 << r), 0.8));
  return runs;
}

TEST(HeatOrder, BackwardEulerIsFirstOrderInTime) { expect_order(dt_study(TimeScheme::BackwardEuler, 0.02), 1.0, "BE, dt/2"); }
TEST(HeatOrder, CrankNicolsonIsSecondOrderInTime) { expect_order(dt_study(TimeScheme::CrankNicolson, 0.1), 2.0, "CN, dt/2"); }

// Spatial order: h halved at a dt small enough (Crank-Nicolson) that the time error is negligible.
// Time-dependent Dirichlet data; the mixed case has Neumann faces (time-dependent flux) and variable k.
TEST(HeatOrder, SecondOrderInSpace) {
  const TimeDependent constant_k{testing::trig2d()}, variable_k{testing::with_variable_k(testing::trig2d())};
  for (const auto& [td, faces, what] : {std::tuple{constant_k, kAllDirichlet, "k = 1, Dirichlet"},
                                        std::tuple{variable_k, kMixed, "variable k, mixed faces"}}) {
    std::vector<HeatRun> runs;
    for (int r = 0; r < 3; ++r) runs.push_back(run(td, faces, TimeScheme::CrankNicolson, 16 << r, 0.005, 0.1));
    expect_order(runs, 2.0, std::string("h/2, ") + what);
  }
}

// h and dt refined together: dt ~ h^2 for backward Euler, dt ~ h for Crank-Nicolson. A scheme
// that mishandled the timing of boundary data or kappa would drop to first order in dt here.
TEST(HeatOrder, BackwardEulerWithDtLikeHSquared) {
  const TimeDependent td{testing::with_variable_k(testing::trig2d())};
  std::vector<HeatRun> runs;
  for (int r = 0; r < 3; ++r) {
    const PetscInt nx = 16 << r;
    runs.push_back(run(td, kMixed, TimeScheme::BackwardEuler, nx, 4.0 / double(nx * nx), 0.25));
  }
  expect_order(runs, 2.0, "BE, h/2 and dt/4");
}
TEST(HeatOrder, CrankNicolsonWithDtLikeH) {
  const TimeDependent td{testing::with_variable_k(testing::trig2d())};
  std::vector<HeatRun> runs;
  for (int r = 0; r < 3; ++r) {
    const PetscInt nx = 32 << r;
    runs.push_back(run(td, kMixed, TimeScheme::CrankNicolson, nx, 1.0 / double(nx), 0.25));
  }
  expect_order(runs, 2.0, "CN, h/2 and dt/2");
}

// 3D, and the same on any rank count (this test also runs under mpirun on 2, 3 and 4 ranks).
// Three grids, so that each of the two successive ratios is checked.
TEST(HeatOrderMpi, CrankNicolson3dWithDtLikeH) {
  const TimeDependent td{testing::with_variable_k(testing::trig3d())};
  std::vector<HeatRun> runs;
  for (int r = 0; r < 3; ++r) {
    const PetscInt nx = 12 << r;
    runs.push_back(run(td, kMixed, TimeScheme::CrankNicolson, nx, 0.5 / double(nx), 0.25, 3));
  }
  expect_order(runs, 2.0, "CN 3D, h/2 and dt/2");
}

// With no-flux faces everywhere (and an obstacle) and no source, the fluid mean of u cannot change:
// the step operator's columns sum to 1/dt. It holds to the solver's tolerance, here near round-off.
TEST(HeatConservationMpi, NoFluxBoundariesConserveTheMean) {
  for (TimeScheme scheme : {TimeScheme::BackwardEuler, TimeScheme::CrankNicolson}) {
    GridSpec spec{.dim = 2, .cells = {32, 32, 1}, .lower = {0, 0, 0}, .upper = {1, 1, 1}};
    auto grid = std::make_shared<const Grid>(PETSC_COMM_WORLD, spec);
    auto solid = std::make_shared<SolidMask>(grid);
    solid->add(SphereShape{{0.6, 0.4, 0.0}, 0.15});
    HeatSpec h;
    h.k = Expression("1+0.5*sin(3*x+y)");
    h.kappa = Expression("1+0.5*sin(20*t)");
    h.initial = Expression("exp(-40*((x-0.3)^2+(y-0.7)^2)) + x");
    for (int f = 0; f < 4; ++f) h.boundary[static_cast<Face>(f)] = {BcType::Neumann, Expression("0")};
    h.scheme = scheme;
    h.dt = 0.002;
    HeatProblem problem(grid, h, solid);
    const double mass0 = problem.solution().sum();
    PetscSolver solver({.rtol = 1e-13});
    double max_change = 0.0;
    for (int n = 0; n < 50; ++n) {
      const HeatStepReport r = problem.step(solver);
      ASSERT_TRUE(r.solve.converged) << r.solve.summary();
      max_change = std::max(max_change, std::abs(problem.solution().sum() - mass0));
    }
    EXPECT_LT(max_change, 1e-12 * std::abs(mass0)) << to_string(scheme) << ": sum of u " << mass0;
    // Not trivially conserved: the field did diffuse.
    EXPECT_LT(problem.solution().norm_max(), 0.9 * Field(sample(grid, "u0", h.initial)).norm_max());
    std::printf("  %s: |sum u - sum u0| <= %.2e (sum u0 = %.6f)\n", to_string(scheme).c_str(), max_change, mass0);
  }
}

// Forwards to a PetscSolver and records what the problem hands it, in order.
class RecordingSolver final : public LinearSolver {
 public:
  std::string name() const override { return "recording " + inner_.name(); }
  void set_operator(const StencilOperator& op) override {
    events.push_back("operator");
    inner_.set_operator(op);
  }
  void set_context(double context) override {
    events.push_back("context");
    contexts.push_back(context);
  }
  SolveReport solve(const Field& b, Field& x) override {
    events.push_back("solve");
    guesses.push_back(x);
    return inner_.solve(b, x);
  }
  std::vector<std::string> events;
  std::vector<double> contexts;
  std::vector<Field> guesses;  // x on entry to each solve

 private:
  PetscSolver inner_{PetscSolverSettings{.rtol = 1e-10}};
};

HeatSpec small_spec(const std::string& kappa) {
  HeatSpec h;
  h.kappa = Expression(kappa);
  h.source = Expression("exp(-50*((x-0.5-0.2*t)^2+(y-0.5)^2))");
  for (int f = 0; f < 4; ++f) h.boundary[static_cast<Face>(f)] = {BcType::Dirichlet, Expression("0.1*t")};
  h.dt = 0.01;
  return h;
}

std::shared_ptr<const Grid> small_grid() {
  GridSpec spec{.dim = 2, .cells = {16, 16, 1}, .lower = {0, 0, 0}, .upper = {1, 1, 1}};
  return std::make_shared<const Grid>(PETSC_COMM_WORLD, spec);
}

TEST(HeatSolver, ReceivesKappaDtBeforeEachSolve) {
  const HeatSpec h = small_spec("1+0.5*sin(10*t)");
  HeatProblem problem(small_grid(), h);
  RecordingSolver solver;
  std::vector<double> expected;
  for (int n = 1; n <= 5; ++n) {
    const HeatStepReport r = problem.step(solver);
    ASSERT_TRUE(r.solve.converged);
    const double t = n * h.dt;
    expected.push_back((1 + 0.5 * std::sin(10 * t)) * h.dt);
    EXPECT_DOUBLE_EQ(r.time, t);
    EXPECT_DOUBLE_EQ(r.kappa_dt, expected.back());
    EXPECT_TRUE(r.rebuilt);  // kappa changed
  }
  ASSERT_EQ(solver.contexts.size(), expected.size());
  for (std::size_t n = 0; n < expected.size(); ++n) EXPECT_DOUBLE_EQ(solver.contexts[n], expected[n]) << "step " << n + 1;
  // Each step: the new operator, then the context, then the solve.
  const std::vector<std::string> step = {"operator", "context", "solve"};
  for (std::size_t n = 0; n < 5; ++n)
    EXPECT_EQ(std::vector<std::string>(solver.events.begin() + 3 * n, solver.events.begin() + 3 * n + 3), step);
}

TEST(HeatSolver, ConstantKappaBuildsTheStepOperatorOnce) {
  HeatProblem problem(small_grid(), small_spec("2"));
  RecordingSolver solver;
  for (int n = 0; n < 4; ++n) {
    const HeatStepReport r = problem.step(solver);
    EXPECT_EQ(r.rebuilt, n == 0);
    EXPECT_DOUBLE_EQ(r.kappa_dt, 0.02);
  }
  EXPECT_EQ(std::count(solver.events.begin(), solver.events.end(), "operator"), 1);
  EXPECT_EQ(std::count(solver.events.begin(), solver.events.end(), "context"), 4);
  // A different solver gets the operator too.
  RecordingSolver other;
  const HeatStepReport r = problem.step(other);
  EXPECT_FALSE(r.rebuilt);
  EXPECT_EQ(other.events, (std::vector<std::string>{"operator", "context", "solve"}));
}

TEST(HeatSolver, WarmStartsFromThePreviousStep) {
  HeatProblem problem(small_grid(), small_spec("1+t"));
  RecordingSolver solver;
  std::vector<Field> solutions = {problem.solution()};
  for (int n = 0; n < 3; ++n) {
    (void)problem.step(solver);
    solutions.push_back(problem.solution());
  }
  ASSERT_EQ(solver.guesses.size(), 3u);
  for (std::size_t n = 0; n < 3; ++n) {
    Field d(solver.guesses[n]);
    d.axpy(-1.0, solutions[n]);
    EXPECT_EQ(d.norm_max(), 0.0) << "step " << n + 1;
  }
  EXPECT_GT(solutions[3].norm_max(), 0.0);
}

TEST(HeatErrors, NonFiniteSolutionStopsAndKeepsTheLastStep) {
  HeatSpec h = small_spec("1");
  h.source = Expression("sqrt(0.015-t)");  // NaN from t = 0.02 on (step 2)
  HeatProblem problem(small_grid(), h);
  PetscSolver solver;
  (void)problem.step(solver);
  const Field after_one(problem.solution());
  EXPECT_THROW((void)problem.step(solver), NumericalError);
  EXPECT_EQ(problem.steps_taken(), 1);
  EXPECT_DOUBLE_EQ(problem.time(), 0.01);
  EXPECT_TRUE(problem.solution().all_finite());
  Field d(problem.solution());
  d.axpy(-1.0, after_one);
  EXPECT_EQ(d.norm_max(), 0.0);
}

TEST(HeatErrors, BadKappaOrDt) {
  HeatSpec h = small_spec("max(0, 1-10*t) - (t > 0.095)*1e-3");  // kappa(0.1) < 0; kappa = 0 is allowed
  HeatProblem problem(small_grid(), h);
  PetscSolver solver;
  for (int n = 0; n < 9; ++n) (void)problem.step(solver);
  EXPECT_THROW((void)problem.step(solver), NumericalError);
  h.dt = 0.0;
  EXPECT_THROW(HeatProblem(small_grid(), h), Error);
  h.dt = -1.0;
  EXPECT_THROW(HeatProblem(small_grid(), h), Error);
}

TEST(HeatScheme, Names) {
  EXPECT_EQ(parse_time_scheme("backward_euler"), TimeScheme::BackwardEuler);
  EXPECT_EQ(parse_time_scheme("crank_nicolson"), TimeScheme::CrankNicolson);
  EXPECT_EQ(to_string(TimeScheme::CrankNicolson), "crank_nicolson");
  EXPECT_DOUBLE_EQ(theta_of(TimeScheme::CrankNicolson), 0.5);
  EXPECT_THROW(parse_time_scheme("euler"), Error);
}

}  // namespace
}  // namespace fluxion
