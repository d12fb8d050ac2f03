// The training loop: Adam/AdamW with schedules, validation, checkpoints, early stopping, progress.
#include "fluxion/learn/training.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <limits>
#include <random>
#include <thread>

#include "fluxion/core/error.hpp"
#include "fluxion/core/log.hpp"
#include "fluxion/core/version.hpp"

namespace fs = std::filesystem;

namespace fluxion::learn {

void declare_training(Schema& s, const std::string& p) {
  s.section(p, "The training loop (shared by every model)")
      .integer(p + ".epochs", 50, "Passes over the training samples", Range::at_least(1).and_at_most(1e6))
      .integer(p + ".batch_size", 8, "Samples per optimiser step", Range::at_least(1).and_at_most(1e5))
      .string(p + ".optimizer", "adam", "adam, or adamw (decoupled weight decay)", {"adam", "adamw"})
      .real(p + ".learning_rate", 1e-3, "Base (peak, for one_cycle) learning rate", Range::greater_than(0).and_at_most(10))
      .real(p + ".weight_decay", 0.0, "Weight decay", Range::at_least(0).and_at_most(1))
      .string(p + ".schedule", "constant",
              "constant; one_cycle (warm up from rate/25 over 30% of the steps, cosine down to rate/2.5e5); cosine "
              "(from rate to 0); plateau (multiply by plateau_factor after plateau_patience epochs without a better "
              "validation loss)",
              {"constant", "one_cycle", "cosine", "plateau"})
      .real(p + ".plateau_factor", 0.5, "schedule plateau: factor", Range::greater_than(0).and_less_than(1))
      .integer(p + ".plateau_patience", 5, "schedule plateau: epochs", Range::at_least(1).and_at_most(1e6))
      .real(p + ".clip_norm", 0.0, "Clip the gradient's global norm to this (0: no clipping)", Range::at_least(0))
      .real(p + ".validation_fraction", 0.1, "Share of the samples held out for validation",
            Range::greater_than(0).and_less_than(1))
      .integer(p + ".seed", 0, "Seed of the weights' initialisation, the split and the batches", Range::at_least(0))
      .integer(p + ".threads", 0, "Threads of torch (0: every hardware thread)", Range::at_least(0).and_at_most(1024))
      .boolean(p + ".checkpoint", true, "Write checkpoint.pt in the output folder after every epoch")
      .boolean(p + ".resume", false, "Continue from the output folder's checkpoint.pt when it exists")
      .integer(p + ".early_stopping_patience", 0, "Stop after this many epochs without a better validation loss (0: never)",
               Range::at_least(0))
      .real(p + ".early_stopping_min_delta", 0.0, "Relative improvement of the validation loss that counts",
            Range::at_least(0).and_less_than(1))
      .real(p + ".time_budget", 0.0, "Stop after the epoch that crosses this many seconds (0: no budget)",
            Range::at_least(0));
}

TrainingOptions training_options(const Config& c, const fs::path& output_dir, const std::string& p) {
  TrainingOptions o;
  o.epochs = static_cast<int>(c.integer(p + ".epochs"));
  o.batch_size = static_cast<int>(c.integer(p + ".batch_size"));
  o.optimizer = c.string(p + ".optimizer");
  o.learning_rate = c.real(p + ".learning_rate");
  o.weight_decay = c.real(p + ".weight_decay");
  o.schedule = c.string(p + ".schedule");
  o.plateau_factor = c.real(p + ".plateau_factor");
  o.plateau_patience = static_cast<int>(c.integer(p + ".plateau_patience"));
  o.clip_norm = c.real(p + ".clip_norm");
  o.validation_fraction = c.real(p + ".validation_fraction");
  o.seed = static_cast<std::uint64_t>(c.integer(p + ".seed"));
  o.threads = static_cast<int>(c.integer(p + ".threads"));
  if (c.boolean(p + ".checkpoint")) o.checkpoint = output_dir / "checkpoint.pt";
  o.resume = c.boolean(p + ".resume");
  if (o.resume && o.checkpoint.empty()) c.fail(p + ".resume", "resuming needs training.checkpoint: true");
  o.early_stopping_patience = static_cast<int>(c.integer(p + ".early_stopping_patience"));
  o.early_stopping_min_delta = c.real(p + ".early_stopping_min_delta");
  o.time_budget_seconds = c.real(p + ".time_budget");
  o.loss_csv = output_dir / "loss.csv";
  return o;
}

double scheduled_learning_rate(const std::string& schedule, double base, std::int64_t step, std::int64_t total) {
  const double t = total > 1 ? static_cast<double>(step) / static_cast<double>(total - 1) : 1.0;
  const auto cosine = [](double from, double to, double s) { return to + 0.5 * (from - to) * (1.0 + std::cos(M_PI * s)); };
  if (schedule == "cosine") return cosine(base, 0.0, t);
  if (schedule == "one_cycle") {
    // PyTorch's OneCycleLR with its defaults: pct_start 0.3, div_factor 25, final_div_factor 1e4.
    constexpr double rise = 0.3;
    const double initial = base / 25.0, final = initial / 1e4;
    return t < rise ? cosine(initial, base, t / rise) : cosine(base, final, (t - rise) / (1.0 - rise));
  }
  return base;
}

namespace {

std::string duration(double seconds) {
  char b[32];
  const long s = std::lround(seconds);
  if (s >= 3600) std::snprintf(b, sizeof b, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else std::snprintf(b, sizeof b, "%ldm%02lds", s / 60, s % 60);
  return b;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainingOptions& o, torch::nn::Module& m) {
  if (o.optimizer == "adamw")
    return std::make_unique<torch::optim::AdamW>(
        m.parameters(), torch::optim::AdamWOptions(o.learning_rate).weight_decay(o.weight_decay));
  return std::make_unique<torch::optim::Adam>(m.parameters(),
                                              torch::optim::AdamOptions(o.learning_rate).weight_decay(o.weight_decay));
}

void set_rate(torch::optim::Optimizer& opt, double rate) {
  for (auto& group : opt.param_groups()) group.options().set_lr(rate);
}

std::vector<torch::Tensor> copy_weights(torch::nn::Module& m) {
  std::vector<torch::Tensor> w;
  for (const auto& p : m.parameters()) w.push_back(p.detach().clone());
  for (const auto& b : m.buffers()) w.push_back(b.detach().clone());
  return w;
}

void restore_weights(torch::nn::Module& m, const std::vector<torch::Tensor>& w) {
  torch::NoGradGuard guard;
  std::size_t i = 0;
  for (auto& p : m.parameters()) p.copy_(w[i++]);
  for (auto& b : m.buffers()) b.copy_(w[i++]);
}

// The state that makes a resumed run continue exactly: weights, optimiser, counters, history.
struct LoopState {
  int epoch = 0;  // epochs done
  double rate = 0.0;
  double best = std::numeric_limits<double>::infinity();
  int best_epoch = 0, since_best = 0, since_plateau_best = 0;
  double plateau_best = std::numeric_limits<double>::infinity();
  std::vector<EpochRecord> history;
};

void save_checkpoint(const fs::path& file, torch::nn::Module& m, torch::optim::Optimizer& opt, const LoopState& s,
                     const std::vector<torch::Tensor>& best_weights) {
  torch::serialize::OutputArchive archive, model, optimizer, best;
  m.save(model);
  opt.save(optimizer);
  for (std::size_t i = 0; i < best_weights.size(); ++i) best.write("w" + std::to_string(i), best_weights[i]);
  archive.write("model", model);
  archive.write("optimizer", optimizer);
  archive.write("best", best);
  std::vector<double> numbers{static_cast<double>(s.epoch), s.rate, s.best, static_cast<double>(s.best_epoch),
                              static_cast<double>(s.since_best), static_cast<double>(s.since_plateau_best),
                              s.plateau_best};
  for (const auto& r : s.history)
    for (double v : {static_cast<double>(r.epoch), r.train_loss, r.validation_loss, r.learning_rate, r.seconds})
      numbers.push_back(v);
  archive.write("state", torch::tensor(numbers, torch::kFloat64));
  const fs::path temporary = file.parent_path() / ("." + file.filename().string() + ".tmp");
  archive.save_to(temporary.string());
  fs::rename(temporary, file);
}

void load_checkpoint(const fs::path& file, torch::nn::Module& m, torch::optim::Optimizer& opt, LoopState& s,
                     std::vector<torch::Tensor>& best_weights) {
  torch::serialize::InputArchive archive, model, optimizer, best;
  try {
    archive.load_from(file.string());
    archive.read("model", model);
    archive.read("optimizer", optimizer);
    archive.read("best", best);
    m.load(model);
    opt.load(optimizer);
    for (std::size_t i = 0; i < best_weights.size(); ++i) best.read("w" + std::to_string(i), best_weights[i]);
    torch::Tensor state;
    archive.read("state", state);
    const auto n = state.accessor<double, 1>();
    s.epoch = static_cast<int>(n[0]);
    s.rate = n[1];
    s.best = n[2];
    s.best_epoch = static_cast<int>(n[3]);
    s.since_best = static_cast<int>(n[4]);
    s.since_plateau_best = static_cast<int>(n[5]);
    s.plateau_best = n[6];
    for (int64_t i = 7; i + 4 < state.size(0); i += 5)
      s.history.push_back({static_cast<int>(n[i]), n[i + 1], n[i + 2], n[i + 3], n[i + 4]});
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw IoError("checkpoint '" + file.string() + "' cannot be resumed from (another model or corrupt): " +
                  what.substr(0, what.find('\n')));
  }
}

void write_csv(const fs::path& file, const std::vector<EpochRecord>& history) {
  if (file.empty()) return;
  std::ofstream out(file);
  out << "epoch,train_loss,validation_loss,learning_rate,seconds\n";
  out.precision(8);
  for (const auto& r : history)
    out << r.epoch << ',' << r.train_loss << ',' << r.validation_loss << ',' << r.learning_rate << ',' << r.seconds
        << '\n';
  if (!out) throw IoError("cannot write the loss curve '" + file.string() + "'");
}

}  // namespace

namespace {

// libtorch's dense kernels call whichever libblas.so.3 the system provides; Debian's default is the
// reference (netlib) BLAS, about 8x slower than OpenBLAS for these networks' 1x1 convolutions.
void warn_about_reference_blas() {
  static bool warned = false;
  if (warned) return;
  warned = true;
  void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info info{};
  if (sgemm == nullptr || dladdr(sgemm, &info) == 0 || info.dli_fname == nullptr) return;
  const std::string library = info.dli_fname;
  if (library.find("/blas/libblas") != std::string::npos)
    std::fprintf(stderr,
                 "warning: torch uses the reference BLAS (%s): training runs several times slower than with "
                 "OpenBLAS (apt-get install libopenblas0-openmp; scripts/setup installs it)\n",
                 library.c_str());
}

}  // namespace

void set_torch_threads(long threads) {
  warn_about_reference_blas();
  torch::set_num_threads(threads > 0 ? static_cast<int>(threads)
                                     : std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
}

TrainingResult train(TrainingTask& task, const TrainingOptions& o) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - start).count(); };
  set_torch_threads(o.threads);
  torch::manual_seed(o.seed);

