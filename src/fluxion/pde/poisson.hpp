// The variable-coefficient Poisson problem -div(k grad u) + c u = f with obstacles.
#pragma once

#include <memory>

#include "fluxion/core/boundary.hpp"
#include "fluxion/core/expression.hpp"
#include "fluxion/core/field.hpp"
#include "fluxion/core/solid_mask.hpp"
#include "fluxion/linalg/linear_solver.hpp"
#include "fluxion/linalg/stencil_operator.hpp"

namespace fluxion {

/// The data of a Poisson problem: coefficients and source as expressions of x, y, z
/// (k > 0, c >= 0), and the boundary conditions of every face.
struct PoissonSpec {
  Expression k = Expression::constant(1.0);
  Expression c = Expression::constant(0.0);
  Expression source = Expression::constant(0.0);
  BoundaryConditions boundary;
};

/// Discrete errors against an exact solution, over the fluid cells.
struct ErrorNorms {
  double l2 = 0.0;   // sqrt(sum e^2 |cell|)
  double max = 0.0;  // max |e|
};

/// Error of u against `exact` at time t, at the cell centres of fluid cells (all cells when
/// `solid` is null). With remove_mean, the mean difference is removed first (for solutions
/// fixed only up to a constant).
ErrorNorms error_norms(const Field& u, const Expression& exact, double t, const SolidMask* solid,
                       bool remove_mean = false);

/// Builds the operator and the right-hand side; solve() fills solution() with any LinearSolver.
class PoissonProblem {
 public:
  PoissonProblem(std::shared_ptr<const Grid> grid, PoissonSpec spec, std::shared_ptr<const SolidMask> solid = nullptr);

  const Grid& grid() const { return *grid_; }
  const StencilOperator& op() const { return *op_; }
  const Field& rhs() const { return rhs_; }
  const Field& coefficient_k() const { return k_; }
  Field& solution() { return u_; }
  const Field& solution() const { return u_; }

  [[nodiscard]] SolveReport solve(LinearSolver& solver);

  /// Error of solution() against `exact` at the cell centres of fluid cells. For a singular
  /// problem (solution fixed up to a constant) the mean difference is removed first.
  ErrorNorms error(const Expression& exact) const;

 private:
  std::shared_ptr<const Grid> grid_;
  PoissonSpec spec_;
  std::shared_ptr<const SolidMask> solid_;
  Field k_, c_, rhs_, u_;
  std::unique_ptr<StencilOperator> op_;
};

/// The cell-centre values of an expression (at time t) as a field.
Field sample(std::shared_ptr<const Grid> grid, const std::string& name, const Expression& e, double t = 0.0);

}  // namespace fluxion
