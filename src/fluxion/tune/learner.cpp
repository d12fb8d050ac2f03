// ArmGrid, the OnlineLearner protocol and state header, and FixedArm.
#include "fluxion/tune/learner.hpp"

#include <cmath>
#include <sstream>

#include "fluxion/core/error.hpp"

namespace fluxion {

namespace {

std::string number(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

}  // namespace

ArmGrid::ArmGrid(double min, double max, int count) {
  if (count < 1) throw ConfigError("arm grid: count must be at least 1, got " + std::to_string(count));
  if (!std::isfinite(min) || !std::isfinite(max))
    throw ConfigError("arm grid: min and max must be finite numbers");
  if (!(min < max))
    throw ConfigError("arm grid: min (" + number(min) + ") must be smaller than max (" + number(max) + ")");
  values_.resize(static_cast<std::size_t>(count));
  values_[0] = min;
  // min + i*(max-min)/(count-1), with the last value exactly max (as linspace does).
  for (int i = 1; i < count; ++i)
    values_[static_cast<std::size_t>(i)] =
        (i == count - 1) ? max : min + i * ((max - min) / static_cast<double>(count - 1));
}

ArmGrid::ArmGrid(std::vector<double> values) : values_(std::move(values)) {
  if (values_.empty()) throw ConfigError("arm grid: the set of arms is empty");
  for (std::size_t i = 0; i < values_.size(); ++i) {
    if (!std::isfinite(values_[i])) throw ConfigError("arm grid: value " + std::to_string(i) + " is not finite");
    if (i > 0 && !(values_[i - 1] < values_[i]))
      throw ConfigError("arm grid: values must be strictly increasing (" + number(values_[i - 1]) + " then " +
                        number(values_[i]) + ")");
  }
}

double ArmGrid::value(int arm) const {
  if (arm < 0 || arm >= size())
    throw Error("arm grid: arm " + std::to_string(arm) + " out of range [0, " + std::to_string(size()) + ")");
  return values_[static_cast<std::size_t>(arm)];
}

int ArmGrid::nearest(double v) const {
  int best = 0;
  for (int i = 1; i < size(); ++i)
    if (std::abs(values_[static_cast<std::size_t>(i)] - v) < std::abs(values_[static_cast<std::size_t>(best)] - v))
      best = i;
  return best;
}

OnlineLearner::OnlineLearner(int arms, std::uint64_t seed) : arms_(arms), rng_(seed) {
  if (arms < 1) throw ConfigError("learner: the set of arms is empty (arms = " + std::to_string(arms) + ")");
}

OnlineLearner::~OnlineLearner() = default;

double OnlineLearner::uniform01() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

int OnlineLearner::sample(std::span<const double> weights) {
  double total = 0.0;
  for (double w : weights) total += w;
  const double r = uniform01() * total;
  double cumulative = 0.0;
  int last_positive = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] <= 0.0) continue;
    last_positive = static_cast<int>(i);
    cumulative += weights[i];
    if (r < cumulative) return last_positive;
  }
  return last_positive;  // r landed beyond the rounded cumulative sum
}

void OnlineLearner::begin_choice(int arm, double context) {
  pending_arm_ = arm;
  pending_context_ = context;
}

void OnlineLearner::end_choice(int arm, double context, double cost, bool contextual) {
  const std::string who = name() + ": observe(arm " + std::to_string(arm) + "): ";
  if (arm < 0 || arm >= arms_)
    throw Error(who + "arm out of range [0, " + std::to_string(arms_) + ")");
  if (!std::isfinite(cost) || cost < 0.0)
    throw Error(who + "cost must be finite and >= 0, got " + number(cost));
  if (pending_arm_ < 0) throw Error(who + "no pending choice; call choose() first");
  if (arm != pending_arm_)
    throw Error(who + "the pending choice is arm " + std::to_string(pending_arm_));
  if (contextual && context != pending_context_)
    throw Error(who + "context " + number(context) + " differs from the context of the choice (" +
                number(pending_context_) + ")");
  pending_arm_ = -1;
}

void OnlineLearner::check_parameter(const StateReader& in, const std::string& key, double expected) const {
  const double saved = in.get_double(key);
  if (saved != expected)
    throw IoError("learner state: '" + key + "' is " + number(saved) + " in the saved " + name() +
                  " state but " + number(expected) + " in this run; start a new state or use the same settings");
}

void OnlineLearner::save(StateWriter& out) const {
  out.put("learner", name());
  out.put_integer("arms", arms_);
  std::ostringstream rng;
  rng << rng_;
  out.put("rng", rng.str());
  out.put_integer("pending_arm", pending_arm_);
  out.put_double("pending_context", pending_context_);
  save_state(out);
}

void OnlineLearner::load(const StateReader& in) {
  const std::string type = in.get_string("learner");
  if (type != name())
    throw IoError("learner state holds a '" + type + "' learner, but this run uses '" + name() + "'");
  const std::int64_t arms = in.get_integer("arms");
  if (arms != arms_)
    throw IoError("learner state has " + std::to_string(arms) + " arms, but this run's " + name() + " has " +
                  std::to_string(arms_));
  std::mt19937_64 rng;
  std::istringstream rng_text(in.get_string("rng"));
  rng_text >> rng;
  if (rng_text.fail()) throw IoError("learner state: entry 'rng' is not a random generator state");
  const std::int64_t pending = in.get_integer("pending_arm");
  if (pending < -1 || pending >= arms_) throw IoError("learner state: 'pending_arm' out of range");
  const double pending_context = in.get_double("pending_context");
  load_state(in);  // validates everything before it assigns
  rng_ = rng;
  pending_arm_ = static_cast<int>(pending);
  pending_context_ = pending_context;
}

FixedArm::FixedArm(int arms, int arm) : OnlineLearner(arms, 0), arm_(arm) {
  if (arm < 0 || arm >= arms)
    throw ConfigError("fixed learner: arm " + std::to_string(arm) + " out of range [0, " + std::to_string(arms) + ")");
}

int FixedArm::choose(double context) {
  begin_choice(arm_, context);
  return arm_;
}

void FixedArm::observe(int arm, double context, double cost) { end_choice(arm, context, cost, false); }

void FixedArm::save_state(StateWriter& out) const { out.put_double("fixed_arm", arm_); }

void FixedArm::load_state(const StateReader& in) { check_parameter(in, "fixed_arm", arm_); }

}  // namespace fluxion
