// The neural-operator networks (issue 9): MgNO's size and structure as the paper defines it, the
// boundary conditions its padding encodes, FNO's spectral layer as a Fourier multiplier, and that
// every model runs at other resolutions than it was built for.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "fluxion/core/error.hpp"
#include "fluxion/learn/operator_nets.hpp"

namespace fluxion::learn {
namespace {

torch::Tensor random_field(int64_t batch, int64_t channels, int64_t n) {
  return torch::randn({batch, channels, n, n}, torch::TensorOptions().dtype(torch::kFloat64));
}

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

// Counted by hand from the definition: per level l >= 1 a restriction of f (in x in x 3^d) and of
// u (c x c x 3^d), a transposed prolongation (c x c x 4^d); per smoothing step S (in x c x 3^d) and
// A (c x in x 3^d), except level 0's first step (S only); per layer a 1x1 convolution with bias;
// a bias-free 1x1 convolution last.
int64_t mgno_parameters_by_hand(const MgnoOptions& o) {
  const int64_t c = o.channels, k = o.dim == 3 ? 27 : 9, t = o.dim == 3 ? 64 : 16;
  int64_t expected = c * o.out_channels;  // last
  for (int layer = 0; layer < o.layers; ++layer) {
    const int64_t in = layer == 0 ? o.in_channels : c;
    expected += in * c + c;  // pointwise
    for (int l = 0; l < o.levels(); ++l) {
      if (l > 0) expected += k * in * in + k * c * c + t * c * c;
      expected += o.smoothing[l] * 2 * k * in * c - (l == 0 ? k * in * c : 0);
    }
  }
  return expected;
}

TEST(Mgno, HasThePapersDarcySize) {
  const MgnoOptions o;  // 4 layers, 24 channels, smoothing {1, 1, 1, 1, 1, 2}
  MgnoNet net(o);
  EXPECT_EQ(parameter_count(*net), mgno_parameters_by_hand(o));
  EXPECT_NEAR(static_cast<double>(mgno_parameters_by_hand(o)), 0.57e6, 0.03e6);  // the paper: "about 0.57M"
}

TEST(Mgno, In3DItHasItsSizeKeepsTheGridAndIsPeriodicWithCircularPadding) {
  torch::manual_seed(3);
  MgnoOptions o;
  o.dim = 3;
  o.channels = 4;
  o.layers = 2;
  o.smoothing = {1, 1, 2};
  o.padding = Padding::Circular;
  MgnoNet net(o);
  net->to(torch::kFloat64);
  EXPECT_EQ(parameter_count(*net), mgno_parameters_by_hand(o));
  const auto field = [](int64_t n) { return torch::randn({1, 1, n, n, n}, torch::kFloat64); };
  for (int64_t n : {8, 16}) EXPECT_EQ(net->forward(field(n)).sizes(), (std::vector<int64_t>{1, 1, n, n, n}));
  const torch::Tensor x = field(16);
  const auto shift = [](const torch::Tensor& t) { return torch::roll(t, {4, 8, 12}, {2, 3, 4}); };
  EXPECT_LT(max_abs(net->forward(shift(x)) - shift(net->forward(x))), 1e-12 * max_abs(net->forward(x)));
  EXPECT_THROW(net->forward(random_field(1, 1, 16)), Error);  // a 2D field
}

TEST(Mgno, EachVCycleIsALinearMapAndTheModelKeepsTheGridAtAnyResolution) {
  torch::manual_seed(1);
  MgnoOptions o;
  o.channels = 8;
  o.layers = 2;
  o.smoothing = {1, 2, 2};
  MgnoNet net(o);
  net->to(torch::kFloat64);
  MgConv cycle(2, 1, 8, o.smoothing, Padding::Zeros);
  cycle->to(torch::kFloat64);
  const torch::Tensor f = random_field(2, 1, 32), g = random_field(2, 1, 32);
  const torch::Tensor combined = cycle->forward(2.0 * f - 3.0 * g);
  EXPECT_LT(max_abs(combined - (2.0 * cycle->forward(f) - 3.0 * cycle->forward(g))), 1e-12 * max_abs(combined));
  for (int64_t n : {32, 64, 128}) {
    const torch::Tensor y = net->forward(random_field(1, 1, n));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{1, 1, n, n}));
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  }
}

