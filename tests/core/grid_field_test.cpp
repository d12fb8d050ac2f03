// Grid, Field and SolidMask: geometry, distribution over ranks, ghosts, norms, shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "fluxion/core/boundary.hpp"
#include "fluxion/core/error.hpp"
#include "fluxion/core/field.hpp"
#include "fluxion/core/solid_mask.hpp"

namespace fluxion {
namespace {

TEST(GridMpi, OwnedBoxesTileTheGrid) {
  for (int dim : {2, 3}) {
    GridSpec s{.dim = dim, .cells = {17, 9, dim == 3 ? 5 : 1}, .lower = {-1, 0, 0}, .upper = {1, 3, 1}};
    Grid g(PETSC_COMM_WORLD, s);
    long long local = g.owned().size(), total = 0;
    MPI_Allreduce(&local, &total, 1, MPI_LONG_LONG, MPI_SUM, g.comm());
    EXPECT_EQ(total, g.global_cells());
    EXPECT_DOUBLE_EQ(g.spacing(0), 2.0 / 17);
    EXPECT_DOUBLE_EQ(g.center(0, 0), -1 + 1.0 / 17);
    EXPECT_DOUBLE_EQ(g.center(1, 8), 3 - 1.0 / 6);
    EXPECT_NEAR(g.cell_volume() * g.global_cells(), dim == 2 ? 6.0 : 6.0, 1e-12);
  }
}

TEST(Grid, RejectsBadSpecs) {
  EXPECT_THROW(Grid(PETSC_COMM_SELF, GridSpec{.dim = 4}), Error);
  EXPECT_THROW(Grid(PETSC_COMM_SELF, GridSpec{.dim = 2, .cells = {0, 4, 1}}), Error);
  EXPECT_THROW(Grid(PETSC_COMM_SELF, GridSpec{.dim = 2, .cells = {4, 4, 1}, .lower = {1, 0, 0}, .upper = {1, 1, 1}}),
               Error);
}

// The discrete L2 norm sqrt(sum f^2 |cell|) of f = exp(x + y) on [0,1]^2 is the midpoint rule for
// int f^2 = A^2, A = (e^2 - 1)/2; the rule is not exact for f^2, so its error is far above round-off
// on every rank count. Per axis the rule sums a geometric series: the norm is exactly
// S = h e^h (e^2 - 1)/(e^{2h} - 1). The error A^2 - S^2 is positive (f^2 is convex), below the
// midpoint bound h^2/24 (max f_xx + max f_yy) = h^2 e^4 / 3, and falls by 4 per halving of h.
TEST(FieldMpi, NormsOfASampledFunction) {
  const double e2 = std::exp(2.0), A = (e2 - 1) / 2;
  std::vector<double> errors;
  for (PetscInt n : {16, 32, 64}) {
    auto g = std::make_shared<const Grid>(PETSC_COMM_WORLD, GridSpec{.dim = 2, .cells = {n, n, 1}});
    Field f(g, "f");
    f.assign([](const Field::Point& x) { return std::exp(x[0] + x[1]); });
    const double h = 1.0 / n, S = h * std::exp(h) * (e2 - 1) / std::expm1(2 * h);
    EXPECT_NEAR(f.norm_l2(), S, 1e-13 * S) << n;
    const double error = A * A - f.norm_l2() * f.norm_l2();
    EXPECT_GT(error, 0.0) << n;
    EXPECT_LT(error, h * h * e2 * e2 / 3) << n;
    errors.push_back(error);
    EXPECT_NEAR(f.norm_max(), std::exp(2 - h), 1e-14 * e2) << n;  // the cell nearest (1, 1)
    EXPECT_TRUE(f.all_finite());
  }
  for (std::size_t r = 1; r < errors.size(); ++r)
    EXPECT_NEAR(std::log2(errors[r - 1] / errors[r]), 2.0, 0.01) << "refinement " << r;
}

TEST(FieldMpi, GhostsComeFromNeighboursAndWrapOnPeriodicAxes) {
  GridSpec s{.dim = 2, .cells = {12, 10, 1}, .periodic = {true, false, false}};
  auto g = std::make_shared<const Grid>(PETSC_COMM_WORLD, s);
  Field f(g, "id");
  {
    FieldWriteArray a(f);
    for_each_cell(g->owned(), [&](PetscInt i, PetscInt j, PetscInt k) { a(i, j, k) = 100.0 * j + i; });
  }
  GhostedFieldArray ga(f);
  const IndexBox& gb = g->ghosted();
  for (PetscInt j = g->owned().begin[1]; j < g->owned().end[1]; ++j) {
    for (PetscInt i = gb.begin[0]; i < gb.end[0]; ++i) {
      const PetscInt wrapped = (i + 12) % 12;
      EXPECT_EQ(ga(i, j), 100.0 * j + wrapped) << i << "," << j;
    }
  }
}

TEST(Field, CopiesAreDeepAndNonFiniteIsDetected) {
  auto g = std::make_shared<const Grid>(PETSC_COMM_SELF, GridSpec{.dim = 2, .cells = {4, 4, 1}});
  Field a(g, "a", 2);
  a.fill(1.0);
  Field b = a;
  b.fill(2.0);
  EXPECT_EQ(a.norm_max(), 1.0);
  EXPECT_EQ(b.components(), 2);
  {
    FieldWriteArray w(b);
    w(1, 2, 0, 1) = std::nan("");
  }
  EXPECT_FALSE(b.all_finite());
  EXPECT_TRUE(a.all_finite());
}

TEST(SolidMaskMpi, ShapesMarkCellsWhoseCentreIsInside) {
  auto g = std::make_shared<const Grid>(PETSC_COMM_WORLD, GridSpec{.dim = 2, .cells = {200, 200, 1}});
  SolidMask m(g);
  m.add(SphereShape{{0.5, 0.5, 0}, 0.25});
  EXPECT_NEAR(m.solid_cells() * g->cell_volume(), std::numbers::pi * 0.0625, 2e-3);
  m.add(BoxShape{{0.0, 0.0, 0}, {0.1, 0.2, 0}});  // 20 x 40 cells
  EXPECT_NEAR(m.solid_cells() * g->cell_volume(), std::numbers::pi * 0.0625 + 0.02, 2e-3);
  auto g3 = std::make_shared<const Grid>(PETSC_COMM_WORLD, GridSpec{.dim = 3, .cells = {40, 40, 40}});
  SolidMask c(g3);
  c.add(CylinderShape{{0.5, 0.5, 0.0}, 0.3, 2, 0.25, 0.75});
  EXPECT_NEAR(c.solid_cells() * g3->cell_volume(), std::numbers::pi * 0.09 * 0.5, 3e-3);
}

TEST(BoundaryConditions, PeriodicMustPairAndMatchTheGrid) {
  Grid g(PETSC_COMM_SELF, GridSpec{.dim = 2, .cells = {4, 4, 1}, .periodic = {true, false, false}});
  BoundaryConditions bc = BoundaryConditions::uniform(BcType::Dirichlet);
  EXPECT_THROW(bc.check_against(g), Error);  // grid periodic in x, conditions not
  bc[Face::XLower].type = BcType::Periodic;
  EXPECT_THROW(bc.check_against(g), ConfigError);  // only one side periodic
  bc[Face::XUpper].type = BcType::Periodic;
  EXPECT_NO_THROW(bc.check_against(g));
  EXPECT_FALSE(bc.determines_no_constant(2));
}

}  // namespace
}  // namespace fluxion
