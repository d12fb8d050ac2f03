// Darcy data verification: the cosine random field against its definition (a direct sum, and mode
// variances and pointwise variances over many samples), PoissonProblem with a coefficient field
// (second order for a smooth and a layered piecewise-constant a), the Darcy sample (the same on 1
// and N ranks), and averaging onto a coarser grid.
#include "fluxion/pde/darcy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <string>
#include <vector>

#include "../support/manufactured.hpp"
#include "fluxion/core/error.hpp"
#include "fluxion/linalg/petsc_solver.hpp"
#include "fluxion/pde/poisson.hpp"
#include "fluxion/pde/random_draws.hpp"

namespace fluxion {
namespace {

constexpr double kPi = std::numbers::pi;

// The definition, written out apart from the code under test.
double sigma(double alpha, double tau, long k1, long k2) {
  return std::pow(tau, alpha - 1.0) * std::pow(kPi * kPi * double(k1 * k1 + k2 * k2) + tau * tau, -alpha / 2.0);
}
// Orthonormal Neumann eigenfunction of one index at x.
double phi(long k, double x) { return k == 0 ? 1.0 : std::sqrt(2.0) * std::cos(kPi * double(k) * x); }

// The coefficient of mode (k1, k2) of cell values psi on an nx x ny grid: (1 / N) sum psi phi_k at the
// cell centres (the discrete cosines are orthonormal there).
double mode_coefficient(const std::vector<double>& psi, long nx, long ny, long k1, long k2) {
  double sum = 0.0;
  for (long j = 0; j < ny; ++j)
    for (long i = 0; i < nx; ++i) sum += psi[j * nx + i] * phi(k1, (i + 0.5) / nx) * phi(k2, (j + 0.5) / ny);
  return sum / double(nx * ny);
}

TEST(DarcyRandomField, IsTheCosineSeriesOfItsDefinition) {
  const long nx = 8, ny = 6;  // unequal, so that swapped axes show
  const double alpha = 2.0, tau = 3.0;
  const std::uint64_t seed = 5;
  CosineRandomField field(nx, ny, alpha, tau);
  const std::vector<double> psi = field(seed);
  ASSERT_EQ(psi.size(), std::size_t(nx * ny));
  double scale = 0.0;
  for (long j = 0; j < ny; ++j)
    for (long i = 0; i < nx; ++i) {
      const double x = (i + 0.5) / nx, y = (j + 0.5) / ny;
      double direct = 0.0;
      for (long k2 = 0; k2 < ny; ++k2)
        for (long k1 = 0; k1 < nx; ++k1)
          if (k1 || k2) direct += sigma(alpha, tau, k1, k2) * keyed_gaussian(seed, k1, k2).real() * phi(k1, x) * phi(k2, y);
      EXPECT_NEAR(psi[j * nx + i], direct, 1e-14) << "cell (" << i << ", " << j << ")";
      scale = std::max(scale, std::abs(direct));
    }
  EXPECT_GT(scale, 0.01);
  EXPECT_DOUBLE_EQ(field.mode_std(0, 0), 0.0);
  EXPECT_DOUBLE_EQ(field.mode_std(3, 1), sigma(alpha, tau, 3, 1));
  // FNO's setting: 9 (-Laplacian + 9)^-2, so sigma_(1,0) = 3 / (pi^2 + 9).
  EXPECT_NEAR(field.mode_std(1, 0), 3.0 / (kPi * kPi + 9.0), 1e-15);
}

TEST(DarcyRandomField, ModeAndPointVariancesMatchTheCovarianceAndTheMeanIsZero) {
  const long n = 16, samples = 2000, modes = 5;
  const double alpha = 2.0, tau = 3.0;
  CosineRandomField field(n, n, alpha, tau);
  std::vector<double> sum(modes * modes, 0.0), sum2(modes * modes, 0.0);
  double cross = 0.0, point2 = 0.0, max_mean = 0.0;
  const long pi = 3, pj = 11;  // a cell for the pointwise variance
  for (long m = 0; m < samples; ++m) {
    const std::vector<double> psi = field(derived_seed(7, static_cast<std::uint64_t>(m)));
    max_mean = std::max(max_mean, std::abs(mode_coefficient(psi, n, n, 0, 0)));
    for (long k2 = 0; k2 < modes; ++k2)
      for (long k1 = 0; k1 < modes; ++k1) {
        const double c = mode_coefficient(psi, n, n, k1, k2);
        sum[k2 * modes + k1] += c;
        sum2[k2 * modes + k1] += c * c;
      }
    cross += mode_coefficient(psi, n, n, 1, 0) * mode_coefficient(psi, n, n, 0, 1);
    point2 += psi[pj * n + pi] * psi[pj * n + pi];
  }
  // Every sample has mean zero (no constant mode), to round-off.
  EXPECT_LT(max_mean, 1e-15);
  // Per mode: mean 0 and variance sigma_k^2, within 5 standard errors (variance: sqrt(2 / M) relative).
  double ratio_sum = 0.0;
  for (long k2 = 0; k2 < modes; ++k2)
    for (long k1 = 0; k1 < modes; ++k1) {
      if (!k1 && !k2) continue;
      const double s = sigma(alpha, tau, k1, k2), mean = sum[k2 * modes + k1] / samples;
      const double ratio = sum2[k2 * modes + k1] / samples / (s * s);
      EXPECT_LT(std::abs(mean), 5.0 * s / std::sqrt(double(samples))) << "mode (" << k1 << ", " << k2 << ")";
      EXPECT_NEAR(ratio, 1.0, 5.0 * std::sqrt(2.0 / samples)) << "mode (" << k1 << ", " << k2 << ")";
      ratio_sum += ratio;
    }
  const double pooled = ratio_sum / double(modes * modes - 1);
  EXPECT_NEAR(pooled, 1.0, 5.0 * std::sqrt(2.0 / (samples * double(modes * modes - 1))));
  // Distinct modes are uncorrelated.
  const double s10 = sigma(alpha, tau, 1, 0), s01 = sigma(alpha, tau, 0, 1);
  EXPECT_LT(std::abs(cross / samples / (s10 * s01)), 5.0 / std::sqrt(double(samples)));
  // The covariance at a point: Var psi(x) = sum_k sigma_k^2 phi_k(x)^2.
  double variance = 0.0;
  for (long k2 = 0; k2 < n; ++k2)
    for (long k1 = 0; k1 < n; ++k1)
      if (k1 || k2) {
        const double p = phi(k1, (pi + 0.5) / n) * phi(k2, (pj + 0.5) / n);
        variance += std::pow(sigma(alpha, tau, k1, k2) * p, 2);
      }
  EXPECT_NEAR(point2 / samples / variance, 1.0, 5.0 * std::sqrt(2.0 / samples));
}

TEST(DarcyRandomField, ASeedGivesTheSameModesOnEveryGrid) {
  CosineRandomField coarse(16, 8, 2.0, 3.0), fine(32, 32, 2.0, 3.0);
  const std::vector<double> a = coarse(11), b = fine(11);
  for (long k2 = 0; k2 < 8; ++k2)
    for (long k1 = 0; k1 < 16; ++k1)
      EXPECT_NEAR(mode_coefficient(a, 16, 8, k1, k2), mode_coefficient(b, 32, 32, k1, k2), 1e-14)
          << "mode (" << k1 << ", " << k2 << ")";
  EXPECT_NE(coarse(11), coarse(12));
}

// ------------------------------------------------------------------------------------------------
// PoissonProblem with a coefficient field

GridSpec unit_square(PetscInt n) { return {.dim = 2, .cells = {n, n, 1}, .lower = {0, 0, 0}, .upper = {1, 1, 1}}; }

// k(x, y) written into a field cell by cell (not through an Expression).
Field coefficient_field(std::shared_ptr<const Grid> grid, double (*k)(double, double)) {
  Field f(grid, "a");
  FieldWriteArray v(f);
  for_each_cell(grid->owned(), [&](PetscInt i, PetscInt j, PetscInt) { v(i, j) = k(grid->center(0, i), grid->center(1, j)); });
  return f;
}

void expect_second_order(const std::vector<ErrorNorms>& e, double tolerance) {
  for (std::size_t r = 0; r < e.size(); ++r) std::printf("  refinement %zu: L2 error %.3e, max error %.3e\n", r, e[r].l2, e[r].max);
  for (std::size_t r = 1; r < e.size(); ++r) {
    EXPECT_NEAR(std::log2(e[r - 1].l2 / e[r].l2), 2.0, tolerance) << "L2 errors " << e[r - 1].l2 << ", " << e[r].l2;
    EXPECT_NEAR(std::log2(e[r - 1].max / e[r].max), 2.0, tolerance) << "max errors " << e[r - 1].max << ", " << e[r].max;
  }
}

TEST(PoissonCoefficientField, SmoothFieldIsSecondOrderAndMatchesTheExpression) {
  const testing::Manufactured m = testing::with_variable_k(testing::trig2d());  // k = 2 + sin(x + 2y)
  std::vector<ErrorNorms> errors;
  for (PetscInt n : {16, 32, 64, 128}) {
    auto grid = std::make_shared<const Grid>(PETSC_COMM_WORLD, unit_square(n));
    PoissonSpec spec;
    spec.source = Expression(m.source());
    spec.boundary = m.boundary(2, {true, true, true, true, true, true});
    PoissonProblem problem(grid, coefficient_field(grid, [](double x, double y) { return 2.0 + std::sin(x + 2.0 * y); }),
                           spec);
    EXPECT_EQ(problem.coefficient_k().name(), "k");
    PetscSolver solver({.rtol = 1e-12});
    const SolveReport report = problem.solve(solver);
    ASSERT_TRUE(report.converged) << report.summary();
    errors.push_back(problem.error(Expression(m.u)));
    // The same operator as with k given as an expression.
    spec.k = Expression(m.k);
    PoissonProblem by_expression(grid, spec);
    PetscSolver solver2({.rtol = 1e-12});
    (void)by_expression.solve(solver2);
    Field difference = problem.solution();
    difference.axpy(-1.0, by_expression.solution());
    EXPECT_LT(difference.norm_max(), 1e-13);
  }
  expect_second_order(errors, 0.1);
}

// -(a u')' = 1 on (0, 1), u(0) = u(1) = 0, a = a1 = 3 left of x = 1/2 and a2 = 12 right of it (a face
// of every even grid): a u' = C - x with C = (a2 + 3 a1) / (4 (a1 + a2)). Harmonic means carry the flux across
// the jump; the solution is second order. The y walls hold the exact (y-independent) values.
TEST(PoissonCoefficientField, LayeredPiecewiseConstantFieldIsSecondOrder) {
  // a1 = 3, a2 = 12: C = 21 / 60 = 0.35, u(1/2) = (C / 2 - 1/8) / a1 = 0.05 / 3.
  const std::string exact = "x < 0.5 ? (0.35*x - x^2/2) / 3 : 0.05/3 + (0.35*(x - 0.5) - (x^2 - 0.25)/2) / 12";
  std::vector<ErrorNorms> errors;
  for (PetscInt n : {16, 32, 64, 128}) {
    auto grid = std::make_shared<const Grid>(PETSC_COMM_WORLD, unit_square(n));
    PoissonSpec spec;
    spec.source = Expression::constant(1.0);
    spec.boundary[Face::YLower] = spec.boundary[Face::YUpper] = {BcType::Dirichlet, Expression(exact)};
    PoissonProblem problem(grid, coefficient_field(grid, [](double x, double) { return x < 0.5 ? 3.0 : 12.0; }), spec);
    PetscSolver solver({.rtol = 1e-12});
    const SolveReport report = problem.solve(solver);
    ASSERT_TRUE(report.converged) << report.summary();
    errors.push_back(problem.error(Expression(exact)));
  }
  expect_second_order(errors, 0.15);
}

TEST(PoissonCoefficientField, RefusesANonPositiveValueAndAFieldOfAnotherGrid) {
  auto grid = std::make_shared<const Grid>(PETSC_COMM_WORLD, unit_square(8));
  try {
    PoissonProblem p(grid, coefficient_field(grid, [](double x, double) { return x < 0.25 ? 0.0 : 1.0; }), PoissonSpec{});
    FAIL() << "k = 0 was accepted";
  } catch (const NumericalError& e) {
    EXPECT_NE(std::string(e.what()).find("k = 0 at (x, y) = (0.0625, 0.0625); k must be finite and > 0"),
              std::string::npos)
        << e.what();
  }
  auto other = std::make_shared<const Grid>(PETSC_COMM_WORLD, unit_square(8));
  EXPECT_THROW(PoissonProblem(grid, coefficient_field(other, [](double, double) { return 1.0; }), PoissonSpec{}), Error);
}

// ------------------------------------------------------------------------------------------------
// The Darcy sample and averaging down

TEST(DarcyProblem, TwoPhaseCoefficientAndAPositiveSolution) {
  auto grid = std::make_shared<const Grid>(PETSC_COMM_WORLD, unit_square(32));
  DarcyProblem darcy(grid, DarcySpec{});
  PetscSolver solver({.rtol = 1e-10});
  const DarcySample s = darcy.sample(3, solver);
  ASSERT_TRUE(s.report.converged) << s.report.summary();
  CosineRandomField psi(32, 32, 2.0, 3.0);
  const std::vector<double> field = psi(3);
  FieldReadArray a(s.a), u(s.u);
  long high = 0;
  for_each_cell(grid->owned(), [&](PetscInt i, PetscInt j, PetscInt) {
    EXPECT_EQ(a(i, j), field[j * 32 + i] >= 0.0 ? 12.0 : 3.0);
    EXPECT_GT(u(i, j), 0.0);  // the maximum principle: f = 1 > 0, u = 0 on the walls
    high += a(i, j) == 12.0;
  });
  EXPECT_GT(high, 0);
  EXPECT_LT(high, 32 * 32 / grid->ranks());
  // a = 1/12 .. 1/3 of the constant-a solution's peak, 1/(8 a) roughly.
  EXPECT_GT(s.u.norm_max(), 0.0737 / 12.0);
  EXPECT_LT(s.u.norm_max(), 0.0737 / 3.0);
}

// Every rank synthesises the whole field and keeps its cells: the distributed sample is the serial one.
TEST(DarcyProblemMpi, SameSampleOnOneAndManyRanks) {
  const GridSpec spec = unit_square(32);
  auto serial_grid = std::make_shared<const Grid>(MPI_COMM_SELF, spec);
  auto grid = std::make_shared<const Grid>(PETSC_COMM_WORLD, spec);
  DarcyProblem serial(serial_grid, DarcySpec{}), distributed(grid, DarcySpec{});
  PetscSolver serial_solver({.rtol = 1e-12}), solver({.rtol = 1e-12});
  const DarcySample one = serial.sample(8, serial_solver), many = distributed.sample(8, solver);
  ASSERT_TRUE(one.report.converged && many.report.converged);
  FieldReadArray a1(one.a), u1(one.u), a(many.a), u(many.u);
  double difference = 0.0;
  for_each_cell(grid->owned(), [&](PetscInt i, PetscInt j, PetscInt) {
    EXPECT_EQ(a(i, j), a1(i, j));
    difference = std::max(difference, std::abs(u(i, j) - u1(i, j)));
  });
  EXPECT_LT(difference, 1e-12 * one.u.norm_max());
}

TEST(DarcyProblem, RefusesAGridThatIsNotTheUnitSquare) {
  auto grid = std::make_shared<const Grid>(
      PETSC_COMM_WORLD, GridSpec{.dim = 2, .cells = {8, 8, 1}, .lower = {0, 0, 0}, .upper = {2, 1, 1}});
  EXPECT_THROW(DarcyProblem(grid, DarcySpec{}), Error);
}

TEST(AverageCells, ExactForBlockConstantValuesAndKeepsTheMean) {
  const long nx = 12, ny = 8, cnx = 3, cny = 2;  // blocks of 4 x 4
  std::vector<double> fine(nx * ny), expected(cnx * cny);
  for (long J = 0; J < cny; ++J)
    for (long I = 0; I < cnx; ++I) expected[J * cnx + I] = 1.0 + I + 10.0 * J;
  for (long j = 0; j < ny; ++j)
    for (long i = 0; i < nx; ++i) fine[j * nx + i] = expected[(j / 4) * cnx + i / 4];
  EXPECT_EQ(average_cells(fine, nx, ny, cnx, cny), expected);
  // Any values: the mean is kept, to round-off; 2 x 1 blocks average neighbours along x.
  double mean = 0.0;
  for (long c = 0; c < nx * ny; ++c) mean += (fine[c] = std::sin(1.7 * double(c)) + 0.1 * double(c)) / double(nx * ny);
  const std::vector<double> coarse = average_cells(fine, nx, ny, 6, 8);
  double coarse_mean = 0.0;
  for (double v : coarse) coarse_mean += v / double(coarse.size());
  EXPECT_NEAR(coarse_mean, mean, 1e-14);
  EXPECT_DOUBLE_EQ(coarse[1 * 6 + 2], 0.5 * (fine[1 * nx + 4] + fine[1 * nx + 5]));
  // The same grid: unchanged.
  EXPECT_EQ(average_cells(fine, nx, ny, nx, ny), fine);
}

TEST(AverageCells, RefusesCountsThatDoNotDivide) {
  const std::vector<double> fine(12 * 8, 1.0);
  EXPECT_THROW(average_cells(fine, 12, 8, 5, 8), Error);
  EXPECT_THROW(average_cells(fine, 12, 8, 12, 3), Error);
  EXPECT_THROW(average_cells(fine, 12, 9, 12, 3), Error);  // 96 values are not 12 x 9
}

}  // namespace
}  // namespace fluxion
