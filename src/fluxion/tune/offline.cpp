// Best fixed arm in hindsight, instance-optimal arms, and Young's formula.
#include "fluxion/tune/offline.hpp"

#include <cmath>
#include <string>

#include "fluxion/core/error.hpp"

namespace fluxion {

CostTable::CostTable(int instances, int arms, std::vector<double> values)
    : instances_(instances), arms_(arms), values_(std::move(values)) {
  if (instances < 1 || arms < 1)
    throw ConfigError("cost table: needs at least one instance and one arm, got " + std::to_string(instances) +
                      " x " + std::to_string(arms));
  if (values_.size() != static_cast<std::size_t>(instances) * static_cast<std::size_t>(arms))
    throw ConfigError("cost table: " + std::to_string(values_.size()) + " values for " + std::to_string(instances) +
                      " instances x " + std::to_string(arms) + " arms");
  for (double v : values_)
    if (!std::isfinite(v)) throw ConfigError("cost table: a cost is not finite");
}

BestFixedArm best_fixed_arm(const CostTable& costs) {
  std::vector<double> totals(static_cast<std::size_t>(costs.arms()), 0.0);
  for (int i = 0; i < costs.instances(); ++i)
    for (int a = 0; a < costs.arms(); ++a) totals[static_cast<std::size_t>(a)] += costs(i, a);
  BestFixedArm best{0, totals[0]};
  for (int a = 1; a < costs.arms(); ++a)
    if (totals[static_cast<std::size_t>(a)] < best.total_cost) best = {a, totals[static_cast<std::size_t>(a)]};
  return best;
}

InstanceOptimal instance_optimal(const CostTable& costs) {
  InstanceOptimal out;
  out.arms.resize(static_cast<std::size_t>(costs.instances()));
  for (int i = 0; i < costs.instances(); ++i) {
    int best = 0;
    for (int a = 1; a < costs.arms(); ++a)
      if (costs(i, a) < costs(i, best)) best = a;
    out.arms[static_cast<std::size_t>(i)] = best;
    out.total_cost += costs(i, best);
  }
  return out;
}

double young_omega(double beta) {
  if (!(beta >= 0.0 && beta < 1.0))
    throw ConfigError("young_omega: the Jacobi spectral radius must lie in [0, 1), got " + std::to_string(beta));
  const double r = beta / (1.0 + std::sqrt(1.0 - beta * beta));
  return 1.0 + r * r;
}

}  // namespace fluxion
