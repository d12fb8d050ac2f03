// SIREN networks and the spatial derivatives of fields they represent (issue 11, INSR: Chen et al.,
// ICML 2023, REFERENCES.md section 5; the authors' code is honglin-c/INSR-PDE). A field is a network
// of the coordinates, so its derivatives come from autograd at sample points; they are built with
// create_graph, so that a loss made of them is differentiable again in the weights.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

namespace fluxion::learn {

/// SIREN as the INSR authors define it: Linear(in, width), sin(w0 z), then hidden_layers times
/// Linear(width, width), sin(w0 z), then a linear output layer (hidden_layers + 2 linear layers:
/// their 1D advection network 1 -> 20 -> 20 -> 20 -> 1, hidden_layers 2, has 901 parameters).
/// Initialisation (Sitzmann et al.): first layer weights U(-1/in, 1/in), every other layer's
/// (the output's too) U(-sqrt(6/in)/w0, sqrt(6/in)/w0), biases as torch's Linear. Coordinates go
/// in as they are (the authors do not normalise them).
struct SirenOptions {
  int in_features = 1;
  int out_features = 1;
  int width = 20;
  int hidden_layers = 2;
  double w0 = 30.0;

  nlohmann::json to_json() const;
  static SirenOptions from_json(const nlohmann::json& j);  // throws Error naming "network.<key>"
};

class SirenNetImpl : public torch::nn::Module {
 public:
  explicit SirenNetImpl(const SirenOptions& options);
  /// x [points, in_features] -> [points, out_features].
  torch::Tensor forward(const torch::Tensor& x);
  const SirenOptions& options() const { return options_; }

 private:
  SirenOptions options_;
  std::vector<torch::nn::Linear> layers_;
};
TORCH_MODULE(SirenNet);

/// Derivatives of a field y(x) sampled at points x [points, d] (x.requires_grad(), y computed from x
/// pointwise, e.g. by a SirenNet). All are differentiable again (create_graph). Throw Error when x
/// does not require grad or the shapes do not fit.
/// Scalar field y [points] or [points, 1] -> gradient [points, d].
torch::Tensor field_gradient(const torch::Tensor& y, const torch::Tensor& x);
/// Vector field y [points, m] -> Jacobian [points, m, d], J[p, i, j] = dy_i / dx_j.
torch::Tensor field_jacobian(const torch::Tensor& y, const torch::Tensor& x);
/// Vector field y [points, d] -> divergence [points].
torch::Tensor field_divergence(const torch::Tensor& y, const torch::Tensor& x);
/// Scalar field -> Laplacian [points].
torch::Tensor field_laplacian(const torch::Tensor& y, const torch::Tensor& x);
/// Displacement u [points, d] of material points X -> deformation gradient F = I + du/dX [points, d, d].
torch::Tensor deformation_gradient(const torch::Tensor& u, const torch::Tensor& X);

}  // namespace fluxion::learn
