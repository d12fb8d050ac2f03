// App `heat`: du/dt = div(kappa(t) k grad u) + f(x, t) on a 2D/3D box with obstacles, time-stepped.
//
// Sample runs:
//   fluxion run apps/configs/heat.yaml
//   fluxion run apps/configs/heat.yaml --set time.scheme=backward_euler --set grid.cells=[128,128]
//   mpirun -n 2 fluxion run apps/configs/heat3d.yaml
#include <chrono>
#include <cmath>
#include <cstdio>

#include "app.hpp"
#include "fluxion/core/error.hpp"
#include "fluxion/core/log.hpp"
#include "fluxion/io/field_writer.hpp"
#include "fluxion/pde/heat.hpp"
#include "setup.hpp"

namespace fluxion::apps {

namespace {

// Every step keeps its report in memory and a line of per-step arrays in summary.json (~200 bytes
// each, ~2 GB at this bound), so a step count beyond it is a typo rather than a plan.
constexpr double kMaxSteps = 1e7;

Schema heat_schema() {
  Schema s;
  declare_grid(s, {64, 64}, {0.0, 0.0}, {1.0, 1.0});
  s.section("problem", "du/dt = div(kappa(t) k grad u) + source, u = initial at time.start")
      .expression("problem.k", "1", "Diffusion coefficient k(x, y, z) >= 0")
      .expression("problem.kappa", "1",
                  "Time-varying diffusivity kappa(t) >= 0, a formula of t only; it multiplies k (and the Neumann "
                  "fluxes, which are given per unit kappa)")
      .expression("problem.source", "0", "Source f(x, y, z, t), e.g. a bump whose centre moves with t")
      .expression("problem.initial", "0", "Initial condition u(x, y, z) at time.start");
  s.section("time", "Time stepping")
      .real("time.dt", 1e-3, "Time step", Range::greater_than(0))
      .integer("time.steps", 100, "Number of steps", Range::between(1, kMaxSteps))
      .real("time.start", 0.0, "Start time t0")
      .string("time.scheme", "crank_nicolson",
              "crank_nicolson (theta = 1/2, second order) or backward_euler (theta = 1, first order, damps "
              "the fastest modes)",
              {"crank_nicolson", "backward_euler"});
  s.integer("output.every", 10, "Write u every this many steps (the initial and the last step are always written)",
            Range::at_least(1));
  declare_boundary(s, "dirichlet");
  declare_obstacles(s);
  declare_solver(s, "solver", {"kappa_dt"});
  return s;
}

class HeatApp {
 public:
  HeatApp(const Config& config, const RunContext& context) : config_(config), context_(context) {}

