// MgNO, FNO-2d and U-Net: see operator_nets.hpp.
#include "fluxion/learn/operator_nets.hpp"

#include <algorithm>
#include <numeric>

#include "fluxion/core/error.hpp"
#include "fluxion/learn/dcdm_net.hpp"
#include "fluxion/learn/model_file.hpp"
#include "fluxion/learn/sfno_net.hpp"
#include "fluxion/learn/siren.hpp"

namespace fluxion::learn {

namespace nn = torch::nn;

Padding parse_padding(const std::string& name) {
  if (name == "zeros") return Padding::Zeros;
  if (name == "circular") return Padding::Circular;
  if (name == "reflect") return Padding::Reflect;
  throw Error("network.padding = '" + name + "': expected zeros (Dirichlet), circular (periodic) or reflect (Neumann)");
}

std::string to_string(Padding p) {
  switch (p) {
    case Padding::Zeros: return "zeros";
    case Padding::Circular: return "circular";
    case Padding::Reflect: return "reflect";
  }
  return "?";
}

namespace {

Padding get_padding(const nlohmann::json& j) {
  if (!j.contains("padding") || !j["padding"].is_string()) throw Error("network.padding: missing or not a string");
  return parse_padding(j["padding"].get<std::string>());
}

template <std::size_t D>
nn::ConvOptions<D> conv3_options(int in, int out, int stride, Padding padding) {
  auto o = nn::ConvOptions<D>(in, out, 3).stride(stride).padding(1).bias(false);
  switch (padding) {
    case Padding::Zeros: o.padding_mode(torch::kZeros); break;
    case Padding::Circular: o.padding_mode(torch::kCircular); break;
    case Padding::Reflect: o.padding_mode(torch::kReflect); break;
  }
  return o;
}

nn::Conv2dOptions conv3(int in, int out, int stride, Padding padding) { return conv3_options<2>(in, out, stride, padding); }

nn::Conv2d conv1(int in, int out, bool bias) { return nn::Conv2d(nn::Conv2dOptions(in, out, 1).bias(bias)); }

// The same convolutions on 2D or 3D grids (MgNO serves both).
nn::AnyModule conv3_nd(int dim, int in, int out, int stride, Padding padding) {
  if (dim == 3) return nn::AnyModule(nn::Conv3d(conv3_options<3>(in, out, stride, padding)));
  return nn::AnyModule(nn::Conv2d(conv3_options<2>(in, out, stride, padding)));
}

nn::AnyModule conv1_nd(int dim, int in, int out, bool bias) {
  if (dim == 3) return nn::AnyModule(nn::Conv3d(nn::Conv3dOptions(in, out, 1).bias(bias)));
  return nn::AnyModule(conv1(in, out, bias));
}

nn::AnyModule transposed4_nd(int dim, int channels) {
  if (dim == 3) return nn::AnyModule(nn::ConvTranspose3d(nn::ConvTranspose3dOptions(channels, channels, 4).stride(2).bias(false)));
  return nn::AnyModule(nn::ConvTranspose2d(nn::ConvTranspose2dOptions(channels, channels, 4).stride(2).bias(false)));
}

// Registers `m` under `name` and returns it (the AnyModule twin of Module::register_module).
nn::AnyModule registered(nn::Module& owner, const std::string& name, nn::AnyModule m) {
  owner.register_module(name, m.ptr());
  return m;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// MgNO

nlohmann::json MgnoOptions::to_json() const {
  return {{"dim", dim},           {"in_channels", in_channels}, {"out_channels", out_channels},
          {"channels", channels}, {"layers", layers},           {"smoothing", smoothing},
          {"padding", to_string(padding)}, {"bias", bias}};
}

MgnoOptions MgnoOptions::from_json(const nlohmann::json& j) {
  MgnoOptions o;
  o.dim = j.contains("dim") ? network_integer(j, "dim", 2, 3) : 2;  // files before 3D MgNO: 2D
  o.in_channels = network_integer(j, "in_channels", 1, 64);
  o.out_channels = network_integer(j, "out_channels", 1, 64);
  o.channels = network_integer(j, "channels", 1, 512);
  o.layers = network_integer(j, "layers", 1, 32);
  if (!j.contains("smoothing") || !j["smoothing"].is_array() || j["smoothing"].empty() || j["smoothing"].size() > 10)
    throw Error("network.smoothing: missing, or not a list of 1 to 10 step counts (one per level)");
  o.smoothing.clear();
  for (const auto& s : j["smoothing"]) {
    if (!s.is_number_integer() || s.get<int>() < 1 || s.get<int>() > 16)
      throw Error("network.smoothing: every level needs 1 to 16 smoothing steps, not " + s.dump());
    o.smoothing.push_back(s.get<int>());
  }
  o.padding = get_padding(j);
  if (j.contains("bias")) {  // files before the option: with bias
    if (!j["bias"].is_boolean()) throw Error("network.bias: expected true or false, not " + j["bias"].dump());
    o.bias = j["bias"].get<bool>();
  }
  return o;
}

MgConvImpl::MgConvImpl(int dim, int in_channels, int channels, const std::vector<int>& smoothing, Padding padding)
    : dim_(dim), smoothing_(smoothing), padding_(padding), s_(smoothing.size()), a_(smoothing.size()) {
  for (std::size_t l = 0; l < smoothing.size(); ++l) {
    const std::string level = std::to_string(l);
    if (l > 0) {
      restrict_f_.push_back(registered(*this, "restrict_f" + level, conv3_nd(dim, in_channels, in_channels, 2, padding)));
      restrict_u_.push_back(registered(*this, "restrict_u" + level, conv3_nd(dim, channels, channels, 2, padding)));
      prolong_.push_back(registered(*this, "prolong" + level, transposed4_nd(dim, channels)));
    }
    for (int i = 0; i < smoothing[l]; ++i) {
      const std::string step = level + "_" + std::to_string(i);
      s_[l].push_back(registered(*this, "s" + step, conv3_nd(dim, in_channels, channels, 1, padding)));
      if (l > 0 || i > 0) a_[l].push_back(registered(*this, "a" + step, conv3_nd(dim, channels, in_channels, 1, padding)));
    }
  }
}

torch::Tensor MgConvImpl::forward(const torch::Tensor& f0) {
  const std::size_t levels = smoothing_.size();
  std::vector<torch::Tensor> u(levels);
  torch::Tensor f = f0;
  for (std::size_t l = 0; l < levels; ++l) {
    if (l > 0) {
      f = restrict_f_[l - 1].forward(f);
      u[l] = restrict_u_[l - 1].forward(u[l - 1]);
    }
    for (std::size_t i = 0; i < s_[l].size(); ++i) {
      if (l == 0 && i == 0) {
        u[0] = s_[0][0].forward(f);
      } else {
        auto& a = a_[l][l == 0 ? i - 1 : i];
        u[l] = u[l] + s_[l][i].forward(f - a.forward(u[l]));
      }
    }
  }
  for (std::size_t j = levels - 1; j-- > 0;) u[j] = u[j] + prolong(j, u[j + 1]);
  return u[0];
}

torch::Tensor MgConvImpl::prolong(std::size_t level, const torch::Tensor& coarse) {
  // The stride-2 transposed 4x4 convolution (PyTorch's padding 1: fine cell i sees coarse cells
  // (i-1)/2 .. (i+2)/2), with the coarse grid padded by one cell the way the other convolutions
  // pad, so that a periodic (or reflecting) model is so at its prolongations too: padded by one
  // coarse cell, the full transposed output is 6 cells longer and the grid starts at its cell 3.
  namespace F = torch::nn::functional;
  const std::vector<int64_t> one(static_cast<std::size_t>(2 * dim_), 1);
  auto mode = F::PadFuncOptions(one);
  if (padding_ == Padding::Circular) mode.mode(torch::kCircular);
  if (padding_ == Padding::Reflect) mode.mode(torch::kReflect);
  torch::Tensor fine = prolong_[level].forward(F::pad(coarse, mode));
  for (int64_t axis = 2; axis < coarse.dim(); ++axis) fine = fine.narrow(axis, 3, 2 * coarse.size(axis));
  return fine;
}

MgnoNetImpl::MgnoNetImpl(const MgnoOptions& o) : options_(o) {
  for (int i = 0; i < o.layers; ++i) {
    const int in = i == 0 ? o.in_channels : o.channels;
    cycles_.push_back(
        register_module("cycle" + std::to_string(i), MgConv(o.dim, in, o.channels, o.smoothing, o.padding)));
    pointwise_.push_back(registered(*this, "pointwise" + std::to_string(i), conv1_nd(o.dim, in, o.channels, o.bias)));
  }
  last_ = registered(*this, "last", conv1_nd(o.dim, o.channels, o.out_channels, false));
}

torch::Tensor MgnoNetImpl::forward(torch::Tensor x) {
  if (x.dim() != options_.dim + 2)
    throw Error("MgNO: a " + std::to_string(options_.dim) + "D network needs [batch, channels, " +
                (options_.dim == 3 ? "z, " : "") + "y, x] input, not " + c10::str(x.sizes()));
  for (std::size_t i = 0; i < cycles_.size(); ++i)
    x = torch::gelu(cycles_[i]->forward(x) + pointwise_[i].forward(x));
  return last_.forward(x);
}

// ---------------------------------------------------------------------------------------------
// FNO-2d

nlohmann::json FnoOptions::to_json() const {
  return {{"in_channels", in_channels}, {"out_channels", out_channels}, {"width", width}, {"modes", modes},
          {"layers", layers}};
}

FnoOptions FnoOptions::from_json(const nlohmann::json& j) {
  FnoOptions o;
  o.in_channels = network_integer(j, "in_channels", 1, 64);
  o.out_channels = network_integer(j, "out_channels", 1, 64);
  o.width = network_integer(j, "width", 1, 512);
  o.modes = network_integer(j, "modes", 1, 256);
  o.layers = network_integer(j, "layers", 1, 32);
  return o;
}

SpectralConv2dImpl::SpectralConv2dImpl(int in_channels, int out_channels, int modes) : modes_(modes) {
  const double scale = 1.0 / (in_channels * out_channels);
  const auto make = [&] {
    return scale * torch::rand({in_channels, out_channels, modes, modes}, torch::TensorOptions().dtype(torch::kComplexFloat));
  };
  low_ = register_parameter("low", make());
  high_ = register_parameter("high", make());
}

torch::Tensor SpectralConv2dImpl::forward(const torch::Tensor& x) {
  using torch::indexing::Slice;
  const int64_t ny = x.size(-2), nx = x.size(-1);
  if (2 * modes_ > ny || modes_ > nx / 2 + 1)
    throw Error("FNO: " + std::to_string(modes_) + " Fourier modes need a grid of at least " + std::to_string(2 * modes_) +
                " cells per axis; this one is " + std::to_string(nx) + " x " + std::to_string(ny));
  const torch::Tensor xf = torch::fft::rfft2(x);
  torch::Tensor out = torch::zeros({x.size(0), low_.size(1), ny, nx / 2 + 1}, xf.options());
  const auto mix = [](const torch::Tensor& a, const torch::Tensor& w) { return torch::einsum("bixy,ioxy->boxy", {a, w}); };
  out.index_put_({Slice(), Slice(), Slice(0, modes_), Slice(0, modes_)},
                 mix(xf.index({Slice(), Slice(), Slice(0, modes_), Slice(0, modes_)}), low_));
  out.index_put_({Slice(), Slice(), Slice(ny - modes_, ny), Slice(0, modes_)},
                 mix(xf.index({Slice(), Slice(), Slice(ny - modes_, ny), Slice(0, modes_)}), high_));
  return torch::fft::irfft2(out, std::vector<int64_t>{ny, nx});
}

FnoNetImpl::FnoNetImpl(const FnoOptions& o) : options_(o) {
  lift_ = register_module("lift", conv1(o.in_channels + 2, o.width, true));
  for (int i = 0; i < o.layers; ++i) {
    spectral_.push_back(register_module("spectral" + std::to_string(i), SpectralConv2d(o.width, o.width, o.modes)));
    pointwise_.push_back(register_module("pointwise" + std::to_string(i), conv1(o.width, o.width, true)));
  }
  hidden_ = register_module("hidden", conv1(o.width, 4 * o.width, true));
  project_ = register_module("project", conv1(4 * o.width, o.out_channels, true));
}

torch::Tensor FnoNetImpl::forward(torch::Tensor x) {
  // The cell-centre coordinates in (0, 1) as two more input channels, as the authors do.
  const int64_t b = x.size(0), ny = x.size(-2), nx = x.size(-1);
  const auto opts = x.options();
  const torch::Tensor gx = ((torch::arange(nx, opts) + 0.5) / nx).view({1, 1, 1, nx}).expand({b, 1, ny, nx});
  const torch::Tensor gy = ((torch::arange(ny, opts) + 0.5) / ny).view({1, 1, ny, 1}).expand({b, 1, ny, nx});
  x = lift_->forward(torch::cat({x, gx, gy}, 1));
  for (std::size_t i = 0; i < spectral_.size(); ++i) {
    x = spectral_[i]->forward(x) + pointwise_[i]->forward(x);
    if (i + 1 < spectral_.size()) x = torch::gelu(x);
  }
  return project_->forward(torch::gelu(hidden_->forward(x)));
}

// ---------------------------------------------------------------------------------------------
// U-Net

nlohmann::json UnetOptions::to_json() const {
  return {{"in_channels", in_channels}, {"out_channels", out_channels}, {"channels", channels}, {"levels", levels},
          {"padding", to_string(padding)}};
}

UnetOptions UnetOptions::from_json(const nlohmann::json& j) {
  UnetOptions o;
  o.in_channels = network_integer(j, "in_channels", 1, 64);
  o.out_channels = network_integer(j, "out_channels", 1, 64);
  o.channels = network_integer(j, "channels", 1, 256);
  o.levels = network_integer(j, "levels", 1, 8);
  o.padding = get_padding(j);
  return o;
}

namespace {

nn::Sequential double_conv(int in, int out, Padding padding) {
  const int groups = std::gcd(out, 8);
  return nn::Sequential(nn::Conv2d(conv3(in, out, 1, padding)), nn::GroupNorm(nn::GroupNormOptions(groups, out)),
                        nn::GELU(), nn::Conv2d(conv3(out, out, 1, padding)),
                        nn::GroupNorm(nn::GroupNormOptions(groups, out)), nn::GELU());
}

}  // namespace

UnetNetImpl::UnetNetImpl(const UnetOptions& o) : options_(o) {
  int in = o.in_channels;
  for (int l = 0; l < o.levels; ++l) {
    const int c = o.channels << l;
    down_.push_back(register_module("down" + std::to_string(l), double_conv(in, c, o.padding)));
    in = c;
  }
  bottom_ = register_module("bottom", double_conv(in, 2 * in, o.padding));
  for (int l = o.levels - 1; l >= 0; --l) {
    const int c = o.channels << l;
    upsample_.push_back(register_module("upsample" + std::to_string(l),
                                        nn::ConvTranspose2d(nn::ConvTranspose2dOptions(2 * c, c, 2).stride(2))));
    up_.push_back(register_module("up" + std::to_string(l), double_conv(2 * c, c, o.padding)));
  }
  last_ = register_module("last", conv1(o.channels, o.out_channels, true));
}

torch::Tensor UnetNetImpl::forward(torch::Tensor x) {
  std::vector<torch::Tensor> skips;
  for (auto& d : down_) {
    x = d->forward(x);
    skips.push_back(x);
    x = torch::max_pool2d(x, 2);
  }
  x = bottom_->forward(x);
  for (std::size_t i = 0; i < up_.size(); ++i) {
    x = upsample_[i]->forward(x);
    x = up_[i]->forward(torch::cat({x, skips[skips.size() - 1 - i]}, 1));
  }
  return last_->forward(x);
}

// ---------------------------------------------------------------------------------------------

AnyNetwork make_network(const std::string& architecture, const nlohmann::json& options) {
  const auto wrap = [](auto net) -> AnyNetwork {
    return {net.ptr(), [net](const torch::Tensor& x) mutable { return net->forward(x); }};
  };
  if (architecture == "mgno") return wrap(MgnoNet(MgnoOptions::from_json(options)));
  if (architecture == "fno") return wrap(FnoNet(FnoOptions::from_json(options)));
  if (architecture == "unet") return wrap(UnetNet(UnetOptions::from_json(options)));
  if (architecture == "dcdm") return wrap(DcdmNet(DcdmNetOptions::from_json(options)));
  if (architecture == "sfno") return wrap(SfnoNet(SfnoOptions::from_json(options)));
  if (architecture == "fno3d") return wrap(Fno3dNet(Fno3dOptions::from_json(options)));
  if (architecture == "siren") return wrap(SirenNet(SirenOptions::from_json(options)));
  throw Error("network architecture '" + architecture + "': expected mgno, fno, unet, dcdm, sfno, fno3d or siren");
}

int coarsenings(const nlohmann::json& network, const std::string& architecture) {
  if (architecture == "mgno") return MgnoOptions::from_json(network).levels() - 1;
  if (architecture == "unet") return UnetOptions::from_json(network).levels;
  if (architecture == "dcdm") return DcdmNetOptions::from_json(network).levels;
  return 0;  // the FNOs and SIREN do not coarsen
}

std::int64_t parameter_count(torch::nn::Module& module) {
  std::int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.is_complex() ? 2 * p.numel() : p.numel();
  return n;
}

}  // namespace fluxion::learn
