// The `insr` app (issue 11): INSR time integration (Chen et al., ICML 2023; REFERENCES.md section 5)
// of the authors' three examples, and the `insr_sample` app that evaluates a saved step at any
// resolution.
//
// A run fits the initial condition, then takes `time.steps` steps; each step warm-starts from the
// previous step's weights and minimises the example's loss over points drawn anew for the step (or
// for every iteration: optimizer.resample with Adam). Every `output.every` steps it writes the field
// on a grid (HDF5 + XDMF, the FieldWriter every fluxion app uses) and the weights (a small HDF5 per
// step under weights/), and a row of history.csv: time, each fit's loss, iterations, seconds and
// whether it reached its tolerance, and the example's measures (errors against the exact solution,
// or energies). A step whose loss turns non-finite stops the run; a step that does not reach its
// tolerance within its budget is reported, and stops the run when on_failure is stop.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numbers>

#include "fluxion/core/error.hpp"
#include "fluxion/core/grid.hpp"
#include "fluxion/core/log.hpp"
#include "fluxion/io/field_writer.hpp"
#include "fluxion/learn/insr.hpp"
#include "fluxion/learn/model_registry.hpp"
#include "fluxion/learn/siren.hpp"
#include "fluxion/learn/training.hpp"

namespace fs = std::filesystem;

namespace fluxion::learn {

namespace {

using insr::FitReport;
using insr::LossTerm;
using insr::Losses;
using insr::NamedNetwork;
using insr::OptimizerOptions;
using Clock = std::chrono::steady_clock;
constexpr double kPi = std::numbers::pi;

// ---------------------------------------------------------------------------------------------
// Optimiser stages: a fit runs its stages in turn (e.g. Adam, then L-BFGS).

using Stages = std::vector<OptimizerOptions>;

Schema stage_schema() {
  Schema s;
  s.string("method", "lbfgs", "adam (with plateau decay), lbfgs (strong Wolfe line search), gauss_newton (Levenberg-Marquardt, matrix-free CG)",
           {"adam", "lbfgs", "gauss_newton"})
      .integer("iterations", 100, "Iteration budget of this stage", Range::at_least(1))
      .real("learning_rate", 0.0, "Adam's rate (0: 1e-4, the authors'); L-BFGS's step scale (0: 1); unused by gauss_newton",
            Range::at_least(0))
      .real("plateau_factor", 0.1, "adam: rate factor after a plateau", Range::greater_than(0).and_less_than(1))
      .integer("plateau_patience", 500, "adam: iterations without a new best loss before the rate drops", Range::at_least(1))
      .real("min_learning_rate", 1e-8, "adam: converged when the rate would drop below this", Range::greater_than(0))
      .boolean("resample", false, "adam: new sample points every iteration (the authors' choice); lbfgs, gauss_newton: new points for this stage")
      .integer("history", 100, "lbfgs: pairs kept", Range::at_least(1))
      .real("tolerance_grad", 1e-12, "lbfgs, gauss_newton: converged when the gradient's size falls below this", Range::at_least(0))
      .real("tolerance_change", 1e-15, "lbfgs, gauss_newton: converged when the loss changes less than this (relative for gauss_newton)",
            Range::at_least(0))
      .real("damping", 1e-3, "gauss_newton: initial damping, relative to the mean diagonal of J^T J", Range::greater_than(0))
      .integer("cg_iterations", 50, "gauss_newton: conjugate-gradient iterations per step", Range::at_least(1))
      .real("target_loss", 0.0, "> 0: the stage reaches its tolerance only with a final loss at most this", Range::at_least(0));
  return s;
}

Stages read_stages(const Config& c, const std::string& key, const Stages& fallback) {
  Stages out;
  for (const Config& e : c.list(key)) {
    OptimizerOptions o;
    o.method = e.string("method");
    o.iterations = e.integer("iterations");
    o.learning_rate = e.real("learning_rate") > 0 ? e.real("learning_rate") : (o.method == "adam" ? 1e-4 : 1.0);
    o.plateau_factor = e.real("plateau_factor");
    o.plateau_patience = e.integer("plateau_patience");
    o.min_learning_rate = e.real("min_learning_rate");
    o.resample = e.boolean("resample");
    o.history = e.integer("history");
    o.tolerance_grad = e.real("tolerance_grad");
    o.tolerance_change = e.real("tolerance_change");
    o.damping = e.real("damping");
    o.cg_iterations = e.integer("cg_iterations");
    o.target_loss = e.real("target_loss");
    out.push_back(o);
  }
  return out.empty() ? fallback : out;
}

nlohmann::json stages_json(const Stages& stages) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& o : stages)
    out.push_back({{"method", o.method}, {"iterations", o.iterations}, {"learning_rate", o.learning_rate},
                   {"resample", o.resample}});
  return out;
}

// One fit of a step: `draw` picks the sample points, `losses` is the loss at them.
struct FitProblem {
  std::string name;
  std::vector<torch::Tensor> parameters;
  std::function<void()> draw;
  std::function<Losses()> losses;
};

// Runs the stages; the report sums their iterations and seconds and takes the last stage's loss
// and verdict (an Adam stage before L-BFGS need not converge).
FitReport run_fit(const FitProblem& p, const Stages& stages) {
  FitReport total;
  total.name = p.name;
  p.draw();
  for (std::size_t s = 0; s < stages.size(); ++s) {
    const bool resample = stages[s].resample && stages[s].method == "adam";
    if (s > 0 && stages[s].resample && !resample) p.draw();  // L-BFGS, Gauss-Newton: new points per stage
    const FitReport r = insr::fit(p.name, p.parameters, [&](long iteration) {
      if (resample && iteration > 0) p.draw();
      return p.losses();
    }, stages[s]);
    if (s == 0) total.initial_loss = r.initial_loss;
    total.iterations += r.iterations;
    total.evaluations += r.evaluations;
    total.seconds += r.seconds;
    total.loss = r.loss;
    total.terms = r.terms;
    total.finite = r.finite;
    total.converged = r.converged;
    total.stop = stages.size() > 1 ? stages[s].method + ": " + r.stop : r.stop;
    if (!r.finite) break;
  }
  return total;
}

std::vector<torch::Tensor> parameters_of(std::initializer_list<SirenNet> nets) {
  std::vector<torch::Tensor> out;
  for (const auto& n : nets)
    for (const auto& p : n->parameters()) out.push_back(p);
  return out;
}

