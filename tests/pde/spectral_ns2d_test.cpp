// SpectralNs2d verification: the Taylor-Green decay (exact and its temporal order), self-convergence
// with the nonlinear term, the same trajectory on any rank count, random initial fields, diagnostics
// against sums done by hand, spectral truncation, and bad input.
#include "fluxion/pde/spectral_ns2d.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "../support/config_error.hpp"
#include "fluxion/core/error.hpp"

namespace fluxion {
namespace {

constexpr double kPi = std::numbers::pi;
using test_support::config_error;

double global_max(double v) {
  double g = 0.0;
  MPI_Allreduce(&v, &g, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return g;
}

// max |a - b| over all ranks.
double max_difference(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0.0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return global_max(d);
}

// The serial solution's rows that this rank holds in the distributed one.
std::vector<double> rows_of(const std::vector<double>& serial, const SpectralNs2d& distributed) {
  const long nx = distributed.spec().nx;
  return {serial.begin() + distributed.row_begin() * nx, serial.begin() + distributed.row_end() * nx};
}

SpectralNs2dSpec taylor_green_spec(SpectralScheme scheme, long n = 32) {
  SpectralNs2dSpec s;
  s.nx = s.ny = n;
  s.length = 2.0;
  s.viscosity = 0.05;
  s.drag = 0.1;
  s.scheme = scheme;
  return s;
}

// Max error of the vorticity at t_end against the exact Taylor-Green decay (amplitude 1, wavenumber 2).
double taylor_green_error(SpectralScheme scheme, double dt, double t_end, MPI_Comm comm = MPI_COMM_WORLD) {
  const SpectralNs2dSpec s = taylor_green_spec(scheme);
  SpectralNs2d ns(comm, s);
  ns.set_taylor_green(1.0, 2);
  const AdvanceReport r = ns.advance(t_end, {.dt = dt, .cfl = 10.0});
  EXPECT_EQ(r.steps, std::lround(t_end / dt));
  EXPECT_DOUBLE_EQ(ns.time(), t_end);
  const std::vector<double> w = ns.vorticity_values();
  double err = 0.0;
  for (long j = ns.row_begin(); j < ns.row_end(); ++j)
    for (long i = 0; i < s.nx; ++i) {
      const double x = s.length * i / s.nx, y = s.length * j / s.ny;
      const double exact = SpectralNs2d::taylor_green_vorticity(1.0, 2, s.length, s.viscosity, s.drag, x, y, t_end);
      err = std::max(err, std::abs(w[(j - ns.row_begin()) * s.nx + i] - exact));
    }
  double g = 0.0;
  MPI_Allreduce(&err, &g, 1, MPI_DOUBLE, MPI_MAX, comm);
  return g;
}

TEST(SpectralTaylorGreenMpi, IntegratingFactorIsExactToRoundOff) {
  // The linear terms are integrated exactly and the nonlinear term of the vortex vanishes, so the
  // only error left is round-off: the spatial discretisation is exact. The peak vorticity is 2 k = 4 pi.
  EXPECT_LT(taylor_green_error(SpectralScheme::IfRk4, 0.05, 1.0), 1e-12);
}

TEST(SpectralTaylorGreenMpi, CrankNicolsonMatchesItsAmplificationFactorToRoundOff) {
  // Crank-Nicolson multiplies the mode by (1 + z/2) / (1 - z/2), z = dt L, at each step: the
  // computed field must be exactly that (space is exact), whatever the time error.
  const SpectralNs2dSpec s = taylor_green_spec(SpectralScheme::CnRk2);
  SpectralNs2d ns(MPI_COMM_WORLD, s);
  ns.set_taylor_green(1.0, 2);
  const double dt = 0.1;
  const int steps = 10;
  for (int n = 0; n < steps; ++n) ns.step(dt);
  const double k = 2.0 * kPi * 2 / s.length;
  const double z = dt * (-2.0 * s.viscosity * k * k - s.drag);
  const double factor = std::pow((1.0 + z / 2) / (1.0 - z / 2), steps);
  const std::vector<double> w = ns.vorticity_values();
  double err = 0.0;
  for (long j = ns.row_begin(); j < ns.row_end(); ++j)
    for (long i = 0; i < s.nx; ++i) {
      const double x = s.length * i / s.nx, y = s.length * j / s.ny;
      const double expected =
          factor * SpectralNs2d::taylor_green_vorticity(1.0, 2, s.length, s.viscosity, s.drag, x, y, 0.0);
      err = std::max(err, std::abs(w[(j - ns.row_begin()) * s.nx + i] - expected));
    }
  EXPECT_LT(global_max(err), 1e-12);
  // ... and that factor is not the exact decay: the time error is visible at this dt.
  EXPECT_GT(std::abs(factor - std::exp(z * steps)), 1e-4);
}

double observed_order(double coarse_error, double fine_error) { return std::log2(coarse_error / fine_error); }

TEST(SpectralTaylorGreenMpi, CrankNicolsonSchemesAreSecondOrderInTime) {
  for (SpectralScheme scheme : {SpectralScheme::CnRk2, SpectralScheme::Rk4Cn}) {
    const double e1 = taylor_green_error(scheme, 0.1, 1.0), e2 = taylor_green_error(scheme, 0.05, 1.0),
                 e3 = taylor_green_error(scheme, 0.025, 1.0);
    EXPECT_GT(e3, 1e-9) << to_string(scheme) << ": the time error must dominate round-off for the order to mean anything";
    EXPECT_NEAR(observed_order(e1, e2), 2.0, 0.1) << to_string(scheme) << " errors " << e1 << " " << e2;
    EXPECT_NEAR(observed_order(e2, e3), 2.0, 0.05) << to_string(scheme) << " errors " << e2 << " " << e3;
  }
}

// A forced, nonlinear run (random field + Kolmogorov forcing + drag) to t = 0.4.
SpectralNs2dSpec nonlinear_spec(SpectralScheme scheme) {
  SpectralNs2dSpec s;
  s.nx = 48;
  s.ny = 36;  // non-square: catches a swapped axis
  s.viscosity = 0.01;
  s.drag = 0.05;
  s.forcing = {.type = SpectralForcing::Type::Kolmogorov, .amplitude = 2.0, .wavenumber = 3};
  s.scheme = scheme;
  return s;
}

std::vector<double> nonlinear_run(SpectralScheme scheme, double dt, MPI_Comm comm = MPI_COMM_WORLD) {
  SpectralNs2d ns(comm, nonlinear_spec(scheme));
  ns.set_random_field({.alpha = 2.5, .tau = 3.0, .seed = 11});
  ns.advance(0.4, {.dt = dt, .cfl = 2.0});
  return ns.vorticity_values();
}

TEST(SpectralOrderMpi, NonlinearSelfConvergence) {
  // Reference: integrating-factor RK4 at a small step (its error is ~1e-10 of the solution's here).
  const std::vector<double> reference = nonlinear_run(SpectralScheme::IfRk4, 0.4 / 256);
  double scale = 0.0;
  for (double v : reference) scale = std::max(scale, std::abs(v));
  scale = global_max(scale);
  ASSERT_GT(scale, 1.0);  // the run does something
  struct Expected {
    SpectralScheme scheme;
    double order, tolerance;
  };
  for (const Expected& x : {Expected{SpectralScheme::CnRk2, 2.0, 0.15}, Expected{SpectralScheme::Rk4Cn, 2.0, 0.25},
                            Expected{SpectralScheme::IfRk4, 4.0, 0.3}}) {
    const double e1 = max_difference(nonlinear_run(x.scheme, 0.4 / 8), reference);
    const double e2 = max_difference(nonlinear_run(x.scheme, 0.4 / 16), reference);
    EXPECT_GT(e2, 1e-9 * scale) << to_string(x.scheme);
    EXPECT_NEAR(observed_order(e1, e2), x.order, x.tolerance)
        << to_string(x.scheme) << ": errors " << e1 << ", " << e2 << " (solution scale " << scale << ")";
  }
}

TEST(SpectralRanksMpi, SameTrajectoryAsOneRank) {
  // The distributed run (transposed and plain slabs) against a serial run of the same problem on each rank.
  for (bool transposed : {true, false}) {
    SpectralNs2dSpec s = nonlinear_spec(SpectralScheme::Rk4Cn);
    s.transposed = transposed;
    s.forcing.type = SpectralForcing::Type::Li;
    SpectralNs2d distributed(MPI_COMM_WORLD, s), serial(MPI_COMM_SELF, s);
    for (SpectralNs2d* ns : {&distributed, &serial}) {
      ns->set_random_field({.alpha = 2.0, .tau = 5.0, .seed = 3});
      ns->advance(0.3, {.cfl = 0.8});
    }
    EXPECT_EQ(distributed.steps_taken(), serial.steps_taken());
    const std::vector<double> a = distributed.vorticity_values();
    const std::vector<double> b = serial.vorticity_values();
    double scale = 0.0;
    for (double v : b) scale = std::max(scale, std::abs(v));
    EXPECT_GT(scale, 0.1);
    EXPECT_LT(max_difference(a, rows_of(b, distributed)), 1e-12 * scale) << "transposed " << transposed;
    EXPECT_NEAR(distributed.diagnostics().energy, serial.diagnostics().energy, 1e-13);
    const std::vector<double> sa = distributed.energy_spectrum(), sb = serial.energy_spectrum();
    ASSERT_EQ(sa.size(), sb.size());
    for (std::size_t k = 0; k < sa.size(); ++k) EXPECT_NEAR(sa[k], sb[k], 1e-14 + 1e-12 * sb[k]) << k;
  }
}

TEST(SpectralFieldsMpi, GridCellsAreTheGridPointsAndOwnershipMatchesTheSlabs) {
  SpectralNs2dSpec s = taylor_green_spec(SpectralScheme::CnRk2, 24);
  SpectralNs2d ns(MPI_COMM_WORLD, s);
  ns.set_taylor_green(0.7, 1);
  const auto grid = ns.grid();
  EXPECT_EQ(grid->owned().begin[1], ns.row_begin());
  EXPECT_EQ(grid->owned().end[1], ns.row_end());
  EXPECT_EQ(grid->owned().extent(0), 24);
  EXPECT_TRUE(grid->periodic(0) && grid->periodic(1));
  const Field w = ns.vorticity(), u = ns.velocity(), psi = ns.stream_function();
  EXPECT_EQ(u.components(), 2);
  FieldReadArray wa(w), ua(u), pa(psi);
  const double k = 2.0 * kPi / s.length;
  double err = 0.0;
  for_each_cell(wa.box(), [&](PetscInt i, PetscInt j, PetscInt kk) {
    const double x = grid->center(0, i), y = grid->center(1, j);
    err = std::max(err, std::abs(wa(i, j, kk) - 2.0 * 0.7 * k * std::sin(k * x) * std::sin(k * y)));
    err = std::max(err, std::abs(pa(i, j, kk) - 0.7 / k * std::sin(k * x) * std::sin(k * y)));
    err = std::max(err, std::abs(ua(i, j, kk, 0) - 0.7 * std::sin(k * x) * std::cos(k * y)));
    err = std::max(err, std::abs(ua(i, j, kk, 1) + 0.7 * std::cos(k * x) * std::sin(k * y)));
  });
  EXPECT_LT(global_max(err), 1e-13);
  EXPECT_NEAR(grid->center(0, 0), 0.0, 1e-15);
}

TEST(SpectralDiagnosticsMpi, EnergyEnstrophyAndSpectrumOfAFewModes) {
  // L = 2: w = A cos(pi x) + B sin(pi (2 x + 3 y)). Per mode of wave vector k: <w^2> = a^2 / 2 and
  // <|u|^2> = a^2 / (2 |k|^2), so energy = A^2/(4 pi^2) + B^2/(4 * 13 pi^2), enstrophy = (A^2 + B^2)/4;
  // the first mode is in shell 1, the second in shell round(sqrt(13)) = 4.
  const double A = 1.5, B = -0.8;
  SpectralNs2dSpec s;
  s.nx = 24;
  s.ny = 18;
  s.length = 2.0;
  SpectralNs2d ns(MPI_COMM_WORLD, s);
  ns.set_vorticity([&](double x, double y) { return A * std::cos(kPi * x) + B * std::sin(kPi * (2 * x + 3 * y)); });
  const SpectralDiagnostics d = ns.diagnostics();
  const double e1 = A * A / (4 * kPi * kPi), e2 = B * B / (4 * 13 * kPi * kPi);
  EXPECT_NEAR(d.energy, e1 + e2, 1e-14);
  EXPECT_NEAR(d.enstrophy, (A * A + B * B) / 4, 1e-13);
  const std::vector<double> spectrum = ns.energy_spectrum();
  ASSERT_GT(spectrum.size(), 4u);
  for (std::size_t k = 0; k < spectrum.size(); ++k)
    EXPECT_NEAR(spectrum[k], k == 1 ? e1 : k == 4 ? e2 : 0.0, 1e-14) << "shell " << k;
  // One mode alone: psi = A cos(pi x) / pi^2, so v = -dpsi/dx = A sin(pi x) / pi, max |u| = A / pi
  // (reached at x = 1/2, a grid point of 24 on [0, 2)).
  ns.set_vorticity([&](double x, double) { return A * std::cos(kPi * x); });
  EXPECT_NEAR(ns.max_velocity(), A / kPi, 1e-13);
}

TEST(SpectralRandomFieldMpi, ZeroMeanSameOnAnyRankCountAndSeedDependent) {
  SpectralNs2dSpec s;
  s.nx = s.ny = 48;
  SpectralNs2d distributed(MPI_COMM_WORLD, s), serial(MPI_COMM_SELF, s);
  distributed.set_random_field({.alpha = 2.5, .tau = 7.0, .seed = 42});
  serial.set_random_field({.alpha = 2.5, .tau = 7.0, .seed = 42});
  const std::vector<double> a = distributed.vorticity_values(), b = serial.vorticity_values();
  double scale = 0.0, sum = 0.0;
  for (double v : b) scale = std::max(scale, std::abs(v)), sum += v;
  EXPECT_GT(scale, 0.05);
  EXPECT_LT(std::abs(sum) / double(b.size()), 1e-15 * 1e3 * scale);  // zero mean (round-off of 2304 values)
  EXPECT_LT(max_difference(a, rows_of(b, distributed)), 1e-14 * scale);
  serial.set_random_field({.alpha = 2.5, .tau = 7.0, .seed = 43});
  EXPECT_GT(max_difference(rows_of(serial.vorticity_values(), distributed), a), 0.3 * scale);
}

TEST(SpectralRandomField, SpectrumFollowsTheCovariance) {
  // E|c_m|^2 = 2 sigma^2 (4 pi^2 |m|^2 + tau^2)^(-alpha): shell energies E(k) ~ k * k^-2 * that, so
  // log(E(k) k) against log(4 pi^2 k^2 + tau^2) has slope -alpha (averaged over three seeds).
  const double alpha = 2.5, tau = 7.0;
  SpectralNs2dSpec s;
  s.nx = s.ny = 128;
  SpectralNs2d ns(MPI_COMM_SELF, s);
  std::vector<double> spectrum;
  for (std::uint64_t seed : {1, 2, 3}) {
    ns.set_random_field({.alpha = alpha, .tau = tau, .seed = seed});
    const std::vector<double> e = ns.energy_spectrum();
    spectrum.resize(e.size(), 0.0);
    for (std::size_t k = 0; k < e.size(); ++k) spectrum[k] += e[k];
  }
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int n = 0;
  for (int k = 6; k <= 40; ++k) {  // full shells inside the 2/3 band (|m| <= 42)
    const double x = std::log(4 * kPi * kPi * k * k + tau * tau), y = std::log(spectrum[k] * k);
    sx += x, sy += y, sxx += x * x, sxy += x * y, ++n;
  }
  const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  EXPECT_NEAR(slope, -alpha, 0.1);
  // The level: shell k holds about 2 pi k modes of E|c|^2 / (2 |2 pi k|^2) each.
  const double sigma2 = std::pow(tau, 2 * (alpha - 1));
  const int k = 20;
  const double expected = 2 * kPi * k * 2 * sigma2 * std::pow(4 * kPi * kPi * k * k + tau * tau, -alpha) /
                          (2 * 4 * kPi * kPi * k * k);
  EXPECT_NEAR(spectrum[k] / 3 / expected, 1.0, 0.25);
}

TEST(SpectralRandomField, DerivedSeedsDiffer) {
  EXPECT_NE(derived_seed(0, 0), derived_seed(0, 1));
  EXPECT_NE(derived_seed(0, 1), derived_seed(1, 0));
  EXPECT_EQ(derived_seed(5, 7), derived_seed(5, 7));
}

TEST(SpectralMcWilliams, HasTheRequestedEnergyAndZeroMean) {
  SpectralNs2dSpec s;
  s.nx = s.ny = 64;
  s.length = 2 * kPi;
  SpectralNs2d ns(MPI_COMM_SELF, s);
  ns.set_mcwilliams({.peak_wavenumber = 6, .energy = 0.3, .seed = 9});
  EXPECT_NEAR(ns.diagnostics().energy, 0.3, 1e-12);
  const std::vector<double> e = ns.energy_spectrum();
  EXPECT_EQ(e[0], 0.0);
  // Most of the energy sits around the peak wavenumber, not at the smallest or largest scales.
  double near = 0.0;
  for (int k = 3; k <= 10; ++k) near += e[k];
  EXPECT_GT(near, 0.5 * 0.3);
}

TEST(SpectralTruncation, ExactForABandLimitedField) {
  // Modes |mx| < 8, |my| < 6 survive a 64 x 48 -> 16 x 12 truncation unchanged; the mode mx = 9 is removed.
  const auto kept = [](double x, double y) {
    return 1.0 + std::cos(2 * kPi * (3 * x + 5 * y)) - 0.5 * std::sin(2 * kPi * (7 * x - 2 * y)) + 0.25 * std::sin(2 * kPi * y);
  };
  const auto removed = [](double x, double y) { return 0.75 * std::cos(2 * kPi * (9 * x + y)); };
  std::vector<double> fine(64 * 48);
  for (int j = 0; j < 48; ++j)
    for (int i = 0; i < 64; ++i) fine[j * 64 + i] = kept(i / 64.0, j / 48.0) + removed(i / 64.0, j / 48.0);
  const std::vector<double> coarse = spectral_truncate(fine, 64, 48, 16, 12);
  ASSERT_EQ(coarse.size(), 16u * 12u);
  double err = 0.0;
  for (int j = 0; j < 12; ++j)
    for (int i = 0; i < 16; ++i) err = std::max(err, std::abs(coarse[j * 16 + i] - kept(i / 16.0, j / 12.0)));
  EXPECT_LT(err, 1e-14 * 64);
  // Same size: the identity (no mode at the Nyquist frequency in this field).
  std::vector<double> band(16 * 12);
  for (int j = 0; j < 12; ++j)
    for (int i = 0; i < 16; ++i) band[j * 16 + i] = kept(i / 16.0, j / 12.0);
  const std::vector<double> same = spectral_truncate(band, 16, 12, 16, 12);
  for (std::size_t i = 0; i < band.size(); ++i) EXPECT_NEAR(same[i], band[i], 1e-14 * 16);
}

TEST(SpectralTruncation, RefusesImpossibleSizes) {
  const std::vector<double> fine(16 * 16, 1.0);
  EXPECT_THROW(spectral_truncate(fine, 16, 16, 32, 16), Error);
  EXPECT_THROW(spectral_truncate(fine, 16, 16, 7, 8), Error);
  EXPECT_THROW(spectral_truncate(fine, 16, 16, 0, 8), Error);
  EXPECT_THROW(spectral_truncate(fine, 16, 16, 8, 8 + 1), Error);
  EXPECT_THROW(spectral_truncate(std::vector<double>(10), 16, 16, 8, 8), Error);
}

TEST(SpectralBadInput, SpecProblemsNameTheirKey) {
  SpectralNs2dSpec s;
  s.nx = s.ny = 16;
  EXPECT_FALSE(spectral_spec_problem(s, 1).has_value());
  const auto key = [](SpectralNs2dSpec x, int ranks = 1) {
    const auto p = spectral_spec_problem(x, ranks);
    return p ? p->key + ": " + p->message : std::string("(no problem)");
  };
  SpectralNs2dSpec odd = s;
  odd.nx = 15;
  EXPECT_EQ(key(odd).rfind("nx: is 15; expected an even number", 0), 0u) << key(odd);
  SpectralNs2dSpec tiny = s;
  tiny.ny = 2;
  EXPECT_EQ(key(tiny).rfind("ny: is 2", 0), 0u) << key(tiny);
  SpectralNs2dSpec negative = s;
  negative.nx = -8;
  EXPECT_EQ(key(negative).rfind("nx: is -8", 0), 0u) << key(negative);
  SpectralNs2dSpec kolmogorov = s;
  kolmogorov.forcing = {.type = SpectralForcing::Type::Kolmogorov, .amplitude = 1.0, .wavenumber = 6};
  // 16 points keep |m| <= 5 after dealiasing: wavenumber 6 needs 3 * 6 + 1 = 19 -> 20 points.
  EXPECT_EQ(key(kolmogorov).rfind("ny: is 16: too few points for the forcing wavenumber 6", 0), 0u) << key(kolmogorov);
  EXPECT_NE(key(kolmogorov).find("at least 20 points"), std::string::npos) << key(kolmogorov);
  kolmogorov.ny = 20;
  EXPECT_EQ(key(kolmogorov), "(no problem)");
  SpectralNs2dSpec viscous = s;
  viscous.viscosity = -1e-3;
  EXPECT_EQ(key(viscous).rfind("viscosity:", 0), 0u);
  SpectralNs2dSpec slabs = s;
  slabs.ny = 4;  // slabs of 2 rows: a third rank gets none
  EXPECT_EQ(key(slabs, 2), "(no problem)");
  EXPECT_EQ(key(slabs, 3).rfind("ny: is 4: 3 ranks cannot share 4 rows", 0), 0u) << key(slabs, 3);
  EXPECT_NE(key(slabs, 3).find("at most 2 ranks"), std::string::npos) << key(slabs, 3);
  EXPECT_EQ(dealias_cutoff(6), 1);
  EXPECT_EQ(dealias_cutoff(256), 85);
  EXPECT_EQ(spectral_slab_rows(10, 3), (std::vector<long>{4, 4, 2}));
}

TEST(SpectralBadInputMpi, ConstructorAndFixedDtAboveTheCfl) {
  SpectralNs2dSpec s;
  s.nx = 15;
  s.ny = 16;
  EXPECT_EQ(config_error([&] { SpectralNs2d ns(MPI_COMM_WORLD, s); }).rfind("nx: ", 0), 0u);
  s.nx = 16;
  SpectralNs2d ns(MPI_COMM_WORLD, s);
  ns.set_taylor_green(1.0, 1);  // max |u| = 1, h = 1/16
  const std::string message = config_error([&] { ns.advance(1.0, {.dt = 0.1, .cfl = 0.5}); });
  EXPECT_EQ(message.rfind("dt: the fixed time step 0.1 gives the CFL number", 0), 0u) << message;
  EXPECT_NE(message.find("expected dt <= 0.03125"), std::string::npos) << message;
  EXPECT_EQ(ns.steps_taken(), 0);
  const AdvanceReport ok = ns.advance(0.1, {.dt = 0.03, .cfl = 0.5});
  EXPECT_EQ(ok.steps, 4);
  EXPECT_NEAR(ok.max_dt, 0.025, 1e-15);  // shortened evenly to hit t = 0.1
}

TEST(SpectralBadInputMpi, DivergenceStopsWithAnError) {
  SpectralNs2dSpec s;
  s.nx = s.ny = 32;
  s.viscosity = 0.0;
  SpectralNs2d ns(MPI_COMM_WORLD, s);
  ns.set_random_field({.alpha = 1.5, .tau = 2.0, .seed = 1});
  EXPECT_THROW(
      {
        for (int n = 0; n < 5000; ++n) ns.step(5.0);
      },
      NumericalError);
}

TEST(SpectralAdaptiveMpi, CflStepsHitTheEndTimeAndRespectTheCfl) {
  SpectralNs2dSpec s = nonlinear_spec(SpectralScheme::CnRk2);
  SpectralNs2d ns(MPI_COMM_WORLD, s);
  ns.set_random_field({.alpha = 2.0, .tau = 4.0, .seed = 5});
  const AdvanceReport r = ns.advance(0.37, {.cfl = 0.4, .dt_max = 0.05});
  EXPECT_DOUBLE_EQ(ns.time(), 0.37);
  EXPECT_LE(r.max_cfl, 0.4 * (1 + 1e-12));
  EXPECT_LE(r.max_dt, 0.05);
  EXPECT_GT(r.steps, 1);
  EXPECT_EQ(ns.diagnostics().steps, r.steps);
}

}  // namespace
}  // namespace fluxion
