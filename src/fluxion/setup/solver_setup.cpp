// Config -> linear solver, omega tuner and its state file; the table of which keys each choice reads.
#include "fluxion/setup/solver_setup.hpp"

#include <unistd.h>

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "fluxion/core/error.hpp"
#include "fluxion/core/expression.hpp"
#include "fluxion/core/log.hpp"
#include "fluxion/core/version.hpp"
#include "fluxion/setup/domain_setup.hpp"
#include "fluxion/io/xdmf.hpp"
#include "fluxion/linalg/petsc_solver.hpp"
#include "fluxion/linalg/sor_solver.hpp"
#include "fluxion/tune/chebcb.hpp"
#include "fluxion/tune/hdf5_state.hpp"
#include "fluxion/tune/tsallis_inf.hpp"

namespace fluxion {

namespace {

const std::vector<std::string> kAllTypes = {"petsc", "sor", "ssor_cg", "petsc_sor_richardson", "petsc_ssor_cg", "dcdm"};
const std::vector<std::string> kSorFamily = {"sor", "ssor_cg", "petsc_sor_richardson", "petsc_ssor_cg"};
const std::vector<std::string> kAllTunes = {"none", "tsallis_inf", "tsallis_inf_cb", "chebcb"};
const std::vector<std::string> kLearners = {"tsallis_inf", "tsallis_inf_cb", "chebcb"};
const std::vector<std::string> kContextual = {"tsallis_inf_cb", "chebcb"};

// Bounds of the size-like keys: what a learner allocates grows with them (arms x bins tables,
// arms x terms^2 Gram matrices), and far beyond these no learner can learn anything in a run.
constexpr int kMaxArms = 1000, kMaxBins = 1000, kMaxTerms = 64;

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool from_command_line(const Config& c, const std::string& key) { return c.where(key).rfind("--set ", 0) == 0; }

}  // namespace

void declare_solver(Schema& s, const std::string& p, const std::vector<std::string>& contexts,
                    const SolverDefaults& defaults) {
  std::string provided = "none";
  for (const auto& name : contexts) provided += ", " + name;
  s.section(p, "The linear solver; a key that the chosen type (or omega.tune) does not read is an error")
      .string(p + ".type", defaults.type,
              "petsc: any KSP + PC (ksp, pc, atol, matrix_free below); sor: matrix-free SOR (Richardson); ssor_cg: "
              "matrix-free SSOR-preconditioned CG; petsc_sor_richardson, petsc_ssor_cg: the same two through PETSc "
              "(KSPRICHARDSON / KSPCG + PCSOR); dcdm: the deep conjugate direction method with a trained network (model, "
              "method below; needs the learn layer)",
              kAllTypes)
      .string(p + ".ksp", "cg", "type petsc: PETSc KSP type (cg, gmres, bcgs, richardson, preonly, ...)")
      .string(p + ".pc", "fluxion_mg",
              "type petsc: preconditioner: fluxion_mg (fluxion's matrix-free multigrid V-cycle; the operator is then "
              "matrix-free too), mg (PETSc PCMG on the grid, Galerkin), gamg, hypre, sor, icc, ilu, jacobi, lu, none")
      .real(p + ".rtol", defaults.rtol, "Relative tolerance on ||b - Ax|| / ||b - Ax0||", Range::greater_than(0).and_less_than(1))
      .real(p + ".atol", 1e-50, "type petsc: absolute tolerance on ||b - Ax||", Range::greater_than(0))
      .integer(p + ".max_iterations", 10000,
               "Iteration cap; reaching it is non-convergence (and what a tuner is charged for that solve)",
               Range::at_least(1))
      .boolean(p + ".matrix_free", false, "type petsc: apply the operator matrix-free (then pc must be fluxion_mg, none or jacobi; with fluxion_mg it always is)")
      .string(p + ".model", "",
              "type dcdm: the model file (from `fluxion train`, or a TorchScript module), relative to the working "
              "directory or fluxion's data folder, e.g. data/models/dcdm_2d/model.pt")
      .string(p + ".method", "dcdm",
              "type dcdm: dcdm (the paper's iteration: network directions, A-orthogonalised against the last two); "
              "fcg or fgmres (the network as a nonlinear preconditioner of a flexible Krylov method)",
              {"dcdm", "fcg", "fgmres"})
      .boolean(p + ".fallback_cg", false,
               "type dcdm: when the network's output is not finite, continue with CG's direction (method dcdm) "
               "instead of failing the solve")
      .boolean(p + ".allow_nonconvergence", false, "Go on (with a warning) when a solve does not converge")
      .string(p + ".ordering", "auto",
              "type sor: sweep order. auto: lexicographic on one rank, red_black on several; red_black gives the "
              "same iterates on any number of ranks; lexicographic on several ranks is processor-block SOR, which "
              "can diverge for omega near 2 (a warning above 1.6)",
              {"auto", "lexicographic", "red_black"});
  s.section(p + ".omega", "The SOR family's relaxation factor omega: fixed, or chosen before each solve by an online "
                          "learner fed the iteration counts (Khodak et al., Learning to Relax)")
      .real(p + ".omega.value", 1.5, "tune none: the fixed omega", Range::greater_than(0).and_less_than(2))
      .string(p + ".omega.tune", "none",
              "none: fixed omega; tsallis_inf: bandit over the arms; tsallis_inf_cb: one bandit per context bin; "
              "chebcb: regression on Chebyshev features of the context",
              kAllTunes)
      .string(p + ".omega.context", "none",
              "tsallis_inf_cb, chebcb: the scalar the learner sees before each solve; this app provides: " + provided)
      .real_list(p + ".omega.context_range", {0.0, 1.0},
                 "tsallis_inf_cb, chebcb: the context interval [a, b] (binned / mapped to [-1, 1]; outside: clamped)",
                 Length::exactly(2))
      .integer(p + ".omega.bins", 5, "tsallis_inf_cb: context bins", Range::between(1, kMaxBins))
      .integer(p + ".omega.terms", 6, "chebcb: Chebyshev terms T_0..T_{terms-1}", Range::between(1, kMaxTerms))
      .integer(p + ".omega.seed", 0, "A learner's seed of its random draws (runs are reproducible)", Range::at_least(0))
      .string(p + ".omega.state", "",
              "A learner's state, an HDF5 file (relative to the working directory; its folder must exist): loaded "
              "before the first solve when it exists, saved atomically at the end, so the next run continues "
              "learning; locked while a run uses it");
  s.section(p + ".omega.arms", "The omega values a learner chooses from: count values from min to max")
      .real(p + ".omega.arms.min", 1.0, "Smallest omega", Range::greater_than(0).and_less_than(2))
      .real(p + ".omega.arms.max", 1.95, "Largest omega", Range::greater_than(0).and_less_than(2))
      .integer(p + ".omega.arms.count", 20, "Number of values (1: min only)", Range::between(1, kMaxArms));
}

const std::vector<SolverKeyUse>& solver_key_table() {
  static const std::vector<SolverKeyUse> table = {
      {"type", "type", kAllTypes},
      {"ksp", "type", {"petsc"}},
      {"pc", "type", {"petsc"}},
      {"rtol", "type", kAllTypes},
      {"atol", "type", {"petsc"}},
      {"max_iterations", "type", kAllTypes},
      {"matrix_free", "type", {"petsc"}},
      {"allow_nonconvergence", "type", kAllTypes},
      {"ordering", "type", {"sor"}},
      {"model", "type", {"dcdm"}},
      {"method", "type", {"dcdm"}},
      {"fallback_cg", "type", {"dcdm"}},
      {"omega.tune", "type", kSorFamily},
      {"omega.value", "omega.tune", {"none"}},
      {"omega.context", "omega.tune", kContextual},
      {"omega.context_range", "omega.tune", kContextual},
      {"omega.bins", "omega.tune", {"tsallis_inf_cb"}},
      {"omega.terms", "omega.tune", {"chebcb"}},
      {"omega.seed", "omega.tune", kLearners},
      {"omega.state", "omega.tune", kLearners},
      {"omega.arms.min", "omega.tune", kLearners},
      {"omega.arms.max", "omega.tune", kLearners},
      {"omega.arms.count", "omega.tune", kLearners},
  };
  return table;
}

namespace {

// The table applied: a key given for a choice that does not read it is an error at the key, except
// where --set changed the choice after the file was written for another one (a warning: the file's
// key is ignored) or --set gave the key its default (that clears it). omega.* keys under a type that
// reads no omega are checked against `type` through omega.tune's row.
void check_keys_read(const Config& c, const std::string& p, std::vector<std::string>& warnings) {
  const std::string type = c.string(p + ".type");
  for (const auto& use : solver_key_table()) {
    const std::string key = p + "." + use.key;
    if (!c.is_set(key)) continue;
    // omega.* keys are read only by the SOR family: under another type, that is the rule that fails.
    static const SolverKeyUse omega_rule{"omega", "type", kSorFamily};
    const bool omega_key = use.key.rfind("omega.", 0) == 0;
    const SolverKeyUse& rule = omega_key && !contains(kSorFamily, type) ? omega_rule : use;
    const std::string selector = p + "." + rule.selector;
    const std::string choice = c.string(selector);
    if (contains(rule.values, choice)) continue;
    if (from_command_line(c, key) && c.is_default(key)) continue;
    const std::string why = "does not apply with " + selector + " " + choice + " (read only with " + rule.selector +
                            " " + join(rule.values) + ")";
    if (from_command_line(c, selector) && !from_command_line(c, key)) {
      warnings.push_back(c.label(key) + ": ignored: it " + why + ", which " + c.where(selector) + " chose");
      continue;
    }
    std::string hint = "; remove it";
    if (&rule == &omega_rule && type == "petsc") hint += " (with petsc, pass PCSOR options in the petsc: section)";
    if (rule.selector == "omega.tune" && choice == "none") hint = "; it needs a learner: set " + p + ".omega.tune";
    c.fail(key, why + hint);
  }
}

std::unique_ptr<RelaxationSolver> make_relaxation_solver(const Config& c, const std::string& p, const std::string& type,
                                                         double omega) {
  const double rtol = c.real(p + ".rtol");
  const int cap = static_cast<int>(c.integer(p + ".max_iterations"));
  if (type == "sor") {
    SorSolverSettings s;
    const std::string ordering = c.string(p + ".ordering");
    s.ordering = ordering == "red_black"       ? SorOrdering::RedBlack
                 : ordering == "lexicographic" ? SorOrdering::Lexicographic
                                               : SorOrdering::Auto;
    s.omega = omega;
    s.rtol = rtol;
    s.max_iterations = cap;
    return std::make_unique<SorSolver>(s);
  }
  if (type == "ssor_cg") return std::make_unique<SsorCgSolver>(SsorCgSettings{omega, rtol, cap});
  PetscSorSettings s;
  s.method = type == "petsc_ssor_cg" ? PetscSorMethod::SsorCg : PetscSorMethod::Richardson;
  s.omega = omega;
  s.rtol = rtol;
  s.max_iterations = cap;
  return std::make_unique<PetscSorSolver>(s);
}

std::unique_ptr<OnlineLearner> make_learner(const Config& c, const std::string& p, const std::string& tune, int arms) {
  const auto seed = static_cast<std::uint64_t>(c.integer(p + ".omega.seed"));
  if (tune == "tsallis_inf") return std::make_unique<TsallisInf>(arms, seed);
  const auto range = c.reals(p + ".omega.context_range");
  if (!(range[0] < range[1]))
    c.fail(p + ".omega.context_range", "[" + std::to_string(range[0]) + ", " + std::to_string(range[1]) +
                                           "] is empty; expected [a, b] with a < b");
  if (tune == "tsallis_inf_cb")
    return std::make_unique<TsallisInfCb>(arms, static_cast<int>(c.integer(p + ".omega.bins")), range[0], range[1], seed);
  return std::make_unique<ChebCb>(arms, static_cast<int>(c.integer(p + ".omega.terms")), range[0], range[1], seed);
}

// Processor-block SOR (see kBlockSorSafeOmega): a warning when omega may go above the safe value.
void warn_block_sor(const Config& c, const std::string& p, MPI_Comm comm, const std::string& type, double max_omega,
                    const std::string& omega_key, std::vector<std::string>& warnings) {
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  const bool block = type == "petsc_sor_richardson" || (type == "sor" && c.string(p + ".ordering") == "lexicographic");
  if (ranks == 1 || !block || max_omega <= kBlockSorSafeOmega) return;
  std::ostringstream s;
  s << c.label(omega_key) << ": omega up to " << max_omega << " with " << (type == "sor" ? "lexicographic SOR" : type)
    << " on " << ranks << " ranks, which is processor-block SOR and can diverge above omega "
    << kBlockSorSafeOmega << (type == "sor" ? "; ordering red_black (or auto) converges for every omega" : "");
  warnings.push_back(s.str());
}

// The state file's folder exists and is writable (checked on rank 0, the rank that saves it), so a
// run never finds out after its solves that the state cannot be kept.
void check_state_folder(const Config& c, const std::string& key, const std::filesystem::path& file, MPI_Comm comm) {
  namespace fs = std::filesystem;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const fs::path folder = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  int problem = 0;  // 1: no folder, 2: not a folder, 3: not writable
  if (rank == 0) {
    std::error_code ec;
    if (!fs::exists(folder, ec))
      problem = 1;
    else if (!fs::is_directory(folder, ec))
      problem = 2;
    else if (access(folder.c_str(), W_OK | X_OK) != 0)
      problem = 3;
  }
  MPI_Bcast(&problem, 1, MPI_INT, 0, comm);
  std::string name = "'";  // appends: GCC 12 warns (-Wrestrict, a false positive) on "'" + std::string&&
  name.append(folder.string()).append("'");
  if (problem == 1) c.fail(key, "the folder " + name + " does not exist; create it, or name a file in an existing folder");
  if (problem == 2) c.fail(key, name + " is not a folder");
  if (problem == 3) c.fail(key, "the folder " + name + " is not writable, so the state could not be saved");
}

}  // namespace

SolverSetup make_solver(const Config& c, MPI_Comm comm, const std::string& p, std::function<void(int, double)> monitor,
                        const std::vector<std::string>& contexts) {
  SolverSetup setup;
  const std::string type = c.string(p + ".type");
  const std::string tune = c.string(p + ".omega.tune");
  const std::string o = p + ".omega";
  check_keys_read(c, p, setup.warnings);
  auto warn = [&] {
    for (const auto& w : setup.warnings) print_line(comm, "warning: " + w);
  };

  if (type == "petsc") {
    PetscSolverSettings s;
    s.ksp_type = c.string(p + ".ksp");
    s.pc_type = c.string(p + ".pc");
    s.rtol = c.real(p + ".rtol");
    s.atol = c.real(p + ".atol");
    s.max_iterations = static_cast<int>(c.integer(p + ".max_iterations"));
    s.matrix_free = c.boolean(p + ".matrix_free");
    if (s.matrix_free && s.pc_type != "none" && s.pc_type != "jacobi" && s.pc_type != "fluxion_mg")
      c.fail(p + ".pc",
             "'" + abbreviate(s.pc_type) + "' needs an assembled matrix; with matrix_free use fluxion_mg, none or jacobi");
    auto solver = std::make_unique<PetscSolver>(s);
    if (monitor) solver->set_monitor(std::move(monitor));
    setup.solver = std::move(solver);
    warn();
    return setup;
  }

  if (type == "dcdm") {
    PetscErrorCode (*create)(KSP) = nullptr;
    FLUXION_PETSC_CHECK(PetscFunctionListFind(KSPList, "dcdm", &create));
    if (!create)
      c.fail(p + ".type", kWithTorch ? "dcdm is not registered with PETSc: call fluxion::learn::initialize() first"
                                     : "dcdm needs the learn layer, and this fluxion was built with FLUXION_WITH_TORCH=OFF");
    if (c.string(p + ".model").empty()) c.fail(p + ".model", "type dcdm needs a model file (from `fluxion train`)");
    const std::string model = resolve_data_file(c, p + ".model", {}).string();
    const std::string method = c.string(p + ".method");
    const bool fallback = c.boolean(p + ".fallback_cg");
    if (fallback && method != "dcdm")
      c.fail(p + ".fallback_cg", "applies to method dcdm only (a preconditioner's failure stops " + method + ")");
    PetscSolverSettings s;
    s.ksp_type = method;
    s.pc_type = method == "dcdm" ? "none" : "dcdm";
    s.rtol = c.real(p + ".rtol");
    s.max_iterations = static_cast<int>(c.integer(p + ".max_iterations"));
    // Through the types' composed setters (the setup layer does not link the learn layer).
    s.configure = [model, method, fallback](KSP ksp) {
      PetscErrorCode (*set_model)(PetscObject, const char*) = nullptr;
      PetscErrorCode (*set_fallback)(KSP, PetscBool) = nullptr;
      PetscObject target = reinterpret_cast<PetscObject>(ksp);
      if (method != "dcdm") {
        PC pc;
        FLUXION_PETSC_CHECK(KSPGetPC(ksp, &pc));
        target = reinterpret_cast<PetscObject>(pc);
      }
      FLUXION_PETSC_CHECK(
          PetscObjectQueryFunction(target, method == "dcdm" ? "KSPDCDMSetModel_C" : "PCDCDMSetModel_C", &set_model));
      if (!set_model) throw Error("solver type dcdm: the KSP/PC has no dcdm model setter");
      FLUXION_PETSC_CHECK(set_model(target, model.c_str()));
      FLUXION_PETSC_CHECK(PetscObjectQueryFunction(target, "KSPDCDMSetFallbackCG_C", &set_fallback));
      if (set_fallback) FLUXION_PETSC_CHECK(set_fallback(ksp, fallback ? PETSC_TRUE : PETSC_FALSE));
    };
    auto solver = std::make_unique<PetscSolver>(s);
    if (monitor) solver->set_monitor(std::move(monitor));
    setup.solver = std::move(solver);
    warn();
    return setup;
  }

  if (tune == "none") {
    warn_block_sor(c, p, comm, type, c.real(o + ".value"), o + ".value", setup.warnings);
    setup.solver = make_relaxation_solver(c, p, type, c.real(o + ".value"));
    warn();
    return setup;
  }

  const std::string context = contains(kContextual, tune) ? c.string(o + ".context") : "none";
  if (context != "none" && !contains(contexts, context))
    c.fail(o + ".context", "context '" + abbreviate(context) + "' is not provided by app '" + c.string("app") +
                               "'; it provides: " + (contexts.empty() ? std::string("none") : join(contexts)));
  if (context == "none" && tune != "tsallis_inf")
    c.fail(o + ".tune", "'" + tune + "' learns from a context, but " + o + ".context is none" +
                            (contexts.empty() ? " (app '" + c.string("app") + "' provides none); use tsallis_inf"
                                              : "; set it to one of: " + join(contexts)));
  const double lo = c.real(o + ".arms.min"), hi = c.real(o + ".arms.max");
  const int count = static_cast<int>(c.integer(o + ".arms.count"));
  if (!(lo < hi))
    c.fail(o + ".arms.min", "(" + std::to_string(lo) + ") must be smaller than " + o + ".arms.max (" +
                                std::to_string(hi) + ")");
  warn_block_sor(c, p, comm, type, count == 1 ? lo : hi, o + ".arms.max", setup.warnings);
  ArmGrid arms(lo, hi, count);
  OmegaTunerSettings settings;
  settings.nonconvergence_cost = static_cast<double>(c.integer(p + ".max_iterations"));
  settings.use_context = context != "none";
  auto tuner = std::make_unique<OmegaTuner>(make_relaxation_solver(c, p, type, arms[0]),
                                            make_learner(c, p, tune, arms.size()), std::move(arms), settings);
  setup.tuner = tuner.get();
  setup.context = context == "none" ? "" : context;
  setup.state_file = c.string(o + ".state");
  if (!setup.state_file.empty()) {
    check_state_folder(c, o + ".state", setup.state_file, comm);
    try {
      // Before loading: what this run loads is what it will save over, with no other run in between.
      setup.state_lock = std::make_unique<FileLock>(comm, setup.state_file.string() + ".lock",
                                                    "tuner state file " + setup.state_file.string());
      setup.state_loaded = load_tuner_state(setup.state_file, *tuner, IfMissing::Ignore);
    } catch (const IoError& e) {
      c.fail(o + ".state", std::string(e.what()) + " (the file is left as it is)");
    }
  }
  setup.solver = std::move(tuner);
  warn();
  return setup;
}

void SolverSetup::set_context(const std::string& name, double value) {
  if (tuner && !context.empty() && name == context) tuner->set_context(value);
}

void SolverSetup::finish(MPI_Comm comm) {
  if (!tuner || state_file.empty()) return;
  io_detail::on_root(comm, [&] { save_tuner_state(state_file, *tuner); });
  state_saved = true;
}

std::string SolverSetup::tuner_summary_json() const {
  if (!tuner) return "null";
  nlohmann::json omega = nlohmann::json::array(), iterations = nlohmann::json::array(),
                 contexts = nlohmann::json::array(), converged = nlohmann::json::array();
  long long total = 0;
  for (const auto& h : tuner->history()) {
    omega.push_back(h.omega);
    iterations.push_back(h.iterations);
    contexts.push_back(h.context);
    converged.push_back(h.converged);
    total += h.iterations;
  }
  const double solve = tuner->solve_seconds(), learn = tuner->learner_seconds();
  const auto grid = tuner->arms().values();
  const nlohmann::json summary = {{"learner", tuner->learner().name()},
                                  {"solver", tuner->solver().name()},
                                  {"context", context.empty() ? "none" : context},
                                  {"grid", std::vector<double>(grid.begin(), grid.end())},
                                  {"state_file", state_file.string()},
                                  {"state_loaded", state_loaded},
                                  {"state_saved", state_saved},
                                  {"steps_before", tuner->loaded_steps()},
                                  {"steps", tuner->steps()},
                                  {"omega", omega},
                                  {"iterations", iterations},
                                  {"context_values", contexts},
                                  {"converged", converged},
                                  {"total_iterations", total},
                                  {"solve_seconds", solve},
                                  {"learner_seconds", learn},
                                  {"learner_overhead", solve > 0 ? learn / solve : 0.0}};
  return summary.dump();
}

std::string SolverSetup::tuner_line() const {
  if (!tuner) return "";
  std::ostringstream s;
  s.precision(4);
  const auto& h = tuner->history();
  s << tuner->learner().name() << " over " << tuner->arms().size() << " omegas";
  if (h.size() == 1) {
    s << ": chose " << h[0].omega << " (" << h[0].iterations << " iterations)";
  } else if (!h.empty()) {
    double mean = 0.0;
    for (const auto& step : h) mean += step.omega;
    s << ": " << h.size() << " solves, mean omega " << mean / static_cast<double>(h.size());
  }
  s << ", learner step " << tuner->steps();
  if (!state_file.empty())
    s << "; state " << (state_loaded ? "loaded from " : "new, ") << state_file.string() << (state_saved ? ", saved" : "");
  return s.str();
}

void check_converged(const Config& c, const SolveReport& report, const std::string& p) {
  if (report.converged) return;
  if (c.boolean(p + ".allow_nonconvergence")) return;
  throw NumericalError(report.summary() + " (set " + p + ".allow_nonconvergence: true to go on anyway)");
}

}  // namespace fluxion
