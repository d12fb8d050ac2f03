// App `poisson`: -div(k grad u) + c u = f on a 2D/3D box with obstacles, solved once.
//
// Sample runs:
//   fluxion run apps/configs/poisson.yaml
//   fluxion run apps/configs/poisson.yaml --set grid.cells=[256,128] --set solver.pc=gamg
//   mpirun -n 2 fluxion run apps/configs/poisson3d.yaml -ksp_monitor
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "app.hpp"
#include "fluxion/core/error.hpp"
#include "fluxion/core/log.hpp"
#include "fluxion/io/field_writer.hpp"
#include "fluxion/pde/poisson.hpp"
#include "setup.hpp"

namespace fluxion::apps {

namespace {

Schema poisson_schema() {
  Schema s;
  declare_grid(s, {128, 64}, {0.0, 0.0}, {2.0, 1.0});
  s.section("problem", "-div(k grad u) + c u = source")
      .expression("problem.k", "1", "Diffusion coefficient k(x, y, z) > 0")
      .expression("problem.c", "0", "Reaction coefficient c(x, y, z) >= 0")
      .expression("problem.source", "1", "Right-hand side f(x, y, z)")
      .string("problem.exact", "", "Optional exact solution u(x, y, z): the summary then reports the error");
  declare_boundary(s, "dirichlet");
  declare_obstacles(s);
  declare_solver(s, "solver", {"shift"});
  return s;
}

class PoissonApp {
 public:
  PoissonApp(const Config& config, const RunContext& context) : config_(config), context_(context) {}

  RunResult run() {
    make_grid_and_obstacles();
    setup_system();
    solve();
    return output_results();
  }

 private:
  using clock = std::chrono::steady_clock;

  void make_grid_and_obstacles() {
    const auto start = clock::now();
    Domain domain = make_domain(config_, context_.comm, context_.config_dir);
    spec_.boundary = std::move(domain.boundary);
    grid_ = std::move(domain.grid);
    solid_ = std::move(domain.solid);
    setup_seconds_ = std::chrono::duration<double>(clock::now() - start).count();
  }

  void setup_system() {
    const auto start = clock::now();
    spec_.k = Expression(config_.expression("problem.k"), config_.label("problem.k"));
    spec_.c = Expression(config_.expression("problem.c"), config_.label("problem.c"));
    spec_.source = Expression(config_.expression("problem.source"), config_.label("problem.source"));
    if (!config_.string("problem.exact").empty())
      exact_ = std::make_unique<Expression>(config_.string("problem.exact"), config_.label("problem.exact"));
    try {
      problem_ = std::make_unique<PoissonProblem>(grid_, spec_, solid_);
    } catch (const NumericalError& e) {
      throw ConfigError(e.what());  // names the key (k, c or source), its line and the point
    }
    if (const Compatibility& c = problem_->compatibility(); c.significant())
      print_line(context_.comm, "warning: the boundary conditions fix u only up to a constant and the source plus "
                                "boundary fluxes do not sum to zero: the solve removes their mean, " +
                                    format_number("%.3g", c.mean_removed) + " (" +
                                    format_number("%.3g", c.relative) + " times the mean |f|)");
    // Progress of a solve: the fraction of the way from |r0| down to rtol * |r0|, in log scale.
    const double decades = -std::log10(config_.real("solver.rtol"));
    progress_ = std::make_unique<Progress>(context_.comm, "solve", 1000);
    // The context a tuner may learn from across runs (with solver.omega.state): the diagonal shift,
    // i.e. the reaction coefficient c (its mean when it varies in space).
    solver_ = make_solver(config_, context_.comm, "solver", [this, decades](int iteration, double norm) {
      if (iteration == 0) r0_ = norm;
      const double done = r0_ > 0 && norm > 0 ? std::log10(r0_ / norm) / decades : 0.0;
      char note[64];
      std::snprintf(note, sizeof note, "iteration %d, |r|/|r0| %.2e", iteration, r0_ > 0 ? norm / r0_ : 0.0);
      progress_->update(std::lround(1000 * std::clamp(done, 0.0, 1.0)), note);
    }, {"shift"});
    if (const auto warning = multigrid_grid_warning(config_, *grid_)) print_line(context_.comm, *warning);
    solver_.set_context("shift", spec_.c.is_constant() ? spec_.c.value()
                                                       : sample(grid_, "c", spec_.c).sum() / grid_->global_cells());
    try {
      solver_.solver->set_operator(problem_->op());
    } catch (const PetscCallError& e) {
      fail_petsc_settings(config_, "solver", e);
    }
    assemble_seconds_ = std::chrono::duration<double>(clock::now() - start).count();
  }

