// Sobolev norms of periodic fields: see sobolev.hpp.
#include "fluxion/learn/sobolev.hpp"

#include <numbers>
#include <string>

#include "fluxion/core/error.hpp"

namespace fluxion::learn {

namespace {

void check_fields(const torch::Tensor& v, const char* what) {
  if (v.dim() < 2 || v.size(-1) < 1 || v.size(-2) < 1)
    throw Error(std::string(what) + ": expected fields [..., ny, nx], got a tensor of shape " + c10::str(v.sizes()));
  if (v.is_complex()) throw Error(std::string(what) + ": expected real fields, got a complex tensor");
}

// Rank 3 ([batch, ny, nx]) or 4 ([batch, time, ny, nx]).
void check_samples(const torch::Tensor& v, const char* what) {
  if (v.dim() != 3 && v.dim() != 4)
    throw Error(std::string(what) + ": expected [batch, ny, nx] or [batch, time, ny, nx], got shape " + c10::str(v.sizes()));
  check_fields(v, what);
}

void check_same_shape(const torch::Tensor& p, const torch::Tensor& t, const char* what) {
  if (p.sizes() != t.sizes())
    throw Error(std::string(what) + ": prediction " + c10::str(p.sizes()) + " and truth " + c10::str(t.sizes()) + " differ in shape");
}

// (alpha + 4 pi^2 |k|^2)^s times the count of each rfft column (2 for 0 < kx < nx/2): [ny, nx/2 + 1].
torch::Tensor spectral_weight(int64_t ny, int64_t nx, const SobolevOrder& order, const torch::TensorOptions& real) {
  const torch::Tensor ky = torch::fft::fftfreq(ny, real) * static_cast<double>(ny);
  const torch::Tensor kx = torch::fft::rfftfreq(nx, real) * static_cast<double>(nx);
  const double four_pi2 = 4.0 * std::numbers::pi * std::numbers::pi;
  torch::Tensor weight = (order.alpha + four_pi2 * (ky.unsqueeze(1).square() + kx.unsqueeze(0).square())).pow(order.s);
  if (order.alpha == 0.0) weight.index_put_({0, 0}, 1.0);  // the mean, as torch-cfd weights it
  torch::Tensor count = torch::full({nx / 2 + 1}, 2.0, real);
  count.index_put_({0}, 1.0);
  if (nx % 2 == 0) count.index_put_({nx / 2}, 1.0);  // the Nyquist column has no mirror
  return weight * count.unsqueeze(0);
}

}  // namespace

torch::Tensor fourier_coefficients(const torch::Tensor& v) {
  check_fields(v, "fourier_coefficients");
  return torch::fft::rfft2(v, c10::nullopt, {-2, -1}, "forward");
}

torch::Tensor sobolev_squared_from_coefficients(const torch::Tensor& c, int64_t nx, const SobolevOrder& order) {
  if (c.dim() < 2) throw Error("Sobolev norm: expected coefficients [..., ny, nx/2 + 1], got shape " + c10::str(c.sizes()));
  if (nx < 1 || c.size(-1) != nx / 2 + 1)
    throw Error("Sobolev norm: coefficients of width " + std::to_string(c.size(-1)) + " are not the rfft of " +
                std::to_string(nx) + " points per row (expected width " + std::to_string(nx / 2 + 1) + ")");
  if (!(order.alpha >= 0.0))
    throw Error("Sobolev norm: alpha = " + std::to_string(order.alpha) + " must be >= 0");
  const torch::Tensor re = torch::real(c), im = torch::imag(c);
  const torch::Tensor weight = spectral_weight(c.size(-2), nx, order, re.options());
  return ((re.square() + im.square()) * weight).sum({-2, -1});
}

torch::Tensor sobolev_squared(const torch::Tensor& v, const SobolevOrder& order) {
  return sobolev_squared_from_coefficients(fourier_coefficients(v), v.size(-1), order);
}

torch::Tensor sobolev_norm(const torch::Tensor& v, const SobolevOrder& order) {
  check_samples(v, "sobolev_norm");
  const torch::Tensor squared = sobolev_squared(v, order);
  return (v.dim() == 4 ? squared.mean(1) : squared).sqrt();
}

torch::Tensor sobolev_error(const torch::Tensor& prediction, const torch::Tensor& truth, const SobolevOrder& order) {
  check_same_shape(prediction, truth, "sobolev_error");
  check_samples(prediction, "sobolev_error");
  return sobolev_norm(prediction - truth, order);
}

torch::Tensor relative_sobolev_error(const torch::Tensor& prediction, const torch::Tensor& truth,
                                     const SobolevOrder& order) {
  check_same_shape(prediction, truth, "relative_sobolev_error");
  check_samples(prediction, "relative_sobolev_error");
  // The time mean of sobolev_norm cancels in the ratio.
  return (sobolev_norm(prediction - truth, order) / sobolev_norm(truth, order));
}

}  // namespace fluxion::learn
