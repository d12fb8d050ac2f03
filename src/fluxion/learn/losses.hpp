// Losses of the learned models, per sample of a batch [batch, channels, ny, nx].
#pragma once

#include <torch/torch.h>

namespace fluxion::learn {

/// ||p - t|| / ||t|| per sample (sums over channels and cells): [batch].
torch::Tensor relative_l2(const torch::Tensor& prediction, const torch::Tensor& truth);

/// The relative H1 error per sample: sqrt(||e||^2 + |e|_1^2) / sqrt(||t||^2 + |t|_1^2), e = p - t,
/// with |v|_1^2 the sum of squared one-sided differences divided by the cell widths (the unit
/// square: h = 1/n per axis), so that it is the grid's H1 seminorm of a non-periodic field
/// (MgNO's Darcy loss; the authors take the derivatives by FFT, which assumes periodic data). [batch].
torch::Tensor relative_h1(const torch::Tensor& prediction, const torch::Tensor& truth);

}  // namespace fluxion::learn
