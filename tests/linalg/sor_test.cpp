// SOR sweeps and solvers: lexicographic sweeps equal PETSc's MatSOR, red-black sweeps do not depend
// on the number of ranks, SorSolver / SsorCgSolver / PetscSorSolver agree with a direct solve, the
// best omega is Young's, and caps and bad omegas are reported.
#include "fluxion/linalg/sor.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "fluxion/core/error.hpp"
#include "../support/noise.hpp"
#include "../support/problems.hpp"
#include "fluxion/linalg/petsc_solver.hpp"
#include "fluxion/linalg/sor_solver.hpp"
#include "fluxion/linalg/stencil_operator.hpp"

namespace fluxion {
namespace {

using test::noise;

using test::mixed_problem;
using test::Problem;

double max_difference(const Field& a, const Field& b) {
  Field d = a;
  d.axpy(-1.0, b);
  return d.norm_max();
}

// ---------------------------------------------------------------------------------------------
// Sweeps

TEST(SorSweeper, LexicographicSweepsEqualMatSorOnOneRank) {
  const std::array<std::pair<SweepDirection, MatSORType>, 3> cases = {
      {{SweepDirection::Forward, SOR_FORWARD_SWEEP},
       {SweepDirection::Backward, SOR_BACKWARD_SWEEP},
       {SweepDirection::Symmetric, SOR_SYMMETRIC_SWEEP}}};
  for (int dim : {2, 3}) {
    auto p = mixed_problem(PETSC_COMM_SELF, dim, {13, 10, dim == 3 ? 9 : 1});
    SorSweeper sweeper(*p.op);
    for (const auto& [direction, type] : cases) {
      for (double omega : {1.0, 1.37}) {
        Field x0(p.grid, "x");
        x0.assign(noise);
        Field ours = x0, petsc = x0;
        sweeper.sweep(*p.b, ours, omega, SorOrdering::Lexicographic, direction, 2);
        for (int s = 0; s < 2; ++s)
          FLUXION_PETSC_CHECK(MatSOR(p.op->matrix(), p.b->vec(), omega, type, 0.0, 1, 1, petsc.vec()));
        // We multiply by omega / a_ii where MatSOR divides: round-off apart, the same numbers.
        EXPECT_LE(max_difference(ours, petsc), 1e-13 * petsc.norm_max())
            << "dim " << dim << " direction " << static_cast<int>(direction) << " omega " << omega;
        EXPECT_GT(max_difference(ours, x0), 1e-3 * x0.norm_max());  // it did something
      }
    }
  }
}

// Periodic on every axis (the global order sees the first layer's new values from the last one).
TEST(SorSweeper, LexicographicSweepsEqualMatSorWhenEveryAxisIsPeriodic) {
  for (int dim : {2, 3}) {
    GridSpec s{.dim = dim, .cells = {9, 7, dim == 3 ? 6 : 1}, .periodic = {true, true, dim == 3}};
    auto g = std::make_shared<const Grid>(PETSC_COMM_SELF, s);
    Field k(g, "k"), c(g, "c"), b(g, "b");
    k.assign([](const Field::Point& x) { return 1.0 + x[0] * x[1] + x[2]; });
    c.fill(0.3);
    b.assign(noise);
    StencilOperator op(g, k, c, BoundaryConditions::uniform(BcType::Periodic));
    SorSweeper sweeper(op);
    for (auto [direction, type] : {std::pair{SweepDirection::Forward, SOR_FORWARD_SWEEP},
                                   std::pair{SweepDirection::Backward, SOR_BACKWARD_SWEEP},
                                   std::pair{SweepDirection::Symmetric, SOR_SYMMETRIC_SWEEP}}) {
      Field ours(g, "x"), petsc(g, "x");
      ours.assign([](const Field::Point& x) { return std::cos(5 * x[0] + 3 * x[1] + x[2]); });
      petsc = ours;
      sweeper.sweep(b, ours, 1.5, SorOrdering::Lexicographic, direction);
      FLUXION_PETSC_CHECK(MatSOR(op.matrix(), b.vec(), 1.5, type, 0.0, 1, 1, petsc.vec()));
      EXPECT_LE(max_difference(ours, petsc), 1e-13 * petsc.norm_max())
          << "dim " << dim << " direction " << static_cast<int>(direction);
    }
  }
}

// Under MPI the lexicographic sweep is PETSc's processor-local one (ghosts refreshed per sweep).
TEST(SorSweeperMpi, LexicographicSweepsEqualLocalMatSor) {
  const std::array<std::pair<SweepDirection, MatSORType>, 3> cases = {
      {{SweepDirection::Forward, SOR_LOCAL_FORWARD_SWEEP},
       {SweepDirection::Backward, SOR_LOCAL_BACKWARD_SWEEP},
       {SweepDirection::Symmetric, SOR_LOCAL_SYMMETRIC_SWEEP}}};
  for (int dim : {2, 3}) {
    auto p = mixed_problem(PETSC_COMM_WORLD, dim, {14, 10, dim == 3 ? 8 : 1});
    SorSweeper sweeper(*p.op);
    for (const auto& [direction, type] : cases) {
      Field x0(p.grid, "x");
      x0.assign(noise);
      Field ours = x0, petsc = x0;
      sweeper.sweep(*p.b, ours, 1.6, SorOrdering::Lexicographic, direction, 3);
      FLUXION_PETSC_CHECK(MatSOR(p.op->matrix(), p.b->vec(), 1.6, type, 0.0, 3, 1, petsc.vec()));
      EXPECT_LE(max_difference(ours, petsc), 1e-13 * petsc.norm_max())
          << "dim " << dim << " direction " << static_cast<int>(direction);
    }
  }
}

// Red-black on the world communicator vs the same problem on one rank: the same numbers.
TEST(SorSweeperMpi, RedBlackIsIndependentOfTheRankCount) {
  for (int dim : {2, 3}) {
    const std::array<PetscInt, 3> cells = {14, 11, dim == 3 ? 8 : 1};
    auto world = mixed_problem(PETSC_COMM_WORLD, dim, cells);
    auto self = mixed_problem(PETSC_COMM_SELF, dim, cells);
    for (SweepDirection direction : {SweepDirection::Forward, SweepDirection::Symmetric}) {
      Field xw(world.grid, "x"), xs(self.grid, "x");
      xw.assign(noise);
      xs.assign(noise);
      SorSweeper sw(*world.op), ss(*self.op);
      sw.sweep(*world.b, xw, 1.45, SorOrdering::RedBlack, direction, 3);
      ss.sweep(*self.b, xs, 1.45, SorOrdering::RedBlack, direction, 3);
      double local = 0.0, scale = 0.0;
      {
        FieldReadArray aw(xw), as(xs);
        for_each_cell(world.grid->owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
          local = std::max(local, std::abs(aw(i, j, k) - as(i, j, k)));
          scale = std::max(scale, std::abs(as(i, j, k)));
        });
      }
      double diff = 0.0;
      MPI_Allreduce(&local, &diff, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD);
      EXPECT_LE(diff, 1e-14 * scale) << "dim " << dim;
      Field x0(self.grid, "x");
      x0.assign(noise);
      EXPECT_GT(max_difference(xs, x0), 1e-3);  // it did something
    }
  }
}

// One pass over memory (the second colour a plane or row behind the first, the cells next to
// another rank's ghosts after the exchange) must give exactly the two-pass sweep, on any rank
// count, with periodic and non-periodic faces.
TEST(SorSweeperMpi, FusedRedBlackEqualsTwoPassesToTheLastBit) {
  for (int dim : {2, 3})
    for (bool periodic_y : {true, false}) {
      auto p = mixed_problem(PETSC_COMM_WORLD, dim, {14, 11, dim == 3 ? 9 : 1}, periodic_y);
      for (SweepDirection direction : {SweepDirection::Forward, SweepDirection::Backward, SweepDirection::Symmetric}) {
        Field fused(p.grid, "x"), two(p.grid, "x");
        fused.assign(noise);
        two.assign(noise);
        SorSweeper one_pass(*p.op), two_passes(*p.op);
        two_passes.fuse_red_black(false);
        one_pass.sweep(*p.b, fused, 1.45, SorOrdering::RedBlack, direction, 2);
        two_passes.sweep(*p.b, two, 1.45, SorOrdering::RedBlack, direction, 2);
        EXPECT_EQ(max_difference(fused, two), 0.0) << "dim " << dim << " periodic y " << periodic_y;
        Field x0(p.grid, "x");
        x0.assign(noise);
        EXPECT_GT(max_difference(fused, x0), 1e-3);  // it did something
      }
    }
}

TEST(SorSweeperMpi, ResidualNormEqualsTheOperators) {
  for (int dim : {2, 3}) {
    auto p = mixed_problem(PETSC_COMM_WORLD, dim, {12, 10, dim == 3 ? 6 : 1});
    Field x(p.grid, "x"), r(p.grid, "r");
    x.assign(noise);
    SorSweeper sweeper(*p.op);
    sweeper.load(x);
    p.op->residual(*p.b, x, r);
    double expected = 0.0;
    FLUXION_PETSC_CHECK(VecNorm(r.vec(), NORM_2, &expected));
    EXPECT_NEAR(sweeper.residual_norm(*p.b), expected, 1e-13 * expected);
    // After a sweep the ghosts are stale: residual_norm must refresh them.
    sweeper.relax(*p.b, 1.2, SorOrdering::Lexicographic);
    sweeper.store(x);
    p.op->residual(*p.b, x, r);
    FLUXION_PETSC_CHECK(VecNorm(r.vec(), NORM_2, &expected));
    EXPECT_NEAR(sweeper.residual_norm(*p.b), expected, 1e-13 * expected);
    Field r_sweeper(p.grid, "r");
    sweeper.residual(p.b->vec(), r_sweeper.vec());
    EXPECT_LE(max_difference(r_sweeper, r), 1e-13 * r.norm_max());
  }
}

// ---------------------------------------------------------------------------------------------
// Solvers

TEST(SorSolverMpi, AllSorSolversMatchADirectSolve) {
  for (int dim : {2, 3}) {
    auto p = mixed_problem(PETSC_COMM_WORLD, dim, dim == 2 ? std::array<PetscInt, 3>{24, 16, 1}
                                                            : std::array<PetscInt, 3>{12, 8, 8},
                           /*periodic_y=*/false);
    Field x_direct(p.grid, "x");
    PetscOptionsSetValue(nullptr, "-sordirect_pc_factor_mat_solver_type", "mumps");
    PetscSolver direct({.ksp_type = "preonly", .pc_type = p.grid->ranks() > 1 ? "cholesky" : "lu", .prefix = "sordirect_"});
    direct.set_operator(*p.op);
    ASSERT_TRUE(direct.solve(*p.b, x_direct).converged);

    // Processor-block SOR (lexicographic on several ranks) may diverge above 1.6; the others may not.
    SorSolver lex({.ordering = SorOrdering::Lexicographic, .omega = p.grid->ranks() == 1 ? 1.8 : 1.6, .rtol = 1e-10});
    SorSolver red_black({.ordering = SorOrdering::RedBlack, .omega = 1.8, .rtol = 1e-10, .check_every = 4});
    SorSolver automatic({.omega = 1.9, .rtol = 1e-10});
    SsorCgSolver ssor_cg({.omega = 1.5, .rtol = 1e-10});
    PetscSorSolver petsc_richardson(
        {.method = PetscSorMethod::Richardson, .omega = p.grid->ranks() == 1 ? 1.8 : 1.6, .rtol = 1e-10});
    PetscSorSolver petsc_cg({.method = PetscSorMethod::SsorCg, .omega = 1.5, .rtol = 1e-10});
    for (LinearSolver* solver : std::initializer_list<LinearSolver*>{&lex, &red_black, &automatic, &ssor_cg, &petsc_richardson, &petsc_cg}) {
      Field x(p.grid, "x");
      solver->set_operator(*p.op);
      const SolveReport r = solver->solve(*p.b, x);
      ASSERT_TRUE(r.converged) << r.summary();
      EXPECT_LE(r.relative_residual(), 1e-10) << r.summary();
      EXPECT_GT(r.iterations, 1);
      EXPECT_LT(max_difference(x, x_direct), 1e-7 * x_direct.norm_max()) << "dim " << dim << ": " << r.summary();
    }
  }
}

TEST(SorSolverMpi, PetscRichardsonStopsOnTheToleranceLikeSorSolver) {
  auto p = mixed_problem(PETSC_COMM_WORLD, 2, {24, 16, 1}, false);
  // (Processor-block SOR may diverge for omega near 2 on several ranks; red-black does not.)
  for (double omega : {1.0, 1.5, p.grid->ranks() == 1 ? 1.9 : 1.6}) {
    Field x_ours(p.grid, "x"), x_petsc(p.grid, "x");
    SorSolver ours({.ordering = SorOrdering::Lexicographic, .omega = omega, .rtol = 1e-8});
    PetscSorSolver petsc({.method = PetscSorMethod::Richardson, .omega = 1.2, .rtol = 1e-8});
    petsc.set_omega(omega);  // per solve, after construction
    ours.set_operator(*p.op);
    petsc.set_operator(*p.op);
    const SolveReport a = ours.solve(*p.b, x_ours), b = petsc.solve(*p.b, x_petsc);
    ASSERT_TRUE(a.converged) << a.summary();
    ASSERT_TRUE(b.converged) << b.summary();  // the fast path would run all 10000 sweeps
    EXPECT_LE(std::abs(a.iterations - b.iterations), 1) << a.summary() << "\n" << b.summary();
    EXPECT_LT(max_difference(x_ours, x_petsc), 1e-6 * x_petsc.norm_max());
  }
  // SSOR-CG: the same method, so nearly the same count.
  Field x_ours(p.grid, "x"), x_petsc(p.grid, "x");
  SsorCgSolver ours({.omega = 1.4, .rtol = 1e-8});
  PetscSorSolver petsc({.method = PetscSorMethod::SsorCg, .omega = 1.4, .rtol = 1e-8});
  ours.set_operator(*p.op);
  petsc.set_operator(*p.op);
  const SolveReport a = ours.solve(*p.b, x_ours), b = petsc.solve(*p.b, x_petsc);
  ASSERT_TRUE(a.converged && b.converged) << a.summary() << "\n" << b.summary();
  EXPECT_LE(std::abs(a.iterations - b.iterations), 1) << a.summary() << "\n" << b.summary();
}

// Issue 12: lexicographic SOR on several ranks is processor-block SOR and diverged at omega 1.8 on 4
// ranks. The default ordering (Auto) is red-black there: it converges for omega near 2 on any number
// of ranks, in exactly the iterations of red-black on one rank; on one rank it is lexicographic.
TEST(SorSolverMpi, AutoOrderingConvergesNearOmegaTwoOnAnyRankCount) {
  for (int dim : {2, 3}) {
    const std::array<PetscInt, 3> cells = dim == 2 ? std::array<PetscInt, 3>{30, 22, 1} : std::array<PetscInt, 3>{13, 10, 9};
    auto world = mixed_problem(PETSC_COMM_WORLD, dim, cells, /*periodic_y=*/false);
    auto self = mixed_problem(PETSC_COMM_SELF, dim, cells, /*periodic_y=*/false);
    const bool parallel = world.grid->ranks() > 1;
    EXPECT_EQ(ordering_for(SorOrdering::Auto, *world.grid), parallel ? SorOrdering::RedBlack : SorOrdering::Lexicographic);
    EXPECT_EQ(ordering_for(SorOrdering::Lexicographic, *world.grid), SorOrdering::Lexicographic);
    for (double omega : {1.8, 1.95}) {
      SorSolver automatic({.omega = omega, .rtol = 1e-9});
      EXPECT_EQ(automatic.name(), "sor auto");
      Field x(world.grid, "x");
      automatic.set_operator(*world.op);
      EXPECT_EQ(automatic.name(), "sor auto") << "the name must not change with the operator";
      const SolveReport r = automatic.solve(*world.b, x);
      EXPECT_EQ(r.solver, parallel ? "sor auto (red-black)" : "sor auto (lexicographic)");
      ASSERT_TRUE(r.converged) << "dim " << dim << ", omega " << omega << ": " << r.summary();
      // The same solve on one rank in the ordering Auto chose: the same iteration count.
      SorSolver one({.ordering = parallel ? SorOrdering::RedBlack : SorOrdering::Lexicographic, .omega = omega,
                     .rtol = 1e-9});
      Field y(self.grid, "x");
      one.set_operator(*self.op);
      const SolveReport s = one.solve(*self.b, y);
      ASSERT_TRUE(s.converged) << s.summary();
      EXPECT_EQ(r.iterations, s.iterations) << "dim " << dim << ", omega " << omega;
      EXPECT_NEAR(x.norm_max(), y.norm_max(), 1e-7 * y.norm_max());
    }
  }
}

// Young: for the model problem SOR is fastest at omega* = 2 / (1 + sqrt(1 - rho^2)), rho the
// spectral radius of the Jacobi iteration (computed here; cos(pi h) is only approximate for the
// cell-centred Dirichlet Laplacian).
TEST(SorSolver, BestOmegaIsYoungsOnTheModelProblem) {
  const PetscInt n = 32;
  GridSpec s{.dim = 2, .cells = {n, n, 1}};
  auto g = std::make_shared<const Grid>(PETSC_COMM_SELF, s);
  Field k(g, "k"), c(g, "c");
  k.fill(1.0);
  StencilOperator op(g, k, c, BoundaryConditions::uniform(BcType::Dirichlet));

  // Power iteration on J = I - D^-1 A; the D-norm Rayleigh quotient of J^2 -> rho^2.
  Field v(g, "v"), av(g, "av");
  v.fill(1.0);
  double rho2 = 0.0;
  const double* d = op.diagonal_data();
  auto d_norm2 = [&](const Field& f) {
    FieldReadArray a(f);
    double sum = 0.0;
    PetscInt p = 0;
    for_each_cell(g->owned(), [&](PetscInt i, PetscInt j, PetscInt kk) { sum += d[p++] * a(i, j, kk) * a(i, j, kk); });
    return sum;
  };
  for (int it = 0; it < 400; ++it) {
    op.apply(v, av);
    const double before = d_norm2(v);
    {
      FieldWriteArray va(v);
      FieldReadArray aa(av);
      PetscInt p = 0;
      for_each_cell(g->owned(), [&](PetscInt i, PetscInt j, PetscInt kk) { va(i, j, kk) -= aa(i, j, kk) / d[p++]; });
    }
    rho2 = d_norm2(v) / before;
    FLUXION_PETSC_CHECK(VecScale(v.vec(), 1.0 / std::sqrt(d_norm2(v))));
  }
  const double rho = std::sqrt(rho2);
  const double young = 2.0 / (1.0 + std::sqrt(1.0 - rho2));
  EXPECT_NEAR(rho, std::cos(M_PI / n), 2e-3);  // close to the vertex-centred value, not equal

  Field b(g, "b");
  b.assign([](const Field::Point& x) { return 1.0 + noise(x); });
  SorSolver solver({.rtol = 1e-8});
  solver.set_operator(op);
  int best_iterations = 1 << 30, gauss_seidel = 0;
  double best_omega = 0.0;
  for (double omega = 1.0; omega < 1.985; omega += 0.01) {
    solver.set_omega(omega);
    Field x(g, "x");
    const SolveReport r = solver.solve(b, x);
    ASSERT_TRUE(r.converged) << r.summary();
    if (omega == 1.0) gauss_seidel = r.iterations;
    if (r.iterations < best_iterations) {
      best_iterations = r.iterations;
      best_omega = omega;
    }
  }
  RecordProperty("young_omega", std::to_string(young));
  RecordProperty("best_omega", std::to_string(best_omega));
  RecordProperty("best_iterations", best_iterations);
  RecordProperty("gauss_seidel_iterations", gauss_seidel);
  EXPECT_NEAR(best_omega, young, 0.05) << "rho " << rho << ", best " << best_iterations << " iterations";
  // Theory: O(1/h) iterations at omega* against O(1/h^2) for Gauss-Seidel.
  EXPECT_GT(gauss_seidel, 5 * best_iterations);
}

TEST(SorSolver, IterationCapIsReportedAsNonConvergence) {
  auto p = mixed_problem(PETSC_COMM_WORLD, 2, {24, 16, 1});
  for (int check_every : {1, 3}) {
    Field x(p.grid, "x");
    SorSolver sor({.rtol = 1e-12, .max_iterations = 5, .check_every = check_every});
    sor.set_operator(*p.op);
    const SolveReport r = sor.solve(*p.b, x);
    EXPECT_FALSE(r.converged);
    EXPECT_EQ(r.iterations, 5);
    EXPECT_NE(r.reason.find("iteration cap 5 reached"), std::string::npos) << r.reason;
    EXPECT_NE(r.summary().find("DID NOT CONVERGE"), std::string::npos);
    EXPECT_GT(r.final_residual, 1e-12 * r.initial_residual);
  }
  Field x(p.grid, "x");
  SsorCgSolver cg({.rtol = 1e-12, .max_iterations = 4});
  cg.set_operator(*p.op);
  const SolveReport r = cg.solve(*p.b, x);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.iterations, 4);
  EXPECT_NE(r.reason.find("iteration cap 4 reached"), std::string::npos) << r.reason;
}

