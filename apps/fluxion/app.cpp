// The app registry, the keys common to every app, and the output folder of a run.
#include "app.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

#include "fluxion/linalg/multigrid.hpp"
#include "fluxion/core/error.hpp"
#include "fluxion/core/petsc_session.hpp"
#include "fluxion/io/xdmf.hpp"  // write_text_atomically

namespace fluxion::apps {

AppRegistry& AppRegistry::instance() {
  static AppRegistry registry;
  return registry;
}

void AppRegistry::add(AppInfo info) {
  if (find(info.name)) throw Error("app '" + info.name + "' is registered twice");
  apps_.push_back(std::move(info));
}

const AppInfo* AppRegistry::find(const std::string& name) const {
  const auto it = std::find_if(apps_.begin(), apps_.end(), [&](const AppInfo& a) { return a.name == name; });
  return it == apps_.end() ? nullptr : &*it;
}

std::vector<std::string> AppRegistry::names() const {
  std::vector<std::string> n;
  for (const auto& a : apps_) n.push_back(a.name);
  return n;
}

void register_builtin_apps() {
  static bool done = false;
  if (done) return;
  done = true;
  register_poisson_app();
  register_heat_app();
  register_spectral_apps();
  register_navier_stokes_app();
  register_darcy_app();
}

Schema common_schema(const std::string& default_app) {
  Schema s;
  s.string("app", default_app, "Which app runs this config", AppRegistry::instance().names())
      .string("title", "", "A free-text title, echoed in the summary")
      .section("output", "Where and how results are written")
      .string("output.dir", "fluxion-out/" + default_app, "Output folder (created; relative to the working directory)")
      .string("output.name", "run", "Base name of the output files: <name>.h5, <name>.xdmf")
      .string("output.format", "hdf5", "hdf5: <name>.h5 + <name>.xdmf (open in ParaView); hdf5+vti: also one .vti per step + <name>.pvd",
              {"hdf5", "hdf5+vti"})
      .string_map("petsc", "PETSc options, e.g. {ksp_monitor: \"\", pc_type: gamg}; the command line wins");
  return s;
}

namespace {

// Whether `value` occurs in `text` as a whole word (not inside a longer identifier).
bool contains_word(const std::string& text, const std::string& value) {
  if (value.empty()) return false;
  const auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::size_t at = text.find(value); at != std::string::npos; at = text.find(value, at + 1)) {
    const std::size_t end = at + value.size();
    if ((at == 0 || !word_char(text[at - 1])) && (end == text.size() || !word_char(text[end]))) return true;
  }
  return false;
}

}  // namespace

std::unique_ptr<FieldWriter> make_field_writer(const Config& config, const RunContext& context,
                                               std::shared_ptr<const Grid> grid, const SolidMask* solid) {
  OutputOptions out;
  out.dir = context.output_dir;
  out.name = config.string("output.name");
  out.vti = config.string("output.format") != "hdf5";
  auto writer = std::make_unique<FieldWriter>(std::move(grid), out, config.to_yaml());
  if (solid) writer->set_solid(solid->field());  // ParaView hides the solid cells
  return writer;
}

std::vector<std::filesystem::path> written_files(const FieldWriter& writer, const Config& config) {
  std::vector<std::filesystem::path> files{writer.hdf5_path(), writer.xdmf_path()};
  if (config.string("output.format") != "hdf5") files.push_back(writer.pvd_path());
  return files;
}

std::optional<std::string> multigrid_grid_warning(const Config& config, const Grid& grid) {
  if (config.string("solver.type") != "petsc" || config.string("solver.pc") != "fluxion_mg") return std::nullopt;
  const int halvings = grid.halvings(MultigridSettings{}.coarsest_cells_per_rank);  // what Multigrid does
  PetscInt coarsest = 1;
  for (int a = 0; a < grid.dim(); ++a) coarsest *= grid.cells(a) >> halvings;
  if (coarsest <= max_direct_cells(grid.dim())) return std::nullopt;
  return "warning: " + config.label("grid.cells") + ": the cell counts halve only " + std::to_string(halvings) +
         (halvings == 1 ? " time" : " times") + ", so fluxion_mg's coarsest level (" + std::to_string(coarsest) +
         " cells) is too large to factor and is smoothed instead: CG needs more iterations (63^3: 25 instead of 10); "
         "counts divisible by a larger power of two (64 rather than 63) keep multigrid at its best";
}

