// OmegaTuner: a LinearSolver that picks the SOR relaxation factor of every solve with an online learner.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fluxion/linalg/linear_solver.hpp"
#include "fluxion/tune/learner.hpp"
#include "fluxion/tune/state.hpp"

namespace fluxion {

/// One solve the tuner drove. `step` counts every solve of the learner's life, including those
/// of earlier runs whose state was loaded.
struct TunerStep {
  std::int64_t step = 0;
  double context = 0.0;         // what the learner saw
  int arm = 0;
  double omega = 0.0;
  int iterations = 0;           // as reported by the solver
  double cost = 0.0;            // what the learner was fed (see OmegaTunerSettings)
  bool converged = false;
  double solve_seconds = 0.0;   // the wrapped solver's wall time
  double learner_seconds = 0.0; // choose() + observe()
};

struct OmegaTunerSettings {
  /// A solve that did not converge costs at least this many iterations (the paper's rule: the
  /// iteration cap). Solvers stopped by the cap already report it; this also charges a solve that
  /// stopped early (divergence, NaN) the full cap. 0: charge the reported iterations.
  double nonconvergence_cost = 0.0;
  /// false: set_context() is ignored and the learner always sees context 0.
  bool use_context = true;
};

/// Drives a RelaxationSolver across a sequence of solves (Khodak et al., "Learning to Relax"):
/// before each solve the learner picks an arm of the grid, the solver runs with that omega, and
/// the iteration count goes back to the learner as the arm's cost.
///
///   OmegaTuner tuner(std::make_unique<SsorCgSolver>(), std::make_unique<TsallisInf>(20, seed),
///                    ArmGrid(1.0, 1.95, 20));
///   tuner.set_operator(op);
///   for (each step) { tuner.set_context(kappa * dt); SolveReport r = tuner.solve(b, x); }
class OmegaTuner final : public LinearSolver {
 public:
  /// Every arm value must lie in (0, 2) and the learner must have as many arms as the grid
  /// (fluxion::Error otherwise; so does a null solver or learner).
  OmegaTuner(std::unique_ptr<RelaxationSolver> solver, std::unique_ptr<OnlineLearner> learner, ArmGrid arms,
             OmegaTunerSettings settings = {});
  ~OmegaTuner() override;

  /// "<learner>(<solver>)", e.g. "tsallis_inf(ssor-cg)"; also the report's `solver`.
  std::string name() const override;
  void set_operator(const StencilOperator& op) override;
  /// Stores the context of the following solves (until set again).
  void set_context(double context) override;
  /// Chooses omega, solves, feeds back the cost. The report carries the omega used.
  [[nodiscard]] SolveReport solve(const Field& b, Field& x) override;

  /// The solves of this run, in order.
  const std::vector<TunerStep>& history() const { return history_; }
  /// Solves done before this run (from a loaded state); history()[0].step equals it.
  std::int64_t loaded_steps() const { return loaded_steps_; }
  /// All solves of the learner's life: loaded_steps() + history().size().
  std::int64_t steps() const { return loaded_steps_ + static_cast<std::int64_t>(history_.size()); }
  /// Sums over history(): the learner's overhead against the solves it tunes.
  double learner_seconds() const;
  double solve_seconds() const;

  const ArmGrid& arms() const { return arms_; }
  const OnlineLearner& learner() const { return *learner_; }
  const RelaxationSolver& solver() const { return *solver_; }
  double context() const { return context_; }

  /// Writes the learner's state plus the tuner's ("tuner/omegas", "tuner/solver", "tuner/steps").
  void save(StateWriter& out) const;
  /// Restores what save() wrote, so that learning continues. A state saved with another arm grid,
  /// solver or learner, or a damaged one, throws fluxion::IoError and changes nothing.
  void load(const StateReader& in);

 private:
  std::unique_ptr<RelaxationSolver> solver_;
  std::unique_ptr<OnlineLearner> learner_;
  ArmGrid arms_;
  OmegaTunerSettings settings_;
  double context_ = 0.0;
  std::int64_t loaded_steps_ = 0;
  std::vector<TunerStep> history_;
};

}  // namespace fluxion
