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

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include "app.hpp"
#include "setup.hpp"
#include "embedded_configs.hpp"
#include "fluxion/core/error.hpp"
#include "fluxion/core/log.hpp"
#include "fluxion/core/petsc_session.hpp"
#include "fluxion/core/version.hpp"
#include "fluxion/io/field_writer.hpp"
#include "fluxion/io/library_versions.hpp"
#ifdef FLUXION_HAVE_LEARN
#include "fluxion/learn/model_registry.hpp"
#endif

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

void print_table(const std::string& title, const std::vector<std::pair<std::string, std::string>>& rows) {
  if (rank() != 0) return;
  std::size_t width = 0;
  for (const auto& [k, v] : rows) width = std::max(width, k.size());
  std::printf("\n== %s ==\n", title.c_str());
  for (const auto& [k, v] : rows) std::printf("  %-*s  %s\n", static_cast<int>(width), k.c_str(), v.c_str());
  std::fflush(stdout);
}

constexpr std::uintmax_t kMaxConfigBytes = 16u << 20;

// The text of a config file, refusing what is not one: a folder, a device or FIFO (/dev/zero
// would be read forever), a file over 16 MiB.
std::string read_config_file(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw ConfigError("cannot open config file '" + path + "': no such file");
  if (fs::is_directory(status)) throw ConfigError("config file '" + path + "' is a folder, not a YAML file");
  if (!fs::is_regular_file(status))
    throw ConfigError("config file '" + path + "' is not a regular file (a device, FIFO or socket); give a YAML file");
  const std::uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > kMaxConfigBytes)
    throw ConfigError("config file '" + path + "' is " + std::to_string(size) + " bytes; a config is at most " +
                      std::to_string(kMaxConfigBytes >> 20) + " MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot open config file '" + path + "': " + std::strerror(errno));
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes)
    throw ConfigError("config file '" + path + "' is over " + std::to_string(kMaxConfigBytes >> 20) + " MiB");
  return text;
}

// True when a YAML text holds no keys: only blank lines, comments and document markers.
bool has_no_keys(const std::string& text) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string::npos && line[first] != '#' && line.compare(first, 3, "---") != 0 &&
        line.compare(first, 3, "...") != 0)
      return false;
    start = end + 1;
  }
  return true;
}

void warn(const std::string& line) {
  if (rank() == 0) std::fprintf(stderr, "fluxion: warning: %s\n", line.c_str());
}

// Checks the paths of the run's files before anything is created, blaming the setting to change:
// Open MPI's MPI-IO aborts the process on a run file path over ~244 characters.
void check_output_paths(const Config& config, const RunOptions& opt, const fs::path& dir, bool with_format) {
  OutputOptions planned;
  planned.dir = fs::absolute(dir) / apps::OutputFolder::kStaging;  // the longest place a file is written
  planned.name = config.string("output.name");
  planned.vti = with_format && config.string("output.format") != "hdf5";
  const std::string problem = FieldWriter::path_problem(planned, PETSC_COMM_WORLD);
  if (problem.empty()) return;
  OutputOptions name_only = planned;
  name_only.dir = "/";
  if (!FieldWriter::path_problem(name_only, PETSC_COMM_WORLD).empty()) config.fail("output.name", problem);
  const std::string fix = "; choose a shorter output folder or output.name";
  if (!opt.output_dir.empty()) throw ConfigError("-o/--output: " + problem + fix);
  config.fail("output.dir", problem + fix);
}

#ifdef FLUXION_HAVE_LEARN
// loss.csv -> loss.png beside it, by scripts/plot_loss.py with Debian's python3 and matplotlib.
// Returns "" on success, else a warning line (the run itself has succeeded).
std::string plot_loss_curve(const fs::path& csv, const std::string& title) {
  if (rank() != 0) return "";
  const fs::path script = apps::data_dir() / "scripts" / "plot_loss.py";
  const char* python = "/usr/bin/python3";
  if (!fs::exists(python) || !fs::exists(script))
    return "loss.png not drawn: needs /usr/bin/python3 and " + script.string() + " (loss.csv has the numbers)";
  const fs::path png = csv.parent_path() / "loss.png";
  std::string quoted_title;
  for (char ch : title) quoted_title += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  const std::string command = std::string(python) + " '" + script.string() + "' '" + csv.string() + "' '" +
                              png.string() + "' '" + quoted_title + "' >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0 || !fs::exists(png))
    return "loss.png not drawn (python3-matplotlib missing?): loss.csv has the numbers";
  return "";
}
#endif

