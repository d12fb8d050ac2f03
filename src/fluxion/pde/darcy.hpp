// The Darcy flow data of the FNO papers: the cosine-series Gaussian random field, the two-phase
// coefficient it thresholds into, one sample's solve, and cell averages onto a coarser grid.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "fluxion/core/field.hpp"
#include "fluxion/linalg/linear_solver.hpp"

namespace fluxion {

class PoissonProblem;

/// The Gaussian random field of Li et al.'s Darcy data (FNO, 2021; their GRF.m) on the unit square:
///   psi(x, y) = sum over k = (k1, k2), k1, k2 >= 0, k != 0, of sigma_k xi_k phi_k(x, y),
/// with phi_k the L2-orthonormal eigenfunctions of -Laplacian under Neumann conditions
/// (cos(pi k1 x) cos(pi k2 y), times sqrt 2 per nonzero index; eigenvalue pi^2 |k|^2),
///   sigma_k = tau^(alpha - 1) (pi^2 |k|^2 + tau^2)^(-alpha/2),
/// i.e. covariance tau^(2 alpha - 2) (-Laplacian + tau^2)^(-alpha) without its constant mode (mean
/// zero); alpha 2, tau 3 is 9 (-Laplacian + 9)^-2, the FNO setting. xi_k = Re keyed_gaussian(seed,
/// k1, k2): i.i.d. N(0, 1), the same for a mode on every grid that holds it.
/// Evaluated at the cell centres ((i + 1/2) / nx, (j + 1/2) / ny) of an nx x ny grid from the modes
/// k1 < nx, k2 < ny, by one FFTW DCT-III (REDFT01, the inverse of the DCT-II at those points).
class CosineRandomField {
 public:
  CosineRandomField(long nx, long ny, double alpha, double tau);
  ~CosineRandomField();
  CosineRandomField(const CosineRandomField&) = delete;
  CosineRandomField& operator=(const CosineRandomField&) = delete;

  /// sigma_k of mode (k1, k2) (0 for k = 0).
  double mode_std(long k1, long k2) const;
  /// psi of `seed` at the cell centres, (ny, nx) row-major (x fastest).
  std::vector<double> operator()(std::uint64_t seed);

 private:
  struct Transform;  // FFTW's plan and array (FFTW stays out of installed headers)
  long nx_, ny_;
  double alpha_, tau_;
  std::vector<double> amplitude_;  // per mode: sigma_k over what FFTW's REDFT01 multiplies it by
  std::unique_ptr<Transform> transform_;
};

/// Two-phase Darcy flow (Li et al. 2021): -div(a grad u) = source on the unit square, u = 0 on its
/// boundary, a = a_plus where psi >= 0 and a_minus elsewhere, psi a CosineRandomField(alpha, tau).
struct DarcySpec {
  double alpha = 2.0;
  double tau = 3.0;
  double a_plus = 12.0;
  double a_minus = 3.0;
  double source = 1.0;
};

/// One sample: the coefficient (field "a") and the solution (field "u").
struct DarcySample {
  Field a, u;
  SolveReport report;
};

/// Samples of the Darcy problem on a grid of the unit square, on any number of ranks (each rank
/// synthesises the whole random field, which costs little beside the solve, and keeps its cells).
/// The solve is a PoissonProblem with a as its coefficient field: harmonic means of a on interior
/// faces (the flux of a layered medium), StencilOperator's extrapolated a on the Dirichlet walls.
class DarcyProblem {
 public:
  /// Throws Error unless `grid` is the 2D unit square without periodic axes.
  DarcyProblem(std::shared_ptr<const Grid> grid, DarcySpec spec);
  ~DarcyProblem();

  const Grid& grid() const { return *grid_; }
  const CosineRandomField& random_field() const { return psi_; }
  /// a of sample `seed` at the cell centres.
  Field coefficient(std::uint64_t seed);
  /// a of sample `seed` and u solved with `solver` (the report says whether it converged).
  DarcySample sample(std::uint64_t seed, LinearSolver& solver);

 private:
  std::shared_ptr<const Grid> grid_;
  DarcySpec spec_;
  CosineRandomField psi_;
  std::unique_ptr<PoissonProblem> problem_;  // the last sample's: the solver keeps using its operator
};

/// The (cny, cnx) cell averages of `fine`, (ny, nx) cell values row-major, over blocks of
/// (nx / cnx) x (ny / cny) cells: the same box on a coarser grid; the mean is kept. Throws Error
/// unless cnx divides nx, cny divides ny and fine has nx * ny values.
std::vector<double> average_cells(const std::vector<double>& fine, long nx, long ny, long cnx, long cny);

}  // namespace fluxion