  const std::int64_t n = task.samples();
  const auto n_validation = std::max<std::int64_t>(1, std::llround(o.validation_fraction * static_cast<double>(n)));
  if (n - n_validation < 1)
    throw Error("training: " + std::to_string(n) + " samples leave none for training after the validation split");
  // Whole groups (in a seeded random order) go to validation until it holds n_validation samples.
  std::map<std::int64_t, std::vector<std::int64_t>> members;
  for (std::int64_t i = 0; i < n; ++i) members[task.group(i)].push_back(i);
  std::vector<const std::vector<std::int64_t>*> groups;
  for (const auto& [g, ids] : members) groups.push_back(&ids);
  std::mt19937_64 split_rng(o.seed);
  std::shuffle(groups.begin(), groups.end(), split_rng);
  std::vector<std::int64_t> validation, training;
  for (const auto* ids : groups) {
    auto& side = std::ssize(validation) < n_validation ? validation : training;
    side.insert(side.end(), ids->begin(), ids->end());
  }
  if (training.empty())
    throw Error("training: the validation split takes all " + std::to_string(groups.size()) +
                " group(s) of samples (trajectories); lower training.validation_fraction or add data");
  const std::int64_t steps_per_epoch = (static_cast<std::int64_t>(training.size()) + o.batch_size - 1) / o.batch_size;
  const std::int64_t total_steps = steps_per_epoch * o.epochs;

