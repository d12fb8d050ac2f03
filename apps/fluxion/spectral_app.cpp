// Apps `spectral_ns2d` (one periodic vorticity run) and `ns2d_dataset` (seeded trajectories for the learn layer).
//
// Sample runs:
//   fluxion run apps/configs/spectral_ns2d.yaml
//   mpirun -n 2 fluxion run apps/configs/spectral_ns2d.yaml --set 'grid.cells=[1024,1024]'
//   fluxion run apps/configs/spectral_taylor_green.yaml
//   mpirun -n 2 fluxion run apps/configs/ns2d_dataset.yaml     (docs/datasets.md: the files' layout)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>

#include "app.hpp"
#include "dataset_output.hpp"
#include "fluxion/core/error.hpp"
#include "fluxion/core/expression.hpp"
#include "fluxion/core/log.hpp"
#include "fluxion/core/petsc_session.hpp"
#include "fluxion/core/version.hpp"
#include "fluxion/io/field_writer.hpp"
#include "fluxion/pde/spectral_ns2d.hpp"
#include "setup.hpp"

namespace fluxion::apps {

namespace {

using clock = std::chrono::steady_clock;


// The keys both apps share: grid, viscosity, drag, forcing, initial field, time stepping.
void declare_flow(Schema& s, long cells, const std::string& default_forcing, std::vector<std::string> initial_types,
                  const std::string& default_initial) {
  s.section("grid", "The periodic box [0, L)^2 and its grid points x_i = i L / n (the FFT's grid)")
      .integer_list("grid.cells", {cells, cells}, "Grid points [nx, ny]: even, >= 4 (2/3 dealiasing keeps |m| < n/3)",
                    Length::exactly(2))
      .real("grid.length", 1.0, "Box side L", Range::greater_than(0));
  s.section("problem", "dw/dt + u.grad w = nu Lap w - drag w + f, u = (dpsi/dy, -dpsi/dx), -Lap psi = w")
      .real("problem.viscosity", 1e-3, "Kinematic viscosity nu", Range::at_least(0))
      .real("problem.drag", 0.0, "Linear drag coefficient (Kolmogorov flows usually take ~0.1)", Range::at_least(0))
      .string("problem.forcing.type", default_forcing,
              "none; kolmogorov: body force (A sin(2 pi n y / L), 0), i.e. f = -A k cos(k y); li: f = 0.1 (sin 2pi(x+y)/L "
              "+ cos 2pi(x+y)/L) (Li et al.'s FNO data)",
              {"none", "kolmogorov", "li"})
      .real("problem.forcing.amplitude", 1.0, "kolmogorov: A")
      .integer("problem.forcing.wavenumber", 4, "kolmogorov: n, waves per box length", Range::at_least(1));
  s.section("initial", "The initial vorticity")
      .string("initial.type", default_initial,
              "random: Gaussian random field, spectrum (4 pi^2 |k|^2 + tau^2)^(-alpha/2); mcwilliams: McWilliams (1984) "
              "decaying-turbulence spectrum; taylor_green: w = 2 A k sin(kx) sin(ky), k = 2 pi n / L; expression",
              initial_types)
      .real("initial.alpha", 2.5, "random: smoothness alpha", Range::greater_than(1))
      .real("initial.tau", 7.0, "random: inverse length scale tau", Range::greater_than(0))
      .real("initial.peak_wavenumber", 6.0, "mcwilliams: k0, waves per box length where the energy peaks",
            Range::greater_than(0))
      .real("initial.energy", 0.5, "mcwilliams: the mean kinetic energy 1/2 <|u|^2>", Range::greater_than(0));
}

void declare_time(Schema& s, double cfl, double dt) {
  s.section("time", "Time stepping")
      .string("time.scheme", "cn_rk2",
              "cn_rk2: Crank-Nicolson + Heun (2nd order, 2 evaluations per step); rk4_cn: low-storage RK4 + "
              "Crank-Nicolson (torch-cfd's, 5); if_rk4: integrating factor + RK4 (4)",
              {"cn_rk2", "rk4_cn", "if_rk4"})
      .real("time.dt", dt, "Fixed time step (shortened evenly to hit output times); 0: CFL-adaptive", Range::at_least(0))
      .real("time.cfl", cfl, "CFL number max|u| dt / h of adaptive steps, and the limit a fixed dt is checked against",
            Range::greater_than(0).and_at_most(2))
      .real("time.dt_max", 0.01, "Largest adaptive step", Range::greater_than(0));
}

// Keys read only by some values of a type key: given with another value, they are an error.
void refuse_unread_keys(const Config& c, const std::string& type_key,
                        const std::map<std::string, std::vector<std::string>>& readers) {
  const std::string type = c.string(type_key);
  for (const auto& [key, types] : readers)
    if (c.is_set(key) && std::find(types.begin(), types.end(), type) == types.end()) {
      std::string list;
      for (const auto& t : types) list += (list.empty() ? "" : " or ") + t;
      c.fail(key, "is not read with " + type_key + " " + type + "; only with " + list);
    }
}

// The solver spec from the config; spec problems are reported at their config key.
SpectralNs2dSpec flow_spec(const Config& c, MPI_Comm comm) {
  SpectralNs2dSpec s;
  const std::vector<long> cells = c.integers("grid.cells");
  s.nx = cells[0];
  s.ny = cells[1];
  s.length = c.real("grid.length");
  s.viscosity = c.real("problem.viscosity");
  s.drag = c.real("problem.drag");
  const std::string forcing = c.string("problem.forcing.type");
  s.forcing.type = forcing == "kolmogorov" ? SpectralForcing::Type::Kolmogorov
                   : forcing == "li"       ? SpectralForcing::Type::Li
                                           : SpectralForcing::Type::None;
  s.forcing.amplitude = c.real("problem.forcing.amplitude");
  s.forcing.wavenumber = static_cast<int>(c.integer("problem.forcing.wavenumber"));
  s.scheme = parse_spectral_scheme(c.string("time.scheme"));
  refuse_unread_keys(c, "problem.forcing.type",
                     {{"problem.forcing.amplitude", {"kolmogorov"}}, {"problem.forcing.wavenumber", {"kolmogorov"}}});
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  if (const auto p = spectral_spec_problem(s, ranks)) {
    if (p->key == "nx" || p->key == "ny") c.fail("grid.cells", p->key + " " + p->message);
    if (p->key == "length") c.fail("grid.length", p->message);
    c.fail("problem." + p->key, p->message);
  }
  return s;
}

TimeControl time_control(const Config& c) {
  return {.dt = c.real("time.dt"), .cfl = c.real("time.cfl"), .dt_max = c.real("time.dt_max")};
}

// advance() with a fixed dt above the CFL limit throws ConfigError "dt: ...": blame time.dt.
AdvanceReport advance(SpectralNs2d& ns, double t_end, const TimeControl& control, const Config& c) {
  try {
    return ns.advance(t_end, control);
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    if (what.rfind("dt: ", 0) == 0) c.fail("time.dt", what.substr(4));
    throw;
  }
}

// ------------------------------------------------------------------------------------------------
// spectral_ns2d

Schema spectral_schema() {
  Schema s;
  declare_flow(s, 256, "kolmogorov", {"random", "mcwilliams", "taylor_green", "expression"}, "random");
  s.integer("initial.seed", 0, "random, mcwilliams: seed of the random coefficients", Range::at_least(0))
      .real("initial.amplitude", 1.0, "taylor_green: velocity amplitude A")
      .integer("initial.wavenumber", 1, "taylor_green: n, waves per box length", Range::at_least(1))
      .expression("initial.vorticity", "0", "expression: w(x, y) at t = 0 (filtered to the 2/3 band)");
  declare_time(s, 0.5, 0.0);
  s.real("time.end", 1.0, "End time", Range::greater_than(0))
      .real("time.output_interval", 0.1, "Write fields and diagnostics every this much time (and at the end)",
            Range::greater_than(0));
  s.section("fft", "FFTW settings")
      .string("fft.planner", "measure",
              "measure: FFTW times candidate plans (faster steps, a second or so of setup); estimate: deterministic plans",
              {"measure", "estimate"})
      .string("fft.layout", "transposed",
              "On several ranks: transposed (spectral data stays transposed, one all-to-all per FFT) or slabs (two)",
              {"transposed", "slabs"});
  return s;
}

class SpectralApp {
 public:
  SpectralApp(const Config& config, const RunContext& context) : config_(config), context_(context) {}

