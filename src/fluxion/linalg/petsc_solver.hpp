// A LinearSolver on PETSc's KSP: any Krylov method and preconditioner, from settings or options.
#pragma once

#include <petscksp.h>

#include <functional>
#include <memory>
#include <string>

#include "fluxion/linalg/linear_solver.hpp"

namespace fluxion {

/// Settings of a PETSc solve. The options database (`petsc:` config section, command line)
/// is applied last, with `prefix`, so `-ksp_type gmres` on the command line wins.
struct PetscSolverSettings {
  std::string ksp_type = "cg";
  /// "fluxion_mg" (the default): fluxion's matrix-free multigrid V-cycle (multigrid.hpp; the
  /// operator is then applied matrix-free too; docs/benchmarks.md says why it is the default);
  /// "mg": PETSc's geometric multigrid on the grid's DMDA (coarse grids by halving, Galerkin
  /// coarse operators); or any PETSc PC: "gamg", "hypre", "sor", "icc", "jacobi", "none", ...
  /// A -pc_type in the options database (with `prefix`) replaces it.
  std::string pc_type = "fluxion_mg";
  double rtol = 1e-8;       // on the unpreconditioned residual norm where the KSP allows it
  double atol = 1e-50;
  int max_iterations = 10000;
  int mg_levels = 0;        // 0: as many as the grid halves into (coarsest >= 2 cells per rank and axis)
  bool matrix_free = false; // operator applied matrix-free (MATSHELL); the PC then needs no matrix (none, jacobi)
  std::string prefix;       // options prefix, e.g. "pressure_"
  /// Called with the KSP after its type and PC are set and before the options database is applied
  /// (KSPDCDMSetModel for ksp_type "dcdm"); may be empty.
  std::function<void(KSP)> configure;
};

class PetscSolver final : public LinearSolver {
 public:
  explicit PetscSolver(PetscSolverSettings settings = {});
  ~PetscSolver() override;
  PetscSolver(const PetscSolver&) = delete;
  PetscSolver& operator=(const PetscSolver&) = delete;

  std::string name() const override;
  void set_operator(const StencilOperator& op) override;
  /// The KSP keeps its preconditioner's structure: PCMG its interpolations (the Galerkin products
  /// are recomputed), fluxion_mg its grids and transfers; the next solve sets it up again.
  void operator_changed(const StencilOperator& op) override;
  [[nodiscard]] SolveReport solve(const Field& b, Field& x) override;

  /// Called after every iteration with the iteration number and the residual norm the KSP
  /// tests (for progress reports); set before set_operator().
  void set_monitor(std::function<void(int iteration, double residual_norm)> monitor) { monitor_ = std::move(monitor); }

  KSP ksp() const { return ksp_; }  // for callers who want to tune PETSc further
  const PetscSolverSettings& settings() const { return settings_; }

 private:
  void configure_multigrid(const StencilOperator& op);

  PetscSolverSettings settings_;
  KSP ksp_ = nullptr;
  const StencilOperator* op_ = nullptr;
  bool set_up_ = false;
  std::function<void(int, double)> monitor_;
};

/// The multigrid levels a grid supports: halvings while every axis stays even, the coarsest
/// grid keeps >= 2 cells per rank on each axis, and at most 8 levels.
int multigrid_levels(const Grid& grid);

}  // namespace fluxion
