// Neural operators as trainable models (issue 9): "mgno", "fno" and "unet" learn a map between
// fields from pairs in an HDF5 data file (the darcy_dataset app's layout: /a and /u of shape
// [samples, ny, nx]) with the one training loop; `fluxion eval` reports relative L2 and H1 errors
// on a test file, at the training resolution or another one, and writes the predictions with an
// XDMF that ParaView opens (input, truth, prediction, error; one "time" per sample).
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

#include "fluxion/core/log.hpp"
#include "fluxion/core/error.hpp"
#include "fluxion/core/version.hpp"
#include "fluxion/io/dataset_file.hpp"
#include "fluxion/io/xdmf.hpp"
#include "fluxion/learn/array_file.hpp"
#include "fluxion/learn/losses.hpp"
#include "fluxion/learn/model_file.hpp"
#include "fluxion/learn/model_registry.hpp"
#include "fluxion/learn/operator_nets.hpp"
#include "fluxion/learn/training.hpp"
#include "fluxion/setup/domain_setup.hpp"

namespace fs = std::filesystem;

namespace fluxion::learn {

namespace {

using io_detail::DatasetFile;

// ---------------------------------------------------------------------------------------------
// Data: pairs of fields from one HDF5 file, either two arrays [samples, ny, nx] (input, output)
// or one array of trajectories [trajectories, snapshots, ny, nx] whose pairs are snapshots k
// apart (the ns2d_dataset layout). Read whole as float32.

struct Pairs {
  torch::Tensor input, output;  // [samples, 1, ny, nx]
  int64_t per_trajectory = 1;   // consecutive pairs cut from one trajectory (1: independent samples)
};

// Trajectories [trajectories, snapshots, ny, nx] of data.input (data.step > 0), or empty.
torch::Tensor read_trajectories(const Config& c, const fs::path& file) {
  return read_float_array(file, c.string("data.input"), 4, "trajectories x snapshots x ny x nx (data.step > 0)");
}

Pairs read_pairs(const Config& c, const std::string& key, const fs::path& config_dir) {
  const fs::path file = resolve_data_file(c, key, config_dir);
  const long limit = c.integer("data.samples"), step = c.integer("data.step");
  Pairs p;
  if (step == 0) {
    const char* layout = "samples x ny x nx (data.step 0)";
    p = {read_float_array(file, c.string("data.input"), 3, layout), read_float_array(file, c.string("data.output"), 3, layout)};
    if (p.input.sizes() != p.output.sizes())
      throw IoError("data file '" + file.string() + "': '" + c.string("data.input") + "' is " +
                    c10::str(p.input.sizes()) + " but '" + c.string("data.output") + "' is " + c10::str(p.output.sizes()));
    p.input = p.input.unsqueeze(1);
    p.output = p.output.unsqueeze(1);
  } else {
    if (c.is_set("data.output"))
      c.fail("data.output", "has no effect with data.step > 0 (pairs are snapshots of data.input); remove it");
    const torch::Tensor w = read_trajectories(c, file);
    if (step >= w.size(1))
      c.fail("data.step", std::to_string(step) + " snapshots apart needs trajectories longer than the " +
                              std::to_string(w.size(1)) + " snapshots of '" + file.string() + "'");
    p.per_trajectory = w.size(1) - step;
    p.input = w.narrow(1, 0, p.per_trajectory).reshape({-1, 1, w.size(2), w.size(3)});
    p.output = w.narrow(1, step, p.per_trajectory).reshape({-1, 1, w.size(2), w.size(3)});
  }
  if (limit > p.input.size(0))
    std::fprintf(stderr, "warning: %s: %ld pairs asked, '%s' holds %lld: using all of them\n",
                 c.label("data.samples").c_str(), limit, file.string().c_str(),
                 static_cast<long long>(p.input.size(0)));
  if (limit > 0 && limit < p.input.size(0)) {
    p.input = p.input.narrow(0, 0, limit);
    p.output = p.output.narrow(0, 0, limit);
  }
  return p;
}

// Scalar affine normalisation of inputs and targets (scalars keep a model resolution-independent).
// With `residual` the network's target is output - input (a time step's change).
struct Normalization {
  double input_mean = 0.0, input_std = 1.0, output_mean = 0.0, output_std = 1.0;
  bool residual = false;

