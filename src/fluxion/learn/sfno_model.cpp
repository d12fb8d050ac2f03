// Space-time neural operators as models (issue 10): "sfno" and "fno3d" learn the map from
// in_frames vorticity snapshots to the next out_frames (10 -> 40 in the paper) from trajectories of
// the ns2d_dataset layout. `fluxion eval` reports relative L2 errors at any resolution (a 64^2 model
// on 256^2 data: zero-shot super-resolution) and, for sfno with refine.iterations > 0, runs
// Spectral-Refiner (Cao et al., ICLR 2025; REFERENCES.md section 4) on every test window: freeze
// the network but its output layer, widen that layer to the modes of the test grid and minimise a
// negative Sobolev norm of the Navier-Stokes residual of the predicted trajectory. No reference
// data enter the refinement; the reference only measures the error before and after.
//
// The residual's time derivative is the exact derivative of the network's output, a trigonometric
// polynomial in time (SfnoNet::extend_with_rate): the data's frames are 0.2 apart, where backward
// differences (refine.time_derivative: bdf) carry an error of the size of the model's own.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <tuple>

#include "fluxion/core/error.hpp"
#include "fluxion/core/log.hpp"
#include "fluxion/core/version.hpp"
#include "fluxion/io/dataset_file.hpp"
#include "fluxion/io/xdmf.hpp"
#include "fluxion/learn/array_file.hpp"
#include "fluxion/learn/losses.hpp"
#include "fluxion/learn/model_file.hpp"
#include "fluxion/learn/model_registry.hpp"
#include "fluxion/learn/operator_nets.hpp"
#include "fluxion/learn/sfno_net.hpp"
#include "fluxion/learn/sobolev.hpp"
#include "fluxion/learn/training.hpp"
#include "fluxion/learn/vorticity_residual.hpp"
#include "fluxion/setup/domain_setup.hpp"

namespace fs = std::filesystem;

namespace fluxion::learn {

namespace {

using io_detail::DatasetFile;

// ---------------------------------------------------------------------------------------------
// Data: windows of trajectories [trajectories, snapshots, ny, nx] (data.input of an ns2d_dataset
// file): window (i, s) is snapshots s .. s + in_frames - 1 of trajectory i as input and the next
// out_frames as target, s = 0, stride, 2 stride, ...

struct Windows {
  torch::Tensor trajectories;         // [trajectories, snapshots, ny, nx], float32
  std::vector<int64_t> trajectory, start;
  int64_t in_frames = 0, out_frames = 0;
  fs::path file;
  double viscosity = NAN, interval = NAN, spinup = NAN;  // the file's attributes (NAN: absent)
  torch::Tensor forcing;              // /forcing [ny, nx] or undefined

  int64_t size() const { return static_cast<int64_t>(start.size()); }
  int64_t ny() const { return trajectories.size(2); }
  int64_t nx() const { return trajectories.size(3); }
  torch::Tensor input(int64_t w) const { return trajectories[trajectory[w]].narrow(0, start[w], in_frames); }
  torch::Tensor output(int64_t w) const {
    return trajectories[trajectory[w]].narrow(0, start[w] + in_frames, out_frames);
  }
  torch::Tensor inputs(const torch::Tensor& indices) const { return gather(indices, true); }
  torch::Tensor outputs(const torch::Tensor& indices) const { return gather(indices, false); }
  // The time of snapshot k of a trajectory (ns2d_dataset: spinup + (k + 1) interval).
  double time_of(int64_t snapshot) const {
    return std::isfinite(spinup) && std::isfinite(interval) ? spinup + static_cast<double>(snapshot + 1) * interval
                                                            : static_cast<double>(snapshot);
  }

