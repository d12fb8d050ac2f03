// PetscSolver: KSP configured from settings, then from the options database; geometric multigrid
// on the DMDA for pc_type "mg".
#include "fluxion/core/log.hpp"
#include "fluxion/linalg/petsc_solver.hpp"

#include <petscdmda.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include "fluxion/core/error.hpp"
#include "fluxion/linalg/multigrid.hpp"
#include "fluxion/linalg/stencil_operator.hpp"

namespace fluxion {

namespace {

std::string reason_in_words(KSPConvergedReason reason, int max_iterations) {
  switch (reason) {
    case KSP_CONVERGED_RTOL: return "relative residual below rtol";
    case KSP_CONVERGED_ATOL: return "residual below atol";
    case KSP_CONVERGED_ITS: return "fixed iteration count done";
    case KSP_DIVERGED_ITS: return "iteration cap " + std::to_string(max_iterations) + " reached";
    case KSP_DIVERGED_DTOL: return "residual grew past dtol (diverged)";
    case KSP_DIVERGED_BREAKDOWN: return "Krylov breakdown";
    case KSP_DIVERGED_INDEFINITE_PC: return "preconditioner is indefinite";
    case KSP_DIVERGED_INDEFINITE_MAT: return "matrix is indefinite";
    case KSP_DIVERGED_NANORINF: return "residual is NaN or infinite";
    case KSP_DIVERGED_PC_FAILED: return "preconditioner setup failed";
    default: return std::string(KSPConvergedReasons[reason]);
  }
}

/// A global vector borrowed from the grid's DM for one solve: the DM keeps a few and hands the
/// same memory out again, so a sequence of solves (time steps) does not fault fresh pages in.
class BorrowedVec {
 public:
  explicit BorrowedVec(DM dm) : dm_(dm) { FLUXION_PETSC_CHECK(DMGetGlobalVector(dm_, &v_)); }
  ~BorrowedVec() { DMRestoreGlobalVector(dm_, &v_); }
  BorrowedVec(const BorrowedVec&) = delete;
  BorrowedVec& operator=(const BorrowedVec&) = delete;
  operator Vec() const { return v_; }

