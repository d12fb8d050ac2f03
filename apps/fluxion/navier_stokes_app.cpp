// App `navier_stokes`: incompressible flow on a MAC grid (cavity, channel with obstacles, smoke).
//
// Sample runs:
//   fluxion run apps/configs/cavity_re100.yaml
//   fluxion run apps/configs/cylinder_dfg_2d2.yaml
//   fluxion run                                  (the default: a 2D smoke plume around a wing)
//   mpirun -n 2 fluxion run apps/configs/smoke3d.yaml
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>

#include "app.hpp"
#include "fluxion/core/error.hpp"
#include "fluxion/core/log.hpp"
#include "fluxion/io/field_writer.hpp"
#include "fluxion/pde/navier_stokes.hpp"
#include "setup.hpp"

namespace fluxion::apps {

namespace {

constexpr double kMaxSteps = 1e8;
constexpr const char* kComponents[] = {"u", "v", "w"};

Schema navier_stokes_schema() {
  Schema s;
  declare_grid(s, {64, 64}, {0.0, 0.0}, {1.0, 1.0});
  s.section("boundary",
            "Flow conditions per face (z faces only in 3D): wall (no-slip; u, v, w: the wall's tangential "
            "velocity, e.g. a moving lid), slip (no penetration, no shear), inflow (u, v, w: the velocity), "
            "outflow (pressure 0, zero velocity gradient), periodic");
  for (const char* face : kFaceNames) {
    const std::string key = std::string("boundary.") + face;
    s.string(key + ".type", "wall", "wall, slip, inflow, outflow or periodic",
             {"wall", "slip", "inflow", "outflow", "periodic"});
    for (const char* c : kComponents)
      s.expression(key + "." + c, "0", std::string("Velocity component ") + c + " of (x, y, z, t): wall and inflow");
  }
  s.section("fluid", "The fluid");
  s.real("fluid.nu", 0.01, "Kinematic viscosity", Range::at_least(0))
      .real("fluid.density", 1.0, "Density (scales the pressure and the forces)", Range::greater_than(0));
  s.section("initial", "Initial velocity (projected onto divergence-free fields first)");
  for (const char* c : kComponents) s.expression(std::string("initial.") + c, "0", std::string("Initial ") + c);
  s.section("body_force", "A force per unit mass f(x, y, z, t)");
  for (const char* c : kComponents) s.expression(std::string("body_force.") + c, "0", std::string("Component ") + c);
  s.string("viscosity.scheme", "explicit",
           "explicit (the step obeys dt nu sum 2/h^2 <= 1) or implicit (backward Euler: one solve per velocity "
           "component with viscosity.solver, no viscous step limit)",
           {"explicit", "implicit"});
  // The viscous systems I/dt - nu Lap are well conditioned: SSOR-CG to 1e-6 takes ~5 iterations
  // (128^2 cavity), a multigrid setup per step would cost more than the solve.
  declare_solver(s, "viscosity.solver", {}, {.type = "ssor_cg", .rtol = 1e-6});
  s.string("advection.scheme", "maccormack",
           "maccormack (semi-Lagrangian, second order, limited), semi_lagrangian (first order) or upwind2 "
           "(finite volumes, second-order upwind, Heun; keep time.cfl <= 0.5)",
           {"maccormack", "semi_lagrangian", "upwind2"});
  s.section("time", "Time stepping: adaptive to the CFL number and the viscous limit, or fixed");
  s.real("time.end", 1.0, "Final time", Range::greater_than(0))
      .real("time.start", 0.0, "Initial time")
      .real("time.cfl", 0.5, "Target CFL number dt sum_a max|u_a| / h_a of the adaptive step",
            Range::greater_than(0).and_at_most(1))
      .real("time.dt", 0.0, "Fixed step (0: adaptive); refused above the CFL or viscous limit", Range::at_least(0))
      .real("time.max_dt", 0.0, "Largest adaptive step (0: no bound but the output interval)", Range::at_least(0))
      .integer("time.max_steps", 10000000, "Stop after this many steps", Range::between(1, kMaxSteps))
      .real("time.steady_tolerance", 0.0,
            "Stop when max|u^{n+1} - u^n| / (dt max|u|) falls below this (0: run to time.end)", Range::at_least(0));
  s.section("smoke", "Passive smoke: density and temperature, with buoyancy");
  s.boolean("smoke.enabled", false, "Advect smoke density and temperature")
      .expression("smoke.source", "0", "Where > 0 (of x, y, z, t), density and temperature are set to their source values")
      .real("smoke.density", 1.0, "Source density")
      .real("smoke.temperature", 1.0, "Source temperature")
      .real("smoke.ambient_temperature", 0.0, "Ambient temperature (also at inflow faces)")
      .real("smoke.density_weight", 0.0, "alpha in f = (alpha rho - beta (T - T_ambient)) g")
      .real("smoke.buoyancy", 1.0, "beta in f = (alpha rho - beta (T - T_ambient)) g")
      .real_list("smoke.gravity", std::vector<double>{}, "g (default: -y in 2D, -z in 3D, length 1)",
                 Length::between(0, 3));
  s.section("forces", "Force coefficients on the obstacles: c = 2 F / (rho U^2 A)");
  s.real("forces.reference_velocity", 1.0, "U", Range::greater_than(0))
      .real("forces.reference_area", 1.0, "A (a length in 2D: forces are per unit depth)", Range::greater_than(0));
  s.real("output.interval", 0.1, "Write the fields every this much simulated time (and at the start and the last step)",
         Range::greater_than(0));
  declare_obstacles(s);
  declare_solver(s, "solver", {"dt", "cfl"});
  return s;
}

class NavierStokesApp {
 public:
  NavierStokesApp(const Config& config, const RunContext& context) : config_(config), context_(context) {}