  RunResult run() {
    make_solver();
    set_initial_condition();
    setup_output();
    time_loop();
    return output_results();
  }

 private:
  void make_solver() {
    const auto start = clock::now();
    spec_ = flow_spec(config_, context_.comm);
    spec_.measure_plans = config_.string("fft.planner") == "measure";
    spec_.transposed = config_.string("fft.layout") == "transposed";
    control_ = time_control(config_);
    ns_ = std::make_unique<SpectralNs2d>(context_.comm, spec_);
    setup_seconds_ = seconds_since(start);
  }

  void set_initial_condition() {
    const Config& c = config_;
    refuse_unread_keys(c, "initial.type",
                       {{"initial.alpha", {"random"}},
                        {"initial.tau", {"random"}},
                        {"initial.seed", {"random", "mcwilliams"}},
                        {"initial.peak_wavenumber", {"mcwilliams"}},
                        {"initial.energy", {"mcwilliams"}},
                        {"initial.amplitude", {"taylor_green"}},
                        {"initial.wavenumber", {"taylor_green"}},
                        {"initial.vorticity", {"expression"}}});
    const std::string type = c.string("initial.type");
    const auto seed = static_cast<std::uint64_t>(c.integer("initial.seed"));
    if (type == "random") {
      ns_->set_random_field({.alpha = c.real("initial.alpha"), .tau = c.real("initial.tau"), .seed = seed});
    } else if (type == "mcwilliams") {
      ns_->set_mcwilliams({.peak_wavenumber = c.real("initial.peak_wavenumber"), .energy = c.real("initial.energy"),
                           .seed = seed});
    } else if (type == "taylor_green") {
      const long n = c.integer("initial.wavenumber");
      const long cutoff = dealias_cutoff(std::min(spec_.nx, spec_.ny));
      if (n > cutoff)
        c.fail("initial.wavenumber", "is " + std::to_string(n) + ": outside the 2/3 band of the grid (|m| <= " +
                                         std::to_string(cutoff) + "); use more grid points or a smaller wavenumber");
      ns_->set_taylor_green(c.real("initial.amplitude"), static_cast<int>(n));
    } else {
      const Expression w(c.expression("initial.vorticity"), c.label("initial.vorticity"));
      ns_->set_vorticity([&](double x, double y) { return w(x, y, 0.0, 0.0); });
    }
    if (!std::isfinite(ns_->diagnostics().enstrophy))
      c.fail(type == "expression" ? "initial.vorticity" : "initial.type", "gives a vorticity that is not finite");
    // A fixed dt above the CFL limit is refused before anything is written (advance() checks it too).
    const double h = spec_.length / double(std::max(spec_.nx, spec_.ny)), umax = ns_->max_velocity();
    if (control_.dt > 0.0 && umax * control_.dt / h > control_.cfl)
      c.fail("time.dt", "the fixed time step " + format_number("%g", control_.dt) +
                            " gives the CFL number max|u| dt / h = " + format_number("%.3g", umax * control_.dt / h) +
                            " at t = 0 (max|u| " + format_number("%.3g", umax) + ", h " + format_number("%g", h) +
                            ") above time.cfl = " + format_number("%g", control_.cfl) + "; expected dt <= " +
                            format_number("%.3g", control_.cfl * h / umax));
  }

