// INSR's shared pieces (issue 11): the three optimisers against solutions known independently (a
// linear least-squares problem solved by torch's QR least squares, Rosenbrock's minimum), Adam's
// plateau decay ending a fit that cannot improve, a non-finite loss reported, and the per-step
// weights file read back bit for bit.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "fluxion/core/error.hpp"
#include "fluxion/learn/insr.hpp"

namespace fluxion::learn::insr {
namespace {

const auto kDouble = torch::TensorOptions().dtype(torch::kFloat64);

// min |A p - b|^2 / rows: the exact answer from torch::linalg_lstsq (QR), independent of fit().
struct LinearProblem {
  torch::Tensor A, b, p, solution;
  LinearProblem() {
    torch::manual_seed(7);
    A = torch::randn({40, 6}, kDouble);
    b = torch::randn({40}, kDouble);
    solution = std::get<0>(torch::linalg_lstsq(A, b.unsqueeze(1), c10::nullopt, "gelsd")).squeeze(1);
    p = torch::zeros({6}, kDouble).requires_grad_(true);
  }
  LossFunction losses() {
    return [this](long) { return Losses{{"linear", torch::mv(A, p) - b, 1.0}}; };
  }
  double error() const { return (p.detach() - solution).abs().max().item<double>(); }
};

TEST(InsrFit, GaussNewtonSolvesALinearLeastSquaresProblemInAFewSteps) {
  LinearProblem lp;
  OptimizerOptions o;
  o.method = "gauss_newton";
  o.iterations = 10;
  o.damping = 1e-12;
  o.cg_iterations = 20;  // > 6 unknowns: CG is exact
  const FitReport r = fit("linear", {lp.p}, lp.losses(), o);
  EXPECT_TRUE(r.finite);
  EXPECT_LT(lp.error(), 1e-9) << r.stop;
  EXPECT_LE(r.iterations, 4);  // the Gauss-Newton model is exact: one step, then no change
}

TEST(InsrFit, LbfgsSolvesALinearLeastSquaresProblem) {
  LinearProblem lp;
  OptimizerOptions o;  // lbfgs, strong Wolfe
  o.iterations = 200;
  const FitReport r = fit("linear", {lp.p}, lp.losses(), o);
  EXPECT_TRUE(r.finite);
  EXPECT_TRUE(r.converged) << r.stop;
  EXPECT_LT(lp.error(), 1e-8);
  EXPECT_LT(r.iterations, 200);
}

TEST(InsrFit, AdamApproachesTheLinearLeastSquaresSolution) {
  LinearProblem lp;
  OptimizerOptions o;
  o.method = "adam";
  o.iterations = 4000;
  o.learning_rate = 1e-2;
  const FitReport r = fit("linear", {lp.p}, lp.losses(), o);
  EXPECT_TRUE(r.finite);
  EXPECT_LT(lp.error(), 1e-3);
  EXPECT_LT(r.loss, r.initial_loss);
}

TEST(InsrFit, GaussNewtonAndLbfgsFindRosenbrocksMinimum) {
  // Rosenbrock as least squares: r = (10 (y - x^2), 1 - x), minimum 0 at (1, 1), from (-1.2, 1).
  for (const std::string method : {"gauss_newton", "lbfgs"}) {
    torch::Tensor p = torch::tensor({-1.2, 1.0}, kDouble).requires_grad_(true);
    OptimizerOptions o;
    o.method = method;
    o.iterations = 200;
    const FitReport r = fit("rosenbrock", {p}, [&](long) {
      return Losses{{"a", (10 * (p[1] - p[0] * p[0])).reshape({1}), 1.0}, {"b", (1 - p[0]).reshape({1}), 1.0}};
    }, o);
    EXPECT_TRUE(r.finite) << method;
    EXPECT_NEAR(p[0].item<double>(), 1.0, 1e-6) << method << ": " << r.stop;
    EXPECT_NEAR(p[1].item<double>(), 1.0, 1e-6) << method;
    EXPECT_LT(r.loss, 1e-12) << method;
    EXPECT_EQ(r.terms.size(), 2u);
  }
}

TEST(InsrFit, AdamStopsWhenThePlateauDecayReachesItsFloor) {
  // A loss the parameter cannot change: no iteration improves, so the rate drops every
  // patience + 1 iterations, 1e-4 -> 1e-8 in four drops, and the fifth plateau ends the fit.
  torch::Tensor p = torch::zeros({1}, kDouble).requires_grad_(true);
  OptimizerOptions o;
  o.method = "adam";
  o.iterations = 10000;
  o.learning_rate = 1e-4;
  o.plateau_patience = 20;
  const FitReport r = fit("flat", {p}, [&](long) { return Losses{{"flat", 0 * p + 1, 1.0}}; }, o);
  EXPECT_TRUE(r.converged) << r.stop;
  EXPECT_GE(r.iterations, 5 * 20);
  EXPECT_LE(r.iterations, 5 * 22);
}

TEST(InsrFit, ReportsANonFiniteLossInsteadOfContinuing) {
  for (const std::string method : {"adam", "lbfgs", "gauss_newton"}) {
    torch::Tensor p = torch::ones({2}, kDouble).requires_grad_(true);
    OptimizerOptions o;
    o.method = method;
    o.iterations = 5;
    const FitReport r = fit("bad", {p}, [&](long) { return Losses{{"log", torch::log(p - 1), 1.0}}; }, o);
    EXPECT_FALSE(r.finite) << method;
    EXPECT_FALSE(r.converged) << method;
    EXPECT_NE(r.stop.find("not finite"), std::string::npos) << method << ": " << r.stop;
  }
}

TEST(InsrFit, TargetLossDecidesWhetherAFitReachedItsTolerance) {
  LinearProblem lp;
  OptimizerOptions o;
  o.iterations = 3;
  o.target_loss = 1e-30;  // unreachable: the minimum of this problem is positive
  const FitReport r = fit("linear", {lp.p}, lp.losses(), o);
  EXPECT_TRUE(r.finite);
  EXPECT_FALSE(r.converged);
  EXPECT_NE(r.stop.find("above target"), std::string::npos) << r.stop;
}

TEST(InsrWeights, SavedNetworksComeBackBitForBit) {
  torch::manual_seed(3);
  SirenNet u(SirenOptions{.in_features = 2, .out_features = 2, .width = 8, .hidden_layers = 1});
  SirenNet p(SirenOptions{.in_features = 2, .out_features = 1, .width = 5, .hidden_layers = 2, .w0 = 20});
  u->to(torch::kFloat64);
  p->to(torch::kFloat64);
  {  // weights that float32 cannot hold, as training in double precision makes them
    torch::NoGradGuard no_grad;
    for (auto& w : u->parameters()) w.add_(1e-9 * torch::randn_like(w));
    for (auto& w : p->parameters()) w.add_(1e-9 * torch::randn_like(w));
  }
  const auto file = std::filesystem::temp_directory_path() / "fluxion_insr_weights_test.h5";
  save_networks(file, {{"velocity", u}, {"pressure", p}}, {{"step", 7}, {"time", 0.35}});
  nlohmann::json info;
  const auto loaded = load_networks(file, info);
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(info["step"], 7);
  EXPECT_DOUBLE_EQ(info["time"].get<double>(), 0.35);
  const torch::Tensor x = torch::rand({50, 2}, kDouble) * 2 - 1;
  for (auto [name, net] : loaded) {
    SirenNet original = name == "velocity" ? u : p;
    EXPECT_EQ(net->options().to_json(), original->options().to_json()) << name;
    EXPECT_EQ(net->parameters()[0].scalar_type(), torch::kFloat64) << name;
    EXPECT_TRUE(torch::equal(net->forward(x), original->forward(x))) << name;
  }
  std::filesystem::remove(file);
  // Not a weights file: an error naming the file.
  std::ofstream(file) << "not hdf5";
  try {
    load_networks(file, info);
    FAIL() << "a text file loaded as weights";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
  std::filesystem::remove(file);
}

TEST(InsrWeights, FrozenCopyKeepsTheValuesAndNeedsNoGradient) {
  torch::manual_seed(5);
  SirenNet u(SirenOptions{.in_features = 1, .out_features = 1, .width = 6, .hidden_layers = 1});
  SirenNet copy = frozen_copy(u);
  const torch::Tensor x = torch::linspace(-1, 1, 11).unsqueeze(1);
  EXPECT_TRUE(torch::equal(copy->forward(x), u->forward(x)));
  for (const auto& p : copy->parameters()) EXPECT_FALSE(p.requires_grad());
  {
    torch::NoGradGuard no_grad;
    u->parameters()[0].add_(1.0);  // the copy is independent
  }
  EXPECT_FALSE(torch::equal(copy->forward(x), u->forward(x)));
}

TEST(InsrSamples, PointsLieInTheBoxAndOnTheFaces) {
  torch::manual_seed(1);
  const torch::Tensor x = uniform_points(1000, {-1, 2}, {1, 5}, torch::kFloat64);
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{1000, 2}));
  EXPECT_GE(x.select(1, 0).min().item<double>(), -1);
  EXPECT_LE(x.select(1, 0).max().item<double>(), 1);
  EXPECT_GE(x.select(1, 1).min().item<double>(), 2);
  EXPECT_LE(x.select(1, 1).max().item<double>(), 5);
  EXPECT_NEAR(x.select(1, 1).mean().item<double>(), 3.5, 0.15);  // uniform: mean 3.5, sd of mean ~0.03
  const torch::Tensor f = face_points(100, {-1, 2}, {1, 5}, 1, true, torch::kFloat64);
  EXPECT_TRUE(torch::all(f.select(1, 1) == 5).item<bool>());
  EXPECT_GT(f.select(1, 0).std().item<double>(), 0.3);
}

}  // namespace
}  // namespace fluxion::learn::insr
