// Apps of the `fluxion` command: each registers a name, its config schema and a runner.
#pragma once

#include <nlohmann/json.hpp>
#include <petscsys.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fluxion/core/config.hpp"
#include "fluxion/core/grid.hpp"
#include "fluxion/core/file_lock.hpp"
#include "fluxion/core/solid_mask.hpp"
#include "fluxion/io/field_writer.hpp"

namespace fluxion::apps {

/// What the driver hands an app.
struct RunContext {
  MPI_Comm comm;
  std::filesystem::path config_dir;  // relative paths in the config (meshes) resolve from here first
  std::filesystem::path output_dir;  // where the app writes: the staging folder of an OutputFolder
  bool quiet = false;
};

/// What an app hands back: the driver prints `table` as the one-screen summary and writes
/// `results` into summary.json beside the resolved config.
struct RunResult {
  std::vector<std::pair<std::string, std::string>> table;
  nlohmann::json results = nlohmann::json::object();
  std::vector<std::filesystem::path> outputs;
};

struct AppInfo {
  std::string name;
  std::string description;
  std::function<Schema()> schema;  // the app's keys; the driver merges the common ones
  std::function<RunResult(const Config&, const RunContext&)> run;
};

/// Apps by name. Builtin apps are added by register_builtin_apps(); later apps add themselves
/// the same way without touching the driver.
class AppRegistry {
 public:
  static AppRegistry& instance();
  void add(AppInfo info);
  const AppInfo* find(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::vector<AppInfo>& apps() const { return apps_; }

 private:
  std::vector<AppInfo> apps_;
};

void register_builtin_apps();
void register_poisson_app();
void register_heat_app();
void register_spectral_apps();
void register_navier_stokes_app();
void register_darcy_app();

/// The keys every app has: app, title, output.*, petsc.
Schema common_schema(const std::string& default_app);

/// Throws ConfigError for a PETSc error raised while applying solver settings, blaming where the
/// rejected value came from: a command-line option ("command line: -ksp_type bogus: ..."), an entry
/// of the config's petsc: section, or else the config key `key` (e.g. "solver").
[[noreturn]] void fail_petsc_settings(const Config& config, const std::string& key, const std::exception& error);

/// The run's FieldWriter as the common output.* keys ask, writing into context.output_dir, with
/// the solid cells hidden in ParaView when there are obstacles (`solid` may be null).
std::unique_ptr<FieldWriter> make_field_writer(const Config& config, const RunContext& context,
                                               std::shared_ptr<const Grid> grid, const SolidMask* solid);
/// What `writer` wrote (<name>.h5, <name>.xdmf, and <name>.pvd with VTI output): RunResult::outputs.
std::vector<std::filesystem::path> written_files(const FieldWriter& writer, const Config& config);

/// A warning line when the config's solver is CG + fluxion_mg (solver.type petsc, solver.pc
/// fluxion_mg) and the grid's cell counts stop halving while the level is still too large to
/// factor (max_direct_cells): fluxion_mg then smooths its coarsest level and CG needs more
/// iterations (docs/architecture.md); nullopt otherwise.
std::optional<std::string> multigrid_grid_warning(const Config& config, const Grid& grid);

/// The output folder of one run (docs/output.md). The run writes into <dir>/.staging/ and is
/// swapped in at the end, so the previous complete run stays whole until the new one replaces it;
/// a failed run is kept as <dir>/failed/; summary.json always describes the files beside it and
/// says "status": running, completed or failed (+ "reason"). The folder is locked (FileLock on
/// <dir>/.fluxion.lock) for the object's lifetime, so a second run into it is refused.
/// Every member function is collective; the file system work happens on rank 0.
class OutputFolder {
 public:
  static constexpr const char* kStaging = ".staging";
  static constexpr const char* kFailed = "failed";
  static constexpr const char* kLock = ".fluxion.lock";
  static constexpr const char* kSummary = "summary.json";

  /// Creates `dir`, takes its lock, moves a run that was interrupted there (a stale staging
  /// folder) to failed/, creates the staging folder and writes summary.json ("status": "running")
  /// into it: a folder that cannot be written fails here, before anything is computed.
  OutputFolder(MPI_Comm comm, std::filesystem::path dir, nlohmann::json summary);
  ~OutputFolder();
  OutputFolder(const OutputFolder&) = delete;
  OutputFolder& operator=(const OutputFolder&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  const std::filesystem::path& staging() const { return staging_; }
  /// What the constructor found and did (an interrupted run moved to failed/), for the driver to print.
  const std::vector<std::string>& notes() const { return notes_; }

  /// Writes summary.json ("completed", "files": the run's files) into the staging folder and swaps
  /// the run in: the previous run's files (those its summary.json lists) go, the new files take their
  /// place, summary.json last.
  void commit(nlohmann::json summary);
  /// Records the failure (status "failed", `reason`) in the staging folder's summary.json and keeps
  /// what the run wrote as <dir>/failed/ (replacing an older one); a run that wrote no file leaves
  /// nothing behind. Returns the folder kept (on rank 0), or empty. Never throws.
  std::filesystem::path fail(nlohmann::json summary, const std::string& reason) noexcept;

 private:
  MPI_Comm comm_;
  std::filesystem::path dir_, staging_;
  std::optional<FileLock> lock_;
  std::vector<std::string> notes_;
  bool open_ = false;  // the staging folder exists and is ours
};

}  // namespace fluxion::apps
