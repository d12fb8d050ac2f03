// The one training loop of fluxion's learned models: optimiser, schedule, clipping, validation
// split, checkpoints and resume, early stopping, seeds, threads, progress, loss curve.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "fluxion/core/config.hpp"
#include "fluxion/learn/model_file.hpp"
#include "fluxion/learn/model_registry.hpp"

namespace fluxion::learn {

struct TrainingOptions {
  int epochs = 50;
  int batch_size = 8;
  std::string optimizer = "adam";     // adam | adamw
  double learning_rate = 1e-3;
  double weight_decay = 0.0;
  std::string schedule = "constant";  // constant | one_cycle | cosine | plateau
  double plateau_factor = 0.5;        // plateau: multiply the rate by this ...
  int plateau_patience = 5;           // ... after this many epochs without a better validation loss
  double clip_norm = 0.0;             // gradient clipping by global norm (0: off)
  double validation_fraction = 0.1;
  std::uint64_t seed = 0;
  int threads = 0;                    // 0: every hardware thread
  std::filesystem::path checkpoint;   // empty: none
  bool resume = false;                // continue from `checkpoint` when it exists
  int early_stopping_patience = 0;    // epochs without improvement before stopping (0: never)
  double early_stopping_min_delta = 0.0;  // relative improvement that counts
  double time_budget_seconds = 0.0;   // stop after the epoch that crosses it (0: none)
  bool progress = true;               // a progress line per epoch (and every ~10 s) on stdout
  std::filesystem::path loss_csv;     // epoch, train and validation loss, rate, seconds (empty: none)
};

/// training.* keys of a train config (docs/learn.md).
void declare_training(Schema& s, const std::string& prefix = "training");
/// The options those keys give; checkpoint and loss_csv land in `output_dir`.
TrainingOptions training_options(const Config& c, const std::filesystem::path& output_dir,
                                 const std::string& prefix = "training");

/// What a model trains on: its module and a loss over a batch of sample indices.
class TrainingTask {
 public:
  virtual ~TrainingTask() = default;
  virtual torch::nn::Module& module() = 0;
  virtual std::int64_t samples() const = 0;
  /// The mean loss over the samples `indices` (int64, 1-D), differentiable in the module's weights.
  virtual torch::Tensor loss(const torch::Tensor& indices) = 0;
  /// Samples of one group go to the same side of the validation split (pairs cut from one
  /// trajectory are not independent: a split by pair would validate on the training data).
  virtual std::int64_t group(std::int64_t sample) const { return sample; }
};

struct EpochRecord {
  int epoch = 0;
  double train_loss = 0.0, validation_loss = 0.0, learning_rate = 0.0, seconds = 0.0;
};

struct TrainingResult {
  std::vector<EpochRecord> history;
  int best_epoch = 0;                 // its weights are in the module when train() returns
  double best_validation_loss = 0.0;
  double seconds = 0.0;               // this run's wall time (a resumed run: since the resume)
  std::string stopped_by;             // "epochs", "early stopping", "time budget"
  int resumed_from_epoch = 0;         // 0: started fresh
};

/// Trains `task`'s module. The module holds the weights of the best validation loss at the end.
/// Deterministic for a given seed and thread count. Throws NumericalError when a loss is not finite.
TrainingResult train(TrainingTask& task, const TrainingOptions& options);

/// What a model file's header records of its training: the resolved config, epochs, the best
/// epoch and its validation loss, and `seconds` (the whole command's time).
nlohmann::json training_header(const TrainingResult& result, const Config& config, double seconds);

/// The header of a model `train` produced: architecture, dimension, network options, the
/// training_header and this fluxion's version. Callers add what their data were to `training`.
ModelHeader trained_model_header(const std::string& architecture, int dim, const nlohmann::json& network,
                                 const TrainingResult& result, const Config& config, double seconds);

/// What summary.json's results say of a training run: epochs, why it stopped, best epoch and loss,
/// its time, the epoch it resumed from.
nlohmann::json training_summary(const TrainingResult& result);

/// `fluxion train` (or `what`) runs on one rank: throws ConfigError naming the config's `key` otherwise.
void require_one_rank(const Config& c, MPI_Comm comm, const std::string& key = "model",
                      const std::string& what = "fluxion train");

/// Sets torch's threads (0: every hardware thread) and warns once when torch calls the reference BLAS.
void set_torch_threads(long threads);

/// What `fluxion train` of a model reports: the table (network, data, epochs, best validation
/// loss, time, model file) and summary.json's results. `data` describes the samples, e.g.
/// "600 windows"; `loss` names the validation loss, e.g. "relative L2".
ModelRunResult training_run_result(const std::string& architecture, std::int64_t parameters, std::int64_t samples,
                                   const std::string& data, std::int64_t nx, std::int64_t ny, const std::string& loss,
                                   const TrainingResult& result, const std::filesystem::path& model_file);

/// The learning rate of `schedule` at step `step` of `total` (one_cycle, cosine; others: `base`).
double scheduled_learning_rate(const std::string& schedule, double base, std::int64_t step, std::int64_t total);

}  // namespace fluxion::learn