  static Normalization of(const Pairs& p, bool residual) {
    const torch::Tensor target = residual ? p.output - p.input : p.output;
    return {p.input.mean().item<double>(), std::max(p.input.std().item<double>(), 1e-12), target.mean().item<double>(),
            std::max(target.std().item<double>(), 1e-12), residual};
  }
  nlohmann::json to_json() const {
    return {{"input_mean", input_mean},   {"input_std", input_std}, {"output_mean", output_mean},
            {"output_std", output_std}, {"residual", residual}};
  }
  static Normalization from_json(const nlohmann::json& j, const fs::path& file) {
    try {
      return {j.at("input_mean").get<double>(), j.at("input_std").get<double>(), j.at("output_mean").get<double>(),
              j.at("output_std").get<double>(), j.value("residual", false)};
    } catch (const std::exception&) {
      throw IoError("model file '" + file.string() + "': its header has no complete training.normalization");
    }
  }
};

// The physical prediction of normalised network on physical input.
torch::Tensor predict(AnyNetwork& net, const Normalization& n, const torch::Tensor& input) {
  const torch::Tensor y = net.forward((input - n.input_mean) / n.input_std) * n.output_std + n.output_mean;
  return n.residual ? y + input : y;
}

void check_grid(const std::string& architecture, const nlohmann::json& options, const torch::Tensor& data,
                const std::string& where) {
  const int k = coarsenings(options, architecture);
  const int64_t multiple = int64_t{1} << k;
  for (int axis : {2, 3})
    if (data.size(axis) % multiple != 0 || data.size(axis) < multiple)
      throw ConfigError(where + ": the grid is " + std::to_string(data.size(3)) + " x " + std::to_string(data.size(2)) +
                        "; this " + architecture + " network coarsens it " + std::to_string(k) +
                        " time(s), so every axis must be a multiple of " + std::to_string(multiple));
}

// ---------------------------------------------------------------------------------------------
// train

void declare_data(Schema& s, const std::string& file_key, const char* file_doc) {
  s.section("data", "Pairs (input, output) of fields: an HDF5 file of the darcy_dataset layout (docs/datasets.md)")
      .string(file_key, required, file_doc)
      .string("data.input", "a", "Dataset of the inputs, [samples, ny, nx]")
      .string("data.output", "u", "Dataset of the outputs, same shape")
      .integer("data.samples", 0, "Use the first this many pairs (0: all)", Range::at_least(0))
      .integer("data.step", 0,
               "0: data.input and data.output are [samples, ny, nx]; k > 0: data.input is trajectories "
               "[trajectories, snapshots, ny, nx] (ns2d_dataset) and a pair is (snapshot i, snapshot i + k)",
               Range::at_least(0));
}

void declare_network(Schema& s, const std::string& architecture) {
  if (architecture == "mgno") {
    s.section("network", "MgNO (the paper's Darcy model by default: ~0.57M parameters)")
        .integer("network.channels", 24, "Channels of u and of the hidden f", Range::at_least(1).and_at_most(512))
        .integer("network.layers", 4, "MgNO layers u <- GELU(MgConv(u) + Conv1x1(u))", Range::at_least(1).and_at_most(32))
        .integer_list("network.smoothing", {1, 1, 1, 1, 1, 2}, "Smoothing steps per level (its length: the levels)",
                      Length::at_least(1), Range::at_least(1).and_at_most(16))
        .string("network.padding", "zeros", "The boundary condition the padding encodes",
                {"zeros", "circular", "reflect"});
  } else if (architecture == "fno") {
    s.section("network", "FNO-2d (width 16 and 12 modes: ~0.59M parameters, near the MgNO default)")
        .integer("network.width", 16, "Channels of the Fourier layers", Range::at_least(1).and_at_most(512))
        .integer("network.modes", 12, "Fourier modes kept per axis (and sign of ky)", Range::at_least(1).and_at_most(256))
        .integer("network.layers", 4, "Fourier layers", Range::at_least(1).and_at_most(32));
  } else {
    s.section("network", "U-Net (16 channels, 3 levels: ~0.47M parameters)")
        .integer("network.channels", 16, "Channels of the finest level (doubling per level)",
                 Range::at_least(1).and_at_most(256))
        .integer("network.levels", 3, "Max-pooling levels", Range::at_least(1).and_at_most(8))
        .string("network.padding", "zeros", "The boundary condition the padding encodes",
                {"zeros", "circular", "reflect"});
  }
}

nlohmann::json network_options(const Config& c, const std::string& architecture) {
  nlohmann::json j = {{"in_channels", 1}, {"out_channels", 1}};
  if (architecture == "mgno") {
    j["channels"] = c.integer("network.channels");
    j["layers"] = c.integer("network.layers");
    j["smoothing"] = c.integers("network.smoothing");
    j["padding"] = c.string("network.padding");
  } else if (architecture == "fno") {
    j["width"] = c.integer("network.width");
    j["modes"] = c.integer("network.modes");
    j["layers"] = c.integer("network.layers");
  } else {
    j["channels"] = c.integer("network.channels");
    j["levels"] = c.integer("network.levels");
    j["padding"] = c.string("network.padding");
  }
  return j;
}

torch::Tensor per_sample_loss(const std::string& loss, const torch::Tensor& p, const torch::Tensor& t) {
  return loss == "h1" ? relative_h1(p, t) : relative_l2(p, t);
}

class OperatorTask : public TrainingTask {
 public:
  OperatorTask(AnyNetwork net, Pairs data, Normalization n, std::string loss)
      : net_(std::move(net)), data_(std::move(data)), n_(n), loss_(std::move(loss)) {}
  torch::nn::Module& module() override { return *net_.module; }
  std::int64_t samples() const override { return data_.input.size(0); }
  std::int64_t group(std::int64_t sample) const override { return sample / data_.per_trajectory; }
  torch::Tensor loss(const torch::Tensor& indices) override {
    const torch::Tensor prediction = predict(net_, n_, data_.input.index_select(0, indices));
    return per_sample_loss(loss_, prediction, data_.output.index_select(0, indices)).mean();
  }

