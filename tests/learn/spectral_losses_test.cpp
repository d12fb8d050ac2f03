// The spectral losses of issue 10: Sobolev norms against sums done by hand over a few Fourier modes,
// and the vorticity equation's residual on fields whose terms are known by hand (Taylor-Green decay,
// a steady two-mode flow), on exact trajectories (the backward difference's order), and on
// trajectories of fluxion's own spectral solver (the residual falls with the solver's step).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <numbers>
#include <string>
#include <vector>

#include "fluxion/core/error.hpp"
#include "fluxion/learn/sobolev.hpp"
#include "fluxion/learn/vorticity_residual.hpp"
#include "fluxion/pde/spectral_ns2d.hpp"

namespace fluxion::learn {
namespace {

constexpr double kPi = std::numbers::pi;
const torch::TensorOptions kDouble = torch::TensorOptions().dtype(torch::kFloat64);

// f sampled on the grid points (i / nx, j / ny) of the unit square: [ny, nx].
torch::Tensor sample(int64_t ny, int64_t nx, const std::function<double(double, double)>& f) {
  torch::Tensor t = torch::empty({ny, nx}, kDouble);
  auto a = t.accessor<double, 2>();
  for (int64_t j = 0; j < ny; ++j)
    for (int64_t i = 0; i < nx; ++i) a[j][i] = f(static_cast<double>(i) / nx, static_cast<double>(j) / ny);
  return t;
}

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

// ---------------------------------------------------------------------------------------------
// Sobolev norms

// A real Fourier mode A cos(2 pi (kx x + ky y) + phase).
struct Mode {
  int kx, ky;
  double amplitude, phase;
};

// 0.7 + four modes + a Nyquist mode in x, on a non-square grid (so that the axes cannot be confused).
constexpr int64_t kNy = 12, kNx = 16;
const double kMean = 0.7;
const std::vector<Mode> kModes = {{1, 0, 1.5, 0.0}, {2, 3, -0.8, 0.4}, {-3, 1, 0.3, 1.1}, {0, 5, 0.5, -0.7}};
const double kNyquist = 0.25;  // 0.25 cos(2 pi 8 x) = 0.25 (-1)^i on the grid

torch::Tensor mode_field() {
  return sample(kNy, kNx, [](double x, double y) {
    double v = kMean + kNyquist * std::cos(2 * kPi * (kNx / 2) * x);
    for (const Mode& m : kModes) v += m.amplitude * std::cos(2 * kPi * (m.kx * x + m.ky * y) + m.phase);
    return v;
  });
}

// By hand: a mode A cos(2 pi k.x + phase) (k != 0) has |c_k| = |c_-k| = |A| / 2, so it adds
// A^2 / 2 (alpha + 4 pi^2 |k|^2)^s; the mean adds c^2 alpha^s (1 when alpha = 0); the Nyquist mode
// is one coefficient of size B, which adds B^2 (alpha + 4 pi^2 (nx/2)^2)^s.
double hand_norm_squared(double s, double alpha) {
  const auto weight = [&](double k2) { return std::pow(alpha + 4 * kPi * kPi * k2, s); };
  double sum = kMean * kMean * (alpha == 0.0 ? 1.0 : std::pow(alpha, s));
  for (const Mode& m : kModes) sum += m.amplitude * m.amplitude / 2 * weight(m.kx * m.kx + m.ky * m.ky);
  sum += kNyquist * kNyquist * weight((kNx / 2) * (kNx / 2));
  return sum;
}

TEST(SobolevNorm, MatchesSumsOfFourierModesByHand) {
  const torch::Tensor v = mode_field();
  for (double alpha : {1.0, 0.3})
    for (double s : {-1.0, -0.5, 0.0, 1.0, 2.0}) {
      const double expected = hand_norm_squared(s, alpha);
      const double got = sobolev_squared(v, {.s = s, .alpha = alpha}).item<double>();
      EXPECT_NEAR(got, expected, 1e-12 * expected) << "s = " << s << ", alpha = " << alpha;
    }
  // torch-cfd's alpha = 0: |2 pi k|^(2s) for k != 0, the mean weighted 1.
  EXPECT_NEAR(sobolev_squared(v, {.s = -1.0, .alpha = 0.0}).item<double>(), hand_norm_squared(-1.0, 0.0), 1e-14);
}

TEST(SobolevNorm, ZeroOrderIsTheL2NormOfTheUnitSquare) {
  // Parseval: s = 0, alpha = 1 is int v^2 dx, the mean of v^2 over the grid points.
  const torch::Tensor v = torch::randn({3, kNy, kNx}, kDouble);
  const torch::Tensor mean_square = v.square().mean({-2, -1});
  EXPECT_LT(max_abs(sobolev_squared(v, {.s = 0.0, .alpha = 1.0}) - mean_square), 1e-14);
  EXPECT_LT(max_abs(sobolev_norm(v, {.s = 0.0, .alpha = 1.0}) - mean_square.sqrt()), 1e-14);
}

TEST(SobolevNorm, PerSampleAndAveragedOverTime) {
  // Sample b, frame t holds (b + 1)(1 + t / 2) v: the trajectory norm is the root mean square over t.
  const torch::Tensor v = mode_field();
  const int64_t batch = 2, frames = 3;
  torch::Tensor traj = torch::empty({batch, frames, kNy, kNx}, kDouble);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < frames; ++t) traj[b][t] = (b + 1.0) * (1.0 + t / 2.0) * v;
  const SobolevOrder order{.s = -1.0, .alpha = 1.0};
  const double field = std::sqrt(hand_norm_squared(order.s, order.alpha));
  const double rms = std::sqrt((1.0 + 1.5 * 1.5 + 2.0 * 2.0) / 3.0);
  const torch::Tensor n = sobolev_norm(traj, order);
  ASSERT_EQ(n.sizes(), torch::IntArrayRef({batch}));
  for (int64_t b = 0; b < batch; ++b) EXPECT_NEAR(n[b].item<double>(), (b + 1.0) * rms * field, 1e-12 * field);
  // The field norms themselves keep every leading dimension.
  EXPECT_EQ(sobolev_squared(traj, order).sizes(), torch::IntArrayRef({batch, frames}));
  // Without a time axis: one field per sample.
  const torch::Tensor fields = torch::stack({v, 3.0 * v});
  EXPECT_NEAR(sobolev_norm(fields, order)[1].item<double>(), 3.0 * field, 1e-12 * field);
  // The absolute error is the norm of the difference.
  EXPECT_NEAR(sobolev_error(fields + v, fields, order)[0].item<double>(), field, 1e-12 * field);
}

TEST(SobolevNorm, RelativeErrorOfATenPercentScaleIsOneTenth) {
  const torch::Tensor t3 = torch::randn({4, 8, 10}, kDouble), t4 = torch::randn({2, 5, 8, 10}, kDouble);
  for (double s : {-1.0, -0.5, 0.0, 1.0, 2.0}) {
    const SobolevOrder order{.s = s, .alpha = 1.0};
    const torch::Tensor r3 = relative_sobolev_error(1.1 * t3, t3, order);
    const torch::Tensor r4 = relative_sobolev_error(1.1 * t4, t4, order);
    ASSERT_EQ(r3.sizes(), torch::IntArrayRef({4}));
    ASSERT_EQ(r4.sizes(), torch::IntArrayRef({2}));
    EXPECT_LT(max_abs(r3 - 0.1), 1e-13) << "s = " << s;
    EXPECT_LT(max_abs(r4 - 0.1), 1e-13) << "s = " << s;
  }
}

TEST(SobolevNorm, GradientsFlow) {
  // s = 0, alpha = 1: ||p||^2 = mean(p^2), whose gradient is 2 p / (nx ny).
  const torch::Tensor p = torch::randn({2, 3, 8, 12}, kDouble).requires_grad_(true);
  sobolev_squared(p, {.s = 0.0, .alpha = 1.0}).sum().backward();
  EXPECT_LT(max_abs(p.grad() - 2.0 * p.detach() / (8 * 12)), 1e-15);
  // The loss of a negative order in single precision, as a network uses it: finite, non-zero grads.
  const torch::Tensor q = torch::randn({2, 3, 16, 16}).requires_grad_(true);
  const torch::Tensor truth = torch::randn({2, 3, 16, 16});
  relative_sobolev_error(q, truth, {.s = -1.0, .alpha = 1.0}).mean().backward();
  EXPECT_TRUE(torch::isfinite(q.grad()).all().item<bool>());
  EXPECT_GT(max_abs(q.grad()), 0.0);
}

TEST(SobolevNorm, BadInput) {
  const torch::Tensor v = torch::randn({2, 8, 8}, kDouble);
  EXPECT_THROW(sobolev_norm(torch::randn({8, 8}, kDouble), {}), Error);            // no batch
  EXPECT_THROW(sobolev_norm(torch::randn({1, 2, 2, 8, 8}, kDouble), {}), Error);   // a channel axis too many
  EXPECT_THROW(relative_sobolev_error(v, torch::randn({2, 8, 6}, kDouble), {}), Error);  // shapes differ
  EXPECT_THROW(sobolev_squared(v, {.s = -1.0, .alpha = -0.5}), Error);
  EXPECT_THROW(sobolev_squared_from_coefficients(fourier_coefficients(v), 10, {}), Error);  // not 8 points per row
}

// ---------------------------------------------------------------------------------------------
// The vorticity residual

TEST(VorticityResidual, BackwardDifferenceWeightsAreTheBdfFormulas) {
  const std::vector<std::vector<double>> expected = {
      {1.0, -1.0}, {1.5, -2.0, 0.5}, {11.0 / 6, -3.0, 1.5, -1.0 / 3}, {25.0 / 12, -4.0, 3.0, -4.0 / 3, 0.25}};
  for (std::size_t k = 1; k <= expected.size(); ++k) {
    const std::vector<double> a = backward_difference_weights(static_cast<int>(k));
    ASSERT_EQ(a.size(), k + 1);
    for (std::size_t j = 0; j <= k; ++j) EXPECT_NEAR(a[j], expected[k - 1][j], 1e-15) << "order " << k << ", j " << j;
  }
}

// w = a cos(2 pi p x) + b cos(2 pi q y): psi = a cos(2 pi p x) / (2 pi p)^2 + b cos(2 pi q y) / (2 pi q)^2,
// u = psi_y = -b sin(2 pi q y) / (2 pi q), v = -psi_x = a sin(2 pi p x) / (2 pi p), and by hand
// u.grad w = a b (p/q - q/p) sin(2 pi p x) sin(2 pi q y), Lap w = -(2 pi p)^2 a cos(..) - (2 pi q)^2 b cos(..).
struct TwoModes {
  double a, b;
  int p, q;
  double w(double x, double y) const { return a * std::cos(2 * kPi * p * x) + b * std::cos(2 * kPi * q * y); }
  double advection(double x, double y) const {
    return a * b * (static_cast<double>(p) / q - static_cast<double>(q) / p) * std::sin(2 * kPi * p * x) *
           std::sin(2 * kPi * q * y);
  }
  double laplacian(double x, double y) const {
    return -std::pow(2 * kPi * p, 2) * a * std::cos(2 * kPi * p * x) -
           std::pow(2 * kPi * q, 2) * b * std::cos(2 * kPi * q * y);
  }
};

double li_forcing(double x, double y) { return 0.1 * (std::sin(2 * kPi * (x + y)) + std::cos(2 * kPi * (x + y))); }

// A steady trajectory of `frames` copies of the field: [1, frames, ny, nx].
torch::Tensor steady(const torch::Tensor& field, int64_t frames) {
  return field.unsqueeze(0).unsqueeze(0).expand({1, frames, field.size(0), field.size(1)}).contiguous();
}

TEST(VorticityResidual, SteadyTwoModeFlowMatchesItsTermsByHand) {
  // Checks the sign convention (Lap psi = -w, u = psi_y, v = -psi_x: SpectralNs2d's), the nonlinear
  // term, viscosity and forcing on a non-square grid. The field does not change, so dw/dt = 0.
  const TwoModes flow{.a = 1.3, .b = -0.6, .p = 1, .q = 2};
  const int64_t ny = 24, nx = 32;
  const double nu = 0.01;
  const torch::Tensor w = steady(sample(ny, nx, [&](double x, double y) { return flow.w(x, y); }), 3);
  const torch::Tensor f = sample(ny, nx, li_forcing);
  const torch::Tensor expected = sample(ny, nx, [&](double x, double y) {
    return flow.advection(x, y) - nu * flow.laplacian(x, y) - li_forcing(x, y);
  });
  ASSERT_GT(max_abs(sample(ny, nx, [&](double x, double y) { return flow.advection(x, y); })), 1.0);
  const torch::Tensor r = vorticity_residual(w, f, {.dt = 0.1, .viscosity = nu, .bdf_order = 2});
  ASSERT_EQ(r.sizes(), torch::IntArrayRef({1, 1, ny, nx}));  // frames k .. T-1
  EXPECT_LT(max_abs(r[0][0] - expected), 1e-12);
}

TEST(VorticityResidual, DealiasingDropsTheProductOutsideTheTwoThirdsBand) {
  // On 16 points the band keeps |k| <= 5; the product's mode (1, 6) lies outside it (and is still
  // representable, |6| < 8, so without the filter it is exact).
  const TwoModes flow{.a = 0.9, .b = 0.4, .p = 1, .q = 6};
  const int64_t n = 16;
  const double nu = 0.02;
  const torch::Tensor w = steady(sample(n, n, [&](double x, double y) { return flow.w(x, y); }), 2);
  const torch::Tensor linear = sample(n, n, [&](double x, double y) { return -nu * flow.laplacian(x, y); });
  const torch::Tensor advection = sample(n, n, [&](double x, double y) { return flow.advection(x, y); });
  ASSERT_GT(max_abs(advection), 1.0);
  const VorticityResidualSpec spec{.dt = 0.1, .viscosity = nu, .bdf_order = 1};
  EXPECT_LT(max_abs(vorticity_residual(w, {}, spec)[0][0] - linear), 1e-11);
  VorticityResidualSpec unfiltered = spec;
  unfiltered.dealias = false;
  EXPECT_LT(max_abs(vorticity_residual(w, {}, unfiltered)[0][0] - linear - advection), 1e-11);
}

// Taylor-Green on the unit torus: w = A cos(2 pi n x) cos(2 pi n y) is an eigenfunction of Lap with
// eigenvalue -8 pi^2 n^2 and psi is proportional to w, so u.grad w = 0 and w = w0 exp(-lambda t),
// lambda = 8 pi^2 n^2 nu, solves the unforced equation exactly.
struct TaylorGreen {
  double amplitude = 1.7;
  int n = 1;
  double nu = 0.01;
  double lambda() const { return 8 * kPi * kPi * n * n * nu; }
  // Frames t_m = m dt, m = 0 .. frames - 1: [1, frames, ny, nx].
  torch::Tensor trajectory(int64_t ny, int64_t nx, int64_t frames, double dt) const {
    const torch::Tensor w0 = sample(ny, nx, [&](double x, double y) {
      return amplitude * std::cos(2 * kPi * n * x) * std::cos(2 * kPi * n * y);
    });
    const torch::Tensor decay = torch::exp(-lambda() * dt * torch::arange(frames, kDouble));
    return (decay.view({frames, 1, 1}) * w0).unsqueeze(0);
  }
};

TEST(VorticityResidual, TaylorGreenSpatialPartIsExact) {
  // With exact samples, the residual at frame m is the time rule's error alone:
  // r_m = w_m (1/dt sum_j a_j exp(lambda j dt) + lambda). Anything else (space) must be round-off.
  const TaylorGreen tg{.amplitude = 1.7, .n = 2, .nu = 0.01};
  const int64_t ny = 24, nx = 32, frames = 6;
  const double dt = 0.05;
  const torch::Tensor w = tg.trajectory(ny, nx, frames, dt);
  for (int k : {1, 2, 3}) {
    const std::vector<double> a = backward_difference_weights(k);
    double factor = tg.lambda();
    for (int j = 0; j <= k; ++j) factor += a[j] * std::exp(tg.lambda() * j * dt) / dt;
    const torch::Tensor r = vorticity_residual(w, {}, {.dt = dt, .viscosity = tg.nu, .bdf_order = k});
    ASSERT_EQ(r.size(1), frames - k);
    const torch::Tensor expected = factor * w.narrow(1, k, frames - k);
    // The terms are of size lambda |w| ~ 5: round-off is ~1e-15 of that.
    const double scale = tg.lambda() * max_abs(w);
    EXPECT_LT(max_abs(r - expected), 1e-13 * scale) << "order " << k;
    EXPECT_GT(max_abs(r), 1e3 * 1e-13 * scale) << "order " << k << ": the time error must be visible here";
  }
}

TEST(VorticityResidual, TaylorGreenTimeDerivativeConvergesAtTheRulesOrder) {
  const TaylorGreen tg{.amplitude = 1.0, .n = 1, .nu = 0.01};
  for (int k : {1, 2, 3}) {
    // The residual relative to dw/dt = -lambda w, at the last frame of a trajectory of k + 1 frames.
    const auto relative_residual = [&](double dt) {
      const torch::Tensor w = tg.trajectory(16, 16, k + 1, dt);
      const torch::Tensor r = vorticity_residual(w, {}, {.dt = dt, .viscosity = tg.nu, .bdf_order = k});
      return max_abs(r) / (tg.lambda() * max_abs(w[0][k]));
    };
    const double e1 = relative_residual(0.1), e2 = relative_residual(0.05), e3 = relative_residual(0.025);
    EXPECT_NEAR(std::log2(e1 / e2), k, 0.15) << "order " << k << ": " << e1 << " " << e2;
    EXPECT_NEAR(std::log2(e2 / e3), k, 0.1) << "order " << k << ": " << e2 << " " << e3;
    EXPECT_GT(e3, 1e-9) << "order " << k << ": the time error must dominate round-off";
  }
}

TEST(VorticityResidual, AGivenTimeDerivativeEntersAtEveryFrame) {
  // The overload for models whose output is continuous in time: r = dwdt + (the spatial terms by
  // hand), at every frame; Taylor-Green with its exact derivative has no residual at all.
  const TwoModes flow{.a = 1.3, .b = -0.6, .p = 1, .q = 2};
  const int64_t ny = 24, nx = 32;
  const double nu = 0.01;
  const torch::Tensor w = steady(sample(ny, nx, [&](double x, double y) { return flow.w(x, y); }), 3);
  const torch::Tensor f = sample(ny, nx, li_forcing);
  const torch::Tensor spatial = sample(ny, nx, [&](double x, double y) {
    return flow.advection(x, y) - nu * flow.laplacian(x, y) - li_forcing(x, y);
  });
  const torch::Tensor dwdt = torch::randn(w.sizes(), w.options());
  const VorticityResidualSpec spec{.viscosity = nu};  // dt and bdf_order are not used
  const torch::Tensor c = vorticity_residual_coefficients(w, dwdt, f, spec);
  ASSERT_EQ(c.sizes(), torch::IntArrayRef({1, 3, ny, nx / 2 + 1}));
  const torch::Tensor r = torch::fft::irfft2(c, std::vector<int64_t>{ny, nx}, {-2, -1}, "forward");
  EXPECT_LT(max_abs(r - dwdt - spatial.unsqueeze(0).unsqueeze(0)), 1e-12);
  const SobolevOrder h_minus_1{.s = -1.0, .alpha = 1.0};
  EXPECT_NEAR(vorticity_residual_norm(w, dwdt, f, spec, h_minus_1).item<double>(),
              sobolev_norm(r, h_minus_1).item<double>(), 1e-12);

  const TaylorGreen tg{.amplitude = 1.7, .n = 2, .nu = 0.01};
  const torch::Tensor wt = tg.trajectory(ny, nx, 4, 0.05);
  const torch::Tensor rt = vorticity_residual(wt, {}, {.dt = 0.05, .viscosity = tg.nu, .bdf_order = 1});
  ASSERT_GT(max_abs(rt), 1e-3);  // backward differences see the time rule's error ...
  const torch::Tensor exact = vorticity_residual_coefficients(wt, -tg.lambda() * wt, {}, {.viscosity = tg.nu});
  EXPECT_LT(exact.abs().max().item<double>(), 1e-13 * tg.lambda() * max_abs(wt));  // ... the exact rate none
  EXPECT_THROW(vorticity_residual_coefficients(w, dwdt.narrow(1, 0, 2), f, spec), Error);  // shapes differ
}

TEST(VorticityResidual, GradientsFlowInSinglePrecision) {
  const torch::Tensor w = torch::randn({2, 5, 16, 16}).requires_grad_(true);
  const torch::Tensor f = torch::randn({16, 16});
  const torch::Tensor loss =
      vorticity_residual_norm(w, f, {.dt = 0.1, .viscosity = 1e-3, .bdf_order = 2}, {.s = -1.0, .alpha = 1.0});
  ASSERT_EQ(loss.sizes(), torch::IntArrayRef({2}));
  loss.sum().backward();
  EXPECT_TRUE(torch::isfinite(w.grad()).all().item<bool>());
  EXPECT_GT(max_abs(w.grad()), 0.0);
}

TEST(VorticityResidual, NormIsTheSobolevNormOfThePhysicalResidual) {
  const torch::Tensor w = torch::randn({2, 6, 12, 16}, kDouble);
  const torch::Tensor f = torch::randn({2, 12, 16}, kDouble);  // one forcing per sample
  const VorticityResidualSpec spec{.dt = 0.05, .viscosity = 0.01, .bdf_order = 3};
  const SobolevOrder order{.s = -1.0, .alpha = 1.0};
  const torch::Tensor via_fields = sobolev_norm(vorticity_residual(w, f, spec), order);
  EXPECT_LT(max_abs(vorticity_residual_norm(w, f, spec, order) - via_fields), 1e-12 * max_abs(via_fields));
}

TEST(VorticityResidual, BadInput) {
  const VorticityResidualSpec spec{.dt = 0.1, .viscosity = 1e-3, .bdf_order = 2};
  const torch::Tensor w = torch::randn({1, 4, 16, 16}, kDouble);
  EXPECT_THROW(vorticity_residual(torch::randn({1, 4, 15, 16}, kDouble), {}, spec), Error);  // odd grid
  EXPECT_THROW(vorticity_residual(torch::randn({1, 2, 16, 16}, kDouble), {}, spec), Error);  // 2 frames < 3
  EXPECT_THROW(vorticity_residual(torch::randn({4, 16, 16}, kDouble), {}, spec), Error);     // no time axis
  EXPECT_THROW(vorticity_residual(w, torch::randn({16, 8}, kDouble), spec), Error);          // forcing's grid
  EXPECT_THROW(vorticity_residual(w, {}, {.dt = 0.0, .viscosity = 1e-3}), Error);
  EXPECT_THROW(vorticity_residual(w, {}, {.dt = 0.1, .viscosity = -1.0}), Error);
  EXPECT_THROW(vorticity_residual(w, {}, {.dt = 0.1, .viscosity = 1e-3, .bdf_order = 0}), Error);
  try {
    vorticity_residual(torch::randn({1, 2, 16, 16}, kDouble), {}, spec);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("2 frames"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// On fluxion's own solver

// The paper's setting at 64^2: f = 0.1 (sin 2 pi (x + y) + cos 2 pi (x + y)), nu = 1e-3, a Gaussian
// random initial field (alpha 2.5, tau 7), to t = 0.4, a frame every `record_every` steps.
struct SolverRun {
  torch::Tensor trajectory;  // [1, frames, n, n], the initial field first
  torch::Tensor forcing;     // [n, n]
};

SolverRun solver_run(SpectralScheme scheme, double dt, int record_every, double t_end = 0.4, int64_t n = 64) {
  SpectralNs2dSpec spec;
  spec.nx = spec.ny = n;
  spec.viscosity = 1e-3;
  spec.forcing.type = SpectralForcing::Type::Li;
  spec.scheme = scheme;
  SpectralNs2d ns(MPI_COMM_SELF, spec);
  ns.set_random_field({.alpha = 2.5, .tau = 7.0, .seed = 5});
  const auto to_tensor = [n](const std::vector<double>& values) {
    return torch::tensor(values, kDouble).view({n, n});  // row-major, x fastest: [ny, nx]
  };
  const int64_t steps = std::lround(t_end / dt);
  std::vector<torch::Tensor> frames{to_tensor(ns.vorticity_values())};
  for (int64_t s = 0; s < steps; ++s) {
    ns.step(dt);
    if ((s + 1) % record_every == 0) frames.push_back(to_tensor(ns.vorticity_values()));
  }
  return {torch::stack(frames).unsqueeze(0), to_tensor(ns.forcing_values())};
}

double observed_order(double coarse, double fine) { return std::log2(coarse / fine); }

TEST(VorticityResidual, SolverTrajectoryResidualFallsWithTheSolversStep) {
  // Frames of the solver (Crank-Nicolson + Heun, second order) one step dt apart, and "exact" frames
  // at the same times (integrating-factor RK4 at dt / 8, whose error is far below). For a smooth
  // trajectory sampled dt apart, the residual is the time rule's truncation O(dt^k) (what the exact
  // frames show) plus the solver's local error per unit time, O(dt^2).
  const SobolevOrder l2{.s = 0.0, .alpha = 1.0}, h_minus_1{.s = -1.0, .alpha = 1.0};
  const std::vector<double> steps = {0.01, 0.005, 0.0025};
  struct Measured {
    double bdf2_l2, bdf2_h_minus_1, bdf2_exact_l2;  // relative to |dw/dt|
    double bdf4_l2, bdf4_h_minus_1, bdf4_exact_l2, bdf4_exact_h_minus_1;
    double solver_error;  // relative, at t = 0.4
  };
  std::vector<Measured> m;
  for (double dt : steps) {
    const SolverRun run = solver_run(SpectralScheme::CnRk2, dt, 1);
    const SolverRun exact = solver_run(SpectralScheme::IfRk4, dt / 8, 8);
    const torch::Tensor& w = run.trajectory;
    ASSERT_EQ(w.sizes(), exact.trajectory.sizes());
    // The residual is measured against the size of dw/dt (what the equation's terms add up to).
    const torch::Tensor rate = (w.narrow(1, 1, w.size(1) - 1) - w.narrow(1, 0, w.size(1) - 1)) / dt;
    const double rate_l2 = sobolev_norm(rate, l2).item<double>();
    const double rate_h_minus_1 = sobolev_norm(rate, h_minus_1).item<double>();
    const auto norm = [&](const SolverRun& r, int k, const SobolevOrder& order) {
      const VorticityResidualSpec spec{.dt = dt, .viscosity = 1e-3, .bdf_order = k};
      return vorticity_residual_norm(r.trajectory, r.forcing, spec, order).item<double>() /
             (order.s == 0.0 ? rate_l2 : rate_h_minus_1);
    };
    m.push_back({.bdf2_l2 = norm(run, 2, l2), .bdf2_h_minus_1 = norm(run, 2, h_minus_1),
                 .bdf2_exact_l2 = norm(exact, 2, l2), .bdf4_l2 = norm(run, 4, l2),
                 .bdf4_h_minus_1 = norm(run, 4, h_minus_1), .bdf4_exact_l2 = norm(exact, 4, l2),
                 .bdf4_exact_h_minus_1 = norm(exact, 4, h_minus_1),
                 .solver_error = sobolev_norm(w.select(1, -1) - exact.trajectory.select(1, -1), l2).item<double>() /
                                 sobolev_norm(exact.trajectory.select(1, -1), l2).item<double>()});
    if (dt == steps.front()) {
      // The residual sees a wrong time evolution: the same frames read as 2 dt apart halve the
      // backward difference, which leaves half of dw/dt as the residual.
      const VorticityResidualSpec slow{.dt = 2 * dt, .viscosity = 1e-3, .bdf_order = 2};
      EXPECT_NEAR(vorticity_residual_norm(w, run.forcing, slow, l2).item<double>() / rate_l2, 0.5, 0.01);
    }
  }
  for (std::size_t i = 0; i < m.size(); ++i)
    std::printf("  dt %.4f: |r| / |dw/dt|: BDF2 L2 %.2e (exact frames %.2e), H^-1 %.2e; BDF4 L2 %.2e (exact frames "
                "%.2e), H^-1 %.2e (exact frames %.2e); solver error %.2e\n",
                steps[i], m[i].bdf2_l2, m[i].bdf2_exact_l2, m[i].bdf2_h_minus_1, m[i].bdf4_l2, m[i].bdf4_exact_l2,
                m[i].bdf4_h_minus_1, m[i].bdf4_exact_h_minus_1, m[i].solver_error);
  for (std::size_t i = 0; i + 1 < m.size(); ++i) {
    const Measured &a = m[i], &b = m[i + 1];
    SCOPED_TRACE(testing::Message() << "dt " << steps[i] << " -> " << steps[i + 1]);
    EXPECT_NEAR(observed_order(a.solver_error, b.solver_error), 2.0, 0.2);  // the solver's order
    // BDF2 (the default): the rule's truncation and the solver's error are both O(dt^2).
    EXPECT_NEAR(observed_order(a.bdf2_l2, b.bdf2_l2), 2.0, 0.2);
    EXPECT_NEAR(observed_order(a.bdf2_h_minus_1, b.bdf2_h_minus_1), 2.0, 0.2);
    // BDF4: the rule's floor falls faster, so what is left is the solver's own error; it approaches
    // the solver's order 2 as the fastest modes become resolved in time (1.5, then 1.7 in L2 here).
    EXPECT_GT(observed_order(a.bdf4_l2, b.bdf4_l2), 1.2);
    EXPECT_GT(observed_order(a.bdf4_exact_l2, b.bdf4_exact_l2), 3.0);
  }
  const Measured &coarse = m.front(), &fine = m.back();
  // BDF2 at the solver's own step: the residual is the rule's truncation, at the level of the exact
  // frames' residual, and far below the terms (|r| << |dw/dt|).
  for (const Measured& x : m) EXPECT_LT(std::abs(std::log2(x.bdf2_l2 / x.bdf2_exact_l2)), 1.0);
  EXPECT_LT(coarse.bdf2_l2, 1e-2);
  EXPECT_GT(fine.bdf2_l2, 1e-8);  // not round-off: the orders mean something
  // BDF4 at the finest step: the residual is the solver's error (the exact frames' is about 100 times
  // smaller) and falls at about the solver's order.
  EXPECT_GT(fine.bdf4_l2, 30 * fine.bdf4_exact_l2);
  EXPECT_GT(fine.bdf4_h_minus_1, 30 * fine.bdf4_exact_h_minus_1);
  const Measured& before = m[m.size() - 2];
  EXPECT_NEAR(observed_order(before.bdf4_l2, fine.bdf4_l2), 2.0, 0.4);
  EXPECT_NEAR(observed_order(before.bdf4_h_minus_1, fine.bdf4_h_minus_1), 2.0, 0.4);
}

}  // namespace
}  // namespace fluxion::learn
