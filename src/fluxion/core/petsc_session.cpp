// PetscSession and the options-database helpers.
#include "fluxion/core/petsc_session.hpp"

#include <petscsys.h>

#include <cstdlib>
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

std::vector<std::pair<std::string, std::string>> command_line_options;

bool is_number(const char* word) {
  char* end = nullptr;
  std::strtod(word, &end);
  return end != word && *end == '\0';
}

bool is_option(const char* word) { return word[0] == '-' && word[1] != '\0' && !is_number(word); }
}  // namespace

PetscSession::PetscSession(int* argc, char*** argv) {
  PetscBool initialized = PETSC_FALSE;
  PetscInitialized(&initialized);
  if (initialized) return;
  if (argc && argv)
    for (int n = 1; n < *argc; ++n) {
      const char* word = (*argv)[n];
      if (!is_option(word)) continue;
      const bool valued = n + 1 < *argc && !is_option((*argv)[n + 1]);
      command_line_options.emplace_back(word, valued ? (*argv)[n + 1] : "");
    }
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

const std::vector<std::pair<std::string, std::string>>& petsc_command_line_options() { return command_line_options; }

std::vector<std::pair<std::string, std::string>> unused_petsc_options() {
  PetscInt count = 0;
  char **names = nullptr, **values = nullptr;
  FLUXION_PETSC_CHECK(PetscOptionsLeftGet(nullptr, &count, &names, &values));
  std::vector<std::pair<std::string, std::string>> unused;
  for (PetscInt n = 0; n < count; ++n) {
    std::string name = "-";
    name += names[n];  // not "-" + std::string(...): GCC 12's -Wrestrict false positive
    unused.emplace_back(std::move(name), values[n] ? values[n] : "");
  }
  PetscOptionsLeftRestore(nullptr, &count, &names, &values);
  return unused;
}

void on_root(MPI_Comm comm, const std::function<void()>& f) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string message;
  if (rank == 0) {
    try {
      f();
    } catch (const std::exception& e) {
      message = e.what();
      if (message.empty()) message = "unknown error";
    }
  }
  int length = static_cast<int>(message.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, comm);
  if (length == 0) return;
  message.resize(static_cast<std::size_t>(length));
  MPI_Bcast(message.data(), length, MPI_CHAR, 0, comm);
  throw IoError(message);
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
