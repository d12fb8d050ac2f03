// DCDM's direction network (Kaneda et al., ICML 2023): a fully convolutional U-shaped network of
// 3x3(x3) convolutions with residual pairs, average pooling and upsampling, in 2D or 3D.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

namespace fluxion::learn {

/// The paper's 64^3 network is {channels 16, levels 1, coarse_pairs 3, decoder_pairs 2} (14 inner
/// convolutions, ~97k parameters); its 128^3 network adds a level (22 inner convolutions, ~153k).
struct DcdmNetOptions {
  int dim = 3;            // 2 or 3
  int channels = 16;
  int levels = 1;         // pooling levels (each halves every axis)
  int coarse_pairs = 3;   // residual pairs at the coarsest level
  int decoder_pairs = 2;  // residual pairs after each upsampling

  nlohmann::json to_json() const;
  /// Throws Error naming the key when one is missing or out of range.
  static DcdmNetOptions from_json(const nlohmann::json& j);
};

/// Input and output are [batch, 1, (z,) y, x]; every axis must be a multiple of 2^levels
/// (DirectionNetwork pads other grids).
class DcdmNetImpl : public torch::nn::Module {
 public:
  explicit DcdmNetImpl(const DcdmNetOptions& options);
  torch::Tensor forward(torch::Tensor x);
  const DcdmNetOptions& options() const { return options_; }

 private:
  torch::Tensor conv(int index, const torch::Tensor& x);  // ReLU(conv_index(x))
  torch::Tensor pool(const torch::Tensor& x) const;
  torch::Tensor upsample(const torch::Tensor& x) const;

  DcdmNetOptions options_;
  torch::nn::AnyModule first_, last_;
  std::vector<torch::nn::AnyModule> convs_;
};
TORCH_MODULE(DcdmNet);

}  // namespace fluxion::learn