  void setup_output() {
    OutputOptions out;
    out.dir = context_.output_dir;
    out.name = config_.string("output.name");
    out.vti = config_.string("output.format") != "hdf5";
    writer_ = std::make_unique<FieldWriter>(ns_->grid(), out, config_.to_yaml());
    if (spec_.forcing.type != SpectralForcing::Type::None) writer_->add_static(ns_->forcing());
    write_output();
  }

  // Fields, diagnostics and the spectrum at the current time.
  void write_output() {
    const Field w = ns_->vorticity(), u = ns_->velocity(), psi = ns_->stream_function();
    writer_->write_step(ns_->time(), {&w, &u, &psi});
    const SpectralDiagnostics d = ns_->diagnostics();
    if (!std::isfinite(d.energy) || !std::isfinite(d.enstrophy))
      throw NumericalError("spectral_ns2d: the vorticity is not finite at t = " + format_number("%g", d.time));
    diagnostics_.push_back(d);
    spectra_.push_back(ns_->energy_spectrum());
  }

  void time_loop() {
    const double end = config_.real("time.end"), interval = config_.real("time.output_interval");
    const long outputs = std::max(1L, static_cast<long>(std::ceil(end / interval - 1e-9)));
    print_line(context_.comm, "stepping " + std::to_string(spec_.nx) + " x " + std::to_string(spec_.ny) + " points with " +
                                  to_string(spec_.scheme) + (control_.dt > 0 ? ", dt " + format_number("%g", control_.dt)
                                                                             : ", CFL " + format_number("%g", control_.cfl)) +
                                  " to t = " + format_number("%g", end) + " ...");
    Progress progress(context_.comm, "outputs", outputs);
    ns_->reset_fft_timer();
    for (long k = 1; k <= outputs; ++k) {
      const double t = k == outputs ? end : double(k) * interval;
      const AdvanceReport r = advance(*ns_, t, control_, config_);
      steps_.push_back(r.steps);
      max_cfl_.push_back(r.max_cfl);
      min_dt_ = std::min(min_dt_, r.min_dt);
      max_dt_ = std::max(max_dt_, r.max_dt);
      step_seconds_ += r.seconds;
      write_output();
      char note[128];
      std::snprintf(note, sizeof note, "t = %.4g, %ld steps, energy %.4g, max|u| %.3g", t, r.steps,
                    diagnostics_.back().energy, diagnostics_.back().max_velocity);
      progress.update(k, note);
    }
    progress.finish("done");
  }

