// ChebCB: Chebyshev features, bounded per-arm least squares on running normal equations, and inverse-gap weighting.
#include "fluxion/tune/chebcb.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Dense>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>

#include "fluxion/core/error.hpp"

namespace fluxion {

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

/// Minimum-norm solution of the normal equations G theta = g (G = F^T F): the lsqminnorm
/// solution of F theta = y, up to directions F determines to worse than 1e-6 relative.
VectorXd min_norm_solve(const MatrixXd& G, const VectorXd& g) {
  Eigen::SelfAdjointEigenSolver<MatrixXd> eig(G);
  const VectorXd& lambda = eig.eigenvalues();
  const double cutoff = 1e-12 * std::max(lambda.maxCoeff(), 0.0);
  VectorXd c = eig.eigenvectors().transpose() * g;
  for (Eigen::Index i = 0; i < c.size(); ++i) c(i) = lambda(i) > cutoff && lambda(i) > 0.0 ? c(i) / lambda(i) : 0.0;
  return eig.eigenvectors() * c;
}

/// min 1/2 x^T G x - g^T x subject to -ub <= x <= ub (the lsqlin call of the authors' code),
/// by a primal active-set method on G plus a 1e-12 relative ridge (G may be singular).
VectorXd box_least_squares(const MatrixXd& G0, const VectorXd& g, const VectorXd& ub, VectorXd x) {
  const Eigen::Index m = g.size();
  MatrixXd G = G0;
  const double ridge = 1e-12 * std::max(G0.diagonal().maxCoeff(), 1e-300);
  G.diagonal().array() += ridge;
  std::vector<int> at(static_cast<std::size_t>(m), 0);  // -1 at lower bound, +1 at upper, 0 free
  for (Eigen::Index i = 0; i < m; ++i) {
    if (x(i) >= ub(i)) { x(i) = ub(i); at[static_cast<std::size_t>(i)] = 1; }
    else if (x(i) <= -ub(i)) { x(i) = -ub(i); at[static_cast<std::size_t>(i)] = -1; }
  }
  const double tol = 1e-13 * (G.cwiseAbs().maxCoeff() * ub.cwiseAbs().maxCoeff() + g.cwiseAbs().maxCoeff()) + 1e-300;
  for (int iter = 0; iter < 20 * static_cast<int>(m) + 20; ++iter) {
    std::vector<Eigen::Index> free;
    for (Eigen::Index i = 0; i < m; ++i)
      if (at[static_cast<std::size_t>(i)] == 0) free.push_back(i);
    const VectorXd grad = G * x - g;
    VectorXd p = VectorXd::Zero(m);
    if (!free.empty()) {
      const auto nf = static_cast<Eigen::Index>(free.size());
      MatrixXd Gff(nf, nf);
      VectorXd rhs(nf);
      for (Eigen::Index r = 0; r < nf; ++r) {
        rhs(r) = -grad(free[static_cast<std::size_t>(r)]);
        for (Eigen::Index c = 0; c < nf; ++c) Gff(r, c) = G(free[static_cast<std::size_t>(r)], free[static_cast<std::size_t>(c)]);
      }
      const VectorXd pf = Gff.ldlt().solve(rhs);
      for (Eigen::Index r = 0; r < nf; ++r) p(free[static_cast<std::size_t>(r)]) = pf(r);
    }
    if (p.cwiseAbs().maxCoeff() <= 1e-15 * (1.0 + x.cwiseAbs().maxCoeff())) {
      // Stationary on the working set: release the bound with the most negative multiplier.
      Eigen::Index release = -1;
      double worst = -tol;
      for (Eigen::Index i = 0; i < m; ++i) {
        const int s = at[static_cast<std::size_t>(i)];
        const double multiplier = s < 0 ? grad(i) : s > 0 ? -grad(i) : 0.0;
        if (multiplier < worst) { worst = multiplier; release = i; }
      }
      if (release < 0) break;
      at[static_cast<std::size_t>(release)] = 0;
      continue;
    }
    double step = 1.0;
    Eigen::Index blocking = -1;
    for (Eigen::Index i : free) {
      double limit = INFINITY;
      if (p(i) > 0.0) limit = (ub(i) - x(i)) / p(i);
      else if (p(i) < 0.0) limit = (-ub(i) - x(i)) / p(i);
      if (limit < step) { step = std::max(limit, 0.0); blocking = i; }
    }
    x += step * p;
    if (blocking >= 0) {
      at[static_cast<std::size_t>(blocking)] = p(blocking) > 0.0 ? 1 : -1;
      x(blocking) = p(blocking) > 0.0 ? ub(blocking) : -ub(blocking);
    }
  }
  return x.cwiseMax(-ub).cwiseMin(ub);
}

std::string interval(double a, double b) {
  std::ostringstream s;
  s << "[" << a << ", " << b << "]";
  return s.str();
}

}  // namespace

