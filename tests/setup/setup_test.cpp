// The config builders of the library: which solver keys each type and learner reads (the table,
// and the errors and warnings it gives), the tuner state file's folder check and lock, the bounds
// of size-like keys, the processor-block SOR warning, and the data folder.
#include "fluxion/setup/domain_setup.hpp"
#include "fluxion/setup/solver_setup.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>

#include "fluxion/core/error.hpp"
#include "fluxion/core/version.hpp"
#include "../support/config_error.hpp"

namespace fluxion {
namespace {

const std::vector<std::string> kContexts = {"c"};

Schema solver_schema() {
  Schema s;
  s.string("app", "test", "app name");
  declare_solver(s, "solver", kContexts);
  return s;
}

// A folder of this test's own, the same on every rank (rank 0 makes it).
std::filesystem::path work_dir() {
  const auto dir = std::filesystem::path(FLUXION_BINARY_DIR) / "tests" / "setup" / "work";
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (rank == 0) std::filesystem::create_directories(dir);
  MPI_Barrier(PETSC_COMM_WORLD);
  return dir;
}

Config config(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  return Config::from_string(yaml, "t.yaml", solver_schema(), overrides);
}

using test_support::config_error;

std::string solver_error(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  return config_error([&] { make_solver(config(yaml, overrides), PETSC_COMM_WORLD, "solver", {}, kContexts); });
}

TEST(SolverSetup, DcdmWithoutTheLearnLayerIsAClearError) {
  const std::string e = solver_error("solver: {type: dcdm, model: m.pt}\n");
  EXPECT_NE(e.find("solver.type"), std::string::npos) << e;
  EXPECT_NE(e.find(kWithTorch ? "initialize" : "FLUXION_WITH_TORCH=OFF"), std::string::npos) << e;
}

TEST(SolverKeyTable, HoldsEveryDeclaredSolverKeyOnce) {
  std::vector<std::string> declared, table;
  for (const auto& key : solver_schema().keys())
    if (key.rfind("solver.", 0) == 0) declared.push_back(key.substr(7));
  for (const auto& use : solver_key_table()) table.push_back(use.key);
  std::sort(declared.begin(), declared.end());
  std::sort(table.begin(), table.end());
  EXPECT_EQ(declared, table);
}

// The general rule, for every key of the table and every choice of its selector: a key is accepted
// exactly when the choice reads it (omega.* keys only by the SOR family), else the error names it.
TEST(SolverKeyTable, AKeyIsAcceptedExactlyWhenTheChoiceReadsIt) {
  const std::string state = (work_dir() / "table.h5").string();
  const std::map<std::string, std::string> value = {
      {"ksp", "gmres"}, {"pc", "jacobi"}, {"rtol", "1e-6"}, {"atol", "1e-30"}, {"max_iterations", "50"},
      {"matrix_free", "true"}, {"allow_nonconvergence", "true"}, {"ordering", "red_black"},
      {"omega.tune", "tsallis_inf"}, {"omega.value", "1.3"}, {"omega.context", "c"}, {"omega.context_range", "[0, 2]"},
      {"omega.bins", "3"}, {"omega.terms", "4"}, {"omega.seed", "7"}, {"omega.state", state},
      {"omega.arms.min", "1.1"}, {"omega.arms.max", "1.9"}, {"omega.arms.count", "5"},
      {"model", "m.pt"}, {"method", "fcg"}, {"fallback_cg", "true"}};
  // dcdm needs the learn layer (not linked here): its keys are checked as rejected by the others.
  const std::vector<std::string> types = {"petsc", "sor", "ssor_cg", "petsc_sor_richardson", "petsc_ssor_cg"};
  const std::vector<std::string> tunes = {"none", "tsallis_inf", "tsallis_inf_cb", "chebcb"};
  int rejected = 0, accepted = 0;
  for (const auto& use : solver_key_table()) {
    if (use.key == "type") continue;
    ASSERT_TRUE(value.count(use.key)) << use.key;
    const bool by_tune = use.selector == "omega.tune";
    for (const auto& choice : by_tune ? tunes : types) {
      std::vector<std::string> set = {"solver." + use.key + "=" + value.at(use.key)};
      if (by_tune) {
        set.push_back("solver.type=ssor_cg");
        set.push_back("solver.omega.tune=" + choice);
        if ((choice == "tsallis_inf_cb" || choice == "chebcb") && use.key != "omega.context")
          set.push_back("solver.omega.context=c");
      } else {
        set.push_back("solver.type=" + choice);
        if (choice == "petsc" && use.key == "matrix_free") set.push_back("solver.pc=jacobi");
      }
      const bool reads = std::find(use.values.begin(), use.values.end(), choice) != use.values.end();
      const bool omega_key = use.key.rfind("omega.", 0) == 0;
      const bool expect_ok = !by_tune && omega_key ? choice != "petsc" : reads;
      const std::string error = solver_error("", set);
      std::string context;
      for (const auto& a : set) context += " --set " + a;
      if (expect_ok) {
        EXPECT_EQ(error, "(no ConfigError thrown)") << context;
        ++accepted;
      } else {
        const std::string key = "solver." + use.key;
        EXPECT_EQ(error.rfind("--set " + key + ": " + key + ": does not apply with solver.", 0), 0u)
            << context << "\n" << error;
        ++rejected;
      }
    }
  }
  EXPECT_GT(accepted, 20);
  EXPECT_GT(rejected, 20);
}

// The cases of issue 12, item 9, with their whole messages.
TEST(SolverKeyTable, TheIssuesCasesAreErrorsThatSayWhy) {
  for (const char* key : {"ksp: cg", "pc: jacobi", "atol: 1e-30", "matrix_free: true"}) {
    const std::string name = std::string(key).substr(0, std::string(key).find(':'));
    EXPECT_EQ(solver_error(std::string("solver:\n  type: sor\n  ") + key + "\n"),
              "t.yaml:3: solver." + name + ": does not apply with solver.type sor (read only with type petsc); remove it");
  }
  EXPECT_EQ(solver_error("solver:\n  type: sor\n  omega: {tune: chebcb, context: c, bins: 4}\n"),
            "t.yaml:3: solver.omega.bins: does not apply with solver.omega.tune chebcb (read only with omega.tune "
            "tsallis_inf_cb); remove it");
  EXPECT_EQ(solver_error("solver:\n  type: sor\n  omega: {tune: tsallis_inf_cb, context: c, terms: 4}\n"),
            "t.yaml:3: solver.omega.terms: does not apply with solver.omega.tune tsallis_inf_cb (read only with "
            "omega.tune chebcb); remove it");
  EXPECT_EQ(solver_error("solver:\n  omega:\n    value: 1.2\n"),
            "t.yaml:3: solver.omega.value: does not apply with solver.type petsc (read only with type sor, ssor_cg, "
            "petsc_sor_richardson, petsc_ssor_cg); remove it (with petsc, pass PCSOR options in the petsc: section)");
  EXPECT_EQ(solver_error("solver:\n  type: sor\n  omega:\n    seed: 2\n"),
            "t.yaml:4: solver.omega.seed: does not apply with solver.omega.tune none (read only with omega.tune "
            "tsallis_inf, tsallis_inf_cb, chebcb); it needs a learner: set solver.omega.tune");
}

// A file written for one type, with the type changed by --set: its other keys are ignored with a
// warning. A key given by --set itself is still an error, unless it gives the default (which clears it).
TEST(SolverKeyTable, SwitchingTheTypeOnTheCommandLineWarnsAboutTheFilesKeys) {
  const std::string file = "solver:\n  type: petsc\n  pc: jacobi\n";
  const SolverSetup setup =
      make_solver(config(file, {"solver.type=sor"}), PETSC_COMM_WORLD, "solver", {}, kContexts);
  ASSERT_EQ(setup.warnings.size(), 1u);
  EXPECT_EQ(setup.warnings[0], "t.yaml:3: solver.pc: ignored: it does not apply with solver.type sor (read only with "
                               "type petsc), which --set solver.type chose");
  EXPECT_EQ(solver_error("", {"solver.type=sor", "solver.pc=jacobi"}),
            "--set solver.pc: solver.pc: does not apply with solver.type sor (read only with type petsc); remove it");
  const Config default_pc = config(file, {"solver.type=sor", "solver.pc=fluxion_mg"});  // the default: no effect
  EXPECT_TRUE(make_solver(default_pc, PETSC_COMM_WORLD, "solver", {}, kContexts).warnings.empty());
  EXPECT_NE(solver_error(file + "  ordering: red_black\n"), "(no ConfigError thrown)");  // both in the file
}

// Issue 12, item 13: sizes that made the learners allocate without bound.
TEST(SolverKeys, SizeLikeKeysHaveBounds) {
  for (const auto& [key, bound] : std::vector<std::pair<std::string, std::string>>{
           {"solver.omega.arms.count", "1000"}, {"solver.omega.bins", "1000"}, {"solver.omega.terms", "64"}}) {
    EXPECT_EQ(config_error([&] { config("", {key + "=1000000000"}); }),
              "--set " + key + ": " + key + ": 1000000000 is out of range; expected >= 1 and <= " + bound);
    EXPECT_NO_THROW(config("", {key + "=" + bound}));
  }
  EXPECT_NE(solver_schema().markdown("x").find("| `solver.omega.bins` | integer | `5` | >= 1 and <= 1000 |"),
            std::string::npos);
}

// Issue 12, item 11: a state file in a folder that does not exist is an error before any solve.
TEST(SolverStateMpi, TheStateFolderMustExist) {
  const auto missing = work_dir() / "no-such-folder" / "s.h5";
  EXPECT_EQ(solver_error("solver:\n  type: sor\n  omega: {tune: tsallis_inf, state: '" + missing.string() + "'}\n"),
            "t.yaml:3: solver.omega.state: the folder '" + missing.parent_path().string() +
                "' does not exist; create it, or name a file in an existing folder");
  const auto file = work_dir() / "a-file";
  {
    int rank = 0;
    MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
    if (rank == 0) std::ofstream(file) << "x";
    MPI_Barrier(PETSC_COMM_WORLD);
  }
  EXPECT_EQ(solver_error("solver:\n  type: sor\n  omega: {tune: tsallis_inf, state: '" + (file / "s.h5").string() + "'}\n"),
            "t.yaml:3: solver.omega.state: '" + file.string() + "' is not a folder");
}

// Issue 12, item 6: the state file is locked for the life of the setup; a second user is refused
// (naming the holder) and gets it once the first is gone.
TEST(SolverStateMpi, TheStateFileIsLockedWhileASetupLives) {
  const auto state = work_dir() / "locked.h5";
  const std::string yaml = "solver:\n  type: sor\n  omega: {tune: tsallis_inf, state: '" + state.string() + "'}\n";
  {
    const SolverSetup first = make_solver(config(yaml), PETSC_COMM_WORLD, "solver", {}, kContexts);
    ASSERT_TRUE(first.state_lock);
    EXPECT_TRUE(std::filesystem::exists(state.string() + ".lock"));
    MPI_Barrier(PETSC_COMM_WORLD);  // rank 0 may run ahead to the release of the lock below
    const std::string error = solver_error(yaml);
    int holder = getpid();  // rank 0 holds the lock
    MPI_Bcast(&holder, 1, MPI_INT, 0, PETSC_COMM_WORLD);
    EXPECT_EQ(error.rfind("t.yaml:3: solver.omega.state: tuner state file " + state.string() +
                              " is in use by another fluxion run (pid " + std::to_string(holder),
                          0),
              0u)
        << error;
  }
  EXPECT_NO_THROW(make_solver(config(yaml), PETSC_COMM_WORLD, "solver", {}, kContexts));
}

// Lexicographic SOR on several ranks is processor-block SOR: above the safe omega, a warning.
TEST(SolverSetupMpi, ProcessorBlockSorAboveTheSafeOmegaWarns) {
  int ranks = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &ranks);
  auto warnings = [](const std::string& yaml) {
    return make_solver(config(yaml), PETSC_COMM_WORLD, "solver", {}, kContexts).warnings;
  };
  const auto lex = warnings("solver: {type: sor, ordering: lexicographic, omega: {value: 1.9}}");
  const auto tuned = warnings("solver: {type: petsc_sor_richardson, omega: {tune: tsallis_inf, arms: {max: 1.95}}}");
  if (ranks == 1) {
    EXPECT_TRUE(lex.empty());
    EXPECT_TRUE(tuned.empty());
  } else {
    ASSERT_EQ(lex.size(), 1u);
    EXPECT_NE(lex[0].find("t.yaml:1: solver.omega.value: omega up to 1.9 with lexicographic SOR on " +
                          std::to_string(ranks) + " ranks, which is processor-block SOR"),
              std::string::npos)
        << lex[0];
    ASSERT_EQ(tuned.size(), 1u);
    EXPECT_NE(tuned[0].find("solver.omega.arms.max: omega up to 1.95 with petsc_sor_richardson"), std::string::npos);
  }
  EXPECT_TRUE(warnings("solver: {type: sor, omega: {value: 1.95}}").empty());  // auto: red-black on several ranks
  EXPECT_TRUE(warnings("solver: {type: sor, ordering: lexicographic, omega: {value: 1.6}}").empty());
}

TEST(DataDir, HoldsTheMeshesAndExampleConfigs) {
  EXPECT_TRUE(std::filesystem::is_directory(data_dir() / "meshes")) << data_dir();
  EXPECT_TRUE(std::filesystem::exists(data_dir() / "apps" / "configs" / "poisson.yaml")) << data_dir();
}

}  // namespace
}  // namespace fluxion
