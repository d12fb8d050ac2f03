// Exception types of fluxion and the PETSc error-code bridge.
#pragma once

#include <stdexcept>
#include <string>

namespace fluxion {

/// Base of every error fluxion throws; what() is one actionable line.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad user input in a config file or on the command line; the message names
/// the file, the line and the key where it is known ("cfg.yaml:12: solver.rtol: ...").
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// A file that cannot be read or written, or whose content is not what we expect.
class IoError : public Error {
 public:
  using Error::Error;
};

/// A numerical failure: a solver that did not converge, a non-finite field.
class NumericalError : public Error {
 public:
  using Error::Error;
};

/// Thrown by FLUXION_PETSC_CHECK when a PETSc call returns a non-zero code.
class PetscCallError : public Error {
 public:
  PetscCallError(int code, const char* call, const char* file, int line);
  int code() const noexcept { return code_; }

 private:
  int code_;
};

}  // namespace fluxion

/// Turns a PETSc error code into a fluxion::PetscCallError at the call site.
#define FLUXION_PETSC_CHECK(call)                                              \
  do {                                                                         \
    const int fluxion_petsc_ierr_ = static_cast<int>(call);                    \
    if (fluxion_petsc_ierr_ != 0)                                              \
      throw ::fluxion::PetscCallError(fluxion_petsc_ierr_, #call, __FILE__, __LINE__); \
  } while (0)