TEST(SorSolverMpi, DivergenceIsReported) {
  // An indefinite operator (a large negative reaction term): SOR diverges and must say so.
  GridSpec s{.dim = 2, .cells = {16, 16, 1}};
  auto g = std::make_shared<const Grid>(PETSC_COMM_WORLD, s);
  Field k(g, "k"), c(g, "c"), b(g, "b"), x(g, "x");
  k.fill(1.0);
  c.fill(-2000.0);
  b.fill(1.0);
  StencilOperator op(g, k, c, BoundaryConditions::uniform(BcType::Dirichlet));
  SorSolver sor({.ordering = SorOrdering::RedBlack, .omega = 1.5});
  sor.set_operator(op);
  const SolveReport r = sor.solve(b, x);
  EXPECT_FALSE(r.converged);
  EXPECT_NE(r.reason.find("diverged"), std::string::npos) << r.summary();
  EXPECT_LT(r.iterations, 10000);
}

TEST(SorSolver, CheckEveryReportsTheSweepOfDetection) {
  auto p = mixed_problem(PETSC_COMM_WORLD, 2, {24, 16, 1});
  auto iterations = [&](int check_every) {
    Field x(p.grid, "x");
    SorSolver sor({.omega = 1.7, .rtol = 1e-8, .check_every = check_every});
    sor.set_operator(*p.op);
    const SolveReport r = sor.solve(*p.b, x);
    EXPECT_TRUE(r.converged) << r.summary();
    return r.iterations;
  };
  const int every = iterations(1);
  EXPECT_EQ(iterations(7), (every + 6) / 7 * 7);  // the first multiple of 7 at or after it
}