  // energy_spectrum.csv: k, then E(k) at each output time (rank 0 writes it).
  std::filesystem::path write_spectrum_csv() const {
    const std::filesystem::path path = context_.output_dir / "energy_spectrum.csv";
    on_root(context_.comm, [&] {
      std::ofstream out(path);
      out << "k";
      for (const SpectralDiagnostics& d : diagnostics_) out << ",t=" << format_number("%.10g", d.time);
      out << "\n";
      for (std::size_t k = 0; k < spectra_.front().size(); ++k) {
        out << k;
        for (const auto& e : spectra_) out << "," << format_number("%.17g", e[k]);
        out << "\n";
      }
      out.close();
      if (!out) throw IoError(path.string() + ": cannot write the energy spectrum");
    });
    return path;
  }

  RunResult output_results() {
    RunResult r;
    writer_->close();
    r.outputs = {writer_->hdf5_path(), writer_->xdmf_path()};
    if (config_.string("output.format") != "hdf5") r.outputs.push_back(writer_->pvd_path());
    r.outputs.push_back(write_spectrum_csv());

    nlohmann::json time = nlohmann::json::array(), energy = nlohmann::json::array(),
                   enstrophy = nlohmann::json::array(), max_velocity = nlohmann::json::array();
    for (const SpectralDiagnostics& d : diagnostics_) {
      time.push_back(d.time);
      energy.push_back(d.energy);
      enstrophy.push_back(d.enstrophy);
      max_velocity.push_back(d.max_velocity);
    }
    long total_steps = 0;
    for (long s : steps_) total_steps += s;
    double max_cfl = 0.0;
    for (double c : max_cfl_) max_cfl = std::max(max_cfl, c);
    const double fft = ns_->fft_seconds();
    const SpectralDiagnostics& last = diagnostics_.back();
    r.table = {{"grid", std::to_string(spec_.nx) + " x " + std::to_string(spec_.ny) + " points on [0, " +
                            format_number("%g", spec_.length) + ")^2, " + std::to_string(ns_->grid()->ranks()) +
                            (ns_->grid()->ranks() == 1 ? " rank" : " ranks")},
               {"time stepping", to_string(spec_.scheme) + ", " + std::to_string(total_steps) + " steps to t = " +
                                     format_number("%.6g", ns_->time()) + ", dt " + format_number("%.3g", min_dt_) +
                                     " .. " + format_number("%.3g", max_dt_)},
               {"max CFL number", format_number("%.3f", max_cfl)},
               {"energy (start -> end)", format_number("%.6g", diagnostics_.front().energy) + " -> " +
                                             format_number("%.6g", last.energy)},
               {"enstrophy (start -> end)", format_number("%.6g", diagnostics_.front().enstrophy) + " -> " +
                                                format_number("%.6g", last.enstrophy)},
               {"steps per second", format_number("%.1f", total_steps / std::max(step_seconds_, 1e-12))},
               {"time in FFTs", format_number("%.1f%%", 100.0 * fft / std::max(step_seconds_, 1e-12))},
               {"written steps", std::to_string(writer_->steps())}};
    r.results["grid"] = {{"cells", {spec_.nx, spec_.ny}}, {"length", spec_.length}, {"ranks", ns_->grid()->ranks()}};
    r.results["scheme"] = to_string(spec_.scheme);
    r.results["outputs"] = {{"time", time},
                            {"energy", energy},
                            {"enstrophy", enstrophy},
                            {"max_velocity", max_velocity},
                            {"steps", steps_},
                            {"max_cfl", max_cfl_}};
    r.results["totals"] = {{"steps", total_steps},     {"final_time", ns_->time()},  {"min_dt", min_dt_},
                           {"max_dt", max_dt_},        {"max_cfl", max_cfl},         {"step_seconds", step_seconds_},
                           {"fft_seconds", fft},       {"ffts", ns_->fft_count()},   {"written_steps", writer_->steps()}};
    r.results["timings"] = {{"setup", setup_seconds_}, {"steps", step_seconds_}, {"fft", fft}};
    r.results["energy_spectrum_file"] = "energy_spectrum.csv";
    return r;
  }

