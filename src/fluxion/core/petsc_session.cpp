// PetscSession and the options-database helpers.
#include "fluxion/core/petsc_session.hpp"

#include <petscsys.h>

#include <utility>

#include "fluxion/core/error.hpp"

namespace fluxion {

namespace {
// The detailed message of the PETSc error being raised, kept for the exception that reports it.
thread_local std::string last_petsc_message;

PetscErrorCode record_error(MPI_Comm, int line, const char* function, const char* file, PetscErrorCode code,
                            PetscErrorType type, const char* message, void*) {
  if (type == PETSC_ERROR_INITIAL)
    last_petsc_message = std::string(message ? message : "") + " [" + (function ? function : "?") + " at " +
                         (file ? file : "?") + ":" + std::to_string(line) + "]";
  return code;
}
}  // namespace

PetscSession::PetscSession(int* argc, char*** argv) {
  PetscBool initialized = PETSC_FALSE;
  PetscInitialized(&initialized);
  if (initialized) return;
  FLUXION_PETSC_CHECK(PetscInitialize(argc, argv, nullptr, nullptr));
  // fluxion turns error codes into exceptions; PETSc's own traceback would only repeat them.
  PetscPushErrorHandler(record_error, nullptr);
  owns_ = true;
}

PetscSession::PetscSession() : PetscSession(nullptr, nullptr) {}

PetscSession::~PetscSession() {
  if (owns_) PetscFinalize();
}

void insert_petsc_options(const std::map<std::string, std::string>& options) {
  for (const auto& [key, value] : options) {
    const std::string name = key.starts_with('-') ? key : "-" + key;
    PetscBool set = PETSC_FALSE;
    FLUXION_PETSC_CHECK(PetscOptionsHasName(nullptr, nullptr, name.c_str(), &set));
    if (set) continue;  // the command line wins
    FLUXION_PETSC_CHECK(PetscOptionsSetValue(nullptr, name.c_str(), value.empty() ? nullptr : value.c_str()));
  }
}

std::string petsc_version() {
  PetscInt major = 0, minor = 0, subminor = 0;
  PetscGetVersionNumber(&major, &minor, &subminor, nullptr);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(subminor);
}

PetscCallError::PetscCallError(int code, const char* call, const char* file, int line)
    : Error([&] {
        const char* text = nullptr;
        PetscErrorMessage(static_cast<PetscErrorCode>(code), &text, nullptr);
        std::string detail = std::exchange(last_petsc_message, {});
        return std::string("PETSc error ") + std::to_string(code) + " (" + (text ? text : "unknown") +
               (detail.empty() ? "" : ": " + detail) + ") in " + call + " at " + file + ":" + std::to_string(line);
      }()),
      code_(code) {}

}  // namespace fluxion