torch::Tensor with_grad(torch::Tensor x) { return x.detach().requires_grad_(true); }

// Zeroes a SIREN's output layer: the field is 0 everywhere, and the hidden layers keep their
// initialisation (they start learning once the output weights move).
void zero_output(SirenNet& net) {
  torch::NoGradGuard no_grad;
  const auto p = net->parameters();
  p[p.size() - 1].zero_();
  p[p.size() - 2].zero_();
}

// ---------------------------------------------------------------------------------------------
// Examples

struct Measure {
  std::string name;
  double value;
};

class Example {
 public:
  virtual ~Example() = default;
  virtual std::vector<NamedNetwork> networks() const = 0;
  /// The fits of a step, in order (their reports come back in this order).
  virtual std::vector<std::string> fit_names() const { return {"step"}; }
  /// The box the fields live in (one entry per axis).
  virtual std::vector<double> lower() const = 0;
  virtual std::vector<double> upper() const = 0;
  /// Fits the initial condition.
  virtual std::vector<FitReport> initialize(const Stages& stages) = 0;
  /// Advances one step of dt.
  virtual std::vector<FitReport> step(const Stages& stages) = 0;
  /// The fields written at time t at points x [n, dim]: name -> [n, components].
  virtual std::vector<std::pair<std::string, torch::Tensor>> fields(const torch::Tensor& x, double t) = 0;
  /// Errors against the exact solution or energies at time t, from the output grid's points x
  /// (cell centres, each of volume `cell`).
  virtual std::vector<Measure> measures(const torch::Tensor& x, double cell, double t) = 0;
  int dim() const { return static_cast<int>(lower().size()); }
};

std::vector<Measure> error_measures(const torch::Tensor& value, const torch::Tensor& exact) {
  const torch::Tensor e = (value - exact).detach();
  return {{"max_error", e.abs().max().item<double>()},
          {"mean_abs_error", e.abs().mean().item<double>()},
          {"relative_l2_error", (e.norm() / exact.norm()).item<double>()}};
}

SirenOptions network_options(const Config& c, int in, int out) {
  SirenOptions o;
  o.in_features = in;
  o.out_features = out;
  o.width = static_cast<int>(c.integer("network.width"));
  o.hidden_layers = static_cast<int>(c.integer("network.hidden_layers"));
  o.w0 = c.real("network.w0");
  return o;
}

struct Common {
  double dt = 0.05;
  long samples = 5000;
  long boundary_samples = 50;
  double boundary_weight = 100.0;
  torch::ScalarType type = torch::kFloat64;
};

// 1D advection u_t + a u_x = 0 on [-L/2, L/2], u = 0 at both ends (penalty), a Gaussian pulse.
// The integrator is the loss: explicit Euler (u - u_n)/dt + a u_n' = 0, implicit Euler
// (u - u_n)/dt + a u' = 0, or the midpoint rule (u - u_n)/dt + a (u' + u_n')/2 = 0 (the authors').
// Without the boundary term the midpoint residual u + c u' = rhs (c = a dt / 2) has the null mode
// C exp(-(x + L/2)/c) at the inflow end, which the loss cannot see.
class Advection final : public Example {
 public:
  Advection(const Config& c, const Common& common) : k_(common) {
    a_ = c.real("advection.velocity");
    half_ = c.real("advection.length") / 2;
    center_ = c.real("advection.center");
    width_ = c.real("advection.width");
    integrator_ = c.string("advection.integrator");
    u_ = SirenNet(network_options(c, 1, 1));
    u_->to(k_.type);
    prev_ = insr::frozen_copy(u_);
  }
  std::vector<NamedNetwork> networks() const override { return {{"u", u_}}; }
  std::vector<double> lower() const override { return {-half_}; }
  std::vector<double> upper() const override { return {half_}; }

  torch::Tensor exact(const torch::Tensor& x, double t) const {
    return torch::exp(-0.5 * (x - a_ * t - center_).square() / (width_ * width_));
  }

  // The exact solution of the time-discrete problem after n steps of the integrator (exact in
  // space, on the whole line): each Fourier mode of the pulse is multiplied by the integrator's
  // amplification factor per step, G = 1 - i a k dt (explicit Euler), 1 / (1 + i a k dt) (implicit
  // Euler) or (1 - i a k dt/2) / (1 + i a k dt/2) (midpoint). The series runs over a period of
  // 4 L, where the pulse's images are far away, up to |k| = 12 / w (the Gaussian's spectrum
  // exp(-k^2 w^2 / 2) is 1e-31 there). Its distance to the network separates the optimisation's
  // error from the time discretisation's.
  torch::Tensor time_discrete(const torch::Tensor& x, long n) const {
    const double period = 8 * half_;
    const long modes = static_cast<long>(std::ceil(12 / width_ * period / (2 * kPi)));
    const auto real = torch::TensorOptions().dtype(torch::kFloat64);
    const torch::Tensor k = torch::arange(-modes, modes + 1, real) * (2 * kPi / period);
    const torch::Tensor ik = torch::complex(torch::zeros_like(k), k);
    const torch::Tensor c = ik * (a_ * k_.dt);
    torch::Tensor G;
    if (integrator_ == "explicit_euler") G = 1 - c;
    else if (integrator_ == "implicit_euler") G = 1 / (1 + c);
    else G = (1 - 0.5 * c) / (1 + 0.5 * c);
    const torch::Tensor pulse = width_ * std::sqrt(2 * kPi) * torch::exp(-0.5 * (k * width_).square()) / period;
    const torch::Tensor coefficients = pulse * torch::exp(-ik * center_) * torch::pow(G, static_cast<double>(n));
    const torch::Tensor phase = torch::exp(x.to(torch::kFloat64).reshape({-1, 1}) * ik.reshape({1, -1}));
    return torch::real(torch::matmul(phase, coefficients.unsqueeze(1))).to(x.scalar_type());
  }

  std::vector<FitReport> initialize(const Stages& stages) override {
    torch::Tensor x;
    FitProblem p{"initial", parameters_of({u_}), [&] { x = points(); },
                 [&] { return Losses{{"fit", u_->forward(x) - exact(x, 0.0), 1.0}}; }};
    return {run_fit(p, stages)};
  }

