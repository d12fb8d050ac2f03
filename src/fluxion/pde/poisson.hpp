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
/// (k > 0, c >= 0, all finite where sampled), and the boundary conditions of every face.
struct PoissonSpec {
  Expression k = Expression::constant(1.0);
  Expression c = Expression::constant(0.0);
  Expression source = Expression::constant(0.0);
  BoundaryConditions boundary;
};

/// Discrete errors against an exact solution, over the fluid cells; both NaN when any error is NaN.
struct ErrorNorms {
  double l2 = 0.0;   // sqrt(sum e^2 |cell|)
  double max = 0.0;  // max |e|
};

/// What a coefficient must be where it is sampled.
enum class Sign { Positive, NonNegative, Any };

/// Throws NumericalError unless every owned value of `f` (sampled from `e` at time t) is finite and
/// of the sign asked for. The message names e.where() (the config file, line and key), the symbol,
/// the first bad value and its cell centre (x, y[, z]), from the lowest rank that has one, so every
/// rank throws the same: "cfg.yaml:9: problem.k: k = 0 at (x, y) = (0.25, 0.75); k must be finite and > 0"
/// (NaN is written "NaN").
/// Collective.
void check_sampled(const Field& f, const Expression& e, const std::string& symbol, Sign sign, double t = 0.0,
                   bool name_time = false);

/// How far the data of a singular problem (all-Neumann/periodic, c = 0) are from compatible: the
/// solver projects the right-hand side (source plus boundary fluxes) onto the range by removing its
/// mean over the fluid cells. `relative` = |mean_removed| / mean |rhs| (0 for a zero rhs).
struct Compatibility {
  bool singular = false;
  double mean_removed = 0.0;
  double mean_abs = 0.0;
  double relative = 0.0;
  /// Above round-off: the data sum to something the solve silently drops (warn the user).
  static constexpr double kWarnAbove = 1e-8;
  bool significant() const { return singular && relative > kWarnAbove; }
};

/// Error of u against `exact` at time t, at the cell centres of fluid cells (all cells when
/// `solid` is null). With remove_mean, the mean difference is removed first (for solutions
/// fixed only up to a constant).
ErrorNorms error_norms(const Field& u, const Expression& exact, double t, const SolidMask* solid,
                       bool remove_mean = false);

/// Builds the operator and the right-hand side; solve() fills solution() with any LinearSolver.
class PoissonProblem {
 public:
  /// Samples k, c and f at the cell centres; throws NumericalError (see check_sampled) where k is not
  /// finite and > 0, c not finite and >= 0, or f not finite.
  PoissonProblem(std::shared_ptr<const Grid> grid, PoissonSpec spec, std::shared_ptr<const SolidMask> solid = nullptr);
  /// The same with k given by its cell values (a field on `grid`: measured, generated, or sampled
  /// elsewhere) instead of spec.k, which is not read; throws NumericalError where k is not finite and > 0.
  PoissonProblem(std::shared_ptr<const Grid> grid, Field k, PoissonSpec spec,
                 std::shared_ptr<const SolidMask> solid = nullptr);

  const Grid& grid() const { return *grid_; }
  const StencilOperator& op() const { return *op_; }
  const Field& rhs() const { return rhs_; }
  const Field& coefficient_k() const { return k_; }
  /// For a singular problem, what the solve will remove from the right-hand side.
  const Compatibility& compatibility() const { return compatibility_; }
  Field& solution() { return u_; }
  const Field& solution() const { return u_; }

  [[nodiscard]] SolveReport solve(LinearSolver& solver);

  /// Error of solution() against `exact` at the cell centres of fluid cells. For a singular
  /// problem (solution fixed up to a constant) the mean difference is removed first.
  ErrorNorms error(const Expression& exact) const;

 private:
  void build();  // checks c and f, builds the operator and the right-hand side
  void measure_compatibility();

  std::shared_ptr<const Grid> grid_;
  PoissonSpec spec_;
  std::shared_ptr<const SolidMask> solid_;
  Field k_, c_, rhs_, u_;
  std::unique_ptr<StencilOperator> op_;
  Compatibility compatibility_;
};

/// The cell-centre values of an expression (at time t) as a field.
Field sample(std::shared_ptr<const Grid> grid, const std::string& name, const Expression& e, double t = 0.0);

}  // namespace fluxion
