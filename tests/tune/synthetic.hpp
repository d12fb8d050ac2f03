// Synthetic cost sequences shared by the tune tests: a stochastic bandit and a contextual problem.
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "fluxion/tune/learner.hpp"
#include "fluxion/tune/offline.hpp"

namespace fluxion::test {

/// Stochastic bandit: arm a costs about mean[a] (iteration-count-like, >= 1) plus Gaussian noise.
struct StochasticBandit {
  std::vector<double> mean;
  double noise;
  std::mt19937_64 rng;

  StochasticBandit(const ArmGrid& grid, double noise_sd, std::uint64_t seed) : noise(noise_sd), rng(seed) {
    // An SOR-like profile in omega: cheapest at omega = 1.6, steeper above it.
    for (double w : grid.values()) mean.push_back(w <= 1.6 ? 30.0 + 150.0 * (1.6 - w) : 30.0 + 400.0 * (w - 1.6));
  }
  int best() const { return static_cast<int>(std::min_element(mean.begin(), mean.end()) - mean.begin()); }
  double cost(int arm) {
    std::normal_distribution<double> n(0.0, noise);
    return std::max(1.0, mean[static_cast<std::size_t>(arm)] + n(rng));
  }
};

/// Contextual problem: context c ~ U[0, 1]; cost(arm, c) = 1 + 50 (omega_arm - omega*(c))^2 + noise,
/// omega*(c) = 1.2 + 0.6 c. The whole table (instances x arms) is drawn up front, so that offline
/// baselines see exactly the costs the learners pay.
struct ContextualProblem {
  std::vector<double> context;
  CostTable table;

  static ContextualProblem make(const ArmGrid& grid, int instances, double noise_sd, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::normal_distribution<double> n(0.0, noise_sd);
    std::vector<double> contexts, values;
    for (int i = 0; i < instances; ++i) {
      const double c = u(rng);
      contexts.push_back(c);
      const double best = 1.2 + 0.6 * c;
      for (double w : grid.values()) values.push_back(std::max(0.0, 1.0 + 50.0 * (w - best) * (w - best) + n(rng)));
    }
    return {contexts, CostTable(instances, grid.size(), values)};
  }

  /// Total cost a learner pays over the whole sequence (and the arms it chose, if asked).
  double run(OnlineLearner& learner, std::vector<int>* choices = nullptr) const {
    double total = 0.0;
    for (int i = 0; i < table.instances(); ++i) {
      const double c = context[static_cast<std::size_t>(i)];
      const int arm = learner.choose(c);
      const double cost = table(i, arm);
      learner.observe(arm, c, cost);
      total += cost;
      if (choices) choices->push_back(arm);
    }
    return total;
  }
};

}  // namespace fluxion::test