  std::vector<FitReport> step(const Stages& stages) override {
    prev_ = insr::frozen_copy(u_);
    torch::Tensor x, prev_value, prev_slope;
    const auto opts = torch::TensorOptions().dtype(k_.type);
    const torch::Tensor ends = torch::tensor({-half_, half_}, opts).reshape({2, 1});
    auto draw = [&] {
      x = with_grad(points());
      const torch::Tensor v = prev_->forward(x);
      prev_slope = field_gradient(v, x).detach();
      prev_value = v.detach();
    };
    auto losses = [&] {
      const torch::Tensor u = u_->forward(x);
      const torch::Tensor rate = (u - prev_value) / k_.dt;
      torch::Tensor r;
      if (integrator_ == "explicit_euler") r = rate + a_ * prev_slope;
      else if (integrator_ == "implicit_euler") r = rate + a_ * field_gradient(u, x);
      else r = rate + 0.5 * a_ * (field_gradient(u, x) + prev_slope);
      return Losses{{"residual", r, 1.0}, {"boundary", u_->forward(ends), k_.boundary_weight}};
    };
    return {run_fit({"step", parameters_of({u_}), draw, losses}, stages)};
  }

  std::vector<std::pair<std::string, torch::Tensor>> fields(const torch::Tensor& x, double t) override {
    torch::NoGradGuard no_grad;
    const torch::Tensor u = u_->forward(x), e = exact(x, t);
    return {{"u", u}, {"exact", e}, {"error", u - e}};
  }

  std::vector<Measure> measures(const torch::Tensor& x, double, double t) override {
    torch::NoGradGuard no_grad;
    const torch::Tensor u = u_->forward(x);
    std::vector<Measure> m = error_measures(u, exact(x, t));
    const torch::Tensor stepped = time_discrete(x, std::lround(t / k_.dt));
    m.push_back({"relative_l2_error_vs_stepping", ((u - stepped).norm() / stepped.norm()).item<double>()});
    m.push_back({"stepping_relative_l2_error", ((stepped - exact(x, t)).norm() / exact(x, t).norm()).item<double>()});
    return m;
  }

 private:
  torch::Tensor points() const { return insr::uniform_points(k_.samples, {-half_}, {half_}, k_.type); }

  Common k_;
  double a_ = 0.25, half_ = 2.0, center_ = -1.5, width_ = 0.1;
  std::string integrator_;
  SirenNet u_{nullptr}, prev_{nullptr};
};

// 2D incompressible Euler, Taylor-Green vortex on [-1, 1]^2 with slip walls, by the authors'
// splitting: (1) semi-Lagrangian advection u(x) = u_n(x - dt u_n(x)), (2) pressure
// lap p = div u (Neumann walls; dt folded into p), (3) projection u = u_adv - grad p, each a fit
// warm-started from the previous one. No-penetration (u.n = 0) and dp/dn = 0 are penalties on
// wall samples. The exact solution is steady: u = (sin X cos Y, -cos X sin Y) / pi, X = (x+1) pi.
class TaylorGreen final : public Example {
 public:
  TaylorGreen(const Config& c, const Common& common) : k_(common) {
    helmholtz_ = c.string("taylor_green.pressure") == "helmholtz";
    velocity_ = SirenNet(network_options(c, 2, 2));
    pressure_ = SirenNet(network_options(c, 2, 1));
    velocity_->to(k_.type);
    pressure_->to(k_.type);
    // The pressure starts as zero: a random SIREN's Laplacian is of order w0^2 times its values,
    // far above div u of one step, and the first fit would spend its budget removing it.
    zero_output(pressure_);
  }
  std::vector<NamedNetwork> networks() const override { return {{"velocity", velocity_}, {"pressure", pressure_}}; }
  std::vector<std::string> fit_names() const override { return {"advect", "pressure", "project"}; }
  std::vector<double> lower() const override { return {-1.0, -1.0}; }
  std::vector<double> upper() const override { return {1.0, 1.0}; }

  static torch::Tensor exact(const torch::Tensor& x) {
    const torch::Tensor X = (x.select(1, 0) + 1) * kPi, Y = (x.select(1, 1) + 1) * kPi;
    return torch::stack({torch::sin(X) * torch::cos(Y), -torch::cos(X) * torch::sin(Y)}, 1) / kPi;
  }

  std::vector<FitReport> initialize(const Stages& stages) override {
    torch::Tensor x;
    FitProblem p{"initial", parameters_of({velocity_}), [&] { x = points(); },
                 [&] { return Losses{{"fit", velocity_->forward(x) - exact(x), 2.0}}; }};
    initial_stages_ = stages;
    return {run_fit(p, stages)};
  }

  std::vector<FitReport> step(const Stages& stages) override {
    std::vector<FitReport> reports;
    torch::Tensor x, target, walls[4];
    auto draw_walls = [&] {
      for (int f = 0; f < 4; ++f) walls[f] = with_grad(insr::face_points(wall_samples(), lower(), upper(), f / 2, f % 2, k_.type));
    };
    // u.n on the walls: u_x on x = +-1, u_y on y = +-1.
    auto no_penetration = [&] {
      std::vector<torch::Tensor> parts;
      for (int f = 0; f < 4; ++f) parts.push_back(velocity_->forward(walls[f]).select(1, f / 2));
      return LossTerm{"walls", torch::cat(parts), k_.boundary_weight};
    };
    // (1) advection
    SirenNet prev = insr::frozen_copy(velocity_);
    auto draw_advect = [&] {
      x = points();
      draw_walls();
      torch::NoGradGuard no_grad;
      const torch::Tensor back = torch::clamp(x - k_.dt * prev->forward(x), -1.0, 1.0);
      target = prev->forward(back);
    };
    reports.push_back(run_fit({"advect", parameters_of({velocity_}), draw_advect, [&] {
                                 return Losses{{"fit", velocity_->forward(x) - target, 2.0}, no_penetration()};
                               }}, stages));
    if (!reports.back().finite) return reports;
    // (2) pressure: lap p = div u_adv with dp/dn = 0 (poisson, the authors' strong form), or the
    // least-squares projection of the step's increment, min |u_adv - u_n - grad p|^2 (helmholtz),
    // whose minimiser solves the same Neumann problem weakly (u_n is divergence-free and tangential
    // at the walls): the wall condition is natural and only first derivatives enter. Projecting
    // the increment rather than u_adv keeps the residual small (O(dt^2)): on a finite sample the
    // network's gradient would otherwise fit part of the divergence-free field, a share of about
    // parameters / samples of it (12% measured at 16384 points).
    SirenNet advected = insr::frozen_copy(velocity_);
    torch::Tensor divergence, advected_value;
    auto draw_pressure = [&] {
      x = with_grad(points());
      draw_walls();
      const torch::Tensor ua = advected->forward(x);
      if (helmholtz_) advected_value = (ua - prev->forward(x)).detach();
      else divergence = field_divergence(ua, x).detach();
    };
    auto pressure_losses = [&] {
      if (helmholtz_) return Losses{{"projection", advected_value - field_gradient(pressure_->forward(x), x), 2.0}};
      std::vector<torch::Tensor> parts;
      for (int f = 0; f < 4; ++f) parts.push_back(field_gradient(pressure_->forward(walls[f]), walls[f]).select(1, f / 2));
      return Losses{{"poisson", field_laplacian(pressure_->forward(x), x) - divergence, 1.0},
                    {"walls", torch::cat(parts), k_.boundary_weight}};
    };
    // The pressure network starts cold (zero): its first fit gets the initial condition's budget.
    reports.push_back(run_fit({"pressure", parameters_of({pressure_}), draw_pressure, pressure_losses},
                              pressure_fitted_ ? stages : initial_stages_));
    pressure_fitted_ = true;
    if (!reports.back().finite) return reports;
    // (3) projection: u = u_adv - grad p
    auto draw_project = [&] {
      x = with_grad(points());
      draw_walls();
      target = (advected->forward(x) - field_gradient(pressure_->forward(x), x)).detach();
      x = x.detach();
    };
    reports.push_back(run_fit({"project", parameters_of({velocity_}), draw_project, [&] {
                                 return Losses{{"fit", velocity_->forward(x) - target, 2.0}, no_penetration()};
                               }}, stages));
    return reports;
  }