TEST(Mgno, CircularPaddingMakesItPeriodicZeroPaddingDoesNot) {
  // With circular padding every layer commutes with shifts by multiples of 2^(levels-1) cells
  // (the stride-2 maps commute with even shifts only), so the model does; zero padding breaks it.
  torch::manual_seed(2);
  MgnoOptions o;
  o.channels = 6;
  o.layers = 2;
  o.smoothing = {1, 1, 2};
  const torch::Tensor x = random_field(1, 1, 32);
  const auto shift = [](const torch::Tensor& t) { return torch::roll(t, {4, 8}, {2, 3}); };
  for (Padding p : {Padding::Circular, Padding::Zeros}) {
    o.padding = p;
    MgnoNet net(o);
    net->to(torch::kFloat64);
    const torch::Tensor difference = net->forward(shift(x)) - shift(net->forward(x));
    const double scale = max_abs(net->forward(x));
    if (p == Padding::Circular)
      EXPECT_LT(max_abs(difference), 1e-12 * scale);
    else
      EXPECT_GT(max_abs(difference), 1e-3 * scale);
  }
}

TEST(Fno, TheSpectralLayerIsAFourierMultiplierOnTheKeptModes) {
  torch::manual_seed(3);
  const int n = 32;
  SpectralConv2d layer(1, 1, 6);
  const auto grid = torch::arange(n, torch::kFloat32) * (2.0 * M_PI / n);
  const auto wave = [&](int kx, int ky) {
    return torch::cos(kx * grid.view({1, n}) + ky * grid.view({n, 1})).view({1, 1, n, n});
  };
  // A mode above the kept ones vanishes; the layer commutes with every circular shift.
  EXPECT_LT(max_abs(layer->forward(wave(9, 2))), 1e-6);
  const torch::Tensor x = torch::randn({1, 1, n, n});
  const torch::Tensor y = layer->forward(x);
  EXPECT_LT(max_abs(layer->forward(torch::roll(x, {3, 5}, {2, 3})) - torch::roll(y, {3, 5}, {2, 3})),
            1e-5 * max_abs(y));
  // A kept mode stays that mode: its output has no energy at other wave numbers.
  const torch::Tensor spectrum = torch::fft::rfft2(layer->forward(wave(2, 3))).abs();
  const double kept = spectrum.index({0, 0, 3, 2}).item<double>() + spectrum.index({0, 0, n - 3, 2}).item<double>();
  EXPECT_GT(kept, 0.0);
  EXPECT_LT(spectrum.sum().item<double>() - kept, 1e-4 * kept);
}

TEST(Fno, RunsAtOtherResolutionsAndRefusesGridsTooSmallForItsModes) {
  torch::manual_seed(4);
  FnoOptions o;
  o.width = 8;
  o.modes = 8;
  FnoNet net(o);
  for (int64_t n : {16, 64}) EXPECT_EQ(net->forward(torch::randn({2, 1, n, n})).sizes(), (std::vector<int64_t>{2, 1, n, n}));
  try {
    net->forward(torch::randn({1, 1, 12, 12}));
    FAIL() << "a 12x12 grid cannot hold 8 modes per sign";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("8 Fourier modes need a grid of at least 16"), std::string::npos) << e.what();
  }
}

TEST(Unet, KeepsTheGridAtAnyResolutionDivisibleByItsPooling) {
  torch::manual_seed(5);
  UnetOptions o;
  o.channels = 8;
  o.levels = 3;
  UnetNet net(o);
  for (int64_t n : {32, 64}) EXPECT_EQ(net->forward(torch::randn({1, 1, n, n})).sizes(), (std::vector<int64_t>{1, 1, n, n}));
  EXPECT_EQ(coarsenings(o.to_json(), "unet"), 3);
  EXPECT_EQ(coarsenings(MgnoOptions{}.to_json(), "mgno"), 5);
}

TEST(OperatorNets, OptionsRoundTripAndBadValuesNameTheKey) {
  MgnoOptions m;
  m.padding = Padding::Reflect;
  m.smoothing = {2, 1};
  const MgnoOptions back = MgnoOptions::from_json(m.to_json());
  EXPECT_EQ(back.smoothing, m.smoothing);
  EXPECT_EQ(back.padding, Padding::Reflect);
  EXPECT_EQ(back.dim, 2);
  auto j = m.to_json();
  j.erase("dim");  // model files written before 3D MgNO
  EXPECT_EQ(MgnoOptions::from_json(j).dim, 2);
  j["dim"] = 4;
  EXPECT_THROW(MgnoOptions::from_json(j), Error);
  j = m.to_json();
  j["padding"] = "mirror";
  EXPECT_THROW(MgnoOptions::from_json(j), Error);
  j = m.to_json();
  j["smoothing"] = nlohmann::json::array();
  try {
    MgnoOptions::from_json(j);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("network.smoothing"), std::string::npos);
  }
  auto f = FnoOptions{}.to_json();
  f.erase("modes");
  try {
    FnoOptions::from_json(f);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("network.modes"), std::string::npos);
  }
}

}  // namespace
}  // namespace fluxion::learn
