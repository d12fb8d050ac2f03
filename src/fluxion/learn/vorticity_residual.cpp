// The vorticity equation's residual: see vorticity_residual.hpp.
#include "fluxion/learn/vorticity_residual.hpp"

#include <cmath>
#include <numbers>
#include <string>

#include "fluxion/core/error.hpp"

namespace fluxion::learn {

namespace {

// frames_needed: the rule's k + 1 for backward differences, 1 when the caller gives dw/dt.
void check_input(const torch::Tensor& w, const torch::Tensor& forcing, const VorticityResidualSpec& spec,
                 int64_t frames_needed) {
  const std::string what = "vorticity residual: ";
  if (spec.bdf_order < 1 || spec.bdf_order > 6)
    throw Error(what + "bdf_order = " + std::to_string(spec.bdf_order) + ": expected 1 to 6");
  if (!(spec.dt > 0.0) || !std::isfinite(spec.dt))
    throw Error(what + "dt = " + std::to_string(spec.dt) + ": the time between frames must be > 0");
  if (!(spec.viscosity >= 0.0) || !std::isfinite(spec.viscosity))
    throw Error(what + "viscosity = " + std::to_string(spec.viscosity) + ": must be >= 0");
  if (w.dim() != 4 || w.is_complex())
    throw Error(what + "expected a real trajectory [batch, time, ny, nx], got shape " + c10::str(w.sizes()));
  const int64_t ny = w.size(2), nx = w.size(3);
  if (nx % 2 != 0 || ny % 2 != 0 || nx < 4 || ny < 4)
    throw Error(what + "the grid " + std::to_string(ny) + " x " + std::to_string(nx) +
                " (ny x nx) must be even and at least 4 x 4 per axis");
  if (w.size(1) < frames_needed)
    throw Error(what + "a trajectory of " + std::to_string(w.size(1)) + " frames is shorter than the " +
                std::to_string(spec.bdf_order + 1) + " frames the order-" + std::to_string(spec.bdf_order) +
                " backward difference needs");
  if (forcing.defined()) {
    const bool plain = forcing.dim() == 2 && forcing.size(0) == ny && forcing.size(1) == nx;
    const bool per_sample = forcing.dim() == 3 && forcing.size(0) == w.size(0) && forcing.size(1) == ny &&
                            forcing.size(2) == nx;
    if (!(plain || per_sample) || forcing.is_complex())
      throw Error(what + "the forcing " + c10::str(forcing.sizes()) + " is not [ny, nx] or [batch, ny, nx] of the trajectory " +
                  c10::str(w.sizes()));
  }
}

// Largest |m| kept by the 2/3 rule on n points: the largest integer below n / 3 (SpectralNs2d's).
int64_t dealias_cutoff(int64_t n) { return (n - 1) / 3; }

torch::Tensor forward_transform(const torch::Tensor& v) {
  return torch::fft::rfft2(v, c10::nullopt, {-2, -1}, "forward");
}

torch::Tensor inverse_transform(const torch::Tensor& c, int64_t ny, int64_t nx) {
  return torch::fft::irfft2(c, std::vector<int64_t>{ny, nx}, {-2, -1}, "forward");
}

}  // namespace

std::vector<double> backward_difference_weights(int order) {
  if (order < 1 || order > 6) throw Error("backward difference: order " + std::to_string(order) + ": expected 1 to 6");
  // sum_{m=1..k} (1/m) nabla^m w_n, with nabla^m w_n = sum_{j=0..m} (-1)^j C(m, j) w_{n-j}.
  std::vector<double> a(order + 1, 0.0);
  for (int m = 1; m <= order; ++m) {
    double binomial = 1.0;  // C(m, j)
    for (int j = 0; j <= m; ++j) {
      a[j] += (j % 2 == 0 ? 1.0 : -1.0) * binomial / m;
      binomial = binomial * (m - j) / (j + 1);
    }
  }
  return a;
}

namespace {

// u.grad w - nu Lap w - f of the frames whose coefficients are wk [batch, T, ny, nx/2 + 1].
torch::Tensor spatial_terms(const torch::Tensor& wk, int64_t ny, int64_t nx, const torch::Tensor& forcing,
                            const VorticityResidualSpec& spec) {
  const torch::TensorOptions real = torch::TensorOptions().dtype(c10::toRealValueType(wk.scalar_type())).device(wk.device());
  const double two_pi = 2.0 * std::numbers::pi;
  // Integer wavenumbers: ky in fftfreq order, kx = 0 .. nx/2.
  const torch::Tensor ky = (torch::fft::fftfreq(ny, real) * static_cast<double>(ny)).round().unsqueeze(1);
  const torch::Tensor kx = (torch::fft::rfftfreq(nx, real) * static_cast<double>(nx)).round().unsqueeze(0);
  const torch::Tensor k2 = ky.square() + kx.square();  // [ny, nx/2 + 1]
  const torch::Tensor laplacian = -two_pi * two_pi * k2;
  // Lap psi = -w: psi_k = w_k / (4 pi^2 |k|^2), zero mean.
  torch::Tensor inverse_k2 = 1.0 / (two_pi * two_pi * k2);
  inverse_k2.index_put_({0, 0}, 0.0);
  // First derivatives: i 2 pi k, zero on the Nyquist row and column (its sine is zero on the grid).
  const torch::Tensor ky_d = ky.masked_fill(ky.abs() == ny / 2, 0.0), kx_d = kx.masked_fill(kx.abs() == nx / 2, 0.0);
  const torch::Tensor zero = torch::zeros({1, 1}, real);
  const torch::Tensor d_dy = torch::complex(zero, two_pi * ky_d), d_dx = torch::complex(zero, two_pi * kx_d);

  const torch::Tensor psi = wk * inverse_k2;
  const torch::Tensor u = inverse_transform(d_dy * psi, ny, nx);
  const torch::Tensor v = inverse_transform(-(d_dx * psi), ny, nx);
  const torch::Tensor w_x = inverse_transform(d_dx * wk, ny, nx);
  const torch::Tensor w_y = inverse_transform(d_dy * wk, ny, nx);
  torch::Tensor advection = forward_transform(u * w_x + v * w_y);
  if (spec.dealias) {
    const torch::Tensor band = (ky.abs() <= dealias_cutoff(ny)).logical_and(kx.abs() <= dealias_cutoff(nx));
    advection = advection * band.to(real.dtype());
  }
  torch::Tensor r = advection - spec.viscosity * (laplacian * wk);
  if (forcing.defined()) {
    const torch::Tensor f_hat = forward_transform(forcing.to(real));
    r = r - (forcing.dim() == 3 ? f_hat.unsqueeze(1) : f_hat);
  }
  return r;
}

}  // namespace

torch::Tensor vorticity_residual_coefficients(const torch::Tensor& w, const torch::Tensor& forcing,
                                              const VorticityResidualSpec& spec) {
  check_input(w, forcing, spec, spec.bdf_order + 1);
  const int k = spec.bdf_order;
  const int64_t frames = w.size(1) - k;
  const torch::Tensor w_hat = forward_transform(w);  // [batch, T, ny, nx/2 + 1]
  // dw/dt at frames k .. T-1 (linear, so taken on the coefficients).
  const std::vector<double> a = backward_difference_weights(k);
  torch::Tensor dwdt = a[0] * w_hat.narrow(1, k, frames);
  for (int j = 1; j <= k; ++j) dwdt = dwdt + a[j] * w_hat.narrow(1, k - j, frames);
  return dwdt / spec.dt + spatial_terms(w_hat.narrow(1, k, frames), w.size(2), w.size(3), forcing, spec);
}

torch::Tensor vorticity_residual_coefficients(const torch::Tensor& w, const torch::Tensor& dwdt,
                                              const torch::Tensor& forcing, const VorticityResidualSpec& spec) {
  VorticityResidualSpec given = spec;
  given.bdf_order = 1;  // dt and the order are not used
  given.dt = 1.0;
  check_input(w, forcing, given, 1);
  if (dwdt.sizes() != w.sizes() || dwdt.is_complex())
    throw Error("vorticity residual: the time derivative " + c10::str(dwdt.sizes()) + " does not match the trajectory " +
                c10::str(w.sizes()));
  return forward_transform(dwdt) + spatial_terms(forward_transform(w), w.size(2), w.size(3), forcing, spec);
}

torch::Tensor vorticity_residual(const torch::Tensor& w, const torch::Tensor& forcing,
                                 const VorticityResidualSpec& spec) {
  const torch::Tensor r = vorticity_residual_coefficients(w, forcing, spec);  // checks w before w.size(3)
  return inverse_transform(r, w.size(2), w.size(3));
}

torch::Tensor vorticity_residual_norm(const torch::Tensor& w, const torch::Tensor& forcing,
                                      const VorticityResidualSpec& spec, const SobolevOrder& order) {
  const torch::Tensor r = vorticity_residual_coefficients(w, forcing, spec);  // checks w before w.size(3)
  return sobolev_squared_from_coefficients(r, w.size(3), order).mean(1).sqrt();  // mean over the T - k frames
}

torch::Tensor vorticity_residual_norm(const torch::Tensor& w, const torch::Tensor& dwdt, const torch::Tensor& forcing,
                                      const VorticityResidualSpec& spec, const SobolevOrder& order) {
  const torch::Tensor r = vorticity_residual_coefficients(w, dwdt, forcing, spec);
  return sobolev_squared_from_coefficients(r, w.size(3), order).mean(1).sqrt();
}

}  // namespace fluxion::learn
