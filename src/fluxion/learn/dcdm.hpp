// DCDM in PETSc: the KSP type "dcdm" (the deep conjugate direction method of Kaneda et al., ICML
// 2023) and the PC type "dcdm" (the same network as a nonlinear preconditioner for FCG/FGMRES).
#pragma once

#include <petscksp.h>

namespace fluxion::learn {

/// Registers KSP "dcdm" and PC "dcdm" with PETSc (idempotent; after PetscInitialize). A PETSc
/// program that does not call it can load them with -dll_append <path>/libfluxion_learn.so.
///
/// KSP dcdm options: -ksp_dcdm_model FILE (required), -ksp_dcdm_fallback_cg (a non-finite
/// network output stops the solve with KSP_DIVERGED_NANORINF; with this option it continues with
/// the residual as the direction: conjugate gradients), -ksp_dcdm_threads N. The KSP takes no preconditioner
/// (pc none). PC dcdm options: -pc_dcdm_model FILE, -pc_dcdm_threads N.
/// The grid comes from the operator (a fluxion StencilOperator's Mat) or the KSP's DMDA.
void register_dcdm_petsc_types();

/// The model file of a KSP of type dcdm / PC of type dcdm (no effect on other types).
PetscErrorCode KSPDCDMSetModel(KSP ksp, const char* file);
PetscErrorCode PCDCDMSetModel(PC pc, const char* file);
/// -ksp_dcdm_fallback_cg: on a non-finite network output, continue with CG's direction.
PetscErrorCode KSPDCDMSetFallbackCG(KSP ksp, PetscBool fallback);

/// What the network of a dcdm KSP or PC did since it was created: applications, seconds (network
/// and gathers), and the times its output was not finite. Zeros for other types.
PetscErrorCode KSPDCDMGetNetworkStatistics(KSP ksp, long* applications, double* seconds, long* non_finite);

}  // namespace fluxion::learn

/// PETSc's dynamic-library hook: -dll_append libfluxion_learn.so registers the types above.
extern "C" PetscErrorCode PetscDLLibraryRegister_fluxion_learn(void);
