// INSR's shared pieces: see insr.hpp.
#include "fluxion/learn/insr.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "fluxion/core/error.hpp"
#include "fluxion/io/dataset_file.hpp"
#include "fluxion/learn/array_file.hpp"

namespace fluxion::learn::insr {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
using TensorList = std::vector<torch::Tensor>;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double value_of(const torch::Tensor& t) { return t.item<double>(); }

std::map<std::string, double> term_values(const Losses& terms) {
  std::map<std::string, double> out;
  for (const auto& t : terms) out[t.name] += t.weight * value_of(t.residual.detach().square().mean());
  return out;
}

double total_of(const std::map<std::string, double>& terms) {
  double s = 0;
  for (const auto& [name, v] : terms) s += v;
  return s;
}

std::string number(double v) {
  std::ostringstream s;
  s.precision(3);
  s << v;
  return s.str();
}

// Records the loss `value` of iteration `it` (with its terms) and says whether the fit ends here:
// a non-finite loss (the weights are unusable) or one at or below the target.
bool record_loss(FitReport& r, double value, const Losses& terms, long it, const OptimizerOptions& o) {
  if (it == 0) r.initial_loss = value;
  r.loss = value;
  r.terms = term_values(terms);
  if (!std::isfinite(value)) {
    r.finite = false;
    r.stop = "loss not finite at iteration " + std::to_string(it);
    return true;
  }
  if (o.target_loss > 0 && value <= o.target_loss) {
    r.converged = true;
    r.stop = "loss below target " + number(o.target_loss);
    return true;
  }
  return false;
}

// Adam with the plateau decay of torch's ReduceLROnPlateau (mode min, relative threshold 1e-4): after
// `patience` iterations without a new best loss the rate is multiplied by `factor`; converged when
// the rate would go below min_learning_rate.
void run_adam(FitReport& r, const TensorList& params, const LossFunction& losses, const OptimizerOptions& o) {
  torch::optim::Adam adam(params, torch::optim::AdamOptions(o.learning_rate));
  double rate = o.learning_rate, best = std::numeric_limits<double>::infinity();
  long bad = 0;
  for (long it = 0; it < o.iterations; ++it) {
    adam.zero_grad();
    const Losses terms = losses(it);
    const torch::Tensor loss = total_loss(terms);
    const double value = value_of(loss);
    ++r.evaluations;
    if (record_loss(r, value, terms, it, o)) return;
    loss.backward();
    adam.step();
    r.iterations = it + 1;
    if (value < best * (1 - 1e-4)) {
      best = value;
      bad = 0;
    } else if (++bad > o.plateau_patience) {
      bad = 0;
      if (rate * o.plateau_factor < o.min_learning_rate * (1 - 1e-12)) {
        r.converged = true;
        r.stop = "plateau at the smallest learning rate " + number(rate);
        return;
      }
      rate *= o.plateau_factor;
      for (auto& group : adam.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(rate);
    }
  }
  r.stop = "iteration budget spent (learning rate " + number(rate) + ")";
}

void run_lbfgs(FitReport& r, const TensorList& params, const LossFunction& losses, const OptimizerOptions& o) {
  torch::optim::LBFGS lbfgs(params, torch::optim::LBFGSOptions(o.learning_rate)
                                        .max_iter(o.iterations)
                                        .max_eval(o.iterations * 5 / 4 + 1)
                                        .history_size(o.history)
                                        .tolerance_grad(o.tolerance_grad)
                                        .tolerance_change(o.tolerance_change)
                                        .line_search_fn("strong_wolfe"));
  bool first = true;
  auto closure = [&]() -> torch::Tensor {
    lbfgs.zero_grad();
    const Losses terms = losses(0);
    torch::Tensor loss = total_loss(terms);
    const double value = value_of(loss);
    ++r.evaluations;
    if (first) r.initial_loss = value;
    first = false;
    r.terms = term_values(terms);
    if (!std::isfinite(value)) {
      r.finite = false;
      return loss.detach();  // L-BFGS then stops on the non-finite value; no backward through it
    }
    loss.backward();
    return loss;
  };
  const double final_loss = value_of(lbfgs.step(closure));
  const auto& state = lbfgs.state();
  const auto found = state.find(c10::guts::to_string(params.front().unsafeGetTensorImpl()));
  if (found != state.end()) r.iterations = static_cast<torch::optim::LBFGSParamState&>(*found->second).n_iter();
  // step() returns the loss at the start of its last iteration, and the closure's last call may
  // have been a rejected line-search point: evaluate once more at the final weights.
  r.loss = final_loss;
  if (r.finite && std::isfinite(final_loss)) {
    const Losses terms = losses(0);
    r.terms = term_values(terms);
    r.loss = total_of(r.terms);
    ++r.evaluations;
  }
  if (!r.finite || !std::isfinite(r.loss)) {
    r.finite = false;
    r.stop = "loss not finite after " + std::to_string(r.evaluations) + " evaluations";
  } else if (o.target_loss > 0) {
    r.converged = r.loss <= o.target_loss;
    r.stop = r.converged ? "loss below target " + number(o.target_loss) : "loss above target " + number(o.target_loss);
  } else if (r.iterations < o.iterations) {
    r.converged = true;
    r.stop = "gradient or change below tolerance";
  } else {
    r.stop = "iteration budget spent";
  }
}

double dot(const TensorList& a, const TensorList& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += value_of((a[i] * b[i]).sum());
  return s;
}

// The residual vector of a fit: the terms' residuals, each scaled by sqrt(weight / entries), so
// that |r|^2 is the total loss.
torch::Tensor stacked_residual(const Losses& terms) {
  TensorList parts;
  for (const auto& t : terms)
    parts.push_back(t.residual.reshape({-1}) * std::sqrt(t.weight / static_cast<double>(t.residual.numel())));
  return torch::cat(parts);
}

// Levenberg-Marquardt on |r(theta)|^2 without forming the Jacobian J: each step solves
// (J^T J + lambda I) delta = -J^T r by conjugate gradients, with J v by the double-backward trick
// (J v = d/du [v . J^T u]) and J^T w by one backward pass. lambda follows Nielsen's rule on the
// ratio of actual to predicted reduction; it starts at `damping` times the mean of diag(J^T J),
// estimated from |J|_F^2 / parameters with one random probe.
void run_gauss_newton(FitReport& r, const TensorList& params, const LossFunction& losses, const OptimizerOptions& o) {
  double lambda = -1.0, nu = 2.0;
  Losses terms = losses(0);
  ++r.evaluations;
  for (long it = 0; it < o.iterations; ++it) {
    const torch::Tensor res = stacked_residual(terms);
    const double phi = value_of(res.detach().square().sum());
    if (record_loss(r, phi, terms, it, o)) return;
    torch::Tensor u = torch::zeros_like(res).requires_grad_(true);
    const TensorList jtu = torch::autograd::grad({res}, params, {u}, true, true);  // J^T u, linear in u
    auto jt = [&](const torch::Tensor& w) { return torch::autograd::grad({res}, params, {w}, true, false); };
    auto jv = [&](const TensorList& v) { return torch::autograd::grad(jtu, {u}, v, true, false)[0]; };
    const TensorList g = jt(res.detach());  // J^T r
    const double gnorm = std::sqrt(dot(g, g));
    if (gnorm <= o.tolerance_grad) {
      r.converged = true;
      r.stop = "gradient below tolerance";
      return;
    }
    if (lambda < 0) {  // initial damping from the mean diagonal of J^T J
      TensorList probe;
      for (const auto& p : params) probe.push_back(torch::randn_like(p).sign());
      const torch::Tensor jp = jv(probe);
      long count = 0;
      for (const auto& p : params) count += p.numel();
      lambda = o.damping * std::max(value_of(jp.square().sum()) / static_cast<double>(count), 1e-300);
    }
    // CG on (J^T J + lambda) delta = -g.
    TensorList delta, resid, dir;
    for (const auto& gi : g) {
      delta.push_back(torch::zeros_like(gi));
      resid.push_back(-gi);
      dir.push_back(-gi);
    }
    double rr = gnorm * gnorm;
    const double stop_rr = rr * std::min(0.25, gnorm) * std::min(0.25, gnorm);
    for (long k = 0; k < o.cg_iterations && rr > stop_rr; ++k) {
      const TensorList jtjd = jt(jv(dir));
      double dad = 0;
      for (std::size_t i = 0; i < dir.size(); ++i) dad += value_of((dir[i] * (jtjd[i] + lambda * dir[i])).sum());
      const double alpha = rr / dad;
      for (std::size_t i = 0; i < dir.size(); ++i) {
        delta[i] += alpha * dir[i];
        resid[i] -= alpha * (jtjd[i] + lambda * dir[i]);
      }
      const double rr_new = dot(resid, resid);
      for (std::size_t i = 0; i < dir.size(); ++i) dir[i] = resid[i] + (rr_new / rr) * dir[i];
      rr = rr_new;
    }
    // Predicted reduction of |r|^2 by the model |r + J delta|^2 (+ nothing for lambda).
    const torch::Tensor jd = jv(delta);
    const double predicted = -2.0 * dot(g, delta) - value_of(jd.square().sum());
    {
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < params.size(); ++i) params[i].add_(delta[i]);
    }
    Losses trial = losses(0);
    ++r.evaluations;
    const double phi_new = value_of(total_loss(trial).detach());
    const double rho = predicted > 0 ? (phi - phi_new) / predicted : -1.0;
    r.iterations = it + 1;
    if (std::isfinite(phi_new) && rho > 0) {
      terms = std::move(trial);
      lambda *= std::max(1.0 / 3.0, 1.0 - std::pow(2.0 * rho - 1.0, 3));
      nu = 2.0;
      if (phi - phi_new <= o.tolerance_change * phi) {
        r.loss = phi_new;
        r.terms = term_values(terms);
        r.converged = true;
        r.stop = "relative change below tolerance";
        return;
      }
    } else {
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < params.size(); ++i) params[i].sub_(delta[i]);
      lambda *= nu;
      nu *= 2.0;
    }
    if (rho <= 0 || !std::isfinite(phi_new)) {
      terms = losses(0);  // the old graph saw the weights before the in-place round trip
      ++r.evaluations;
    }
  }
  const torch::Tensor res = stacked_residual(terms);
  r.loss = value_of(res.detach().square().sum());
  r.terms = term_values(terms);
  r.finite = std::isfinite(r.loss);
  r.stop = r.finite ? "iteration budget spent" : "loss not finite";
}

}  // namespace

