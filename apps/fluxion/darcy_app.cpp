// App `darcy_dataset`: pairs (a, u) of two-phase Darcy flow for the learn layer (MgNO, FNO), one HDF5
// file per split.
//
// Sample runs:
//   mpirun -n 2 fluxion run apps/configs/darcy_dataset.yaml       (docs/datasets.md: the files' layout)
//   mpirun -n 2 fluxion run apps/configs/darcy_dataset.yaml --set 'dataset.cells=[128,128]' -o fluxion-out/darcy_128
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "app.hpp"
#include "dataset_output.hpp"
#include "fluxion/core/error.hpp"
#include "fluxion/core/log.hpp"
#include "fluxion/core/petsc_session.hpp"
#include "fluxion/core/version.hpp"
#include "fluxion/pde/darcy.hpp"
#include "fluxion/pde/poisson.hpp"
#include "fluxion/pde/random_draws.hpp"
#include "setup.hpp"

namespace fluxion::apps {

namespace {

using clock = std::chrono::steady_clock;


Schema darcy_schema() {
  Schema s;
  s.section("problem",
            "-div(a grad u) = source on the unit square, u = 0 on its boundary; a = a_plus where psi >= 0 and a_minus "
            "elsewhere, psi a Gaussian random field with covariance tau^(2 alpha - 2) (-Laplacian + tau^2)^(-alpha) "
            "(Neumann cosine modes, mean zero); the defaults are Li et al.'s FNO data")
      .real("problem.alpha", 2.0, "Smoothness alpha of the random field", Range::greater_than(1))
      .real("problem.tau", 3.0, "Inverse length scale tau of the random field", Range::greater_than(0))
      .real("problem.a_plus", 12.0, "a where psi >= 0", Range::greater_than(0))
      .real("problem.a_minus", 3.0, "a where psi < 0", Range::greater_than(0))
      .real("problem.source", 1.0, "The constant right-hand side");
  s.section("dataset", "Samples from seeded random fields, one HDF5 file per split (docs/datasets.md)")
      .integer_list("dataset.fine_cells", {256, 256}, "Grid [nx, ny] the problem is solved on", Length::exactly(2),
                    Range::at_least(1))
      .integer_list("dataset.cells", {64, 64},
                    "Stored grid [nx, ny]: cell averages of blocks of the fine grid, so each must divide "
                    "dataset.fine_cells",
                    Length::exactly(2), Range::at_least(1))
      .integer("dataset.train", 1000, "Samples in <name>_train.h5 (the first ones)", Range::at_least(0))
      .integer("dataset.test", 100, "Samples in <name>_test.h5 (the next ones)", Range::at_least(0))
      .integer("dataset.seed", 0, "Base seed; sample i takes the random field of derived_seed(seed, i)",
               Range::at_least(0))
      .string("dataset.dtype", "float32", "Stored precision of /a and /u (the solver computes in float64)",
              {"float32", "float64"});
  declare_solver(s, "solver", {}, {.rtol = 1e-10});
  return s;
}

// The cells of a field on a grid of one rank, (ny, nx) row-major.
std::vector<double> cell_values(const Field& f) {
  std::vector<double> values;
  values.reserve(static_cast<std::size_t>(f.grid().global_cells()));
  FieldReadArray a(f);
  for_each_cell(f.grid().owned(), [&](PetscInt i, PetscInt j, PetscInt k) { values.push_back(a(i, j, k)); });
  return values;
}

class DarcyDatasetApp {
 public:
  DarcyDatasetApp(const Config& config, const RunContext& context) : config_(config), context_(context) {}

  RunResult run() {
    check_settings();
    make_generator();
    write_splits();
    return output_results();
  }

 private:
  void check_settings() {
    const Config& c = config_;
    MPI_Comm_size(context_.comm, &ranks_);
    splits_ = {{"train", c.integer("dataset.train")}, {"test", c.integer("dataset.test")}};
    if (splits_[0].second + splits_[1].second == 0)
      c.fail("dataset.train", "is 0 and so is dataset.test; expected at least one sample");
    fine_ = c.integers("dataset.fine_cells");
    cells_ = c.integers("dataset.cells");
    for (int a = 0; a < 2; ++a)
      if (fine_[a] % cells_[a] != 0)
        c.fail("dataset.cells", std::string(a == 0 ? "nx" : "ny") + " is " + std::to_string(cells_[a]) +
                                    ", which does not divide dataset.fine_cells' " + std::to_string(fine_[a]) +
                                    "; expected a divisor of it (the stored cells average blocks of fine cells)");
    // Every rank runs its own solver: one tuner state file cannot serve them.
    if (c.is_set("solver.omega.state"))
      c.fail("solver.omega.state", "is not supported by darcy_dataset (each rank learns with its own solver)");
  }

