// MAC projection solver verification: exact Navier-Stokes solutions (Taylor-Green in 2D, ABC flow
// in 3D) with their observed order, Poiseuille flow between walls with inflow and outflow,
// divergence after projection at solver tolerance, obstacles, and the same flow on any rank count.
#include "fluxion/pde/navier_stokes.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <numbers>
#include <vector>

#include "fluxion/core/error.hpp"
#include "fluxion/linalg/petsc_solver.hpp"

namespace fluxion {
namespace {

constexpr double kPi = std::numbers::pi;

std::shared_ptr<const Grid> make_grid(MPI_Comm comm, std::vector<PetscInt> cells, std::vector<double> upper,
                                      std::array<bool, 3> periodic) {
  GridSpec spec;
  spec.dim = static_cast<int>(cells.size());
  for (int a = 0; a < spec.dim; ++a) {
    spec.cells[a] = cells[a];
    spec.upper[a] = upper[a];
    spec.periodic[a] = periodic[a];
  }
  return std::make_shared<const Grid>(comm, spec);
}

NavierStokesSpec periodic_spec(int dim) {
  NavierStokesSpec s;
  for (int f = 0; f < 2 * dim; ++f) s.boundary[f].type = FlowBcType::Periodic;
  return s;
}

// Max |u_a - exact_a| over the faces a rank owns, over all ranks and components.
double max_error(const NavierStokes& ns, const std::array<Expression, 3>& exact, double t) {
  const MacGrid& mac = ns.mac();
  double m = 0.0;
  for (int a = 0; a < ns.grid().dim(); ++a) {
    const MacField& u = ns.velocity(a);
    const MacLocation loc = face_location(a);
    for_each_cell(u.owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
      const double z = ns.grid().dim() == 3 ? mac.coordinate(loc, 2, k) : 0.0;
      m = std::max(m, std::abs(u(i, j, k) - exact[a](mac.coordinate(loc, 0, i), mac.coordinate(loc, 1, j), z, t)));
    });
  }
  double g = 0.0;
  MPI_Allreduce(&m, &g, 1, MPI_DOUBLE, MPI_MAX, ns.grid().comm());
  return g;
}

struct RunResult {
  double error = 0.0;
  double divergence = 0.0;
  int steps = 0;
};

// Runs to t_end with steps that end exactly there.
RunResult run_to(NavierStokes& ns, LinearSolver& solver, double t_end, const std::array<Expression, 3>& exact) {
  RunResult r;
  while (ns.time() < t_end - 1e-12) {
    const FlowStepReport s = ns.step(solver, t_end - ns.time());
    EXPECT_TRUE(s.pressure.converged) << s.pressure.summary();
    r.divergence = std::max(r.divergence, s.divergence);
    ++r.steps;
  }
  r.error = max_error(ns, exact, ns.time());
  return r;
}

// Taylor-Green vortex on [0, 2pi]^2: u = sin x cos y e^{-2 nu t}, v = -cos x sin y e^{-2 nu t}
// solves the Navier-Stokes equations exactly (the advection is balanced by the pressure).
std::array<Expression, 3> taylor_green(double nu) {
  const std::string decay = "exp(-2*" + std::to_string(nu) + "*t)";
  return {Expression("sin(x)*cos(y)*" + decay), Expression("-cos(x)*sin(y)*" + decay), Expression::constant(0)};
}

RunResult taylor_green_run(PetscInt n, AdvectionScheme scheme, double cfl, MPI_Comm comm = PETSC_COMM_WORLD) {
  const double nu = 0.05;
  auto grid = make_grid(comm, {n, n}, {2 * kPi, 2 * kPi}, {true, true, false});
  NavierStokesSpec spec = periodic_spec(2);
  spec.nu = nu;
  spec.advection = scheme;
  spec.cfl = cfl;
  spec.initial = taylor_green(nu);
  PetscSolver solver({.rtol = 1e-12});
  NavierStokes ns(grid, spec, nullptr, solver);
  return run_to(ns, solver, 1.0, taylor_green(nu));
}

// Errors at t = 1 on 16^2, 32^2 and 64^2 at a fixed CFL number, each run divergence-free.
std::vector<double> taylor_green_errors(AdvectionScheme scheme, double cfl) {
  std::vector<double> errors;
  for (PetscInt n : {16, 32, 64}) {
    const RunResult r = taylor_green_run(n, scheme, cfl);
    EXPECT_LT(r.divergence, 1e-9) << n;
    errors.push_back(r.error);
  }
  return errors;
}

// Fixed CFL: dt shrinks with h, so the observed order is that of space and time together, and
// time limits it: advecting along frozen characteristics and projecting afterwards is a first-order
// splitting (the same order with nu = 0). The spatial order shows in the steady Poiseuille test.
TEST(NavierStokes, TaylorGreenConvergesAtFirstOrderInTimeWithMacCormack) {
  const std::vector<double> errors = taylor_green_errors(AdvectionScheme::MacCormack, 0.5);
  const double order_coarse = std::log2(errors[0] / errors[1]), order_fine = std::log2(errors[1] / errors[2]);
  EXPECT_GT(order_fine, 0.85) << errors[0] << " " << errors[1] << " " << errors[2];
  EXPECT_GT(order_coarse, 0.75);
  EXPECT_LT(errors[2], 7e-3);
}

// Backward Euler viscosity through the LinearSolver interface: fixed steps dt = 0.2 h, 2, 4 and 8
// times the explicit limit h^2 / (4 nu) at 16, 32 and 64 cells (nu = 1).
TEST(NavierStokes, TaylorGreenWithImplicitViscosityTakesStepsAboveTheExplicitLimit) {
  const double nu = 1.0;
  std::vector<double> errors;
  for (PetscInt n : {16, 32, 64}) {
    auto grid = make_grid(PETSC_COMM_WORLD, {n, n}, {2 * kPi, 2 * kPi}, {true, true, false});
    const double h = 2 * kPi / static_cast<double>(n);
    NavierStokesSpec spec = periodic_spec(2);
    spec.nu = nu;
    spec.implicit_viscosity = true;
    spec.dt = 0.2 * h;
    spec.initial = taylor_green(nu);
    PetscSolver solver({.rtol = 1e-12}), vx({.rtol = 1e-12}), vy({.rtol = 1e-12});
    NavierStokes ns(grid, spec, nullptr, solver);
    ns.set_viscosity_solvers({&vx, &vy});
    EXPECT_TRUE(std::isinf(ns.diffusion_limit_dt()));
    EXPECT_GT(spec.dt, 1.9 * h * h / (4 * nu));
    RunResult r;
    while (ns.time() < 0.5 - 1e-12) {
      const FlowStepReport s = ns.step(solver, 0.5 - ns.time());
      EXPECT_TRUE(s.viscosity[0].converged && s.viscosity[1].converged);
      r.divergence = std::max(r.divergence, s.divergence);
    }
    EXPECT_LT(r.divergence, 1e-9);
    errors.push_back(max_error(ns, taylor_green(nu), ns.time()));
  }
  // Backward Euler: first order in dt, here proportional to h.
  EXPECT_GT(std::log2(errors[0] / errors[1]), 0.8) << errors[0] << " " << errors[1] << " " << errors[2];
  EXPECT_GT(std::log2(errors[1] / errors[2]), 0.8);
}

// With a fixed dt the pressure increments of a decaying vortex become tiny; the last increment as
// initial guess then left ||b - A x0|| far above ||b||, which PETSc called divergence (found by
// bench/ns_validation.sh). Every solve must converge.
TEST(NavierStokes, PressureIncrementsConvergeWithAFixedStep) {
  auto grid = make_grid(PETSC_COMM_WORLD, {32, 32}, {2 * kPi, 2 * kPi}, {true, true, false});
  NavierStokesSpec spec = periodic_spec(2);
  spec.nu = 0.05;
  spec.dt = 0.01;
  spec.implicit_viscosity = true;
  spec.initial = taylor_green(spec.nu);
  PetscSolver solver, vx, vy;
  NavierStokes ns(grid, spec, nullptr, solver);
  ns.set_viscosity_solvers({&vx, &vy});
  for (int n = 0; n < 30; ++n) {
    const FlowStepReport r = ns.step(solver, 1.0);
    ASSERT_TRUE(r.pressure.converged) << n << ": " << r.pressure.summary();
  }
  EXPECT_LT(max_error(ns, taylor_green(spec.nu), ns.time()), 0.01);
}

TEST(NavierStokes, TaylorGreenWithSecondOrderUpwindFiniteVolumes) {
  const std::vector<double> errors = taylor_green_errors(AdvectionScheme::Upwind2, 0.4);
  // The same first-order splitting in time as MacCormack (advect, then project).
  EXPECT_GT(std::log2(errors[1] / errors[2]), 0.85) << errors[0] << " " << errors[1] << " " << errors[2];
  EXPECT_LT(errors[2], 7e-3);
}

TEST(NavierStokes, TaylorGreenFirstOrderSemiLagrangianIsWorse) {
  const RunResult first = taylor_green_run(32, AdvectionScheme::SemiLagrangian, 0.5);
  const RunResult second = taylor_green_run(32, AdvectionScheme::MacCormack, 0.5);
  EXPECT_GT(first.error, 3.0 * second.error);
}

// ABC (Arnold-Beltrami-Childress) flow: a Beltrami field, curl u = u, so (u . grad) u = grad |u|^2/2
// and u e^{-nu t} solves the Navier-Stokes equations on the 2 pi-periodic cube.
TEST(NavierStokes, AbcFlowIn3DConverges) {
  const double nu = 0.05;
  const std::string d = "exp(-" + std::to_string(nu) + "*t)";
  const std::array<Expression, 3> exact{Expression("(sin(z)+0.5*cos(y))*" + d),
                                        Expression("(0.8*sin(x)+cos(z))*" + d),
                                        Expression("(0.5*sin(y)+0.8*cos(x))*" + d)};
  std::vector<double> errors;
  for (PetscInt n : {8, 16}) {
    auto grid = make_grid(PETSC_COMM_WORLD, {n, n, n}, {2 * kPi, 2 * kPi, 2 * kPi}, {true, true, true});
    NavierStokesSpec spec = periodic_spec(3);
    spec.nu = nu;
    spec.initial = exact;
    PetscSolver solver({.rtol = 1e-12});
    NavierStokes ns(grid, spec, nullptr, solver);
    const RunResult r = run_to(ns, solver, 0.5, exact);
    EXPECT_LT(r.divergence, 1e-9);
    errors.push_back(r.error);
  }
  EXPECT_GT(std::log2(errors[0] / errors[1]), 1.3) << errors[0] << " " << errors[1];
}

// Plane Poiseuille flow in a channel [0, 2] x [0, 1]: a parabolic inflow, walls, an outflow at
// pressure 0. The profile is steady, with dp/dx = -8 rho nu U / H^2: no time error, so the
// error shows the spatial order.
class Poiseuille : public testing::TestWithParam<bool> {};

TEST_P(Poiseuille, ChannelKeepsItsProfileAndPressureGradientAtSecondOrder) {
  const double nu = 0.1, U = 1.0;
  const std::string profile = "4*y*(1-y)";
  const bool implicit = GetParam();
  std::vector<double> errors;
  for (PetscInt n : {16, 32}) {
    auto grid = make_grid(PETSC_COMM_WORLD, {2 * n, n}, {2.0, 1.0}, {false, false, false});
    NavierStokesSpec spec;
    spec.nu = nu;
    spec.boundary[0] = {FlowBcType::Inflow, {Expression(profile), Expression::constant(0), Expression::constant(0)}};
    spec.boundary[1] = {FlowBcType::Outflow, {}};
    spec.boundary[2] = {FlowBcType::Wall, {}};
    spec.boundary[3] = {FlowBcType::Wall, {}};
    spec.initial = {Expression(profile), Expression::constant(0), Expression::constant(0)};
    spec.implicit_viscosity = implicit;
    PetscSolver solver({.rtol = 1e-12}), vx({.rtol = 1e-12}), vy({.rtol = 1e-12});
    NavierStokes ns(grid, spec, nullptr, solver);
    if (implicit) ns.set_viscosity_solvers({&vx, &vy});
    const std::array<Expression, 3> exact{Expression(profile), Expression::constant(0), Expression::constant(0)};
    const RunResult r = run_to(ns, solver, 0.5, exact);
    EXPECT_LT(r.divergence, 1e-9);
    const double h = 1.0 / static_cast<double>(n);
    EXPECT_LT(r.error, 1.2 * h * h * U) << n;
    errors.push_back(r.error);
    // Pressure gradient along the channel's middle, away from inflow and outflow.
    GhostedFieldArray p(ns.pressure());
    const IndexBox& o = ns.grid().owned();
    double worst = 0.0;
    const double expected = -8.0 * nu * U;
    for_each_cell(o, [&](PetscInt i, PetscInt j, PetscInt k) {
      if (i < n / 2 || i >= 3 * n / 2 || i + 1 >= o.end[0]) return;
      const double dpdx = (p(i + 1, j, k) - p(i, j, k)) / grid->spacing(0);
      worst = std::max(worst, std::abs(dpdx - expected));
    });
    double g = 0.0;
    MPI_Allreduce(&worst, &g, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD);
    EXPECT_LT(g, 0.05 * std::abs(expected)) << n;
  }
  EXPECT_GT(std::log2(errors[0] / errors[1]), 1.7) << errors[0] << " " << errors[1];
}

INSTANTIATE_TEST_SUITE_P(NavierStokes, Poiseuille, testing::Values(false, true),
                         [](const auto& info) { return info.param ? "ImplicitViscosity" : "ExplicitViscosity"; });

// A rough initial field around an obstacle: after one projection it is divergence-free to the
// solver's tolerance, and no velocity crosses an obstacle face.
TEST(NavierStokes, ProjectionRemovesDivergenceAroundAnObstacle) {
  auto grid = make_grid(PETSC_COMM_WORLD, {48, 32}, {1.5, 1.0}, {false, false, false});
  auto solid = std::make_shared<SolidMask>(grid);
  solid->add(SphereShape{{0.5, 0.5, 0.0}, 0.2});
  NavierStokesSpec spec;
  spec.boundary[0] = {FlowBcType::Inflow, {Expression("1"), Expression::constant(0), Expression::constant(0)}};
  spec.boundary[1] = {FlowBcType::Outflow, {}};
  spec.boundary[2] = {FlowBcType::Slip, {}};
  spec.boundary[3] = {FlowBcType::Slip, {}};
  spec.initial = {Expression("1+0.3*sin(17*x)*cos(5*y)"), Expression("0.4*cos(11*x*y)"), Expression::constant(0)};
  PetscSolver solver({.rtol = 1e-12});
  NavierStokes ns(grid, spec, solid, solver);
  EXPECT_TRUE(ns.initial_projection().converged);
  EXPECT_LT(ns.max_divergence(), 1e-8);
  // Every face touching the sphere carries nothing.
  double leak = 0.0;
  FieldReadArray s(solid->field());
  for (int a = 0; a < 2; ++a) {
    const MacField& u = ns.velocity(a);
    for_each_cell(ns.grid().owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
      if (s(i, j, k) < 0.5) return;
      leak = std::max(leak, std::abs(u(i, j, k)));
      std::array<PetscInt, 3> q{i, j, k};
      q[a] += 1;
      leak = std::max(leak, std::abs(u(q[0], q[1], q[2])));
    });
  }
  EXPECT_EQ(leak, 0.0);
  // A few steps keep it so and push the obstacle downstream.
  for (int n = 0; n < 5; ++n) {
    const FlowStepReport r = ns.step(solver, 1.0);
    EXPECT_LT(r.divergence, 1e-8);
    EXPECT_GT(r.force[0], 0.0);
  }
}

