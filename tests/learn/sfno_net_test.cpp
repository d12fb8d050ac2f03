// SFNO and its FNO-3d baseline (issue 10): their sizes counted by hand from the definitions, the
// 10 -> 40 frame map at two resolutions, the space-time spectral convolution as a Fourier multiplier
// on its kept modes, the skip from the last input frame, widening the output layer for
// Spectral-Refiner, and the options.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <string>

#include "fluxion/core/error.hpp"
#include "fluxion/learn/operator_nets.hpp"
#include "fluxion/learn/sfno_net.hpp"

namespace fluxion::learn {
namespace {

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

void expect_error_naming(const std::function<void()>& f, const std::string& text) {
  try {
    f();
    ADD_FAILURE() << "no Error naming " << text;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

// Counted by hand: a spectral convolution holds 4 blocks (the signs of ky and kx) of in x out x m
// complex weights, m = modes_x modes_y modes_t, 2 reals each, and with a bias 4 blocks of m complex
// numbers more; a 1x1 convolution in x out weights and out biases.
int64_t spectral(int64_t in, int64_t out, int64_t m, bool bias) { return 4 * 2 * in * out * m + (bias ? 4 * 2 * m : 0); }
int64_t conv1(int64_t in, int64_t out) { return in * out + out; }

// SFNO: the LayerNorm of the width + 3 lifted channels (a scale and a shift each), the lifting 1x1
// convolution and spectral convolution; per hidden layer a spectral convolution, an MLP of two 1x1
// convolutions and a pointwise 1x1 convolution; the 1x1 reduction to one channel; the output layer's
// one-channel spectral convolution with bias.
int64_t sfno_parameters_by_hand(const SfnoOptions& o) {
  const int64_t w = o.width, m = int64_t{o.modes_x} * o.modes_y * o.modes_t;
  const auto out = o.output_modes();
  int64_t n = 2 * (w + 3) + conv1(w + 3, w) + spectral(w, w, m, false);
  n += (o.layers - 1) * (spectral(w, w, m, false) + conv1(w, o.mlp_channels) + conv1(o.mlp_channels, w) + conv1(w, w));
  return n + conv1(w, 1) + spectral(1, 1, int64_t{out[0]} * out[1] * out[2], true);
}

// FNO-3d: the lifting of in_frames + 3 channels (frames and coordinates); per layer a spectral
// convolution, an MLP of two width x width 1x1 convolutions and a pointwise 1x1 convolution; the
// projection width -> projection_channels -> 1.
int64_t fno3d_parameters_by_hand(const Fno3dOptions& o) {
  const int64_t w = o.width, m = int64_t{o.modes_x} * o.modes_y * o.modes_t;
  return conv1(o.in_frames + 3, w) + o.layers * (spectral(w, w, m, false) + 2 * conv1(w, w) + conv1(w, w)) +
         conv1(w, o.projection_channels) + conv1(o.projection_channels, 1);
}

SfnoOptions small_sfno() {
  SfnoOptions o;
  o.width = 6;
  o.layers = 3;
  o.mlp_channels = 10;
  o.modes_x = 4;
  o.modes_y = 3;
  o.modes_t = 3;
  o.latent_frames = 6;
  return o;
}

TEST(Sfno, HasTheAuthorsSizeAtTheDefaults) {
  torch::manual_seed(1);
  const SfnoOptions o;  // modes (12, 12, 5), width 20, 4 spectral layers, MLP of 128 channels
  SfnoNet net(o);
  EXPECT_EQ(parameter_count(*net), sfno_parameters_by_hand(o));
  // The count the authors' notebook (torch-cfd examples/ex2_SFNO_train_fnodata.ipynb) prints for
  // SFNO(12, 12, 5, 20, output_steps=40): 46 + 480 + 2,304,000 + 3 x 2,309,688 + 21 + 11,520.
  EXPECT_EQ(sfno_parameters_by_hand(o), 9245131);
  const SfnoOptions s = small_sfno();
  SfnoNet small(s);
  EXPECT_EQ(parameter_count(*small), sfno_parameters_by_hand(s));
}

TEST(Sfno, MapsTenFramesToFortyAtTwoResolutionsAndRefusesOtherWindows) {
  torch::manual_seed(2);
  SfnoNet net(SfnoOptions{});
  torch::NoGradGuard no_grad;
  for (int64_t n : {32, 64}) {
    const torch::Tensor y = net->forward(torch::randn({2, 10, n, n}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 40, n, n}));
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  }
  EXPECT_EQ(net->forward(torch::randn({1, 10, 32, 32}), 7).sizes(), (std::vector<int64_t>{1, 7, 32, 32}));
  expect_error_naming([&] { net->forward(torch::randn({1, 9, 32, 32})); }, "[batch, 10 frames, ny, nx]");
  expect_error_naming([&] { net->forward(torch::randn({1, 10, 16, 16})); }, "need at least 24 x 24 cells");
}

TEST(Sfno, TheSpaceTimeSpectralConvolutionIsAFourierMultiplierOnTheKeptModes) {
  torch::manual_seed(3);
  const int64_t n = 16, nt = 8;
  SpaceTimeSpectralConv layer(1, 1, /*modes_x=*/4, /*modes_y=*/3, /*modes_t=*/2, 1.0);
  torch::NoGradGuard no_grad;
  // The waves are computed in double: float32 phases would leak ~1e-6 into the kept modes.
  const auto cell = torch::arange(n, torch::kFloat64) * (2.0 * M_PI / n);
  const auto step = torch::arange(nt, torch::kFloat64) * (2.0 * M_PI / nt);
  const auto wave = [&](int kx, int ky, int kt) {
    return torch::cos(kx * cell.view({1, n, 1}) + ky * cell.view({n, 1, 1}) + kt * step.view({1, 1, nt}))
        .view({1, 1, n, n, nt})
        .to(torch::kFloat32);
  };
  // Modes above the kept ones vanish: |kx| = 6 (kept: -4 .. 3), |ky| = 5 (kept: -3 .. 2), kt = 3 (kept: 0, 1).
  EXPECT_LT(max_abs(layer->forward(wave(6, 1, 1), nt)), 1e-6);
  EXPECT_LT(max_abs(layer->forward(wave(1, 5, 1), nt)), 1e-6);
  EXPECT_LT(max_abs(layer->forward(wave(1, 1, 3), nt)), 1e-6);
  // It commutes with circular shifts in x and y (and in t, when it keeps the number of steps).
  const torch::Tensor x = torch::randn({2, 1, n, n, nt});
  const torch::Tensor y = layer->forward(x, nt);
  const auto shift = [](const torch::Tensor& t) { return torch::roll(t, {3, 5, 2}, {2, 3, 4}); };
  EXPECT_LT(max_abs(layer->forward(shift(x), nt) - shift(y)), 1e-5 * max_abs(y));
  // A kept mode stays that mode: the one-sided spectrum of the output has only its bin.
  const torch::Tensor spectrum = torch::fft::rfftn(layer->forward(wave(2, 1, 1), nt), c10::nullopt,
                                                   std::vector<int64_t>{-3, -2, -1}).abs();
  const double kept = spectrum.index({0, 0, 1, 2, 1}).item<double>();
  EXPECT_GT(kept, 0.0);
  EXPECT_LT(spectrum.sum().item<double>() - kept, 1e-4 * kept);
}

TEST(Sfno, WithAZeroOutputLayerEveryOutputFrameIsTheLastInputFrame) {
  torch::manual_seed(4);
  SfnoNet net(small_sfno());
  torch::NoGradGuard no_grad;
  for (auto& p : net->output_parameters()) p.zero_();
  const torch::Tensor w = torch::randn({2, 10, 16, 16});
  const torch::Tensor y = net->forward(w);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 40, 16, 16}));
  EXPECT_EQ(max_abs(y - w.narrow(1, 9, 1)), 0.0);
}

