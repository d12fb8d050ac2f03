// PetscSolver: agrees with a direct solve, reports non-convergence, handles singular problems.
#include "fluxion/linalg/petsc_solver.hpp"

#include <gtest/gtest.h>

#include "fluxion/core/error.hpp"
#include "fluxion/linalg/stencil_operator.hpp"

namespace fluxion {
namespace {

struct Setup {
  std::shared_ptr<const Grid> grid;
  std::unique_ptr<StencilOperator> op;
  std::unique_ptr<Field> b;
};

Setup make_problem(MPI_Comm comm, int dim, BcType bc_type, bool obstacle) {
  GridSpec s{.dim = dim, .cells = {32, 16, dim == 3 ? 16 : 1}, .lower = {0, 0, 0}, .upper = {2, 1, 1}};
  Setup p;
  p.grid = std::make_shared<const Grid>(comm, s);
  Field k(p.grid, "k"), c(p.grid, "c");
  k.assign([](const Field::Point& x) { return 1.0 + 10.0 * (x[0] > 1.0); });  // a jump of 11 across x = 1
  std::shared_ptr<SolidMask> solid;
  if (obstacle) {
    solid = std::make_shared<SolidMask>(p.grid);
    solid->add(SphereShape{{0.5, 0.5, 0.5}, 0.2});
  }
  p.op = std::make_unique<StencilOperator>(p.grid, k, c, BoundaryConditions::uniform(bc_type, Expression("x*y")), solid);
  p.b = std::make_unique<Field>(p.grid, "b");
  p.b->assign([](const Field::Point& x) { return std::sin(3 * x[0]) + x[1]; });
  p.op->add_boundary_terms(*p.b);
  return p;
}

double difference(const Field& a, const Field& b) {
  Field d = a;
  d.axpy(-1.0, b);
  return d.norm_max();
}

TEST(PetscSolverMpi, MultigridCgMatchesDirectSolve) {
  for (int dim : {2, 3}) {
    for (bool obstacle : {false, true}) {
      auto p = make_problem(PETSC_COMM_WORLD, dim, BcType::Dirichlet, obstacle);
      Field x_mg(p.grid, "x"), x_direct(p.grid, "x");
      PetscSolver mg({.ksp_type = "cg", .pc_type = "mg", .rtol = 1e-12});
      mg.set_operator(*p.op);
      const SolveReport r = mg.solve(*p.b, x_mg);
      ASSERT_TRUE(r.converged) << r.summary();
      EXPECT_LT(r.relative_residual(), 1e-11);
      EXPECT_LT(r.iterations, 60) << r.summary();
      // The independent answer: a sparse direct factorisation (MUMPS in parallel).
      PetscOptionsSetValue(nullptr, "-direct_pc_factor_mat_solver_type", "mumps");
      PetscSolver direct2({.ksp_type = "preonly", .pc_type = p.grid->ranks() > 1 ? "cholesky" : "lu", .prefix = "direct_"});
      direct2.set_operator(*p.op);
      ASSERT_TRUE(direct2.solve(*p.b, x_direct).converged);
      EXPECT_LT(difference(x_mg, x_direct), 1e-9 * x_direct.norm_max()) << "dim " << dim << " obstacle " << obstacle;
    }
  }
}

TEST(PetscSolverMpi, SingularNeumannProblemHasZeroMeanSolution) {
  auto p = make_problem(PETSC_COMM_WORLD, 2, BcType::Neumann, true);
  ASSERT_TRUE(p.op->singular());
  Field x(p.grid, "x");
  PetscSolver solver({.rtol = 1e-10});
  solver.set_operator(*p.op);
  const SolveReport r = solver.solve(*p.b, x);
  ASSERT_TRUE(r.converged) << r.summary();
  PetscScalar mean = 0.0;
  FLUXION_PETSC_CHECK(VecDot(x.vec(), p.op->null_vector(), &mean));
  EXPECT_LT(std::abs(mean), 1e-10 * x.norm_max() * std::sqrt(p.grid->global_cells()));
  EXPECT_LT(r.relative_residual(), 1e-9);
}

TEST(PetscSolver, IterationCapIsReportedAsNonConvergence) {
  auto p = make_problem(PETSC_COMM_WORLD, 2, BcType::Dirichlet, false);
  Field x(p.grid, "x");
  PetscSolver solver({.ksp_type = "cg", .pc_type = "none", .rtol = 1e-12, .max_iterations = 3});
  solver.set_operator(*p.op);
  const SolveReport r = solver.solve(*p.b, x);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.iterations, 3);
  EXPECT_NE(r.reason.find("iteration cap 3"), std::string::npos) << r.reason;
  EXPECT_NE(r.summary().find("DID NOT CONVERGE"), std::string::npos);
  EXPECT_GT(r.final_residual, 1e-12 * r.initial_residual);
}

TEST(PetscSolver, MatrixFreeOperatorWithJacobi) {
  auto p = make_problem(PETSC_COMM_WORLD, 2, BcType::Dirichlet, true);
  Field x_free(p.grid, "x"), x_mg(p.grid, "x");
  PetscSolver free({.ksp_type = "cg", .pc_type = "jacobi", .rtol = 1e-12, .matrix_free = true});
  free.set_operator(*p.op);
  ASSERT_TRUE(free.solve(*p.b, x_free).converged);
  PetscSolver mg({.rtol = 1e-12});
  mg.set_operator(*p.op);
  ASSERT_TRUE(mg.solve(*p.b, x_mg).converged);
  EXPECT_LT(difference(x_free, x_mg), 1e-8 * x_mg.norm_max());
}

TEST(PetscSolver, OptionsDatabaseOverridesSettings) {
  auto p = make_problem(PETSC_COMM_WORLD, 2, BcType::Dirichlet, false);
  PetscOptionsSetValue(nullptr, "-override_test_ksp_type", "gmres");
  PetscSolver solver({.prefix = "override_test_"});
  solver.set_operator(*p.op);
  EXPECT_NE(solver.name().find("gmres"), std::string::npos) << solver.name();
  PetscOptionsClearValue(nullptr, "-override_test_ksp_type");
}

}  // namespace
}  // namespace fluxion
