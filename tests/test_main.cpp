// main() of every test executable: PETSc (and MPI) live for the whole run.
#include <gtest/gtest.h>

#include "fluxion/core/petsc_session.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  fluxion::PetscSession petsc(&argc, &argv);
  return RUN_ALL_TESTS();
}