  // Whole samples per rank: each rank solves on its own grid (MPI_COMM_SELF), so a sample's bits do
  // not depend on the rank count.
  void make_generator() {
    GridSpec spec{.dim = 2, .cells = {static_cast<PetscInt>(fine_[0]), static_cast<PetscInt>(fine_[1]), 1}};
    grid_ = std::make_shared<const Grid>(MPI_COMM_SELF, spec);
    darcy_ = std::make_unique<DarcyProblem>(grid_, DarcySpec{.alpha = config_.real("problem.alpha"),
                                                             .tau = config_.real("problem.tau"),
                                                             .a_plus = config_.real("problem.a_plus"),
                                                             .a_minus = config_.real("problem.a_minus"),
                                                             .source = config_.real("problem.source")});
    solver_ = make_solver(config_, MPI_COMM_SELF, "solver");
    // PETSc checks its options when a solver meets an operator: try them on a = 1 before any file is
    // opened, so that a setting it refuses is reported at its key.
    PoissonSpec trial;
    trial.source = Expression::constant(1.0);
    PoissonProblem problem(grid_, trial);
    try {
      (void)problem.solve(*solver_.solver);
    } catch (const PetscCallError& e) {
      fail_petsc_settings(config_, "solver", e);
    }
  }

  void write_splits() {
    const long total = splits_[0].second + splits_[1].second;
    print_line(context_.comm, "solving " + std::to_string(total) + " Darcy samples at " + std::to_string(fine_[0]) +
                                  " x " + std::to_string(fine_[1]) + " with " + solver_.solver->name() +
                                  ", stored at " + std::to_string(cells_[0]) + " x " + std::to_string(cells_[1]) +
                                  ", on " + std::to_string(ranks_) + (ranks_ == 1 ? " rank" : " ranks") + " ...");
    const auto start = clock::now();
    Progress progress(context_.comm, "samples", total);
    long first = 0;
    for (const auto& [name, count] : splits_) {
      if (count > 0) write_split(name, first, count, progress);
      first += count;
    }
    progress.finish("done");
    seconds_ = seconds_since(start);
  }

  // Samples [first, first + count), whole on each rank (compute_in_rounds); rank 0 writes them.
  void write_split(const std::string& split, long first, long count, Progress& progress) {
    const auto start = clock::now();
    const std::filesystem::path path = context_.output_dir / (config_.string("output.name") + "_" + split + ".h5");
    std::unique_ptr<DatasetFile> file;
    // File errors on rank 0 reach every rank (on_root), so that none waits in the next round.
    on_root(context_.comm, [&] { file = open_split_file(path, split, first, count); });
    // A sample's values: a, u (cell averages on the stored grid), then iterations and seconds.
    const std::size_t n = static_cast<std::size_t>(cells_[0] * cells_[1]);
    const auto compute_one = [&](long i) {
      const auto sample_start = clock::now();
      const DarcySample s = darcy_->sample(seed_of(first + i), *solver_.solver);
      if (!s.u.all_finite()) throw NumericalError("the solution has NaN or infinite values; " + s.report.summary());
      check_converged(config_, s.report);
      std::vector<double> values = average_cells(cell_values(s.a), fine_[0], fine_[1], cells_[0], cells_[1]);
      const std::vector<double> u = average_cells(cell_values(s.u), fine_[0], fine_[1], cells_[0], cells_[1]);
      values.insert(values.end(), u.begin(), u.end());
      values.insert(values.end(), {double(s.report.iterations), seconds_since(sample_start)});
      return values;
    };
    const auto write_one = [&](long i, std::vector<double>& values) {
      iterations_.push_back(static_cast<long>(values[2 * n]));
      sample_seconds_.push_back(values[2 * n + 1]);
      file->write_row("u", i, std::vector<double>(values.begin() + long(n), values.begin() + long(2 * n)));
      values.resize(n);
      file->write_row("a", i, values);
      char note[96];
      std::snprintf(note, sizeof note, "%s %ld/%ld, %ld iterations", split.c_str(), i + 1, count, iterations_.back());
      progress.update(first + i + 1, note);
    };
    const auto fail = [&](long i, const std::string& message) {
      throw NumericalError("sample " + std::to_string(first + i) + " (seed " + std::to_string(seed_of(first + i)) +
                           "): " + message);
    };
    compute_in_rounds(context_.comm, count, 2 * n + 2, compute_one, write_one, fail);
    on_root(context_.comm, [&] {
      file->number_attribute("generation_seconds", {seconds_since(start)});
      file->commit();
    });
    outputs_.push_back(path);
  }

  std::uint64_t seed_of(long index) const {
    return derived_seed(static_cast<std::uint64_t>(config_.integer("dataset.seed")), static_cast<std::uint64_t>(index));
  }