  const Config& config_;
  const RunContext& context_;
  SpectralNs2dSpec spec_;
  TimeControl control_;
  std::unique_ptr<SpectralNs2d> ns_;
  std::unique_ptr<FieldWriter> writer_;
  std::vector<SpectralDiagnostics> diagnostics_;
  std::vector<std::vector<double>> spectra_;
  std::vector<long> steps_;
  std::vector<double> max_cfl_;
  double min_dt_ = HUGE_VAL, max_dt_ = 0.0, setup_seconds_ = 0.0, step_seconds_ = 0.0;
};

// ------------------------------------------------------------------------------------------------
// ns2d_dataset

Schema dataset_schema() {
  Schema s;
  declare_flow(s, 128, "li", {"random", "mcwilliams"}, "random");
  declare_time(s, 0.5, 0.0);
  s.section("dataset", "Trajectories from seeded random initial fields, one HDF5 file per split (docs/datasets.md)")
      .integer("dataset.trajectories", 16, "Number of trajectories: train + validation + test", Range::at_least(1))
      .integer("dataset.train", 12, "Trajectories in <name>_train.h5 (the first ones)", Range::at_least(0))
      .integer("dataset.validation", 2, "Trajectories in <name>_validation.h5 (the next ones)", Range::at_least(0))
      .integer("dataset.test", 2, "Trajectories in <name>_test.h5 (the last ones)", Range::at_least(0))
      .integer("dataset.seed", 0, "Base seed; trajectory i starts from the random field of derived_seed(seed, i)",
               Range::at_least(0))
      .integer("dataset.first_index", 0,
               "Index i of the first trajectory. The random fields are drawn per Fourier mode, so the same seed and "
               "index give the same initial field on any grid: a data set with first_index = train + validation "
               "of another one holds its test trajectories (e.g. at 256^2 as the reference of a 64^2 set)",
               Range::at_least(0))
      .real("dataset.spinup", 30.0, "Time from the random field to the first kept snapshot's interval", Range::at_least(0))
      .real("dataset.interval", 0.2, "Time between snapshots", Range::greater_than(0))
      .integer("dataset.snapshots", 100, "Snapshots per trajectory, at spinup + k interval, k = 1..snapshots",
               Range::at_least(1))
      .integer_list("dataset.cells", {64, 64},
                    "Output grid [nx, ny], reached by spectral truncation (even, at most grid.cells)", Length::exactly(2))
      .string("dataset.dtype", "float32", "Stored precision of /vorticity (the solver computes in float64)",
              {"float32", "float64"});
  return s;
}

// One trajectory: snapshots (n_snap, cny, cnx) at the output grid, plus what it cost.
struct Trajectory {
  std::vector<double> snapshots;
  long steps = 0;
  double seconds = 0.0, max_cfl = 0.0, final_energy = 0.0;
};

class DatasetApp {
 public:
  DatasetApp(const Config& config, const RunContext& context) : config_(config), context_(context) {}

