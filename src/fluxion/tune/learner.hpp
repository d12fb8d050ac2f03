// The OnlineLearner interface every bandit implements, the grid of arm values, and the fixed-arm baseline.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "fluxion/tune/state.hpp"

namespace fluxion {

/// The values the arms stand for (e.g. SOR relaxation factors): arm i plays values()[i].
/// Errors (ConfigError): an empty set, count < 1, min >= max, non-finite or unsorted values.
class ArmGrid {
 public:
  /// `count` evenly spaced values from `min` to `max`, both included (MATLAB's linspace);
  /// count = 1 gives the single value `min`. ArmGrid(1.0, 1.95, 20) is the paper's grid.
  ArmGrid(double min, double max, int count);
  /// Explicit values, strictly increasing.
  explicit ArmGrid(std::vector<double> values);

  int size() const { return static_cast<int>(values_.size()); }
  double operator[](int arm) const { return values_[static_cast<std::size_t>(arm)]; }
  double value(int arm) const;  // range-checked
  std::span<const double> values() const { return values_; }
  /// The arm whose value is closest to `v` (the lower one on a tie).
  int nearest(double v) const;

 private:
  std::vector<double> values_;
};

/// Picks one of arms() arms, optionally given a scalar context, then observes the arm's cost.
/// Protocol: choose(context), play the arm, observe(arm, context, cost) with the same arm and
/// context; calling choose again before observe discards the pending choice. Costs are finite
/// and >= 0 (iteration counts: the learners normalise by `cost - 1`, see docs/tune.md).
/// Each learner owns a std::mt19937_64 seeded at construction, so a run is reproducible;
/// save() stores the generator too, so a loaded learner continues exactly where it stopped.
class OnlineLearner {
 public:
  virtual ~OnlineLearner();

  /// Short lowercase type name, also the type tag of a saved state: "tsallis_inf", "chebcb", ...
  virtual std::string name() const = 0;
  int arms() const { return arms_; }
  /// The arm to play next; `context` is ignored by non-contextual learners.
  virtual int choose(double context) = 0;
  /// The cost of the arm returned by the last choose(); throws fluxion::Error on a protocol
  /// violation (no pending choice, another arm or context) or a negative or non-finite cost.
  virtual void observe(int arm, double context, double cost) = 0;

  /// Writes type, arm count, parameters, generator and learned state.
  void save(StateWriter& out) const;
  /// Restores what save() wrote. A state of another learner type, arm count or parameters, or
  /// a damaged one, throws fluxion::IoError and leaves this learner unchanged.
  void load(const StateReader& in);

 protected:
  /// arms >= 1 (ConfigError otherwise).
  OnlineLearner(int arms, std::uint64_t seed);

  /// A uniform draw in [0, 1) with 53 random bits (the same on every platform, unlike
  /// std::uniform_real_distribution).
  double uniform01();
  /// Samples an index from nonnegative weights (normalised by their sum).
  int sample(std::span<const double> weights);

  /// Records the choice that the next observe() must match.
  void begin_choice(int arm, double context);
  /// Checks an observation against the pending choice and clears it. `contextual` learners also
  /// require the same context.
  void end_choice(int arm, double context, double cost, bool contextual);
  bool has_pending() const { return pending_arm_ >= 0; }
  /// For load_state: IoError when the saved parameter `key` differs from `expected`.
  void check_parameter(const StateReader& in, const std::string& key, double expected) const;

  /// The learner's own entries (parameters to be checked on load, and learned state).
  virtual void save_state(StateWriter& out) const = 0;
  /// Reads and validates everything first, then assigns (so a failed load changes nothing).
  virtual void load_state(const StateReader& in) = 0;

 private:
  int arms_;
  std::mt19937_64 rng_;
  int pending_arm_ = -1;
  double pending_context_ = 0.0;
};

/// Always plays the same arm: the fixed-omega baseline.
class FixedArm : public OnlineLearner {
 public:
  FixedArm(int arms, int arm);
  std::string name() const override { return "fixed"; }
  int choose(double context) override;
  void observe(int arm, double context, double cost) override;
  int arm() const { return arm_; }

 protected:
  void save_state(StateWriter& out) const override;
  void load_state(const StateReader& in) override;

 private:
  int arm_;
};

}  // namespace fluxion
