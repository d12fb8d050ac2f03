// main() of every test executable: PETSc (and MPI) live for the whole run.
#include <gtest/gtest.h>

#include "fluxion/core/petsc_session.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Listing the tests (at build time, for ctest) needs neither PETSc nor MPI: skip their start.
  if (GTEST_FLAG_GET(list_tests)) return RUN_ALL_TESTS();
  fluxion::PetscSession petsc(&argc, &argv);
  return RUN_ALL_TESTS();
}