  void solve() {
    print_line(context_.comm, "solving " + grid_->describe() + " with " + solver_.solver->name() + " ...");
    report_ = solver_.solver->solve(problem_->rhs(), problem_->solution());
    progress_->finish(report_.converged ? "converged" : "stopped");
    problem_->op().zero_solid(problem_->solution());
    if (!problem_->solution().all_finite())
      throw NumericalError("the solution has NaN or infinite values; " + report_.summary());
    check_converged(config_, report_);
    solver_.finish(context_.comm);  // the tuner's state, when solver.omega.state names a file
  }

  RunResult output_results() {
    RunResult r;
    const std::unique_ptr<FieldWriter> writer = make_field_writer(config_, context_, grid_, solid_.get());
    writer->add_static(problem_->coefficient_k());
    writer->write_step(0.0, {&problem_->solution(), &problem_->rhs()});
    writer->close();  // a write error shows here, as an error, not in a destructor
    r.outputs = written_files(*writer, config_);

    r.table = {{"grid", grid_->describe()},
               {"obstacle cells", solid_ ? std::to_string(solid_->solid_cells()) : "0"},
               {"solver", report_.summary()},
               {"setup (grid, obstacles)", format_number("%.3f s", setup_seconds_)},
               {"assemble", format_number("%.3f s", assemble_seconds_)},
               {"solve", format_number("%.3f s", report_.seconds)},
               {"max |u|", format_number("%.6g", problem_->solution().norm_max())}};
    r.results["grid"] = {{"dim", grid_->dim()}, {"cells", grid_->global_cells()}, {"ranks", grid_->ranks()}};
    r.results["solid_cells"] = solid_ ? solid_->solid_cells() : 0;
    r.results["solve"] = {{"solver", report_.solver},
                          {"converged", report_.converged},
                          {"reason", report_.reason},
                          {"iterations", report_.iterations},
                          {"initial_residual", report_.initial_residual},
                          {"final_residual", report_.final_residual},
                          {"seconds", report_.seconds},
                          {"setup_seconds", report_.setup_seconds},
                          {"omega", report_.omega}};
    if (solver_.tuner) {
      r.results["tuner"] = tuner_summary(solver_);
      r.table.insert(r.table.begin() + 3, {"omega tuner", solver_.tuner_line()});
    } else if (report_.omega > 0) {
      r.table.insert(r.table.begin() + 3, {"omega", format_number("%.4g (fixed)", report_.omega)});
    }
    r.results["timings"] = {{"setup", setup_seconds_}, {"assemble", assemble_seconds_}, {"solve", report_.seconds}};
    r.results["max_abs_u"] = problem_->solution().norm_max();
    if (const Compatibility& c = problem_->compatibility(); c.singular)
      r.results["compatibility"] = {{"mean_removed", c.mean_removed}, {"mean_abs_rhs", c.mean_abs},
                                    {"relative", c.relative}, {"warned", c.significant()}};
    if (exact_) {
      const ErrorNorms e = problem_->error(*exact_);
      r.results["error"] = {{"l2", e.l2}, {"max", e.max}};
      r.table.push_back({"error vs exact", format_number("L2 %.3e", e.l2) + format_number(", max %.3e", e.max)});
    }
    return r;
  }

  const Config& config_;
  const RunContext& context_;
  PoissonSpec spec_;
  std::shared_ptr<const Grid> grid_;
  std::shared_ptr<SolidMask> solid_;
  std::unique_ptr<PoissonProblem> problem_;
  SolverSetup solver_;
  std::unique_ptr<Expression> exact_;
  SolveReport report_;
  std::unique_ptr<Progress> progress_;
  double r0_ = 0.0;
  double setup_seconds_ = 0.0, assemble_seconds_ = 0.0;
};

}  // namespace

void register_poisson_app() {
  AppRegistry::instance().add({"poisson", "Variable-coefficient Poisson problem with obstacles, one solve",
                               poisson_schema,
                               [](const Config& c, const RunContext& ctx) { return PoissonApp(c, ctx).run(); }});
}

}  // namespace fluxion::apps