// The common keys of a train or eval config: model, title, output.dir/name, petsc.
[[maybe_unused]] Schema model_schema(const std::string& model, const std::string& verb, const std::vector<std::string>& models) {
  Schema s;
  s.string("model", required, "Which model this config trains or evaluates", models)
      .string("title", "", "A free-text title, echoed in the summary")
      .section("output", "Where results are written")
      .string("output.dir", "fluxion-out/" + verb + "-" + model, "Output folder (created; relative to the working directory)")
      .string("output.name", "model", "Base name of the model file (<name>.pt)")
      .string_map("petsc", "PETSc options, e.g. {ksp_monitor: \"\"}; the command line wins");
  return s;
}

// The app that `fluxion train|eval CFG` runs: the model the config's `model:` key names.
apps::AppInfo model_app(const std::string& verb, const std::string& text, const std::string& source,
                        const std::vector<std::string>& overrides) {
#ifdef FLUXION_HAVE_LEARN
  const auto& registry = learn::ModelRegistry::instance();
  const std::string name = Config::peek_string(text, source, "model", "", overrides);
  const learn::ModelInfo* info = registry.find(name);
  if (!info) {
    std::string known;
    for (const auto& n : registry.names()) known += (known.empty() ? "" : ", ") + n;
    throw ConfigError(source + ": model: " + (name.empty() ? "missing" : "unknown model '" + name + "'") +
                      "; expected one of: " + known);
  }
  const bool train = verb == "train";
  apps::AppInfo app;
  app.name = verb + " " + info->name;
  app.description = info->description;
  const auto names = registry.names();
  app.schema = [info, verb, train, names] {
    Schema s = model_schema(info->name, verb, names);
    s.merge(train ? info->train_schema() : info->eval_schema());
    return s;
  };
  app.run = [info, train](const Config& c, const apps::RunContext& ctx) {
    const learn::ModelRunResult r =
        (train ? info->train : info->eval)(c, learn::ModelRunContext{ctx.comm, ctx.config_dir, ctx.output_dir});
    apps::RunResult out;
    out.table = r.table;
    out.results = r.results;
    out.outputs = r.outputs;
    if (train) {
      const std::string png = plot_loss_curve(ctx.output_dir / "loss.csv", c.string("title"));
      if (png.empty()) out.outputs.push_back(ctx.output_dir / "loss.png");
      else warn(png);
    }
    return out;
  };
  return app;
#else
  (void)text;
  (void)overrides;
  throw ConfigError(source + ": `fluxion " + verb + "` needs the learn layer; this fluxion was built with FLUXION_WITH_TORCH=OFF");
#endif
}

