// ChebCB: uniform start, normalised inverse-gap weights, contextual gains over the best fixed arm, clamping, errors.
#include "fluxion/tune/chebcb.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "fluxion/core/error.hpp"
#include "fluxion/tune/offline.hpp"
#include "synthetic.hpp"

namespace fluxion {
namespace {

double sum(const std::vector<double>& p) { return std::accumulate(p.begin(), p.end(), 0.0); }

TEST(ChebCb, StartsUniformAndStaysNormalised) {
  const ArmGrid grid(1.0, 1.95, 20);
  const auto problem = test::ContextualProblem::make(grid, 2000, 0.2, 4);
  ChebCb learner(grid.size(), 6, 0.0, 1.0, 3);
  EXPECT_EQ(learner.terms(), 6);
  EXPECT_EQ(learner.eta(), 0.0);
  for (double p : learner.probabilities(0.3)) EXPECT_NEAR(p, 1.0 / 20.0, 1e-15);
  for (int i = 0; i < problem.table.instances(); ++i) {
    const double c = problem.context[static_cast<std::size_t>(i)];
    const std::vector<double> p = learner.probabilities(c);
    for (double q : p) ASSERT_GE(q, 0.0);
    ASSERT_NEAR(sum(p), 1.0, 1e-12);
    const int arm = learner.choose(c);
    learner.observe(arm, c, problem.table(i, arm));
    ASSERT_TRUE(std::isfinite(learner.eta()) && learner.eta() > 0.0) << "round " << i;
  }
}

TEST(ChebCb, BeatsBestFixedArmOnSmoothContextualProblem) {
  const ArmGrid grid(1.0, 1.95, 20);
  for (std::uint64_t seed : {1u, 2u}) {
    const auto problem = test::ContextualProblem::make(grid, 5000, 0.2, 50 + seed);
    ChebCb learner(grid.size(), 6, 0.0, 1.0, seed);
    std::vector<int> choices;
    const double total = problem.run(learner, &choices);
    const BestFixedArm fixed = best_fixed_arm(problem.table);
    const double optimal = instance_optimal(problem.table).total_cost;
    EXPECT_LT(total, 0.7 * fixed.total_cost) << "seed " << seed << ": optimal " << optimal;
    // Late in the run it plays the arm nearest omega*(c) most of the time.
    int near = 0;
    for (int i = 4000; i < 5000; ++i) {
      const int ideal = grid.nearest(1.2 + 0.6 * problem.context[static_cast<std::size_t>(i)]);
      near += std::abs(choices[static_cast<std::size_t>(i)] - ideal) <= 1;
    }
    EXPECT_GT(near, 700) << "seed " << seed;
  }
}

TEST(ChebCb, ContextsOutsideTheIntervalAreClamped) {
  ChebCb learner(5, 4, -1.0, 3.0, 8);
  for (int t = 0; t < 40; ++t) {
    const double c = -1.0 + 0.1 * t;
    const int arm = learner.choose(c);
    learner.observe(arm, c, 5.0 + arm * (1.0 + c));
  }
  EXPECT_EQ(learner.predicted_costs(-50.0), learner.predicted_costs(-1.0));
  EXPECT_EQ(learner.predicted_costs(50.0), learner.predicted_costs(3.0));
  EXPECT_THROW(learner.choose(NAN), Error);
}

TEST(ChebCb, BadParametersAreConfigErrors) {
  EXPECT_THROW(ChebCb(20, 0, 0.0, 1.0, 1), ConfigError);
  EXPECT_THROW(ChebCb(20, 6, 0.5, 0.5, 1), ConfigError);
  EXPECT_THROW(ChebCb(20, 6, NAN, 1.0, 1), ConfigError);
  EXPECT_THROW(ChebCb(0, 6, 0.0, 1.0, 1), ConfigError);
}

}  // namespace
}  // namespace fluxion