 private:
  torch::Tensor gather(const torch::Tensor& indices, bool in) const {
    std::vector<torch::Tensor> parts;
    const auto* idx = indices.data_ptr<int64_t>();
    for (int64_t i = 0; i < indices.numel(); ++i) parts.push_back(in ? input(idx[i]) : output(idx[i]));
    return torch::stack(parts);
  }
};

Windows read_windows(const Config& c, const std::string& key, const fs::path& config_dir, int64_t in_frames,
                     int64_t out_frames) {
  Windows d;
  d.file = resolve_data_file(c, key, config_dir);
  d.trajectories = read_float_array(d.file, c.string("data.input"), 4, "trajectories x snapshots x ny x nx (ns2d_dataset)");
  d.in_frames = in_frames;
  d.out_frames = out_frames;
  const int64_t snapshots = d.trajectories.size(1), window = in_frames + out_frames;
  if (snapshots < window)
    throw IoError("data file '" + d.file.string() + "': its trajectories have " + std::to_string(snapshots) +
                  " snapshots, fewer than the model's window of " + std::to_string(in_frames) + " input + " +
                  std::to_string(out_frames) + " output frames");
  const int64_t stride = c.integer("data.stride");
  for (int64_t i = 0; i < d.trajectories.size(0); ++i)
    for (int64_t s = 0; s + window <= snapshots; s += stride) {
      d.trajectory.push_back(i);
      d.start.push_back(s);
    }
  const long limit = c.integer("data.samples");
  if (limit > d.size())
    std::fprintf(stderr, "warning: %s: %ld windows asked, '%s' holds %lld: using all of them\n",
                 c.label("data.samples").c_str(), limit, d.file.string().c_str(), static_cast<long long>(d.size()));
  if (limit > 0 && limit < d.size()) {
    d.trajectory.resize(static_cast<std::size_t>(limit));
    d.start.resize(static_cast<std::size_t>(limit));
  }
  d.viscosity = read_number_attribute(d.file, "viscosity").value_or(NAN);
  d.interval = read_number_attribute(d.file, "interval").value_or(NAN);
  d.spinup = read_number_attribute(d.file, "spinup").value_or(NAN);
  return d;
}

// A periodic grid the network can take: even sides with room for the kept modes.
void check_grid(const nlohmann::json& network, const Windows& d, const std::string& where) {
  const int mx = network.value("modes_x", 0), my = network.value("modes_y", 0);
  if (d.nx() % 2 != 0 || d.ny() % 2 != 0 || d.nx() < 2 * mx || d.ny() < 2 * my)
    throw ConfigError(where + ": the grid is " + std::to_string(d.nx()) + " x " + std::to_string(d.ny()) +
                      "; a periodic grid for this network has even sides of at least " + std::to_string(2 * mx) +
                      " x " + std::to_string(2 * my) + " (twice the kept Fourier modes)");
}

// Scalar affine normalisation, the same for input and output frames (so that SFNO's skip from the
// last input frame stays an identity), resolution-independent.
struct Normalization {
  double mean = 0.0, std = 1.0;
  nlohmann::json to_json() const { return {{"mean", mean}, {"std", std}}; }
  static Normalization from_json(const nlohmann::json& j, const fs::path& file) {
    if (!j.contains("mean") || !j.contains("std") || !j["mean"].is_number() || !j["std"].is_number())
      throw IoError("model file '" + file.string() + "': its header has no complete training.normalization");
    return {j["mean"].get<double>(), j["std"].get<double>()};
  }
};

// ---------------------------------------------------------------------------------------------
// train

void declare_data(Schema& s, const std::string& file_key, const char* file_doc, long stride) {
  s.section("data", "Trajectories of the ns2d_dataset layout (docs/datasets.md), cut into windows")
      .string(file_key, required, file_doc)
      .string("data.input", "vorticity", "Dataset of the trajectories, [trajectories, snapshots, ny, nx]")
      .integer("data.stride", stride,
               "A window (network.in_frames inputs, then network.out_frames targets) starts every this many "
               "snapshots",
               Range::at_least(1))
      .integer("data.samples", 0, "Use the first this many windows (0: all)", Range::at_least(0));
}

void declare_network(Schema& s, const std::string& architecture) {
  s.section("network", architecture == "sfno" ? "SFNO (the authors' defaults: 9.2M parameters)"
                                              : "FNO-3d (the SFNO authors' baseline: 9.2M parameters)")
      .integer("network.in_frames", 10, "Input snapshots", Range::at_least(2).and_at_most(1000))
      .integer("network.out_frames", 40, "Predicted snapshots", Range::at_least(1).and_at_most(10000))
      .integer("network.width", 20, "Channels of the spectral layers", Range::at_least(1).and_at_most(512))
      .integer("network.modes_x", 12, "Fourier modes kept along x (each sign)", Range::at_least(1).and_at_most(1024))
      .integer("network.modes_y", 12, "Fourier modes kept along y (each sign)", Range::at_least(1).and_at_most(1024))
      .integer("network.modes_t", 5, "One-sided Fourier modes kept in time", Range::at_least(1).and_at_most(501))
      .integer("network.layers", 4, "Spectral layers", Range::at_least(architecture == "sfno" ? 2 : 1).and_at_most(32));
  if (architecture == "sfno")
    s.integer("network.latent_frames", 10, "Time steps of the hidden layers", Range::at_least(1).and_at_most(1000))
        .integer("network.mlp_channels", 128, "Hidden channels of each layer's pointwise MLP",
                 Range::at_least(1).and_at_most(4096))
        .real("network.beta", 0.01, "Time scale of the positional encoding exp(beta t)")
        .real("network.delta", 0.1, "Weight of the output layer's spectral bias");
  else
    s.integer("network.projection_channels", 128, "Hidden channels of the projection to one channel",
              Range::at_least(1).and_at_most(4096));
}

nlohmann::json network_options(const Config& c, const std::string& architecture) {
  nlohmann::json j;
  for (const char* k : {"in_frames", "out_frames", "width", "modes_x", "modes_y", "modes_t", "layers"})
    j[k] = c.integer(std::string("network.") + k);
  if (architecture == "sfno") {
    j["latent_frames"] = c.integer("network.latent_frames");
    j["mlp_channels"] = c.integer("network.mlp_channels");
    j["beta"] = c.real("network.beta");
    j["delta"] = c.real("network.delta");
  } else {
    j["projection_channels"] = c.integer("network.projection_channels");
  }
  return j;
}

torch::Tensor predict(AnyNetwork& net, const Normalization& n, const torch::Tensor& input) {
  return net.forward((input - n.mean) / n.std) * n.std + n.mean;
}

class WindowTask : public TrainingTask {
 public:
  WindowTask(AnyNetwork net, Windows data, Normalization n) : net_(std::move(net)), data_(std::move(data)), n_(n) {}
  torch::nn::Module& module() override { return *net_.module; }
  std::int64_t samples() const override { return data_.size(); }
  std::int64_t group(std::int64_t sample) const override { return data_.trajectory[static_cast<std::size_t>(sample)]; }
  torch::Tensor loss(const torch::Tensor& indices) override {
    // Relative L2 over the whole predicted window, per sample (the authors' training loss).
    return relative_l2(predict(net_, n_, data_.inputs(indices)), data_.outputs(indices)).mean();
  }