TEST(Sfno, WideningTheOutputLayerKeepsTheOutputAndAddsTheExpectedParameters) {
  torch::manual_seed(5);
  const SfnoOptions o = small_sfno();  // output layer: 4 x 3 x 3 modes; its time axis 2 (6 + 2) = 16 steps
  SfnoNet net(o);
  const torch::Tensor w = torch::randn({2, 10, 16, 16});
  torch::Tensor before;
  {
    torch::NoGradGuard no_grad;
    before = net->forward(w);
  }
  const int64_t count = parameter_count(*net);
  net->widen_output_modes(8, 8, 9);  // every mode of a 16^2 grid and of the 16 steps (9 one-sided)
  // Weights and biases (2) of 4 blocks, 2 reals each, on 8 x 8 x 9 modes instead of 4 x 3 x 3.
  EXPECT_EQ(parameter_count(*net) - count, 2 * 4 * 2 * (8 * 8 * 9 - 4 * 3 * 3));
  int64_t output_count = 0;
  for (const auto& p : net->output_parameters()) output_count += 2 * p.numel();
  EXPECT_EQ(output_count, 2 * 4 * 2 * 8 * 8 * 9);
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor after = net->forward(w);
    EXPECT_LT(max_abs(after - before), 1e-6 * max_abs(before));
  }
  // The options say so, and a network built from them (a reloaded model file) has the same shapes.
  {
    torch::NoGradGuard no_grad;  // the halves that fine-tuning uses make the same network
    EXPECT_TRUE(torch::equal(net->extend(net->latent(w), w, 40), net->forward(w)));
  }
  EXPECT_EQ(net->options().output_modes(), (std::array<int, 3>{8, 8, 9}));
  SfnoNet reloaded(SfnoOptions::from_json(net->options().to_json()));
  EXPECT_EQ(parameter_count(*reloaded), parameter_count(*net));
  // Fine-tuning: only the output layer learns, the added modes included.
  for (auto& p : net->parameters()) p.requires_grad_(false);
  for (auto& p : net->output_parameters()) p.requires_grad_(true);
  net->forward(w).square().mean().backward();
  const torch::Tensor added = net->output_parameters()[0].grad().index({0, 0, 6, 5, 7});  // beyond 4 x 3 x 3
  EXPECT_GT(added.abs().item<double>(), 0.0);
  for (const auto& item : net->named_parameters())
    if (item.key().rfind("output.", 0) != 0) EXPECT_FALSE(item.value().grad().defined()) << item.key();
  expect_error_naming([&] { net->widen_output_modes(8, 8, 4); }, "would drop modes");
  expect_error_naming([&] { net->widen_output_modes(8, 8, 10); }, "cannot keep 10");
}