  RunResult run() {
    check_settings();
    make_solver();
    write_splits();
    return output_results();
  }

 private:
  void check_settings() {
    const Config& c = config_;
    MPI_Comm_size(context_.comm, &ranks_);
    const long total = c.integer("dataset.trajectories");
    splits_ = {{"train", c.integer("dataset.train")},
               {"validation", c.integer("dataset.validation")},
               {"test", c.integer("dataset.test")}};
    long sum = 0;
    for (const auto& [name, count] : splits_) sum += count;
    if (sum != total)
      c.fail("dataset.trajectories", "is " + std::to_string(total) + " but the splits add up to " + std::to_string(sum) +
                                         " (train " + std::to_string(splits_[0].second) + " + validation " +
                                         std::to_string(splits_[1].second) + " + test " +
                                         std::to_string(splits_[2].second) + "); expected them equal");
    const std::vector<long> out = c.integers("dataset.cells"), sim = c.integers("grid.cells");
    for (int a = 0; a < 2; ++a) {
      const char* axis = a == 0 ? "nx" : "ny";
      if (out[a] < 2 || out[a] % 2 != 0)
        c.fail("dataset.cells", std::string(axis) + " is " + std::to_string(out[a]) + "; expected an even number >= 2");
      if (out[a] > sim[a])
        c.fail("dataset.cells", std::string(axis) + " is " + std::to_string(out[a]) +
                                    ", larger than the simulation grid's " + std::to_string(sim[a]) +
                                    " (grid.cells); spectral truncation only coarsens");
    }
    cnx_ = out[0];
    cny_ = out[1];
    snapshots_ = c.integer("dataset.snapshots");
    refuse_unread_keys(c, "initial.type",
                       {{"initial.alpha", {"random"}},
                        {"initial.tau", {"random"}},
                        {"initial.peak_wavenumber", {"mcwilliams"}},
                        {"initial.energy", {"mcwilliams"}}});
  }

  // Whole trajectories per rank: each rank's solver runs serial FFTW plans on MPI_COMM_SELF with
  // FFTW_ESTIMATE, so a trajectory's bits do not depend on the rank count or on timing.
  void make_solver() {
    spec_ = flow_spec(config_, MPI_COMM_SELF);
    spec_.measure_plans = false;
    control_ = time_control(config_);
    ns_ = std::make_unique<SpectralNs2d>(MPI_COMM_SELF, spec_);
    truncate_ = std::make_unique<SpectralTruncation>(spec_.nx, spec_.ny, cnx_, cny_);
  }

  Trajectory compute(std::uint64_t seed) {
    const Config& c = config_;
    const auto start = clock::now();
    if (c.string("initial.type") == "random")
      ns_->set_random_field({.alpha = c.real("initial.alpha"), .tau = c.real("initial.tau"), .seed = seed});
    else
      ns_->set_mcwilliams({.peak_wavenumber = c.real("initial.peak_wavenumber"), .energy = c.real("initial.energy"),
                           .seed = seed});
    Trajectory t;
    const double spinup = c.real("dataset.spinup"), interval = c.real("dataset.interval");
    const auto record = [&](const AdvanceReport& r) {
      t.steps += r.steps;
      t.max_cfl = std::max(t.max_cfl, r.max_cfl);
    };
    if (spinup > 0.0) record(advance(*ns_, spinup, control_, c));
    t.snapshots.reserve(static_cast<std::size_t>(snapshots_ * cnx_ * cny_));
    for (long k = 1; k <= snapshots_; ++k) {
      record(advance(*ns_, spinup + double(k) * interval, control_, c));
      const std::vector<double> coarse = (*truncate_)(ns_->vorticity_values());
      t.snapshots.insert(t.snapshots.end(), coarse.begin(), coarse.end());
    }
    t.final_energy = ns_->diagnostics().energy;
    t.seconds = seconds_since(start);
    return t;
  }

