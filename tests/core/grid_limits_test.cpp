// Limits on what core accepts: grids PetscInt cannot index or memory cannot hold are refused before
// anything is allocated, and long expressions are shortened in error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "fluxion/core/error.hpp"
#include "fluxion/core/expression.hpp"
#include "fluxion/core/grid.hpp"

namespace fluxion {
namespace {

/// The ConfigError message of building the grid on every rank, or "" when it was built.
std::string grid_error(const GridSpec& spec) {
  try {
    Grid g(PETSC_COMM_WORLD, spec);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

void expect_contains(const std::string& message, const std::string& part) {
  EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
}

// Every rank refuses, with the same message, before the DMDA exists (a DMDA of 10^15 cells would
// not even be attempted: the test would otherwise run out of memory, not time).
TEST(GridLimitsMpi, CellCountsPetscIntCannotIndexAreRefused) {
  const std::string cube = grid_error({.dim = 3, .cells = {100000, 100000, 100000}});
  expect_contains(cube, "grid.cells: [100000, 100000, 100000] is 1000000000000000 cells");
  expect_contains(cube, "PETSc here indexes at most " + std::to_string(static_cast<long long>(PETSC_MAX_INT)));
  // 46341^2 = 2147488281 is just past 2^31 - 1.
  const std::string plane = grid_error({.dim = 2, .cells = {46341, 46341, 1}});
  if (sizeof(PetscInt) == 4) {
    expect_contains(plane, "grid.cells: [46341, 46341] is 2147488281 cells");
  } else {
    EXPECT_EQ(plane.find("PETSc here indexes"), std::string::npos) << plane;
  }
}

TEST(GridLimitsMpi, GridsTheMemoryCannotHoldAreRefusedWithTheEstimate) {
  // 1200^3 = 1.728e9 cells index fine, but at the default 600 bytes a cell need ~966 GiB.
  const GridSpec spec{.dim = 3, .cells = {1200, 1200, 1200}};
  const double need_gib = 1200.0 * 1200.0 * 1200.0 * GridSpec::kDefaultBytesPerCell / (1024.0 * 1024.0 * 1024.0);
  char need[32];
  std::snprintf(need, sizeof need, "%.0f", need_gib);
  ASSERT_GT(need_gib * 1024.0 * 1024.0 * 1024.0, available_memory_bytes()) << "a machine this large needs a larger test";
  const std::string message = grid_error(spec);
  expect_contains(message, std::string("grid.cells: [1200, 1200, 1200] needs about ") + need + " GiB; ");
  expect_contains(message, "GiB available");
}

TEST(GridLimitsMpi, TheCallerSetsTheBytesPerCell) {
  GridSpec spec{.dim = 2, .cells = {1000, 1000, 1}};
  spec.bytes_per_cell = 2.0 * available_memory_bytes() / 1e6;  // twice what the machine has
  expect_contains(grid_error(spec), "grid.cells: [1000, 1000] needs about");
  spec.bytes_per_cell = 0.0;  // no check
  EXPECT_EQ(grid_error(spec), "");
  spec.bytes_per_cell = GridSpec::kDefaultBytesPerCell;  // 0.6 GB: fits any machine that runs the tests
  EXPECT_EQ(grid_error(spec), "");
}

TEST(GridLimits, AvailableMemoryIsPositiveAndFinite) {
  const double bytes = available_memory_bytes();
  EXPECT_GT(bytes, 0.0);
  EXPECT_TRUE(std::isfinite(bytes));
}

TEST(GridLimits, LongExpressionsAreShortenedInErrors) {
  // 100 kB of a formula with a syntax error at its end.
  std::string text;
  while (text.size() < 100000) text += "x + ";
  text += ")";
  try {
    Expression(text, "cfg.yaml:3: problem.source");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    EXPECT_LT(message.size(), 400u) << message.substr(0, 400);
    expect_contains(message, "cfg.yaml:3: problem.source: invalid expression 'x + x + ");
    expect_contains(message, "... (" + std::to_string(text.size()) + " characters)");
  }
  // muparser quotes an unknown token; a 100 kB name is shortened there too.
  try {
    Expression("1 + " + std::string(100000, 'a'), "here");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_LT(std::string(e.what()).size(), 400u);
  }
  // A short text is quoted whole.
  try {
    Expression("1 + sin(x", "here");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    expect_contains(e.what(), "'1 + sin(x'");
  }
  EXPECT_EQ(abbreviate(std::string(80, 'y')), std::string(80, 'y'));
  EXPECT_EQ(abbreviate(std::string(81, 'y')), std::string(60, 'y') + "... (81 characters)");
}

}  // namespace
}  // namespace fluxion
