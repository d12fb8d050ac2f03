// Space-time Fourier neural operators that map a window of vorticity snapshots to the next ones:
// SFNO (Cao, Brarda, Li, Xi, ICLR 2025, the network that Spectral-Refiner fine-tunes) and the FNO-3d
// baseline (Li et al., ICLR 2021) as the SFNO authors' code (scaomath/torch-cfd) uses it for the same
// task. Both map w [batch, in_frames, ny, nx] to [batch, out_frames, ny, nx] and are
// resolution-independent in space (trained at 64^2, applied at 256^2).
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace fluxion::learn {

/// SFNO as the authors' code defines it for the 10 -> 40 snapshot task (their notebook's model has
/// 9,245,131 parameters at these defaults; so has ours). Inside, a trajectory is [batch, channels,
/// ny, nx, nt] and every spectral convolution transforms (y, x, t), keeping modes_y and modes_x wave
/// numbers of both signs and the first modes_t of the one-sided time spectrum:
/// - lifting: w plus a positional encoding (channels x_i = i / nx, y_j = j / ny, t_k = (k + 1) / 100
///   and `width` channels exp(beta t) sin or cos(pi (j + 1) t)), a one-group LayerNorm, a 1x1
///   convolution to `width` channels, a spectral convolution that also maps in_frames to latent_frames steps;
/// - layers - 1 hidden layers v <- GELU(MLP(K v) + W v), MLP = 1x1 conv to mlp_channels, GELU, 1x1 conv back;
/// - a 1x1 convolution to one channel;
/// - the time-extension output layer (SfnoOutputLayer).
/// Unlike the authors' linspace(0, 1, n), the space coordinates are the torus points i / n, the
/// same for a point at every resolution; and a grid too small for the kept modes is an Error.
struct SfnoOptions {
  int in_frames = 10;
  int out_frames = 40;
  int width = 20;
  int modes_x = 12;
  int modes_y = 12;
  int modes_t = 5;
  int layers = 4;          // spectral layers, the lifting's included (the authors' num_spectral_layers)
  int latent_frames = 10;  // time steps of the hidden layers (the authors' latent_steps)
  int mlp_channels = 128;  // the authors' channel_expansion
  double beta = 0.01;      // time scale of the positional encoding (the authors' notebook: 1e-2)
  double delta = 0.1;      // weight of the output layer's spectral bias
  // The output layer's kept modes; 0: modes_x, modes_y, modes_t. SfnoNet::widen_output_modes raises
  // them, and a model file of a widened network records them.
  int output_modes_x = 0, output_modes_y = 0, output_modes_t = 0;

  std::array<int, 3> output_modes() const;  // {x, y, t}, the zeros resolved
  nlohmann::json to_json() const;
  static SfnoOptions from_json(const nlohmann::json& j);  // throws Error naming "network.<key>"
};

/// FNO-3d for the same task, as the SFNO authors' fno3d.py has it: the coordinates x_i = i / nx,
/// y_j = j / ny, t in [0, 1] and the input frames repeated along out_frames time steps (13 channels
/// for 10 frames), a 1x1 lifting to `width`, `layers` layers v <- GELU(MLP(K v) + W v) (MLP width ->
/// width -> width; no GELU after the last), a projection width -> projection_channels -> 1 without
/// activation (their default last_activation = False). At these defaults: 9,224,137 parameters, the
/// size of SfnoOptions{}. Their data pipeline normalizes its input and output; this network does not.
struct Fno3dOptions {
  int in_frames = 10;
  int out_frames = 40;
  int width = 20;
  int modes_x = 12;
  int modes_y = 12;
  int modes_t = 5;
  int layers = 4;
  int projection_channels = 128;

  nlohmann::json to_json() const;
  static Fno3dOptions from_json(const nlohmann::json& j);  // throws Error naming "network.<key>"
};

/// The spectral convolution over (y, x, t) of both networks: rfftn over the last three axes of
/// [batch, in, ny, nx, nt], four complex weight blocks [in, out, modes_y, modes_x, modes_t] for the
/// four sign combinations of (ky, kx) at kt = 0 .. modes_t - 1, the other modes zero, and an inverse
/// FFT to `out_steps` time steps (a spectral interpolation when out_steps differs from nt). With
/// `bias`, a learned complex constant per kept mode, times delta, is added (SFNO's output layer).
class SpaceTimeSpectralConvImpl : public torch::nn::Module {
 public:
  SpaceTimeSpectralConvImpl(int in_channels, int out_channels, int modes_x, int modes_y, int modes_t, double scale,
                            bool bias = false, double delta = 1.0);
  torch::Tensor forward(const torch::Tensor& v, int64_t out_steps);
  /// forward and its exact derivative along the output's time axis, per output step: the output is a
  /// trigonometric polynomial in time sampled at out_steps points of its period.
  std::pair<torch::Tensor, torch::Tensor> forward_with_rate(const torch::Tensor& v, int64_t out_steps);
  /// Keeps more modes: the old weights (and bias) keep their wave numbers, the new ones are zero, so
  /// the layer's output does not change. Throws Error when a count would shrink.
  void widen(int modes_x, int modes_y, int modes_t);
  std::array<int, 3> modes() const { return {modes_x_, modes_y_, modes_t_}; }

 private:
  torch::Tensor spectrum(const torch::Tensor& v);  // the output's rfftn coefficients [batch, out, ny, nx, nt/2 + 1]

  int in_, out_, modes_x_, modes_y_, modes_t_;
  double delta_;
  std::vector<torch::Tensor> weight_, bias_;  // blocks (+y +x), (+y -x), (-y +x), (-y -x); bias_ empty without
};
TORCH_MODULE(SpaceTimeSpectralConv);

/// SFNO's time-extension output layer: the one-channel latent trajectory v [batch, 1, ny, nx, L]
/// follows the last two input frames (L + 2 steps), is zero-padded in front to twice that length
/// against wrap-around in time, goes through a spectral convolution with bias whose inverse FFT
/// returns out_frames + 2 + (L + 2) steps, of which the last out_frames are kept, and the last input
/// frame is added to every output frame (the skip connection).
class SfnoOutputLayerImpl : public torch::nn::Module {
 public:
  SfnoOutputLayerImpl(int modes_x, int modes_y, int modes_t, double delta);
  /// v [batch, 1, ny, nx, L], w the input [batch, 1, ny, nx, in_frames] -> [batch, 1, ny, nx, out_frames].
  torch::Tensor forward(const torch::Tensor& v, const torch::Tensor& w, int64_t out_frames);
  /// forward and its time derivative per output frame interval (exact: the layer's output is
  /// continuous in time); with `leading` > 0, also the polynomial's samples just before the first
  /// output frame (leading = 1: at the last input frame's time), first.
  std::pair<torch::Tensor, torch::Tensor> forward_with_rate(const torch::Tensor& v, const torch::Tensor& w,
                                                            int64_t out_frames, int64_t leading = 0);
  SpaceTimeSpectralConv conv{nullptr};
};
TORCH_MODULE(SfnoOutputLayer);

class SfnoNetImpl : public torch::nn::Module {
 public:
  explicit SfnoNetImpl(const SfnoOptions& options);  // throws Error naming network.modes_t if the frames cannot hold it
  /// w [batch, in_frames, ny, nx] -> [batch, out_frames, ny, nx] (or `out_frames` frames).
  torch::Tensor forward(const torch::Tensor& w);
  torch::Tensor forward(const torch::Tensor& w, int64_t out_frames);
  /// forward's two halves, so that fine-tuning the output layer runs the frozen layers once:
  /// latent(w) is everything before the output layer ([batch, 1, ny, nx, latent_frames]), and
  /// forward(w, k) == extend(latent(w), w, k).
  torch::Tensor latent(const torch::Tensor& w);
  torch::Tensor extend(const torch::Tensor& hidden, const torch::Tensor& w, int64_t out_frames);
  /// extend and the exact time derivative of its output, per frame interval ([batch, out_frames, ny,
  /// nx] each; divide by the time between frames for a rate per unit time). The output layer maps
  /// the last two input frames and the latent steps to a trigonometric polynomial in time whose
  /// samples are the output frames (SfnoOutputLayer), so the derivative is that polynomial's: the
  /// time derivative Spectral-Refiner's residual uses here (vorticity_residual.hpp).
  /// With `leading` = 1 the first of out_frames + 1 frames is the polynomial at the last input
  /// frame's time, where the true trajectory is that frame (Spectral-Refiner's optional anchor).
  std::pair<torch::Tensor, torch::Tensor> extend_with_rate(const torch::Tensor& hidden, const torch::Tensor& w,
                                                           int64_t out_frames, int64_t leading = 0);
  const SfnoOptions& options() const { return options_; }

  /// Spectral-Refiner's fine-tuning step: the output layer keeps (modes_x, modes_y, modes_t) modes,
  /// e.g. (128, 128, 13) for every mode of a 256^2 grid (its time axis has 2 (latent_frames + 2)
  /// steps, latent_frames + 3 one-sided modes). The added weights and biases start at zero, so the
  /// network's output is unchanged at the moment of widening; the options record the new counts. Create
  /// the optimizer afterwards: the output layer's parameters change shape. Throws Error when a count
  /// would shrink.
  void widen_output_modes(int modes_x, int modes_y, int modes_t);
  /// The output layer's parameters (its spectral weights and biases), the only ones Spectral-Refiner
  /// trains: set requires_grad(false) on parameters() and true on these, and give these to the optimizer.
  std::vector<torch::Tensor> output_parameters() { return output_->parameters(); }

 private:
  torch::Tensor positional_encoding(int64_t ny, int64_t nx, int64_t nt, const torch::TensorOptions& opts) const;

  SfnoOptions options_;
  torch::nn::GroupNorm norm_{nullptr};
  torch::nn::Conv3d lift_{nullptr}, reduce_{nullptr};
  SpaceTimeSpectralConv lift_spectral_{nullptr};
  std::vector<SpaceTimeSpectralConv> spectral_;
  std::vector<torch::nn::Sequential> mlp_;
  std::vector<torch::nn::Conv3d> pointwise_;
  SfnoOutputLayer output_{nullptr};
};
TORCH_MODULE(SfnoNet);

class Fno3dNetImpl : public torch::nn::Module {
 public:
  explicit Fno3dNetImpl(const Fno3dOptions& options);  // throws Error naming network.modes_t if out_frames cannot hold it
  /// w [batch, in_frames, ny, nx] -> [batch, out_frames, ny, nx].
  torch::Tensor forward(const torch::Tensor& w);
  const Fno3dOptions& options() const { return options_; }

 private:
  Fno3dOptions options_;
  torch::nn::Conv3d lift_{nullptr}, hidden_{nullptr}, project_{nullptr};
  std::vector<SpaceTimeSpectralConv> spectral_;
  std::vector<torch::nn::Sequential> mlp_;
  std::vector<torch::nn::Conv3d> pointwise_;
};
TORCH_MODULE(Fno3dNet);

}  // namespace fluxion::learn
