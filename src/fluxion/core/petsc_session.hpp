// The PETSc/MPI lifetime of a program, and feeding PETSc's options database.
#pragma once

#include <petscsys.h>  // MPI

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

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

/// The PETSc options given on the command line (name with its dash, value or ""), in order, as
/// PetscSession(argc, argv) found them: a word starting with '-' that is not a number is an
/// option; the word after it is its value unless it is an option too.
const std::vector<std::pair<std::string, std::string>>& petsc_command_line_options();

/// Options in PETSc's database that nothing has read so far (what PETSc's -options_left reports
/// at the end): misspelled ones (-ksp_montor) or ones the chosen solver does not use. Names carry
/// their dash; values are "" for flags.
std::vector<std::pair<std::string, std::string>> unused_petsc_options();

/// Runs `f` on rank 0 of `comm` only; if it throws, every rank throws IoError with its message
/// (so that no rank is left waiting in the next collective call). Collective.
void on_root(MPI_Comm comm, const std::function<void()>& f);

/// PETSc's version string, e.g. "3.18.5".
std::string petsc_version();

}  // namespace fluxion
