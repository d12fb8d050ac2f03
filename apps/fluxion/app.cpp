// The app registry and the keys common to every app.
#include "app.hpp"

#include <algorithm>

#include "fluxion/core/error.hpp"

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

}  // namespace fluxion::apps