TEST(Sfno, ExtendWithRateIsTheTimeDerivativeOfTheOutputLayersPolynomial) {
  // The output layer samples one trigonometric polynomial in time at out_frames + 2 + (latent + 2)
  // points of its period, keeping the last out_frames: asking for more frames samples the same
  // polynomial more finely (the inverse FFT divides by the sample count, so the polynomial part comes
  // out 16 times smaller; the skip, the last input frame, does not). So central differences over a
  // 16 times finer sampling must match the exact rate (per output frame) to O(h^2).
  torch::manual_seed(6);
  const SfnoOptions o = small_sfno();  // latent 6: the output layer's input has 8 steps
  SfnoNet net(o);
  torch::NoGradGuard no_grad;
  for (auto& p : net->output_parameters()) p.copy_(torch::randn_like(p));  // biases too: not the trained zeros
  const torch::Tensor w = torch::randn({1, 10, 16, 16});
  const torch::Tensor hidden = net->latent(w);
  const int64_t frames = 12, period = frames + 2 + 8, fine = 16;
  auto [value, rate] = net->extend_with_rate(hidden, w, frames);
  EXPECT_TRUE(torch::allclose(value, net->extend(hidden, w, frames)));
  // Fine frames: period fine * period, of which the last fine * period - 2 - 8 are returned.
  const int64_t fine_frames = fine * period - 2 - 8;
  const torch::Tensor skip = w[0][9];
  const torch::Tensor dense = (net->extend(hidden, w, fine_frames) - skip) * fine + skip;  // frame f: fine step 10 + f
  double worst = 0.0;
  for (int64_t j = 0; j < frames; ++j) {
    const int64_t step = fine * (period - frames + j);  // frame j of the coarse sampling on the fine one
    const int64_t f = step - (fine * period - fine_frames);
    EXPECT_LT(max_abs(dense[0][f] - value[0][j]), 1e-4 * max_abs(value)) << "frame " << j;
    const torch::Tensor central = (dense[0][f + 1] - dense[0][f - 1]) * (fine / 2.0);  // per coarse frame
    worst = std::max(worst, max_abs(central - rate[0][j]));
  }
  EXPECT_GT(max_abs(rate), 1e-2);
  EXPECT_LT(worst, 2e-3 * max_abs(rate));
}