  RunResult run() {
    make_domain_and_problem();
    setup_output();
    time_loop();
    return output_results();
  }

 private:
  using clock = std::chrono::steady_clock;

  Expression expression(const std::string& key) const { return Expression(config_.expression(key), config_.label(key)); }

  void read_spec(int dim) {
    for (int f = 0; f < 2 * dim; ++f) {
      const std::string key = std::string("boundary.") + kFaceNames[f];
      FlowFaceBc& bc = spec_.boundary[f];
      bc.type = parse_flow_bc(config_.string(key + ".type"));
      const bool reads_velocity = bc.type == FlowBcType::Wall || bc.type == FlowBcType::Inflow;
      for (int a = 0; a < 3; ++a) {
        const std::string vkey = key + "." + kComponents[a];
        if (a >= dim && config_.is_set(vkey)) config_.fail(vkey, "is given, but the grid is 2D");
        if (!reads_velocity && config_.is_set(vkey))
          config_.fail(vkey, std::string("is given, but a face of type ") + to_string(bc.type) +
                                 " takes no velocity (only wall and inflow do)");
        if (a < dim) bc.velocity[a] = expression(vkey);
      }
    }
    for (int a = 0; a < 3; ++a) {
      for (const std::string section : {"initial.", "body_force."}) {
        const std::string key = section + kComponents[a];
        if (a >= dim && config_.is_set(key)) config_.fail(key, "is given, but the grid is 2D");
      }
      if (a < dim) {
        spec_.initial[a] = expression(std::string("initial.") + kComponents[a]);
        spec_.body_force[a] = expression(std::string("body_force.") + kComponents[a]);
      }
    }
    spec_.nu = config_.real("fluid.nu");
    spec_.density = config_.real("fluid.density");
    spec_.advection = parse_advection_scheme(config_.string("advection.scheme"));
    spec_.implicit_viscosity = config_.string("viscosity.scheme") == "implicit";
    if (!spec_.implicit_viscosity && config_.is_set("viscosity.solver"))
      config_.fail("viscosity.solver", "is given, but viscosity.scheme is explicit (no viscous solve)");
    spec_.cfl = config_.real("time.cfl");
    spec_.dt = config_.real("time.dt");
    spec_.max_dt = config_.real("time.max_dt");
    spec_.t0 = config_.real("time.start");
    if (!(config_.real("time.end") > spec_.t0))
      config_.fail("time.end", "must be greater than time.start (" + format_number("%g", spec_.t0) + ")");
    if (config_.is_set("time.cfl") && spec_.dt > 0.0)
      config_.fail("time.cfl", "is given, but time.dt fixes the step (the CFL number only sets an adaptive step)");
    if (config_.is_set("time.max_dt") && spec_.dt > 0.0)
      config_.fail("time.max_dt", "is given, but time.dt fixes the step");

    SmokeSpec& smoke = spec_.smoke;
    smoke.enabled = config_.boolean("smoke.enabled");
    for (const char* key : {"smoke.source", "smoke.density", "smoke.temperature", "smoke.ambient_temperature",
                            "smoke.density_weight", "smoke.buoyancy", "smoke.gravity"})
      if (!smoke.enabled && config_.is_set(key)) config_.fail(key, "is given, but smoke.enabled is false");
    smoke.source = expression("smoke.source");
    smoke.density = config_.real("smoke.density");
    smoke.temperature = config_.real("smoke.temperature");
    smoke.ambient_temperature = config_.real("smoke.ambient_temperature");
    smoke.density_weight = config_.real("smoke.density_weight");
    smoke.buoyancy = config_.real("smoke.buoyancy");
    const std::vector<double> g = config_.reals("smoke.gravity");
    smoke.gravity = {0.0, 0.0, 0.0};
    if (g.empty()) {
      smoke.gravity[dim - 1] = -1.0;
    } else {
      if (static_cast<int>(g.size()) != dim)
        config_.fail("smoke.gravity", "has " + std::to_string(g.size()) + " entries; expected " + std::to_string(dim));
      for (int a = 0; a < dim; ++a) smoke.gravity[a] = g[a];
    }
  }

