// OmegaTuner on a real shifted-Laplacian sequence: choices come from the grid, costs are iteration
// counts, a fixed arm reproduces a fixed-omega solver, history and timings, save/load in memory.
#include "fluxion/tune/omega_tuner.hpp"

#include <gtest/gtest.h>

#include "fluxion/core/error.hpp"
#include "fluxion/linalg/sor_solver.hpp"
#include "fluxion/tune/chebcb.hpp"
#include "fluxion/tune/tsallis_inf.hpp"
#include "shifted_laplacian.hpp"

namespace fluxion {
namespace {

const ArmGrid kGrid(1.0, 1.95, 20);

std::vector<SolveReport> run(OmegaTuner& tuner, test::ShiftedLaplacianSequence& seq, int steps) {
  std::vector<SolveReport> reports;
  for (int t = 0; t < steps; ++t) {
    seq.next();
    tuner.set_operator(seq.op());
    tuner.set_context(seq.shift());
    Field x(seq.grid(), "x");
    reports.push_back(tuner.solve(seq.b(), x));
  }
  return reports;
}

TEST(OmegaTuner, ChoosesFromTheGridAndFeedsBackIterationCounts) {
  OmegaTuner tuner(std::make_unique<SorSolver>(), std::make_unique<TsallisInf>(20, 7), kGrid);
  EXPECT_EQ(tuner.name(), "tsallis_inf(sor auto)");
  test::ShiftedLaplacianSequence seq(1);
  const auto reports = run(tuner, seq, 40);

  ASSERT_EQ(tuner.history().size(), 40u);
  EXPECT_EQ(tuner.steps(), 40);
  TsallisInf replay(20, 7);  // the same learner fed the recorded iteration counts makes the same choices
  test::ShiftedLaplacianSequence shifts(1);
  for (std::size_t t = 0; t < 40; ++t) {
    const TunerStep& h = tuner.history()[t];
    const SolveReport& r = reports[t];
    shifts.next();
    EXPECT_EQ(h.step, static_cast<std::int64_t>(t));
    EXPECT_EQ(h.context, shifts.shift());
    EXPECT_EQ(h.omega, kGrid[h.arm]);
    EXPECT_EQ(r.omega, h.omega);
    EXPECT_EQ(r.solver, "tsallis_inf(sor auto)");
    ASSERT_TRUE(r.converged) << r.summary();
    EXPECT_TRUE(h.converged);
    EXPECT_EQ(h.iterations, r.iterations);
    EXPECT_EQ(h.cost, static_cast<double>(r.iterations));
    EXPECT_EQ(h.solve_seconds, r.seconds);
    EXPECT_GE(h.learner_seconds, 0.0);
    EXPECT_EQ(replay.choose(h.context), h.arm) << "step " << t;
    replay.observe(h.arm, h.context, static_cast<double>(r.iterations));
  }
  EXPECT_GT(tuner.learner_seconds(), 0.0);
  EXPECT_GT(tuner.solve_seconds(), 0.0);
  RecordProperty("learner_overhead", std::to_string(tuner.learner_seconds() / tuner.solve_seconds()));
}

TEST(OmegaTuner, FixedArmReproducesAFixedOmegaSolverExactly) {
  const int arm = 12;
  OmegaTuner tuner(std::make_unique<SsorCgSolver>(), std::make_unique<FixedArm>(20, arm), kGrid);
  SsorCgSolver plain({.omega = kGrid[arm]});
  test::ShiftedLaplacianSequence a(3), b(3);
  for (int t = 0; t < 15; ++t) {
    a.next();
    b.next();
    tuner.set_operator(a.op());
    plain.set_operator(b.op());
    Field xa(a.grid(), "x"), xb(b.grid(), "x");
    const SolveReport ra = tuner.solve(a.b(), xa), rb = plain.solve(b.b(), xb);
    EXPECT_EQ(ra.iterations, rb.iterations);
    EXPECT_EQ(ra.final_residual, rb.final_residual);
    EXPECT_EQ(ra.omega, kGrid[arm]);
    EXPECT_EQ(rb.omega, kGrid[arm]);
  }
  for (const auto& h : tuner.history()) EXPECT_EQ(h.arm, arm);
}

TEST(OmegaTuner, ANonConvergedSolveCostsTheCap) {
  test::ShiftedLaplacianSequence seq(5);
  OmegaTuner capped(std::make_unique<SorSolver>(SorSolverSettings{.max_iterations = 5}),
                    std::make_unique<FixedArm>(20, 0), kGrid, {.nonconvergence_cost = 5});
  run(capped, seq, 2);
  for (const auto& h : capped.history()) {
    EXPECT_FALSE(h.converged);
    EXPECT_EQ(h.iterations, 5);  // the solver reports the cap ...
    EXPECT_EQ(h.cost, 5.0);      // ... which is what the learner pays
  }
  OmegaTuner charged(std::make_unique<SorSolver>(SorSolverSettings{.max_iterations = 5}),
                     std::make_unique<FixedArm>(20, 0), kGrid, {.nonconvergence_cost = 1000});
  run(charged, seq, 1);
  EXPECT_EQ(charged.history()[0].cost, 1000.0);
}

TEST(OmegaTuner, ContextIsIgnoredWhenAsked) {
  OmegaTuner tuner(std::make_unique<SorSolver>(), std::make_unique<TsallisInf>(20, 1), kGrid, {.use_context = false});
  test::ShiftedLaplacianSequence seq(2);
  run(tuner, seq, 3);
  for (const auto& h : tuner.history()) EXPECT_EQ(h.context, 0.0);
}

TEST(OmegaTuner, RejectsBadArmsAndMismatchedLearners) {
  EXPECT_THROW(OmegaTuner(std::make_unique<SorSolver>(), std::make_unique<TsallisInf>(3, 0), ArmGrid(std::vector<double>{1.0, 1.5, 2.0})),
               Error);
  EXPECT_THROW(OmegaTuner(std::make_unique<SorSolver>(), std::make_unique<TsallisInf>(2, 0), ArmGrid(std::vector<double>{-0.5, 1.0})),
               Error);
  EXPECT_THROW(OmegaTuner(std::make_unique<SorSolver>(), std::make_unique<TsallisInf>(19, 0), kGrid), Error);
  EXPECT_THROW(OmegaTuner(nullptr, std::make_unique<TsallisInf>(20, 0), kGrid), Error);
  try {
    OmegaTuner(std::make_unique<SorSolver>(), std::make_unique<TsallisInf>(3, 0), ArmGrid(std::vector<double>{1.0, 1.5, 2.0}));
  } catch (const ConfigError&) {
    ADD_FAILURE() << "a bad arm grid in code is a programming error, not a ConfigError";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("outside (0, 2)"), std::string::npos) << e.what();
  }
}

TEST(OmegaTuner, SaveAndLoadContinueLearning) {
  auto make = [] {
    return OmegaTuner(std::make_unique<SorSolver>(), std::make_unique<ChebCb>(20, 6, 0.0, 0.6, 11), kGrid);
  };
  OmegaTuner whole = make();
  test::ShiftedLaplacianSequence seq_whole(4);
  run(whole, seq_whole, 30);

  OmegaTuner first = make();
  test::ShiftedLaplacianSequence seq(4);
  run(first, seq, 18);
  MemoryState state;
  first.save(state);
  OmegaTuner second = make();
  second.load(state);
  EXPECT_EQ(second.loaded_steps(), 18);
  run(second, seq, 12);
  ASSERT_EQ(second.history().size(), 12u);
  EXPECT_EQ(second.steps(), 30);
  for (std::size_t t = 0; t < 12; ++t) {
    EXPECT_EQ(second.history()[t].step, static_cast<std::int64_t>(18 + t));
    EXPECT_EQ(second.history()[t].arm, whole.history()[18 + t].arm) << "step " << 18 + t;
    EXPECT_EQ(second.history()[t].iterations, whole.history()[18 + t].iterations);
  }
}

TEST(OmegaTuner, LoadingAnIncompatibleStateIsAnIoErrorAndChangesNothing) {
  OmegaTuner tuner(std::make_unique<SorSolver>(), std::make_unique<TsallisInf>(20, 3), kGrid);
  test::ShiftedLaplacianSequence seq(6);
  run(tuner, seq, 5);
  MemoryState state;
  tuner.save(state);

  auto expect_io_error = [&](OmegaTuner& other, const char* words) {
    try {
      other.load(state);
      ADD_FAILURE() << "no error; expected one with '" << words << "'";
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
    EXPECT_EQ(other.loaded_steps(), 0);
  };
  OmegaTuner other_grid(std::make_unique<SorSolver>(), std::make_unique<TsallisInf>(10, 3), ArmGrid(1.0, 1.9, 10));
  expect_io_error(other_grid, "omega grid");
  OmegaTuner other_solver(std::make_unique<SsorCgSolver>(), std::make_unique<TsallisInf>(20, 3), kGrid);
  expect_io_error(other_solver, "solver");
  OmegaTuner other_learner(std::make_unique<SorSolver>(), std::make_unique<ChebCb>(20, 6, 0.0, 1.0, 3), kGrid);
  expect_io_error(other_learner, "'tsallis_inf' learner");
  state.entries().erase("tuner/steps");
  OmegaTuner damaged(std::make_unique<SorSolver>(), std::make_unique<TsallisInf>(20, 3), kGrid);
  expect_io_error(damaged, "tuner/steps");
}

}  // namespace
}  // namespace fluxion