struct ChebCb::Impl {
  int d = 0;          // arms
  int m = 0;          // Chebyshev terms
  double a = 0.0;
  double bma = 1.0;   // b - a
  MatrixXd theta;     // d x m coefficients, in normalised cost units
  std::vector<MatrixXd> gram;   // per arm: sum f f^T over the rounds it was played
  std::vector<VectorXd> moment; // per arm: sum f (cost - 1)
  VectorXd square;              // per arm: sum (cost - 1)^2
  std::vector<std::int64_t> count;
  double max_cost = 0.0;  // K
  double scale = 0.0;     // K * N
  double eta = 0.0;
  std::int64_t rounds = 0;
  // Online prediction error sum_s (pred_s - (cost_s - 1)/scale)^2, kept as three sums so that it
  // can be re-expressed whenever the scale changes.
  double pred_pred = 0.0, pred_cost = 0.0, cost_cost = 0.0;
  VectorXd pending_feature;
  double pending_predicted = 0.0;

  VectorXd features(double context) const {
    if (!std::isfinite(context)) throw Error("chebcb: the context is not a finite number");
    const double x = std::clamp(2.0 / bma * (context - a) - 1.0, -1.0, 1.0);
    VectorXd f(m);
    f(0) = 1.0;
    if (m > 1) f(1) = x;
    for (int j = 2; j < m; ++j) f(j) = 2.0 * x * f(j - 1) - f(j - 2);
    return f;
  }

  // Inverse-gap weighting around the lowest prediction (the first one on a tie, as MATLAB's min).
  VectorXd distribution(const VectorXd& yhat) const {
    Eigen::Index best = 0;
    const double ystar = yhat.minCoeff(&best);
    VectorXd p(d);
    double others = 0.0;
    for (int i = 0; i < d; ++i) {
      if (i == best) continue;
      p(i) = 1.0 / (d + eta * (yhat(i) - ystar));
      others += p(i);
    }
    p(best) = 1.0 - others;
    return p;
  }

  void update(int arm, double cost) {
    const double y = cost - 1.0;
    const auto i = static_cast<std::size_t>(arm);
    gram[i].noalias() += pending_feature * pending_feature.transpose();
    moment[i] += pending_feature * y;
    square(arm) += y * y;
    ++count[i];
    pred_pred += pending_predicted * pending_predicted;
    pred_cost += pending_predicted * y;
    cost_cost += y * y;
    ++rounds;
    max_cost = std::max(max_cost, cost);

    // The authors' constants. Their min(losses) runs over a zero-preallocated array, so in
    // every published run the cost range is [0, K]: L = K / (b - a) (docs/tune.md).
    const double K = max_cost > 0.0 ? max_cost : 1.0;
    const double L = K / bma;
    const double log_m = std::log(static_cast<double>(m));
    const double N = 2.0 + 4.0 * bma * L / K * (1.0 + log_m);
    const bool rescaled = scale != K * N;
    scale = K * N;
    VectorXd ub(m);
    ub(0) = 1.0 / N;
    for (int j = 1; j < m; ++j) ub(j) = 2.0 * bma * L / scale / j;

    double resnorm = 0.0;
    for (int k = 0; k < d; ++k) {
      const auto kk = static_cast<std::size_t>(k);
      if (!(rescaled || k == arm) || count[kk] == 0) continue;
      const VectorXd g = moment[kk] / scale;
      VectorXd th = min_norm_solve(gram[kk], g);
      if ((th.cwiseAbs().array() > ub.array()).any()) {
        th = box_least_squares(gram[kk], g, ub, th);
        // ||F th - y||^2 from the running sums (the resnorm lsqlin returns).
        resnorm = std::max(0.0, th.dot(gram[kk] * th) - 2.0 * th.dot(g) + square(k) / (scale * scale));
      }
      theta.row(k) = th.transpose();
    }

    const double pi = std::numbers::pi;
    const double alpha = (pi + 2.0 / pi * std::log(2.0 * m + 1.0)) / (2.0 * scale * (m + 1.0)) * bma * L;
    const double R = std::max(0.0, pred_pred - 2.0 * pred_cost / scale + cost_cost / (scale * scale));
    const double t = static_cast<double>(rounds);
    double denominator = R - resnorm + 2.0 * alpha * alpha * t;
    if (!(denominator > 0.0)) denominator = 2.0 * alpha * alpha * t;
    eta = 2.0 * t * std::sqrt(d * t / denominator);
  }
};

ChebCb::ChebCb(int arms, int terms, double a, double b, std::uint64_t seed)
    : OnlineLearner(arms, seed), impl_(std::make_unique<Impl>()) {
  if (terms < 1) throw ConfigError("chebcb: terms must be at least 1, got " + std::to_string(terms));
  if (!std::isfinite(a) || !std::isfinite(b) || !(a < b))
    throw ConfigError("chebcb: the context interval " + interval(a, b) + " must be finite with a < b");
  Impl& s = *impl_;
  s.d = arms;
  s.m = terms;
  s.a = a;
  s.bma = b - a;
  s.theta = MatrixXd::Zero(arms, terms);
  s.gram.assign(static_cast<std::size_t>(arms), MatrixXd::Zero(terms, terms));
  s.moment.assign(static_cast<std::size_t>(arms), VectorXd::Zero(terms));
  s.square = VectorXd::Zero(arms);
  s.count.assign(static_cast<std::size_t>(arms), 0);
  s.pending_feature = VectorXd::Zero(terms);
}

