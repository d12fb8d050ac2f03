// The residual of the 2D incompressible Navier-Stokes equations in vorticity form on the unit torus,
//   r = dw/dt + u.grad w - nu Lap w - f,
// for a trajectory w of snapshots dt apart (a model's prediction): pseudo-spectral and
// differentiable, so that its (negative) Sobolev norm is a loss (Spectral-Refiner, Cao et al.
// ICLR 2025, REFERENCES.md section 4).
//
// Conventions, the same as fluxion's SpectralNs2d: grid points x_j = (i / nx, j / ny) of [0, 1)^2;
// stream function Lap psi = -w (zero mean), velocity u = dpsi/dy, v = -dpsi/dx. Spatial derivatives
// are exact for trigonometric polynomials (first derivatives of a Nyquist mode are set to zero, its
// Laplacian kept); u.grad w is formed in physical space and its coefficients outside the 2/3 band
// (|kx| < nx/3 and |ky| < ny/3, strictly: SpectralNs2d's band) are dropped, as torch-cfd does.
//
// The time derivative is the backward differentiation formula of order k over the frames,
//   dw/dt(t_n) ~ 1/dt sum_{j=0..k} a_j w(t_{n-j}),  a_j from sum_{m=1..k} (1/m) nabla^m,
// accurate to O(dt^k) (k = 2: (3 w_n - 4 w_{n-1} + w_{n-2}) / (2 dt)); torch-cfd's backdiff has the
// same weights (orders 1 to 5). So the residual exists at frames k .. T-1 only; a caller who wants it
// at every predicted frame prepends the last k input frames. Even exact frames have a residual, the
// rule's truncation error: relative to |dw/dt|, 1.7e-3 at dt = 0.01 with k = 2 in the paper's setting
// at 64^2, t in [0, 0.4] from a random initial field (tests/learn/spectral_losses_test.cpp), growing
// as dt^k; frames far apart need a larger k or more frames (SFNO can output any number).
// (torch-cfd's fine-tuning layer, OutConvFT, takes dw/dt instead from one IMEX Crank-Nicolson step
// from each frame, of 1e-6 by default, i.e. from the equation itself; that residual does not couple
// the frames, so it cannot see an error in the time evolution: not used here.)
#pragma once

#include <torch/torch.h>

#include <vector>

#include "fluxion/learn/sobolev.hpp"

namespace fluxion::learn {

/// What the residual needs besides the trajectory.
struct VorticityResidualSpec {
  double dt = 0.0;           // time between frames, > 0
  double viscosity = 1e-3;   // nu >= 0
  int bdf_order = 2;         // k in 1 .. 6: the order of the time derivative, and the frames it uses (k + 1)
  bool dealias = true;       // drop the coefficients of u.grad w outside the 2/3 band
};

/// The weights a_0 .. a_k of the order-k backward difference dw/dt(t_n) ~ 1/dt sum_j a_j w(t_{n-j})
/// (k = 1: {1, -1}; k = 2: {3/2, -2, 1/2}). Throws Error unless 1 <= k <= 6.
std::vector<double> backward_difference_weights(int order);

/// The residual's Fourier coefficients (sobolev.hpp's normalisation, rfft layout) at frames
/// k .. T-1: complex [batch, T - k, ny, nx/2 + 1]. The form the H^s loss takes without another FFT.
///   w: [batch, T, ny, nx] real (float or double), nx and ny even and >= 4, T >= k + 1;
///   forcing: [ny, nx] or [batch, ny, nx], time-independent; an undefined tensor (torch::Tensor())
///            for none.
/// Units: those of w per unit time. Throws Error naming what is wrong (rank, an odd or too small
/// grid, a trajectory shorter than k + 1 frames, the forcing's shape, dt, nu, k).
torch::Tensor vorticity_residual_coefficients(const torch::Tensor& w, const torch::Tensor& forcing,
                                              const VorticityResidualSpec& spec);

/// The residual's coefficients at every frame, given the time derivative dwdt of the trajectory
/// (same shape as w, per unit time): e.g. the exact derivative of a model whose output is continuous
/// in time (SfnoNet::extend_with_rate). spec.dt and spec.bdf_order are not used. Complex
/// [batch, T, ny, nx/2 + 1].
torch::Tensor vorticity_residual_coefficients(const torch::Tensor& w, const torch::Tensor& dwdt,
                                              const torch::Tensor& forcing, const VorticityResidualSpec& spec);

/// The residual in physical space at frames k .. T-1: [batch, T - k, ny, nx], w's dtype.
torch::Tensor vorticity_residual(const torch::Tensor& w, const torch::Tensor& forcing,
                                 const VorticityResidualSpec& spec);

/// The fine-tuning loss: per sample, (1/(T - k) sum_n ||r(t_n)||_{H^s}^2)^(1/2) over frames k .. T-1
/// (sobolev_norm's time average): [batch].
torch::Tensor vorticity_residual_norm(const torch::Tensor& w, const torch::Tensor& forcing,
                                      const VorticityResidualSpec& spec, const SobolevOrder& order);
/// The same with the time derivative given (every frame counts): [batch].
torch::Tensor vorticity_residual_norm(const torch::Tensor& w, const torch::Tensor& dwdt, const torch::Tensor& forcing,
                                      const VorticityResidualSpec& spec, const SobolevOrder& order);

}  // namespace fluxion::learn
