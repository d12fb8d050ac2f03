// HDF5 state files: round trip, continued learning across files, missing and corrupt files, atomic replace.
#include "fluxion/tune/hdf5_state.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fluxion/core/error.hpp"
#include "fluxion/linalg/sor_solver.hpp"
#include "fluxion/tune/tsallis_inf.hpp"
#include "shifted_laplacian.hpp"

namespace fluxion {
namespace {

namespace fs = std::filesystem;

fs::path work_dir(const std::string& test) {
  const fs::path dir = fs::path(FLUXION_BINARY_DIR) / "tests" / "tune" / "state-work" / test;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void expect_io_error(const std::function<void()>& f, const std::vector<std::string>& words) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    for (const auto& w : words) EXPECT_NE(std::string(e.what()).find(w), std::string::npos) << e.what();
  }
}

TEST(Hdf5State, RoundTripOfEveryKindOfEntry) {
  const fs::path file = work_dir("round_trip") / "state.h5";
  MemoryState s;
  s.put("learner", "tsallis_inf_cb");
  s.put("empty_text", std::string_view(""));
  s.put_integer("arms", 20);
  s.put("bin0/k", std::vector<double>{1.5, -2.25, 1e300});
  s.put("bin1/k", std::vector<double>{});
  s.put("deep/er/values", std::vector<std::int64_t>{-1, 0, 1LL << 62});
  s.put_double("bins", 5.0);
  write_state_file(file, s);
  const MemoryState r = read_state_file(file);
  EXPECT_EQ(r.entries(), s.entries());
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
}

std::unique_ptr<OmegaTuner> make_tuner() {
  return std::make_unique<OmegaTuner>(std::make_unique<SsorCgSolver>(), std::make_unique<TsallisInfCb>(20, 5, 0.0, 0.6, 9),
                                      ArmGrid(1.0, 1.95, 20));
}

void run(OmegaTuner& tuner, test::ShiftedLaplacianSequence& seq, int steps) {
  for (int t = 0; t < steps; ++t) {
    seq.next();
    tuner.set_operator(seq.op());
    tuner.set_context(seq.shift());
    Field x(seq.grid(), "x");
    (void)tuner.solve(seq.b(), x);
  }
}

TEST(Hdf5State, ContinuedLearningFromAFileMatchesAnUninterruptedRun) {
  const fs::path file = work_dir("continue") / "tuner.h5";
  auto whole = make_tuner();
  test::ShiftedLaplacianSequence seq_whole(8);
  run(*whole, seq_whole, 40);

  test::ShiftedLaplacianSequence seq(8);
  {
    auto first = make_tuner();
    EXPECT_FALSE(load_tuner_state(file, *first, IfMissing::Ignore));  // the first run: no file yet
    run(*first, seq, 25);
    save_tuner_state(file, *first);
  }
  auto second = make_tuner();
  EXPECT_TRUE(load_tuner_state(file, *second, IfMissing::Ignore));
  EXPECT_EQ(second->loaded_steps(), 25);
  run(*second, seq, 15);
  for (std::size_t t = 0; t < 15; ++t) {
    EXPECT_EQ(second->history()[t].step, static_cast<std::int64_t>(25 + t));
    EXPECT_EQ(second->history()[t].arm, whole->history()[25 + t].arm) << "step " << 25 + t;
  }
}

TEST(Hdf5State, MissingFileIsAnErrorUnlessTheCallerSaysFirstRun) {
  const fs::path file = work_dir("missing") / "none.h5";
  auto tuner = make_tuner();
  EXPECT_FALSE(load_tuner_state(file, *tuner, IfMissing::Ignore));
  expect_io_error([&] { load_tuner_state(file, *tuner); }, {file.string(), "no such"});
}

TEST(Hdf5State, CorruptOrForeignFilesAreIoErrorsNamingTheFile) {
  const fs::path dir = work_dir("corrupt");
  auto tuner = make_tuner();
  const fs::path garbage = dir / "garbage.h5";
  std::ofstream(garbage) << "this is not HDF5\n";
  expect_io_error([&] { load_tuner_state(garbage, *tuner, IfMissing::Ignore); }, {garbage.string(), "not an HDF5"});

  // A real state cut in half.
  const fs::path good = dir / "good.h5";
  test::ShiftedLaplacianSequence seq(1);
  run(*tuner, seq, 3);
  save_tuner_state(good, *tuner);
  const std::string full = bytes(good);
  const fs::path truncated = dir / "truncated.h5";
  std::ofstream(truncated, std::ios::binary) << full.substr(0, full.size() / 2);
  auto fresh = make_tuner();
  expect_io_error([&] { load_tuner_state(truncated, *fresh); }, {truncated.string()});
  EXPECT_EQ(fresh->loaded_steps(), 0);

  // HDF5, but not ours: an empty file without the marker.
  const fs::path foreign = dir / "foreign.h5";
  {
    MemoryState empty;
    write_state_file(foreign, empty);
  }
  expect_io_error([&] { load_tuner_state(foreign, *fresh); }, {foreign.string()});  // no learner entry

  // A state of another learner: IoError naming the file and the mismatch.
  auto other = std::make_unique<OmegaTuner>(std::make_unique<SsorCgSolver>(), std::make_unique<TsallisInf>(20, 9),
                                            ArmGrid(1.0, 1.95, 20));
  expect_io_error([&] { load_tuner_state(good, *other); }, {good.string(), "tsallis_inf_cb"});
}

TEST(Hdf5State, AFailedWriteLeavesThePreviousFileIntact) {
  const fs::path dir = work_dir("atomic");
  const fs::path file = dir / "tuner.h5";
  auto tuner = make_tuner();
  test::ShiftedLaplacianSequence seq(2);
  run(*tuner, seq, 3);
  save_tuner_state(file, *tuner);
  const std::string before = bytes(file);

  MemoryState clash;  // "a" is an entry and also the group of "a/b": fails half-way through
  clash.put_double("a", 1.0);
  clash.put_double("a/b", 2.0);
  expect_io_error([&] { write_state_file(file, clash); }, {file.string(), "a/b"});
  EXPECT_EQ(bytes(file), before);
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));

  expect_io_error([&] { write_state_file(dir / "no-such-folder" / "x.h5", clash); }, {"no-such-folder"});
  auto loaded = make_tuner();
  EXPECT_TRUE(load_tuner_state(file, *loaded));
  EXPECT_EQ(loaded->loaded_steps(), 3);
}

}  // namespace
}  // namespace fluxion
