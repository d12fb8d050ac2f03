// DCDM's direction network: the layer sequence of the authors' Keras model, for any number of levels.
#include "fluxion/learn/dcdm_net.hpp"

#include "fluxion/core/error.hpp"
#include "fluxion/learn/model_file.hpp"

namespace fluxion::learn {

nlohmann::json DcdmNetOptions::to_json() const {
  return {{"dim", dim}, {"channels", channels}, {"levels", levels}, {"coarse_pairs", coarse_pairs},
          {"decoder_pairs", decoder_pairs}};
}

DcdmNetOptions DcdmNetOptions::from_json(const nlohmann::json& j) {
  DcdmNetOptions o;
  const auto get = [&](const char* key, int lo, int hi) { return network_integer(j, key, lo, hi); };
  o.dim = get("dim", 2, 3);
  o.channels = get("channels", 1, 256);
  o.levels = get("levels", 0, 6);
  o.coarse_pairs = get("coarse_pairs", 0, 32);
  o.decoder_pairs = get("decoder_pairs", 0, 32);
  return o;
}

namespace {

torch::nn::AnyModule make_conv(int dim, int in, int out, int kernel) {
  if (dim == 2) return torch::nn::AnyModule(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).padding(kernel / 2)));
  return torch::nn::AnyModule(torch::nn::Conv3d(torch::nn::Conv3dOptions(in, out, kernel).padding(kernel / 2)));
}

// Encoder per level: conv, residual pair, conv (4); coarsest: coarse_pairs pairs; decoder per
// level: decoder_pairs pairs. The count the constructor creates and forward() consumes.
int inner_convs(const DcdmNetOptions& o) { return o.levels * (4 + 2 * o.decoder_pairs) + 2 * o.coarse_pairs; }

}  // namespace

DcdmNetImpl::DcdmNetImpl(const DcdmNetOptions& o) : options_(o) {
  if (o.dim != 2 && o.dim != 3) throw Error("DcdmNet: dim must be 2 or 3, not " + std::to_string(o.dim));
  first_ = make_conv(o.dim, 1, o.channels, 3);
  register_module("first", first_.ptr());
  for (int i = 0; i < inner_convs(o); ++i) {
    convs_.push_back(make_conv(o.dim, o.channels, o.channels, 3));
    register_module("conv" + std::to_string(i), convs_.back().ptr());
  }
  last_ = make_conv(o.dim, o.channels, 1, 1);  // the per-voxel linear map (Keras Dense on channels)
  register_module("last", last_.ptr());
}

torch::Tensor DcdmNetImpl::conv(int index, const torch::Tensor& x) {
  return torch::relu(convs_[static_cast<std::size_t>(index)].forward(x));
}

torch::Tensor DcdmNetImpl::pool(const torch::Tensor& x) const {
  return options_.dim == 2 ? torch::avg_pool2d(x, 2) : torch::avg_pool3d(x, 2);
}

torch::Tensor DcdmNetImpl::upsample(const torch::Tensor& x) const {
  // Nearest-neighbour 2x, as Keras UpSampling.
  auto y = x.repeat_interleave(2, -1).repeat_interleave(2, -2);
  return options_.dim == 3 ? y.repeat_interleave(2, -3) : y;
}

torch::Tensor DcdmNetImpl::forward(torch::Tensor x) {
  int c = 0;
  torch::Tensor h = first_.forward(x);  // linear
  std::vector<torch::Tensor> skips;
  for (int level = 0; level < options_.levels; ++level) {
    torch::Tensor a = conv(c++, level == 0 ? h : pool(skips.back()));
    torch::Tensor b = conv(c++, a);
    a = conv(c++, b) + a;
    b = conv(c++, a);
    skips.push_back(b);
  }
  torch::Tensor a = options_.levels == 0 ? h : pool(skips.back());
  // A residual pair: a <- ReLU(conv(ReLU(conv(a)))) + a.
  const auto pair = [&](const torch::Tensor& in) {
    torch::Tensor b = conv(c++, in);
    return conv(c++, b) + in;
  };
  for (int p = 0; p < options_.coarse_pairs; ++p) a = pair(a);
  for (int level = options_.levels - 1; level >= 0; --level) {
    a = upsample(a) + skips[static_cast<std::size_t>(level)];
    for (int p = 0; p < options_.decoder_pairs; ++p) a = pair(a);
  }
  return last_.forward(a);
}

}  // namespace fluxion::learn