  void make_domain_and_problem() {
    const auto start = clock::now();
    const int dim = grid_dimension(config_);
    read_spec(dim);
    BoundaryConditions periodicity;
    for (int f = 0; f < 2 * dim; ++f) {
      const bool periodic = spec_.boundary[f].type == FlowBcType::Periodic;
      periodicity[static_cast<Face>(f)] = {periodic ? BcType::Periodic : BcType::Neumann, Expression::constant(0)};
    }
    // A periodic face paired with another type: NavierStokes refuses it, naming the key (below).
    grid_ = make_grid(config_, context_.comm, periodicity);
    solid_ = make_obstacles(config_, grid_, context_.config_dir);
    solver_ = make_solver(config_, context_.comm, "solver", {}, {"dt", "cfl"});
    if (const auto warning = multigrid_grid_warning(config_, *grid_)) print_line(context_.comm, *warning);
    try {
      flow_ = std::make_unique<NavierStokes>(grid_, spec_, solid_, *solver_.solver);
    } catch (const PetscCallError& e) {
      fail_petsc_settings(config_, "solver", e);
    } catch (const ConfigError& e) {
      // The flow names the key it refuses ("boundary.y_upper.v: ..."); say where it was given.
      const std::string message = e.what();
      const auto colon = message.find(": ");
      const std::string key = colon == std::string::npos ? "" : message.substr(0, colon);
      const std::vector<std::string> keys = navier_stokes_schema().keys();
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) config_.fail(key, message.substr(colon + 2));
      throw;
    }
    check_converged(config_, flow_->initial_projection());
    if (spec_.implicit_viscosity) {
      std::vector<LinearSolver*> solvers;
      for (int a = 0; a < dim; ++a) {
        viscous_solvers_.push_back(make_solver(config_, context_.comm, "viscosity.solver"));
        solvers.push_back(viscous_solvers_.back().solver.get());
      }
      flow_->set_viscosity_solvers(solvers);
    }
    if (spec_.dt > 0.0) {
      const double cfl_limit = flow_->cfl_limit_dt(), viscous_limit = flow_->diffusion_limit_dt();
      if (spec_.dt > cfl_limit)
        config_.fail("time.dt", "is above the CFL limit " + format_number("%.4g", cfl_limit) +
                                    " of the initial velocity (the semi-Lagrangian step needs CFL <= 1)");
      if (spec_.dt > viscous_limit)
        config_.fail("time.dt", "is above the explicit viscosity limit 1 / (nu sum 2/h^2) = " +
                                    format_number("%.4g", viscous_limit));
    }
    setup_seconds_ = std::chrono::duration<double>(clock::now() - start).count();
  }

