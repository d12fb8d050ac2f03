// Offline baselines: best fixed arm in hindsight, instance-optimal arms, Young's formula.
#include "fluxion/tune/offline.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "fluxion/core/error.hpp"

namespace fluxion {
namespace {

TEST(Offline, BestFixedAndInstanceOptimalOnASmallTable) {
  // 3 instances x 3 arms
  const CostTable table(3, 3, {5, 1, 9,
                               4, 6, 2,
                               4, 3, 3});
  const BestFixedArm fixed = best_fixed_arm(table);
  EXPECT_EQ(fixed.arm, 1);
  EXPECT_EQ(fixed.total_cost, 10.0);
  const InstanceOptimal opt = instance_optimal(table);
  EXPECT_EQ(opt.arms, (std::vector<int>{1, 2, 1}));  // a tie goes to the lower arm
  EXPECT_EQ(opt.total_cost, 6.0);
}

TEST(Offline, TiesInTotalsGoToTheLowerArm) {
  const CostTable table(2, 2, {1, 2, 2, 1});
  EXPECT_EQ(best_fixed_arm(table).arm, 0);
}

TEST(Offline, BadTablesAreConfigErrors) {
  EXPECT_THROW(CostTable(0, 3, {}), ConfigError);
  EXPECT_THROW(CostTable(2, 0, {}), ConfigError);
  EXPECT_THROW(CostTable(2, 2, {1, 2, 3}), ConfigError);
  EXPECT_THROW(CostTable(1, 2, {1, NAN}), ConfigError);
}

TEST(Offline, YoungOmega) {
  EXPECT_EQ(young_omega(0.0), 1.0);
  // 5-point Laplacian on a 10x10 interior grid: beta = cos(pi/11).
  const double beta = std::cos(M_PI / 11.0);
  EXPECT_NEAR(young_omega(beta), 2.0 / (1.0 + std::sqrt(1.0 - beta * beta)), 1e-14);
  EXPECT_NEAR(young_omega(beta), 1.5603879, 1e-6);
  EXPECT_THROW(young_omega(1.0), ConfigError);
  EXPECT_THROW(young_omega(-0.1), ConfigError);
}

}  // namespace
}  // namespace fluxion