  std::vector<std::pair<std::string, torch::Tensor>> fields(const torch::Tensor& x, double) override {
    const torch::Tensor xg = with_grad(x);
    const torch::Tensor u = velocity_->forward(xg);
    const torch::Tensor jac = field_jacobian(u, xg).detach();
    const torch::Tensor vorticity = jac.select(1, 1).select(1, 0) - jac.select(1, 0).select(1, 1);
    torch::NoGradGuard no_grad;
    const torch::Tensor ud = u.detach();
    return {{"velocity", ud},
            {"pressure", pressure_->forward(x)},
            {"vorticity", vorticity.unsqueeze(1)},
            {"error", (ud - exact(x)).norm(2, 1, true)}};
  }

  std::vector<Measure> measures(const torch::Tensor& x, double, double) override {
    torch::NoGradGuard no_grad;
    return error_measures(velocity_->forward(x), exact(x));
  }

 private:
  torch::Tensor points() const { return insr::uniform_points(k_.samples, lower(), upper(), k_.type); }
  long wall_samples() const { return std::max(1L, k_.boundary_samples / 4); }

  Common k_;
  bool helmholtz_ = true;
  bool pressure_fitted_ = false;
  Stages initial_stages_;
  SirenNet velocity_{nullptr}, pressure_{nullptr};
};

// 2D elasticity: each step minimises the incremental potential of implicit Euler over the
// deformed positions q(X) = X + u(X) of the body's material points X (reference box [lower, upper]):
//   E(q) = rho / (2 dt^2) |q - q_n - dt v_n - dt^2 g|^2 + mu |F - R(F)|^2 + lambda/2 (det F - 1)^2
//          + k/2 max(0, h - q_y)^2 + w |u|^2 on the fixed side,
// per unit reference area, averaged over the samples: the kinetic term with gravity folded in
// (completing the square), as-rigid-as-possible (R the rotation nearest F, closed form in 2D), volume,
// a penalty contact plane y = h, and an optional Dirichlet penalty. Every term is a square, so the
// least-squares optimisers apply. The energies reported are the physical ones of the new state:
// kinetic rho/2 |v|^2, elastic, gravitational -rho g.q, contact.
class Elasticity final : public Example {
 public:
  Elasticity(const Config& c, const Common& common) : k_(common) {
    lower_ = c.reals("elasticity.lower");
    upper_ = c.reals("elasticity.upper");
    for (int a = 0; a < 2; ++a)
      if (upper_[a] <= lower_[a]) c.fail("elasticity.upper", "must exceed elasticity.lower on every axis");
    rho_ = c.real("elasticity.density");
    mu_ = c.real("elasticity.arap");
    lambda_ = c.real("elasticity.volume");
    gravity_ = c.reals("elasticity.gravity");
    plane_ = c.real("elasticity.plane");
    contact_ = c.real("elasticity.contact_stiffness");
    fixed_ = c.string("elasticity.fixed");
    const auto v0 = c.reals("elasticity.initial_velocity");
    velocity0_ = v0;
    u_ = SirenNet(network_options(c, 2, 2));
    u_->to(k_.type);
    zero_output(u_);  // the body starts undeformed: u = 0 exactly
    prev_ = insr::frozen_copy(u_);
    prev_prev_ = insr::frozen_copy(u_);
  }
  std::vector<NamedNetwork> networks() const override { return {{"displacement", u_}}; }
  std::vector<double> lower() const override { return lower_; }
  std::vector<double> upper() const override { return upper_; }

  std::vector<FitReport> initialize(const Stages& stages) override {
    torch::Tensor x;
    FitProblem p{"initial", parameters_of({u_}), [&] { x = points(); },
                 [&] { return Losses{{"fit", u_->forward(x), 2.0}}; }};
    std::vector<FitReport> r{run_fit(p, stages)};
    prev_ = insr::frozen_copy(u_);
    prev_prev_ = insr::frozen_copy(u_);
    first_ = true;
    return r;
  }

  std::vector<FitReport> step(const Stages& stages) override {
    prev_prev_ = prev_;
    prev_ = insr::frozen_copy(u_);
    torch::Tensor X, inertial, Xfixed;
    auto draw = [&] {
      X = with_grad(points());
      torch::NoGradGuard no_grad;
      const torch::Tensor qn = X + prev_->forward(X);
      const torch::Tensor vn = first_ ? velocity(X) : (prev_->forward(X) - prev_prev_->forward(X)) / k_.dt;
      inertial = qn + k_.dt * vn + k_.dt * k_.dt * gravity();
      if (fixed_ != "none") Xfixed = insr::face_points(k_.boundary_samples, lower_, upper_, 0, fixed_ == "x_upper", k_.type);
    };
    auto losses = [&] {
      const torch::Tensor u = u_->forward(X);
      const torch::Tensor q = X + u;
      const torch::Tensor F = deformation_gradient(u, X);
      Losses terms{{"kinetic", q - inertial, rho_ / (2 * k_.dt * k_.dt) * 2},
                   {"arap", (F - nearest_rotation(F)).reshape({-1, 4}), mu_ * 4},
                   {"volume", det(F) - 1.0, lambda_ / 2}};
      if (contact_ > 0) terms.push_back({"contact", torch::relu(plane_ - q.select(1, 1)), contact_ / 2});
      if (fixed_ != "none") terms.push_back({"fixed", u_->forward(Xfixed), k_.boundary_weight * 2});
      return terms;
    };
    std::vector<FitReport> r{run_fit({"step", parameters_of({u_}), draw, losses}, stages)};
    first_ = false;
    return r;
  }