void fail_petsc_settings(const Config& config, const std::string& key, const std::exception& error) {
  const std::string what = error.what();
  const std::string message = "PETSc rejected the solver settings: " + what;
  for (const auto& [name, value] : petsc_command_line_options())  // the command line wins over the config
    if (contains_word(what, value)) throw ConfigError("command line: " + name + " " + value + ": " + message);
  for (const auto& [name, value] : config.string_map("petsc"))
    if (contains_word(what, value)) config.fail("petsc." + name, message);
  config.fail(key, message);
}

namespace fs = std::filesystem;

namespace {

constexpr const char* kReserve = ".reserve";
constexpr off_t kReserveBytes = 16 * 1024;  // room for the final summary.json on a disk the run filled

// The files a run wrote into `folder`: regular files, without summary.json, temporaries (*.tmp)
// and hidden files (reserves), sorted.
std::vector<std::string> run_files(const fs::path& folder) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    // Files, and folders of files (an insr run's weights/).
    if (!(entry.is_regular_file(ec) || entry.is_directory(ec)) || name == OutputFolder::kSummary || name.starts_with('.') ||
        name.ends_with(".tmp"))
      continue;
    files.push_back(name);
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The "files" a summary.json lists (plain names only; anything else in it is ignored).
std::vector<std::string> listed_files(const fs::path& summary) {
  std::vector<std::string> files;
  std::ifstream in(summary);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_object() && j.contains("files") && j["files"].is_array())
    for (const auto& f : j["files"])
      if (f.is_string()) {
        const std::string name = f.get<std::string>();
        if (!name.empty() && name.find('/') == std::string::npos && name != "." && name != "..") files.push_back(name);
      }
  return files;
}

std::string now_text() {
  const std::time_t now = std::time(nullptr);
  char text[32] = "";
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", std::localtime(&now));
  return text;
}

// A failed run's summary.json, written whatever it takes: atomically, else in place (a full disk
// may have room for a file that replaces its own blocks), else removed, so that no summary says
// "running" about a run that ended.
void write_summary_best_effort(const fs::path& path, const nlohmann::json& summary) {
  const std::string text = summary.dump(2) + "\n";
  try {
    io_detail::write_text_atomically(path, text);
    return;
  } catch (const std::exception&) {
  }
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (out) return;
  }
  std::error_code ec;
  fs::remove(path, ec);
}

// Rank 0: turns the staging folder into <dir>/failed/ with `summary` (status failed) inside.
fs::path keep_as_failed(const fs::path& dir, const fs::path& staging, nlohmann::json summary) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(staging, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with('.') || name.ends_with(".tmp")) fs::remove(entry.path(), ec);
  }
  summary["files"] = run_files(staging);
  write_summary_best_effort(staging / OutputFolder::kSummary, summary);
  const fs::path failed = dir / OutputFolder::kFailed;
  fs::remove_all(failed, ec);
  fs::rename(staging, failed, ec);
  if (ec) throw IoError(failed.string() + ": cannot move the failed run's files there: " + ec.message());
  return failed;
}

}  // namespace

