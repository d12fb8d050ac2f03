// Losses: see losses.hpp.
#include "fluxion/learn/losses.hpp"

namespace fluxion::learn {

namespace {

torch::Tensor squared_norm(const torch::Tensor& v) { return v.pow(2).flatten(1).sum(1); }

// Sum of the squared difference quotients along both axes of [batch, c, ny, nx] on the unit square.
torch::Tensor squared_seminorm(const torch::Tensor& v) {
  const double ny = static_cast<double>(v.size(-2)), nx = static_cast<double>(v.size(-1));
  const torch::Tensor dx = v.diff(1, -1) * nx, dy = v.diff(1, -2) * ny;
  return squared_norm(dx) + squared_norm(dy);
}

}  // namespace

torch::Tensor relative_l2(const torch::Tensor& prediction, const torch::Tensor& truth) {
  return (squared_norm(prediction - truth) / squared_norm(truth)).sqrt();
}

torch::Tensor relative_h1(const torch::Tensor& prediction, const torch::Tensor& truth) {
  const torch::Tensor e = prediction - truth;
  // The cell weights (1/(nx ny)) cancel in the ratio.
  return ((squared_norm(e) + squared_seminorm(e)) / (squared_norm(truth) + squared_seminorm(truth))).sqrt();
}

}  // namespace fluxion::learn