  std::vector<std::pair<std::string, torch::Tensor>> fields(const torch::Tensor& x, double) override {
    const torch::Tensor X = with_grad(x);
    const torch::Tensor u = u_->forward(X);
    const torch::Tensor F = deformation_gradient(u, X).detach();
    torch::NoGradGuard no_grad;
    return {{"displacement", u.detach()}, {"velocity", current_velocity(x)}, {"volume_change", det(F).unsqueeze(1) - 1}};
  }

  std::vector<Measure> measures(const torch::Tensor& x, double cell, double) override {
    const torch::Tensor X = with_grad(x);
    const torch::Tensor u = u_->forward(X);
    const torch::Tensor F = deformation_gradient(u, X).detach();
    torch::NoGradGuard no_grad;
    const torch::Tensor q = (X + u).detach();
    const torch::Tensor v = current_velocity(x);
    const double kinetic = cell * 0.5 * rho_ * v.square().sum().item<double>();
    const double elastic = cell * (mu_ * (F - nearest_rotation(F)).square().sum().item<double>() +
                                   lambda_ / 2 * (det(F) - 1).square().sum().item<double>());
    const double potential = -cell * rho_ * (q * gravity()).sum().item<double>();
    const double contact = contact_ > 0 ? cell * contact_ / 2 * torch::relu(plane_ - q.select(1, 1)).square().sum().item<double>() : 0.0;
    return {{"kinetic_energy", kinetic}, {"elastic_energy", elastic}, {"gravity_energy", potential},
            {"contact_energy", contact}, {"total_energy", kinetic + elastic + potential + contact},
            {"lowest_y", q.select(1, 1).min().item<double>()}};
  }

 private:
  torch::Tensor points() const { return insr::uniform_points(k_.samples, lower_, upper_, k_.type); }
  torch::Tensor gravity() const { return torch::tensor(gravity_, torch::TensorOptions().dtype(k_.type)); }
  torch::Tensor velocity(const torch::Tensor& X) const {
    return torch::tensor(velocity0_, torch::TensorOptions().dtype(k_.type)).expand({X.size(0), 2});
  }
  // (q_{n+1} - q_n) / dt of the state just computed (the initial velocity before the first step).
  torch::Tensor current_velocity(const torch::Tensor& x) {
    if (first_) return velocity(x);  // no step taken yet
    return (u_->forward(x) - prev_->forward(x)) / k_.dt;
  }
  static torch::Tensor det(const torch::Tensor& F) {
    return F.select(1, 0).select(1, 0) * F.select(1, 1).select(1, 1) - F.select(1, 0).select(1, 1) * F.select(1, 1).select(1, 0);
  }
  // The rotation nearest F in the Frobenius norm (2D: angle of (F00 + F11, F10 - F01)).
  static torch::Tensor nearest_rotation(const torch::Tensor& F) {
    const torch::Tensor a = F.select(1, 0).select(1, 0) + F.select(1, 1).select(1, 1);
    const torch::Tensor b = F.select(1, 1).select(1, 0) - F.select(1, 0).select(1, 1);
    const torch::Tensor n = torch::sqrt(a * a + b * b + 1e-300);
    const torch::Tensor c = a / n, s = b / n;
    return torch::stack({torch::stack({c, -s}, 1), torch::stack({s, c}, 1)}, 1);
  }

  Common k_;
  std::vector<double> lower_, upper_, gravity_, velocity0_;
  double rho_ = 1, mu_ = 1, lambda_ = 1, plane_ = -1, contact_ = 0;
  std::string fixed_;
  bool first_ = true;
  SirenNet u_{nullptr}, prev_{nullptr}, prev_prev_{nullptr};
};

// ---------------------------------------------------------------------------------------------
// The app

