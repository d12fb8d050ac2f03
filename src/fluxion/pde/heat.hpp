// The heat equation du/dt = div(kappa(t) k(x) grad u) + f(x, t) advanced by the theta-method.
#pragma once

#include <memory>
#include <string>

#include "fluxion/core/boundary.hpp"
#include "fluxion/core/expression.hpp"
#include "fluxion/core/field.hpp"
#include "fluxion/core/solid_mask.hpp"
#include "fluxion/linalg/linear_solver.hpp"
#include "fluxion/linalg/stencil_operator.hpp"
#include "fluxion/pde/poisson.hpp"  // ErrorNorms, sample()

namespace fluxion {

/// backward_euler: theta = 1 (first order, L-stable); crank_nicolson: theta = 1/2 (second order).
enum class TimeScheme { BackwardEuler, CrankNicolson };

double theta_of(TimeScheme scheme);
/// "backward_euler" / "crank_nicolson", the config spelling; parse_time_scheme throws Error otherwise.
std::string to_string(TimeScheme scheme);
TimeScheme parse_time_scheme(const std::string& name);

/// The data of a heat problem. Boundary values may depend on t. Dirichlet values are u; a Neumann
/// value is the outward flux k du/dn *per unit kappa*, as for the StencilOperator (the physical
/// flux through the face is kappa(t) times it), so one BoundaryConditions serves both problems.
struct HeatSpec {
  Expression k = Expression::constant(1.0);        // k(x, y, z) >= 0 (0: no diffusion there)
  Expression kappa = Expression::constant(1.0);    // kappa(t) >= 0 (only t is used; 0 stops diffusion)
  Expression source = Expression::constant(0.0);   // f(x, y, z, t)
  Expression initial = Expression::constant(0.0);  // u(x, y, z, t0)
  BoundaryConditions boundary;
  TimeScheme scheme = TimeScheme::CrankNicolson;
  double dt = 1e-3;  // > 0
  double t0 = 0.0;
};

/// What one time step did.
struct HeatStepReport {
  long step = 0;          // 1 for the first step
  double time = 0.0;      // t_{n+1}, the time of the new solution
  double kappa = 0.0;     // kappa(t_{n+1})
  double kappa_dt = 0.0;  // kappa(t_{n+1}) * dt, the context handed to the solver
  bool rebuilt = false;   // the step operator changed (kappa did) and the solver was told
  SolveReport solve;
};

/// Each step solves, with L = -div(k grad .) (the StencilOperator of k, c = 0) and B(t) its
/// boundary terms,
///   (I/dt + theta kappa_{n+1} L) u^{n+1} = u^n/dt - (1-theta) kappa_n (L u^n - B(t_n))
///                                          + theta kappa_{n+1} B(t_{n+1}) + theta f^{n+1} + (1-theta) f^n.
/// The step operator is a StencilOperator of k' = theta kappa k and c = 1/dt (harmonic face means
/// and Dirichlet face weights scale with k, so it equals I/dt + theta kappa L); when kappa(t_{n+1})
/// differs from the kappa it has, its conductivity is scaled in place and the solver told
/// (LinearSolver::operator_changed), which keeps a multigrid hierarchy.
/// Crank-Nicolson does not damp the stiffest modes (amplification -> -1): with dt kappa / h^2 >> 1
/// they linger, and dt-refinement studies on a fixed fine grid show reduced order (see heat_test.cpp).
class HeatProblem {
 public:
  /// Samples k, the initial condition and builds L. Throws NumericalError (see check_sampled: key
  /// and point) where k is not finite and >= 0, the initial condition or f(t0) not finite, or kappa(t0)
  /// not finite and >= 0, and Error unless dt is finite and > 0.
  HeatProblem(std::shared_ptr<const Grid> grid, HeatSpec spec, std::shared_ptr<const SolidMask> solid = nullptr);
  ~HeatProblem();
  HeatProblem(const HeatProblem&) = delete;
  HeatProblem& operator=(const HeatProblem&) = delete;

  const Grid& grid() const { return *grid_; }
  const HeatSpec& spec() const { return spec_; }
  double dt() const { return spec_.dt; }
  double theta() const { return theta_; }
  double time() const { return time_; }     // t_n of solution()
  long steps_taken() const { return step_; }
  double kappa(double t) const;             // kappa(t); NumericalError unless finite and >= 0

  const Field& solution() const { return u_; }
  Field& solution() { return u_; }
  const Field& coefficient_k() const { return k_; }
  const StencilOperator& laplacian() const { return *laplacian_; }
  /// The step operator of the last step (built on the first step; null before).
  const StencilOperator* step_operator() const { return step_op_.get(); }

  /// Advances u from t_n to t_{n+1} = t0 + (n+1) dt: hands the solver the step operator when it
  /// is new (or the solver is not the one of the last step), calls solver.set_context(kappa_{n+1} dt),
  /// and solves warm-started from u^n. A solve that does not converge is reported, not thrown
  /// (the caller decides); a non-finite right-hand side or result throws NumericalError and leaves
  /// u^n and time() as they were.
  [[nodiscard]] HeatStepReport step(LinearSolver& solver);

  /// Error of solution() against exact(x, y, z, time()) on fluid cells.
  ErrorNorms error(const Expression& exact) const;

 private:
  void boundary_terms(double t, Field& out) const;  // out = B(t)
  void source_terms(double t, Field& out) const;    // out = f(t)

  std::shared_ptr<const Grid> grid_;
  HeatSpec spec_;
  std::shared_ptr<const SolidMask> solid_;
  double theta_;
  bool boundary_time_independent_;
  Field k_, u_, next_, rhs_, work_;
  Field boundary_now_, source_now_;  // B(t_n), f(t_n), valid for now_time_
  Field boundary_next_, source_next_;
  double kappa_now_;                          // kappa(t_n)
  std::unique_ptr<StencilOperator> laplacian_;
  std::unique_ptr<StencilOperator> step_op_;
  double step_kappa_ = 0.0;                   // kappa the step operator was built with
  const LinearSolver* solver_seen_ = nullptr;  // the solver that holds step_op_
  double time_;
  long step_ = 0;
};

}  // namespace fluxion
