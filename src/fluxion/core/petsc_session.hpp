// The PETSc/MPI lifetime of a program, and feeding PETSc's options database.
#pragma once

#include <map>
#include <string>

namespace fluxion {

/// Initialises PETSc (and MPI) on construction and finalises on destruction. Create one in main()
/// before any other fluxion object, and let it outlive them all. If PETSc is already initialised
/// (an embedding code did it) it does nothing either way.
class PetscSession {
 public:
  PetscSession(int* argc, char*** argv);
  PetscSession();  // no command line
  ~PetscSession();
  PetscSession(const PetscSession&) = delete;
  PetscSession& operator=(const PetscSession&) = delete;

 private:
  bool owns_ = false;
};

/// Inserts options into PETSc's database, e.g. {"ksp_monitor", ""}, {"pc_type", "mg"}; a leading
/// dash is optional. Options already given on the command line win, so the command line overrides
/// a config's `petsc:` section.
void insert_petsc_options(const std::map<std::string, std::string>& options);

/// PETSc's version string, e.g. "3.18.5".
std::string petsc_version();

}  // namespace fluxion
