// Tests of the strict YAML config: defaults, values, overrides, every error kind with its file:line, and docs.
#include "fluxion/core/config.hpp"

#include <cstdio>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <petscsys.h>

#include "fluxion/core/error.hpp"
#include "../support/config_error.hpp"

namespace fluxion {
namespace {

Schema obstacle_schema() {
  return Schema()
      .string("shape", "circle", "Obstacle shape", {"circle", "box"})
      .real_list("center", required, "Center point", Length::exactly(2))
      .real("radius", 0.1, "Radius of a circle", Range::greater_than(0));
}

Schema test_schema() {
  return Schema()
      .section("solver", "The linear solver of the pressure equation.")
      .string("solver.type", "cg", "Krylov method", {"cg", "gmres", "bicgstab"})
      .real("solver.rtol", 1e-8, "Relative residual tolerance", Range::greater_than(0))
      .integer("solver.max_iterations", 1000, "Iteration cap", Range::at_least(1))
      .boolean("solver.monitor", false, "Print residuals")
      .real("solver.omega", 1.5, "SOR relaxation weight", Range::greater_than(0).and_less_than(2))
      .integer_list("grid.cells", {32, 32}, "Cells per direction", Length::between(2, 3), Range::at_least(1))
      .real_list("grid.length", {1.0, 1.0}, "Domain size per direction", Length::between(2, 3), Range::greater_than(0))
      .expression("problem.source", "0", "Right-hand side f(x, y)")
      .real("problem.viscosity", required, "Kinematic viscosity", Range::greater_than(0))
      .string_map("petsc", "PETSc options passed through")
      .list("obstacles", obstacle_schema(), "Solid obstacles inside the domain");
}

// The smallest valid file for test_schema(): its one required key.
constexpr const char* minimal = "problem:\n  viscosity: 0.01\n";

Config parse(std::string_view yaml, const std::vector<std::string>& overrides = {}) {
  return Config::from_string(yaml, "cfg.yaml", test_schema(), overrides);
}

using test_support::config_error;

std::string parse_error(std::string_view yaml, const std::vector<std::string>& overrides = {}) {
  return config_error([&] { parse(yaml, overrides); });
}

TEST(Config, FillsInDefaults) {
  const Config config = parse(minimal);
  EXPECT_EQ(config.string("solver.type"), "cg");
  EXPECT_DOUBLE_EQ(config.real("solver.rtol"), 1e-8);
  EXPECT_EQ(config.integer("solver.max_iterations"), 1000);
  EXPECT_FALSE(config.boolean("solver.monitor"));
  EXPECT_EQ(config.integers("grid.cells"), (std::vector<long>{32, 32}));
  EXPECT_EQ(config.expression("problem.source"), "0");
  EXPECT_TRUE(config.string_map("petsc").empty());
  EXPECT_TRUE(config.list("obstacles").empty());
  EXPECT_FALSE(config.is_set("solver.rtol"));
  EXPECT_EQ(config.where("solver.rtol"), "default");
  EXPECT_TRUE(config.is_set("problem.viscosity"));
  EXPECT_EQ(config.where("problem.viscosity"), "cfg.yaml:2");
}

TEST(Config, ReadsValuesWithTheirLines) {
  const Config config = parse(
      "solver:\n"                       // 1
      "  type: gmres\n"                 // 2
      "  rtol: 1.0e-6\n"                // 3
      "  max_iterations: 50\n"          // 4
      "  monitor: true\n"               // 5
      "grid:\n"                         // 6
      "  cells: [64, 128, 8]\n"         // 7
      "  length:\n"                     // 8
      "    - 2\n"                       // 9
      "    - 0.5\n"                     // 10
      "problem:\n"                      // 11
      "  viscosity: 1e-3\n"             // 12
      "  source: sin(pi*x) * y\n");     // 13
  EXPECT_EQ(config.string("solver.type"), "gmres");
  EXPECT_DOUBLE_EQ(config.real("solver.rtol"), 1e-6);
  EXPECT_EQ(config.integer("solver.max_iterations"), 50);
  EXPECT_TRUE(config.boolean("solver.monitor"));
  EXPECT_EQ(config.integers("grid.cells"), (std::vector<long>{64, 128, 8}));
  EXPECT_EQ(config.reals("grid.length"), (std::vector<double>{2.0, 0.5}));
  EXPECT_DOUBLE_EQ(config.real("problem.viscosity"), 1e-3);
  EXPECT_EQ(config.expression("problem.source"), "sin(pi*x) * y");
  EXPECT_EQ(config.where("solver.rtol"), "cfg.yaml:3");
  EXPECT_EQ(config.where("grid.cells"), "cfg.yaml:7");
  EXPECT_EQ(config.label("problem.source"), "cfg.yaml:13: problem.source");
  EXPECT_TRUE(config.is_set("solver"));
  EXPECT_FALSE(config.is_set("petsc"));
}

TEST(Config, AcceptsTheUsualFormsOfReals) {
  for (const auto& [text, value] : std::vector<std::pair<std::string, double>>{
           {"1e-8", 1e-8}, {"1.0e-8", 1e-8}, {"10", 10.0}, {"+2.5", 2.5}, {".5", 0.5}, {"1E3", 1000.0}}) {
    const Config config = parse(std::string(minimal) + "solver:\n  rtol: " + text + "\n");
    EXPECT_DOUBLE_EQ(config.real("solver.rtol"), value) << text;
  }
}

TEST(Config, EmptyTextGivesAllDefaults) {
  const Schema schema = Schema().real("solver.rtol", 1e-8, "tolerance");
  const Config config = Config::from_string("", "empty.yaml", schema);
  EXPECT_DOUBLE_EQ(config.real("solver.rtol"), 1e-8);
}

TEST(ConfigErrors, MalformedYamlGivesLineAndColumn) {
  const std::string message = parse_error("solver:\n  rtol: [1, 2\nproblem:\n");
  EXPECT_EQ(message, "cfg.yaml:3:8: malformed YAML: end of sequence flow not found");
  EXPECT_EQ(parse_error("solver:\n  rtol: 1\n bad\n"), "cfg.yaml:3:2: malformed YAML: end of map not found");
}

TEST(ConfigErrors, UnknownKeySuggestsTheClosestSibling) {
  EXPECT_EQ(parse_error("problem:\n  viscosity: 1\nsolver:\n  rtoll: 1e-6\n"),
            "cfg.yaml:4: solver.rtoll: unknown key; did you mean 'solver.rtol'?");
  EXPECT_EQ(parse_error("solvr:\n  rtol: 1e-6\n"), "cfg.yaml:1: solvr: unknown key; did you mean 'solver'?");
}

TEST(ConfigErrors, UnknownKeyInTheWrongSectionNamesTheRightOne) {
  EXPECT_EQ(parse_error("rtol: 1e-6\n"), "cfg.yaml:1: rtol: unknown key; did you mean 'solver.rtol'?");
}

TEST(ConfigErrors, UnknownKeyWithNothingCloseListsTheSection) {
  EXPECT_EQ(parse_error("solver:\n  preconditioner: ilu\n"),
            "cfg.yaml:2: solver.preconditioner: unknown key; expected one of: type, rtol, max_iterations, monitor, "
            "omega");
}

TEST(ConfigErrors, WrongScalarTypes) {
  EXPECT_EQ(parse_error("solver:\n  rtol: abc\n"),
            "cfg.yaml:2: solver.rtol: 'abc' is not a real number; expected a real number > 0");
  EXPECT_EQ(parse_error("solver:\n\n  max_iterations: 1.5\n"),
            "cfg.yaml:3: solver.max_iterations: '1.5' is not an integer; expected an integer >= 1 and <= 2147483647");
  EXPECT_EQ(parse_error("solver:\n  monitor: yes\n"),
            "cfg.yaml:2: solver.monitor: 'yes' is not a boolean; expected true or false");
  EXPECT_EQ(parse_error("solver:\n  rtol:\n"), "cfg.yaml:2: solver.rtol: has no value; expected a real number > 0");
}

TEST(ConfigErrors, MapWhereScalarExpectedAndViceVersa) {
  EXPECT_EQ(parse_error("solver:\n  rtol:\n    value: 1\n"),
            "cfg.yaml:2: solver.rtol: a map was given; expected a real number > 0");
  EXPECT_EQ(parse_error("problem: 3\n"),
            "cfg.yaml:1: problem: '3' was given; expected a map with keys source, viscosity");
  EXPECT_EQ(parse_error("- 1\n- 2\n"), "cfg.yaml: top level: a list was given; expected a map with keys solver, "
                                       "grid, problem, petsc, obstacles");
}

TEST(ConfigErrors, NonFiniteRealsAreRejected) {
  EXPECT_EQ(parse_error("solver:\n  rtol: .inf\n"),
            "cfg.yaml:2: solver.rtol: '.inf' is not finite; expected a finite real number");
  EXPECT_EQ(parse_error("solver:\n  omega: .nan\n"),
            "cfg.yaml:2: solver.omega: '.nan' is not finite; expected a finite real number");
}

TEST(ConfigErrors, OutOfRange) {
  EXPECT_EQ(parse_error("solver:\n  rtol: -1\n"), "cfg.yaml:2: solver.rtol: -1 is out of range; expected > 0");
  EXPECT_EQ(parse_error("solver:\n  omega: 2\n"),
            "cfg.yaml:2: solver.omega: 2 is out of range; expected > 0 and < 2");
  EXPECT_EQ(parse_error("solver:\n  max_iterations: 0\n"),
            "cfg.yaml:2: solver.max_iterations: 0 is out of range; expected >= 1 and <= 2147483647");
}

// Issue 12, item 8: 4294967301 used to become 5 and [4294967360, 32] a 64 x 32 grid (truncated to
// 32 bits on the way to PetscInt/int). Every integer key is bounded by what a PetscInt holds.
TEST(ConfigErrors, IntegersBeyondPetscIntAreRejectedNotTruncated) {
  ASSERT_EQ(PETSC_MAX_INT, 2147483647);  // the bound in the messages below (32-bit PetscInt)
  EXPECT_EQ(parse_error(std::string(minimal) + "solver:\n  max_iterations: 4294967301\n"),
            "cfg.yaml:4: solver.max_iterations: 4294967301 is out of range; expected >= 1 and <= 2147483647");
  EXPECT_EQ(parse_error(std::string(minimal) + "grid:\n  cells: [4294967360, 32]\n"),
            "cfg.yaml:4: grid.cells[0]: 4294967360 is out of range; expected >= 1 and <= 2147483647");
  EXPECT_EQ(parse_error(minimal, {"grid.cells=[32, 2147483648]"}),
            "--set grid.cells: grid.cells[1]: 2147483648 is out of range; expected >= 1 and <= 2147483647");
  // The largest value passes unchanged; past the range of long it is "too large".
  EXPECT_EQ(parse(minimal, {"solver.max_iterations=2147483647"}).integer("solver.max_iterations"), 2147483647);
  EXPECT_NE(parse_error(minimal, {"solver.max_iterations=99999999999999999999"}).find("too large for an integer"),
            std::string::npos);
}

TEST(ConfigErrors, IntegerKeysWithoutARangeGetPetscIntBoundsOnBothSides) {
  const Schema schema = Schema()
                            .integer("free", 0, "no declared range")
                            .integer("wide", 0, "declared wider than a PetscInt", Range::between(-1e12, 1e12))
                            .integer_list("list", {1}, "a list", Length::at_least(1));
  auto error = [&](const std::string& yaml) {
    return config_error([&] { Config::from_string(yaml, "b.yaml", schema); });
  };
  EXPECT_EQ(error("free: -2147483649\n"),
            "b.yaml:1: free: -2147483649 is out of range; expected >= -2147483648 and <= 2147483647");
  EXPECT_EQ(error("wide: 3000000000\n"),
            "b.yaml:1: wide: 3000000000 is out of range; expected >= -2147483648 and <= 2147483647");
  EXPECT_EQ(error("list: [1, -3000000000]\n"),
            "b.yaml:1: list[1]: -3000000000 is out of range; expected >= -2147483648 and <= 2147483647");
  EXPECT_EQ(Config::from_string("free: -2147483648\n", "b.yaml", schema).integer("free"), -2147483648L);
  // The bound is part of the documented range.
  EXPECT_NE(schema.markdown("b").find("| `free` | integer | `0` | >= -2147483648 and <= 2147483647 |"),
            std::string::npos)
      << schema.markdown("b");
}

// Issue 12, item 13: a value the user wrote is quoted in a message by its first 60 characters and
// its length, never whole (a 100 kB value made a 100 kB error line).
TEST(ConfigErrors, LongValuesAreShortenedInMessages) {
  const std::string huge(100000, 'q');
  const std::string shown = "'" + std::string(60, 'q') + "... (100000 characters)'";
  EXPECT_EQ(parse_error("solver:\n  type: " + huge + "\n"),
            "cfg.yaml:2: solver.type: " + shown + " is not an allowed choice; expected one of: cg, gmres, bicgstab");
  EXPECT_EQ(parse_error("solver:\n  max_iterations: " + huge + "\n"),
            "cfg.yaml:2: solver.max_iterations: " + shown + " is not an integer; expected an integer >= 1 and <= 2147483647");
  EXPECT_EQ(parse_error("solver:\n  rtol: " + huge + "\n"),
            "cfg.yaml:2: solver.rtol: " + shown + " is not a real number; expected a real number > 0");
  EXPECT_EQ(parse_error("solver:\n  monitor: " + huge + "\n"),
            "cfg.yaml:2: solver.monitor: " + shown + " is not a boolean; expected true or false");
  EXPECT_EQ(parse_error("solver:\n  type: [" + huge + "]\n"),
            "cfg.yaml:2: solver.type: a list was given; expected one of: cg, gmres, bicgstab");
  // Key names the user wrote, and values given with --set, too.
  for (const std::string& message :
       {parse_error(huge + ": 1\n"), parse_error(minimal, {"solver.type=" + huge}), parse_error(minimal, {huge + "=1"}),
        parse_error(minimal, {"solver.rtol=[" + huge})})
    EXPECT_LT(message.size(), 400u) << message.substr(0, 400);
}

TEST(ConfigErrors, ChoiceNotAllowedListsTheChoices) {
  EXPECT_EQ(parse_error("solver:\n  type: lu\n"),
            "cfg.yaml:2: solver.type: 'lu' is not an allowed choice; expected one of: cg, gmres, bicgstab");
}

TEST(ConfigErrors, ListElementsAndSizes) {
  EXPECT_EQ(parse_error("grid:\n  cells: [64, x]\n"),
            "cfg.yaml:2: grid.cells[1]: 'x' is not an integer; expected an integer >= 1 and <= 2147483647");
  EXPECT_EQ(parse_error("grid:\n  length:\n    - 1\n    - -2\n"),
            "cfg.yaml:4: grid.length[1]: -2 is out of range; expected > 0");
  EXPECT_EQ(parse_error("grid:\n  cells: [64]\n"),
            "cfg.yaml:2: grid.cells: has 1 value; expected between 2 and 3 values");
  EXPECT_EQ(parse_error("grid:\n  cells: 64\n"),
            "cfg.yaml:2: grid.cells: '64' was given; expected a list of integers such as [64, 64]");
}

TEST(ConfigErrors, RequiredKeyMissingNamesItsParentMap) {
  EXPECT_EQ(parse_error("solver:\n  rtol: 1e-6\n"),
            "cfg.yaml: problem.viscosity: required key is missing; expected a real number > 0");
  EXPECT_EQ(parse_error("solver:\n  rtol: 1e-6\nproblem:\n  source: x\n"),
            "cfg.yaml:3: problem.viscosity: required key is missing; expected a real number > 0");
}

TEST(ConfigErrors, DuplicateKey) {
  EXPECT_EQ(parse_error("solver:\n  rtol: 1\n  rtol: 2\n"),
            "cfg.yaml:3: solver.rtol: duplicate key; first given at line 2");
}

TEST(ConfigErrors, MissingFile) {
  EXPECT_EQ(config_error([] { Config::from_file("no-such-config.yaml", test_schema()); }),
            "cannot open config file 'no-such-config.yaml'");
}

TEST(ConfigOverrides, WinOverTheFileAndSayWhereTheyCameFrom) {
  const Config config = parse("solver:\n  rtol: 1e-6\nproblem:\n  viscosity: 1\n",
                              {"solver.rtol=1e-10", "grid.cells=[64,64]", "solver.type = gmres"});
  EXPECT_DOUBLE_EQ(config.real("solver.rtol"), 1e-10);
  EXPECT_EQ(config.where("solver.rtol"), "--set solver.rtol");
  EXPECT_EQ(config.integers("grid.cells"), (std::vector<long>{64, 64}));
  EXPECT_EQ(config.string("solver.type"), "gmres");
  EXPECT_EQ(config.where("problem.viscosity"), "cfg.yaml:4");
}

TEST(ConfigOverrides, CanGiveARequiredKeyAndAWholeSection) {
  const Config config = parse("", {"problem={viscosity: 0.5, source: x*y}"});
  EXPECT_DOUBLE_EQ(config.real("problem.viscosity"), 0.5);
  EXPECT_EQ(config.where("problem.viscosity"), "--set problem");
  EXPECT_EQ(config.expression("problem.source"), "x*y");
}

TEST(ConfigOverrides, ErrorsAreLocatedAtTheOverride) {
  EXPECT_EQ(parse_error(minimal, {"solver.rtoll=1e-8"}),
            "--set solver.rtoll: solver.rtoll: unknown key; did you mean 'solver.rtol'?");
  EXPECT_EQ(parse_error(minimal, {"solvr.rtol=1e-8"}),
            "--set solvr.rtol: solvr.rtol: unknown key; did you mean 'solver.rtol'?");
  EXPECT_EQ(parse_error(minimal, {"solver.rtol=abc"}),
            "--set solver.rtol: solver.rtol: 'abc' is not a real number; expected a real number > 0");
  EXPECT_EQ(parse_error(minimal, {"grid.cells=[64,0]"}),
            "--set grid.cells: grid.cells[1]: 0 is out of range; expected >= 1 and <= 2147483647");
  EXPECT_EQ(parse_error(minimal, {"solver.rtol"}), "--set solver.rtol: expected dotted.key=value");
  EXPECT_NE(parse_error(minimal, {"obstacles[0].radius=1"}).find("cannot set a key inside a list"), std::string::npos);
}

TEST(ConfigOverrides, SetOneStringMapEntry) {
  const Config config = parse(std::string(minimal) + "petsc:\n  pc_type: jacobi\n  ksp_view: x\n",
                              {"petsc.pc_type=mg", "petsc.ksp_monitor="});
  const auto petsc = config.string_map("petsc");
  EXPECT_EQ(petsc.at("pc_type"), "mg");
  EXPECT_EQ(petsc.at("ksp_monitor"), "");
  EXPECT_EQ(petsc.at("ksp_view"), "x");
  EXPECT_EQ(config.where("petsc.pc_type"), "--set petsc.pc_type");
  EXPECT_EQ(config.where("petsc.ksp_view"), "cfg.yaml:5");
}

TEST(ConfigStringMap, ReadsScalarsAndEmptyFlags) {
  const Config config = parse(std::string(minimal) +
                              "petsc:\n"            // 3
                              "  ksp_monitor: \"\"\n"  // 4
                              "  pc_type: mg\n"     // 5
                              "  ksp_view:\n"       // 6
                              "  mg_levels: 3\n");  // 7
  const std::map<std::string, std::string> expected{
      {"ksp_monitor", ""}, {"pc_type", "mg"}, {"ksp_view", ""}, {"mg_levels", "3"}};
  EXPECT_EQ(config.string_map("petsc"), expected);
  EXPECT_TRUE(config.is_set("petsc"));
  EXPECT_EQ(parse_error(std::string(minimal) + "petsc:\n  pc_type:\n    name: mg\n"),
            "cfg.yaml:4: petsc.pc_type: a map was given; expected a single value");
  EXPECT_EQ(parse_error(std::string(minimal) + "petsc: [a, b]\n"),
            "cfg.yaml:3: petsc: a list was given; expected a map of names to values");
}

TEST(ConfigList, ValidatesEachElementWithItsOwnLines) {
  const std::string head = std::string(minimal) + "obstacles:\n";  // lines 1-3
  const Config config = parse(head +
                              "  - center: [0.25, 0.5]\n"  // 4
                              "    radius: 0.05\n"          // 5
                              "  - shape: box\n"            // 6
                              "    center: [0.75, 0.5]\n"); // 7
  const auto obstacles = config.list("obstacles");
  ASSERT_EQ(obstacles.size(), 2u);
  EXPECT_EQ(obstacles[0].reals("center"), (std::vector<double>{0.25, 0.5}));
  EXPECT_DOUBLE_EQ(obstacles[0].real("radius"), 0.05);
  EXPECT_EQ(obstacles[0].string("shape"), "circle");
  EXPECT_EQ(obstacles[1].string("shape"), "box");
  EXPECT_DOUBLE_EQ(obstacles[1].real("radius"), 0.1);
  EXPECT_EQ(obstacles[0].where("radius"), "cfg.yaml:5");
  EXPECT_EQ(obstacles[1].where("center"), "cfg.yaml:7");
  EXPECT_EQ(config_error([&] { obstacles[1].fail("center", "lies outside the domain"); }),
            "cfg.yaml:7: obstacles[1].center: lies outside the domain");

  EXPECT_EQ(parse_error(head + "  - center: [0.25, 0.5]\n  - center: [0.5, 0.5]\n    radius: -0.5\n"),
            "cfg.yaml:6: obstacles[1].radius: -0.5 is out of range; expected > 0");
  EXPECT_EQ(parse_error(head + "  - center: [0.25, 0.5]\n    raduis: 0.5\n"),
            "cfg.yaml:5: obstacles[0].raduis: unknown key; did you mean 'obstacles[0].radius'?");
  EXPECT_EQ(parse_error(head + "  - center: [0.25, 0.5]\n  - radius: 0.5\n"),
            "cfg.yaml:5: obstacles[1].center: required key is missing; expected a list of real numbers such as "
            "[0.5, 1]");
  EXPECT_EQ(parse_error(head + "  - center: [0.25, 0.5, 1]\n"),
            "cfg.yaml:4: obstacles[0].center: has 3 values; expected exactly 2 values");
  EXPECT_EQ(parse_error(head + "  - 3\n"),
            "cfg.yaml:4: obstacles[0]: '3' was given; expected a map with keys shape, center, radius");
}

TEST(ConfigList, WholeListByOverride) {
  const Config config = parse(minimal, {"obstacles=[{center: [0.5, 0.5]}, {center: [1, 1], radius: 2}]"});
  const auto obstacles = config.list("obstacles");
  ASSERT_EQ(obstacles.size(), 2u);
  EXPECT_DOUBLE_EQ(obstacles[1].real("radius"), 2.0);
  EXPECT_EQ(obstacles[1].where("radius"), "--set obstacles");
}

TEST(ConfigApi, FailNamesTheKeyAndItsLocation) {
  const Config config = parse(std::string(minimal) + "solver:\n  rtol: 1e-3\n");
  EXPECT_EQ(config_error([&] { config.fail("solver.rtol", "is too loose for this problem"); }),
            "cfg.yaml:4: solver.rtol: is too loose for this problem");
  EXPECT_EQ(config_error([&] { config.fail("solver.type", "needs PETSc"); }), "cfg.yaml:3: solver.type: needs PETSc");
  EXPECT_EQ(config_error([&] { config.fail("grid.cells", "too coarse"); }), "cfg.yaml: grid.cells: too coarse");
}

TEST(ConfigApi, ProgrammingErrorsAreNotConfigErrors) {
  const Config config = parse(minimal);
  auto expect_plain_error = [](const std::function<void()>& action, const std::string& path) {
    try {
      action();
      ADD_FAILURE() << "no error for " << path;
    } catch (const ConfigError& e) {
      ADD_FAILURE() << "ConfigError for a programming error: " << e.what();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  };
  expect_plain_error([&] { (void)config.real("solver.rtoll"); }, "solver.rtoll");
  expect_plain_error([&] { (void)config.integer("solver.rtol"); }, "solver.rtol");
  expect_plain_error([&] { (void)config.string("problem.source"); }, "problem.source");
}

TEST(ConfigApi, PeekStringReadsBeforeValidation) {
  const std::string yaml = "app: cavity\nsolver:\n  whatever: 1\n";
  EXPECT_EQ(Config::peek_string(yaml, "cfg.yaml", "app", "poisson"), "cavity");
  EXPECT_EQ(Config::peek_string(yaml, "cfg.yaml", "model.name", "none"), "none");
  EXPECT_EQ(Config::peek_string(yaml, "cfg.yaml", "app", "poisson", {"app=channel"}), "channel");
  EXPECT_EQ(config_error([&] { Config::peek_string("app: [a]\n", "cfg.yaml", "app", "x"); }),
            "cfg.yaml:1: app: a list was given; expected a name");
}

TEST(ConfigApi, FromFileNamesTheFile) {
  const std::string path = testing::TempDir() + "fluxion_config_test.yaml";
  {
    std::ofstream out(path);
    out << "problem:\n  viscosity: 0.25\nsolver:\n  rtol: x\n";
  }
  EXPECT_EQ(Config::peek_string_from_file(path, "problem.viscosity", ""), "0.25");
  EXPECT_EQ(config_error([&] { Config::from_file(path, test_schema()); }),
            path + ":4: solver.rtol: 'x' is not a real number; expected a real number > 0");
  {
    std::ofstream out(path);
    out << "problem:\n  viscosity: 0.25\n";
  }
  const Config config = Config::from_file(path, test_schema(), {"solver.rtol=1e-4"});
  EXPECT_EQ(config.where("problem.viscosity"), path + ":2");
  EXPECT_DOUBLE_EQ(config.real("solver.rtol"), 1e-4);
  std::remove(path.c_str());
}

TEST(ConfigOutput, JsonRoundTripsTheValues) {
  const Config config = parse(std::string(minimal) +
                              "solver:\n  rtol: 1.5e-7\n  monitor: true\n"
                              "petsc:\n  pc_type: mg\n"
                              "obstacles:\n  - center: [0.25, 0.5]\n",
                              {"grid.cells=[8,16]"});
  const auto json = nlohmann::json::parse(config.to_json());
  EXPECT_DOUBLE_EQ(json["solver"]["rtol"].get<double>(), 1.5e-7);
  EXPECT_EQ(json["solver"]["type"], "cg");
  EXPECT_EQ(json["solver"]["max_iterations"], 1000);
  EXPECT_EQ(json["solver"]["monitor"], true);
  EXPECT_EQ(json["grid"]["cells"], nlohmann::json::parse("[8, 16]"));
  EXPECT_DOUBLE_EQ(json["problem"]["viscosity"].get<double>(), 0.01);
  EXPECT_EQ(json["problem"]["source"], "0");
  EXPECT_EQ(json["petsc"]["pc_type"], "mg");
  ASSERT_EQ(json["obstacles"].size(), 1u);
  EXPECT_DOUBLE_EQ(json["obstacles"][0]["radius"].get<double>(), 0.1);
  EXPECT_EQ(json["obstacles"][0]["shape"], "circle");
}

TEST(ConfigOutput, YamlReadsBackToTheSameValues) {
  const Config config = parse(std::string(minimal) + "solver:\n  rtol: 0.1\n  type: gmres\n"
                                                     "petsc:\n  ksp_monitor: \"\"\n  pc_mg_levels: 3\n  flag: 'true'\n"
                                                     "obstacles:\n  - center: [0.25, 0.5]\n");
  const Config again = Config::from_string(config.to_yaml(), "resolved.yaml", test_schema());
  EXPECT_DOUBLE_EQ(again.real("solver.rtol"), 0.1);
  EXPECT_EQ(again.string("solver.type"), "gmres");
  EXPECT_EQ(again.integers("grid.cells"), (std::vector<long>{32, 32}));
  EXPECT_EQ(again.string_map("petsc"), config.string_map("petsc"));
  ASSERT_EQ(again.list("obstacles").size(), 1u);
  EXPECT_EQ(again.list("obstacles")[0].reals("center"), (std::vector<double>{0.25, 0.5}));
  EXPECT_TRUE(again.is_set("solver.max_iterations"));  // every key is written out
  // A string that reads like a bool keeps its quotes, so other YAML readers see a string too.
  EXPECT_NE(config.to_yaml().find("flag: \"true\""), std::string::npos) << config.to_yaml();
}

TEST(SchemaDocs, MarkdownListsEveryKeyWithItsDefault) {
  const std::string page = test_schema().markdown("Test config");
  EXPECT_EQ(page.rfind("# Test config\n", 0), 0u);
  for (const char* key : {"`solver.type`", "`solver.rtol`", "`solver.max_iterations`", "`solver.monitor`",
                          "`solver.omega`", "`grid.cells`", "`grid.length`", "`problem.source`",
                          "`problem.viscosity`", "`petsc`", "`obstacles`", "`obstacles[].shape`",
                          "`obstacles[].center`", "`obstacles[].radius`"})
    EXPECT_NE(page.find(key), std::string::npos) << key;
  for (const char* text : {"`1e-8`", "`cg`", "`1000`", "`false`", "`[32, 32]`", "*required*", "> 0 and < 2",
                           "`cg`, `gmres`, `bicgstab`", "The linear solver of the pressure equation."})
    EXPECT_NE(page.find(text), std::string::npos) << text;
  EXPECT_NE(page.find("| `solver.rtol` | real | `1e-8` | > 0 | Relative residual tolerance |"), std::string::npos)
      << page;
}

TEST(SchemaDeclarations, MistakesAreProgrammingErrors) {
  EXPECT_THROW(Schema().real("a.b", 1, "x").real("a.b", 2, "y"), Error);
  EXPECT_THROW(Schema().real("a", -1, "x", Range::greater_than(0)), Error);
  EXPECT_THROW(Schema().string("a", "lu", "x", {"cg"}), Error);
  EXPECT_THROW(Schema().real("a", 1, "x").real("a.b", 1, "y"), Error);
  EXPECT_THROW(Schema().integer_list("cells", {1}, "x", Length::exactly(2)), Error);
}

TEST(ConfigApi, IsDefaultComparesWithTheDeclaredDefault) {
  const Config config = parse(std::string(minimal) + "solver:\n  type: cg\n  rtol: 1e-6\n", {"grid.cells=[32, 32]"});
  EXPECT_TRUE(config.is_default("solver.type"));  // given, with the default value
  EXPECT_TRUE(config.is_set("solver.type"));
  EXPECT_FALSE(config.is_default("solver.rtol"));
  EXPECT_TRUE(config.is_default("grid.cells"));
  EXPECT_TRUE(config.is_default("solver.omega"));  // not given
  EXPECT_TRUE(config.is_default("obstacles"));
  EXPECT_FALSE(config.is_default("problem.viscosity"));  // required: no default
  EXPECT_FALSE(parse(minimal, {"obstacles=[{center: [0, 0]}]"}).is_default("obstacles"));
}

TEST(SchemaDeclarations, KeysListsThePathsInDeclarationOrder) {
  const auto keys = Schema().real("b.x", 1, "x").integer("a", 1, "a").string_map("m", "m").keys();
  EXPECT_EQ(keys, (std::vector<std::string>{"b.x", "a", "m"}));
}

TEST(SchemaDeclarations, MergeComposesCommonAndAppKeys) {
  Schema common = Schema().string("app", required, "Application name").integer("seed", 0, "Random seed");
  const Schema app = Schema().real("cavity.lid_speed", 1.0, "Lid speed");
  common.merge(app);
  const Config config = Config::from_string("app: cavity\ncavity:\n  lid_speed: 2\n", "c.yaml", common);
  EXPECT_EQ(config.string("app"), "cavity");
  EXPECT_DOUBLE_EQ(config.real("cavity.lid_speed"), 2.0);
  EXPECT_THROW(common.merge(app), Error);
}

}  // namespace
}  // namespace fluxion
