// Tsallis-INF (Zimmert & Seldin) as used by Khodak et al., "Learning to Relax", and its binned contextual variant.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fluxion/tune/learner.hpp"

namespace fluxion {

/// The 1/2-Tsallis-INF distribution p_i = 4 / (eta (l_i - x))^2 over losses l, with the
/// normaliser x < min l solved so that sum p = 1: safeguarded Newton with a convergence test
/// and bisection fallback, then a final division by the sum (a round-off correction), so
/// |sum p - 1| <= 1e-12 always. Writes p (same size as l) and returns x.
double tsallis_inf_distribution(std::span<const double> losses, double eta, std::span<double> p);

/// The learned state of one Tsallis-INF instance, as in the authors' TsallisINF.m:
/// importance-weighted cumulative losses k_i += (cost - 1) / p_i for the played arm, played
/// with eta = 2 / sqrt(t) on the normalised losses k / scale, scale = (mean observed cost) - 1
/// (1 before the first cost, and whenever the mean cost is <= 1).
class TsallisInfState {
 public:
  explicit TsallisInfState(int arms);

  int arms() const { return static_cast<int>(k_.size()); }
  /// Costs observed so far; the paper's round counter is t = rounds() + 1.
  std::int64_t rounds() const { return rounds_; }
  double eta() const;
  double scale() const;
  std::span<const double> weighted_losses() const { return k_; }
  /// The distribution the next arm is drawn from.
  void distribution(std::span<double> p) const;
  /// Feeds back the cost of `arm`, which was drawn with probability `probability`.
  void update(int arm, double probability, double cost);

  /// Entries under `prefix` ("" or "bin3/").
  void save(StateWriter& out, const std::string& prefix) const;
  /// IoError on a missing, misshapen or non-finite entry.
  static TsallisInfState load(const StateReader& in, const std::string& prefix, int arms);

 private:
  std::vector<double> k_;
  std::int64_t rounds_ = 0;
  double cost_sum_ = 0.0;
};

/// Non-contextual Tsallis-INF over `arms` arms (the context is ignored).
class TsallisInf : public OnlineLearner {
 public:
  TsallisInf(int arms, std::uint64_t seed);
  std::string name() const override { return "tsallis_inf"; }
  int choose(double context) override;
  void observe(int arm, double context, double cost) override;

  /// The distribution the next choose() samples from (sums to 1 within 1e-12).
  std::vector<double> probabilities() const;
  const TsallisInfState& state() const { return state_; }

 protected:
  void save_state(StateWriter& out) const override;
  void load_state(const StateReader& in) override;

 private:
  TsallisInfState state_;
  std::vector<double> p_;
  double pending_probability_ = 0.0;
};

/// Tsallis-INF-CB (the authors' TsallisINFCB.m): the context interval [a, b] is split into
/// `bins` equal bins, each running its own Tsallis-INF (all drawing from this learner's
/// generator). A context goes to the bin with the nearest centre, so contexts outside [a, b]
/// are clamped to the first or last bin, as in the authors' code; a non-finite context is an error.
class TsallisInfCb : public OnlineLearner {
 public:
  /// bins >= 1, a < b (ConfigError otherwise). The paper uses 5 or 6 bins.
  TsallisInfCb(int arms, int bins, double a, double b, std::uint64_t seed);
  std::string name() const override { return "tsallis_inf_cb"; }
  int choose(double context) override;
  void observe(int arm, double context, double cost) override;

  int bins() const { return static_cast<int>(bins_.size()); }
  /// The bin a context falls in.
  int bin(double context) const;
  /// The distribution choose(context) samples from.
  std::vector<double> probabilities(double context) const;
  const TsallisInfState& bin_state(int bin) const { return bins_.at(static_cast<std::size_t>(bin)); }

 protected:
  void save_state(StateWriter& out) const override;
  void load_state(const StateReader& in) override;

 private:
  double a_;
  double b_;
  std::vector<TsallisInfState> bins_;
  std::vector<double> p_;
  int pending_bin_ = 0;
  double pending_probability_ = 0.0;
};

}  // namespace fluxion