  RunResult run() {
    make_grid_and_obstacles();
    setup_system();
    setup_output();
    time_loop();
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

  Expression expression(const std::string& key) const {
    return Expression(config_.expression(key), config_.label(key));
  }

  void setup_system() {
    const auto start = clock::now();
    spec_.k = expression("problem.k");
    spec_.kappa = expression("problem.kappa");
    spec_.source = expression("problem.source");
    spec_.initial = expression("problem.initial");
    spec_.scheme = parse_time_scheme(config_.string("time.scheme"));
    spec_.dt = config_.real("time.dt");
    spec_.t0 = config_.real("time.start");
    steps_ = config_.integer("time.steps");
    check_kappa();
    try {
      problem_ = std::make_unique<HeatProblem>(grid_, spec_, solid_);
    } catch (const NumericalError& e) {
      throw ConfigError(e.what());  // names the key (k, initial, source or kappa), its line and the point
    }
    // The heat problem hands the solver kappa(t_{n+1}) * dt before each solve (context kappa_dt).
    solver_ = make_solver(config_, context_.comm, "solver", {}, {"kappa_dt"});
    if (const auto warning = multigrid_grid_warning(config_, *grid_)) print_line(context_.comm, *warning);
    assemble_seconds_ = std::chrono::duration<double>(clock::now() - start).count();
  }

  // kappa is a formula of t alone, finite and >= 0 at the start; later values are checked each step.
  void check_kappa() const {
    const double t0 = spec_.t0;
    const double a = spec_.kappa(0.0, 0.0, 0.0, t0), b = spec_.kappa(0.37, 0.71, 0.53, t0);
    if (a != b && !(std::isnan(a) && std::isnan(b)))
      config_.fail("problem.kappa", "depends on x, y or z; expected a formula of t only");
    if (!(a >= 0.0) || !std::isfinite(a))
      config_.fail("problem.kappa", "is " + format_number("%g", a) + " at t = " + format_number("%g", t0) + "; expected >= 0");
  }

  void setup_output() {
    writer_ = make_field_writer(config_, context_, grid_, solid_.get());
    writer_->add_static(problem_->coefficient_k());
    writer_->write_step(problem_->time(), {&problem_->solution()});
  }

  void time_loop() {
    const long every = config_.integer("output.every");
    print_line(context_.comm, "stepping " + grid_->describe() + " with " + to_string(spec_.scheme) + ", dt " +
                                  format_number("%g", spec_.dt) + ", " + std::to_string(steps_) + " steps; solver " +
                                  solver_.solver->name() + " ...");
    Progress progress(context_.comm, "steps", steps_);
    for (long n = 1; n <= steps_; ++n) {
      try {
        reports_.push_back(problem_->step(*solver_.solver));
      } catch (const PetscCallError& e) {
        if (n == 1) fail_petsc_settings(config_, "solver", e);
        throw;
      }
      const HeatStepReport& r = reports_.back();
      if (!r.solve.converged) ++nonconverged_;
      check_converged(config_, r.solve);
      if (n % every == 0 || n == steps_) writer_->write_step(r.time, {&problem_->solution()});
      char note[96];
      std::snprintf(note, sizeof note, "t = %.4g, %d iterations", r.time, r.solve.iterations);
      progress.update(n, note);
    }
    progress.finish(nonconverged_ ? std::to_string(nonconverged_) + " solves did not converge" : "done");
    solver_.finish(context_.comm);  // the tuner's state, when solver.omega.state names a file
  }

  RunResult output_results() {
    RunResult r;
    writer_->close();  // a write error shows here, as an error, not in a destructor
    r.outputs = written_files(*writer_, config_);

    nlohmann::json time = nlohmann::json::array(), kappa_dt = nlohmann::json::array(),
                   iterations = nlohmann::json::array(), omega = nlohmann::json::array(),
                   converged = nlohmann::json::array(), seconds = nlohmann::json::array();
    long total_iterations = 0;
    double solve_seconds = 0.0;
    int rebuilds = 0;
    for (const HeatStepReport& s : reports_) {
      time.push_back(s.time);
      kappa_dt.push_back(s.kappa_dt);
      iterations.push_back(s.solve.iterations);
      omega.push_back(s.solve.omega);
      converged.push_back(s.solve.converged);
      seconds.push_back(s.solve.seconds);
      total_iterations += s.solve.iterations;
      solve_seconds += s.solve.seconds;
      rebuilds += s.rebuilt ? 1 : 0;
    }
    const double mean_iterations = reports_.empty() ? 0.0 : double(total_iterations) / double(reports_.size());
    const double max_u = problem_->solution().norm_max();

    r.table = {{"grid", grid_->describe()},
               {"obstacle cells", solid_ ? std::to_string(solid_->solid_cells()) : "0"},
               {"time stepping", to_string(spec_.scheme) + ", dt " + format_number("%g", spec_.dt) + ", " +
                                     std::to_string(reports_.size()) + " steps to t = " +
                                     format_number("%.6g", problem_->time())},
               {"solver", solver_.solver->name()},
               {"total iterations", std::to_string(total_iterations)},
               {"mean iterations per step", format_number("%.2f", mean_iterations)},
               {"total solve time", format_number("%.3f s", solve_seconds)},
               {"non-converged solves", std::to_string(nonconverged_)},
               {"setup (grid, obstacles)", format_number("%.3f s", setup_seconds_)},
               {"written steps", std::to_string(writer_->steps())},
               {"max |u| at the end", format_number("%.6g", max_u)}};
    r.results["grid"] = {{"dim", grid_->dim()}, {"cells", grid_->global_cells()}, {"ranks", grid_->ranks()}};
    r.results["solid_cells"] = solid_ ? solid_->solid_cells() : 0;
    r.results["scheme"] = to_string(spec_.scheme);
    r.results["dt"] = spec_.dt;
    r.results["steps"] = {{"time", time},         {"kappa_dt", kappa_dt},   {"iterations", iterations},
                          {"omega", omega},       {"converged", converged}, {"seconds", seconds}};
    r.results["totals"] = {{"steps", reports_.size()},
                           {"final_time", problem_->time()},
                           {"iterations", total_iterations},
                           {"mean_iterations", mean_iterations},
                           {"solve_seconds", solve_seconds},
                           {"nonconverged", nonconverged_},
                           {"operator_rebuilds", rebuilds},
                           {"written_steps", writer_->steps()}};
    r.results["solver"] = solver_.solver->name();
    if (solver_.tuner) {
      r.results["tuner"] = tuner_summary(solver_);
      r.table.insert(r.table.begin() + 4, {"omega tuner", solver_.tuner_line()});
    }
    r.results["timings"] = {{"setup", setup_seconds_}, {"assemble", assemble_seconds_}, {"solve", solve_seconds}};
    r.results["max_abs_u"] = max_u;
    return r;
  }

  const Config& config_;
  const RunContext& context_;
  HeatSpec spec_;
  long steps_ = 0;
  std::shared_ptr<const Grid> grid_;
  std::shared_ptr<SolidMask> solid_;
  std::unique_ptr<HeatProblem> problem_;
  SolverSetup solver_;
  std::unique_ptr<FieldWriter> writer_;
  std::vector<HeatStepReport> reports_;
  int nonconverged_ = 0;
  double setup_seconds_ = 0.0, assemble_seconds_ = 0.0;
};

}  // namespace

void register_heat_app() {
  AppRegistry::instance().add({"heat",
                               "Heat equation with time-varying diffusivity, moving source and obstacles; "
                               "backward Euler or Crank-Nicolson",
                               heat_schema,
                               [](const Config& c, const RunContext& ctx) { return HeatApp(c, ctx).run(); }});
}

}  // namespace fluxion::apps