 private:
  AnyNetwork net_;
  Pairs data_;
  Normalization n_;
  std::string loss_;
};

std::function<Schema()> train_schema(const std::string& architecture) {
  return [architecture] {
    Schema s;
    declare_data(s, "data.train",
                 "The training split (validation: a random training.validation_fraction of it, whole "
                 "trajectories when data.step > 0)");
    declare_network(s, architecture);
    s.string("loss", "h1", "Relative H1 (the paper's Darcy loss) or relative L2 error, per sample", {"h1", "l2"})
        .boolean("residual", false, "Learn output - input (a time step's change: the authors' NS models add the input)");
    declare_training(s);
    return s;
  };
}

ModelRunResult train_operator(const std::string& architecture, const Config& c, const ModelRunContext& ctx) {
  require_one_rank(c, ctx.comm);
  const auto start = std::chrono::steady_clock::now();
  Pairs data = read_pairs(c, "data.train", ctx.config_dir);
  const nlohmann::json options = network_options(c, architecture);
  check_grid(architecture, options, data.input, c.label("data.train"));
  const Normalization norm = Normalization::of(data, c.boolean("residual"));
  const int64_t ny = data.input.size(2), nx = data.input.size(3), samples = data.input.size(0);

  TrainingOptions topt = training_options(c, ctx.output_dir);
  torch::manual_seed(topt.seed);
  AnyNetwork net = make_network(architecture, options);
  const std::int64_t parameters = parameter_count(*net.module);
  std::printf("%s: %lld parameters, %lld training pairs at %lld x %lld, %s loss\n", architecture.c_str(),
              static_cast<long long>(parameters), static_cast<long long>(samples), static_cast<long long>(nx),
              static_cast<long long>(ny), c.string("loss").c_str());
  std::fflush(stdout);
  OperatorTask task(net, std::move(data), norm, c.string("loss"));
  const TrainingResult result = train(task, topt);

  ModelHeader header = trained_model_header(architecture, 2, options, result, c, seconds_since(start));
  header.training.update(
      {{"grid", {nx, ny}}, {"samples", samples}, {"normalization", norm.to_json()}, {"loss", c.string("loss")}});
  const fs::path model_file = ctx.output_dir / (c.string("output.name") + ".pt");
  save_model(model_file, *net.module, header);

  return training_run_result(architecture, parameters, samples, std::to_string(samples) + " pairs", nx, ny,
                             "relative " + c.string("loss"), result, model_file);
}

// ---------------------------------------------------------------------------------------------
// eval

std::function<Schema()> eval_schema() {
  return [] {
    Schema s;
    s.string("model_file", required, "The model to evaluate (a file from fluxion train of this architecture)");
    declare_data(s, "data.test", "The test split (any resolution the network can coarsen)");
    s.boolean("predictions", true, "Write predictions.h5 and predictions.xdmf (input, truth, prediction, error)")
        .integer("rollout", 0,
                 "With data.step > 0: also apply the model this many times from each trajectory's first snapshot "
                 "and report the relative L2 error against snapshot rollout x data.step (0: no rollout)",
                 Range::at_least(0));
    return s;
  };
}

// The predictions as one float32 HDF5 file (per sample i the arrays /input/i, /truth/i,
// /prediction/i, /error/i of [ny, nx], i written %06d, and the node coordinates of the unit square)
// plus io's XDMF, whose "times" are the samples.
std::vector<fs::path> write_predictions(const fs::path& dir, const Pairs& data, const torch::Tensor& prediction) {
  const int64_t n = data.input.size(0), ny = data.input.size(2), nx = data.input.size(3);
  const std::vector<std::pair<std::string, torch::Tensor>> arrays = {
      {"input", data.input}, {"truth", data.output}, {"prediction", prediction}, {"error", prediction - data.output}};
  const GridSpec grid{.dim = 2, .cells = {static_cast<PetscInt>(nx), static_cast<PetscInt>(ny), 1}};
  DatasetFile file(dir / "predictions.h5");
  for (int axis = 0; axis < 3; ++axis) {
    const std::vector<double> nodes = io_detail::node_coordinates(grid, axis);
    file.write(std::string("geometry/") + "xyz"[axis], {nodes.size()}, nodes);
  }
  std::vector<io_detail::XdmfStep> samples(static_cast<std::size_t>(n));
  for (const auto& [name, t] : arrays) {
    const torch::Tensor d = t.to(torch::kFloat64).contiguous();
    for (int64_t i = 0; i < n; ++i) {
      const std::string dataset = name + "/" + format_number("%06.0f", static_cast<double>(i));
      const double* row = d[i].data_ptr<double>();
      file.write(dataset, {std::size_t(ny), std::size_t(nx)}, std::vector<double>(row, row + ny * nx), true);
      samples[static_cast<std::size_t>(i)].time = static_cast<double>(i);
      samples[static_cast<std::size_t>(i)].arrays.push_back({.name = name, .dataset = "/" + dataset, .float32 = true});
    }
  }
  file.text_attribute("fluxion_version", kVersion);
  file.commit();
  io_detail::write_text_atomically(dir / "predictions.xdmf", io_detail::xdmf_document(grid, "predictions.h5", samples));
  return {dir / "predictions.h5", dir / "predictions.xdmf"};
}

ModelRunResult eval_operator(const std::string& architecture, const Config& c, const ModelRunContext& ctx) {
  const fs::path model_file = resolve_data_file(c, "model_file", ctx.config_dir);
  const ModelHeader header = read_model_header(model_file);
  check_model_header(header, model_file, architecture, 2);
  const Normalization norm = Normalization::from_json(header.training.value("normalization", nlohmann::json()), model_file);
  AnyNetwork net = make_network(architecture, header.network);
  load_weights(model_file, *net.module);
  net.module->eval();
  const Pairs data = read_pairs(c, "data.test", ctx.config_dir);
  check_grid(architecture, header.network, data.input, c.label("data.test"));

  const auto predict_all = [&](const torch::Tensor& input) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> parts;
    for (int64_t i = 0; i < input.size(0); i += 16)
      parts.push_back(predict(net, norm, input.narrow(0, i, std::min<int64_t>(16, input.size(0) - i))));
    torch::Tensor p = torch::cat(parts);
    if (!torch::isfinite(p).all().item<bool>())
      throw NumericalError("model file '" + model_file.string() + "' predicts non-finite values on " +
                           c.string("data.test"));
    return p;
  };
  const auto start = std::chrono::steady_clock::now();
  const torch::Tensor prediction = predict_all(data.input);
  const double seconds = seconds_since(start);
  const torch::Tensor l2 = relative_l2(prediction, data.output), h1 = relative_h1(prediction, data.output);
  const int64_t n = data.input.size(0), ny = data.input.size(2), nx = data.input.size(3);

