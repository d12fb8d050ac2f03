// OmegaTuner: choose omega, solve, feed back the iteration count; save and load the learning.
#include "fluxion/core/log.hpp"
#include "fluxion/tune/omega_tuner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "fluxion/core/error.hpp"

namespace fluxion {

namespace {

using Clock = std::chrono::steady_clock;


std::string describe(std::span<const double> values) {
  std::ostringstream s;
  s.precision(6);
  s << values.size() << " values";
  if (!values.empty()) s << " from " << values.front() << " to " << values.back();
  return s.str();
}

}  // namespace

OmegaTuner::OmegaTuner(std::unique_ptr<RelaxationSolver> solver, std::unique_ptr<OnlineLearner> learner,
                       ArmGrid arms, OmegaTunerSettings settings)
    : solver_(std::move(solver)), learner_(std::move(learner)), arms_(std::move(arms)), settings_(settings) {
  if (!solver_) throw Error("OmegaTuner: no solver");
  if (!learner_) throw Error("OmegaTuner: no learner");
  for (double w : arms_.values())
    if (!(w > 0.0 && w < 2.0)) {
      std::ostringstream msg;
      msg << "OmegaTuner: arm value " << w << " is outside (0, 2), where SOR converges";
      throw Error(msg.str());
    }
  if (learner_->arms() != arms_.size())
    throw Error("OmegaTuner: the learner has " + std::to_string(learner_->arms()) + " arms but the grid " +
                std::to_string(arms_.size()));
  if (!(settings_.nonconvergence_cost >= 0.0) || !std::isfinite(settings_.nonconvergence_cost))
    throw Error("OmegaTuner: nonconvergence_cost must be finite and >= 0");
}

OmegaTuner::~OmegaTuner() = default;

std::string OmegaTuner::name() const { return learner_->name() + "(" + solver_->name() + ")"; }

void OmegaTuner::set_operator(const StencilOperator& op) { solver_->set_operator(op); }

void OmegaTuner::set_context(double context) {
  if (!settings_.use_context) return;
  if (!std::isfinite(context)) throw Error("OmegaTuner: the context is not a finite number");
  context_ = context;
}

SolveReport OmegaTuner::solve(const Field& b, Field& x) {
  TunerStep step;
  step.step = steps();
  step.context = context_;

  auto start = Clock::now();
  step.arm = learner_->choose(context_);
  step.learner_seconds = seconds_since(start);
  step.omega = arms_[step.arm];
  solver_->set_omega(step.omega);

  SolveReport report = solver_->solve(b, x);
  step.iterations = report.iterations;
  step.converged = report.converged;
  step.solve_seconds = report.seconds;
  step.cost = static_cast<double>(report.iterations);
  if (!report.converged) step.cost = std::max(step.cost, settings_.nonconvergence_cost);

  start = Clock::now();
  learner_->observe(step.arm, context_, step.cost);
  step.learner_seconds += seconds_since(start);

  history_.push_back(step);
  report.omega = step.omega;
  report.solver = name();
  return report;
}

double OmegaTuner::learner_seconds() const {
  double s = 0.0;
  for (const auto& h : history_) s += h.learner_seconds;
  return s;
}

double OmegaTuner::solve_seconds() const {
  double s = 0.0;
  for (const auto& h : history_) s += h.solve_seconds;
  return s;
}

void OmegaTuner::save(StateWriter& out) const {
  learner_->save(out);
  out.put("tuner/omegas", arms_.values());
  out.put("tuner/solver", solver_->name());
  out.put_integer("tuner/steps", steps());
}

void OmegaTuner::load(const StateReader& in) {
  // Everything is read and checked before anything changes; the learner's load is all-or-nothing.
  const std::vector<double> omegas = in.get_doubles("tuner/omegas");
  const std::span<const double> ours = arms_.values();
  if (!std::equal(omegas.begin(), omegas.end(), ours.begin(), ours.end()))
    throw IoError("tuner state was learned on an omega grid of " + describe(omegas) + ", but this run's grid has " +
                  describe(ours) + "; use the same solver.omega.arms or start a new state");
  const std::string solver = in.get_string("tuner/solver");
  if (solver != solver_->name())
    throw IoError("tuner state was learned with solver '" + solver + "', but this run uses '" + solver_->name() +
                  "'; iteration counts of different solvers do not compare, start a new state");
  const std::int64_t steps = in.get_integer("tuner/steps");
  if (steps < 0) throw IoError("tuner state: 'tuner/steps' is negative");
  learner_->load(in);
  loaded_steps_ = steps;
  history_.clear();
}

}  // namespace fluxion
