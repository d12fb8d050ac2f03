// The learners pinned to the formulas of Khodak et al. (docs/tune.md): every round of Tsallis-INF and
// ChebCB is recomputed here by an independent implementation written from those formulas (bisection
// for the normaliser, explicit least squares and an enumerated box-constrained fit) and compared.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "fluxion/tune/chebcb.hpp"
#include "fluxion/tune/tsallis_inf.hpp"

namespace fluxion {
namespace {

using Vector = std::vector<double>;
using Matrix = std::vector<Vector>;

/// The learners' draw: u = (53 random bits of mt19937_64) / 2^53, the first arm whose cumulative
/// weight exceeds u * (sum of weights).
class ReferenceSampler {
 public:
  explicit ReferenceSampler(std::uint64_t seed) : rng_(seed) {}
  int sample(const Vector& w) {
    double total = 0.0;
    for (double x : w) total += x;
    const double r = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * total;
    double cumulative = 0.0;
    int last = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (w[i] <= 0.0) continue;
      last = static_cast<int>(i);
      cumulative += w[i];
      if (r < cumulative) return last;
    }
    return last;
  }

 private:
  std::mt19937_64 rng_;
};

// ---- Tsallis-INF ----------------------------------------------------------------------------------

/// p_i = 4 / (eta (l_i - x))^2 with x < min l and sum p = 1, x found by bisection: g(x) = sum p - 1
/// rises from <= 0 at x = min l - 2 sqrt(n)/eta (every p_i <= 1/n) to >= 0 at min l - 2/eta.
Vector tsallis_reference(const Vector& l, double eta, double* normaliser = nullptr) {
  const double lmin = *std::min_element(l.begin(), l.end());
  double lo = lmin - 2.0 * std::sqrt(static_cast<double>(l.size())) / eta, hi = lmin - 2.0 / eta;
  auto p_of = [&](double x) {
    Vector p;
    for (double li : l) p.push_back(4.0 / std::pow(eta * (li - x), 2));
    return p;
  };
  auto g = [&](double x) {
    double s = -1.0;
    for (double pi : p_of(x)) s += pi;
    return s;
  };
  for (int i = 0; i < 200 && lo < hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    (g(mid) < 0.0 ? lo : hi) = mid;
  }
  if (normaliser) *normaliser = 0.5 * (lo + hi);
  return p_of(0.5 * (lo + hi));
}

// Round 1 by hand: no losses yet, eta = 2/sqrt(1) = 2, so p_i = 1/x^2 = 1/4 for 4 arms, x = -2.
// After cost c on arm a: k_a = (c - 1)/(1/4). Round 2: eta = 2/sqrt(2), scale = c - 1, l_a = 4 and
// the other losses 0, so p_i = 2/(l_i - x)^2.
TEST(PaperFormulas, TsallisInfFirstTwoRoundsByHand) {
  std::vector<double> p(4);
  EXPECT_NEAR(tsallis_inf_distribution(Vector(4, 0.0), 2.0, p), -2.0, 1e-14);
  for (double q : p) EXPECT_NEAR(q, 0.25, 1e-15);

  TsallisInf learner(4, 17);
  ReferenceSampler sampler(17);
  const int arm = learner.choose(0.0);
  EXPECT_EQ(arm, sampler.sample(Vector(4, 0.25)));
  learner.observe(arm, 0.0, 31.0);
  for (int i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(learner.state().weighted_losses()[i], i == arm ? 120.0 : 0.0);
  EXPECT_DOUBLE_EQ(learner.state().eta(), 2.0 / std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(learner.state().scale(), 30.0);

  // 3 * 2/x^2 + 2/(4 - x)^2 = 1 for x < 0, by bisection on [-20, -sqrt(2)].
  double lo = -20.0, hi = -std::sqrt(2.0);
  for (int i = 0; i < 200; ++i) {
    const double x = 0.5 * (lo + hi);
    (6.0 / (x * x) + 2.0 / ((4 - x) * (4 - x)) < 1.0 ? lo : hi) = x;
  }
  const double x = 0.5 * (lo + hi);
  const std::vector<double> q = learner.probabilities();
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(q[i], 2.0 / std::pow((i == arm ? 4.0 : 0.0) - x, 2), 1e-13) << i;
}

// 300 rounds, each checked against the formulas applied to the learner's own k (recomputing k
// alongside would compare round-off that the learning dynamics amplify, about 10x per 20 rounds):
// eta = 2/sqrt(t), losses k/scale with scale = mean cost - 1, the bisected normaliser, the draw,
// and k_arm += (cost - 1)/p_arm with every other k unchanged.
TEST(PaperFormulas, TsallisInfEveryRoundMatchesTheFormulas) {
  const int d = 6;
  TsallisInf learner(d, 5);
  ReferenceSampler sampler(5);
  double cost_sum = 0.0;
  for (int t = 1; t <= 300; ++t) {
    const auto weighted = learner.state().weighted_losses();
    const Vector k(weighted.begin(), weighted.end());
    const double mean = t == 1 ? 0.0 : cost_sum / (t - 1);
    const double scale = t == 1 || mean - 1.0 <= 0.0 ? 1.0 : mean - 1.0;
    Vector l;
    for (double ki : k) l.push_back(ki / scale);
    const Vector p = tsallis_reference(l, 2.0 / std::sqrt(t));
    const std::vector<double> q = learner.probabilities();
    for (int i = 0; i < d; ++i) ASSERT_NEAR(q[i], p[i], 1e-12 * p[i]) << "round " << t;
    const int arm = learner.choose(0.0);
    ASSERT_EQ(arm, sampler.sample(p)) << "round " << t;
    const double cost = 10.0 + 7.0 * std::abs(arm - 2) + (t % 5);  // arm 2 is the cheapest
    learner.observe(arm, 0.0, cost);
    cost_sum += cost;
    for (int i = 0; i < d; ++i) {
      const double expected = i == arm ? k[i] + (cost - 1.0) / p[i] : k[i];
      ASSERT_NEAR(learner.state().weighted_losses()[i], expected, 1e-12 * std::abs(expected)) << "round " << t;
    }
  }
  const std::vector<double> last = learner.probabilities();
  EXPECT_EQ(std::max_element(last.begin(), last.end()) - last.begin(), 2) << "it did not learn the cheapest arm";
}

// ---- ChebCB ---------------------------------------------------------------------------------------

/// Solves the small dense system A x = b by Gaussian elimination with partial pivoting.
Vector solve(Matrix A, Vector b) {
  const std::size_t n = b.size();
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t piv = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::abs(A[r][c]) > std::abs(A[piv][c])) piv = r;
    std::swap(A[c], A[piv]);
    std::swap(b[c], b[piv]);
    for (std::size_t r = c + 1; r < n; ++r) {
      const double f = A[r][c] / A[c][c];
      for (std::size_t j = c; j < n; ++j) A[r][j] -= f * A[c][j];
      b[r] -= f * b[c];
    }
  }
  Vector x(n);
  for (std::size_t c = n; c-- > 0;) {
    double s = b[c];
    for (std::size_t j = c + 1; j < n; ++j) s -= A[c][j] * x[j];
    x[c] = s / A[c][c];
  }
  return x;
}

double dot(const Vector& a, const Vector& b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

/// ChebCB as docs/tune.md states it, storing every feature row and target.
struct ChebCbReference {
  int d, m;
  double a, b;
  Matrix theta;
  std::vector<Matrix> rows;  // per arm: the feature rows of the rounds it was played
  std::vector<Vector> costs; // per arm: the costs of those rounds
  Vector predictions, all_costs;  // per round: the prediction made for the played arm, its cost
  double K = 0.0, eta = 0.0;
  int bounded_fits = 0;      // how often the box-constrained fit was the one used

  ChebCbReference(int arms, int terms, double lo, double hi)
      : d(arms), m(terms), a(lo), b(hi), theta(arms, Vector(terms, 0.0)), rows(arms), costs(arms) {}

  // T_0..T_{m-1} at x = 2 (c - a)/(b - a) - 1, written as cos(j acos x) rather than the recurrence.
  Vector features(double c) const {
    const double x = 2.0 * (c - a) / (b - a) - 1.0;
    Vector f;
    for (int j = 0; j < m; ++j) f.push_back(std::cos(j * std::acos(std::clamp(x, -1.0, 1.0))));
    return f;
  }
  Vector predicted(double c) const {
    Vector y;
    for (int i = 0; i < d; ++i) y.push_back(dot(theta[i], features(c)));
    return y;
  }
  Vector distribution(double c) const {
    const Vector y = predicted(c);
    const int best = static_cast<int>(std::min_element(y.begin(), y.end()) - y.begin());
    Vector p(d);
    double others = 0.0;
    for (int i = 0; i < d; ++i)
      if (i != best) others += p[i] = 1.0 / (d + eta * (y[i] - y[best]));
    p[best] = 1.0 - others;
    return p;
  }

  double N() const { return 2.0 + 4.0 * (1.0 + std::log(static_cast<double>(m))); }  // (b-a) L / K = 1
  double scale() const { return K * N(); }
  Vector bounds() const {
    Vector ub{1.0 / N()};
    for (int j = 1; j < m; ++j) ub.push_back(2.0 * K / (scale() * j));  // 2 (b - a) L / (scale j)
    return ub;
  }
  Vector targets(int arm) const {
    Vector y;
    for (double c : costs[arm]) y.push_back((c - 1.0) / scale());
    return y;
  }
  double residual(int arm, const Vector& th) const {
    const Vector y = targets(arm);
    double r = 0.0;
    for (std::size_t s = 0; s < y.size(); ++s) r += std::pow(dot(rows[arm][s], th) - y[s], 2);
    return r;
  }
  // Minimum-norm least squares: F^T (F F^T)^-1 y with fewer rows than terms, else the normal equations.
  Vector min_norm_fit(int arm) const {
    const Matrix& F = rows[arm];
    const Vector y = targets(arm);
    const std::size_t n = F.size();
    Vector th(m, 0.0);
    if (n < static_cast<std::size_t>(m)) {
      Matrix FFt(n, Vector(n));
      for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < n; ++c) FFt[r][c] = dot(F[r], F[c]);
      const Vector z = solve(FFt, y);
      for (std::size_t r = 0; r < n; ++r)
        for (int j = 0; j < m; ++j) th[j] += F[r][j] * z[r];
    } else {
      Matrix G(m, Vector(m, 0.0));
      Vector g(m, 0.0);
      for (std::size_t r = 0; r < n; ++r)
        for (int i = 0; i < m; ++i) {
          g[i] += F[r][i] * y[r];
          for (int j = 0; j < m; ++j) G[i][j] += F[r][i] * F[r][j];
        }
      th = solve(G, g);
    }
    return th;
  }
  // min ||F th - y||^2 over |th_j| <= ub_j, by trying every assignment of each coefficient to
  // -ub, free or +ub: the free ones solve their normal equations; the best feasible one wins.
  Vector box_fit(int arm) const {
    const Matrix& F = rows[arm];
    const Vector y = targets(arm), ub = bounds();
    Vector best;
    double best_r = INFINITY;
    int cases = 1;
    for (int j = 0; j < m; ++j) cases *= 3;
    for (int code = 0; code < cases; ++code) {
      Vector th(m, 0.0);
      std::vector<int> free;
      for (int j = 0, c = code; j < m; ++j, c /= 3) {
        if (c % 3 == 1) free.push_back(j);
        else th[j] = c % 3 == 0 ? -ub[j] : ub[j];
      }
      if (!free.empty()) {
        const std::size_t nf = free.size();
        Matrix G(nf, Vector(nf, 0.0));
        Vector g(nf, 0.0);
        for (std::size_t s = 0; s < F.size(); ++s) {
          const double rest = y[s] - dot(F[s], th);  // th is zero on the free coefficients
          for (std::size_t i = 0; i < nf; ++i) {
            g[i] += F[s][free[i]] * rest;
            for (std::size_t j = 0; j < nf; ++j) G[i][j] += F[s][free[i]] * F[s][free[j]];
          }
        }
        const Vector x = solve(G, g);
        bool feasible = true;
        for (std::size_t i = 0; i < nf; ++i) {
          th[free[i]] = x[i];
          feasible = feasible && std::abs(x[i]) <= ub[free[i]];
        }
        if (!feasible) continue;
      }
      const double r = residual(arm, th);
      if (r < best_r) {
        best_r = r;
        best = th;
      }
    }
    return best;
  }

  void observe(int arm, double c, double cost, double predicted_for_arm) {
    rows[arm].push_back(features(c));
    costs[arm].push_back(cost);
    predictions.push_back(predicted_for_arm);
    all_costs.push_back(cost);
    const bool rescaled = cost > K;
    K = std::max(K, cost);
    const Vector ub = bounds();
    double resnorm = 0.0;
    for (int i = 0; i < d; ++i) {
      if (rows[i].empty() || !(rescaled || i == arm)) continue;
      theta[i] = min_norm_fit(i);
      bool violates = false;
      for (int j = 0; j < m; ++j) violates = violates || std::abs(theta[i][j]) > ub[j];
      if (violates) {
        theta[i] = box_fit(i);
        resnorm = residual(i, theta[i]);
        ++bounded_fits;
      }
    }
    const double pi = std::numbers::pi;
    const double alpha = (pi + 2.0 / pi * std::log(2.0 * m + 1.0)) / (2.0 * scale() * (m + 1.0)) * K;
    double R = 0.0;
    for (std::size_t s = 0; s < predictions.size(); ++s)
      R += std::pow(predictions[s] - (all_costs[s] - 1.0) / scale(), 2);
    const double t = static_cast<double>(predictions.size());
    double denominator = R - resnorm + 2.0 * alpha * alpha * t;
    if (!(denominator > 0.0)) denominator = 2.0 * alpha * alpha * t;
    eta = 2.0 * t * std::sqrt(d * t / denominator);
  }
};

// One round by hand, 3 arms, 3 terms on [0, 2]: the first choice is uniform; after cost C on arm a
// at context c, K = C, N = 2 + 4 (1 + ln 3), the single row fits exactly (prediction y = (C-1)/(C N)
// at c), R = y^2 (the prediction was 0), alpha = (pi + (2/pi) ln 7)/(8 N), eta = 2 sqrt(3/(y^2 + 2 alpha^2)).
TEST(PaperFormulas, ChebCbFirstRoundByHand) {
  ChebCb learner(3, 3, 0.0, 2.0, 23);
  ReferenceSampler sampler(23);
  const double c = 1.5, C = 41.0;
  for (double p : learner.probabilities(c)) EXPECT_DOUBLE_EQ(p, 1.0 / 3.0);
  const int arm = learner.choose(c);
  EXPECT_EQ(arm, sampler.sample(Vector(3, 1.0 / 3.0)));
  learner.observe(arm, c, C);

  const double pi = std::numbers::pi, N = 2.0 + 4.0 * (1.0 + std::log(3.0)), y = (C - 1.0) / (C * N);
  const double alpha = (pi + 2.0 / pi * std::log(7.0)) / (8.0 * N);
  const double eta = 2.0 * std::sqrt(3.0 / (y * y + 2.0 * alpha * alpha));
  EXPECT_NEAR(learner.eta(), eta, 1e-12 * eta);
  const std::vector<double> yhat = learner.predicted_costs(c);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(yhat[i], i == arm ? y : 0.0, 1e-15) << i;
  // At c = 1.5, x = 0.5 and f = (1, 0.5, -0.5); the minimum-norm fit is f y / |f|^2, so at the
  // context 0 (x = -1, f = (1, -1, 1)) it predicts y (1 - 0.5 - 0.5)/1.5 = 0.
  EXPECT_NEAR(learner.predicted_costs(0.0)[arm], 0.0, 1e-15);
  EXPECT_NEAR(learner.predicted_costs(2.0)[arm], y * (1 + 0.5 - 0.5) / 1.5, 1e-15);
  // The best arm is the first unplayed one; the played arm gets 1/(d + eta y), the other 1/d.
  const int best = arm == 0 ? 1 : 0;
  const std::vector<double> p = learner.probabilities(c);
  for (int i = 0; i < 3; ++i) {
    const double expected = i == arm ? 1.0 / (3.0 + eta * y) : i == best ? 1.0 - 1.0 / 3.0 - 1.0 / (3.0 + eta * y) : 1.0 / 3.0;
    EXPECT_NEAR(p[i], expected, 1e-15) << i;
  }
}

// 80 rounds against the reference: features, the refits (all arms when the largest cost grows), the
// bounded fit whenever the minimum-norm one leaves the box, eta, and the inverse-gap weights. The
// contexts lie in a band (x in [-0.3, 0.3]), where a quadratic through costs that vary by a
// few iterations has coefficients far outside the box. An arm's cost is constant until it has been
// played three times, so that a fit with fewer rows than terms (not unique) never needs the box.
TEST(PaperFormulas, ChebCbEveryRoundMatchesTheFormulas) {
  const int d = 3, m = 3;
  const double a = -0.5, b = 1.5;
  ChebCb learner(d, m, a, b, 41);
  ChebCbReference ref(d, m, a, b);
  ReferenceSampler sampler(41);
  for (int t = 0; t < 80; ++t) {
    const double c = 0.5 + 0.3 * (2.0 * std::fmod(0.5 + 0.618033988749895 * t, 1.0) - 1.0);  // distinct
    const Vector p = ref.distribution(c);
    const std::vector<double> q = learner.probabilities(c);
    for (int i = 0; i < d; ++i) ASSERT_NEAR(q[i], p[i], 1e-10) << "round " << t << ", arm " << i;
    const int arm = learner.choose(c);
    ASSERT_EQ(arm, sampler.sample(p)) << "round " << t;
    const double cost = 20.0 + 5.0 * arm + (ref.rows[arm].size() < static_cast<std::size_t>(m) ? 0.0 : 15.0 * (t % 3));
    const double predicted = ref.predicted(c)[arm];
    learner.observe(arm, c, cost);
    ref.observe(arm, c, cost, predicted);
    ASSERT_NEAR(learner.eta(), ref.eta, 1e-9 * ref.eta) << "round " << t;
    for (double probe : {a, 0.0, 0.7, b}) {
      const Vector y = ref.predicted(probe);
      const std::vector<double> z = learner.predicted_costs(probe);
      for (int i = 0; i < d; ++i) ASSERT_NEAR(z[i], y[i], 1e-9 / ref.N()) << "round " << t << ", arm " << i;
    }
  }
  EXPECT_GE(ref.bounded_fits, 5) << "the box-constrained fit was hardly exercised";
}

}  // namespace
}  // namespace fluxion
