// The KSP type "dcdm" and the PC type "dcdm": DCDM's iteration and the network as a preconditioner.
#include "fluxion/learn/dcdm.hpp"

#include <petsc/private/kspimpl.h>
#include <petsc/private/pcimpl.h>
#include <petscdmda.h>

#include <cmath>
#include <memory>
#include <string>

#include "fluxion/learn/direction_network.hpp"
#include "fluxion/linalg/stencil_operator.hpp"

namespace fluxion::learn {

namespace {

// Where the network finds the grid: the StencilOperator that made the Mat, or the KSP's DMDA.
struct GridOfOperator {
  DM dm = nullptr;
  const unsigned char* solid = nullptr;
};

PetscErrorCode find_grid(Mat A, DM fallback, GridOfOperator* out) {
  PetscFunctionBeginUser;
  if (const StencilOperator* op = StencilOperator::from_matrix(A)) {
    out->dm = op->grid().dm();
    out->solid = op->solid() ? op->solid_flags().data() : nullptr;
    PetscFunctionReturn(0);
  }
  PetscBool is_da = PETSC_FALSE;
  if (fallback) PetscCall(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(fallback), DMDA, &is_da));
  PetscCheck(is_da, PetscObjectComm(reinterpret_cast<PetscObject>(A)), PETSC_ERR_ARG_WRONG,
             "dcdm needs the grid of the system: an operator made by fluxion's StencilOperator, or a DMDA "
             "set on the KSP (KSPSetDM with KSPSetDMActive(ksp, PETSC_FALSE))");
  out->dm = fallback;
  PetscFunctionReturn(0);
}

// Options and the network, shared by the KSP and the PC.
struct NetworkSettings {
  std::string model;
  PetscInt threads = 0;
  std::unique_ptr<DirectionNetwork> network;

  PetscErrorCode load(MPI_Comm comm, const char* who) {
    PetscFunctionBeginUser;
    PetscCheck(!model.empty(), comm, PETSC_ERR_USER_INPUT,
               "%s: no model file; give -%s_dcdm_model FILE (or solver.model in a fluxion config)", who, who);
    if (network && network->file() == model) PetscFunctionReturn(0);
    try {
      network = std::make_unique<DirectionNetwork>(model, comm, static_cast<int>(threads));
    } catch (const std::exception& e) {
      SETERRQ(comm, PETSC_ERR_FILE_READ, "%s", e.what());
    }
    PetscFunctionReturn(0);
  }

  // -<who>_dcdm_model and -<who>_dcdm_threads (who: "ksp" or "pc"), inside the object's options block.
  PetscErrorCode read_options(PetscOptionItems* PetscOptionsObject, const std::string& who) {
    PetscFunctionBeginUser;
    char file[PETSC_MAX_PATH_LEN] = "";
    PetscBool set = PETSC_FALSE;
    const std::string model_option = "-" + who + "_dcdm_model", threads_option = "-" + who + "_dcdm_threads";
    PetscCall(PetscOptionsString(model_option.c_str(), "Model file of the network",
                                 who == "pc" ? "PCDCDMSetModel" : "KSPDCDMSetModel", model.c_str(),
                                 file, sizeof file, &set));
    if (set) model = file;
    PetscCall(PetscOptionsInt(threads_option.c_str(), "Threads of the network (0: cores / ranks)", "", threads, &threads,
                              nullptr));
    PetscFunctionReturn(0);
  }