Schema insr_schema() {
  Schema s;
  s.string("example", required, "Which INSR example runs", {"advection", "taylor_green", "elasticity"})
      .integer("threads", 1, "Threads of torch (0: every hardware thread)", Range::at_least(0).and_at_most(1024))
      .integer("seed", 0, "Seed of the initial weights and the sample points", Range::at_least(0))
      .string("precision", "double", "Floating point of the networks and samples", {"double", "single"})
      .section("time", "Time stepping")
      .real("time.dt", 0.05, "Time step", Range::greater_than(0))
      .integer("time.steps", 240, "Number of steps", Range::at_least(0))
      .section("network", "The SIREN of each field (sin(w0 z) layers)")
      .integer("network.width", 20, "Neurons per hidden layer", Range::at_least(1).and_at_most(4096))
      .integer("network.hidden_layers", 2, "Hidden width x width layers (the network has hidden_layers + 2 linear layers)",
               Range::at_least(0).and_at_most(64))
      .real("network.w0", 30.0, "Frequency factor of the sine activations", Range::greater_than(0))
      .integer("samples", 5000, "Interior sample points per fit", Range::at_least(1))
      .section("boundary", "Boundary conditions as penalty terms")
      .integer("boundary.samples", 50, "Boundary sample points per fit (advection: the two end points are used)", Range::at_least(1))
      .real("boundary.weight", 100.0, "Weight of the boundary penalty", Range::at_least(0))
      .list("initial", stage_schema(), "Optimiser stages fitting the initial condition (empty: Adam, 3000 iterations at 1e-3 with new points each, then L-BFGS 500; elasticity: L-BFGS 500)")
      .list("optimizer", stage_schema(), "Optimiser stages of every fit of a step (empty: one L-BFGS stage of 100 iterations)")
      .string("on_failure", "continue", "A step that does not reach its tolerance: continue (reported per step) or stop the run",
              {"continue", "stop"})
      .integer_list("output.cells", {}, "Cells per axis of the grid the fields are written on (empty: the example's default)",
                    Length::between(0, 3), Range::at_least(1))
      .integer("output.every", 1, "Write fields, weights and a history row every this many steps (and the last)", Range::at_least(1))
      .section("advection", "example advection: u_t + a u_x = 0 on [-L/2, L/2], u(x, 0) = exp(-(x - c)^2 / (2 w^2))")
      .real("advection.velocity", 0.25, "a")
      .real("advection.length", 4.0, "L", Range::greater_than(0))
      .real("advection.center", -1.5, "c")
      .real("advection.width", 0.1, "w", Range::greater_than(0))
      .string("advection.integrator", "midpoint", "The time integrator as a loss", {"explicit_euler", "implicit_euler", "midpoint"})
      .section("taylor_green", "example taylor_green: 2D Euler, Taylor-Green vortex on [-1, 1]^2, slip walls")
      .string("taylor_green.pressure", "helmholtz",
              "The pressure fit: helmholtz (min |u_adv - grad p|^2, first derivatives) or poisson (lap p = div u_adv, dp/dn = 0 penalised: the authors')",
              {"helmholtz", "poisson"})
      .section("elasticity", "example elasticity: a 2D body under gravity (ARAP + volume energy), implicit Euler as incremental potential")
      .real_list("elasticity.lower", {-0.5, -0.5}, "Reference body: lower corner", Length::exactly(2))
      .real_list("elasticity.upper", {0.5, 0.5}, "Reference body: upper corner", Length::exactly(2))
      .real("elasticity.density", 1.0, "Mass per unit area", Range::greater_than(0))
      .real("elasticity.arap", 100.0, "As-rigid-as-possible modulus mu: energy mu |F - R|^2", Range::at_least(0))
      .real("elasticity.volume", 1000.0, "Volume modulus lambda: energy lambda/2 (det F - 1)^2", Range::at_least(0))
      .real_list("elasticity.gravity", {0.0, -9.81}, "Acceleration of gravity", Length::exactly(2))
      .real_list("elasticity.initial_velocity", {0.0, 0.0}, "Initial velocity of the body", Length::exactly(2))
      .real("elasticity.plane", -1.0, "Height of the contact plane y = h")
      .real("elasticity.contact_stiffness", 1e5, "Penalty stiffness of the plane (0: no plane)", Range::at_least(0))
      .string("elasticity.fixed", "none", "A side held in place by the boundary penalty", {"none", "x_lower", "x_upper"});
  return s;
}

// The example's own keys: a section of another example in the config is an error (strict).
void check_sections(const Config& c, const std::string& example) {
  for (const std::string other : {"advection", "taylor_green", "elasticity"}) {
    if (other == example) continue;
    for (const std::string& key : insr_schema().keys())
      if (key.rfind(other + ".", 0) == 0 && c.is_set(key))
        c.fail(key, "belongs to example " + other + ", not to the example this config runs (" + example + ")");
  }
}

std::unique_ptr<Example> make_example(const Config& c, const Common& common) {
  const std::string e = c.string("example");
  check_sections(c, e);
  if (e == "advection") return std::make_unique<Advection>(c, common);
  if (e == "taylor_green") return std::make_unique<TaylorGreen>(c, common);
  return std::make_unique<Elasticity>(c, common);
}

Stages default_initial(const std::string& example) {
  OptimizerOptions adam, lbfgs;
  adam.method = "adam";
  adam.iterations = 3000;
  adam.learning_rate = 1e-3;
  adam.resample = true;
  lbfgs.iterations = 500;
  if (example == "elasticity") return {lbfgs};  // u = 0: quick
  return {adam, lbfgs};
}

// A grid of `cells` over the box [lo, hi] (1D or 2D; `key` is the config key of the cells). A 1D
// field is written as a 2D grid one cell thick (ParaView plots it with Plot Over Line).
std::shared_ptr<Grid> box_grid(MPI_Comm comm, const std::vector<double>& lo, const std::vector<double>& hi,
                               const std::vector<long>& cells, const Config& c, const std::string& key) {
  const int dim = static_cast<int>(lo.size());
  if (static_cast<int>(cells.size()) != dim)
    c.fail(key, "has " + std::to_string(cells.size()) + " entries; the field is " + std::to_string(dim) + "D");
  GridSpec spec;
  spec.dim = 2;
  for (int a = 0; a < dim; ++a) {
    spec.cells[a] = cells[a];
    spec.lower[a] = lo[a];
    spec.upper[a] = hi[a];
  }
  if (dim == 1) {
    spec.cells[1] = 1;
    spec.lower[1] = 0;
    spec.upper[1] = (hi[0] - lo[0]) / static_cast<double>(cells[0]);
  }
  spec.bytes_per_cell = 200;
  return std::make_shared<Grid>(comm, spec);
}

// The cell centres of the output grid as points [cells, dim] (x fastest), and one cell's volume.
torch::Tensor grid_points(const Grid& g, int dim, torch::ScalarType type, double& cell) {
  const long nx = g.cells(0), ny = g.cells(1);
  std::vector<double> xs;
  xs.reserve(static_cast<std::size_t>(nx * ny * dim));
  cell = 1;
  for (int a = 0; a < dim; ++a) cell *= g.spacing(a);
  for (long j = 0; j < ny; ++j)
    for (long i = 0; i < nx; ++i) {
      xs.push_back(g.lower(0) + (static_cast<double>(i) + 0.5) * g.spacing(0));
      if (dim == 2) xs.push_back(g.lower(1) + (static_cast<double>(j) + 0.5) * g.spacing(1));
    }
  return torch::tensor(xs, torch::TensorOptions().dtype(torch::kFloat64)).reshape({nx * ny, dim}).to(type);
}

// Network outputs at the grid points -> fluxion Fields.
std::vector<Field> to_fields(const std::shared_ptr<Grid>& grid, const std::vector<std::pair<std::string, torch::Tensor>>& values) {
  std::vector<Field> out;
  const long nx = grid->cells(0);
  for (const auto& [name, v] : values) {
    const torch::Tensor t = v.detach().to(torch::kFloat64).contiguous();
    const int comps = static_cast<int>(t.size(1));
    Field f(grid, name, comps);
    FieldArray<false> a(f);
    const double* p = t.data_ptr<double>();
    const auto& box = a.box();
    for (PetscInt j = box.begin[1]; j < box.end[1]; ++j)
      for (PetscInt i = box.begin[0]; i < box.end[0]; ++i)
        for (int c = 0; c < comps; ++c) a(i, j, 0, c) = p[(j * nx + i) * comps + c];
    out.push_back(std::move(f));
  }
  return out;
}

