// Sobolev norms H^s (any real s, negative included) of periodic fields on the unit torus, through
// torch's FFT: the losses of SFNO and of Spectral-Refiner's residual fine-tuning.
//
// A field v sampled on the grid points x_j = (i / nx, j / ny) of [0, 1)^2 is the trigonometric
// polynomial v(x) = sum_k c_k exp(2 pi i k.x) whose Fourier coefficients are
//   c_k = 1/(nx ny) sum_j v(x_j) exp(-2 pi i k.x_j),  k = (kx, ky), |kx| <= nx/2, |ky| <= ny/2,
// and its norm is
//   ||v||_{H^s}^2 = sum_k (alpha + 4 pi^2 |k|^2)^s |c_k|^2.
// By Parseval, s = 0 with alpha = 1 is the L2 norm over the unit square, int |v|^2 dx, which is
// the mean of v^2 over the grid points; s = 1, alpha = 1 is int |v|^2 + |grad v|^2 dx; s = -1 is the
// dual norm of H^1. A Nyquist mode (kx = nx/2 or ky = ny/2 on an even grid) is one coefficient with
// |kx| = nx/2 (the sampled cos(pi nx x) is (-1)^i). alpha = 0 weights k != 0 by (4 pi^2 |k|^2)^s and
// the mean (k = 0) by 1, as torch-cfd's SobolevLoss does.
//
// Shapes: fields are [..., ny, nx] (real, float or double); the losses take [batch, ny, nx] (one
// field per sample) or [batch, time, ny, nx] (a trajectory per sample, time on dim 1). All
// functions are differentiable (autograd through torch.fft).
#pragma once

#include <torch/torch.h>

namespace fluxion::learn {

/// The norm's parameters: ||v||^2 = sum_k (alpha + 4 pi^2 |k|^2)^s |c_k|^2. Any real s; alpha >= 0.
struct SobolevOrder {
  double s = -1.0;
  double alpha = 1.0;
};

/// The Fourier coefficients c_k of fields [..., ny, nx] (real) in rfft layout: complex
/// [..., ny, nx/2 + 1], row ky in torch.fft.fftfreq order (0, 1, .., -1), column kx = 0 .. nx/2.
/// Normalised as above (the forward transform divided by nx ny), so that irfft2 with norm "forward"
/// gives the field back.
torch::Tensor fourier_coefficients(const torch::Tensor& v);

/// ||v||_{H^s}^2 from rfft-layout coefficients c [..., ny, nx/2 + 1] of fields with nx points per row
/// (nx is not recoverable from the rfft width: 2 m - 2 and 2 m - 1 both give m columns). Each column
/// 0 < kx < nx/2 stands for kx and -kx and counts twice. Returns [...]. Throws Error for alpha < 0,
/// a width that does not match nx, or fewer than 2 dimensions.
torch::Tensor sobolev_squared_from_coefficients(const torch::Tensor& c, int64_t nx, const SobolevOrder& order);

/// ||v||_{H^s}^2 of each field of v [..., ny, nx]: [...] (a 2D v gives a 0-dimensional tensor).
torch::Tensor sobolev_squared(const torch::Tensor& v, const SobolevOrder& order);

/// The norm per sample: v [batch, ny, nx] -> [batch] ||v_b||_{H^s}; v [batch, time, ny, nx] ->
/// [batch] (1/T sum_t ||v_{b,t}||_{H^s}^2)^(1/2), the L2-in-time (Bochner) norm over the
/// trajectory divided by the square root of its length T (a time average: a constant-in-time
/// trajectory has the norm of its field). Throws Error for another rank.
torch::Tensor sobolev_norm(const torch::Tensor& v, const SobolevOrder& order);

/// The absolute error per sample, sobolev_norm(prediction - truth): [batch]. Shapes must match.
torch::Tensor sobolev_error(const torch::Tensor& prediction, const torch::Tensor& truth, const SobolevOrder& order);

/// The relative error per sample, ||p - t|| / ||t||: [batch]. With a time axis both are the
/// trajectory norms of sobolev_norm, so (sum_t ||p_t - t_t||^2 / sum_t ||t_t||^2)^(1/2) (torch-cfd's
/// relative SobolevLoss; the time average cancels). Shapes must match.
torch::Tensor relative_sobolev_error(const torch::Tensor& prediction, const torch::Tensor& truth,
                                     const SobolevOrder& order);

}  // namespace fluxion::learn
