// ChebCB: the contextual bandit of Khodak et al. that regresses each arm's cost on Chebyshev features of the context.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fluxion/tune/learner.hpp"

namespace fluxion {

/// ChebCB (the authors' learners/ChebCB.m): features are the Chebyshev polynomials
/// T_0..T_{terms-1} of the context mapped from [a, b] to [-1, 1]; each arm's normalised cost
/// (cost - 1) / scale is fitted by least squares on the rounds it was played, with box bounds on
/// the coefficients when the unconstrained fit exceeds them; the next arm is drawn by
/// inverse-gap weighting (SquareCB) around the arm with the lowest predicted cost, with an
/// exploration parameter eta that the authors' schedule grows roughly linearly in t.
/// Contexts outside [a, b] are clamped to it (the authors extrapolate the polynomials; see
/// docs/tune.md). Constant time and memory per round (O(arms * terms^2) state).
class ChebCb : public OnlineLearner {
 public:
  /// terms >= 1 (the paper uses 6), a < b (ConfigError otherwise).
  ChebCb(int arms, int terms, double a, double b, std::uint64_t seed);
  ~ChebCb() override;
  ChebCb(ChebCb&&) noexcept;
  ChebCb& operator=(ChebCb&&) noexcept;

  std::string name() const override { return "chebcb"; }
  int choose(double context) override;
  void observe(int arm, double context, double cost) override;

  int terms() const;
  /// Each arm's predicted normalised cost at `context` (unplayed arms predict 0).
  std::vector<double> predicted_costs(double context) const;
  /// The distribution choose(context) samples from.
  std::vector<double> probabilities(double context) const;
  /// The current inverse-gap weighting parameter (0 before the first cost: uniform play).
  double eta() const;

 protected:
  void save_state(StateWriter& out) const override;
  void load_state(const StateReader& in) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fluxion
