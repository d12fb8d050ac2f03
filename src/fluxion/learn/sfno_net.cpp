// SFNO and FNO-3d: see sfno_net.hpp.
#include "fluxion/learn/sfno_net.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "fluxion/core/error.hpp"
#include "fluxion/learn/model_file.hpp"

namespace fluxion::learn {

namespace nn = torch::nn;
using torch::indexing::Ellipsis;
using torch::indexing::Slice;

namespace {

nn::Conv3d conv1(int in, int out) { return nn::Conv3d(nn::Conv3dOptions(in, out, 1)); }

nn::Sequential mlp(int channels, int hidden) { return nn::Sequential(conv1(channels, hidden), nn::GELU(), conv1(hidden, channels)); }

// A time axis of nt steps has nt / 2 + 1 one-sided Fourier modes.
int frames_for_modes(int modes_t) { return 2 * (modes_t - 1); }

// A coordinate channel [ny, nx, nt] along `axis` (0: y, 1: x, 2: t). In space, sample i of n sits at
// i / n on the unit torus, so that a point has the same coordinate at 64^2 and at 256^2 (the authors'
// linspace(0, 1, n) moves it by up to half a coarse cell); in time, linspace(0, 1, nt) as theirs.
torch::Tensor along(int64_t axis, int64_t ny, int64_t nx, int64_t nt, const torch::TensorOptions& opts) {
  const int64_t n = axis == 0 ? ny : axis == 1 ? nx : nt;
  std::vector<int64_t> shape{1, 1, 1};
  shape[static_cast<std::size_t>(axis)] = n;
  const torch::Tensor c = axis == 2 ? torch::linspace(0.0, 1.0, n, opts) : torch::arange(n, opts) / static_cast<double>(n);
  return c.view(shape).expand({ny, nx, nt});
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Options

std::array<int, 3> SfnoOptions::output_modes() const {
  return {output_modes_x > 0 ? output_modes_x : modes_x, output_modes_y > 0 ? output_modes_y : modes_y,
          output_modes_t > 0 ? output_modes_t : modes_t};
}

nlohmann::json SfnoOptions::to_json() const {
  nlohmann::json j = {{"in_frames", in_frames}, {"out_frames", out_frames},       {"width", width},
                      {"modes_x", modes_x},     {"modes_y", modes_y},             {"modes_t", modes_t},
                      {"layers", layers},       {"latent_frames", latent_frames}, {"mlp_channels", mlp_channels},
                      {"beta", beta},           {"delta", delta}};
  const auto out = output_modes();
  if (out != std::array<int, 3>{modes_x, modes_y, modes_t}) j["output_modes"] = out;  // a widened output layer
  return j;
}

SfnoOptions SfnoOptions::from_json(const nlohmann::json& j) {
  SfnoOptions o;
  o.in_frames = network_integer(j, "in_frames", 2, 1000);  // the output layer takes the last two
  o.out_frames = network_integer(j, "out_frames", 1, 10000);
  o.width = network_integer(j, "width", 1, 512);
  o.modes_x = network_integer(j, "modes_x", 1, 1024);
  o.modes_y = network_integer(j, "modes_y", 1, 1024);
  o.modes_t = network_integer(j, "modes_t", 1, 501);
  o.layers = network_integer(j, "layers", 2, 32);
  o.latent_frames = network_integer(j, "latent_frames", 1, 1000);
  o.mlp_channels = network_integer(j, "mlp_channels", 1, 4096);
  o.beta = network_number(j, "beta", -10.0, 10.0);
  o.delta = network_number(j, "delta", -100.0, 100.0);
  if (j.contains("output_modes")) {
    const auto& m = j["output_modes"];
    const bool ok = m.is_array() && m.size() == 3 && m[0].is_number_integer() && m[1].is_number_integer() &&
                    m[2].is_number_integer() && m[0].get<int>() >= o.modes_x && m[1].get<int>() >= o.modes_y &&
                    m[2].get<int>() >= o.modes_t && m[0].get<int>() <= 1024 && m[1].get<int>() <= 1024 &&
                    m[2].get<int>() <= o.latent_frames + 3;
    if (!ok)
      throw Error("network.output_modes = " + m.dump() + ": expected [x, y, t], at least [modes_x, modes_y, modes_t]" +
                  " and t at most latent_frames + 3");
    o.output_modes_x = m[0].get<int>();
    o.output_modes_y = m[1].get<int>();
    o.output_modes_t = m[2].get<int>();
  }
  return o;
}

nlohmann::json Fno3dOptions::to_json() const {
  return {{"in_frames", in_frames}, {"out_frames", out_frames}, {"width", width},   {"modes_x", modes_x},
          {"modes_y", modes_y},     {"modes_t", modes_t},       {"layers", layers}, {"projection_channels", projection_channels}};
}

Fno3dOptions Fno3dOptions::from_json(const nlohmann::json& j) {
  Fno3dOptions o;
  o.in_frames = network_integer(j, "in_frames", 1, 1000);
  o.out_frames = network_integer(j, "out_frames", 1, 10000);
  o.width = network_integer(j, "width", 1, 512);
  o.modes_x = network_integer(j, "modes_x", 1, 1024);
  o.modes_y = network_integer(j, "modes_y", 1, 1024);
  o.modes_t = network_integer(j, "modes_t", 1, 5001);
  o.layers = network_integer(j, "layers", 1, 32);
  o.projection_channels = network_integer(j, "projection_channels", 1, 4096);
  return o;
}

// ---------------------------------------------------------------------------------------------
// The space-time spectral convolution

SpaceTimeSpectralConvImpl::SpaceTimeSpectralConvImpl(int in_channels, int out_channels, int modes_x, int modes_y,
                                                     int modes_t, double scale, bool bias, double delta)
    : in_(in_channels), out_(out_channels), modes_x_(modes_x), modes_y_(modes_y), modes_t_(modes_t), delta_(delta) {
  const auto complex = torch::TensorOptions().dtype(torch::kComplexFloat);
  for (int b = 0; b < 4; ++b) {
    const std::string block = std::to_string(b);
    weight_.push_back(register_parameter("weight" + block, scale * torch::rand({in_, out_, modes_y, modes_x, modes_t}, complex)));
    if (bias) bias_.push_back(register_parameter("bias" + block, torch::zeros({modes_y, modes_x, modes_t}, complex)));
  }
}

namespace {

// Block b's wave numbers along an axis of n cells keeping m of each sign: 0 .. m-1 or -m .. -1.
Slice signed_modes(bool negative, int64_t m, int64_t n) { return negative ? Slice(n - m, n) : Slice(0, m); }

}  // namespace

torch::Tensor SpaceTimeSpectralConvImpl::spectrum(const torch::Tensor& v) {
  const int64_t ny = v.size(-3), nx = v.size(-2), nt = v.size(-1);
  if (2 * modes_y_ > ny || 2 * modes_x_ > nx || modes_t_ > nt / 2 + 1)
    throw Error("space-time spectral convolution: " + std::to_string(modes_x_) + " x " + std::to_string(modes_y_) +
                " x " + std::to_string(modes_t_) + " modes (x, y, t) need at least " + std::to_string(2 * modes_x_) +
                " x " + std::to_string(2 * modes_y_) + " cells and " + std::to_string(frames_for_modes(modes_t_)) +
                " time steps; this trajectory has " + std::to_string(nx) + " x " + std::to_string(ny) + " cells and " +
                std::to_string(nt) + " steps");
  const torch::Tensor vh = torch::fft::rfftn(v, c10::nullopt, std::vector<int64_t>{-3, -2, -1});
  torch::Tensor out = torch::zeros({v.size(0), out_, ny, nx, nt / 2 + 1}, vh.options());
  for (int b = 0; b < 4; ++b) {
    const std::vector<torch::indexing::TensorIndex> block{Slice(), Slice(), signed_modes(b >= 2, modes_y_, ny),
                                                          signed_modes(b % 2 == 1, modes_x_, nx), Slice(0, modes_t_)};
    torch::Tensor y = torch::einsum("biyxt,ioyxt->boyxt", {vh.index(block), weight_[b]});
    if (!bias_.empty()) y = y + delta_ * bias_[b];
    out.index_put_(block, y);
  }
  return out;
}

torch::Tensor SpaceTimeSpectralConvImpl::forward(const torch::Tensor& v, int64_t out_steps) {
  return torch::fft::irfftn(spectrum(v), std::vector<int64_t>{v.size(-3), v.size(-2), out_steps},
                            std::vector<int64_t>{-3, -2, -1});
}

std::pair<torch::Tensor, torch::Tensor> SpaceTimeSpectralConvImpl::forward_with_rate(const torch::Tensor& v,
                                                                                     int64_t out_steps) {
  const torch::Tensor c = spectrum(v);
  const std::vector<int64_t> size{v.size(-3), v.size(-2), out_steps}, axes{-3, -2, -1};
  // The output is the trigonometric polynomial sum_k c_k exp(2 pi i k tau / out_steps) sampled at
  // tau = 0 .. out_steps - 1; its derivative multiplies c_k by 2 pi i k / out_steps. A Nyquist mode
  // (k = out_steps / 2) is a cosine through the samples' extrema: its derivative there is zero.
  const int64_t m = c.size(-1);
  torch::Tensor k = torch::arange(m, torch::TensorOptions().dtype(torch::kFloat32).device(c.device()));
  if (out_steps % 2 == 0) k = k.masked_fill(k == static_cast<double>(out_steps / 2), 0.0);
  const torch::Tensor factor = torch::complex(torch::zeros_like(k), k * (2.0 * M_PI / static_cast<double>(out_steps)));
  return {torch::fft::irfftn(c, size, axes), torch::fft::irfftn(c * factor.to(c.dtype()), size, axes)};
}

void SpaceTimeSpectralConvImpl::widen(int modes_x, int modes_y, int modes_t) {
  if (modes_x < modes_x_ || modes_y < modes_y_ || modes_t < modes_t_)
    throw Error("widening a spectral convolution of " + std::to_string(modes_x_) + " x " + std::to_string(modes_y_) +
                " x " + std::to_string(modes_t_) + " modes to " + std::to_string(modes_x) + " x " + std::to_string(modes_y) +
                " x " + std::to_string(modes_t) + " would drop modes");
  torch::NoGradGuard no_grad;
  // Each old block keeps its wave numbers: the positive ones at the front of the new block, the
  // negative ones (-m .. -1) at its back.
  const auto widened = [&](const torch::Tensor& old, int b, std::vector<int64_t> shape) {
    shape.insert(shape.end(), {modes_y, modes_x, modes_t});
    torch::Tensor fresh = torch::zeros(shape, old.options());
    fresh.index_put_({Ellipsis, signed_modes(b >= 2, modes_y_, modes_y), signed_modes(b % 2 == 1, modes_x_, modes_x),
                      Slice(0, modes_t_)},
                     old);
    return fresh;
  };
  for (std::size_t b = 0; b < weight_.size(); ++b) {
    // set_data keeps the registered parameter (the same tensor) and gives it the new shape.
    weight_[b].set_data(widened(weight_[b], static_cast<int>(b), {in_, out_}));
    if (!bias_.empty()) bias_[b].set_data(widened(bias_[b], static_cast<int>(b), {}));
  }
  modes_x_ = modes_x;
  modes_y_ = modes_y;
  modes_t_ = modes_t;
}

// ---------------------------------------------------------------------------------------------
// SFNO

SfnoOutputLayerImpl::SfnoOutputLayerImpl(int modes_x, int modes_y, int modes_t, double delta) {
  conv = register_module("conv", SpaceTimeSpectralConv(1, 1, modes_x, modes_y, modes_t, 0.5, true, delta));
}

torch::Tensor SfnoOutputLayerImpl::forward(const torch::Tensor& v, const torch::Tensor& w, int64_t out_frames) {
  namespace F = torch::nn::functional;
  torch::Tensor u = torch::cat({w.narrow(-1, w.size(-1) - 2, 2), v}, -1);
  const int64_t steps = u.size(-1);
  u = F::pad(u, F::PadFuncOptions({steps, 0}));  // zeros before: the trajectory is not periodic in time
  const torch::Tensor extended = conv->forward(u, out_frames + 2 + steps);
  return extended.narrow(-1, extended.size(-1) - out_frames, out_frames) + w.narrow(-1, w.size(-1) - 1, 1);
}

std::pair<torch::Tensor, torch::Tensor> SfnoOutputLayerImpl::forward_with_rate(const torch::Tensor& v,
                                                                               const torch::Tensor& w,
                                                                               int64_t out_frames, int64_t leading) {
  namespace F = torch::nn::functional;
  torch::Tensor u = torch::cat({w.narrow(-1, w.size(-1) - 2, 2), v}, -1);
  const int64_t steps = u.size(-1);
  u = F::pad(u, F::PadFuncOptions({steps, 0}));
  auto [extended, rate] = conv->forward_with_rate(u, out_frames + 2 + steps);
  // The skip (the last input frame) is constant in time.
  const int64_t kept = out_frames + leading;
  return {extended.narrow(-1, extended.size(-1) - kept, kept) + w.narrow(-1, w.size(-1) - 1, 1),
          rate.narrow(-1, rate.size(-1) - kept, kept)};
}

SfnoNetImpl::SfnoNetImpl(const SfnoOptions& o) : options_(o) {
  const int frames = std::min(o.in_frames, o.latent_frames);
  if (o.modes_t > frames / 2 + 1)
    throw Error("network.modes_t = " + std::to_string(o.modes_t) + " needs in_frames and latent_frames of at least " +
                std::to_string(frames_for_modes(o.modes_t)));
  const auto out = o.output_modes();
  if (out[2] > o.latent_frames + 3 || out[0] < o.modes_x || out[1] < o.modes_y || out[2] < o.modes_t)
    throw Error("network.output_modes: the output layer keeps at least modes_x, modes_y, modes_t modes and at most " +
                std::to_string(o.latent_frames + 3) + " in time");
  const int w = o.width;
  norm_ = register_module("norm", nn::GroupNorm(nn::GroupNormOptions(1, w + 3).eps(1e-6)));
  lift_ = register_module("lift", conv1(w + 3, w));
  const double scale = 0.5 / (w * w);  // the authors' initial weights: U(0, 0.5 / (in out)) in both parts
  lift_spectral_ = register_module("lift_spectral", SpaceTimeSpectralConv(w, w, o.modes_x, o.modes_y, o.modes_t, scale));
  for (int i = 1; i < o.layers; ++i) {
    const std::string n = std::to_string(i);
    spectral_.push_back(register_module("spectral" + n, SpaceTimeSpectralConv(w, w, o.modes_x, o.modes_y, o.modes_t, scale)));
    mlp_.push_back(register_module("mlp" + n, mlp(w, o.mlp_channels)));
    pointwise_.push_back(register_module("pointwise" + n, conv1(w, w)));
  }
  reduce_ = register_module("reduce", conv1(w, 1));
  output_ = register_module("output", SfnoOutputLayer(out[0], out[1], out[2], o.delta));
}

torch::Tensor SfnoNetImpl::positional_encoding(int64_t ny, int64_t nx, int64_t nt, const torch::TensorOptions& opts) const {
  // The authors' encoding: coordinates x, y, t with t_k = (k + 1) / 100 (their max_time_steps), then
  // `width` time channels exp(beta t) sin(pi (j + 1) t) for even j, cos for odd j.
  const torch::Tensor t = torch::arange(1, nt + 1, opts) / 100.0;
  std::vector<torch::Tensor> channels{along(1, ny, nx, nt, opts), along(0, ny, nx, nt, opts),
                                      t.view({1, 1, nt}).expand({ny, nx, nt})};
  for (int j = 0; j < options_.width; ++j) {
    const torch::Tensor phase = M_PI * (j + 1) * t;
    const torch::Tensor basis = torch::exp(options_.beta * t) * (j % 2 == 0 ? torch::sin(phase) : torch::cos(phase));
    channels.push_back(basis.view({1, 1, nt}).expand({ny, nx, nt}));
  }
  return torch::stack(channels).unsqueeze(0);  // [1, width + 3, ny, nx, nt]
}

torch::Tensor SfnoNetImpl::forward(const torch::Tensor& w) { return forward(w, options_.out_frames); }

torch::Tensor SfnoNetImpl::forward(const torch::Tensor& w, int64_t out_frames) { return extend(latent(w), w, out_frames); }

namespace {

// [batch, frames, ny, nx] -> [batch, 1, ny, nx, frames], after checking the window.
torch::Tensor as_trajectory(const torch::Tensor& w, int in_frames) {
  if (w.dim() != 4 || w.size(1) != in_frames)
    throw Error("SFNO: needs a window [batch, " + std::to_string(in_frames) + " frames, ny, nx], not " + c10::str(w.sizes()));
  return w.permute({0, 2, 3, 1}).unsqueeze(1);
}

}  // namespace

torch::Tensor SfnoNetImpl::latent(const torch::Tensor& w) {
  const torch::Tensor trajectory = as_trajectory(w, options_.in_frames);
  // The input broadcasts onto every channel of the encoding, as the authors add them.
  torch::Tensor v = trajectory + positional_encoding(w.size(2), w.size(3), w.size(1), w.options());
  v = lift_spectral_->forward(lift_->forward(norm_->forward(v)), options_.latent_frames);
  for (std::size_t i = 0; i < spectral_.size(); ++i)
    v = torch::gelu(mlp_[i]->forward(spectral_[i]->forward(v, v.size(-1))) + pointwise_[i]->forward(v));
  return reduce_->forward(v);
}

torch::Tensor SfnoNetImpl::extend(const torch::Tensor& hidden, const torch::Tensor& w, int64_t out_frames) {
  return output_->forward(hidden, as_trajectory(w, options_.in_frames), out_frames).squeeze(1).permute({0, 3, 1, 2});
}

std::pair<torch::Tensor, torch::Tensor> SfnoNetImpl::extend_with_rate(const torch::Tensor& hidden,
                                                                      const torch::Tensor& w, int64_t out_frames,
                                                                      int64_t leading) {
  if (leading < 0 || leading > 2 + options_.latent_frames)
    throw Error("SFNO: " + std::to_string(leading) + " leading samples; at most " +
                std::to_string(2 + options_.latent_frames));
  auto [value, rate] = output_->forward_with_rate(hidden, as_trajectory(w, options_.in_frames), out_frames, leading);
  return {value.squeeze(1).permute({0, 3, 1, 2}), rate.squeeze(1).permute({0, 3, 1, 2})};
}

void SfnoNetImpl::widen_output_modes(int modes_x, int modes_y, int modes_t) {
  if (modes_t > options_.latent_frames + 3)
    throw Error("SFNO: the output layer's time axis has " + std::to_string(options_.latent_frames + 3) +
                " one-sided modes; cannot keep " + std::to_string(modes_t));
  output_->conv->widen(modes_x, modes_y, modes_t);
  options_.output_modes_x = modes_x;
  options_.output_modes_y = modes_y;
  options_.output_modes_t = modes_t;
}

// ---------------------------------------------------------------------------------------------
// FNO-3d

Fno3dNetImpl::Fno3dNetImpl(const Fno3dOptions& o) : options_(o) {
  if (o.modes_t > o.out_frames / 2 + 1)
    throw Error("network.modes_t = " + std::to_string(o.modes_t) + " needs out_frames of at least " +
                std::to_string(frames_for_modes(o.modes_t)));
  const int w = o.width;
  lift_ = register_module("lift", conv1(o.in_frames + 3, w));
  const double scale = 1.0 / (w * w);  // Li et al.'s initial weights: U(0, 1 / (in out)) in both parts
  for (int i = 0; i < o.layers; ++i) {
    const std::string n = std::to_string(i);
    spectral_.push_back(register_module("spectral" + n, SpaceTimeSpectralConv(w, w, o.modes_x, o.modes_y, o.modes_t, scale)));
    mlp_.push_back(register_module("mlp" + n, mlp(w, w)));
    pointwise_.push_back(register_module("pointwise" + n, conv1(w, w)));
  }
  hidden_ = register_module("hidden", conv1(w, o.projection_channels));
  project_ = register_module("project", conv1(o.projection_channels, 1));
}

torch::Tensor Fno3dNetImpl::forward(const torch::Tensor& w) {
  if (w.dim() != 4 || w.size(1) != options_.in_frames)
    throw Error("FNO-3d: needs a window [batch, " + std::to_string(options_.in_frames) + " frames, ny, nx], not " +
                c10::str(w.sizes()));
  const int64_t b = w.size(0), ny = w.size(2), nx = w.size(3), nt = options_.out_frames;
  const auto opts = w.options();
  // The input frames as channels, constant along the output time axis, after the coordinates x, y, t.
  const torch::Tensor coordinates =
      torch::stack({along(1, ny, nx, nt, opts), along(0, ny, nx, nt, opts), along(2, ny, nx, nt, opts)})
          .unsqueeze(0)
          .expand({b, 3, ny, nx, nt});
  torch::Tensor v = lift_->forward(torch::cat({coordinates, w.unsqueeze(-1).expand({b, w.size(1), ny, nx, nt})}, 1));
  for (std::size_t i = 0; i < spectral_.size(); ++i) {
    v = mlp_[i]->forward(spectral_[i]->forward(v, nt)) + pointwise_[i]->forward(v);
    if (i + 1 < spectral_.size()) v = torch::gelu(v);
  }
  return project_->forward(hidden_->forward(v)).squeeze(1).permute({0, 3, 1, 2});
}

}  // namespace fluxion::learn