  torch::nn::Module& m = task.module();
  auto optimizer = make_optimizer(o, m);
  LoopState s;
  s.rate = o.learning_rate;
  std::vector<torch::Tensor> best_weights = copy_weights(m);
  TrainingResult result;
  if (o.resume && !o.checkpoint.empty() && fs::exists(o.checkpoint)) {
    load_checkpoint(o.checkpoint, m, *optimizer, s, best_weights);
    result.resumed_from_epoch = s.epoch;
    if (o.progress) std::printf("training: resumed from %s after epoch %d\n", o.checkpoint.c_str(), s.epoch);
  }

  const auto batch_loss = [&](const std::vector<std::int64_t>& ids, std::size_t from, std::size_t to) {
    return task.loss(torch::tensor(std::vector<std::int64_t>(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                                             ids.begin() + static_cast<std::ptrdiff_t>(to)),
                                   torch::kInt64));
  };
  const auto validation_loss = [&] {
    torch::NoGradGuard guard;
    m.eval();
    double sum = 0.0;
    for (std::size_t b = 0; b < validation.size(); b += static_cast<std::size_t>(o.batch_size)) {
      const std::size_t e = std::min(validation.size(), b + static_cast<std::size_t>(o.batch_size));
      sum += batch_loss(validation, b, e).item<double>() * static_cast<double>(e - b);
    }
    m.train();
    return sum / static_cast<double>(validation.size());
  };

