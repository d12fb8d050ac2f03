// Poisson operators shared by the linalg tests.
#pragma once

#include <array>
#include <cmath>
#include <memory>

#include <gtest/gtest.h>

#include "fluxion/core/field.hpp"
#include "fluxion/core/grid.hpp"
#include "fluxion/linalg/stencil_operator.hpp"

namespace fluxion::test {

struct Problem {
  std::shared_ptr<const Grid> grid;
  std::unique_ptr<StencilOperator> op;
  std::unique_ptr<Field> b;  // right-hand side with the boundary terms added
};

/// The spherical obstacle of these problems: radius 0.25 around (0.6, 0.5, 0.5).
inline std::shared_ptr<SolidMask> sphere_obstacle(const std::shared_ptr<const Grid>& grid) {
  auto solid = std::make_shared<SolidMask>(grid);
  solid->add(SphereShape{{0.6, 0.5, 0.5}, 0.25});
  EXPECT_GT(solid->solid_cells(), 0);
  return solid;
}

/// The operator of k, c, bc and the obstacle on `grid`, with b = sin(3x) + y plus the boundary terms.
inline Problem problem_of(std::shared_ptr<const Grid> grid, const Field& k, const Field& c,
                          const BoundaryConditions& bc, std::shared_ptr<const SolidMask> solid) {
  Problem p;
  p.grid = std::move(grid);
  p.op = std::make_unique<StencilOperator>(p.grid, k, c, bc, std::move(solid));
  p.b = std::make_unique<Field>(p.grid, "b");
  p.b->assign([](const Field::Point& x) { return std::sin(3 * x[0]) + x[1]; });
  p.op->add_boundary_terms(*p.b);
  return p;
}

/// On [0, 2] x [0, 1] (x [0, 1]): variable k with a jump, a reaction term, a spherical obstacle,
/// and Dirichlet / Neumann / periodic (y, unless periodic_y is false) faces.
inline Problem mixed_problem(MPI_Comm comm, int dim, std::array<PetscInt, 3> cells, bool periodic_y = true) {
  GridSpec s{.dim = dim, .cells = cells, .lower = {0, 0, 0}, .upper = {2, 1, 1}, .periodic = {false, periodic_y, false}};
  auto grid = std::make_shared<const Grid>(comm, s);
  Field k(grid, "k"), c(grid, "c");
  k.assign([](const Field::Point& x) { return 1.0 + 0.5 * std::sin(3 * x[0]) + x[1] * x[1] + 4.0 * (x[0] > 1.2); });
  c.assign([](const Field::Point& x) { return 0.1 * x[0]; });
  BoundaryConditions bc;
  bc[Face::XLower] = {BcType::Dirichlet, Expression("y")};
  bc[Face::XUpper] = {BcType::Neumann, Expression("1")};
  if (periodic_y) {
    bc[Face::YLower] = bc[Face::YUpper] = {BcType::Periodic, {}};
  } else {
    bc[Face::YLower] = {BcType::Dirichlet, Expression("x")};
    bc[Face::YUpper] = {BcType::Neumann, Expression("0.5")};
  }
  bc[Face::ZLower] = {BcType::Neumann, Expression("0")};
  bc[Face::ZUpper] = {BcType::Dirichlet, Expression("1")};
  return problem_of(grid, k, c, bc, sphere_obstacle(grid));
}

}  // namespace fluxion::test
