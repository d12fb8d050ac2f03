// Neural operators on grids: MgNO (He, Liu, Xu, ICLR 2024), whose linear maps are multigrid
// V-cycles of learned convolutions (2D, and 3D as a DCDM direction network), and the baselines it
// is compared with in the same training loop: FNO-2d (Li et al., ICLR 2021) and a U-Net. All map
// [batch, in, (nz,) ny, nx] to [batch, out, (nz,) ny, nx] and are resolution-independent (a model
// trained at 64^2 runs at 128^2). make_network builds any of them, DCDM's network included.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fluxion::learn {

/// The boundary condition the convolutions' padding encodes: zeros (Dirichlet), circular
/// (periodic), reflect (Neumann).
enum class Padding { Zeros, Circular, Reflect };
Padding parse_padding(const std::string& name);  // throws Error for another name
std::string to_string(Padding p);

/// MgNO as the paper defines it: layers u <- GELU(MgConv(u) + Conv1x1(u)), no lifting or
/// projection MLP, a bias-free 1x1 convolution last. MgConv is one V-cycle: on level 0
/// u = S f, then u <- u + S(f - A u) (smoothing[l] steps per level, 3x3 convolutions A and S),
/// restriction of f and u by stride-2 3x3 convolutions, prolongation by stride-2 transposed 4x4
/// convolutions added on the way up, no post-smoothing. Unlike the authors' code, the
/// prolongation pads as the other convolutions do, so a circular model is periodic throughout. The paper's Darcy model: 4 layers of 24
/// channels, 6 levels, smoothing {1, 1, 1, 1, 1, 2} (~0.57M parameters).
struct MgnoOptions {
  int dim = 2;  // 2 or 3 (3D: 3x3x3 convolutions, used as DCDM's direction network)
  int in_channels = 1;
  int out_channels = 1;
  int channels = 24;
  int layers = 4;
  std::vector<int> smoothing = {1, 1, 1, 1, 1, 2};  // one entry per level; levels = its size
  Padding padding = Padding::Zeros;
  bool bias = true;  // the layers' 1x1 convolutions have a bias (the paper); a DCDM direction network has none

  int levels() const { return static_cast<int>(smoothing.size()); }
  nlohmann::json to_json() const;
  static MgnoOptions from_json(const nlohmann::json& j);  // throws Error naming the key
};

/// FNO-2d: lifting 1x1 convolution (inputs plus the two coordinates), `layers` Fourier layers
/// v <- GELU(K v + W v) keeping `modes` x `modes` Fourier modes (both signs of ky), projection
/// through a hidden 1x1 layer of 4x`width` channels (the authors' 128 at width 32).
struct FnoOptions {
  int in_channels = 1;
  int out_channels = 1;
  int width = 16;
  int modes = 12;
  int layers = 4;

  nlohmann::json to_json() const;
  static FnoOptions from_json(const nlohmann::json& j);
};

/// U-Net: `levels` of two 3x3 convolutions (batch-free GroupNorm, GELU) with max pooling down and
/// transposed convolutions up, channels doubling per level from `channels`, skip concatenations.
struct UnetOptions {
  int in_channels = 1;
  int out_channels = 1;
  int channels = 16;
  int levels = 3;
  Padding padding = Padding::Zeros;

  nlohmann::json to_json() const;
  static UnetOptions from_json(const nlohmann::json& j);
};

class MgConvImpl : public torch::nn::Module {
 public:
  MgConvImpl(int dim, int in_channels, int channels, const std::vector<int>& smoothing, Padding padding);
  torch::Tensor forward(const torch::Tensor& f);

 private:
  torch::Tensor prolong(std::size_t level, const torch::Tensor& coarse);

  int dim_;
  std::vector<int> smoothing_;
  Padding padding_;
  // Per level: the smoothers S and operators A of its steps (level 0's first step has no A);
  // Conv2d or Conv3d by dim.
  std::vector<std::vector<torch::nn::AnyModule>> s_, a_;
  std::vector<torch::nn::AnyModule> restrict_f_, restrict_u_;  // level l -> l + 1
  std::vector<torch::nn::AnyModule> prolong_;                  // level l + 1 -> l
};
TORCH_MODULE(MgConv);

class MgnoNetImpl : public torch::nn::Module {
 public:
  explicit MgnoNetImpl(const MgnoOptions& options);
  torch::Tensor forward(torch::Tensor x);
  const MgnoOptions& options() const { return options_; }

 private:
  MgnoOptions options_;
  std::vector<MgConv> cycles_;
  std::vector<torch::nn::AnyModule> pointwise_;
  torch::nn::AnyModule last_;
};
TORCH_MODULE(MgnoNet);

class SpectralConv2dImpl : public torch::nn::Module {
 public:
  SpectralConv2dImpl(int in_channels, int out_channels, int modes);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  int modes_;
  torch::Tensor low_, high_;  // complex weights [in, out, modes, modes] for ky >= 0 and ky < 0
};
TORCH_MODULE(SpectralConv2d);

class FnoNetImpl : public torch::nn::Module {
 public:
  explicit FnoNetImpl(const FnoOptions& options);
  torch::Tensor forward(torch::Tensor x);
  const FnoOptions& options() const { return options_; }

 private:
  FnoOptions options_;
  torch::nn::Conv2d lift_{nullptr}, hidden_{nullptr}, project_{nullptr};
  std::vector<SpectralConv2d> spectral_;
  std::vector<torch::nn::Conv2d> pointwise_;
};
TORCH_MODULE(FnoNet);

class UnetNetImpl : public torch::nn::Module {
 public:
  explicit UnetNetImpl(const UnetOptions& options);
  torch::Tensor forward(torch::Tensor x);
  const UnetOptions& options() const { return options_; }

 private:
  UnetOptions options_;
  std::vector<torch::nn::Sequential> down_, up_;
  std::vector<torch::nn::ConvTranspose2d> upsample_;
  torch::nn::Sequential bottom_{nullptr};
  torch::nn::Conv2d last_{nullptr};
};
TORCH_MODULE(UnetNet);

/// A network of any architecture behind one interface: its module (parameters, train and eval
/// modes, saving) and its forward.
struct AnyNetwork {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&)> forward;
};

/// The network `architecture` (mgno, fno, unet, dcdm, sfno, fno3d, siren) with the options of a model file's header
/// (network); throws Error for another name or options it cannot read.
AnyNetwork make_network(const std::string& architecture, const nlohmann::json& options);

/// How many times a network halves the grid (MgNO: levels - 1, U-Net and DCDM: levels, FNOs, SIREN: 0);
/// every axis must be a multiple of 2 to that power.
int coarsenings(const nlohmann::json& network, const std::string& architecture);

/// Parameters of a module (for the tables that compare models at equal size).
std::int64_t parameter_count(torch::nn::Module& module);

}  // namespace fluxion::learn