ChebCb::~ChebCb() = default;
ChebCb::ChebCb(ChebCb&&) noexcept = default;
ChebCb& ChebCb::operator=(ChebCb&&) noexcept = default;

int ChebCb::terms() const { return impl_->m; }
double ChebCb::eta() const { return impl_->eta; }

std::vector<double> ChebCb::predicted_costs(double context) const {
  const VectorXd yhat = impl_->theta * impl_->features(context);
  return {yhat.data(), yhat.data() + yhat.size()};
}

std::vector<double> ChebCb::probabilities(double context) const {
  const VectorXd p = impl_->distribution(impl_->theta * impl_->features(context));
  return {p.data(), p.data() + p.size()};
}

int ChebCb::choose(double context) {
  Impl& s = *impl_;
  const VectorXd f = s.features(context);
  const VectorXd yhat = s.theta * f;
  const VectorXd p = s.distribution(yhat);
  const int arm = sample(std::span<const double>(p.data(), static_cast<std::size_t>(p.size())));
  s.pending_feature = f;
  s.pending_predicted = yhat(arm);
  begin_choice(arm, context);
  return arm;
}

void ChebCb::observe(int arm, double context, double cost) {
  end_choice(arm, context, cost, true);
  impl_->update(arm, cost);
}

void ChebCb::save_state(StateWriter& out) const {
  const Impl& s = *impl_;
  out.put_double("terms", s.m);
  out.put_double("context_min", s.a);
  out.put_double("context_max", s.a + s.bma);
  const auto d = static_cast<std::size_t>(s.d), m = static_cast<std::size_t>(s.m);
  std::vector<double> theta(d * m), gram(d * m * m), moment(d * m);
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      theta[i * m + j] = s.theta(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
      moment[i * m + j] = s.moment[i](static_cast<Eigen::Index>(j));
      for (std::size_t k = 0; k < m; ++k)
        gram[(i * m + j) * m + k] = s.gram[i](static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(k));
    }
  out.put("theta", std::span<const double>(theta));
  out.put("gram", std::span<const double>(gram));
  out.put("moment", std::span<const double>(moment));
  out.put("square", std::span<const double>(s.square.data(), d));
  out.put("count", std::span<const std::int64_t>(s.count));
  out.put_double("max_cost", s.max_cost);
  out.put_double("scale", s.scale);
  out.put_double("eta", s.eta);
  out.put_integer("rounds", s.rounds);
  const double errors[3] = {s.pred_pred, s.pred_cost, s.cost_cost};
  out.put("prediction_error_sums", std::span<const double>(errors, 3));
  out.put("pending_feature", std::span<const double>(s.pending_feature.data(), m));
  out.put_double("pending_predicted", s.pending_predicted);
}

void ChebCb::load_state(const StateReader& in) {
  const Impl& cur = *impl_;
  check_parameter(in, "terms", cur.m);
  check_parameter(in, "context_min", cur.a);
  check_parameter(in, "context_max", cur.a + cur.bma);
  const auto d = static_cast<std::size_t>(cur.d), m = static_cast<std::size_t>(cur.m);
  const std::vector<double> theta = in.get_doubles("theta", d * m);
  const std::vector<double> gram = in.get_doubles("gram", d * m * m);
  const std::vector<double> moment = in.get_doubles("moment", d * m);
  const std::vector<double> square = in.get_doubles("square", d);
  const std::vector<std::int64_t> count = in.get_integers("count");
  if (count.size() != d) throw IoError("learner state entry 'count' has the wrong length");
  const std::vector<double> errors = in.get_doubles("prediction_error_sums", 3);
  const std::vector<double> feature = in.get_doubles("pending_feature", m);

  auto s = std::make_unique<Impl>(cur);
  s->max_cost = in.get_double("max_cost");
  s->scale = in.get_double("scale");
  s->eta = in.get_double("eta");
  s->rounds = in.get_integer("rounds");
  s->pending_predicted = in.get_double("pending_predicted");
  if (s->max_cost < 0.0 || s->scale < 0.0 || s->eta < 0.0 || s->rounds < 0)
    throw IoError("learner state: a negative max_cost, scale, eta or rounds");
  for (std::size_t i = 0; i < d; ++i) {
    if (count[i] < 0) throw IoError("learner state: a negative count");
    s->count[i] = count[i];
    s->square(static_cast<Eigen::Index>(i)) = square[i];
    for (std::size_t j = 0; j < m; ++j) {
      s->theta(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = theta[i * m + j];
      s->moment[i](static_cast<Eigen::Index>(j)) = moment[i * m + j];
      for (std::size_t k = 0; k < m; ++k)
        s->gram[i](static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(k)) = gram[(i * m + j) * m + k];
    }
  }
  s->pred_pred = errors[0];
  s->pred_cost = errors[1];
  s->cost_cost = errors[2];
  for (std::size_t j = 0; j < m; ++j) s->pending_feature(static_cast<Eigen::Index>(j)) = feature[j];
  impl_ = std::move(s);
}

}  // namespace fluxion