// SOR is stationary: 20 capped sweeps, then a solve from there to the same absolute residual,
// take as many sweeps in all as one solve from zero; rtol is relative to the new initial residual.
TEST(SorSolver, NonzeroInitialGuessContinuesTheIteration) {
  auto p = mixed_problem(PETSC_COMM_WORLD, 2, {24, 16, 1});
  Field x(p.grid, "x");
  SorSolver once({.omega = 1.7, .rtol = 1e-8});
  once.set_operator(*p.op);
  const SolveReport full = once.solve(*p.b, x);
  ASSERT_TRUE(full.converged);

  x.fill(0.0);
  SorSolver capped({.omega = 1.7, .max_iterations = 20});
  capped.set_operator(*p.op);
  const SolveReport first = capped.solve(*p.b, x);
  ASSERT_FALSE(first.converged);
  SorSolver rest({.omega = 1.7, .rtol = 1e-8 * full.initial_residual / first.final_residual});
  rest.set_operator(*p.op);
  const SolveReport second = rest.solve(*p.b, x);
  ASSERT_TRUE(second.converged) << second.summary();
  EXPECT_NEAR(second.initial_residual, first.final_residual, 1e-12 * first.final_residual);
  EXPECT_LE(std::abs(20 + second.iterations - full.iterations), 1) << full.iterations << " vs 20 + " << second.iterations;
}

