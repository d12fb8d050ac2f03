// CosineRandomField (FFTW DCT-III), DarcyProblem and average_cells.
#include "fluxion/pde/darcy.hpp"

#include <fftw3.h>

#include <cmath>
#include <numbers>
#include <string>

#include "fluxion/core/error.hpp"
#include "fluxion/pde/poisson.hpp"
#include "fluxion/pde/random_draws.hpp"

namespace fluxion {

struct CosineRandomField::Transform {
  double* data = nullptr;
  fftw_plan plan = nullptr;
  ~Transform() {
    if (plan) fftw_destroy_plan(plan);
    if (data) fftw_free(data);
  }
};

CosineRandomField::CosineRandomField(long nx, long ny, double alpha, double tau)
    : nx_(nx), ny_(ny), alpha_(alpha), tau_(tau), transform_(std::make_unique<Transform>()) {
  if (nx < 1 || ny < 1) throw Error("CosineRandomField: " + std::to_string(nx) + " x " + std::to_string(ny) + " cells");
  // FFTW's REDFT01 gives Y_i = X_0 + 2 sum_{k >= 1} X_k cos(pi k (i + 1/2) / n) per axis, and phi_k has
  // sqrt 2 per nonzero index: X_k = sigma_k xi_k / sqrt 2 per nonzero index.
  amplitude_.resize(static_cast<std::size_t>(nx * ny));
  for (long k2 = 0; k2 < ny; ++k2)
    for (long k1 = 0; k1 < nx; ++k1)
      amplitude_[k2 * nx + k1] = mode_std(k1, k2) / std::pow(std::numbers::sqrt2, (k1 > 0) + (k2 > 0));
  transform_->data = fftw_alloc_real(static_cast<std::size_t>(nx * ny));
  // FFTW_ESTIMATE: no timing in the plan choice, so a seed gives the same bits on every run.
  transform_->plan = fftw_plan_r2r_2d(static_cast<int>(ny), static_cast<int>(nx), transform_->data, transform_->data,
                                      FFTW_REDFT01, FFTW_REDFT01, FFTW_ESTIMATE);
  if (!transform_->data || !transform_->plan) throw Error("CosineRandomField: FFTW could not plan the DCT");
}

CosineRandomField::~CosineRandomField() = default;

double CosineRandomField::mode_std(long k1, long k2) const {
  if (k1 == 0 && k2 == 0) return 0.0;
  const double eigenvalue = std::numbers::pi * std::numbers::pi * double(k1 * k1 + k2 * k2);
  return std::pow(tau_, alpha_ - 1.0) * std::pow(eigenvalue + tau_ * tau_, -alpha_ / 2.0);
}

std::vector<double> CosineRandomField::operator()(std::uint64_t seed) {
  double* x = transform_->data;
  for (long k2 = 0; k2 < ny_; ++k2)
    for (long k1 = 0; k1 < nx_; ++k1) x[k2 * nx_ + k1] = amplitude_[k2 * nx_ + k1] * keyed_gaussian(seed, k1, k2).real();
  fftw_execute(transform_->plan);
  return std::vector<double>(x, x + nx_ * ny_);
}

namespace {

const std::shared_ptr<const Grid>& unit_square(const std::shared_ptr<const Grid>& grid) {
  const Grid& g = *grid;
  bool ok = g.dim() == 2;
  for (int a = 0; a < 2 && ok; ++a) ok = g.lower(a) == 0.0 && g.upper(a) == 1.0 && !g.periodic(a);
  if (!ok) throw Error("DarcyProblem: the grid is " + g.describe() + "; expected the unit square [0, 1]^2, not periodic");
  return grid;
}

}  // namespace

DarcyProblem::DarcyProblem(std::shared_ptr<const Grid> grid, DarcySpec spec)
    : grid_(unit_square(grid)), spec_(spec), psi_(grid_->cells(0), grid_->cells(1), spec.alpha, spec.tau) {}

DarcyProblem::~DarcyProblem() = default;

Field DarcyProblem::coefficient(std::uint64_t seed) {
  const std::vector<double> psi = psi_(seed);
  Field a(grid_, "a");
  FieldWriteArray v(a);
  const PetscInt nx = grid_->cells(0);
  for_each_cell(grid_->owned(), [&](PetscInt i, PetscInt j, PetscInt) {
    v(i, j) = psi[j * nx + i] >= 0.0 ? spec_.a_plus : spec_.a_minus;
  });
  return a;
}

DarcySample DarcyProblem::sample(std::uint64_t seed, LinearSolver& solver) {
  Field a = coefficient(seed);
  PoissonSpec spec;  // the boundary conditions default to u = 0 on every face
  spec.source = Expression::constant(spec_.source);
  problem_ = std::make_unique<PoissonProblem>(grid_, a, std::move(spec));  // kept: the solver holds its operator
  const SolveReport report = problem_->solve(solver);
  Field u = problem_->solution();
  return {std::move(a), std::move(u), report};
}

std::vector<double> average_cells(const std::vector<double>& fine, long nx, long ny, long cnx, long cny) {
  if (cnx < 1 || cny < 1 || nx % cnx != 0 || ny % cny != 0 || fine.size() != static_cast<std::size_t>(nx * ny))
    throw Error("average_cells: " + std::to_string(fine.size()) + " values of " + std::to_string(nx) + " x " +
                std::to_string(ny) + " cells onto " + std::to_string(cnx) + " x " + std::to_string(cny) +
                "; expected nx * ny values and coarse counts that divide the fine ones");
  const long bx = nx / cnx, by = ny / cny;
  std::vector<double> coarse(static_cast<std::size_t>(cnx * cny), 0.0);
  for (long j = 0; j < ny; ++j)
    for (long i = 0; i < nx; ++i) coarse[(j / by) * cnx + i / bx] += fine[j * nx + i];
  for (double& c : coarse) c /= double(bx * by);
  return coarse;
}

}  // namespace fluxion
