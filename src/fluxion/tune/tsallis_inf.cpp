// Tsallis-INF: the normaliser solve, the importance-weighted state, and the plain and binned learners.
#include "fluxion/tune/tsallis_inf.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "fluxion/core/error.hpp"

namespace fluxion {

double tsallis_inf_distribution(std::span<const double> losses, double eta, std::span<double> p) {
  const std::size_t n = losses.size();
  const double lmin = *std::min_element(losses.begin(), losses.end());
  // In the distance y = lmin - x > 0, f(y) = sum_i 4 / (eta (l_i - lmin + y))^2 - 1 is decreasing
  // and convex, with f(2/eta) >= 0 (the best arm alone has p = 1) and f(2 sqrt(n)/eta) <= 0 (every
  // p_i <= 1/n). Newton from the left end of that bracket increases monotonically to the root;
  // bisection takes over should round-off push a step outside the bracket.
  auto evaluate = [&](double y, double& slope) {
    double sum = 0.0, sum15 = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double q = 2.0 / (eta * (losses[i] - lmin + y));
      const double pi = q * q;
      p[i] = pi;
      sum += pi;
      sum15 += pi * q;  // p_i^{3/2}
    }
    slope = -eta * sum15;  // df/dy
    return sum - 1.0;
  };
  double lo = 2.0 / eta, hi = 2.0 * std::sqrt(static_cast<double>(n)) / eta;
  double y = lo, slope = 0.0;
  double f = evaluate(y, slope);
  for (int iter = 0; iter < 200 && std::abs(f) > 1e-14; ++iter) {
    if (f > 0.0) lo = y; else hi = y;
    double next = y - f / slope;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (next == y || hi - lo <= 1e-16 * hi) break;
    y = next;
    f = evaluate(y, slope);
  }
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += p[i];
  for (std::size_t i = 0; i < n; ++i) p[i] /= sum;
  return lmin - y;
}

TsallisInfState::TsallisInfState(int arms) : k_(static_cast<std::size_t>(std::max(arms, 0)), 0.0) {}

double TsallisInfState::eta() const { return 2.0 / std::sqrt(static_cast<double>(rounds_ + 1)); }

double TsallisInfState::scale() const {
  if (rounds_ == 0) return 1.0;
  const double s = cost_sum_ / static_cast<double>(rounds_) - 1.0;
  return s > 0.0 ? s : 1.0;  // guard: all costs <= 1 on average would divide by zero or flip signs
}

void TsallisInfState::distribution(std::span<double> p) const {
  const double s = scale();
  std::vector<double> losses(k_.size());
  for (std::size_t i = 0; i < k_.size(); ++i) losses[i] = k_[i] / s;
  tsallis_inf_distribution(losses, eta(), p);
}

void TsallisInfState::update(int arm, double probability, double cost) {
  k_[static_cast<std::size_t>(arm)] += (cost - 1.0) / probability;
  cost_sum_ += cost;
  ++rounds_;
}

void TsallisInfState::save(StateWriter& out, const std::string& prefix) const {
  out.put(prefix + "k", std::span<const double>(k_));
  out.put_integer(prefix + "rounds", rounds_);
  out.put_double(prefix + "cost_sum", cost_sum_);
}

TsallisInfState TsallisInfState::load(const StateReader& in, const std::string& prefix, int arms) {
  TsallisInfState s(arms);
  s.k_ = in.get_doubles(prefix + "k", static_cast<std::size_t>(arms));
  s.rounds_ = in.get_integer(prefix + "rounds");
  s.cost_sum_ = in.get_double(prefix + "cost_sum");
  if (s.rounds_ < 0 || s.cost_sum_ < 0.0) throw IoError("learner state: '" + prefix + "rounds' or 'cost_sum' is negative");
  return s;
}

TsallisInf::TsallisInf(int arms, std::uint64_t seed)
    : OnlineLearner(arms, seed), state_(arms), p_(static_cast<std::size_t>(arms)) {}

std::vector<double> TsallisInf::probabilities() const {
  std::vector<double> p(static_cast<std::size_t>(arms()));
  state_.distribution(p);
  return p;
}

int TsallisInf::choose(double context) {
  state_.distribution(p_);
  const int arm = sample(p_);
  pending_probability_ = p_[static_cast<std::size_t>(arm)];
  begin_choice(arm, context);
  return arm;
}