torch::Tensor total_loss(const Losses& terms) {
  if (terms.empty()) throw Error("INSR: a fit without loss terms");
  torch::Tensor loss = terms.front().weight * terms.front().residual.square().mean();
  for (std::size_t i = 1; i < terms.size(); ++i) loss = loss + terms[i].weight * terms[i].residual.square().mean();
  return loss;
}

FitReport fit(const std::string& name, const std::vector<torch::Tensor>& parameters, const LossFunction& losses,
              const OptimizerOptions& o) {
  FitReport r;
  r.name = name;
  const auto start = Clock::now();
  if (o.method == "adam") run_adam(r, parameters, losses, o);
  else if (o.method == "lbfgs") run_lbfgs(r, parameters, losses, o);
  else if (o.method == "gauss_newton") run_gauss_newton(r, parameters, losses, o);
  else throw Error("INSR: unknown optimiser '" + o.method + "' (adam, lbfgs, gauss_newton)");
  r.seconds = seconds_since(start);
  return r;
}

torch::Tensor uniform_points(long n, const std::vector<double>& lower, const std::vector<double>& upper,
                             torch::ScalarType type) {
  const auto dim = static_cast<long>(lower.size());
  const auto opts = torch::TensorOptions().dtype(type);
  const torch::Tensor lo = torch::tensor(lower, opts), hi = torch::tensor(upper, opts);
  return lo + (hi - lo) * torch::rand({n, dim}, opts);
}