// A body force drives fluid through a periodic box around a disc. Nothing else holds the fluid,
// so at steady state the disc takes all of it: F_x = rho f |fluid area|, an exact global
// momentum balance against which the solver's (box momentum balance) force is checked.
TEST(NavierStokes, ObstacleForceBalancesTheBodyForceOnAPeriodicBox) {
  auto grid = make_grid(PETSC_COMM_WORLD, {32, 32}, {1.0, 1.0}, {true, true, false});
  auto solid = std::make_shared<SolidMask>(grid);
  solid->add(SphereShape{{0.5, 0.5, 0.0}, 0.15});
  NavierStokesSpec spec = periodic_spec(2);
  spec.nu = 0.1;
  spec.density = 2.0;
  spec.implicit_viscosity = true;
  spec.body_force = {Expression("1"), Expression::constant(0), Expression::constant(0)};
  spec.max_dt = 0.02;
  PetscSolver solver({.rtol = 1e-12}), vx, vy;
  NavierStokes ns(grid, spec, solid, solver);
  ns.set_viscosity_solvers({&vx, &vy});
  FlowStepReport r;
  for (int n = 0; n < 2000; ++n) {
    r = ns.step(solver, 1.0);
    if (r.change < 1e-7) break;
  }
  ASSERT_LT(r.change, 1e-5);
  const double fluid_area = 1.0 - static_cast<double>(solid->solid_cells()) / (32.0 * 32.0);
  EXPECT_NEAR(r.force[0], 2.0 * 1.0 * fluid_area, 1e-3 * fluid_area);
  EXPECT_NEAR(r.force[1], 0.0, 1e-6);
}