  result.stopped_by = "epochs";
  m.train();
  while (s.epoch < o.epochs) {
    const auto epoch_start = clock::now();
    std::mt19937_64 rng(o.seed + 1 + static_cast<std::uint64_t>(s.epoch));  // the same batches after a resume
    std::shuffle(training.begin(), training.end(), rng);
    double sum = 0.0;
    auto last_line = clock::now();
    for (std::int64_t step = 0; step < steps_per_epoch; ++step) {
      const std::int64_t global_step = s.epoch * steps_per_epoch + step;
      if (o.schedule == "one_cycle" || o.schedule == "cosine") {
        s.rate = scheduled_learning_rate(o.schedule, o.learning_rate, global_step, total_steps);
      }
      set_rate(*optimizer, s.rate);
      const std::size_t b = static_cast<std::size_t>(step * o.batch_size);
      const std::size_t e = std::min(training.size(), b + static_cast<std::size_t>(o.batch_size));
      optimizer->zero_grad();
      torch::Tensor loss = batch_loss(training, b, e);
      const double value = loss.item<double>();
      if (!std::isfinite(value))
        throw NumericalError("training: the loss is " + std::to_string(value) + " at epoch " +
                             std::to_string(s.epoch + 1) + ", step " + std::to_string(step + 1) +
                             " (lower training.learning_rate, or set training.clip_norm)");
      loss.backward();
      if (o.clip_norm > 0.0) torch::nn::utils::clip_grad_norm_(m.parameters(), o.clip_norm);
      optimizer->step();
      sum += value * static_cast<double>(e - b);
      if (o.progress && std::chrono::duration<double>(clock::now() - last_line).count() > 10.0) {
        last_line = clock::now();
        const double t = std::chrono::duration<double>(clock::now() - epoch_start).count();
        std::printf("  epoch %d: step %lld/%lld, loss %.4e, %.1f samples/s\n", s.epoch + 1,
                    static_cast<long long>(step + 1), static_cast<long long>(steps_per_epoch), value,
                    static_cast<double>(e) / t);
        std::fflush(stdout);
      }
    }
    const double train_loss = sum / static_cast<double>(training.size());
    const double val = validation_loss();
    ++s.epoch;
    const double epoch_seconds = std::chrono::duration<double>(clock::now() - epoch_start).count();
    s.history.push_back({s.epoch, train_loss, val, s.rate, epoch_seconds});

    const bool better = val < s.best * (1.0 - o.early_stopping_min_delta);
    if (val < s.best) {
      s.best = val;
      s.best_epoch = s.epoch;
      best_weights = copy_weights(m);
    }
    s.since_best = better ? 0 : s.since_best + 1;
    if (o.schedule == "plateau") {
      if (val < s.plateau_best) {
        s.plateau_best = val;
        s.since_plateau_best = 0;
      } else if (++s.since_plateau_best >= o.plateau_patience) {
        s.rate *= o.plateau_factor;
        s.since_plateau_best = 0;
      }
    }
    if (!o.checkpoint.empty()) save_checkpoint(o.checkpoint, m, *optimizer, s, best_weights);
    write_csv(o.loss_csv, s.history);
    if (o.progress) {
      const double per_epoch = elapsed() / static_cast<double>(s.epoch - result.resumed_from_epoch);
      std::printf("epoch %d/%d  loss %.4e  validation %.4e%s  rate %.2e  %.1f samples/s  ETA %s\n", s.epoch, o.epochs,
                  train_loss, val, s.best_epoch == s.epoch ? " (best)" : "", s.rate,
                  static_cast<double>(training.size()) / epoch_seconds,
                  duration(per_epoch * (o.epochs - s.epoch)).c_str());
      std::fflush(stdout);
    }
    if (o.early_stopping_patience > 0 && s.since_best >= o.early_stopping_patience) {
      result.stopped_by = "early stopping";
      break;
    }
    if (o.time_budget_seconds > 0.0 && elapsed() >= o.time_budget_seconds) {
      result.stopped_by = "time budget";
      break;
    }
  }
  restore_weights(m, best_weights);
  result.history = s.history;
  result.best_epoch = s.best_epoch;
  result.best_validation_loss = s.best;
  result.seconds = elapsed();
  return result;
}