void write_fields(FieldWriter& writer, const std::shared_ptr<Grid>& grid, const std::vector<std::pair<std::string, torch::Tensor>>& values,
                  double t) {
  const std::vector<Field> fields = to_fields(grid, values);
  std::vector<const Field*> ptrs;
  for (const auto& f : fields) ptrs.push_back(&f);
  writer.write_step(t, ptrs);
}

std::string fit_words(const FitReport& r) {
  return r.name + " " + format_number("%.3e", r.loss) + " (" + std::to_string(r.iterations) + " it, " +
         format_number("%.2f s", r.seconds) + (r.converged ? "" : ", not converged") + ")";
}

ModelRunResult run_insr(const Config& c, const ModelRunContext& ctx) {
  require_one_rank(c, ctx.comm, "app", "insr");
  const auto start = Clock::now();
  set_torch_threads(c.integer("threads"));
  torch::manual_seed(static_cast<uint64_t>(c.integer("seed")));
  const std::string example_name = c.string("example");

  Common common;
  common.dt = c.real("time.dt");
  common.samples = c.integer("samples");
  common.boundary_samples = c.integer("boundary.samples");
  common.boundary_weight = c.real("boundary.weight");
  common.type = c.string("precision") == "single" ? torch::kFloat32 : torch::kFloat64;
  OptimizerOptions default_step;
  const Stages initial = read_stages(c, "initial", default_initial(example_name));
  const Stages stages = read_stages(c, "optimizer", {default_step});
  const bool stop_on_failure = c.string("on_failure") == "stop";
  const long steps = c.integer("time.steps"), every = c.integer("output.every");
  auto example = make_example(c, common);

  std::vector<long> cells = c.integers("output.cells");
  if (cells.empty()) cells = std::vector<long>(static_cast<std::size_t>(example->dim()), example->dim() == 1 ? 500 : 64);
  const auto grid = box_grid(ctx.comm, example->lower(), example->upper(), cells, c, "output.cells");
  double cell = 0;
  const torch::Tensor points = grid_points(*grid, example->dim(), common.type, cell);
  OutputOptions out;
  out.dir = ctx.output_dir;
  out.name = c.string("output.name");
  out.vti = c.string("output.format") != "hdf5";
  FieldWriter writer(grid, out, c.to_yaml());
  const fs::path weights_dir = ctx.output_dir / "weights";
  fs::create_directories(weights_dir);
  std::ofstream history(ctx.output_dir / "history.csv");
  if (!history) throw IoError("cannot write '" + (ctx.output_dir / "history.csv").string() + "'");
  history.precision(10);

  long parameters = 0;
  for (const auto& n : example->networks())
    for (const auto& p : n.net->parameters()) parameters += p.numel();

  nlohmann::json rows = nlohmann::json::array();
  std::vector<std::string> failures;
  // The first few fits that miss their tolerance are warned about one by one, the rest counted.
  constexpr std::size_t kWarnings = 3;
  auto warn_failure = [&](const std::string& what) {
    if (failures.size() <= kWarnings) std::fprintf(stderr, "warning: insr: %s\n", what.c_str());
    if (failures.size() == kWarnings)
      std::fprintf(stderr, "warning: insr: further fits that miss their tolerance are counted in the summary and "
                           "listed in summary.json (not_converged)\n");
  };
  std::vector<Measure> last_measures;
  long total_iterations = 0;
  double fit_seconds = 0;
  bool header = false;
  const std::vector<std::string> fit_names = example->fit_names();
  // Step n's fits (none for step 0, whose initial fit is in summary.json) -> history.csv and summary.json.
  auto record = [&](long n, const std::vector<FitReport>& reports, double step_seconds) {
    const double t = static_cast<double>(n) * common.dt;
    const bool output = n % every == 0 || n == steps;
    for (const auto& r : reports) {
      total_iterations += r.iterations;
      fit_seconds += r.seconds;
      if (!r.finite)
        throw NumericalError("insr: step " + std::to_string(n) + " (t = " + format_number("%g", t) + "), fit " + r.name +
                             ": " + r.stop + "; the steps before it are written (" + c.label("optimizer") +
                             ": try a smaller learning rate or time.dt)");
      if (!r.converged) {
        const std::string what = "step " + std::to_string(n) + " fit " + r.name + ": tolerance not reached (" + r.stop +
                                 ", loss " + format_number("%.3e", r.loss) + ")";
        failures.push_back(what);
        if (stop_on_failure) throw NumericalError("insr: " + what + "; on_failure is stop");
        warn_failure(what);
      }
    }
    if (!output) return;
    last_measures = example->measures(points, cell, t);
    write_fields(writer, grid, example->fields(points, t), t);
    char name[32];
    std::snprintf(name, sizeof name, "step_%06ld.h5", n);
    insr::save_networks(weights_dir / name, example->networks(),
                        {{"example", example_name}, {"step", n}, {"time", t}, {"lower", example->lower()},
                         {"upper", example->upper()}, {"config", c.to_json()}});
    if (!header) {
      history << "step,time,seconds";
      for (const auto& f : fit_names) history << "," << f << "_loss," << f << "_iterations," << f << "_seconds," << f << "_converged";
      for (const auto& m : last_measures) history << "," << m.name;
      history << "\n";
      header = true;
    }
    nlohmann::json row{{"step", n}, {"time", t}, {"seconds", step_seconds}, {"fits", nlohmann::json::object()}};
    history << n << "," << t << "," << step_seconds;
    for (std::size_t f = 0; f < fit_names.size(); ++f) {
      if (f >= reports.size()) {
        history << ",,,,";
        continue;
      }
      const FitReport& r = reports[f];
      history << "," << r.loss << "," << r.iterations << "," << r.seconds << "," << (r.converged ? 1 : 0);
      row["fits"][r.name] = {{"loss", r.loss}, {"iterations", r.iterations}, {"seconds", r.seconds},
                             {"converged", r.converged}, {"stop", r.stop}, {"terms", r.terms}};
    }
    for (const auto& m : last_measures) {
      history << "," << m.value;
      row[m.name] = m.value;
    }
    history << "\n";
    history.flush();
    if (!history) throw IoError("writing '" + (ctx.output_dir / "history.csv").string() + "' failed");
    rows.push_back(row);
  };

  print_line(ctx.comm, "insr " + example_name + ": " + std::to_string(parameters) + " parameters, " +
                           std::to_string(steps) + " steps of " + format_number("%g", common.dt));
  auto t0 = Clock::now();
  const std::vector<FitReport> init = example->initialize(initial);
  const double init_seconds = seconds_since(t0);
  nlohmann::json init_json = nlohmann::json::array();
  for (const auto& r : init) {
    print_line(ctx.comm, "  initial condition: " + fit_words(r));
    if (!r.finite) throw NumericalError("insr: the initial fit: " + r.stop + " (" + c.label("initial") + ")");
    if (!r.converged) {
      failures.push_back("initial fit: tolerance not reached (" + r.stop + ")");
      if (stop_on_failure) throw NumericalError("insr: " + failures.back() + "; on_failure is stop");
      warn_failure(failures.back());
    }
    total_iterations += r.iterations;
    init_json.push_back({{"loss", r.loss}, {"iterations", r.iterations}, {"seconds", r.seconds}, {"converged", r.converged},
                         {"stop", r.stop}});
  }
  record(0, {}, init_seconds);
  Progress progress(ctx.comm, "insr " + example_name, steps);
  for (long n = 1; n <= steps; ++n) {
    t0 = Clock::now();
    const auto reports = example->step(stages);
    record(n, reports, seconds_since(t0));
    std::string note;
    for (const auto& r : reports) note += (note.empty() ? "" : "; ") + fit_words(r);
    progress.update(n, note);
  }
  progress.finish();
  writer.close();
  history.close();

  const double seconds = seconds_since(start);
  ModelRunResult result;
  result.outputs = {writer.hdf5_path(), writer.xdmf_path(), ctx.output_dir / "history.csv", weights_dir};
  if (out.vti) result.outputs.push_back(writer.pvd_path());
  const double floats = static_cast<double>(parameters);
  result.table = {{"example", example_name},
                  {"networks", std::to_string(parameters) + " parameters (" + format_number("%.1f", floats * 8 / 1024) +
                                   " KiB as float64)"},
                  {"steps", std::to_string(steps) + " of " + format_number("%g", common.dt)},
                  {"optimizer iterations", std::to_string(total_iterations)},
                  {"steps not converged", std::to_string(failures.size())},
                  {"time", format_number("%.1f s", seconds) + " (initial fit " + format_number("%.1f s", init_seconds) + ")"}};
  for (const auto& m : last_measures) result.table.push_back({m.name, format_number("%.4e", m.value)});
  nlohmann::json final_measures = nlohmann::json::object();
  for (const auto& m : last_measures) final_measures[m.name] = m.value;
  result.results = {{"example", example_name},
                    {"parameters", parameters},
                    {"steps", steps},
                    {"dt", common.dt},
                    {"seconds", seconds},
                    {"fit_seconds", fit_seconds},
                    {"initial_seconds", init_seconds},
                    {"optimizer_iterations", total_iterations},
                    {"initial_stages", stages_json(initial)},
                    {"initial_fit", init_json},
                    {"step_stages", stages_json(stages)},
                    {"not_converged", failures},
                    {"final", final_measures},
                    {"history", rows}};
  return result;
}

