// LinearSolvers built on SOR: standalone SOR (Richardson), SSOR-preconditioned CG, and the same
// two methods through PETSc (KSPRICHARDSON / KSPCG + PCSOR).
#pragma once

#include <memory>
#include <string>

#include "fluxion/linalg/linear_solver.hpp"
#include "fluxion/linalg/petsc_solver.hpp"
#include "fluxion/linalg/sor.hpp"

namespace fluxion {

/// Settings of SorSolver. Both solvers stop on the true relative residual
/// ||b - A x|| / ||b - A x0|| <= rtol (||b|| when x0 = 0); hitting max_iterations is reported as
/// non-convergence ("iteration cap N reached", iterations = N).
struct SorSolverSettings {
  SorOrdering ordering = SorOrdering::Auto;  // red-black on several ranks, lexicographic on one
  double omega = 1.5;        // in (0, 2); set_omega() changes it between solves
  double rtol = 1e-8;
  int max_iterations = 10000;
  int check_every = 1;       // test the residual every this many sweeps (a test costs about one sweep)
};

/// Standalone SOR: x <- x + M^-1 (b - A x), M = D / omega + L, one forward sweep per iteration
/// (lexicographic: block-Jacobi SOR across ranks, see SorOrdering; red-black: rank-independent;
/// auto, the default: red-black on several ranks).
/// The reported iteration count is the number of sweeps done when the test first passed.
class SorSolver final : public RelaxationSolver {
 public:
  explicit SorSolver(SorSolverSettings settings = {});

  /// "sor lexicographic", "sor red-black" or "sor auto": the configured ordering, stable across
  /// set_operator() (a tuner's state records it). Reports of an Auto solver name the ordering the
  /// operator's grid resolved it to: "sor auto (red-black)".
  std::string name() const override;
  void set_operator(const StencilOperator& op) override;
  [[nodiscard]] SolveReport solve(const Field& b, Field& x) override;

  /// Throws fluxion::Error unless 0 < omega < 2.
  void set_omega(double omega) override;
  double omega() const override { return settings_.omega; }
  const SorSolverSettings& settings() const { return settings_; }

 private:
  SorSolverSettings settings_;
  const StencilOperator* op_ = nullptr;
  std::unique_ptr<SorSweeper> sweeper_;
};

struct SsorCgSettings {
  double omega = 1.5;  // in (0, 2); set_omega() changes it between solves
  double rtol = 1e-8;
  int max_iterations = 10000;
};

/// Conjugate gradients preconditioned by one symmetric lexicographic SOR sweep (SSOR) from a zero
/// guess, which is a symmetric positive definite preconditioner for 0 < omega < 2 (under MPI,
/// block-Jacobi SSOR: each rank's block, no ghosts, still symmetric). Stops on the
/// unpreconditioned residual of CG's recurrence, confirmed by the true residual (when they
/// disagree, the true residual replaces the recurrence's and CG goes on).
class SsorCgSolver final : public RelaxationSolver {
 public:
  explicit SsorCgSolver(SsorCgSettings settings = {});

  std::string name() const override { return "ssor-cg"; }
  void set_operator(const StencilOperator& op) override;
  [[nodiscard]] SolveReport solve(const Field& b, Field& x) override;

  /// Throws fluxion::Error unless 0 < omega < 2.
  void set_omega(double omega) override;
  double omega() const override { return settings_.omega; }
  const SsorCgSettings& settings() const { return settings_; }

 private:
  SsorCgSettings settings_;
  const StencilOperator* op_ = nullptr;
  std::unique_ptr<SorSweeper> preconditioner_;
};

/// The same two methods run by PETSc on the assembled matrix, for comparison:
/// Richardson = KSPRICHARDSON + PCSOR forward sweeps (SOR_LOCAL_FORWARD_SWEEP on several ranks),
/// SsorCg = KSPCG + PCSOR symmetric sweeps, unpreconditioned norm. A no-op monitor is installed so
/// that Richardson does not take PCSOR's fast path, which ignores rtol and always does
/// max_iterations sweeps. The options database (with `prefix`) is applied last and wins.
enum class PetscSorMethod { Richardson, SsorCg };

struct PetscSorSettings {
  PetscSorMethod method = PetscSorMethod::Richardson;
  double omega = 1.5;
  double rtol = 1e-8;
  int max_iterations = 10000;
  std::string prefix;  // options prefix
};

class PetscSorSolver final : public RelaxationSolver {
 public:
  explicit PetscSorSolver(PetscSorSettings settings = {});

  std::string name() const override { return solver_.name(); }
  void set_operator(const StencilOperator& op) override;
  [[nodiscard]] SolveReport solve(const Field& b, Field& x) override;

  /// Throws fluxion::Error unless 0 < omega < 2; applied with PCSORSetOmega at the next solve.
  void set_omega(double omega) override;
  double omega() const override { return settings_.omega; }
  KSP ksp() const { return solver_.ksp(); }

 private:
  PetscSorSettings settings_;
  PetscSolver solver_;
};

}  // namespace fluxion