  void write_splits() {
    const long total = config_.integer("dataset.trajectories");
    print_line(context_.comm, "simulating " + std::to_string(total) + " trajectories at " + std::to_string(spec_.nx) +
                                  " x " + std::to_string(spec_.ny) + " (" + to_string(spec_.scheme) + "), " +
                                  std::to_string(snapshots_) + " snapshots each at " + std::to_string(cnx_) + " x " +
                                  std::to_string(cny_) + ", on " + std::to_string(ranks_) +
                                  (ranks_ == 1 ? " rank" : " ranks") + " ...");
    Progress progress(context_.comm, "trajectories", total);
    const long first_index = config_.integer("dataset.first_index");
    long first = first_index;
    for (const auto& [name, count] : splits_) {
      if (count > 0) write_split(name, first, count, progress, first - first_index);
      first += count;
    }
    progress.finish("done");
  }

  // Trajectories [first, first + count) of the data set, whole on each rank (compute_in_rounds);
  // rank 0 writes them. `done` trajectories of this run came before them (progress).
  void write_split(const std::string& split, long first, long count, Progress& progress, long done) {
    const std::filesystem::path path = context_.output_dir / (config_.string("output.name") + "_" + split + ".h5");
    std::unique_ptr<DatasetFile> file;
    // File errors on rank 0 reach every rank (on_root), so that none waits in the next round.
    on_root(context_.comm, [&] { file = open_split_file(path, split, first, count); });
    // A trajectory's values: its snapshots, then steps, seconds, max CFL number and final energy.
    const std::size_t snapshot_values = static_cast<std::size_t>(snapshots_ * cnx_ * cny_);
    const auto compute_one = [&](long i) {
      Trajectory t = compute(derived_seed(seed(), static_cast<std::uint64_t>(first + i)));
      t.snapshots.insert(t.snapshots.end(), {double(t.steps), t.seconds, t.max_cfl, t.final_energy});
      return std::move(t.snapshots);
    };
    const auto write_one = [&](long i, std::vector<double>& values) {
      steps_.push_back(static_cast<long>(values[snapshot_values]));
      seconds_.push_back(values[snapshot_values + 1]);
      max_cfl_ = std::max(max_cfl_, values[snapshot_values + 2]);
      energy_.push_back(values[snapshot_values + 3]);
      values.resize(snapshot_values);
      file->write_row("vorticity", i, values);
      char note[96];
      std::snprintf(note, sizeof note, "%s %ld/%ld", split.c_str(), i + 1, count);
      progress.update(done + i + 1, note);
    };
    const auto fail = [&](long i, const std::string& message) {
      if (message.rfind(config_.label("time.dt"), 0) == 0) throw ConfigError(message);
      throw NumericalError("trajectory " + std::to_string(first + i) + " (seed " +
                           std::to_string(derived_seed(seed(), static_cast<std::uint64_t>(first + i))) + "): " + message);
    };
    compute_in_rounds(context_.comm, count, snapshot_values + 4, compute_one, write_one, fail);
    on_root(context_.comm, [&] { file->commit(); });
    outputs_.push_back(path);
  }

  std::uint64_t seed() const { return static_cast<std::uint64_t>(config_.integer("dataset.seed")); }

  // One split's file on rank 0: /vorticity to fill, and everything else it holds.
  std::unique_ptr<DatasetFile> open_split_file(const std::filesystem::path& path, const std::string& split, long first,
                                               long count) const {
    const Config& c = config_;
    const bool single = c.string("dataset.dtype") == "float32";
    auto file = std::make_unique<DatasetFile>(path);
    file->create("vorticity",
                 {static_cast<std::size_t>(count), static_cast<std::size_t>(snapshots_), static_cast<std::size_t>(cny_),
                  static_cast<std::size_t>(cnx_)},
                 single);
    const double spinup = c.real("dataset.spinup"), interval = c.real("dataset.interval");
    std::vector<double> times;
    for (long k = 1; k <= snapshots_; ++k) times.push_back(spinup + double(k) * interval);
    file->write("time", {times.size()}, times);
    write_item_ids(*file, "trajectory_index", first, count,
                   [&](long i) { return derived_seed(seed(), static_cast<std::uint64_t>(i)); });
    SpectralTruncation truncate(spec_.nx, spec_.ny, cnx_, cny_);
    file->write("forcing", {static_cast<std::size_t>(cny_), static_cast<std::size_t>(cnx_)},
                truncate(ns_->forcing_values()));
    file->text_attribute("split", split);
    file->text_attribute("layout",
                    "vorticity[trajectory, snapshot, y, x] at x_i = i L / nx, y_j = j L / ny; time[snapshot]; "
                    "forcing[y, x]; seeds[trajectory]; trajectory_index[trajectory] (index in the whole data set)");
    file->text_attribute("dtype", single ? "float32" : "float64");
    file->text_attribute("scheme", to_string(spec_.scheme));
    file->text_attribute("forcing_type", c.string("problem.forcing.type"));
    file->text_attribute("initial_type", c.string("initial.type"));
    file->text_attribute("fluxion_version", kVersion);
    file->text_attribute("config", c.to_yaml());
    file->number_attribute("viscosity", {spec_.viscosity});
    file->number_attribute("drag", {spec_.drag});
    file->number_attribute("length", {spec_.length});
    file->number_attribute("simulation_cells", {double(spec_.nx), double(spec_.ny)});
    file->number_attribute("cells", {double(cnx_), double(cny_)});
    file->number_attribute("spinup", {spinup});
    file->number_attribute("interval", {interval});
    file->number_attribute("alpha", {c.real("initial.alpha")});
    file->number_attribute("tau", {c.real("initial.tau")});
    file->number_attribute("base_seed", {double(c.integer("dataset.seed"))});
    file->number_attribute("dt", {c.real("time.dt")});
    file->number_attribute("cfl", {c.real("time.cfl")});
    return file;
  }