  // out = network(in); *finite false when its output was not finite.
  PetscErrorCode apply(const GridOfOperator& g, Vec in, Vec out, bool* finite) {
    PetscFunctionBeginUser;
    try {
      *finite = network->apply(g.dm, g.solid, in, out);
    } catch (const std::exception& e) {
      SETERRQ(PetscObjectComm(reinterpret_cast<PetscObject>(in)), PETSC_ERR_LIB, "%s", e.what());
    }
    PetscFunctionReturn(0);
  }
};

// ---------------------------------------------------------------------------------------------
// KSP dcdm

struct KspDcdm {
  NetworkSettings net;
  PetscBool fallback_cg = PETSC_FALSE;
  long fallbacks = 0;
};

enum Work { kR, kQ, kP0, kP1, kAP0, kAP1, kWorkCount };

PetscErrorCode KSPSetUp_DCDM(KSP ksp) {
  PetscFunctionBeginUser;
  auto* d = static_cast<KspDcdm*>(ksp->data);
  PC pc;
  PetscBool none = PETSC_FALSE;
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(pc), PCNONE, &none));
  PetscCheck(none, PetscObjectComm(reinterpret_cast<PetscObject>(ksp)), PETSC_ERR_USER_INPUT,
             "KSP dcdm takes no preconditioner (the network gives the directions): use -pc_type none, or "
             "-ksp_type fcg -pc_type dcdm for the network as a preconditioner");
  PetscCall(KSPSetWorkVecs(ksp, kWorkCount));
  PetscCall(d->net.load(PetscObjectComm(reinterpret_cast<PetscObject>(ksp)), "ksp"));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPSolve_DCDM(KSP ksp) {
  PetscFunctionBeginUser;
  auto* d = static_cast<KspDcdm*>(ksp->data);
  Mat A;
  PetscCall(KSPGetOperators(ksp, &A, nullptr));
  GridOfOperator g;
  PetscCall(find_grid(A, ksp->dm, &g));
  MatNullSpace null_space = nullptr;
  PetscCall(MatGetNullSpace(A, &null_space));

  Vec x = ksp->vec_sol, b = ksp->vec_rhs;
  Vec r = ksp->work[kR], q = ksp->work[kQ];
  Vec p0 = ksp->work[kP0], p1 = ksp->work[kP1], ap0 = ksp->work[kAP0], ap1 = ksp->work[kAP1];
  PetscCall(VecSet(p0, 0.0));
  PetscCall(VecSet(p1, 0.0));
  PetscCall(VecSet(ap0, 0.0));
  PetscCall(VecSet(ap1, 0.0));
  PetscScalar a0 = 1.0, a1 = 1.0;  // p.Ap of the last two directions (the zero ones need no care)

  if (ksp->guess_zero) {
    PetscCall(VecSet(x, 0.0));
    PetscCall(VecCopy(b, r));
  } else {
    PetscCall(KSP_MatMult(ksp, A, x, r));  // r = b - A x
    PetscCall(VecAYPX(r, -1.0, b));
  }
  PetscReal rnorm = 0.0;
  PetscCall(VecNorm(r, NORM_2, &rnorm));
  ksp->its = 0;
  ksp->rnorm = rnorm;
  PetscCall(KSPLogResidualHistory(ksp, rnorm));
  PetscCall(KSPMonitor(ksp, 0, rnorm));
  PetscCall((*ksp->converged)(ksp, 0, rnorm, &ksp->reason, ksp->cnvP));
  if (ksp->reason) PetscFunctionReturn(0);

  for (PetscInt i = 1; i <= ksp->max_it; ++i) {
    // The network sees the unit-norm residual; its output is a search direction.
    bool finite = true;
    PetscCall(d->net.apply(g, r, q, &finite));
    if (!finite) {
      if (!d->fallback_cg) {
        ksp->reason = KSP_DIVERGED_NANORINF;
        PetscCall(PetscInfo(ksp, "the network's direction was not finite at iteration %" PetscInt_FMT "\n", i));
        break;
      }
      // The residual, A-orthogonalised against the last two directions, is CG's direction.
      ++d->fallbacks;
      PetscCall(VecCopy(r, q));
    }
    if (null_space) PetscCall(MatNullSpaceRemove(null_space, q));
    // A-orthogonalise against the last two directions.
    PetscScalar dots[2];
    Vec aps[2] = {ap1, ap0};
    PetscCall(VecMDot(q, 2, aps, dots));
    PetscScalar coefficients[2] = {-dots[0] / a1, -dots[1] / a0};
    Vec ps[2] = {p1, p0};
    PetscCall(VecMAXPY(q, 2, coefficients, ps));
    // Shift: (p0, Ap0) <- (p1, Ap1), (p1, Ap1) <- (q, Aq).
    std::swap(p0, p1);
    std::swap(ap0, ap1);
    std::swap(p1, q);
    a0 = a1;
    PetscCall(KSP_MatMult(ksp, A, p1, ap1));
    PetscScalar pr = 0.0;
    PetscCall(VecDot(p1, ap1, &a1));
    PetscCall(VecDot(p1, r, &pr));
    if (!(std::isfinite(PetscRealPart(a1)) && std::isfinite(PetscRealPart(pr)))) {
      ksp->reason = KSP_DIVERGED_NANORINF;
      break;
    }
    if (PetscRealPart(a1) <= 0.0) {
      // A direction with p.Ap <= 0: zero (the network returned a multiple of the previous
      // directions) or the operator is not positive definite on it.
      ksp->reason = KSP_DIVERGED_BREAKDOWN;
      PetscCall(PetscInfo(ksp, "direction with p.Ap = %g at iteration %" PetscInt_FMT "\n",
                          static_cast<double>(PetscRealPart(a1)), i));
      break;
    }
    PetscCall(VecAXPY(x, pr / a1, p1));
    PetscCall(KSP_MatMult(ksp, A, x, r));  // the true residual each step, as the authors do
    PetscCall(VecAYPX(r, -1.0, b));
    PetscCall(VecNorm(r, NORM_2, &rnorm));
    ksp->its = i;
    ksp->rnorm = rnorm;
    PetscCall(KSPLogResidualHistory(ksp, rnorm));
    PetscCall(KSPMonitor(ksp, i, rnorm));
    PetscCall((*ksp->converged)(ksp, i, rnorm, &ksp->reason, ksp->cnvP));
    if (ksp->reason) break;
  }
  if (!ksp->reason) ksp->reason = KSP_DIVERGED_ITS;
  PetscFunctionReturn(0);
}