int run(const RunOptions& opt, fs::path& failed_dir, const std::string& verb = "run") {
  const auto start = std::chrono::steady_clock::now();
  std::string text, source;
  fs::path config_dir;
  if (opt.config_file.empty()) {
    text = apps::kDefaultConfig;
    source = "<default config>";
    config_dir = apps::data_dir() / "apps" / "configs";
  } else {
    text = read_config_file(opt.config_file);
    source = opt.config_file;
    config_dir = fs::absolute(opt.config_file).parent_path();
  }
  apps::AppInfo model;  // train / eval: the model's command, as an app
  const apps::AppInfo* app = nullptr;
  Schema schema;
  if (verb == "run") {
    const std::string app_name = Config::peek_string(text, source, "app", "poisson", opt.overrides);
    app = apps::AppRegistry::instance().find(app_name);
    if (!app && !kWithTorch && (app_name == "insr" || app_name == "insr_sample"))
      throw ConfigError(source + ": app: '" + app_name +
                        "' needs the learn layer; this fluxion was built with FLUXION_WITH_TORCH=OFF");
    if (!app) {
      std::string known;
      for (const auto& n : apps::AppRegistry::instance().names()) known += (known.empty() ? "" : ", ") + n;
      throw ConfigError(source + ": app: unknown app '" + app_name + "'; expected one of: " + known);
    }
    schema = apps::common_schema(app->name);
    schema.merge(app->schema());
  } else {
    if (opt.config_file.empty()) throw ConfigError("fluxion " + verb + " needs a config file");
    model = model_app(verb, text, source, opt.overrides);
    app = &model;
    schema = app->schema();
  }
  const Config config = Config::from_string(text, source, schema, opt.overrides);
  if (!opt.config_file.empty() && has_no_keys(text))
    warn(source + " is empty (no keys): running app '" + app->name + "' with every setting at its default");
  insert_petsc_options(config.string_map("petsc"));
  const fs::path out_dir =
      fs::absolute(opt.output_dir.empty() ? fs::path(config.string("output.dir")) : fs::path(opt.output_dir));
  check_output_paths(config, opt, out_dir, verb == "run");

  int ranks = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &ranks);
  nlohmann::json summary;
  summary["fluxion_version"] = kVersion;
  summary["app"] = app->name;
  summary["command"] = verb;
  summary["config_source"] = source;
  summary["config"] = nlohmann::json::parse(config.to_json());
  summary["ranks"] = ranks;
  summary["pid"] = static_cast<long>(getpid());
  // The output folder is created, locked and probed before anything is computed.
  apps::OutputFolder folder(PETSC_COMM_WORLD, out_dir, summary);
  for (const std::string& note : folder.notes()) print_line(PETSC_COMM_WORLD, "fluxion: " + note);

  apps::RunContext ctx{PETSC_COMM_WORLD, config_dir, folder.staging(), opt.quiet};
  print_line(ctx.comm, "fluxion " + std::string(kVersion) + ": app '" + app->name + "' from " + source);
  const auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  apps::RunResult result;
  try {
    result = app->run(config, ctx);  // every file the app wrote is closed when this returns or throws
  } catch (const std::exception& e) {
    summary["wall_seconds"] = seconds();
    failed_dir = folder.fail(summary, e.what());
    throw;
  }

  const double wall = seconds();
  // What the run wrote, by the names they have once the run is swapped in.
  std::vector<fs::path> outputs;
  for (const auto& p : result.outputs) outputs.push_back(out_dir / p.filename());
  const auto unused = unused_petsc_options();
  summary["results"] = result.results;
  summary["wall_seconds"] = wall;
  for (const auto& p : outputs) summary["outputs"].push_back(p.string());
  summary["unused_petsc_options"] = nlohmann::json::array();
  for (const auto& [name, value] : unused) summary["unused_petsc_options"].push_back(name + (value.empty() ? "" : " " + value));
  folder.commit(summary);
  for (const auto& [name, value] : unused)
    warn("PETSc option " + name + (value.empty() ? "" : " " + value) +
         " was not used (misspelled, or not read by this app and solver)");

  result.table.push_back({"wall time", std::to_string(wall).substr(0, 6) + " s"});
  std::string files;
  for (const auto& p : outputs) files += p.filename().string() + " ";
  result.table.push_back({"output", out_dir.string() + "/ (" + files + "summary.json)"});
  // The file ParaView opens: the XDMF sidecar of a run (data-set apps and eval without
  // predictions write none).
  for (const auto& p : outputs)
    if (p.extension() == ".xdmf") {
      result.table.push_back({"open in ParaView", p.string()});
      break;
    }
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
#ifdef FLUXION_HAVE_LEARN
  std::printf("  learned solvers: dcdm (solver.type dcdm; PETSc -ksp_type dcdm, -pc_type dcdm)\n");
  std::printf("  models (fluxion train / eval, the config's model: key):\n");
  for (const auto& m : learn::ModelRegistry::instance().models())
    std::printf("    %-10s %s\n", m.name.c_str(), m.description.c_str());