OutputFolder::OutputFolder(MPI_Comm comm, fs::path dir, nlohmann::json summary)
    : comm_(comm), dir_(std::move(dir)), staging_(dir_ / kStaging) {
  on_root(comm_, [&] {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw IoError(dir_.string() + ": cannot create the output folder: " + ec.message());
    if (!fs::is_directory(dir_)) throw IoError(dir_.string() + ": the output folder is not a folder");
  });
  lock_.emplace(comm_, dir_ / kLock, "output folder " + dir_.string());
  on_root(comm_, [&] {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(staging_, ec))) {
      // We hold the lock, so the run that left this folder is gone: it was killed or crashed.
      if (run_files(staging_).empty()) {
        fs::remove_all(staging_, ec);
      } else {
        std::ifstream in(staging_ / kSummary);
        nlohmann::json old = nlohmann::json::parse(in, nullptr, false);
        if (!old.is_object()) old = nlohmann::json::object();
        old["status"] = "failed";
        old["reason"] = "interrupted: the run stopped without finishing (killed, or its machine went down); "
                        "found by the next run at " + now_text();
        const fs::path failed = keep_as_failed(dir_, staging_, old);
        notes_.push_back("an interrupted earlier run was found in " + dir_.string() + "; its files are now in " +
                         failed.string() + "/");
      }
    }
    fs::create_directory(staging_, ec);
    if (ec) throw IoError(staging_.string() + ": cannot create a folder in the output folder: " + ec.message());
    try {
      const int fd = ::open((staging_ / kReserve).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      const int err = fd < 0 ? errno : posix_fallocate(fd, 0, kReserveBytes);
      if (fd >= 0) ::close(fd);
      if (err != 0) throw IoError(dir_.string() + ": cannot write in the output folder: " + std::strerror(err));
      summary["status"] = "running";
      io_detail::write_text_atomically(staging_ / kSummary, summary.dump(2) + "\n");
    } catch (...) {
      fs::remove_all(staging_, ec);  // a folder we cannot write keeps no trace of this run
      throw;
    }
  });
  open_ = true;
}

OutputFolder::~OutputFolder() = default;  // an unfinished staging folder is recovered by the next run

void OutputFolder::commit(nlohmann::json summary) {
  on_root(comm_, [&] {
    const std::vector<std::string> files = run_files(staging_);
    summary["status"] = "completed";
    summary["files"] = files;
    std::error_code ec;
    fs::remove(staging_ / kReserve, ec);
    io_detail::write_text_atomically(staging_ / kSummary, summary.dump(2) + "\n");
    // The previous run's summary goes first: until the new one arrives, no summary describes a mix.
    const std::vector<std::string> old = listed_files(dir_ / kSummary);
    fs::remove(dir_ / kSummary, ec);
    for (const std::string& name : old)
      if (std::find(files.begin(), files.end(), name) == files.end()) fs::remove_all(dir_ / name, ec);
    for (const std::string& name : files) {
      // A file replaces its namesake in one rename; a folder cannot replace a folder, so the old goes first.
      if (fs::is_directory(staging_ / name, ec) && fs::is_directory(dir_ / name, ec)) fs::remove_all(dir_ / name, ec);
      fs::rename(staging_ / name, dir_ / name, ec);
      if (ec) throw IoError((dir_ / name).string() + ": cannot move the run's file there: " + ec.message());
    }
    fs::rename(staging_ / kSummary, dir_ / kSummary, ec);
    if (ec) throw IoError((dir_ / kSummary).string() + ": cannot move the summary there: " + ec.message());
    fs::remove_all(staging_, ec);
  });
  open_ = false;
}

fs::path OutputFolder::fail(nlohmann::json summary, const std::string& reason) noexcept {
  if (!open_) return {};
  open_ = false;
  int rank = 0;
  MPI_Comm_rank(comm_, &rank);
  if (rank != 0) return {};
  try {
    std::error_code ec;
    fs::remove(staging_ / kReserve, ec);
    if (run_files(staging_).empty()) {  // nothing written (bad input found by the app): no trace
      fs::remove_all(staging_, ec);
      return {};
    }
    summary["status"] = "failed";
    summary["reason"] = reason;
    return keep_as_failed(dir_, staging_, std::move(summary));
  } catch (const std::exception&) {
    return {};  // the staging folder stays; the next run recovers it
  }
}

}  // namespace fluxion::apps