  void setup_output() {
    writer_ = make_field_writer(config_, context_, grid_, solid_.get());
    const int dim = grid_->dim();
    velocity_ = std::make_unique<Field>(grid_, "velocity", dim);
    vorticity_ = std::make_unique<Field>(grid_, dim == 2 ? "vorticity" : "vorticity_magnitude");
    if (spec_.smoke.enabled) {
      density_ = std::make_unique<Field>(grid_, "density");
      temperature_ = std::make_unique<Field>(grid_, "temperature");
    }
    write();
  }

  void write() {
    flow_->cell_velocity(*velocity_);
    flow_->vorticity(*vorticity_);
    std::vector<const Field*> fields{velocity_.get(), &flow_->pressure(), vorticity_.get()};
    if (spec_.smoke.enabled) {
      NavierStokes::to_field(*flow_->density(), *density_);
      NavierStokes::to_field(*flow_->temperature(), *temperature_);
      fields.push_back(density_.get());
      fields.push_back(temperature_.get());
    }
    writer_->write_step(flow_->time(), fields);
  }

  void time_loop() {
    const double t_end = config_.real("time.end");
    const double interval = config_.real("output.interval");
    const long max_steps = config_.integer("time.max_steps");
    const double steady = config_.real("time.steady_tolerance");
    const double t0 = flow_->time();
    print_line(context_.comm, "flow on " + grid_->describe() + ", nu " + format_number("%g", spec_.nu) + ", " +
                                  to_string(spec_.advection) + " advection, to t = " + format_number("%g", t_end) +
                                  "; pressure solver " + solver_.solver->name() + " ...");
    constexpr long kProgressUnits = 1000;
    Progress progress(context_.comm, "of the time", kProgressUnits);
    const auto start = clock::now();
    const std::clock_t cpu_start = std::clock();
    long written = 0;
    bool last_written = true;  // the state the loop starts from was written by the caller
    while (flow_->time() < t_end - 1e-12 * std::max(1.0, std::abs(t_end))) {
      if (static_cast<long>(reports_.size()) >= max_steps) {
        stop_reason_ = "time.max_steps reached";
        if (!last_written) write();  // a run cut short still ends with its last state on disk
        break;
      }
      const double next_output = std::min(t_end, t0 + static_cast<double>(written + 1) * interval);
      // What a tuned SOR solver sees before each pressure solve: this step's dt or CFL number.
      const double dt = flow_->step_size(next_output - flow_->time());
      solver_.set_context("dt", dt);
      solver_.set_context("cfl", dt / flow_->cfl_limit_dt());
      FlowStepReport r;
      try {
        r = flow_->step(*solver_.solver, next_output - flow_->time());
      } catch (const NumericalError& e) {
        write_failure_note(e.what());
        throw;
      }
      reports_.push_back(r);
      if (!r.pressure.converged) ++nonconverged_;
      check_converged(config_, r.pressure);
      if (spec_.implicit_viscosity)
        for (int a = 0; a < grid_->dim(); ++a) {
          if (!r.viscosity[a].converged) ++nonconverged_;
          check_converged(config_, r.viscosity[a], "viscosity.solver");
        }
      max_divergence_ = std::max(max_divergence_, r.divergence);
      const bool at_output = flow_->time() >= next_output - 1e-12 * std::max(1.0, std::abs(next_output));
      const double umax = max_velocity();
      const bool is_steady = steady > 0.0 && r.change <= steady * std::max(umax, 1e-300);
      last_written = at_output || is_steady;
      if (last_written) {
        write();
        written = static_cast<long>(std::floor((flow_->time() - t0) / interval + 1e-9));
      }
      char note[128];
      std::snprintf(note, sizeof note, "t = %.4g, dt %.3g, %d its, |div| %.1e", r.time, r.dt,
                    r.pressure.iterations, r.divergence);
      progress.update(static_cast<long>(kProgressUnits * (flow_->time() - t0) / (t_end - t0)), note);
      if (is_steady) {
        stop_reason_ = "steady: max|du|/(dt max|u|) = " + format_number("%.2e", r.change / std::max(umax, 1e-300)) +
                       " <= time.steady_tolerance";
        steady_ = true;
        break;
      }
    }
    loop_seconds_ = std::chrono::duration<double>(clock::now() - start).count();
    cpu_seconds_ = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    progress.finish(stop_reason_.empty() ? "done" : stop_reason_);
    solver_.finish(context_.comm);
  }

