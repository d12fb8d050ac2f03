// SIREN and the field derivatives INSR's integrators need (issue 11): the authors' sizes counted by
// hand, the initialisation's bounds, derivatives of an analytic field exactly and of a SIREN against
// finite differences, and the derivatives differentiable again in the weights (double backprop,
// checked against a finite difference in one weight).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "fluxion/core/error.hpp"
#include "fluxion/learn/operator_nets.hpp"
#include "fluxion/learn/siren.hpp"

namespace fluxion::learn {
namespace {

const auto kDouble = torch::TensorOptions().dtype(torch::kFloat64);

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

SirenNet double_siren(int in, int out, int width, int hidden, uint64_t seed) {
  torch::manual_seed(seed);
  SirenNet net(SirenOptions{.in_features = in, .out_features = out, .width = width, .hidden_layers = hidden});
  net->to(torch::kFloat64);
  return net;
}

// Central differences of f at points x along axis j.
torch::Tensor central(const std::function<torch::Tensor(const torch::Tensor&)>& f, const torch::Tensor& x, int64_t j,
                      double h) {
  torch::Tensor e = torch::zeros_like(x);
  e.select(1, j).fill_(h);
  return (f(x + e) - f(x - e)) / (2 * h);
}

TEST(Siren, HasTheAuthorsSizesAndInitialisation) {
  // 1D advection: 1 -> 20 -> 20 -> 20 -> 1 (hidden_layers 2): 40 + 2 * 420 + 21 = 901, their count.
  SirenNet advection(SirenOptions{.in_features = 1, .out_features = 1, .width = 20, .hidden_layers = 2});
  EXPECT_EQ(parameter_count(*advection), 901);
  // Taylor-Green velocity: 2 -> 32 (x 4) -> 2 (hidden_layers 3): 96 + 3 * 1056 + 66 = 3330.
  SirenNet fluid(SirenOptions{.in_features = 2, .out_features = 2, .width = 32, .hidden_layers = 3});
  EXPECT_EQ(parameter_count(*fluid), 3330);
  const auto params = fluid->named_parameters();
  EXPECT_LE(max_abs(params["linear0.weight"]), 1.0 / 2);
  EXPECT_GT(max_abs(params["linear0.weight"]), 0.9 / 2);  // uniform over the whole range
  const double hidden = std::sqrt(6.0 / 32) / 30;
  for (const char* name : {"linear1.weight", "linear3.weight", "linear4.weight"}) {
    EXPECT_LE(max_abs(params[name]), hidden) << name;
    EXPECT_GT(max_abs(params[name]), 0.9 * hidden) << name;
  }
  EXPECT_THROW(fluid->forward(torch::zeros({4, 3})), Error);
  // make_network builds it from a model header's options, as every network of the layer.
  const AnyNetwork any = make_network("siren", fluid->options().to_json());
  EXPECT_EQ(parameter_count(*any.module), 3330);
  EXPECT_EQ(any.forward(torch::zeros({5, 2})).sizes(), torch::IntArrayRef({5, 2}));
}

TEST(FieldDerivatives, AreExactOnAnAnalyticField) {
  // y = sin(x0) x1^2: grad = (cos(x0) x1^2, 2 sin(x0) x1), Lap = -sin(x0) x1^2 + 2 sin(x0);
  // v = (x0 x1, x1^3): div = x1 + 3 x1^2, J = [[x1, x0], [0, 3 x1^2]].
  const torch::Tensor x = torch::rand({50, 2}, kDouble).mul(4).sub(2).requires_grad_(true);
  const torch::Tensor x0 = x.select(1, 0), x1 = x.select(1, 1);
  const torch::Tensor y = torch::sin(x0) * x1.square();
  const torch::Tensor g = field_gradient(y, x);
  const torch::Tensor xd = x.detach(), a = xd.select(1, 0), b = xd.select(1, 1);
  EXPECT_LT(max_abs(g - torch::stack({torch::cos(a) * b.square(), 2 * torch::sin(a) * b}, 1)), 1e-13);
  EXPECT_LT(max_abs(field_laplacian(y, x) - (-torch::sin(a) * b.square() + 2 * torch::sin(a))), 1e-12);
  const torch::Tensor v = torch::stack({x0 * x1, x1.pow(3)}, 1);
  EXPECT_LT(max_abs(field_divergence(v, x) - (b + 3 * b.square())), 1e-12);
  const torch::Tensor J = field_jacobian(v, x);
  ASSERT_EQ(J.sizes(), torch::IntArrayRef({50, 2, 2}));
  EXPECT_LT(max_abs(J.select(1, 0) - torch::stack({b, a}, 1)), 1e-13);
  EXPECT_LT(max_abs(J.select(1, 1) - torch::stack({torch::zeros_like(b), 3 * b.square()}, 1)), 1e-12);
  const torch::Tensor F = deformation_gradient(v, x);
  EXPECT_LT(max_abs(F - J - torch::eye(2, kDouble)), 1e-15);
  EXPECT_THROW(field_gradient(y, xd), Error);   // points without grad
  EXPECT_THROW(field_gradient(v, x), Error);    // not a scalar field
  EXPECT_THROW(field_divergence(y.unsqueeze(1), x), Error);
}

TEST(FieldDerivatives, MatchFiniteDifferencesOfASiren) {
  SirenNet net = double_siren(2, 2, 24, 2, 7);
  const torch::Tensor x = (torch::rand({40, 2}, kDouble) * 2 - 1).requires_grad_(true);
  const torch::Tensor y = net->forward(x);
  const auto component = [&](int64_t i) {
    return [&net, i](const torch::Tensor& p) { return net->forward(p).select(1, i); };
  };
  const torch::Tensor xd = x.detach();
  const double h = 1e-5;
  const torch::Tensor J = field_jacobian(y, x);
  const double scale = max_abs(J);
  ASSERT_GT(scale, 0.1);  // a field that varies
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 2; ++j)
      EXPECT_LT(max_abs(J.select(1, i).select(1, j) - central(component(i), xd, j, h)), 1e-6 * scale) << i << j;
  EXPECT_LT(max_abs(field_gradient(y.select(1, 0), x) - J.select(1, 0)), 1e-14);
  EXPECT_LT(max_abs(field_divergence(y, x) - (J.select(1, 0).select(1, 0) + J.select(1, 1).select(1, 1))), 1e-12);
  // Laplacian against the second difference of the first component.
  const torch::Tensor lap = field_laplacian(y.select(1, 0), x);
  torch::Tensor second = torch::zeros({40}, kDouble);
  const double h2 = 1e-4;
  for (int64_t j = 0; j < 2; ++j) {
    torch::Tensor e = torch::zeros_like(xd);
    e.select(1, j).fill_(h2);
    const auto f = component(0);
    second = second + (f(xd + e) - 2 * f(xd) + f(xd - e)) / (h2 * h2);
  }
  EXPECT_LT(max_abs(lap - second), 1e-4 * max_abs(lap));
}

TEST(FieldDerivatives, ALossOfDerivativesIsDifferentiableInTheWeights) {
  // L(theta) = mean |grad u|^2 + mean (Lap u)^2: autograd's dL/dtheta against a central difference
  // in one weight of a hidden layer.
  SirenNet net = double_siren(2, 1, 16, 1, 3);
  const torch::Tensor points = torch::rand({30, 2}, kDouble) * 2 - 1;
  const auto loss = [&] {
    const torch::Tensor x = points.clone().requires_grad_(true);
    const torch::Tensor u = net->forward(x);
    return field_gradient(u, x).square().sum(1).mean() + field_laplacian(u, x).square().mean();
  };
  torch::Tensor weight = net->named_parameters()["linear1.weight"];
  net->zero_grad();
  loss().backward();
  const double analytic = weight.grad()[3][5].item<double>();
  const double h = 1e-6, original = weight[3][5].item<double>();
  double plus = 0.0, minus = 0.0;
  {
    torch::NoGradGuard no_grad;
    weight[3][5].fill_(original + h);
  }
  plus = loss().item<double>();
  {
    torch::NoGradGuard no_grad;
    weight[3][5].fill_(original - h);
  }
  minus = loss().item<double>();
  const double numeric = (plus - minus) / (2 * h);
  ASSERT_GT(std::abs(numeric), 1e-3);
  EXPECT_NEAR(analytic, numeric, 1e-6 * std::abs(numeric));
}

TEST(SirenOptions, RoundTripAndBadValuesNameTheKey) {
  const SirenOptions o{.in_features = 2, .out_features = 3, .width = 8, .hidden_layers = 1, .w0 = 15.0};
  const SirenOptions back = SirenOptions::from_json(o.to_json());
  EXPECT_EQ(back.to_json(), o.to_json());
  nlohmann::json bad = o.to_json();
  bad["in_features"] = 4;
  try {
    SirenOptions::from_json(bad);
    ADD_FAILURE() << "in_features 4 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("network.in_features"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace fluxion::learn