// insr_sample: a saved step's networks on a grid of any resolution.
Schema sample_schema() {
  Schema s;
  s.string("weights", required, "A weights file of an insr run (<output>/weights/step_NNNNNN.h5)")
      .integer_list("cells", required, "Cells per axis of the grid to sample on", Length::between(1, 3), Range::at_least(1))
      .integer("threads", 1, "Threads of torch (0: every hardware thread)", Range::at_least(0).and_at_most(1024));
  return s;
}

ModelRunResult run_sample(const Config& c, const ModelRunContext& ctx) {
  require_one_rank(c, ctx.comm, "app", "insr_sample");
  set_torch_threads(c.integer("threads"));
  fs::path file = c.string("weights");
  if (file.is_relative() && fs::exists(ctx.config_dir / file)) file = ctx.config_dir / file;
  if (!fs::exists(file)) c.fail("weights", "file '" + file.string() + "' does not exist");
  nlohmann::json info;
  std::vector<NamedNetwork> nets;
  try {
    nets = insr::load_networks(file, info);
  } catch (const Error& e) {
    c.fail("weights", e.what());
  }
  const std::vector<double> lo = info.value("lower", std::vector<double>{}), hi = info.value("upper", std::vector<double>{});
  const int dim = static_cast<int>(lo.size());
  const auto cells = c.integers("cells");
  if (dim < 1 || dim > 2 || hi.size() != lo.size()) c.fail("weights", "the file's domain (lower, upper) is not 1D or 2D");
  const auto grid = box_grid(ctx.comm, lo, hi, cells, c, "cells");
  double cell = 0;
  const torch::Tensor points = grid_points(*grid, dim, torch::kFloat64, cell);
  std::vector<std::pair<std::string, torch::Tensor>> values;
  for (auto& [name, net] : nets) {
    net->to(torch::kFloat64);
    torch::NoGradGuard no_grad;
    values.push_back({name, net->forward(points)});
  }
  OutputOptions out;
  out.dir = ctx.output_dir;
  out.name = c.string("output.name");
  out.vti = c.string("output.format") != "hdf5";
  FieldWriter writer(grid, out, c.to_yaml());
  const double t = info.value("time", 0.0);
  write_fields(writer, grid, values, t);
  writer.close();
  ModelRunResult result;
  result.outputs = {writer.hdf5_path(), writer.xdmf_path()};
  std::string names;
  for (const auto& v : values) names += (names.empty() ? "" : ", ") + v.first;
  result.table = {{"weights", file.string()},
                  {"example", info.value("example", std::string("?"))},
                  {"step", std::to_string(info.value("step", 0L)) + " (t = " + format_number("%g", t) + ")"},
                  {"fields", names}};
  result.results = {{"weights", file.string()}, {"step", info.value("step", 0L)}, {"time", t}, {"cells", cells}};
  return result;
}

}  // namespace

void register_insr_apps() {
  ModelRegistry::instance().add(SimulationInfo{
      "insr", "INSR: time integration where the field is a SIREN and each step an optimisation", insr_schema, run_insr});
  ModelRegistry::instance().add(SimulationInfo{
      "insr_sample", "A saved INSR step (weights file) evaluated on a grid of any resolution", sample_schema, run_sample});
}

}  // namespace fluxion::learn