// The lid-driven cavity on this communicator equals the one computed by every rank alone.
class CavityMpi : public testing::TestWithParam<bool> {};

TEST_P(CavityMpi, IsTheSameOnAnyRankCount) {
  const bool implicit = GetParam();
  auto run = [implicit](MPI_Comm comm) {
    auto grid = make_grid(comm, {24, 24}, {1.0, 1.0}, {false, false, false});
    NavierStokesSpec spec;
    spec.nu = 0.01;
    spec.boundary[3] = {FlowBcType::Wall, {Expression("1"), Expression::constant(0), Expression::constant(0)}};
    spec.implicit_viscosity = implicit;
    PetscSolver solver({.rtol = 1e-13});
    std::vector<std::unique_ptr<PetscSolver>> viscous;
    auto ns = std::make_unique<NavierStokes>(grid, spec, nullptr, solver);
    if (implicit) {
      for (int a = 0; a < 2; ++a) viscous.push_back(std::make_unique<PetscSolver>(PetscSolverSettings{.rtol = 1e-13}));
      ns->set_viscosity_solvers({viscous[0].get(), viscous[1].get()});
    }
    for (int n = 0; n < 20; ++n) {
      const FlowStepReport r = ns->step(solver, 1.0);
      EXPECT_LT(r.divergence, 1e-9);
    }
    return std::make_pair(std::move(ns), grid);
  };
  auto [world, world_grid] = run(PETSC_COMM_WORLD);
  auto [self, self_grid] = run(PETSC_COMM_SELF);
  EXPECT_DOUBLE_EQ(world->time(), self->time());
  double diff = 0.0;
  for (int a = 0; a < 2; ++a)
    for_each_cell(world->velocity(a).owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
      diff = std::max(diff, std::abs(world->velocity(a)(i, j, k) - self->velocity(a)(i, j, k)));
    });
  EXPECT_LT(diff, 1e-9);
  EXPECT_GT(self->velocity(0).norm_max(), 0.1);  // the lid did drive the flow
}

