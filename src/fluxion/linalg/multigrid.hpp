// fluxion's geometric multigrid on the cell-centred grid hierarchy: a symmetric V-cycle, used as
// the preconditioner of CG (MGPCG: McAdams, Sifakis and Teran 2010), and registered with PETSc as
// the PC type "fluxion_mg".
#pragma once

#include <petscksp.h>

#include <memory>
#include <string>
#include <vector>

#include "fluxion/linalg/stencil_operator.hpp"

namespace fluxion {

/// How the hierarchy is built and cycled.
struct MultigridSettings {
  /// At most this many levels, the fine one included; 0: halve while every axis stays even and
  /// every rank keeps at least `coarsest_cells_per_rank` cells per axis.
  int max_levels = 0;
  PetscInt coarsest_cells_per_rank = 2;
  /// Red-black Gauss-Seidel sweeps before the coarse correction (forward: red, then black) and as
  /// many after it (backward: black, then red), so that the V-cycle is a symmetric operator.
  int smoothing_steps = 1;
  /// Prolongation: bilinear / trilinear from the 2^d nearest coarse cells (Linear), or piecewise
  /// constant from the parent (Constant). Restriction is its transpose over 2^d (a weighted
  /// average of the fine residual), so the V-cycle stays symmetric. Auto: Linear, unless the
  /// fine operator has coefficient jumps stronger than kStrongContrast (see coefficient_contrast):
  /// interpolating across such a jump misleads the correction (a 1 / 10^4 checkerboard, 16^3 to
  /// 64^3 cells, takes 112-563 CG iterations with linear transfers, 14-20 with constant ones;
  /// docs/benchmarks.md).
  enum class Prolongation { Auto, Linear, Constant };
  Prolongation prolongation = Prolongation::Auto;
};

/// Auto picks constant transfers above this contrast.
inline constexpr double kStrongContrast = 100.0;

/// The coarsest level is factored (LU on every rank) up to this many cells; above it (the grid
/// stopped halving early: odd cell counts) it gets kCoarsestSweeps symmetric SOR sweeps instead.
/// Measured here: LU of a 31^3 coarsest level took 3.9 s of setup, of 25^3 1.0 s.
inline constexpr PetscInt max_direct_cells(int dim) { return dim == 2 ? 65536 : 8192; }
inline constexpr int kCoarsestSweeps = 8;

/// The largest ratio between the two couplings of a fluid cell along one axis (both nonzero:
/// faces cut by obstacles or on the domain boundary do not count), over all ranks: 1 for constant
/// k, about 4 for k = 12 / 3, about 10^4 for a 1 / 10^4 checkerboard. Collective.
double coefficient_contrast(const StencilOperator& op);

/// The multigrid hierarchy of a StencilOperator: coarse grids by halving (Grid::coarsen), coarse
/// operators rediscretised from the fine weights (a coarse face couples with the mean of the fine
/// couplings on it over (H / h)^2, so obstacles and variable k carry down; a coarse cell is solid
/// when all its children are; Dirichlet domain faces keep their weight 2 k_b / H^2; reaction is
/// averaged over the children), red-black Gauss-Seidel smoothing, and a direct solve of the
/// coarsest level on every rank (LU; the pseudo-inverse by SVD when the operator is singular).
///
///     Multigrid mg(op);            // op must outlive mg
///     mg.vcycle(r, z);             // z = M^-1 r, one V-cycle from zero: symmetric, positive definite
///
/// vcycle() is collective over the grid's communicator.
class Multigrid {
 public:
  explicit Multigrid(const StencilOperator& fine, MultigridSettings settings = {});
  ~Multigrid();
  Multigrid(const Multigrid&) = delete;
  Multigrid& operator=(const Multigrid&) = delete;

  int levels() const { return static_cast<int>(levels_.size()); }
  /// Level 0 is the fine grid, levels() - 1 the coarsest.
  const StencilOperator& op(int level) const;
  const MultigridSettings& settings() const { return settings_; }
  /// The transfers in use (Auto resolved).
  bool linear_prolongation() const { return linear_; }
  /// "4 levels: 128 x 128, 64 x 64, 32 x 32, 16 x 16 (LU)"
  std::string describe() const;

  /// x = one V-cycle applied to b from a zero initial guess. b and x are Vecs of the fine grid's
  /// scalar layout and must differ.
  void vcycle(Vec b, Vec x) const;

  /// The fine operator changed its coefficients in place (StencilOperator::scale_conductivity):
  /// the coarse operators, smoothers and coarsest factorisation follow; grids, transfers and
  /// work vectors are kept.
  void update_coefficients();

 private:
  struct Level;
  void set_up_coarsest();
  void cycle(int level) const;
  void build_solid_fixes(int coarse);
  void restrict_residual(int fine) const;
  void prolong_add(int fine) const;

  MultigridSettings settings_;
  bool linear_ = true;
  bool coarsest_smoothed_ = false;  // coarsest level too large for a direct solve
  std::vector<std::unique_ptr<Level>> levels_;
  KSP coarse_ = nullptr;
};

/// Registers the PETSc preconditioner "fluxion_mg" (idempotent; PetscSolver calls it): a
/// V-cycle of Multigrid on the StencilOperator behind the preconditioning matrix (matrix() or
/// shell() of a StencilOperator; any other Mat is an error at PCSetUp). Options, with the PC's
/// prefix: -pc_fluxion_mg_levels N, -pc_fluxion_mg_smoothing_steps N,
/// -pc_fluxion_mg_prolongation auto|linear|constant.
void register_multigrid_pc();

}  // namespace fluxion
