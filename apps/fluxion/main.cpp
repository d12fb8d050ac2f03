// The `fluxion` command: run an app from a config, print build info, or document config keys.
//
// Sample runs:
//   fluxion run                                  (the embedded default config)
//   fluxion run apps/configs/poisson.yaml --set solver.rtol=1e-10 -ksp_monitor
//   mpirun -n 4 fluxion run apps/configs/poisson3d.yaml
//   fluxion info
//   fluxion config-doc poisson > docs/config-poisson.md
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "app.hpp"
#include "setup.hpp"
#include "embedded_configs.hpp"
#include "fluxion/core/error.hpp"
#include "fluxion/core/log.hpp"
#include "fluxion/core/petsc_session.hpp"
#include "fluxion/core/version.hpp"
#include "fluxion/io/library_versions.hpp"

namespace fs = std::filesystem;
using namespace fluxion;

namespace {

struct RunOptions {
  std::string config_file;
  std::vector<std::string> overrides;
  std::string output_dir;
  bool quiet = false;
};

int rank() {
  int r = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &r);
  return r;
}

// Writes text to path through a temporary name and a rename, so readers never see half a file.
void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
    if (!out) throw IoError("cannot write '" + tmp.string() + "'");
  }
  fs::rename(tmp, path);
}

void print_table(const std::string& title, const std::vector<std::pair<std::string, std::string>>& rows) {
  if (rank() != 0) return;
  std::size_t width = 0;
  for (const auto& [k, v] : rows) width = std::max(width, k.size());
  std::printf("\n== %s ==\n", title.c_str());
  for (const auto& [k, v] : rows) std::printf("  %-*s  %s\n", static_cast<int>(width), k.c_str(), v.c_str());
  std::fflush(stdout);
}

int run(const RunOptions& opt) {
  const auto start = std::chrono::steady_clock::now();
  std::string text, source;
  fs::path config_dir;
  if (opt.config_file.empty()) {
    text = apps::kDefaultConfig;
    source = "<default config>";
    config_dir = apps::data_dir() / "apps" / "configs";
  } else {
    std::ifstream in(opt.config_file);
    if (!in) throw ConfigError("cannot open config file '" + opt.config_file + "'");
    text.assign(std::istreambuf_iterator<char>(in), {});
    source = opt.config_file;
    config_dir = fs::absolute(opt.config_file).parent_path();
  }
  const std::string app_name = Config::peek_string(text, source, "app", "poisson", opt.overrides);
  const apps::AppInfo* app = apps::AppRegistry::instance().find(app_name);
  if (!app) {
    std::string known;
    for (const auto& n : apps::AppRegistry::instance().names()) known += (known.empty() ? "" : ", ") + n;
    throw ConfigError(source + ": app: unknown app '" + app_name + "'; expected one of: " + known);
  }
  Schema schema = apps::common_schema(app->name);
  schema.merge(app->schema());
  const Config config = Config::from_string(text, source, schema, opt.overrides);
  insert_petsc_options(config.string_map("petsc"));

  apps::RunContext ctx{PETSC_COMM_WORLD, config_dir,
                       opt.output_dir.empty() ? fs::path(config.string("output.dir")) : fs::path(opt.output_dir),
                       opt.quiet};
  print_line(ctx.comm, "fluxion " + std::string(kVersion) + ": app '" + app->name + "' from " + source);
  apps::RunResult result = app->run(config, ctx);

  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const fs::path summary_path = ctx.output_dir / "summary.json";
  if (rank() == 0) {
    nlohmann::json summary;
    summary["fluxion_version"] = kVersion;
    summary["app"] = app->name;
    summary["config_source"] = source;
    summary["config"] = nlohmann::json::parse(config.to_json());
    summary["results"] = result.results;
    summary["wall_seconds"] = wall;
    int ranks = 1;
    MPI_Comm_size(PETSC_COMM_WORLD, &ranks);
    summary["ranks"] = ranks;
    for (const auto& p : result.outputs) summary["outputs"].push_back(p.string());
    write_atomically(summary_path, summary.dump(2) + "\n");
  }
  result.table.push_back({"wall time", std::to_string(wall).substr(0, 6) + " s"});
  std::string files;
  for (const auto& p : result.outputs) files += p.filename().string() + " ";
  result.table.push_back({"output", ctx.output_dir.string() + "/ (" + files + "summary.json)"});
  if (!result.outputs.empty())
    result.table.push_back({"open in ParaView", fs::absolute(result.outputs[1 < result.outputs.size() ? 1 : 0]).string()});
  print_table(app->name + (config.string("title").empty() ? "" : ": " + config.string("title")), result.table);
  return 0;
}