 private:
  AnyNetwork net_;
  Windows data_;
  Normalization n_;
};

std::function<Schema()> train_schema(const std::string& architecture) {
  return [architecture] {
    Schema s;
    declare_data(s, "data.train",
                 "The training trajectories (validation: a random training.validation_fraction of the trajectories)",
                 10);
    declare_network(s, architecture);
    declare_training(s);
    return s;
  };
}

ModelRunResult train_window_model(const std::string& architecture, const Config& c, const ModelRunContext& ctx) {
  require_one_rank(c, ctx.comm);
  const auto start = std::chrono::steady_clock::now();
  const nlohmann::json options = network_options(c, architecture);
  Windows data = read_windows(c, "data.train", ctx.config_dir, c.integer("network.in_frames"),
                              c.integer("network.out_frames"));
  check_grid(options, data, c.label("data.train"));
  const Normalization norm{data.trajectories.mean().item<double>(), std::max(data.trajectories.std().item<double>(), 1e-12)};
  const int64_t ny = data.ny(), nx = data.nx(), samples = data.size();
  const double viscosity = data.viscosity, interval = data.interval;

  TrainingOptions topt = training_options(c, ctx.output_dir);
  torch::manual_seed(topt.seed);
  AnyNetwork net = make_network(architecture, options);
  const std::int64_t parameters = parameter_count(*net.module);
  std::printf("%s: %lld parameters, %lld windows (%lld -> %lld frames) at %lld x %lld\n", architecture.c_str(),
              static_cast<long long>(parameters), static_cast<long long>(samples),
              static_cast<long long>(data.in_frames), static_cast<long long>(data.out_frames),
              static_cast<long long>(nx), static_cast<long long>(ny));
  std::fflush(stdout);
  WindowTask task(net, std::move(data), norm);
  const TrainingResult result = train(task, topt);

  ModelHeader header = trained_model_header(architecture, 2, options, result, c, seconds_since(start));
  header.training.update({{"grid", {nx, ny}}, {"samples", samples}, {"normalization", norm.to_json()}, {"loss", "l2"}});
  // What the data were, so that eval and refine can refuse data of another flow.
  if (std::isfinite(viscosity)) header.training["viscosity"] = viscosity;
  if (std::isfinite(interval)) header.training["interval"] = interval;
  const fs::path model_file = ctx.output_dir / (c.string("output.name") + ".pt");
  save_model(model_file, *net.module, header);

  return training_run_result(architecture, parameters, samples, std::to_string(samples) + " windows", nx, ny,
                             "relative L2", result, model_file);
}

// ---------------------------------------------------------------------------------------------
// eval (and Spectral-Refiner)

std::function<Schema()> eval_schema() {
  return [] {
    Schema s;
    s.string("model_file", required, "The model to evaluate (a file from fluxion train of this architecture)");
    declare_data(s, "data.test", "The test trajectories (any grid the network takes: 256^2 for zero-shot super-resolution)",
                 50);
    s.integer("predictions", 2,
              "Write predictions.h5 and one predictions_<k>.xdmf per window (prediction, truth, error; refined and "
              "its error after refine) for the first this many windows (0: none)",
              Range::at_least(0));
    s.section("refine",
              "Spectral-Refiner (sfno only): per test window, train only the widened output layer to minimise the "
              "H^s norm of the vorticity equation's residual of the predicted trajectory (no reference data)")
        .integer("refine.iterations", 0, "Adam iterations per window (0: no refinement)", Range::at_least(0))
        .real("refine.learning_rate", 1e-4, "Adam's learning rate of the output layer's spectral weights (the authors' 1e-4)",
              Range::greater_than(0))
        .real("refine.bias_learning_rate", 5e-4,
              "Adam's step for the output layer's spectral bias, in units of the output's Fourier amplitudes "
              "(normalised vorticity): the bias parameters' rate is this times ny nx nt / network.delta, as the "
              "inverse FFT divides by the sample count (the authors' 0.2 at delta 1, in their raw units, is 5.7e-8 "
              "here at 256^2)",
              Range::greater_than(0))
        .real("refine.anchor", 0.0,
              "Weight of the mismatch between the output layer's trajectory at the last input frame's time and "
              "that frame (the initial condition; H^s norm, per frame interval) added to the residual norm; 0: "
              "the residual alone, as the authors",
              Range::at_least(0))
        .real("refine.s", -1.0, "Sobolev order of the residual norm (negative: a dual norm)")
        .real("refine.alpha", 1.0, "The norm's shift: weights (alpha + 4 pi^2 |k|^2)^s", Range::at_least(0))
        .integer_list("refine.modes", {0, 0, 0},
                      "Modes [x, y, t] the output layer keeps while refined; 0: all of the test grid (nx/2, ny/2) and "
                      "of the layer's time axis",
                      Length::exactly(3), Range::at_least(0))
        .string("refine.time_derivative", "spectral",
                "spectral: the exact time derivative of the network's output (a trigonometric polynomial in time); "
                "bdf: backward differences over the frames (the last input frames prepended)",
                {"spectral", "bdf"})
        .integer("refine.bdf_order", 4, "Order of the backward differences (refine.time_derivative: bdf)",
                 Range::at_least(1).and_at_most(6))
        .boolean("refine.dealias", true, "2/3-rule dealiasing of u.grad w in the residual");
    return s;
  };
}

// The file's value of a flow parameter against the model's: absent in either is accepted, a
// difference is an error naming both.
void check_same(const Windows& d, const ModelHeader& header, const fs::path& model_file, const char* name, double value) {
  if (!header.training.contains(name) || !std::isfinite(value)) return;
  const double trained = header.training[name].get<double>();
  if (std::abs(trained - value) > 1e-9 * std::max(1.0, std::abs(trained)))
    throw IoError("data file '" + d.file.string() + "': its " + name + " is " + format_number("%g", value) +
                  " but model file '" + model_file.string() + "' was trained on " + name + " " +
                  format_number("%g", trained) + " (another flow)");
}

struct RefineSettings {
  int iterations = 0;
  double learning_rate = 1e-4, bias_learning_rate = 5e-4, anchor = 0.0;
  SobolevOrder order;
  std::array<int, 3> modes{};
  bool spectral = true;
  VorticityResidualSpec spec;
};

// The H^s norm of the residual of a (physical) predicted window: rate is dw/dt per frame interval
// (spectral) or undefined (bdf: the last input frames lead the predicted ones).
torch::Tensor residual_norm(const torch::Tensor& w, const torch::Tensor& rate, const torch::Tensor& input,
                            const torch::Tensor& forcing, const RefineSettings& r) {
  if (r.spectral) return vorticity_residual_norm(w, rate / r.spec.dt, forcing, r.spec, r.order);
  const int k = r.spec.bdf_order;
  return vorticity_residual_norm(torch::cat({input.narrow(1, input.size(1) - k, k), w}, 1), forcing, r.spec, r.order);
}

struct WindowResult {
  torch::Tensor prediction, refined;      // [1, out_frames, ny, nx]
  double residual_before = NAN, residual_after = NAN, seconds = 0.0, latent_seconds = 0.0;
  std::vector<double> residual_history;
};

// One window through the (refined) SFNO: the frozen layers once, then Adam on the output layer.
WindowResult refine_window(SfnoNetImpl& trained, const Normalization& n, const torch::Tensor& input,
                           const torch::Tensor& forcing, const RefineSettings& r) {
  WindowResult out;
  const auto start = std::chrono::steady_clock::now();
  // Each window refines its own copy of the trained network (widening changes the output layer).
  SfnoNet net(trained.options());
  {
    torch::NoGradGuard no_grad;
    const auto source = trained.named_parameters();
    for (auto& p : net->named_parameters()) p.value().copy_(source[p.key()]);
  }
  net->eval();
  const int64_t ny = input.size(2), nx = input.size(3);
  const int64_t frames = net->options().out_frames;
  const torch::Tensor x = (input - n.mean) / n.std;
  torch::Tensor hidden;
  {
    torch::NoGradGuard no_grad;
    hidden = net->latent(x);
  }
  out.latent_seconds = seconds_since(start);
  const int mt_all = net->options().latent_frames + 3;
  net->widen_output_modes(r.modes[0] > 0 ? r.modes[0] : static_cast<int>(nx / 2),
                          r.modes[1] > 0 ? r.modes[1] : static_cast<int>(ny / 2), r.modes[2] > 0 ? r.modes[2] : mt_all);
  for (auto& p : net->parameters()) p.set_requires_grad(false);
  std::vector<torch::Tensor> weights, biases;
  for (const auto& p : net->named_parameters()) {
    if (p.key().rfind("output.", 0) != 0) continue;
    p.value().set_requires_grad(true);
    (p.key().find("bias") != std::string::npos ? biases : weights).push_back(p.value());
  }
  // The output's samples per window: ny nx and the output layer's time axis (SfnoOutputLayer).
  const double samples = static_cast<double>(ny * nx * (frames + 2 + 2 + net->options().latent_frames));
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(weights, std::make_unique<torch::optim::AdamOptions>(r.learning_rate));
  groups.emplace_back(biases, std::make_unique<torch::optim::AdamOptions>(r.bias_learning_rate * samples /
                                                                          net->options().delta));
  torch::optim::Adam adam(std::move(groups), torch::optim::AdamOptions(r.learning_rate));
  // The loss: the residual norm of the output frames, plus (anchor > 0) the mismatch at the last
  // input frame's time divided by the frame interval (a rate, like the residual).
  const int64_t leading = r.anchor > 0.0 ? 1 : 0;
  const auto evaluate = [&] {
    auto [v, rate] = net->extend_with_rate(hidden, x, frames, leading);
    const torch::Tensor all = v * n.std + n.mean;
    const torch::Tensor w = all.narrow(1, leading, frames);
    const torch::Tensor residual = residual_norm(w, rate.narrow(1, leading, frames) * n.std, input, forcing, r).mean();
    torch::Tensor loss = residual;
    if (leading > 0)
      loss = loss + r.anchor / r.spec.dt *
                        sobolev_error(all.select(1, 0), input.select(1, input.size(1) - 1), r.order).mean();
    return std::tuple{w, loss, residual};
  };
  {
    torch::NoGradGuard no_grad;
    auto [w, loss, residual] = evaluate();
    out.prediction = w;
    out.residual_before = residual.item<double>();
  }
  const std::vector<double> base_rates{r.learning_rate, adam.param_groups()[1].options().get_lr()};
  for (int it = 0; it < r.iterations; ++it) {
    // A cosine decay of both rates to zero: Adam's steps at a constant rate end in oscillation.
    for (std::size_t g = 0; g < 2; ++g)
      adam.param_groups()[g].options().set_lr(scheduled_learning_rate("cosine", base_rates[g], it, r.iterations));
    adam.zero_grad();
    auto [w, loss, residual] = evaluate();
    if (!torch::isfinite(loss).item<bool>())
      throw NumericalError("refine: the residual norm is not finite at iteration " + std::to_string(it) +
                           " (lower refine.learning_rate)");
    out.residual_history.push_back(residual.item<double>());
    loss.backward();
    adam.step();
  }
  {
    torch::NoGradGuard no_grad;
    auto [w, loss, residual] = evaluate();
    out.refined = w;
    out.residual_after = residual.item<double>();
  }
  out.seconds = seconds_since(start);
  return out;
}

// predictions.h5: per written window k, /window_k/<array>/<frame> [ny, nx] float32, and the
// geometry; predictions_k.xdmf plays window k over the frames' times.
std::vector<fs::path> write_predictions(const fs::path& dir, const Windows& d, const std::vector<int64_t>& windows,
                                        const std::vector<std::vector<std::pair<std::string, torch::Tensor>>>& arrays) {
  const int64_t ny = d.ny(), nx = d.nx();
  const GridSpec grid{.dim = 2, .cells = {static_cast<PetscInt>(nx), static_cast<PetscInt>(ny), 1}};
  std::vector<fs::path> files{dir / "predictions.h5"};
  DatasetFile file(files[0]);
  for (int axis = 0; axis < 3; ++axis) {
    const std::vector<double> nodes = io_detail::node_coordinates(grid, axis);
    file.write(std::string("geometry/") + "xyz"[axis], {nodes.size()}, nodes);
  }
  std::vector<std::pair<fs::path, std::string>> documents;
  for (std::size_t k = 0; k < windows.size(); ++k) {
    const int64_t w = windows[k];
    const std::string group = "window_" + format_number("%03.0f", static_cast<double>(k));
    std::vector<io_detail::XdmfStep> steps(static_cast<std::size_t>(d.out_frames));
    for (const auto& [name, t] : arrays[k]) {
      const torch::Tensor v = t.to(torch::kFloat64).contiguous();
      for (int64_t f = 0; f < d.out_frames; ++f) {
        const std::string dataset = group + "/" + name + "/" + format_number("%06.0f", static_cast<double>(f));
        const double* row = v[0][f].data_ptr<double>();
        file.write(dataset, {std::size_t(ny), std::size_t(nx)}, std::vector<double>(row, row + ny * nx), true);
        auto& step = steps[static_cast<std::size_t>(f)];
        step.time = d.time_of(d.start[static_cast<std::size_t>(w)] + d.in_frames + f);
        step.arrays.push_back({.name = name, .dataset = "/" + dataset, .float32 = true});
      }
    }
    documents.push_back({dir / ("predictions_" + format_number("%03.0f", static_cast<double>(k)) + ".xdmf"),
                         io_detail::xdmf_document(grid, "predictions.h5", steps)});
  }
  file.text_attribute("fluxion_version", kVersion);
  file.commit();
  for (const auto& [path, text] : documents) {
    io_detail::write_text_atomically(path, text);
    files.push_back(path);
  }
  return files;
}

ModelRunResult eval_window_model(const std::string& architecture, const Config& c, const ModelRunContext& ctx) {
  const fs::path model_file = resolve_data_file(c, "model_file", ctx.config_dir);
  const ModelHeader header = read_model_header(model_file);
  check_model_header(header, model_file, architecture, 2);
  const Normalization norm = Normalization::from_json(header.training.value("normalization", nlohmann::json()), model_file);
  const int64_t in_frames = network_integer(header.network, "in_frames", 1, 1000);
  const int64_t out_frames = network_integer(header.network, "out_frames", 1, 10000);
  Windows data = read_windows(c, "data.test", ctx.config_dir, in_frames, out_frames);
  check_grid(header.network, data, c.label("data.test"));
  check_same(data, header, model_file, "viscosity", data.viscosity);
  check_same(data, header, model_file, "interval", data.interval);

  RefineSettings r;
  r.iterations = static_cast<int>(c.integer("refine.iterations"));
  if (r.iterations > 0) {
    if (architecture != "sfno")
      c.fail("refine.iterations", "Spectral-Refiner refines SFNO's output layer; this is a " + architecture + " model");
    if (!std::isfinite(data.viscosity) || !std::isfinite(data.interval))
      throw IoError("data file '" + data.file.string() +
                    "' has no viscosity and interval attributes (an ns2d_dataset file has): the residual needs them");
    r.learning_rate = c.real("refine.learning_rate");
    r.bias_learning_rate = c.real("refine.bias_learning_rate");
    r.anchor = c.real("refine.anchor");
    r.order = {c.real("refine.s"), c.real("refine.alpha")};
    const std::vector<long> m = c.integers("refine.modes");
    r.modes = {static_cast<int>(m[0]), static_cast<int>(m[1]), static_cast<int>(m[2])};
    if ((m[0] > 0 && 2 * m[0] > data.nx()) || (m[1] > 0 && 2 * m[1] > data.ny()))
      c.fail("refine.modes", "keeps more modes than the " + std::to_string(data.nx()) + " x " +
                                 std::to_string(data.ny()) + " grid has (at most nx/2, ny/2)");
    r.spectral = c.string("refine.time_derivative") == "spectral";
    r.spec = {.dt = data.interval, .viscosity = data.viscosity, .bdf_order = static_cast<int>(c.integer("refine.bdf_order")),
              .dealias = c.boolean("refine.dealias")};
    data.forcing = read_float_array(data.file, "forcing", 2, "ny x nx");
    if (data.forcing.size(0) != data.ny() || data.forcing.size(1) != data.nx())
      throw IoError("data file '" + data.file.string() + "': /forcing is " + c10::str(data.forcing.sizes()) +
                    ", not the trajectories' grid");
  } else {
    for (const char* key : {"refine.learning_rate", "refine.bias_learning_rate", "refine.anchor", "refine.s",
                            "refine.alpha", "refine.modes", "refine.time_derivative", "refine.bdf_order",
                            "refine.dealias"})
      if (c.is_set(key)) c.fail(key, "has no effect without refine.iterations > 0");
  }

  AnyNetwork net = make_network(architecture, header.network);
  load_weights(model_file, *net.module);
  net.module->eval();

  const int64_t n = data.size(), written = std::min<int64_t>(c.integer("predictions"), n);
  std::vector<double> before(static_cast<std::size_t>(n)), after, residual_before, residual_after, refine_seconds,
      latent_seconds;
  std::vector<std::vector<double>> frame_before, frame_after;  // per window and frame
  std::vector<std::vector<std::pair<std::string, torch::Tensor>>> arrays;
  std::vector<int64_t> written_windows;
  double inference_seconds = 0.0;
  std::vector<double> residual_history_0;  // the loss over the iterations of window 0
  const auto frame_errors = [](const torch::Tensor& p, const torch::Tensor& t) {
    const torch::Tensor e = relative_l2(p.squeeze(0).unsqueeze(1), t.squeeze(0).unsqueeze(1));
    return std::vector<double>(e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
  };
  for (int64_t w = 0; w < n; ++w) {
    const torch::Tensor input = data.input(w).unsqueeze(0), truth = data.output(w).unsqueeze(0);
    torch::Tensor prediction, refined;
    if (r.iterations > 0) {
      const WindowResult res =
          refine_window(*std::dynamic_pointer_cast<SfnoNetImpl>(net.module), norm, input, data.forcing, r);
      if (w == 0) residual_history_0 = res.residual_history;
      prediction = res.prediction;
      refined = res.refined;
      residual_before.push_back(res.residual_before);
      residual_after.push_back(res.residual_after);
      refine_seconds.push_back(res.seconds);
      latent_seconds.push_back(res.latent_seconds);
      after.push_back(relative_l2(refined, truth).item<double>());
      frame_after.push_back(frame_errors(refined, truth));
      std::printf("window %lld: relative L2 %.4e -> %.4e, residual H^%g %.4e -> %.4e, %.1f s (frozen layers %.1f s)\n",
                  static_cast<long long>(w), relative_l2(prediction, truth).item<double>(), after.back(), r.order.s,
                  res.residual_before, res.residual_after, res.seconds, res.latent_seconds);
      std::fflush(stdout);
    } else {
      torch::NoGradGuard no_grad;
      const auto start = std::chrono::steady_clock::now();
      prediction = predict(net, norm, input);
      inference_seconds += seconds_since(start);
    }
    if (!torch::isfinite(prediction).all().item<bool>())
      throw NumericalError("model file '" + model_file.string() + "' predicts non-finite values on window " +
                           std::to_string(w) + " of " + data.file.string());
    before[static_cast<std::size_t>(w)] = relative_l2(prediction, truth).item<double>();
    frame_before.push_back(frame_errors(prediction, truth));
    if (w < written) {
      written_windows.push_back(w);
      std::vector<std::pair<std::string, torch::Tensor>> a = {
          {"prediction", prediction}, {"truth", truth}, {"error", prediction - truth}};
      if (refined.defined()) {
        a.push_back({"refined", refined});
        a.push_back({"refined_error", refined - truth});
      }
      arrays.push_back(std::move(a));
    }
  }
  const auto mean = [](const std::vector<double>& v) {
    double s = 0.0;
    for (double x : v) s += x;
    return v.empty() ? NAN : s / static_cast<double>(v.size());
  };
  const auto maximum = [](const std::vector<double>& v) { return v.empty() ? NAN : *std::max_element(v.begin(), v.end()); };
  const auto frame_mean = [](const std::vector<std::vector<double>>& v) {
    std::vector<double> m(v.empty() ? 0 : v[0].size(), 0.0);
    for (const auto& row : v)
      for (std::size_t f = 0; f < m.size(); ++f) m[f] += row[f] / static_cast<double>(v.size());
    return m;
  };

  ModelRunResult out;
  const std::string grid = std::to_string(data.nx()) + " x " + std::to_string(data.ny());
  out.table = {{"model", model_file.string() + " (" + architecture + ", trained at " +
                             header.training.value("grid", nlohmann::json()).dump() + ")"},
               {"test data", std::to_string(n) + " windows (" + std::to_string(in_frames) + " -> " +
                                 std::to_string(out_frames) + " frames) at " + grid},
               {"relative L2 error", format_number("%.4e", mean(before)) + " (mean; max " + format_number("%.3e", maximum(before)) + ")"}};
  out.results = {{"architecture", architecture},
                 {"windows", n},
                 {"grid", {data.nx(), data.ny()}},
                 {"training_grid", header.training.value("grid", nlohmann::json())},
                 {"relative_l2", mean(before)},
                 {"relative_l2_max", maximum(before)},
                 {"relative_l2_per_window", before},
                 {"relative_l2_per_frame", frame_mean(frame_before)}};
  if (r.iterations > 0) {
    const double ratio = mean(before) / mean(after);
    out.table.push_back({"refined relative L2", format_number("%.4e", mean(after)) + " (mean; max " +
                                                     format_number("%.3e", maximum(after)) + "; " +
                                                     format_number("%.2f", ratio) + "x lower)"});
    out.table.push_back({"residual H^" + format_number("%g", r.order.s), format_number("%.4e", mean(residual_before)) +
                                                                        " -> " + format_number("%.4e", mean(residual_after))});
    out.table.push_back({"refinement", std::to_string(r.iterations) + " iterations, " +
                                           format_number("%.1f", mean(refine_seconds)) + " s per window (mean)"});
    out.results["refine"] = {{"iterations", r.iterations},
                             {"learning_rate", r.learning_rate},
                             {"bias_learning_rate", r.bias_learning_rate},
                             {"anchor", r.anchor},
                             {"s", r.order.s},
                             {"alpha", r.order.alpha},
                             {"time_derivative", c.string("refine.time_derivative")},
                             {"relative_l2", mean(after)},
                             {"relative_l2_max", maximum(after)},
                             {"relative_l2_per_window", after},
                             {"relative_l2_per_frame", frame_mean(frame_after)},
                             {"residual_before", mean(residual_before)},
                             {"residual_after", mean(residual_after)},
                             {"residual_before_per_window", residual_before},
                             {"residual_after_per_window", residual_after},
                             {"seconds_per_window", mean(refine_seconds)},
                             {"frozen_layers_seconds_per_window", mean(latent_seconds)},
                             {"residual_history_window_0", residual_history_0},
                             {"seconds_per_window_max", maximum(refine_seconds)}};
  } else {
    out.table.push_back({"inference", format_number("%.3f", inference_seconds) + " s (" +
                                          format_number("%.1f", 1e3 * inference_seconds / double(n)) + " ms per window)"});
    out.results["inference_seconds"] = inference_seconds;
  }
  if (written > 0) out.outputs = write_predictions(ctx.output_dir, data, written_windows, arrays);
  return out;
}

}  // namespace

void register_sfno_models() {
  const std::vector<std::pair<std::string, std::string>> models = {
      {"sfno", "space-time FNO (SFNO): in_frames vorticity snapshots -> the next out_frames; eval can refine it "
               "(Spectral-Refiner)"},
      {"fno3d", "FNO-3d, the SFNO baseline on the same windows"}};
  for (const auto& [name, description] : models)
    ModelRegistry::instance().add(
        {name, description, train_schema(name), eval_schema(),
         [name](const Config& c, const ModelRunContext& ctx) { return train_window_model(name, c, ctx); },
         [name](const Config& c, const ModelRunContext& ctx) { return eval_window_model(name, c, ctx); }});
}

}  // namespace fluxion::learn
