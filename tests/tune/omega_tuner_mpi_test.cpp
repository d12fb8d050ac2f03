// OmegaTuner under MPI: every rank picks the same omega at every solve, and the state file written
// by a run on N ranks holds exactly what a run on one rank writes.
#include <gtest/gtest.h>

#include <mpi.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fluxion/core/field.hpp"
#include "fluxion/linalg/sor_solver.hpp"
#include "fluxion/linalg/stencil_operator.hpp"
#include "fluxion/tune/chebcb.hpp"
#include "fluxion/tune/hdf5_state.hpp"
#include "fluxion/tune/tsallis_inf.hpp"

namespace fluxion {
namespace {

namespace fs = std::filesystem;

/// A shifted-Laplacian sequence on `comm`: A_t = -Lap + c_t I on 23 x 17 cells (an uneven split on
/// 2, 3 and 4 ranks), c_t from a seeded generator, b_t a formula of the cell centre and t, so that
/// every rank count solves the same systems.
struct DistributedSequence {
  std::shared_ptr<const Grid> grid;
  std::mt19937_64 rng;
  double shift = 0.0;
  int t = 0;
  std::unique_ptr<StencilOperator> op;
  std::unique_ptr<Field> b;

  DistributedSequence(MPI_Comm comm, std::uint64_t seed)
      : grid(std::make_shared<const Grid>(comm, GridSpec{.dim = 2, .cells = {23, 17, 1}, .upper = {23, 17, 1}})),
        rng(seed) {}

  void next() {
    shift = 0.6 * std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    Field k(grid, "k"), c(grid, "c");
    k.fill(1.0);
    c.fill(shift);
    op = std::make_unique<StencilOperator>(grid, k, c, BoundaryConditions::uniform(BcType::Dirichlet));
    b = std::make_unique<Field>(grid, "b");
    const int step = t++;
    b->assign([step](const Field::Point& x) { return std::sin(0.3 * x[0] + step) * std::cos(0.2 * x[1] - 0.5 * step); });
  }
};

/// ChebCB and Tsallis-INF-CB driving red-black SOR (whose iterates do not depend on the rank count).
std::unique_ptr<OmegaTuner> make_tuner(bool chebcb) {
  std::unique_ptr<OnlineLearner> learner;
  if (chebcb) learner = std::make_unique<ChebCb>(12, 4, 0.0, 0.6, 3);
  else learner = std::make_unique<TsallisInfCb>(12, 3, 0.0, 0.6, 3);
  return std::make_unique<OmegaTuner>(
      std::make_unique<SorSolver>(SorSolverSettings{.ordering = SorOrdering::RedBlack, .rtol = 1e-6}),
      std::move(learner), ArmGrid(1.0, 1.9, 12));
}

void run(OmegaTuner& tuner, DistributedSequence& seq, int steps) {
  for (int s = 0; s < steps; ++s) {
    seq.next();
    tuner.set_operator(*seq.op);
    tuner.set_context(seq.shift);
    Field x(seq.grid, "x");
    const SolveReport r = tuner.solve(*seq.b, x);
    ASSERT_TRUE(r.converged) << r.summary();
  }
}

TEST(OmegaTunerMpi, EveryRankPicksTheSameOmegaAndSavesWhatOneRankSaves) {
  int rank = 0, size = 1;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  const fs::path dir = fs::path(FLUXION_BINARY_DIR) / "tests" / "tune" / "state-work" / ("mpi_np" + std::to_string(size));
  if (rank == 0) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  MPI_Barrier(PETSC_COMM_WORLD);

  for (bool chebcb : {true, false}) {
    SCOPED_TRACE(chebcb ? "chebcb" : "tsallis_inf_cb");
    const int steps = 30;
    auto parallel = make_tuner(chebcb), serial = make_tuner(chebcb);
    DistributedSequence on_all(PETSC_COMM_WORLD, 7), on_one(PETSC_COMM_SELF, 7);
    run(*parallel, on_all, steps);
    run(*serial, on_one, steps);
    ASSERT_EQ(parallel->history().size(), static_cast<std::size_t>(steps));

    // The same arm on every rank at every solve, and the same as on one rank.
    std::vector<int> arms, iterations;
    for (const TunerStep& h : parallel->history()) {
      arms.push_back(h.arm);
      iterations.push_back(h.iterations);
    }
    std::vector<int> all(static_cast<std::size_t>(steps * size));
    MPI_Allgather(arms.data(), steps, MPI_INT, all.data(), steps, MPI_INT, PETSC_COMM_WORLD);
    for (int r = 1; r < size; ++r)
      for (int s = 0; s < steps; ++s) ASSERT_EQ(all[static_cast<std::size_t>(r * steps + s)], arms[static_cast<std::size_t>(s)]) << "rank " << r << ", solve " << s;
    std::set<int> distinct(arms.begin(), arms.end());
    EXPECT_GT(distinct.size(), 2u) << "the learner hardly explored; the comparison would prove little";
    for (int s = 0; s < steps; ++s) {
      EXPECT_EQ(arms[static_cast<std::size_t>(s)], serial->history()[static_cast<std::size_t>(s)].arm) << "solve " << s;
      EXPECT_EQ(iterations[static_cast<std::size_t>(s)], serial->history()[static_cast<std::size_t>(s)].iterations) << "solve " << s;
    }

    // The state file as the CLI writes it under MPI (rank 0 writes), against one rank's.
    const fs::path mpi_file = dir / (parallel->learner().name() + "_mpi.h5"), one_file = dir / (parallel->learner().name() + "_one.h5");
    int written = 1;
    std::string error;
    if (rank == 0) {
      try {
        save_tuner_state(mpi_file, *parallel);
        save_tuner_state(one_file, *serial);
      } catch (const std::exception& e) {
        written = 0;
        error = e.what();
      }
    }
    MPI_Bcast(&written, 1, MPI_INT, 0, PETSC_COMM_WORLD);
    ASSERT_TRUE(written) << error;
    const MemoryState from_mpi = read_state_file(mpi_file), from_one = read_state_file(one_file);
    EXPECT_EQ(from_mpi.entries(), from_one.entries());
    EXPECT_EQ(from_mpi.entries().count("tuner/steps"), 1u);
    MPI_Barrier(PETSC_COMM_WORLD);  // nobody reads while rank 0 writes the next learner's files
  }
}

}  // namespace
}  // namespace fluxion