  // One split's file on rank 0: /a and /u to fill, and everything else it holds.
  std::unique_ptr<DatasetFile> open_split_file(const std::filesystem::path& path, const std::string& split, long first,
                                               long count) const {
    const Config& c = config_;
    const bool single = c.string("dataset.dtype") == "float32";
    auto file = std::make_unique<DatasetFile>(path);
    const std::vector<std::size_t> dims = {static_cast<std::size_t>(count), static_cast<std::size_t>(cells_[1]),
                                           static_cast<std::size_t>(cells_[0])};
    file->create("a", dims, single);
    file->create("u", dims, single);
    write_item_ids(*file, "sample_index", first, count, [&](long i) { return seed_of(i); });
    file->text_attribute("split", split);
    file->text_attribute("layout",
                    "a[sample, y, x], u[sample, y, x]: averages over the cells [i/nx, (i+1)/nx] x [j/ny, (j+1)/ny] "
                    "of the unit square; seeds[sample]; sample_index[sample] (index in the whole data set)");
    file->text_attribute("dtype", single ? "float32" : "float64");
    file->text_attribute("fluxion_version", kVersion);
    file->text_attribute("config", c.to_yaml());
    file->text_attribute("solver", solver_.solver->name());
    file->number_attribute("cells", {double(cells_[0]), double(cells_[1])});
    file->number_attribute("fine_cells", {double(fine_[0]), double(fine_[1])});
    file->number_attribute("lower", {0.0, 0.0});
    file->number_attribute("upper", {1.0, 1.0});
    file->number_attribute("alpha", {c.real("problem.alpha")});
    file->number_attribute("tau", {c.real("problem.tau")});
    file->number_attribute("a_plus", {c.real("problem.a_plus")});
    file->number_attribute("a_minus", {c.real("problem.a_minus")});
    file->number_attribute("source", {c.real("problem.source")});
    file->number_attribute("base_seed", {double(c.integer("dataset.seed"))});
    file->number_attribute("rtol", {c.real("solver.rtol")});
    file->number_attribute("ranks", {double(ranks_)});
    return file;
  }

  RunResult output_results() {
    RunResult r;
    r.outputs = outputs_;
    const long n = static_cast<long>(iterations_.size());
    long total_iterations = 0, max_iterations = 0;
    for (long i : iterations_) {
      total_iterations += i;
      max_iterations = std::max(max_iterations, i);
    }
    double solve_seconds = 0.0;
    for (double s : sample_seconds_) solve_seconds += s;
    r.table = {{"fine grid", std::to_string(fine_[0]) + " x " + std::to_string(fine_[1]) + ", " + solver_.solver->name()},
               {"stored grid", std::to_string(cells_[0]) + " x " + std::to_string(cells_[1]) + " (cell averages), " +
                                   config_.string("dataset.dtype")},
               {"samples", std::to_string(n) + " (train " + std::to_string(splits_[0].second) + ", test " +
                               std::to_string(splits_[1].second) + ")"},
               {"iterations per sample", format_number("%.1f", n ? double(total_iterations) / double(n) : 0.0) +
                                             " (max " + std::to_string(max_iterations) + ")"},
               {"seconds per sample", format_number("%.3f", n ? solve_seconds / double(n) : 0.0)},
               {"generation time", format_number("%.1f s", seconds_) + " on " + std::to_string(ranks_) +
                                       (ranks_ == 1 ? " rank" : " ranks")}};
    r.results["samples"] = {{"iterations", iterations_}, {"seconds", sample_seconds_}};
    r.results["totals"] = {{"samples", n},
                           {"iterations", total_iterations},
                           {"max_iterations", max_iterations},
                           {"sample_seconds", solve_seconds},
                           {"generation_seconds", seconds_},
                           {"ranks", ranks_}};
    r.results["files"] = file_names(outputs_);
    return r;
  }

  const Config& config_;
  const RunContext& context_;
  int ranks_ = 1;
  std::vector<std::pair<std::string, long>> splits_;
  std::vector<long> fine_, cells_;
  std::shared_ptr<const Grid> grid_;
  std::unique_ptr<DarcyProblem> darcy_;
  SolverSetup solver_;
  std::vector<std::filesystem::path> outputs_;
  std::vector<long> iterations_;
  std::vector<double> sample_seconds_;
  double seconds_ = 0.0;
};

}  // namespace

void register_darcy_app() {
  AppRegistry::instance().add({"darcy_dataset",
                               "Pairs (a, u) of two-phase Darcy flow -div(a grad u) = 1 on the unit square, a from "
                               "seeded random fields, averaged to the stored grid, one HDF5 file per split (train/test)",
                               darcy_schema,
                               [](const Config& c, const RunContext& ctx) { return DarcyDatasetApp(c, ctx).run(); }});
}

}  // namespace fluxion::apps