INSTANTIATE_TEST_SUITE_P(NavierStokesMpi, CavityMpi, testing::Values(false, true),
                         [](const auto& info) { return info.param ? "ImplicitViscosity" : "ExplicitViscosity"; });

// A fluid at rest in a cavity: the lid's speed, not the (zero) velocity samples, limits the first
// step (with implicit viscosity nothing else would, and the first step would jump to max_dt).
TEST(NavierStokes, TheLidLimitsTheFirstStepFromRest) {
  auto grid = make_grid(PETSC_COMM_WORLD, {16, 16}, {1.0, 1.0}, {false, false, false});
  NavierStokesSpec spec;
  spec.nu = 0.01;
  spec.implicit_viscosity = true;
  spec.cfl = 0.5;
  spec.boundary[3] = {FlowBcType::Wall, {Expression("2"), Expression::constant(0), Expression::constant(0)}};
  PetscSolver solver;
  NavierStokes ns(grid, spec, nullptr, solver);
  EXPECT_EQ(ns.velocity(0).norm_max(), 0.0);
  EXPECT_DOUBLE_EQ(ns.stable_dt(), 0.5 / (2.0 * 16.0));
}

// An output time is reached in equal steps, not full steps and a sliver.
TEST(NavierStokes, OutputTimesAreReachedWithoutASliverStep) {
  auto grid = make_grid(PETSC_COMM_WORLD, {16, 16}, {1.0, 1.0}, {false, false, false});
  NavierStokesSpec spec;
  spec.nu = 0.01;
  spec.implicit_viscosity = true;
  spec.boundary[3] = {FlowBcType::Wall, {Expression("1"), Expression::constant(0), Expression::constant(0)}};
  PetscSolver solver;
  NavierStokes ns(grid, spec, nullptr, solver);
  const double dt = ns.stable_dt();
  EXPECT_DOUBLE_EQ(ns.step_size(1.1 * dt), 0.55 * dt);
  EXPECT_DOUBLE_EQ(ns.step_size(2.5 * dt), 2.5 * dt / 3.0);
  EXPECT_DOUBLE_EQ(ns.step_size(3.0 * dt), dt);
  EXPECT_DOUBLE_EQ(ns.step_size(0.3 * dt), 0.3 * dt);
}

