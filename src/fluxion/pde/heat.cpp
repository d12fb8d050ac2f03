// HeatProblem: theta-method steps of the heat equation on the stencil operator.
#include "fluxion/pde/heat.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "fluxion/core/error.hpp"

namespace fluxion {

double theta_of(TimeScheme scheme) { return scheme == TimeScheme::BackwardEuler ? 1.0 : 0.5; }

std::string to_string(TimeScheme scheme) {
  return scheme == TimeScheme::BackwardEuler ? "backward_euler" : "crank_nicolson";
}

TimeScheme parse_time_scheme(const std::string& name) {
  if (name == "backward_euler") return TimeScheme::BackwardEuler;
  if (name == "crank_nicolson") return TimeScheme::CrankNicolson;
  throw Error("unknown time scheme '" + name + "'; expected backward_euler or crank_nicolson");
}

namespace {

bool boundary_uses_time(const BoundaryConditions& bc, int dim) {
  for (int f = 0; f < 2 * dim; ++f)
    if (!bc[static_cast<Face>(f)].value.is_time_independent()) return true;
  return false;
}

std::string number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

}  // namespace

HeatProblem::HeatProblem(std::shared_ptr<const Grid> grid, HeatSpec spec, std::shared_ptr<const SolidMask> solid)
    : grid_(grid),
      spec_(std::move(spec)),
      solid_(std::move(solid)),
      theta_(theta_of(spec_.scheme)),
      boundary_time_independent_(!boundary_uses_time(spec_.boundary, grid->dim())),
      k_(sample(grid, "k", spec_.k)),
      u_(sample(grid, "u", spec_.initial, spec_.t0)),
      next_(grid, "u"),
      rhs_(grid, "rhs"),
      work_(grid, "work"),
      boundary_now_(grid, "boundary"),
      source_now_(grid, "f"),
      boundary_next_(grid, "boundary"),
      source_next_(grid, "f"),
      kappa_now_(0.0),
      time_(spec_.t0) {
  if (!(spec_.dt > 0.0) || !std::isfinite(spec_.dt))
    throw Error("HeatProblem: the time step dt must be finite and > 0 (got " + number(spec_.dt) + ")");
  // Coefficients are checked where sampled, naming key and point (see check_sampled); k = 0 only
  // stops diffusion there (the step operator keeps its 1/dt diagonal).
  check_sampled(k_, spec_.k, "k", Sign::NonNegative);
  Field zero(grid_, "c");
  zero.fill(0.0);
  laplacian_ = std::make_unique<StencilOperator>(grid_, k_, zero, spec_.boundary, solid_);
  check_sampled(u_, spec_.initial, "u0", Sign::Any);
  laplacian_->zero_solid(u_);
  kappa_now_ = kappa(time_);
  boundary_terms(time_, boundary_now_);
  source_terms(time_, source_now_);
}

HeatProblem::~HeatProblem() = default;

double HeatProblem::kappa(double t) const {
  const double v = spec_.kappa.is_constant() ? spec_.kappa.value() : spec_.kappa(0.0, 0.0, 0.0, t);
  if (!(v >= 0.0) || !std::isfinite(v))
    throw NumericalError((spec_.kappa.where() == "expression" ? std::string() : spec_.kappa.where() + ": ") +
                         "kappa(t) = " + number(v) + " at t = " + number(t) + " (" + spec_.kappa.excerpt() +
                         "); it must be finite and >= 0");
  return v;
}

void HeatProblem::boundary_terms(double t, Field& out) const {
  out.fill(0.0);
  laplacian_->add_boundary_terms(out, t);
}

void HeatProblem::source_terms(double t, Field& out) const {
  if (spec_.source.is_constant())
    out.fill(spec_.source.value());
  else
    out.assign([&](const Field::Point& x) { return spec_.source(x[0], x[1], x[2], t); });
  if (!spec_.source.is_constant()) check_sampled(out, spec_.source, "f", Sign::Any, t, true);
}

HeatStepReport HeatProblem::step(LinearSolver& solver) {
  const double dt = spec_.dt;
  HeatStepReport r;
  r.step = step_ + 1;
  r.time = spec_.t0 + static_cast<double>(r.step) * dt;  // not accumulated: no drift over many steps
  r.kappa = kappa(r.time);
  r.kappa_dt = r.kappa * dt;

  // Right-hand side: u^n/dt, the explicit part at t_n, the implicit boundary and source at t_{n+1}.
  FLUXION_PETSC_CHECK(VecCopy(u_.vec(), rhs_.vec()));
  FLUXION_PETSC_CHECK(VecScale(rhs_.vec(), 1.0 / dt));
  if (theta_ < 1.0) {
    laplacian_->apply(u_, work_);
    rhs_.axpy(-(1.0 - theta_) * kappa_now_, work_);
    rhs_.axpy((1.0 - theta_) * kappa_now_, boundary_now_);
    rhs_.axpy(1.0 - theta_, source_now_);
  }
  if (!boundary_time_independent_) boundary_terms(r.time, boundary_next_);
  if (!spec_.source.is_time_independent()) source_terms(r.time, source_next_);
  const Field& boundary_next = boundary_time_independent_ ? boundary_now_ : boundary_next_;
  const Field& source_next = spec_.source.is_time_independent() ? source_now_ : source_next_;
  rhs_.axpy(theta_ * r.kappa, boundary_next);
  rhs_.axpy(theta_, source_next);
  laplacian_->zero_solid(rhs_);
  // A solver handed NaN data may return its initial guess untouched: catch it before the solve.
  if (!rhs_.all_finite())
    throw NumericalError("heat step " + std::to_string(r.step) + " (t = " + number(r.time) +
                         "): the right-hand side has NaN or infinite values (source or boundary data)");

  // Step operator I/dt + theta kappa L: built once, and when kappa changes scaled in place (its
  // conductivity by kappa_new / kappa_old; the rounding of the repeated scalings is a random walk
  // of about sqrt(steps) ulp), so that the solver keeps its preconditioner's structure (a
  // multigrid hierarchy). Rebuilt when kappa is or was 0. A new operator reaches the solver before
  // the old one is released.
  if (step_op_ && r.kappa != step_kappa_ && r.kappa > 0.0 && step_kappa_ > 0.0) {
    step_op_->scale_conductivity(r.kappa / step_kappa_);
    if (solver_seen_ == &solver)
      solver.operator_changed(*step_op_);
    else
      solver.set_operator(*step_op_);
    step_kappa_ = r.kappa;
    solver_seen_ = &solver;
    r.rebuilt = true;
  } else if (!step_op_ || r.kappa != step_kappa_) {
    Field k_scaled(k_);
    FLUXION_PETSC_CHECK(VecScale(k_scaled.vec(), theta_ * r.kappa));
    Field c(grid_, "c");
    c.fill(1.0 / dt);
    auto op = std::make_unique<StencilOperator>(grid_, k_scaled, c, spec_.boundary, solid_);
    solver.set_operator(*op);
    step_op_ = std::move(op);
    step_kappa_ = r.kappa;
    solver_seen_ = &solver;
    r.rebuilt = true;
  } else if (solver_seen_ != &solver) {
    solver.set_operator(*step_op_);
    solver_seen_ = &solver;
  }

  FLUXION_PETSC_CHECK(VecCopy(u_.vec(), next_.vec()));  // warm start from u^n
  solver.set_context(r.kappa_dt);
  r.solve = solver.solve(rhs_, next_);
  step_op_->zero_solid(next_);
  if (!next_.all_finite())
    throw NumericalError("heat step " + std::to_string(r.step) + " (t = " + number(r.time) +
                         "): the solution has NaN or infinite values; " + r.solve.summary());

  FLUXION_PETSC_CHECK(VecCopy(next_.vec(), u_.vec()));
  if (!boundary_time_independent_) std::swap(boundary_now_, boundary_next_);
  if (!spec_.source.is_time_independent()) std::swap(source_now_, source_next_);
  kappa_now_ = r.kappa;
  time_ = r.time;
  step_ = r.step;
  return r;
}

ErrorNorms HeatProblem::error(const Expression& exact) const {
  return error_norms(u_, exact, time_, solid_.get());
}

}  // namespace fluxion