  ModelRunResult out;
  out.table = {{"model", model_file.string() + " (" + architecture + ")"},
               {"test data", std::to_string(n) + " pairs at " + std::to_string(nx) + " x " + std::to_string(ny)},
               {"relative L2 error", format_number("%.4e", l2.mean().item<double>()) + " (mean; max " +
                                         format_number("%.3e", l2.max().item<double>()) + ")"},
               {"relative H1 error", format_number("%.4e", h1.mean().item<double>()) + " (mean; max " +
                                         format_number("%.3e", h1.max().item<double>()) + ")"},
               {"inference", format_number("%.3f", seconds) + " s (" + format_number("%.2f", 1e3 * seconds / double(n)) + " ms per sample)"}};
  out.results = {{"architecture", architecture},
                 {"samples", n},
                 {"grid", {nx, ny}},
                 {"training_grid", header.training.value("grid", nlohmann::json())},
                 {"relative_l2", l2.mean().item<double>()},
                 {"relative_h1", h1.mean().item<double>()},
                 {"relative_l2_max", l2.max().item<double>()},
                 {"relative_h1_max", h1.max().item<double>()},
                 {"inference_seconds", seconds}};
  if (const long rollout = c.integer("rollout"); rollout > 0) {
    const long step = c.integer("data.step");
    if (step == 0) c.fail("rollout", "needs trajectories: set data.step > 0");
    const torch::Tensor w = read_trajectories(c, resolve_data_file(c, "data.test", ctx.config_dir));
    if (rollout * step >= w.size(1))
      c.fail("rollout", std::to_string(rollout) + " steps of " + std::to_string(step) + " snapshots need more than the " +
                            std::to_string(w.size(1)) + " snapshots of the test trajectories");
    torch::Tensor x = w.narrow(1, 0, 1);
    for (long r = 0; r < rollout; ++r) x = predict_all(x);
    const torch::Tensor e = relative_l2(x, w.narrow(1, rollout * step, 1));
    out.table.push_back({"rollout relative L2", format_number("%.4e", e.mean().item<double>()) + " after " +
                                                    std::to_string(rollout) + " steps (mean of " +
                                                    std::to_string(w.size(0)) + " trajectories)"});
    out.results["rollout"] = {{"steps", rollout}, {"relative_l2", e.mean().item<double>()}};
  }
  if (c.boolean("predictions")) out.outputs = write_predictions(ctx.output_dir, data, prediction);
  return out;
}

}  // namespace

void register_operator_models() {
  const std::vector<std::pair<std::string, std::string>> models = {
      {"mgno", "multigrid neural operator (V-cycles of learned convolutions), from (input, output) field pairs"},
      {"fno", "Fourier neural operator (FNO-2d), the MgNO baseline"},
      {"unet", "U-Net, the MgNO baseline"}};
  for (const auto& [name, description] : models)
    ModelRegistry::instance().add(
        {name, description, train_schema(name), eval_schema(),
         [name](const Config& c, const ModelRunContext& ctx) { return train_operator(name, c, ctx); },
         [name](const Config& c, const ModelRunContext& ctx) { return eval_operator(name, c, ctx); }});
}

}  // namespace fluxion::learn