TEST(SorSolver, OmegaOutsideZeroTwoIsRejected) {
  auto p = mixed_problem(PETSC_COMM_WORLD, 2, {8, 8, 1});
  for (double omega : {0.0, -0.5, 2.0, 2.5, std::nan("")}) {
    SorSolver sor;
    EXPECT_THROW(sor.set_omega(omega), Error) << omega;
    EXPECT_THROW(SorSolver({.omega = omega}), Error) << omega;
    SsorCgSolver cg;
    EXPECT_THROW(cg.set_omega(omega), Error) << omega;
    PetscSorSolver petsc;
    EXPECT_THROW(petsc.set_omega(omega), Error) << omega;
    SorSweeper sweeper(*p.op);
    Field x(p.grid, "x");
    EXPECT_THROW(sweeper.sweep(*p.b, x, omega), Error) << omega;
  }
  try {
    SorSolver sor;
    sor.set_omega(2.0);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("outside (0, 2)"), std::string::npos) << e.what();
  }
  SorSolver sor;
  sor.set_omega(1.95);
  EXPECT_EQ(sor.omega(), 1.95);
}

// Sweep throughput against MatSOR on the 1025^2 Poisson matrix (run with
// --gtest_also_run_disabled_tests --gtest_filter=*SweepTiming*); prints ns per unknown.
TEST(SorSweeper, DISABLED_SweepTiming) {
  const PetscInt n = 1025;
  GridSpec s{.dim = 2, .cells = {n, n, 1}};
  auto g = std::make_shared<const Grid>(PETSC_COMM_SELF, s);
  Field k(g, "k"), c(g, "c"), b(g, "b"), x(g, "x");
  k.fill(1.0);
  b.fill(1.0);
  StencilOperator op(g, k, c, BoundaryConditions::uniform(BcType::Dirichlet));
  Mat A = op.matrix();
  SorSweeper sweeper(op);
  const int reps = 20;
  auto time = [&](auto&& f) {  // the best of `reps` runs: the machine is shared
    f();
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      f();
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best / (double(n) * n) * 1e9;
  };
  sweeper.load(x);
  const double lex = time([&] { sweeper.relax(b, 1.9, SorOrdering::Lexicographic); });
  const double rb = time([&] { sweeper.relax(b, 1.9, SorOrdering::RedBlack); });
  const double lex_copy = time([&] { sweeper.sweep(b, x, 1.9); });
  const double petsc = time([&] { MatSOR(A, b.vec(), 1.9, SOR_FORWARD_SWEEP, 0.0, 1, 1, x.vec()); });
  const double apply = time([&] { op.apply(x, b); });
  std::printf("1025^2 Poisson, ns per unknown: lexicographic forward %.2f (with copy in/out %.2f), red-black %.2f, "
              "MatSOR forward %.2f, apply %.2f\n",
              lex, lex_copy, rb, petsc, apply);
}

}  // namespace
}  // namespace fluxion