PetscErrorCode KSPSetFromOptions_DCDM(KSP ksp, PetscOptionItems* PetscOptionsObject) {
  PetscFunctionBeginUser;
  auto* d = static_cast<KspDcdm*>(ksp->data);
  PetscOptionsHeadBegin(PetscOptionsObject, "KSP dcdm options");
  PetscCall(d->net.read_options(PetscOptionsObject, "ksp"));
  PetscCall(PetscOptionsBool("-ksp_dcdm_fallback_cg", "Continue with CG's direction when the network's is not finite",
                             "", d->fallback_cg, &d->fallback_cg, nullptr));
  PetscOptionsHeadEnd();
  PetscFunctionReturn(0);
}

PetscErrorCode KSPView_DCDM(KSP ksp, PetscViewer viewer) {
  PetscFunctionBeginUser;
  auto* d = static_cast<KspDcdm*>(ksp->data);
  PetscBool ascii = PETSC_FALSE;
  PetscCall(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(viewer), PETSCVIEWERASCII, &ascii));
  if (ascii) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "  model: %s (%s)\n", d->net.model.c_str(),
                                     d->net.network ? d->net.network->describe().c_str() : "not loaded"));
    PetscCall(PetscViewerASCIIPrintf(viewer, "  non-finite network output: %s\n",
                                     d->fallback_cg ? "continue with CG's direction" : "stop"));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode KSPDCDMSetModel_DCDM(KSP ksp, const char* file) {
  PetscFunctionBeginUser;
  static_cast<KspDcdm*>(ksp->data)->net.model = file;
  PetscFunctionReturn(0);
}

PetscErrorCode KSPDCDMSetFallbackCG_DCDM(KSP ksp, PetscBool fallback) {
  PetscFunctionBeginUser;
  static_cast<KspDcdm*>(ksp->data)->fallback_cg = fallback;
  PetscFunctionReturn(0);
}

PetscErrorCode KSPDCDMGetNetworkStatistics_DCDM(KSP ksp, long* applications, double* seconds, long* non_finite) {
  PetscFunctionBeginUser;
  auto* d = static_cast<KspDcdm*>(ksp->data);
  const NetworkStatistics s = d->net.network ? d->net.network->statistics() : NetworkStatistics{};
  *applications = s.applications;
  *seconds = s.seconds;
  *non_finite = s.non_finite_outputs;
  PetscFunctionReturn(0);
}

