// StencilOperator: matrix-free and assembled paths agree, the stencil is exact on quadratics,
// the matrix is symmetric, obstacles decouple, and the null space is found.
#include "fluxion/linalg/stencil_operator.hpp"

#include <gtest/gtest.h>

#include <random>

#include "fluxion/core/error.hpp"

namespace fluxion {
namespace {

std::shared_ptr<const Grid> make_grid(int dim, std::array<bool, 3> periodic = {false, false, false}) {
  GridSpec s{.dim = dim, .cells = {13, 10, dim == 3 ? 9 : 1}, .lower = {0, -1, 0.5}, .upper = {1.3, 1, 1.4},
             .periodic = periodic};
  return std::make_shared<const Grid>(PETSC_COMM_WORLD, s);
}

void fill_random(Field& f, unsigned seed) {
  std::mt19937 rng(seed + 17u * static_cast<unsigned>(f.grid().rank()));
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  FieldWriteArray a(f);
  for_each_cell(f.grid().owned(), [&](PetscInt i, PetscInt j, PetscInt k) { a(i, j, k) = u(rng); });
}

// Mixed conditions, periodic in y, variable k (times k_scale), a reaction term and a spherical
// obstacle.
std::unique_ptr<StencilOperator> mixed_operator(std::shared_ptr<const Grid> g, double k_scale = 1.0) {
  Field k(g, "k"), c(g, "c");
  k.assign([&](const Field::Point& x) { return k_scale * (1.0 + 0.5 * std::sin(3 * x[0]) + x[1] * x[1]); });
  c.assign([](const Field::Point& x) { return x[0]; });
  BoundaryConditions bc;
  bc[Face::XLower] = {BcType::Dirichlet, Expression("y")};
  bc[Face::XUpper] = {BcType::Neumann, Expression("1")};
  bc[Face::YLower] = bc[Face::YUpper] = {BcType::Periodic, {}};
  bc[Face::ZLower] = {BcType::Neumann, Expression("0")};
  bc[Face::ZUpper] = {BcType::Dirichlet, Expression("0")};
  auto solid = std::make_shared<SolidMask>(g);
  solid->add(SphereShape{{0.6, 0.0, 0.9}, 0.3});
  EXPECT_GT(solid->solid_cells(), 0);
  return std::make_unique<StencilOperator>(g, k, c, bc, solid);
}

class StencilOperatorMpi : public ::testing::TestWithParam<int> {};

TEST_P(StencilOperatorMpi, MatrixFreeEqualsAssembledToRoundOff) {
  auto g = make_grid(GetParam(), {false, true, false});
  auto op = mixed_operator(g);
  Field x(g, "x"), y_free(g, "y"), y_mat(g, "y");
  fill_random(x, 1);
  op->apply(x, y_free);
  FLUXION_PETSC_CHECK(MatMult(op->matrix(), x.vec(), y_mat.vec()));
  Field diff = y_free;
  diff.axpy(-1.0, y_mat);
  EXPECT_LE(diff.norm_max(), 1e-13 * y_mat.norm_max());
  // The MATSHELL path is apply() itself.
  Field y_shell(g, "y");
  FLUXION_PETSC_CHECK(MatMult(op->shell(), x.vec(), y_shell.vec()));
  diff = y_shell;
  diff.axpy(-1.0, y_free);
  EXPECT_EQ(diff.norm_max(), 0.0);
}

TEST_P(StencilOperatorMpi, AssembledMatrixIsSymmetric) {
  auto g = make_grid(GetParam(), {false, true, false});
  auto op = mixed_operator(g);
  PetscBool symmetric = PETSC_FALSE;
  FLUXION_PETSC_CHECK(MatIsSymmetric(op->matrix(), 1e-12, &symmetric));
  EXPECT_TRUE(symmetric);
}

// In place, k -> 2.7 k (what the heat app does when kappa(t) changes) gives the operator built
// with 2.7 k: matrix-free, assembled (refilled) and in the boundary terms.
TEST_P(StencilOperatorMpi, ScalingTheConductivityEqualsBuildingWithTheScaledK) {
  auto g = make_grid(GetParam(), {false, true, false});
  auto scaled = mixed_operator(g);
  scaled->matrix();  // assembled before: it must be refilled
  scaled->scale_conductivity(2.7);
  auto built = mixed_operator(g, 2.7);
  Field x(g, "x"), y_scaled(g, "y"), y_built(g, "y"), y_mat(g, "y");
  fill_random(x, 2);
  scaled->apply(x, y_scaled);
  built->apply(x, y_built);
  FLUXION_PETSC_CHECK(MatMult(scaled->matrix(), x.vec(), y_mat.vec()));
  Field diff = y_scaled;
  diff.axpy(-1.0, y_built);
  EXPECT_LE(diff.norm_max(), 1e-13 * y_built.norm_max());
  diff = y_mat;
  diff.axpy(-1.0, y_built);
  EXPECT_LE(diff.norm_max(), 1e-13 * y_built.norm_max());
  Field b_scaled(g, "b"), b_built(g, "b");
  scaled->add_boundary_terms(b_scaled);
  built->add_boundary_terms(b_built);
  diff = b_scaled;
  diff.axpy(-1.0, b_built);
  EXPECT_LE(diff.norm_max(), 1e-13 * b_built.norm_max());
  EXPECT_THROW(scaled->scale_conductivity(0.0), Error);
}

INSTANTIATE_TEST_SUITE_P(Dims, StencilOperatorMpi, ::testing::Values(2, 3));

// For u = x^2 + 2 y^2 (+ 3 z^2) and k = 1 the 5/7-point stencil is exact away from the boundary:
// -lap u = -2 (1 + 2 + 3).
TEST(StencilOperator, ExactOnQuadraticsInTheInterior) {
  for (int dim : {2, 3}) {
    auto g = make_grid(dim);
    Field k(g, "k"), c(g, "c"), u(g, "u"), au(g, "au");
    k.fill(1.0);
    u.assign([](const Field::Point& x) { return x[0] * x[0] + 2 * x[1] * x[1] + 3 * x[2] * x[2]; });
    StencilOperator op(g, k, c, BoundaryConditions::uniform(BcType::Dirichlet));
    op.apply(u, au);
    const double expected = dim == 2 ? -6.0 : -12.0;
    FieldReadArray a(au);
    for_each_cell(g->owned(), [&](PetscInt i, PetscInt j, PetscInt kk) {
      const bool interior = i > 0 && i < g->cells(0) - 1 && j > 0 && j < g->cells(1) - 1 &&
                            (dim == 2 || (kk > 0 && kk < g->cells(2) - 1));
      if (interior) ASSERT_NEAR(a(i, j, kk), expected, 1e-9) << i << " " << j << " " << kk;
    });
  }
}

TEST(StencilOperator, HarmonicMeanOfKOnFaces) {
  // Two cells in x with k = 1 and k = 3, periodic y so that only the x faces matter:
  // the shared face carries 2*1*3/(1+3) = 1.5 / h^2.
  GridSpec s{.dim = 2, .cells = {2, 2, 1}, .lower = {0, 0, 0}, .upper = {2, 2, 1}, .periodic = {false, true, false}};
  auto g = std::make_shared<const Grid>(PETSC_COMM_SELF, s);
  Field k(g, "k"), c(g, "c");
  k.assign([](const Field::Point& x) { return x[0] < 1 ? 1.0 : 3.0; });
  BoundaryConditions bc = BoundaryConditions::uniform(BcType::Neumann);
  bc[Face::YLower].type = bc[Face::YUpper].type = BcType::Periodic;
  StencilOperator op(g, k, c, bc);
  EXPECT_DOUBLE_EQ(op.off_diagonal(1, 0, 0), -1.5);
  EXPECT_DOUBLE_EQ(op.off_diagonal(0, 1, 0), -1.5);
  // The diagonal adds the two periodic y faces to the cell above (same k = 1, h = 1).
  EXPECT_DOUBLE_EQ(op.diagonal(0, 0), 1.5 + 2.0);
  EXPECT_DOUBLE_EQ(op.off_diagonal(3, 0, 0), -1.0);
  EXPECT_DOUBLE_EQ(op.off_diagonal(0, 0, 0), 0.0);  // a Neumann domain face couples nothing
  EXPECT_TRUE(op.singular());
}

TEST(StencilOperator, SolidCellsAreDecoupled) {
  auto g = make_grid(2, {false, true, false});
  auto op = mixed_operator(g);
  // A random x that is zero on fluid cells maps to zero on fluid cells.
  Field x(g, "x"), y(g, "y");
  {
    FieldWriteArray xa(x);
    FieldReadArray sa(op->solid()->field());
    for_each_cell(g->owned(), [&](PetscInt i, PetscInt j, PetscInt k) { xa(i, j, k) = sa(i, j, k) > 0.5 ? 1.0 + i : 0.0; });
  }
  op->apply(x, y);
  FieldReadArray ya(y), sa(op->solid()->field());
  for_each_cell(g->owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
    if (sa(i, j, k) < 0.5) ASSERT_EQ(ya(i, j, k), 0.0);
  });
}

TEST(StencilOperator, NullSpaceOnlyWithoutDirichletAndReaction) {
  auto g = make_grid(2);
  Field k(g, "k"), c(g, "c");
  k.fill(1.0);
  EXPECT_TRUE(StencilOperator(g, k, c, BoundaryConditions::uniform(BcType::Neumann)).singular());
  EXPECT_FALSE(StencilOperator(g, k, c, BoundaryConditions::uniform(BcType::Dirichlet)).singular());
  c.fill(0.1);
  EXPECT_FALSE(StencilOperator(g, k, c, BoundaryConditions::uniform(BcType::Neumann)).singular());
  // The null vector is in the kernel of A.
  c.fill(0.0);
  StencilOperator op(g, k, c, BoundaryConditions::uniform(BcType::Neumann));
  Field y(g, "y");
  FLUXION_PETSC_CHECK(MatMult(op.matrix(), op.null_vector(), y.vec()));
  EXPECT_LT(y.norm_max(), 1e-10);
}

TEST(StencilOperator, NegativeCoefficientIsRejected) {
  auto g = make_grid(2);
  Field k(g, "k"), c(g, "c");
  k.fill(-1.0);
  EXPECT_THROW(StencilOperator(g, k, c, BoundaryConditions::uniform(BcType::Dirichlet)), NumericalError);
}

}  // namespace
}  // namespace fluxion
