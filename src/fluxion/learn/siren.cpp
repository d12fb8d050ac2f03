// SIREN and field derivatives: see siren.hpp.
#include "fluxion/learn/siren.hpp"

#include <cmath>
#include <string>

#include "fluxion/core/error.hpp"
#include "fluxion/learn/model_file.hpp"

namespace fluxion::learn {

nlohmann::json SirenOptions::to_json() const {
  return {{"in_features", in_features}, {"out_features", out_features}, {"width", width},
          {"hidden_layers", hidden_layers}, {"w0", w0}};
}

SirenOptions SirenOptions::from_json(const nlohmann::json& j) {
  SirenOptions o;
  o.in_features = network_integer(j, "in_features", 1, 3);
  o.out_features = network_integer(j, "out_features", 1, 16);
  o.width = network_integer(j, "width", 1, 4096);
  o.hidden_layers = network_integer(j, "hidden_layers", 0, 64);
  o.w0 = network_number(j, "w0", 1e-3, 1e4);
  return o;
}

SirenNetImpl::SirenNetImpl(const SirenOptions& o) : options_(o) {
  std::vector<std::pair<int, int>> shapes{{o.in_features, o.width}};
  for (int i = 0; i < o.hidden_layers; ++i) shapes.push_back({o.width, o.width});
  shapes.push_back({o.width, o.out_features});
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const auto [in, out] = shapes[i];
    auto layer = register_module("linear" + std::to_string(i), torch::nn::Linear(in, out));
    const double bound = i == 0 ? 1.0 / in : std::sqrt(6.0 / in) / o.w0;
    layer->weight.uniform_(-bound, bound);
    layers_.push_back(layer);
  }
}

torch::Tensor SirenNetImpl::forward(const torch::Tensor& x) {
  if (x.dim() != 2 || x.size(1) != options_.in_features)
    throw Error("SIREN: needs points [n, " + std::to_string(options_.in_features) + "], not " + c10::str(x.sizes()));
  torch::Tensor z = x;
  for (std::size_t i = 0; i + 1 < layers_.size(); ++i) z = torch::sin(options_.w0 * layers_[i]->forward(z));
  return layers_.back()->forward(z);
}

namespace {

void check_points(const torch::Tensor& y, const torch::Tensor& x, const char* what) {
  if (!x.requires_grad()) throw Error(std::string(what) + ": the points must require grad (x.requires_grad_(true))");
  if (x.dim() != 2 || y.dim() < 1 || y.size(0) != x.size(0))
    throw Error(std::string(what) + ": field " + c10::str(y.sizes()) + " and points " + c10::str(x.sizes()) +
                " do not fit ([n, ...] and [n, d])");
}

// d(sum_p y_p)/dx: row p is dy_p/dx_p because the field is pointwise.
torch::Tensor grad_of_sum(const torch::Tensor& y, const torch::Tensor& x) {
  return torch::autograd::grad({y}, {x}, {torch::ones_like(y)}, /*retain_graph=*/true, /*create_graph=*/true,
                               /*allow_unused=*/true)[0];
}

torch::Tensor or_zeros(const torch::Tensor& g, const torch::Tensor& x) { return g.defined() ? g : torch::zeros_like(x); }

}  // namespace

torch::Tensor field_gradient(const torch::Tensor& y, const torch::Tensor& x) {
  check_points(y, x, "field_gradient");
  if (!(y.dim() == 1 || (y.dim() == 2 && y.size(1) == 1)))
    throw Error("field_gradient: needs a scalar field [n] or [n, 1], not " + c10::str(y.sizes()));
  return or_zeros(grad_of_sum(y, x), x);
}

torch::Tensor field_jacobian(const torch::Tensor& y, const torch::Tensor& x) {
  check_points(y, x, "field_jacobian");
  if (y.dim() != 2) throw Error("field_jacobian: needs a vector field [n, m], not " + c10::str(y.sizes()));
  std::vector<torch::Tensor> rows;
  for (int64_t i = 0; i < y.size(1); ++i) rows.push_back(or_zeros(grad_of_sum(y.select(1, i), x), x));
  return torch::stack(rows, 1);
}

torch::Tensor field_divergence(const torch::Tensor& y, const torch::Tensor& x) {
  check_points(y, x, "field_divergence");
  if (y.dim() != 2 || y.size(1) != x.size(1))
    throw Error("field_divergence: needs a field [n, " + std::to_string(x.size(1)) + "], not " + c10::str(y.sizes()));
  torch::Tensor div = torch::zeros({x.size(0)}, x.options());
  for (int64_t i = 0; i < y.size(1); ++i) div = div + or_zeros(grad_of_sum(y.select(1, i), x), x).select(1, i);
  return div;
}

torch::Tensor field_laplacian(const torch::Tensor& y, const torch::Tensor& x) {
  return field_divergence(field_gradient(y, x), x);
}

torch::Tensor deformation_gradient(const torch::Tensor& u, const torch::Tensor& X) {
  const torch::Tensor J = field_jacobian(u, X);
  if (J.size(1) != J.size(2))
    throw Error("deformation_gradient: the displacement has " + std::to_string(J.size(1)) + " components in " +
                std::to_string(J.size(2)) + " dimensions");
  return J + torch::eye(J.size(1), X.options()).unsqueeze(0);
}

}  // namespace fluxion::learn