void TsallisInf::observe(int arm, double context, double cost) {
  end_choice(arm, context, cost, false);
  state_.update(arm, pending_probability_, cost);
}

void TsallisInf::save_state(StateWriter& out) const {
  state_.save(out, "");
  out.put_double("pending_probability", pending_probability_);
}

void TsallisInf::load_state(const StateReader& in) {
  TsallisInfState state = TsallisInfState::load(in, "", arms());
  const double pending = in.get_double("pending_probability");
  if (pending < 0.0 || pending > 1.0) throw IoError("learner state: 'pending_probability' outside [0, 1]");
  state_ = std::move(state);
  pending_probability_ = pending;
}

TsallisInfCb::TsallisInfCb(int arms, int bins, double a, double b, std::uint64_t seed)
    : OnlineLearner(arms, seed), a_(a), b_(b), p_(static_cast<std::size_t>(arms)) {
  if (bins < 1) throw ConfigError("tsallis_inf_cb: bins must be at least 1, got " + std::to_string(bins));
  if (!std::isfinite(a) || !std::isfinite(b) || !(a < b)) {
    std::ostringstream msg;
    msg << "tsallis_inf_cb: the context interval [" << a << ", " << b << "] must be finite with a < b";
    throw ConfigError(msg.str());
  }
  bins_.assign(static_cast<std::size_t>(bins), TsallisInfState(arms));
}

int TsallisInfCb::bin(double context) const {
  if (!std::isfinite(context)) throw Error("tsallis_inf_cb: the context is not a finite number");
  // Nearest bin centre a + (b - a)(j + 1/2)/m, the lower bin on a tie (MATLAB's min).
  const int m = bins();
  int best = 0;
  double best_distance = INFINITY;
  for (int j = 0; j < m; ++j) {
    const double centre = a_ + (b_ - a_) * ((j + 0.5) / m);
    const double d = std::abs(centre - context);
    if (d < best_distance) {
      best_distance = d;
      best = j;
    }
  }
  return best;
}

std::vector<double> TsallisInfCb::probabilities(double context) const {
  std::vector<double> p(static_cast<std::size_t>(arms()));
  bins_[static_cast<std::size_t>(bin(context))].distribution(p);
  return p;
}

int TsallisInfCb::choose(double context) {
  const int j = bin(context);
  bins_[static_cast<std::size_t>(j)].distribution(p_);
  const int arm = sample(p_);
  pending_bin_ = j;
  pending_probability_ = p_[static_cast<std::size_t>(arm)];
  begin_choice(arm, context);
  return arm;
}

void TsallisInfCb::observe(int arm, double context, double cost) {
  end_choice(arm, context, cost, true);
  bins_[static_cast<std::size_t>(pending_bin_)].update(arm, pending_probability_, cost);
}

void TsallisInfCb::save_state(StateWriter& out) const {
  out.put_double("bins", bins());
  out.put_double("context_min", a_);
  out.put_double("context_max", b_);
  for (int j = 0; j < bins(); ++j) bins_[static_cast<std::size_t>(j)].save(out, "bin" + std::to_string(j) + "/");
  out.put_integer("pending_bin", pending_bin_);
  out.put_double("pending_probability", pending_probability_);
}

void TsallisInfCb::load_state(const StateReader& in) {
  check_parameter(in, "bins", bins());
  check_parameter(in, "context_min", a_);
  check_parameter(in, "context_max", b_);
  std::vector<TsallisInfState> loaded;
  for (int j = 0; j < bins(); ++j) loaded.push_back(TsallisInfState::load(in, "bin" + std::to_string(j) + "/", arms()));
  const std::int64_t pending_bin = in.get_integer("pending_bin");
  if (pending_bin < 0 || pending_bin >= bins()) throw IoError("learner state: 'pending_bin' out of range");
  const double pending = in.get_double("pending_probability");
  if (pending < 0.0 || pending > 1.0) throw IoError("learner state: 'pending_probability' outside [0, 1]");
  bins_ = std::move(loaded);
  pending_bin_ = static_cast<int>(pending_bin);
  pending_probability_ = pending;
}

}  // namespace fluxion