TEST(Fno3d, HasItsSizeNearSfnosAndMapsTenFramesToFortyAtTwoResolutions) {
  torch::manual_seed(6);
  const Fno3dOptions o;
  Fno3dNet net(o);
  EXPECT_EQ(parameter_count(*net), fno3d_parameters_by_hand(o));
  // 280 + 4 x (2,304,000 + 840 + 420) + 2,688 + 129: within 0.3% of SFNO's 9,245,131.
  EXPECT_EQ(fno3d_parameters_by_hand(o), 9224137);
  Fno3dOptions s;
  s.width = 6;
  s.modes_x = 4;
  s.modes_y = 3;
  s.modes_t = 4;
  s.layers = 3;
  s.projection_channels = 16;
  Fno3dNet small(s);
  EXPECT_EQ(parameter_count(*small), fno3d_parameters_by_hand(s));
  torch::NoGradGuard no_grad;
  for (int64_t n : {32, 64}) {
    const torch::Tensor y = small->forward(torch::randn({2, 10, n, n}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 40, n, n}));
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  }
  expect_error_naming([&] { small->forward(torch::randn({1, 10, 6, 6})); }, "need at least 8 x 6 cells");
}

TEST(SfnoOptions, RoundTripAndBadValuesNameTheKey) {
  SfnoOptions s = small_sfno();
  s.beta = -0.02;
  s.delta = 0.5;
  EXPECT_FALSE(s.to_json().contains("output_modes"));  // not widened
  s.output_modes_x = 20;
  const SfnoOptions back = SfnoOptions::from_json(s.to_json());
  EXPECT_EQ(back.to_json(), s.to_json());
  EXPECT_EQ(back.output_modes(), (std::array<int, 3>{20, 3, 3}));
  EXPECT_EQ(back.beta, -0.02);
  EXPECT_EQ(back.latent_frames, 6);

  const auto without = [](nlohmann::json j, const char* key) {
    j.erase(key);
    return j;
  };
  const auto with = [](nlohmann::json j, const char* key, const nlohmann::json& value) {
    j[key] = value;
    return j;
  };
  const nlohmann::json j = SfnoOptions{}.to_json();
  expect_error_naming([&] { SfnoOptions::from_json(without(j, "modes_t")); }, "network.modes_t");
  expect_error_naming([&] { SfnoOptions::from_json(with(j, "beta", "small")); }, "network.beta");
  expect_error_naming([&] { SfnoOptions::from_json(with(j, "layers", 1)); }, "network.layers");
  expect_error_naming([&] { SfnoOptions::from_json(with(j, "output_modes", {1, 1, 1})); }, "network.output_modes");
  // 7 one-sided time modes need 12 input frames.
  expect_error_naming([&] { SfnoNet net(SfnoOptions::from_json(with(j, "modes_t", 7))); }, "network.modes_t");

  const nlohmann::json f = Fno3dOptions{}.to_json();
  EXPECT_EQ(Fno3dOptions::from_json(f).to_json(), f);
  expect_error_naming([&] { Fno3dOptions::from_json(without(f, "projection_channels")); }, "network.projection_channels");
  expect_error_naming([&] { Fno3dNet net(Fno3dOptions::from_json(with(f, "modes_t", 22))); }, "network.modes_t");
}

TEST(SfnoOptions, MakeNetworkBuildsBothAndNeitherCoarsens) {
  torch::manual_seed(7);
  const SfnoOptions s = small_sfno();
  Fno3dOptions f;
  f.width = 4;
  f.modes_x = f.modes_y = f.modes_t = 2;
  f.projection_channels = 8;
  torch::NoGradGuard no_grad;
  for (const auto& [architecture, options] :
       std::vector<std::pair<std::string, nlohmann::json>>{{"sfno", s.to_json()}, {"fno3d", f.to_json()}}) {
    AnyNetwork net = make_network(architecture, options);
    EXPECT_EQ(net.forward(torch::randn({1, 10, 16, 16})).sizes(), (std::vector<int64_t>{1, 40, 16, 16})) << architecture;
    EXPECT_EQ(coarsenings(options, architecture), 0);
  }
}

}  // namespace
}  // namespace fluxion::learn