nlohmann::json training_header(const TrainingResult& result, const Config& config, double seconds) {
  return {{"config", nlohmann::json::parse(config.to_json())},
          {"epochs", result.history.size()},
          {"best_epoch", result.best_epoch},
          {"best_validation_loss", result.best_validation_loss},
          {"seconds", seconds}};
}

nlohmann::json training_summary(const TrainingResult& result) {
  return {{"epochs", result.history.size()},
          {"stopped_by", result.stopped_by},
          {"best_epoch", result.best_epoch},
          {"best_validation_loss", result.best_validation_loss},
          {"training_seconds", result.seconds},
          {"resumed_from_epoch", result.resumed_from_epoch}};
}

ModelHeader trained_model_header(const std::string& architecture, int dim, const nlohmann::json& network,
                                 const TrainingResult& result, const Config& config, double seconds) {
  ModelHeader header;
  header.architecture = architecture;
  header.dim = dim;
  header.network = network;
  header.training = training_header(result, config, seconds);
  header.fluxion_version = kVersion;
  return header;
}

void require_one_rank(const Config& c, MPI_Comm comm, const std::string& key, const std::string& what) {
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  if (ranks != 1) throw ConfigError(c.label(key) + ": " + what + " runs on one rank (got " + std::to_string(ranks) + ")");
}

ModelRunResult training_run_result(const std::string& architecture, std::int64_t parameters, std::int64_t samples,
                                   const std::string& data, std::int64_t nx, std::int64_t ny, const std::string& loss,
                                   const TrainingResult& result, const std::filesystem::path& model_file) {
  ModelRunResult out;
  out.outputs = {model_file, model_file.parent_path() / "loss.csv"};
  out.table = {{"network", architecture + ", " + std::to_string(parameters) + " parameters"},
               {"data", data + " at " + std::to_string(nx) + " x " + std::to_string(ny)},
               {"epochs", std::to_string(result.history.size()) + " (stopped by " + result.stopped_by + ")"},
               {"best validation loss", format_number("%.4e", result.best_validation_loss) + " (" + loss + ", epoch " +
                                            std::to_string(result.best_epoch) + ")"},
               {"training time", format_number("%.1f", result.seconds) + " s"},
               {"model", model_file.filename().string()}};
  out.results = training_summary(result);
  out.results.update({{"architecture", architecture}, {"parameters", parameters}, {"samples", samples}, {"grid", {nx, ny}}});
  return out;
}

}  // namespace fluxion::learn