  RunResult output_results() {
    RunResult r;
    r.outputs = outputs_;
    long total_steps = 0;
    double total_seconds = 0.0;
    for (long s : steps_) total_steps += s;
    for (double s : seconds_) total_seconds += s;
    const long n = static_cast<long>(steps_.size());
    r.table = {{"simulation grid", std::to_string(spec_.nx) + " x " + std::to_string(spec_.ny) + ", " +
                                       to_string(spec_.scheme)},
               {"output grid", std::to_string(cnx_) + " x " + std::to_string(cny_) + " (spectral truncation), " +
                                   config_.string("dataset.dtype")},
               {"trajectories", std::to_string(n) + " (train " + std::to_string(splits_[0].second) + ", validation " +
                                    std::to_string(splits_[1].second) + ", test " + std::to_string(splits_[2].second) + ")"},
               {"snapshots per trajectory", std::to_string(snapshots_)},
               {"steps per trajectory", format_number("%.0f", n ? double(total_steps) / double(n) : 0.0)},
               {"seconds per trajectory", format_number("%.2f", n ? total_seconds / double(n) : 0.0)},
               {"max CFL number", format_number("%.3f", max_cfl_)}};
    r.results["trajectories"] = {{"steps", steps_}, {"seconds", seconds_}, {"final_energy", energy_}};
    r.results["totals"] = {{"trajectories", n},
                           {"steps", total_steps},
                           {"trajectory_seconds", total_seconds},
                           {"max_cfl", max_cfl_},
                           {"ranks", ranks_}};
    r.results["files"] = file_names(outputs_);
    return r;
  }

  const Config& config_;
  const RunContext& context_;
  int ranks_ = 1;
  std::vector<std::pair<std::string, long>> splits_;
  long cnx_ = 0, cny_ = 0, snapshots_ = 0;
  SpectralNs2dSpec spec_;
  TimeControl control_;
  std::unique_ptr<SpectralNs2d> ns_;
  std::unique_ptr<SpectralTruncation> truncate_;
  std::vector<std::filesystem::path> outputs_;
  std::vector<long> steps_;
  std::vector<double> seconds_, energy_;
  double max_cfl_ = 0.0;
};

}  // namespace

void register_spectral_apps() {
  AppRegistry::instance().add({"spectral_ns2d",
                               "2D incompressible Navier-Stokes (vorticity) on the periodic box, pseudo-spectral with "
                               "FFTW, 2/3 dealiasing, CN-RK2 / RK4-CN / IF-RK4",
                               spectral_schema,
                               [](const Config& c, const RunContext& ctx) { return SpectralApp(c, ctx).run(); }});
  AppRegistry::instance().add({"ns2d_dataset",
                               "Trajectories of 2D periodic Navier-Stokes from seeded random vorticity, spectrally "
                               "truncated, one HDF5 file per split (train/validation/test)",
                               dataset_schema,
                               [](const Config& c, const RunContext& ctx) { return DatasetApp(c, ctx).run(); }});
}

}  // namespace fluxion::apps
