// Apps of the `fluxion` command: each registers a name, its config schema and a runner.
#pragma once

#include <nlohmann/json.hpp>
#include <petscsys.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fluxion/core/config.hpp"

namespace fluxion::apps {

/// What the driver hands an app.
struct RunContext {
  MPI_Comm comm;
  std::filesystem::path config_dir;  // relative paths in the config (meshes) resolve from here first
  std::filesystem::path output_dir;  // created by the app's writer
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

/// The keys every app has: app, title, output.*, petsc.
Schema common_schema(const std::string& default_app);

}  // namespace fluxion::apps
