// INSR: time integration where the field is a network and each step is an optimisation (Chen et al.,
// ICML 2023; REFERENCES.md section 5; the authors' code is honglin-c/INSR-PDE). This header holds the
// pieces every example shares: losses as lists of least-squares terms, the optimisers that minimise
// them (Adam with plateau decay as the authors do, L-BFGS with a strong Wolfe line search, and a
// matrix-free Levenberg-Marquardt Gauss-Newton method), sample points, and the per-step weights file.
// The examples and the `insr` app are in insr_app.cpp.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "fluxion/learn/siren.hpp"

namespace fluxion::learn::insr {

/// One least-squares term of a loss: weight * mean(residual^2) over its entries.
struct LossTerm {
  std::string name;
  torch::Tensor residual;
  double weight = 1.0;
};
using Losses = std::vector<LossTerm>;

/// sum_terms weight * mean(residual^2).
torch::Tensor total_loss(const Losses& terms);

/// How one fit is optimised (an `optimizer:` section of the config).
struct OptimizerOptions {
  std::string method = "lbfgs";  // adam | lbfgs | gauss_newton
  long iterations = 100;         // the budget: Adam steps, L-BFGS iterations, Gauss-Newton steps
  double learning_rate = 1.0;    // Adam's rate; L-BFGS's step scale (1 with a line search)
  // Adam: ReduceLROnPlateau on the loss (factor, patience), converged when the rate would fall
  // below min_learning_rate (the authors' early stop).
  double plateau_factor = 0.1;
  long plateau_patience = 500;
  double min_learning_rate = 1e-8;
  bool resample = false;  // new samples: every iteration (Adam, the authors' choice), else for the stage
  // L-BFGS: history and the tolerances that end it early (converged).
  long history = 100;
  double tolerance_grad = 1e-12;
  double tolerance_change = 1e-15;
  // Gauss-Newton: initial Levenberg-Marquardt damping (relative to the mean diagonal of J^T J) and
  // the conjugate-gradient iterations per step.
  double damping = 1e-3;
  long cg_iterations = 50;
  // > 0: the fit has reached its tolerance only when its final loss is at most this.
  double target_loss = 0.0;
};

/// What one fit did.
struct FitReport {
  std::string name;        // which fit of the step: "initial", "step", "advect", "pressure", ...
  long iterations = 0;     // optimiser iterations taken
  long evaluations = 0;    // loss evaluations (line searches and rejected steps count)
  double initial_loss = 0.0, loss = 0.0;
  double seconds = 0.0;
  bool finite = true;      // false: the loss turned NaN or infinite (the weights are then unusable)
  bool converged = false;  // the optimiser's own criterion (or target_loss) was met within the budget
  std::string stop;        // why it stopped, in words
  std::map<std::string, double> terms;  // each term's weighted mean square at the end
};

/// The loss at the current weights; `iteration` lets the closure draw new samples when it should.
using LossFunction = std::function<Losses(long iteration)>;

/// Minimises the loss over `parameters` (which require grad) as `options` say.
FitReport fit(const std::string& name, const std::vector<torch::Tensor>& parameters, const LossFunction& losses,
              const OptimizerOptions& options);

/// n points uniformly distributed in the box [lower, upper] (one entry per axis), [n, dim].
torch::Tensor uniform_points(long n, const std::vector<double>& lower, const std::vector<double>& upper,
                             torch::ScalarType type);
/// n points uniformly distributed on the face of the box where axis `axis` is at its lower
/// (upper = false) or upper end, [n, dim].
torch::Tensor face_points(long n, const std::vector<double>& lower, const std::vector<double>& upper, int axis,
                          bool upper_face, torch::ScalarType type);

/// A network of the integrator, by name ("u", "velocity", "pressure", "displacement").
struct NamedNetwork {
  std::string name;
  SirenNet net;
};

/// A deep copy of a network (the previous step's field), frozen.
SirenNet frozen_copy(const SirenNet& net);

/// Writes one step's networks to `file` (HDF5: /<network>/linear<i>/{weight,bias} in float64, and
/// the root attribute `insr`, a JSON text holding `info` plus each network's SIREN options), by
/// writing a temporary and renaming it (an interrupted run never leaves a partial file).
void save_networks(const std::filesystem::path& file, const std::vector<NamedNetwork>& networks,
                   nlohmann::json info);
/// Reads what save_networks wrote (networks in float64); `info` receives the root JSON. Throws IoError naming the file
/// when it is not such a file.
std::vector<NamedNetwork> load_networks(const std::filesystem::path& file, nlohmann::json& info);

}  // namespace fluxion::learn::insr