  double max_velocity() const {
    double m = 0.0;
    for (int a = 0; a < grid_->dim(); ++a) m = std::max(m, flow_->velocity(a).norm_max());
    return m;
  }

  // Before a numerical failure propagates: the fields written so far stay (OutputFolder keeps
  // them under failed/); nothing else to do here but say which step it was.
  void write_failure_note(const std::string& what) const {
    print_line(context_.comm, "navier_stokes: stopping at step " + std::to_string(reports_.size() + 1) + ": " + what);
  }

  RunResult output_results() {
    RunResult r;
    writer_->close();
    r.outputs = written_files(*writer_, config_);
    const int dim = grid_->dim();
    const double rho = spec_.density, U = config_.real("forces.reference_velocity");
    const double area = config_.real("forces.reference_area");
    const double coefficient = 2.0 / (rho * U * U * area);

    nlohmann::json time = nlohmann::json::array(), dt = nlohmann::json::array(), cfl = nlohmann::json::array(),
                   iterations = nlohmann::json::array(), divergence = nlohmann::json::array(),
                   change = nlohmann::json::array(), seconds = nlohmann::json::array(),
                   drag = nlohmann::json::array(), lift = nlohmann::json::array(),
                   viscous_iterations = nlohmann::json::array();
    long total_iterations = 0;
    double solve_seconds = 0.0, viscous_seconds = 0.0;
    for (const FlowStepReport& s : reports_) {
      time.push_back(s.time);
      dt.push_back(s.dt);
      cfl.push_back(s.cfl);
      iterations.push_back(s.pressure.iterations);
      divergence.push_back(s.divergence);
      change.push_back(s.change);
      seconds.push_back(s.pressure.seconds);
      total_iterations += s.pressure.iterations;
      solve_seconds += s.pressure.seconds;
      if (spec_.implicit_viscosity) {
        int its = 0;
        for (int a = 0; a < dim; ++a) {
          its += s.viscosity[a].iterations;
          viscous_seconds += s.viscosity[a].seconds;
        }
        viscous_iterations.push_back(its);
      }
      if (solid_) {
        drag.push_back(coefficient * s.force[0]);
        lift.push_back(coefficient * s.force[1]);
      }
    }
    const double steps = static_cast<double>(reports_.size());
    const double mean_iterations = reports_.empty() ? 0.0 : static_cast<double>(total_iterations) / steps;
    r.table = {{"grid", grid_->describe()},
               {"obstacle cells", solid_ ? std::to_string(solid_->solid_cells()) : "0"},
               {"time stepping", std::to_string(reports_.size()) + " steps to t = " + format_number("%.6g", flow_->time()) +
                                     (stop_reason_.empty() ? "" : " (" + stop_reason_ + ")")},
               {"pressure solver", solver_.solver->name()},
               {"mean iterations per step", format_number("%.2f", mean_iterations)},
               {"max |div u| after projection", format_number("%.2e", max_divergence_)},
               {"time in steps", format_number("%.3f s", loop_seconds_)},
               {"of which pressure solves", format_number("%.3f s", solve_seconds)},
               {"of which viscous solves", spec_.implicit_viscosity ? format_number("%.3f s", viscous_seconds) : "none (explicit)"},
               {"steps per second", format_number("%.2f", loop_seconds_ > 0 ? steps / loop_seconds_ : 0.0)},
               {"non-converged solves", std::to_string(nonconverged_)},
               {"written steps", std::to_string(writer_->steps())},
               {"kinetic energy at the end", format_number("%.6g", flow_->kinetic_energy())}};
    if (solid_ && !reports_.empty()) {
      const auto& f = reports_.back().force;
      r.table.push_back({"drag, lift coefficients at the end",
                         format_number("%.4f", coefficient * f[0]) + ", " + format_number("%.4f", coefficient * f[1])});
    }
    if (solver_.tuner) {
      r.results["tuner"] = tuner_summary(solver_);
      r.table.insert(r.table.begin() + 4, {"omega tuner", solver_.tuner_line()});
    }
    r.results["grid"] = {{"dim", dim}, {"cells", grid_->global_cells()}, {"ranks", grid_->ranks()}};
    r.results["solid_cells"] = solid_ ? solid_->solid_cells() : 0;
    r.results["advection"] = to_string(spec_.advection);
    r.results["initial_projection"] = {{"iterations", flow_->initial_projection().iterations},
                                       {"converged", flow_->initial_projection().converged}};
    r.results["steps"] = {{"time", time},           {"dt", dt},         {"cfl", cfl},
                          {"iterations", iterations}, {"divergence", divergence}, {"change", change},
                          {"solve_seconds", seconds}};
    if (spec_.implicit_viscosity) r.results["steps"]["viscous_iterations"] = viscous_iterations;
    if (solid_) {
      r.results["steps"]["drag_coefficient"] = drag;
      r.results["steps"]["lift_coefficient"] = lift;
    }
    r.results["totals"] = {{"steps", reports_.size()},
                           {"final_time", flow_->time()},
                           {"steady", steady_},
                           {"stop_reason", stop_reason_},
                           {"iterations", total_iterations},
                           {"mean_iterations", mean_iterations},
                           {"max_divergence", max_divergence_},
                           {"nonconverged", nonconverged_},
                           {"written_steps", writer_->steps()},
                           {"kinetic_energy", flow_->kinetic_energy()}};
    r.results["solver"] = solver_.solver->name();
    r.results["timings"] = {{"setup", setup_seconds_},
                            {"steps", loop_seconds_},
                            {"pressure_solves", solve_seconds},
                            {"viscous_solves", viscous_seconds},
                            {"cpu_steps", cpu_seconds_}};
    return r;
  }

  const Config& config_;
  const RunContext& context_;
  NavierStokesSpec spec_;
  std::shared_ptr<const Grid> grid_;
  std::shared_ptr<SolidMask> solid_;
  SolverSetup solver_;
  std::vector<SolverSetup> viscous_solvers_;  // one per velocity component (implicit viscosity)
  std::unique_ptr<NavierStokes> flow_;
  std::unique_ptr<FieldWriter> writer_;
  std::unique_ptr<Field> velocity_, vorticity_, density_, temperature_;
  std::vector<FlowStepReport> reports_;
  std::string stop_reason_;
  bool steady_ = false;
  int nonconverged_ = 0;
  double max_divergence_ = 0.0;
  double setup_seconds_ = 0.0, loop_seconds_ = 0.0, cpu_seconds_ = 0.0;
};

}  // namespace

void register_navier_stokes_app() {
  AppRegistry::instance().add({"navier_stokes",
                               "Incompressible Navier-Stokes on a MAC grid by projection: cavities, channels with "
                               "obstacles, smoke plumes",
                               navier_stokes_schema,
                               [](const Config& c, const RunContext& ctx) { return NavierStokesApp(c, ctx).run(); }});
}

}  // namespace fluxion::apps