torch::Tensor face_points(long n, const std::vector<double>& lower, const std::vector<double>& upper, int axis,
                          bool upper_face, torch::ScalarType type) {
  torch::Tensor x = uniform_points(n, lower, upper, type);
  x.select(1, axis).fill_(upper_face ? upper[static_cast<std::size_t>(axis)] : lower[static_cast<std::size_t>(axis)]);
  return x;
}

SirenNet frozen_copy(const SirenNet& net) {
  SirenNet copy(net->options());
  const auto from = net->parameters();
  auto to = copy->parameters();
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < to.size(); ++i) {
    to[i].set_data(from[i].detach().clone());
    to[i].set_requires_grad(false);
  }
  return copy;
}

void save_networks(const fs::path& file, const std::vector<NamedNetwork>& networks, nlohmann::json info) {
  io_detail::DatasetFile out(file);
  nlohmann::json nets = nlohmann::json::object();
  for (const auto& [name, net] : networks) {
    nets[name] = net->options().to_json();
    for (const auto& item : net->named_parameters()) {
      torch::Tensor p = item.value().detach().to(torch::kFloat64).contiguous();
      std::string key = item.key();
      for (auto& ch : key) ch = ch == '.' ? '/' : ch;
      const std::vector<std::size_t> dims(p.sizes().begin(), p.sizes().end());
      out.write(name + "/" + key, dims, std::vector<double>(p.data_ptr<double>(), p.data_ptr<double>() + p.numel()));
    }
  }
  info["networks"] = nets;
  out.text_attribute("insr", info.dump());
  out.commit();
}

std::vector<NamedNetwork> load_networks(const fs::path& file, nlohmann::json& info) {
  const std::string where = "INSR weights file '" + file.string() + "'";
  const auto text = read_text_attribute(file, "insr");
  if (!text) throw IoError(where + " has no root attribute 'insr' (not written by fluxion's insr app)");
  try {
    info = nlohmann::json::parse(*text);
  } catch (const std::exception& e) {
    throw IoError(where + ": attribute 'insr' is not JSON: " + e.what());
  }
  if (!info.contains("networks") || !info["networks"].is_object())
    throw IoError(where + ": attribute 'insr' lists no networks");
  std::vector<NamedNetwork> out;
  for (const auto& [name, options] : info["networks"].items()) {
    SirenNet net(SirenOptions::from_json(options));
    net->to(torch::kFloat64);  // the stored precision; the caller converts if it wants less
    torch::NoGradGuard no_grad;
    for (auto& item : net->named_parameters()) {
      std::string key = item.key();
      for (auto& ch : key) ch = ch == '.' ? '/' : ch;
      const torch::Tensor stored =
          read_float_array(file, name + "/" + key, static_cast<int>(item.value().dim()),
                           item.value().dim() == 2 ? "out x in" : "out", torch::kFloat64);
      if (stored.sizes() != item.value().sizes())
        throw IoError(where + ": /" + name + "/" + key + " is " + c10::str(stored.sizes()) + "; the network needs " +
                      c10::str(item.value().sizes()));
      item.value().copy_(stored);
    }
    out.push_back({name, net});
  }
  return out;
}

}  // namespace fluxion::learn::insr