 private:
  DM dm_;
  Vec v_ = nullptr;
};

double residual_norm(const StencilOperator& op, Vec b, Vec x, Vec work) {
  op.apply(x, work);
  FLUXION_PETSC_CHECK(VecAYPX(work, -1.0, b));
  PetscReal n = 0.0;
  FLUXION_PETSC_CHECK(VecNorm(work, NORM_2, &n));
  return n;
}

PetscErrorCode call_monitor(KSP, PetscInt iteration, PetscReal norm, void* context) {
  (*static_cast<std::function<void(int, double)>*>(context))(static_cast<int>(iteration), norm);
  return 0;
}

}  // namespace

int multigrid_levels(const Grid& grid) {
  PetscInt procs[3] = {1, 1, 1};
  FLUXION_PETSC_CHECK(DMDAGetInfo(grid.dm(), nullptr, nullptr, nullptr, nullptr, &procs[0], &procs[1], &procs[2],
                                  nullptr, nullptr, nullptr, nullptr, nullptr, nullptr));
  int levels = 1;
  std::array<PetscInt, 3> n = {grid.cells(0), grid.cells(1), grid.cells(2)};
  while (levels < 8) {
    bool can_halve = true;
    for (int a = 0; a < grid.dim(); ++a)
      can_halve = can_halve && n[a] % 2 == 0 && n[a] / 2 >= 2 * procs[a] && (n[a] / 2) % procs[a] == 0;
    if (!can_halve) break;
    for (int a = 0; a < grid.dim(); ++a) n[a] /= 2;
    ++levels;
  }
  return levels;
}

PetscSolver::PetscSolver(PetscSolverSettings settings) : settings_(std::move(settings)) {}

PetscSolver::~PetscSolver() {
  if (ksp_) KSPDestroy(&ksp_);
}

std::string PetscSolver::name() const {
  if (!ksp_) return "petsc " + settings_.ksp_type + "+" + settings_.pc_type;
  KSPType kt;
  PCType pt;
  PC pc;
  KSPGetType(ksp_, &kt);
  KSPGetPC(ksp_, &pc);
  PCGetType(pc, &pt);
  return std::string("petsc ") + (kt ? kt : "?") + "+" + (pt ? pt : "?");
}

void PetscSolver::configure_multigrid(const StencilOperator& op) {
  const Grid& g = op.grid();
  PC pc;
  FLUXION_PETSC_CHECK(KSPGetPC(ksp_, &pc));
  FLUXION_PETSC_CHECK(PCSetType(pc, PCMG));
  const int levels = settings_.mg_levels > 0 ? settings_.mg_levels : multigrid_levels(g);
  FLUXION_PETSC_CHECK(PCMGSetLevels(pc, levels, nullptr));
  // The DMDA halves into the coarse grids and gives the cell-centred transfer operators; the
  // coarse operators are Galerkin products of ours, so obstacles and variable k carry down.
  // (The DM is not handed to the KSP: PCMG would then ask it for vertex-centred injections.)
  std::vector<DM> dms(levels, nullptr);
  dms[levels - 1] = g.dm();
  for (int l = levels - 1; l > 0; --l) FLUXION_PETSC_CHECK(DMCoarsen(dms[l], g.comm(), &dms[l - 1]));
  for (int l = 1; l < levels; ++l) {
    Mat interpolation;
    FLUXION_PETSC_CHECK(DMCreateInterpolation(dms[l - 1], dms[l], &interpolation, nullptr));
    FLUXION_PETSC_CHECK(PCMGSetInterpolation(pc, l, interpolation));
    FLUXION_PETSC_CHECK(MatDestroy(&interpolation));
  }
  for (int l = 0; l < levels - 1; ++l) FLUXION_PETSC_CHECK(DMDestroy(&dms[l]));
  FLUXION_PETSC_CHECK(PCMGSetGalerkin(pc, PC_MG_GALERKIN_BOTH));
  if (op.singular()) {
    // The coarse Galerkin operator inherits the constant null space: a plain LU would hit a zero pivot.
    KSP coarse;
    PC coarse_pc;
    FLUXION_PETSC_CHECK(PCMGGetCoarseSolve(pc, &coarse));
    FLUXION_PETSC_CHECK(KSPGetPC(coarse, &coarse_pc));
    FLUXION_PETSC_CHECK(PCSetType(coarse_pc, PCSVD));
  }
}

void PetscSolver::set_operator(const StencilOperator& op) {
  op_ = &op;
  set_up_ = false;
  const Grid& g = op.grid();
  if (ksp_) KSPDestroy(&ksp_);
  FLUXION_PETSC_CHECK(KSPCreate(g.comm(), &ksp_));
  if (!settings_.prefix.empty()) FLUXION_PETSC_CHECK(KSPSetOptionsPrefix(ksp_, settings_.prefix.c_str()));
  register_multigrid_pc();  // before KSPSetFromOptions, so that -pc_type fluxion_mg is known
  // The PC that will run: the options database's -pc_type (applied last) wins over the settings.
  char given[256] = "";
  PetscBool from_options = PETSC_FALSE;
  FLUXION_PETSC_CHECK(PetscOptionsGetString(nullptr, settings_.prefix.empty() ? nullptr : settings_.prefix.c_str(),
                                            "-pc_type", given, sizeof given, &from_options));
  const std::string pc_type = from_options ? std::string(given) : settings_.pc_type;
  // fluxion_mg reads the stencil itself: no matrix is assembled for it.
  Mat A = settings_.matrix_free || pc_type == "fluxion_mg" ? op.shell() : op.matrix();
  if (op.singular()) {
    Vec v = op.null_vector();
    MatNullSpace ns;
    FLUXION_PETSC_CHECK(MatNullSpaceCreate(g.comm(), PETSC_FALSE, 1, &v, &ns));
    FLUXION_PETSC_CHECK(MatSetNullSpace(A, ns));
    FLUXION_PETSC_CHECK(MatNullSpaceDestroy(&ns));
  }
  FLUXION_PETSC_CHECK(KSPSetOperators(ksp_, A, A));
  FLUXION_PETSC_CHECK(KSPSetType(ksp_, settings_.ksp_type.c_str()));
  if (pc_type == "mg" && !settings_.matrix_free) {
    configure_multigrid(op);
  } else {
    PC pc;
    FLUXION_PETSC_CHECK(KSPGetPC(ksp_, &pc));
    FLUXION_PETSC_CHECK(PCSetType(pc, settings_.pc_type.c_str()));
  }
  FLUXION_PETSC_CHECK(KSPSetTolerances(ksp_, settings_.rtol, settings_.atol, PETSC_DEFAULT, settings_.max_iterations));
  // rtol then means ||b - A x|| / ||b - A x0|| for CG, the quantity the report gives.
  // The same for DCDM and FCG (with a network as PC), so that rtol means one thing for all three.
  if (settings_.ksp_type == "cg" || settings_.ksp_type == "dcdm" || settings_.ksp_type == "fcg")
    FLUXION_PETSC_CHECK(KSPSetNormType(ksp_, KSP_NORM_UNPRECONDITIONED));
  FLUXION_PETSC_CHECK(KSPSetInitialGuessNonzero(ksp_, PETSC_TRUE));
  if (monitor_) FLUXION_PETSC_CHECK(KSPMonitorSet(ksp_, call_monitor, &monitor_, nullptr));
  if (settings_.configure) settings_.configure(ksp_);
  FLUXION_PETSC_CHECK(KSPSetFromOptions(ksp_));  // last: the options database wins
}

void PetscSolver::operator_changed(const StencilOperator& op) {
  if (&op != op_ || !ksp_) {
    set_operator(op);
    return;
  }
  Mat A, P;
  FLUXION_PETSC_CHECK(KSPGetOperators(ksp_, &A, &P));
  FLUXION_PETSC_CHECK(KSPSetOperators(ksp_, A, P));  // the Mats' states advanced: PCSetUp runs again
  set_up_ = false;
}

SolveReport PetscSolver::solve(const Field& b, Field& x) {
  if (!op_ || !ksp_) throw Error("PetscSolver::solve: set_operator() was not called");
  const auto start = std::chrono::steady_clock::now();
  SolveReport report;
  report.solver = name();

  Vec rhs = b.vec();
  const BorrowedVec work(op_->grid().dm());
  std::optional<BorrowedVec> projected;
  if (op_->singular()) {
    // Only the part of b orthogonal to the null space can be matched (compatibility condition).
    Vec v = op_->null_vector();
    projected.emplace(op_->grid().dm());
    FLUXION_PETSC_CHECK(VecCopy(b.vec(), *projected));
    PetscScalar dot;
    FLUXION_PETSC_CHECK(VecDot(*projected, v, &dot));
    FLUXION_PETSC_CHECK(VecAXPY(*projected, -dot, v));
    rhs = *projected;
  }
  report.initial_residual = residual_norm(*op_, rhs, x.vec(), work);

  if (!set_up_) {
    const auto setup_start = std::chrono::steady_clock::now();
    FLUXION_PETSC_CHECK(KSPSetUp(ksp_));
    report.setup_seconds = seconds_since(setup_start);
    set_up_ = true;
  }
  FLUXION_PETSC_CHECK(KSPSolve(ksp_, rhs, x.vec()));
  if (op_->singular()) {
    PetscScalar dot;
    FLUXION_PETSC_CHECK(VecDot(x.vec(), op_->null_vector(), &dot));
    FLUXION_PETSC_CHECK(VecAXPY(x.vec(), -dot, op_->null_vector()));
  }

  PetscInt iterations = 0;
  KSPConvergedReason reason;
  FLUXION_PETSC_CHECK(KSPGetIterationNumber(ksp_, &iterations));
  FLUXION_PETSC_CHECK(KSPGetConvergedReason(ksp_, &reason));
  PetscInt max_it = 0;
  FLUXION_PETSC_CHECK(KSPGetTolerances(ksp_, nullptr, nullptr, nullptr, &max_it));
  report.iterations = static_cast<int>(iterations);
  report.converged = reason > 0;
  report.reason = reason_in_words(reason, static_cast<int>(max_it));
  report.final_residual = residual_norm(*op_, rhs, x.vec(), work);
  if (report.initial_residual == 0.0) {
    report.converged = true;
    report.reason = "initial residual is zero";
  }
  report.solver = name();
  report.seconds = seconds_since(start);
  return report;
}

}  // namespace fluxion