#else
  std::printf("  models: none (built with FLUXION_WITH_TORCH=OFF: no train / eval)\n");
#endif
  std::printf("  data folder: %s\n", apps::data_dir().c_str());
  return 0;
}

int config_doc(const std::string& app_name) {
  const apps::AppInfo* app = apps::AppRegistry::instance().find(app_name);
#ifdef FLUXION_HAVE_LEARN
  if (const learn::ModelInfo* model = app ? nullptr : learn::ModelRegistry::instance().find(app_name)) {
    const auto names = learn::ModelRegistry::instance().names();
    Schema train = model_schema(model->name, "train", names), eval = model_schema(model->name, "eval", names);
    train.merge(model->train_schema());
    eval.merge(model->eval_schema());
    if (rank() == 0)
      std::cout << train.markdown("Config reference: `fluxion train` with model `" + model->name + "`") << "\n"
                << eval.markdown("Config reference: `fluxion eval` with model `" + model->name + "`");
    return 0;
  }
#endif
  if (!app) throw ConfigError("config-doc: unknown app or model '" + app_name + "'");
  Schema schema = apps::common_schema(app->name);
  schema.merge(app->schema());
  if (rank() == 0) std::cout << schema.markdown("Config reference: app `" + app->name + "`");
  return 0;
}

const char* const kSubcommands[] = {"run", "train", "eval", "info", "config-doc"};

bool is_number(const std::string& word) {
  char* end = nullptr;
  std::strtod(word.c_str(), &end);
  return end != word.c_str() && *end == '\0';
}

// PETSc's options go to PETSc, the rest to CLI11. The rule (also in `fluxion run --help`): a word
// that starts with one dash and is longer than two characters (-ksp_monitor; not -o, -h or --set)
// is a PETSc option, wherever it stands; the word after it is its value unless that word starts
// with a dash (a negative number is a value), ends in .yaml or .yml (the config path), or is a
// subcommand before any subcommand was seen (fluxion -ksp_monitor run cfg.yaml).
std::pair<std::vector<std::string>, std::vector<std::string>> split_arguments(int argc, char** argv) {
  const auto petsc_option = [](const std::string& a) {
    return a.size() > 2 && a[0] == '-' && a[1] != '-' && !is_number(a);
  };
  std::vector<std::string> ours, petsc;
  bool subcommand_seen = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (!petsc_option(a)) {
      subcommand_seen = subcommand_seen || std::find(std::begin(kSubcommands), std::end(kSubcommands), a) !=
                                               std::end(kSubcommands);
      ours.push_back(a);
      continue;
    }
    petsc.push_back(a);
    if (i + 1 >= argc) continue;
    const std::string next = argv[i + 1];
    const bool is_subcommand =
        std::find(std::begin(kSubcommands), std::end(kSubcommands), next) != std::end(kSubcommands);
    if ((next.starts_with('-') && !is_number(next)) || next.ends_with(".yaml") || next.ends_with(".yml") ||
        (is_subcommand && !subcommand_seen))
      continue;
    petsc.push_back(next);
    ++i;
  }
  return {ours, petsc};
}