PetscErrorCode KSPDestroy_DCDM(KSP ksp) {
  PetscFunctionBeginUser;
  delete static_cast<KspDcdm*>(ksp->data);
  ksp->data = nullptr;
  PetscCall(PetscObjectComposeFunction(reinterpret_cast<PetscObject>(ksp), "KSPDCDMSetModel_C", nullptr));
  PetscCall(PetscObjectComposeFunction(reinterpret_cast<PetscObject>(ksp), "KSPDCDMSetFallbackCG_C", nullptr));
  PetscCall(PetscObjectComposeFunction(reinterpret_cast<PetscObject>(ksp), "KSPDCDMGetNetworkStatistics_C", nullptr));
  PetscCall(KSPDestroyDefault(ksp));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPCreate_DCDM(KSP ksp) {
  PetscFunctionBeginUser;
  ksp->data = new KspDcdm;
  PetscCall(KSPSetSupportedNorm(ksp, KSP_NORM_UNPRECONDITIONED, PC_LEFT, 3));
  PetscCall(KSPSetSupportedNorm(ksp, KSP_NORM_NONE, PC_LEFT, 1));
  ksp->ops->setup = KSPSetUp_DCDM;
  ksp->ops->solve = KSPSolve_DCDM;
  ksp->ops->destroy = KSPDestroy_DCDM;
  ksp->ops->view = KSPView_DCDM;
  ksp->ops->setfromoptions = KSPSetFromOptions_DCDM;
  ksp->ops->buildsolution = KSPBuildSolutionDefault;
  ksp->ops->buildresidual = KSPBuildResidualDefault;
  PetscCall(PetscObjectComposeFunction(reinterpret_cast<PetscObject>(ksp), "KSPDCDMSetModel_C", KSPDCDMSetModel_DCDM));
  PetscCall(PetscObjectComposeFunction(reinterpret_cast<PetscObject>(ksp), "KSPDCDMSetFallbackCG_C",
                                       KSPDCDMSetFallbackCG_DCDM));
  PetscCall(PetscObjectComposeFunction(reinterpret_cast<PetscObject>(ksp), "KSPDCDMGetNetworkStatistics_C",
                                       KSPDCDMGetNetworkStatistics_DCDM));
  PetscFunctionReturn(0);
}

// ---------------------------------------------------------------------------------------------
// PC dcdm

struct PcDcdm {
  NetworkSettings net;
};

PetscErrorCode PCSetUp_DCDM(PC pc) {
  PetscFunctionBeginUser;
  PetscCall(static_cast<PcDcdm*>(pc->data)->net.load(PetscObjectComm(reinterpret_cast<PetscObject>(pc)), "pc"));
  PetscFunctionReturn(0);
}

PetscErrorCode PCApply_DCDM(PC pc, Vec x, Vec y) {
  PetscFunctionBeginUser;
  auto* d = static_cast<PcDcdm*>(pc->data);
  GridOfOperator g;
  PetscCall(find_grid(pc->pmat, pc->dm, &g));
  bool finite = true;
  PetscCall(d->net.apply(g, x, y, &finite));
  if (!finite) {
    PetscCall(PCSetFailedReason(pc, PC_SUBPC_ERROR));
    PetscCall(VecCopy(x, y));
    PetscCall(PetscInfo(pc, "the network's output was not finite\n"));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode PCSetFromOptions_DCDM(PC pc, PetscOptionItems* PetscOptionsObject) {
  PetscFunctionBeginUser;
  PetscOptionsHeadBegin(PetscOptionsObject, "PC dcdm options");
  PetscCall(static_cast<PcDcdm*>(pc->data)->net.read_options(PetscOptionsObject, "pc"));
  PetscOptionsHeadEnd();
  PetscFunctionReturn(0);
}

PetscErrorCode PCDCDMSetModel_DCDM(PC pc, const char* file) {
  PetscFunctionBeginUser;
  static_cast<PcDcdm*>(pc->data)->net.model = file;
  PetscFunctionReturn(0);
}

PetscErrorCode PCDestroy_DCDM(PC pc) {
  PetscFunctionBeginUser;
  delete static_cast<PcDcdm*>(pc->data);
  pc->data = nullptr;
  PetscCall(PetscObjectComposeFunction(reinterpret_cast<PetscObject>(pc), "PCDCDMSetModel_C", nullptr));
  PetscFunctionReturn(0);
}

PetscErrorCode PCCreate_DCDM(PC pc) {
  PetscFunctionBeginUser;
  pc->data = new PcDcdm;
  pc->ops->setup = PCSetUp_DCDM;
  pc->ops->apply = PCApply_DCDM;
  pc->ops->destroy = PCDestroy_DCDM;
  pc->ops->setfromoptions = PCSetFromOptions_DCDM;
  PetscCall(PetscObjectComposeFunction(reinterpret_cast<PetscObject>(pc), "PCDCDMSetModel_C", PCDCDMSetModel_DCDM));
  PetscFunctionReturn(0);
}

}  // namespace

void register_dcdm_petsc_types() {
  static bool registered = false;
  if (registered) return;
  KSPRegister("dcdm", KSPCreate_DCDM);
  PCRegister("dcdm", PCCreate_DCDM);
  registered = true;
}

PetscErrorCode KSPDCDMSetModel(KSP ksp, const char* file) {
  PetscFunctionBeginUser;
  PetscTryMethod(ksp, "KSPDCDMSetModel_C", (KSP, const char*), (ksp, file));
  PetscFunctionReturn(0);
}

PetscErrorCode PCDCDMSetModel(PC pc, const char* file) {
  PetscFunctionBeginUser;
  PetscTryMethod(pc, "PCDCDMSetModel_C", (PC, const char*), (pc, file));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPDCDMSetFallbackCG(KSP ksp, PetscBool fallback) {
  PetscFunctionBeginUser;
  PetscTryMethod(ksp, "KSPDCDMSetFallbackCG_C", (KSP, PetscBool), (ksp, fallback));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPDCDMGetNetworkStatistics(KSP ksp, long* applications, double* seconds, long* non_finite) {
  PetscFunctionBeginUser;
  *applications = 0;
  *seconds = 0.0;
  *non_finite = 0;
  PetscTryMethod(ksp, "KSPDCDMGetNetworkStatistics_C", (KSP, long*, double*, long*),
                 (ksp, applications, seconds, non_finite));
  PetscFunctionReturn(0);
}

}  // namespace fluxion::learn

extern "C" PetscErrorCode PetscDLLibraryRegister_fluxion_learn(void) {
  fluxion::learn::register_dcdm_petsc_types();
  return 0;
}