int info() {
  if (rank() != 0) return 0;
  std::printf("fluxion %s (%s build)\n", kVersion, kBuildType);
  std::printf("  layers: core io linalg pde%s\n", kWithTorch ? " learn" : "");
  std::printf("  PETSc %s, HDF5 %s (parallel), VTK %s\n", petsc_version().c_str(), hdf5_version().c_str(),
              vtk_version().c_str());
  std::printf("  apps:\n");
  for (const auto& a : apps::AppRegistry::instance().apps())
    std::printf("    %-10s %s\n", a.name.c_str(), a.description.c_str());
  std::printf("  solvers (solver.type):\n"
              "    petsc                 any PETSc KSP + PC; pc 'mg' is geometric multigrid on the grid (default)\n"
              "    sor                   matrix-free SOR (lexicographic or red-black), Richardson iteration\n"
              "    ssor_cg               CG preconditioned by a matrix-free SSOR sweep\n"
              "    petsc_sor_richardson  PETSc KSPRICHARDSON + PCSOR (forward)\n"
              "    petsc_ssor_cg         PETSc KSPCG + PCSOR (symmetric)\n"
              "  omega tuners (solver.omega.tune): tsallis_inf, tsallis_inf_cb, chebcb\n");
  std::printf("  data folder: %s\n", apps::data_dir().c_str());
  return 0;
}

int config_doc(const std::string& app_name) {
  const apps::AppInfo* app = apps::AppRegistry::instance().find(app_name);
  if (!app) throw ConfigError("config-doc: unknown app '" + app_name + "'");
  Schema schema = apps::common_schema(app->name);
  schema.merge(app->schema());
  if (rank() == 0) std::cout << schema.markdown("Config reference: app `" + app->name + "`");
  return 0;
}

// PETSc takes the single-dash options (-ksp_monitor, -pc_type gamg, ...) and what follows them;
// CLI11 takes the rest. The first single-dash word longer than one letter (-ksp_monitor, not our
// -o or -h) starts PETSc's part.
std::pair<std::vector<std::string>, std::vector<std::string>> split_arguments(int argc, char** argv) {
  std::vector<std::string> ours, petsc;
  bool in_petsc = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (!in_petsc && a.size() > 2 && a[0] == '-' && a[1] != '-') in_petsc = true;
    (in_petsc ? petsc : ours).push_back(a);
  }
  return {ours, petsc};
}

}  // namespace

int main(int argc, char** argv) {
  auto [ours, petsc_args] = split_arguments(argc, argv);
  std::vector<char*> petsc_argv{argv[0]};
  for (auto& a : petsc_args) petsc_argv.push_back(a.data());
  int petsc_argc = static_cast<int>(petsc_argv.size());
  petsc_argv.push_back(nullptr);
  char** petsc_argv_ptr = petsc_argv.data();

  int code = 0;
  std::unique_ptr<PetscSession> petsc;
  try {
    petsc = std::make_unique<PetscSession>(&petsc_argc, &petsc_argv_ptr);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fluxion: error: cannot start PETSc/MPI: %s\n", e.what());
    return 1;
  }
  try {
    apps::register_builtin_apps();

    CLI::App cli{"fluxion: PDE simulation and linear solvers, classical and learned.\n"
                 "PETSc options (-ksp_monitor, -pc_type gamg, ...) may follow the arguments.",
                 "fluxion"};
    cli.set_version_flag("--version", std::string("fluxion ") + kVersion);
    cli.require_subcommand(1);
    RunOptions run_options;
    auto* run_cmd = cli.add_subcommand("run", "Run an app from a YAML config (no CFG: the embedded default)");
    run_cmd->add_option("config", run_options.config_file, "Config file (YAML)");
    run_cmd->add_option("--set", run_options.overrides, "Override a key: --set solver.rtol=1e-10 (repeatable)");
    run_cmd->add_option("-o,--output", run_options.output_dir, "Output folder (overrides output.dir)");
    auto* info_cmd = cli.add_subcommand("info", "Version, build options, apps, solvers, library versions");
    std::string doc_app = "poisson";
    auto* doc_cmd = cli.add_subcommand("config-doc", "Print the Markdown reference of an app's config keys");
    doc_cmd->add_option("app", doc_app, "App name");

    std::vector<std::string> reversed(ours.rbegin(), ours.rend());
    try {
      cli.parse(reversed);
    } catch (const CLI::ParseError& e) {
      code = rank() == 0 ? cli.exit(e) : (e.get_exit_code() == 0 ? 0 : 2);
      return code == 0 ? 0 : 2;
    }
    if (run_cmd->parsed()) code = run(run_options);
    else if (info_cmd->parsed()) code = info();
    else if (doc_cmd->parsed()) code = config_doc(doc_app);
  } catch (const ConfigError& e) {
    if (rank() == 0) std::fprintf(stderr, "fluxion: error: %s\n", e.what());
    code = 2;
  } catch (const std::exception& e) {
    if (rank() == 0) std::fprintf(stderr, "fluxion: error: %s\n", e.what());
    code = 1;
  }
  return code;
}