// The one error line; it says where a failed run's files were kept.
void report_error(const std::string& what, const fs::path& failed_dir) {
  if (rank() != 0) return;
  const std::string kept = failed_dir.empty() ? "" : " (this run's files are in " + failed_dir.string() + "/)";
  std::fprintf(stderr, "fluxion: error: %s%s\n", what.c_str(), kept.c_str());
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
  fs::path failed_dir;  // where a failed run's files were kept, if anywhere
  std::unique_ptr<PetscSession> petsc;
  try {
    petsc = std::make_unique<PetscSession>(&petsc_argc, &petsc_argv_ptr);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fluxion: error: cannot start PETSc/MPI: %s\n", e.what());
    return 1;
  }
  try {
    apps::register_builtin_apps();
#ifdef FLUXION_HAVE_LEARN
    learn::initialize();
    for (const auto& sim : learn::ModelRegistry::instance().simulations()) {
      apps::AppInfo app;
      app.name = sim.name;
      app.description = sim.description;
      app.schema = sim.schema;
      app.run = [run = sim.run](const Config& c, const apps::RunContext& ctx) {
        const learn::ModelRunResult r = run(c, learn::ModelRunContext{ctx.comm, ctx.config_dir, ctx.output_dir});
        return apps::RunResult{r.table, r.results, r.outputs};
      };
      apps::AppRegistry::instance().add(std::move(app));
    }
#endif

    CLI::App cli{"fluxion: PDE simulation and linear solvers, classical and learned.\n"
                 "PETSc options (-ksp_monitor, -pc_type gamg, ...) may stand anywhere; see `fluxion run --help`.",
                 "fluxion"};
    cli.set_version_flag("--version", std::string("fluxion ") + kVersion);
    cli.require_subcommand(1);
    RunOptions run_options;
    auto* run_cmd = cli.add_subcommand("run", "Run an app from a YAML config (no CFG: the embedded default)");
    run_cmd->footer(
        "PETSc options: a word that starts with one dash and is longer than two characters\n"
        "(-ksp_monitor, -pc_type gamg) goes to PETSc, wherever it stands. The word after it is its value\n"
        "unless that word starts with a dash (negative numbers are values), ends in .yaml or .yml (the\n"
        "config path) or is a subcommand: `fluxion run -ksp_monitor cfg.yaml -ksp_rtol 1e-9` works.\n"
        "A value that ends in .yaml goes in the config's petsc: section instead. Options that nothing\n"
        "read by the end of the run are warned about and listed in summary.json.\n"
        "\n"
        "Output (docs/output.md): the run writes into <output>/.staging/ and is swapped in at the end,\n"
        "so a failed or killed run never damages the previous complete one; a failed run's files are\n"
        "kept in <output>/failed/. summary.json says \"status\": completed or failed (+ \"reason\").\n"
        "Two runs cannot share an output folder: the second is refused, naming the first.");
    run_cmd->add_option("config", run_options.config_file, "Config file (YAML)");
    run_cmd->add_option("--set", run_options.overrides, "Override a key: --set solver.rtol=1e-10 (repeatable)");
    run_cmd->add_option("-o,--output", run_options.output_dir,
                        "Output folder (overrides output.dir); locked while the run lasts");
    RunOptions train_options, eval_options;
    auto* train_cmd = cli.add_subcommand("train", "Train a model from a YAML config (its model: key names it; see fluxion info)");
    auto* eval_cmd = cli.add_subcommand("eval", "Evaluate a trained model from a YAML config");
    for (auto [cmd, o] : {std::pair{train_cmd, &train_options}, std::pair{eval_cmd, &eval_options}}) {
      cmd->add_option("config", o->config_file, "Config file (YAML)")->required();
      cmd->add_option("--set", o->overrides, "Override a key: --set training.epochs=5 (repeatable)");
      cmd->add_option("-o,--output", o->output_dir, "Output folder (overrides output.dir)");
    }
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
    if (run_cmd->parsed()) code = run(run_options, failed_dir);
    else if (train_cmd->parsed()) code = run(train_options, failed_dir, "train");
    else if (eval_cmd->parsed()) code = run(eval_options, failed_dir, "eval");
    else if (info_cmd->parsed()) code = info();
    else if (doc_cmd->parsed()) code = config_doc(doc_app);
  } catch (const ConfigError& e) {
    report_error(e.what(), failed_dir);
    code = 2;
  } catch (const std::exception& e) {
    report_error(e.what(), failed_dir);
    code = 1;
  }
  if (hdf5_files_left_open()) {
    // HDF5 1.10 crashes in MPI_Finalize on a file it could not close (a full disk even after the
    // writer's reserve was freed): leave without finalising rather than die of a signal.
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(code ? code : 1);
  }
  return code;
}
