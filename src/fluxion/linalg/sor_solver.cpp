// SorSolver, SsorCgSolver and PetscSorSolver: the SOR-based LinearSolvers.
#include "fluxion/core/log.hpp"
#include "fluxion/linalg/sor_solver.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "fluxion/core/error.hpp"
#include "fluxion/linalg/stencil_operator.hpp"

namespace fluxion {

namespace {

void check_omega(const char* who, double omega) {
  if (!(omega > 0.0 && omega < 2.0))
    throw Error(std::string(who) + ": omega = " + std::to_string(omega) +
                " is outside (0, 2); SOR converges for SPD matrices only for 0 < omega < 2");
}

// Like PETSc's default dtol: a residual this much above the initial one means divergence (possible
// for lexicographic SOR under MPI with omega near 2: block-Jacobi SOR is not SOR).
constexpr double kDivergence = 1e5;

std::string cap_reason(int cap) { return "iteration cap " + std::to_string(cap) + " reached"; }

// Owns a Vec (destroyed on every exit path, exceptions included).
struct OwnedVec {
  Vec v = nullptr;
  explicit OwnedVec(Vec like) { FLUXION_PETSC_CHECK(VecDuplicate(like, &v)); }
  ~OwnedVec() { VecDestroy(&v); }
  OwnedVec(const OwnedVec&) = delete;
  OwnedVec& operator=(const OwnedVec&) = delete;
  operator Vec() const { return v; }
};

// v -= (v . n) n for the operator's normalised null vector n, when A is singular.
void remove_null_component(const StencilOperator& op, Vec v) {
  if (!op.singular()) return;
  PetscScalar dot;
  FLUXION_PETSC_CHECK(VecDot(v, op.null_vector(), &dot));
  FLUXION_PETSC_CHECK(VecAXPY(v, -dot, op.null_vector()));
}

double norm2(Vec v) {
  PetscReal n = 0.0;
  FLUXION_PETSC_CHECK(VecNorm(v, NORM_2, &n));
  return n;
}

double dot(Vec a, Vec b) {
  PetscScalar d = 0.0;
  FLUXION_PETSC_CHECK(VecDot(a, b, &d));
  return d;
}

void check_fields(const char* who, const StencilOperator* op, const Field& b, const Field& x) {
  if (!op) throw Error(std::string(who) + "::solve: set_operator() was not called");
  if (b.components() != 1 || x.components() != 1) throw Error(std::string(who) + "::solve: scalar fields only");
  if (&b.grid() != &op->grid() || &x.grid() != &op->grid())
    throw Error(std::string(who) + "::solve: b and x must live on the operator's grid");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SorSolver

SorSolver::SorSolver(SorSolverSettings settings) : settings_(settings) {
  check_omega("SorSolver", settings_.omega);
  if (settings_.check_every < 1) throw Error("SorSolver: check_every must be >= 1");
  if (settings_.max_iterations < 1) throw Error("SorSolver: max_iterations must be >= 1");
}

namespace {
const char* ordering_name(SorOrdering ordering) {
  switch (ordering) {
    case SorOrdering::Lexicographic: return "lexicographic";
    case SorOrdering::RedBlack: return "red-black";
    case SorOrdering::Auto: break;
  }
  return "auto";
}
}  // namespace

// The configured ordering, so that the name does not change when set_operator() resolves Auto:
// a tuner's state file records it and must reload before any operator exists.
std::string SorSolver::name() const { return std::string("sor ") + ordering_name(settings_.ordering); }

void SorSolver::set_omega(double omega) {
  check_omega("SorSolver", omega);
  settings_.omega = omega;
}

void SorSolver::set_operator(const StencilOperator& op) {
  op_ = &op;
  sweeper_ = std::make_unique<SorSweeper>(op);
}

SolveReport SorSolver::solve(const Field& b, Field& x) {
  check_fields("SorSolver", op_, b, x);
  const auto start = std::chrono::steady_clock::now();
  SolveReport report;
  report.solver = name();
  if (settings_.ordering == SorOrdering::Auto)
    report.solver += std::string(" (") + ordering_name(ordering_for(SorOrdering::Auto, op_->grid())) + ")";
  report.omega = settings_.omega;

  Vec rhs = b.vec();
  std::unique_ptr<OwnedVec> projected;
  if (op_->singular()) {  // only the part of b orthogonal to the null space can be matched
    projected = std::make_unique<OwnedVec>(b.vec());
    FLUXION_PETSC_CHECK(VecCopy(b.vec(), *projected));
    remove_null_component(*op_, *projected);
    rhs = *projected;
  }

  sweeper_->load(x);
  double r = sweeper_->residual_norm(rhs);
  report.initial_residual = r;
  const double target = settings_.rtol * r;
  int it = 0;
  if (r == 0.0) {
    report.converged = true;
    report.reason = "initial residual is zero";
  }
  while (!report.converged && it < settings_.max_iterations) {
    const int n = std::min(settings_.check_every, settings_.max_iterations - it);
    sweeper_->relax(rhs, settings_.omega, settings_.ordering, SweepDirection::Forward, n);
    it += n;
    r = sweeper_->residual_norm(rhs);
    if (!std::isfinite(r)) {
      report.reason = "residual is NaN or infinite";
      break;
    }
    if (r <= target) {
      report.converged = true;
      report.reason = "relative residual below rtol";
    } else if (r > kDivergence * report.initial_residual) {
      report.reason = "residual grew past 1e5 x the initial one (diverged)";
      break;
    }
  }
  if (!report.converged && report.reason.empty()) report.reason = cap_reason(settings_.max_iterations);
  sweeper_->store(x);
  remove_null_component(*op_, x.vec());  // A n = 0: the residual is unchanged
  report.iterations = it;
  report.final_residual = r;
  report.seconds = seconds_since(start);
  return report;
}

// ---------------------------------------------------------------------------------------------
// SsorCgSolver

SsorCgSolver::SsorCgSolver(SsorCgSettings settings) : settings_(settings) {
  check_omega("SsorCgSolver", settings_.omega);
  if (settings_.max_iterations < 1) throw Error("SsorCgSolver: max_iterations must be >= 1");
}

void SsorCgSolver::set_omega(double omega) {
  check_omega("SsorCgSolver", omega);
  settings_.omega = omega;
}

void SsorCgSolver::set_operator(const StencilOperator& op) {
  op_ = &op;
  preconditioner_ = std::make_unique<SorSweeper>(op);
}

SolveReport SsorCgSolver::solve(const Field& b, Field& x) {
  check_fields("SsorCgSolver", op_, b, x);
  const auto start = std::chrono::steady_clock::now();
  SolveReport report;
  report.solver = name();
  report.omega = settings_.omega;
  const double omega = settings_.omega;

  OwnedVec rhs(b.vec()), r(b.vec()), z(b.vec()), p(b.vec()), q(b.vec());
  FLUXION_PETSC_CHECK(VecCopy(b.vec(), rhs));
  remove_null_component(*op_, rhs);  // compatibility condition of a singular A
  auto true_residual = [&](Vec out) {
    op_->apply(x.vec(), out);
    FLUXION_PETSC_CHECK(VecAYPX(out, -1.0, rhs));
    return norm2(out);
  };
  // z = M^-1 r: one symmetric sweep from zero.
  auto precondition = [&]() {
    preconditioner_->load_zero();
    preconditioner_->relax(r, omega, SorOrdering::Lexicographic, SweepDirection::Symmetric);
    preconditioner_->store(z);
  };

  double rn = true_residual(r);
  report.initial_residual = rn;
  const double target = settings_.rtol * rn;
  int it = 0;
  if (rn == 0.0) {
    report.converged = true;
    report.reason = "initial residual is zero";
  } else {
    precondition();
    FLUXION_PETSC_CHECK(VecCopy(z, p));
    double rz = dot(r, z);
    while (it < settings_.max_iterations) {
      op_->apply(p, q);
      const double pq = dot(p, q);
      if (!(pq > 0.0) || !(rz > 0.0)) {
        report.reason = std::isfinite(pq) && std::isfinite(rz) ? "matrix or preconditioner is not positive definite"
                                                               : "residual is NaN or infinite";
        break;
      }
      const double alpha = rz / pq;
      FLUXION_PETSC_CHECK(VecAXPY(x.vec(), alpha, p));
      FLUXION_PETSC_CHECK(VecAXPY(r, -alpha, q));
      ++it;
      rn = norm2(r);
      if (!std::isfinite(rn)) {
        report.reason = "residual is NaN or infinite";
        break;
      }
      bool restart = false;
      if (rn <= target) {
        // The recurrence may drift from b - A x: confirm, and go on from the true residual if not met,
        // restarting CG there (the old direction belongs to the drifted residual: keeping it let a
        // solve whose target lay at round-off level grow without bound).
        rn = true_residual(r);
        if (rn <= target) {
          report.converged = true;
          report.reason = "relative residual below rtol";
          break;
        }
        restart = true;
      }
      if (rn > kDivergence * report.initial_residual) {
        report.reason = "residual grew past 1e5 x the initial one (diverged)";
        break;
      }
      precondition();
      const double rz_next = dot(r, z);
      if (restart)
        FLUXION_PETSC_CHECK(VecCopy(z, p));
      else
        FLUXION_PETSC_CHECK(VecAYPX(p, rz_next / rz, z));
      rz = rz_next;
    }
    if (!report.converged && report.reason.empty()) report.reason = cap_reason(settings_.max_iterations);
  }
  remove_null_component(*op_, x.vec());
  report.iterations = it;
  report.final_residual = true_residual(q);
  report.seconds = seconds_since(start);
  return report;
}

// ---------------------------------------------------------------------------------------------
// PetscSorSolver

namespace {

PetscSolverSettings petsc_settings(const PetscSorSettings& s) {
  PetscSolverSettings p;
  p.ksp_type = s.method == PetscSorMethod::Richardson ? "richardson" : "cg";
  p.pc_type = "sor";
  p.rtol = s.rtol;
  p.max_iterations = s.max_iterations;
  p.prefix = s.prefix;
  return p;
}

}  // namespace

PetscSorSolver::PetscSorSolver(PetscSorSettings settings)
    : settings_(std::move(settings)), solver_(petsc_settings(settings_)) {
  check_omega("PetscSorSolver", settings_.omega);
  // Any monitor turns off Richardson's PCApplyRichardson fast path, which never tests rtol.
  solver_.set_monitor([](int, double) {});
}

void PetscSorSolver::set_omega(double omega) {
  check_omega("PetscSorSolver", omega);
  settings_.omega = omega;
}

void PetscSorSolver::set_operator(const StencilOperator& op) {
  solver_.set_operator(op);
  KSP ksp = solver_.ksp();
  PC pc;
  FLUXION_PETSC_CHECK(KSPGetPC(ksp, &pc));
  // Plain (global) sweeps exist only for one rank; in parallel PETSc sweeps each rank's block.
  const bool parallel = op.grid().ranks() > 1;
  const MatSORType type = settings_.method == PetscSorMethod::Richardson
                              ? (parallel ? SOR_LOCAL_FORWARD_SWEEP : SOR_FORWARD_SWEEP)
                              : (parallel ? SOR_LOCAL_SYMMETRIC_SWEEP : SOR_SYMMETRIC_SWEEP);
  FLUXION_PETSC_CHECK(PCSORSetSymmetric(pc, type));
  FLUXION_PETSC_CHECK(PCSORSetOmega(pc, settings_.omega));
  // The true residual for the test (Richardson's default is the preconditioned one).
  FLUXION_PETSC_CHECK(KSPSetNormType(ksp, KSP_NORM_UNPRECONDITIONED));
  FLUXION_PETSC_CHECK(KSPSetFromOptions(ksp));  // again: the options database still wins
}

SolveReport PetscSorSolver::solve(const Field& b, Field& x) {
  if (!solver_.ksp()) throw Error("PetscSorSolver::solve: set_operator() was not called");
  PC pc;
  FLUXION_PETSC_CHECK(KSPGetPC(solver_.ksp(), &pc));
  FLUXION_PETSC_CHECK(PCSORSetOmega(pc, settings_.omega));
  SolveReport report = solver_.solve(b, x);
  report.omega = settings_.omega;
  return report;
}

}  // namespace fluxion
