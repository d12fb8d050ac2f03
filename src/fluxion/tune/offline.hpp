// Offline baselines computed from a table of costs: the best fixed arm in hindsight and the instance-optimal policy.
#pragma once

#include <vector>

namespace fluxion {

/// The cost of every arm on every instance, row-major: cost(i, a) = values[i * arms + a].
/// Construction checks the shape and that every cost is finite (ConfigError otherwise).
class CostTable {
 public:
  CostTable(int instances, int arms, std::vector<double> values);
  int instances() const { return instances_; }
  int arms() const { return arms_; }
  double operator()(int instance, int arm) const {
    return values_[static_cast<std::size_t>(instance) * static_cast<std::size_t>(arms_) + static_cast<std::size_t>(arm)];
  }

 private:
  int instances_;
  int arms_;
  std::vector<double> values_;
};

/// The best fixed arm in hindsight: the arm with the lowest total cost (the lower index on a tie).
struct BestFixedArm {
  int arm = 0;
  double total_cost = 0.0;
};
BestFixedArm best_fixed_arm(const CostTable& costs);

/// The instance-optimal policy: on each instance, the arm with the lowest cost (the lower index
/// on a tie), and the sum of those minima.
struct InstanceOptimal {
  std::vector<int> arms;
  double total_cost = 0.0;
};
InstanceOptimal instance_optimal(const CostTable& costs);

/// Young's optimal SOR factor 1 + (beta / (1 + sqrt(1 - beta^2)))^2 for a consistently ordered
/// matrix whose Jacobi iteration matrix has spectral radius beta in [0, 1) (ConfigError otherwise).
double young_omega(double jacobi_spectral_radius);

}  // namespace fluxion