TEST(NavierStokes, WallWithNormalVelocityIsRefused) {
  auto grid = make_grid(PETSC_COMM_WORLD, {8, 8}, {1.0, 1.0}, {false, false, false});
  NavierStokesSpec spec;
  spec.boundary[3] = {FlowBcType::Wall, {Expression("1"), Expression("0.5"), Expression::constant(0)}};
  PetscSolver solver;
  try {
    NavierStokes ns(grid, spec, nullptr, solver);
    FAIL() << "a wall with a normal velocity was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("boundary.y_upper.v"), std::string::npos) << e.what();
  }
}

TEST(NavierStokes, ObstacleCoveringTheInflowIsRefused) {
  auto grid = make_grid(PETSC_COMM_WORLD, {8, 8}, {1.0, 1.0}, {false, false, false});
  auto solid = std::make_shared<SolidMask>(grid);
  solid->add(BoxShape{{-1.0, -1.0, -1.0}, {0.3, 2.0, 1.0}});
  NavierStokesSpec spec;
  spec.boundary[0] = {FlowBcType::Inflow, {Expression("1"), Expression::constant(0), Expression::constant(0)}};
  spec.boundary[1] = {FlowBcType::Outflow, {}};
  PetscSolver solver;
  EXPECT_THROW(NavierStokes(grid, spec, solid, solver), ConfigError);
}

}  // namespace
}  // namespace fluxion
