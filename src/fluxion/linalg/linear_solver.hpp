// The LinearSolver interface and the SolveReport every solve returns.
#pragma once

#include <string>

#include "fluxion/core/field.hpp"

namespace fluxion {

class StencilOperator;

/// What one solve did. Every solver returns one; it cannot be ignored ([[nodiscard]] on solve),
/// and a solve that stopped without meeting its tolerance says so here rather than throwing.
struct SolveReport {
  std::string solver;                // e.g. "petsc cg+mg"
  bool converged = false;
  std::string reason;                // in words: "relative residual below rtol", "iteration cap 1000 reached", ...
  int iterations = 0;
  double initial_residual = 0.0;     // ||b - A x0||_2
  double final_residual = 0.0;       // ||b - A x||_2, recomputed from the returned x
  double seconds = 0.0;              // wall time of the solve (setup included on the first solve)
  double setup_seconds = 0.0;        // of which preconditioner setup
  double omega = 0.0;                // relaxation factor used (SOR family), 0 when not applicable

  double relative_residual() const { return initial_residual > 0.0 ? final_residual / initial_residual : 0.0; }
  /// One line: "petsc cg+mg: converged in 12 iterations (relative residual below rtol), |r|/|r0| = 3.1e-09, 0.25 s"
  std::string summary() const;
};

/// Solves A x = b for a StencilOperator A. Set the operator, then call solve() as often as
/// needed (the operator may be set again between solves, e.g. when a coefficient changes).
class LinearSolver {
 public:
  virtual ~LinearSolver() = default;
  virtual std::string name() const = 0;
  /// The operator must outlive the solves that use it.
  virtual void set_operator(const StencilOperator& op) = 0;
  /// `op` changed its coefficients in place (StencilOperator::scale_conductivity). A solver that
  /// already has it keeps what does not depend on the coefficients (a multigrid hierarchy);
  /// otherwise, and by default, this is set_operator(op).
  virtual void operator_changed(const StencilOperator& op) { set_operator(op); }
  /// Solves with x as initial guess (when the solver uses one). For a singular operator the
  /// component of b along the null space is removed first and the solution has zero mean on
  /// the fluid cells.
  [[nodiscard]] virtual SolveReport solve(const Field& b, Field& x) = 0;
  /// A scalar describing the next system (e.g. kappa * dt of a heat step), for solvers that
  /// learn across a sequence of solves; others ignore it.
  virtual void set_context(double /*context*/) {}
};

/// A solver of the SOR family, whose relaxation factor omega in (0, 2) may change between
/// solves: what an omega tuner drives. set_omega() rejects values outside (0, 2) with an Error.
class RelaxationSolver : public LinearSolver {
 public:
  virtual void set_omega(double omega) = 0;
  virtual double omega() const = 0;
};

}  // namespace fluxion
