// DCDM as a trainable model: training data from Lanczos Ritz vectors of the training matrix
// (SLEPc), the scale-invariant loss, `fluxion train` and `fluxion eval` for model "dcdm".
#include <petscksp.h>
#include <slepceps.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "fluxion/core/log.hpp"
#include "fluxion/core/error.hpp"
#include "fluxion/core/field.hpp"
#include "fluxion/learn/dcdm.hpp"
#include "fluxion/learn/dcdm_net.hpp"
#include "fluxion/learn/model_file.hpp"
#include "fluxion/learn/model_registry.hpp"
#include "fluxion/learn/operator_nets.hpp"
#include "fluxion/learn/tensor_bridge.hpp"
#include "fluxion/learn/training.hpp"
#include "fluxion/linalg/petsc_solver.hpp"
#include "fluxion/linalg/stencil_operator.hpp"
#include "fluxion/setup/domain_setup.hpp"

namespace fs = std::filesystem;

namespace fluxion::learn {

namespace {

// The training (or test) system: the operator -div grad on the config's domain (grid, boundary,
// obstacles): the pressure matrix of a projection step on that domain, up to the factor dt/rho.
struct System {
  Domain domain;
  std::unique_ptr<StencilOperator> op;
};

void declare_system(Schema& s, std::vector<long> cells) {
  std::vector<double> lower(cells.size(), 0.0), upper(cells.size(), 1.0);
  declare_grid(s, cells, lower, upper);
  declare_boundary(s, "neumann");
  declare_obstacles(s);
}

System make_system(const Config& c, MPI_Comm comm, const fs::path& config_dir) {
  System sys;
  sys.domain = make_domain(c, comm, config_dir);
  Field k(sys.domain.grid, "k"), reaction(sys.domain.grid, "c");
  k.fill(1.0);
  reaction.fill(0.0);
  sys.op = std::make_unique<StencilOperator>(sys.domain.grid, k, reaction, sys.domain.boundary, sys.domain.solid);
  return sys;
}

// The fluid mask (1 fluid, 0 solid) in the grid's order, as [N] float32.
torch::Tensor fluid_mask(const StencilOperator& op) {
  const auto& solid = op.solid_flags();
  torch::Tensor m = torch::ones({static_cast<int64_t>(solid.size())}, torch::kFloat32);
  auto a = m.accessor<float, 1>();
  for (std::size_t i = 0; i < solid.size(); ++i)
    if (solid[i]) a[static_cast<int64_t>(i)] = 0.0f;
  return m;
}

// The assembled operator as a sparse float32 tensor (one rank).
torch::Tensor sparse_matrix(const StencilOperator& op) {
  Mat A = op.matrix();
  PetscInt rows = 0;
  FLUXION_PETSC_CHECK(MatGetSize(A, &rows, nullptr));
  std::vector<int64_t> r, c;
  std::vector<float> v;
  for (PetscInt i = 0; i < rows; ++i) {
    PetscInt n = 0;
    const PetscInt* cols = nullptr;
    const PetscScalar* vals = nullptr;
    FLUXION_PETSC_CHECK(MatGetRow(A, i, &n, &cols, &vals));
    for (PetscInt j = 0; j < n; ++j) {
      r.push_back(i);
      c.push_back(cols[j]);
      v.push_back(static_cast<float>(vals[j]));
    }
    FLUXION_PETSC_CHECK(MatRestoreRow(A, i, &n, &cols, &vals));
  }
  const auto nnz = static_cast<int64_t>(v.size());
  torch::Tensor indices = torch::stack({torch::tensor(r, torch::kInt64), torch::tensor(c, torch::kInt64)});
  return torch::sparse_coo_tensor(indices, torch::tensor(v, torch::kFloat32).reshape({nnz}), {rows, rows}).coalesce();
}

// SLEPc's convergence test that accepts every Ritz pair: with it, one Krylov-Schur (thick-restart
// Lanczos with full reorthogonalisation) cycle of `count` steps returns all its Ritz pairs.
PetscErrorCode accept_every_pair(EPS, PetscScalar, PetscScalar, PetscReal, PetscReal* error, void*) {
  *error = 0.0;
  return 0;
}

struct RitzBasis {
  torch::Tensor vectors;  // [m, N] float32, ascending Ritz values
  std::vector<double> values;
  int dropped_null = 0;   // Ritz pairs of the null space (singular operators) left out
};

RitzBasis ritz_vectors(const StencilOperator& op, int count, std::uint64_t seed) {
  static bool slepc_started = false;
  if (!slepc_started) {
    FLUXION_PETSC_CHECK(SlepcInitialize(nullptr, nullptr, nullptr, nullptr));
    slepc_started = true;
  }
  Mat A = op.matrix();
  EPS eps;
  FLUXION_PETSC_CHECK(EPSCreate(PETSC_COMM_SELF, &eps));
  FLUXION_PETSC_CHECK(EPSSetOperators(eps, A, nullptr));
  FLUXION_PETSC_CHECK(EPSSetProblemType(eps, EPS_HEP));
  FLUXION_PETSC_CHECK(EPSSetType(eps, EPSKRYLOVSCHUR));
  FLUXION_PETSC_CHECK(EPSSetDimensions(eps, count, count + 1, PETSC_DEFAULT));
  FLUXION_PETSC_CHECK(EPSSetWhichEigenpairs(eps, EPS_SMALLEST_REAL));
  FLUXION_PETSC_CHECK(EPSSetConvergenceTestFunction(eps, accept_every_pair, nullptr, nullptr));
  FLUXION_PETSC_CHECK(EPSSetTolerances(eps, PETSC_DEFAULT, 1));
  // The authors start Lanczos from A times a random vector; ours is zero on solid cells, so the
  // Krylov space (and every Ritz vector) lives on the fluid cells.
  Vec start, random;
  FLUXION_PETSC_CHECK(MatCreateVecs(A, &random, &start));
  {
    PetscRandom rng;
    FLUXION_PETSC_CHECK(PetscRandomCreate(PETSC_COMM_SELF, &rng));
    FLUXION_PETSC_CHECK(PetscRandomSetType(rng, PETSCRAND48));
    FLUXION_PETSC_CHECK(PetscRandomSetSeed(rng, static_cast<unsigned long>(seed) + 12345));
    FLUXION_PETSC_CHECK(PetscRandomSeed(rng));
    FLUXION_PETSC_CHECK(VecSetRandom(random, rng));
    FLUXION_PETSC_CHECK(PetscRandomDestroy(&rng));
    FLUXION_PETSC_CHECK(VecShift(random, -0.5));
    PetscScalar* x = nullptr;
    FLUXION_PETSC_CHECK(VecGetArray(random, &x));
    for (std::size_t i = 0; i < op.solid_flags().size(); ++i)
      if (op.solid_flags()[i]) x[i] = 0.0;
    FLUXION_PETSC_CHECK(VecRestoreArray(random, &x));
    FLUXION_PETSC_CHECK(MatMult(A, random, start));
  }
  FLUXION_PETSC_CHECK(EPSSetInitialSpace(eps, 1, &start));
  FLUXION_PETSC_CHECK(EPSSolve(eps));
  PetscInt converged = 0;
  FLUXION_PETSC_CHECK(EPSGetConverged(eps, &converged));
  PetscInt n = 0;
  FLUXION_PETSC_CHECK(MatGetSize(A, &n, nullptr));
  RitzBasis basis;
  std::vector<torch::Tensor> rows;
  double largest = 0.0;
  std::vector<std::pair<double, torch::Tensor>> pairs;
  Vec v;
  FLUXION_PETSC_CHECK(MatCreateVecs(A, &v, nullptr));
  for (PetscInt i = 0; i < converged; ++i) {
    PetscScalar value;
    FLUXION_PETSC_CHECK(EPSGetEigenpair(eps, i, &value, nullptr, v, nullptr));
    const PetscScalar* data = nullptr;
    FLUXION_PETSC_CHECK(VecGetArrayRead(v, &data));
    pairs.emplace_back(PetscRealPart(value), torch::from_blob(const_cast<PetscScalar*>(data), {n}, torch::kFloat64)
                                                 .to(torch::kFloat32));
    FLUXION_PETSC_CHECK(VecRestoreArrayRead(v, &data));
    largest = std::max(largest, std::abs(PetscRealPart(value)));
  }
  VecDestroy(&v);
  VecDestroy(&start);
  VecDestroy(&random);
  EPSDestroy(&eps);
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [value, vector] : pairs) {
    if (value < 1e-8 * largest) {
      ++basis.dropped_null;
      continue;
    }
    basis.values.push_back(value);
    rows.push_back(vector);
  }
  if (rows.empty()) throw NumericalError("DCDM training data: SLEPc returned no Ritz vectors");
  basis.vectors = torch::stack(rows);
  return basis;
}

// Training samples b = normalise(sum_i c_i q_i), c_i ~ N(0, 1) with the low end of the spectrum
// (the first low_fraction of the Ritz vectors) weighted low_weight times more, as the authors
// do; drawn per sample index from the seed, so no sample is stored.
class DcdmTask final : public TrainingTask {
 public:
  DcdmTask(AnyNetwork net, RitzBasis basis, torch::Tensor matrix, torch::Tensor mask, std::vector<int64_t> shape,
           std::int64_t samples, double low_fraction, double low_weight, std::uint64_t seed)
      : net_(std::move(net)), basis_(std::move(basis)), matrix_(std::move(matrix)), mask_(std::move(mask)),
        shape_(std::move(shape)), samples_(samples), seed_(seed) {
    const int64_t m = basis_.vectors.size(0);
    weights_ = torch::ones({m}, torch::kFloat32);
    const auto low = static_cast<int64_t>(std::llround(low_fraction * static_cast<double>(m)));
    if (low > 0) weights_.narrow(0, 0, std::min(low, m)).fill_(low_weight);
  }
  torch::nn::Module& module() override { return *net_.module; }
  std::int64_t samples() const override { return samples_; }

  torch::Tensor right_hand_sides(const torch::Tensor& indices) const {
    const int64_t m = basis_.vectors.size(0);
    std::vector<torch::Tensor> coefficients;
    for (int64_t k = 0; k < indices.size(0); ++k) {
      auto gen = at::detail::createCPUGenerator(seed_ * 1000003ULL + static_cast<std::uint64_t>(indices[k].item<int64_t>()));
      coefficients.push_back(torch::randn({m}, gen, torch::kFloat32) * weights_);
    }
    torch::Tensor b = torch::matmul(torch::stack(coefficients), basis_.vectors);  // [B, N]
    return b / b.norm(2, {1}, true);
  }

  torch::Tensor loss(const torch::Tensor& indices) override {
    const torch::Tensor b = right_hand_sides(indices);
    const int64_t batch = b.size(0);
    std::vector<int64_t> shape = shape_;
    shape[0] = batch;
    torch::Tensor y = net_.forward(b.reshape(shape)).reshape({batch, -1}) * mask_;
    torch::Tensor ay = torch::mm(matrix_, y.t()).t();
    // || b - alpha A y ||^2 with the optimal alpha = (y.b) / (y.A y): invariant to the scale of y.
    torch::Tensor alpha = (y * b).sum(1, true) / (y * ay).sum(1, true);
    return (b - alpha * ay).pow(2).sum(1).mean();
  }

 private:
  AnyNetwork net_;
  RitzBasis basis_;
  torch::Tensor matrix_, mask_, weights_;
  std::vector<int64_t> shape_;
  std::int64_t samples_;
  std::uint64_t seed_;
};

void declare_network(Schema& s) {
  s.section("network", "DCDM's direction network: the paper's (its 64^3 sizes by default) or an MgNO")
      .string("network.type", "dcdm", "dcdm: the paper's U-shaped network; mgno: MgNO V-cycles (issue 9)",
              {"dcdm", "mgno"})
      .integer("network.channels", 16, "Channels of every convolution", Range::at_least(1).and_at_most(256))
      .integer("network.levels", 1, "dcdm: average-pooling levels (the paper: 1 for 64^3, 2 for 128^3)",
               Range::at_least(0).and_at_most(6))
      .integer("network.coarse_pairs", 3, "dcdm: residual pairs of convolutions at the coarsest level",
               Range::at_least(0).and_at_most(32))
      .integer("network.decoder_pairs", 2, "dcdm: residual pairs after each upsampling", Range::at_least(0).and_at_most(32))
      .integer("network.layers", 2, "mgno: layers u <- GELU(MgConv(u) + Conv1x1(u))", Range::at_least(1).and_at_most(32))
      .integer_list("network.smoothing", {1, 1, 1, 1, 1}, "mgno: smoothing steps per level (its length: the levels)",
                    Length::at_least(1), Range::at_least(1).and_at_most(16))
      .string("network.padding", "zeros", "mgno: the padding of its convolutions", {"zeros", "circular", "reflect"})
      .boolean("network.bias", false, "mgno: biases in the layers' 1x1 convolutions (the paper's MgNO has them)");
}

// The network the config asks for, as the JSON its model file's header records; keys of the
// other type are errors (they would have no effect).
nlohmann::json network_options(const Config& c, int dim) {
  const std::string type = c.string("network.type");
  const std::vector<std::string> dcdm_keys = {"levels", "coarse_pairs", "decoder_pairs"};
  const std::vector<std::string> mgno_keys = {"layers", "smoothing", "padding", "bias"};
  for (const auto& key : type == "mgno" ? dcdm_keys : mgno_keys)
    if (c.is_set("network." + key)) c.fail("network." + key, "has no effect with network.type " + type + "; remove it");
  if (type == "mgno") {
    MgnoOptions o;
    o.dim = dim;
    o.channels = static_cast<int>(c.integer("network.channels"));
    o.layers = static_cast<int>(c.integer("network.layers"));
    const auto steps = c.integers("network.smoothing");
    o.smoothing.assign(steps.begin(), steps.end());
    o.padding = parse_padding(c.string("network.padding"));
    o.bias = c.boolean("network.bias");
    nlohmann::json j = o.to_json();
    j["type"] = type;
    return j;
  }
  DcdmNetOptions o;
  o.dim = dim;
  o.channels = static_cast<int>(c.integer("network.channels"));
  o.levels = static_cast<int>(c.integer("network.levels"));
  o.coarse_pairs = static_cast<int>(c.integer("network.coarse_pairs"));
  o.decoder_pairs = static_cast<int>(c.integer("network.decoder_pairs"));
  return o.to_json();
}

Schema train_schema() {
  Schema s;
  declare_system(s, {64, 64});
  declare_network(s);
  s.section("data", "Training data without solver data: Lanczos Ritz vectors of the training matrix (SLEPc)")
      .integer("data.ritz_vectors", 400, "Lanczos steps (Ritz vectors); the authors use 10000 at 64^3",
               Range::at_least(4).and_at_most(20000))
      .integer("data.samples", 2000, "Right-hand sides drawn (training + validation)",
               Range::at_least(2).and_at_most(10000000))
      .real("data.low_fraction", 0.55, "Share of the Ritz vectors (lowest values) whose coefficients are weighted",
            Range::at_least(0).and_at_most(1))
      .real("data.low_weight", 9.0, "Their weight (the authors: 9)", Range::greater_than(0))
      .integer("data.seed", 0, "Seed of the Lanczos start vector and of the coefficients", Range::at_least(0));
  declare_training(s);
  return s;
}

ModelRunResult train_dcdm(const Config& c, const ModelRunContext& ctx) {
  require_one_rank(c, ctx.comm);
  const auto start = std::chrono::steady_clock::now();
  System sys = make_system(c, ctx.comm, ctx.config_dir);
  const Grid& grid = *sys.domain.grid;

  const nlohmann::json options = network_options(c, grid.dim());
  const std::string type = c.string("network.type");
  const int multiple = 1 << coarsenings(options, type);
  for (int a = 0; a < grid.dim(); ++a)
    if (grid.cells(a) % multiple != 0)
      c.fail("grid.cells", "this " + type + " network halves the training grid " + std::to_string(coarsenings(options, type)) +
                               " time(s), so every axis must be a multiple of " + std::to_string(multiple) + "; axis " +
                               std::to_string(a) + " has " + std::to_string(grid.cells(a)) + " cells");

  const auto m = static_cast<int>(c.integer("data.ritz_vectors"));
  if (m >= grid.global_cells())
    c.fail("data.ritz_vectors", std::to_string(m) + " Ritz vectors need more than the grid's " +
                                    std::to_string(grid.global_cells()) + " cells");
  const auto seed = static_cast<std::uint64_t>(c.integer("data.seed"));
  const auto lanczos_start = std::chrono::steady_clock::now();
  std::printf("dcdm: %d Lanczos steps on %s (SLEPc) ...\n", m, grid.describe().c_str());
  std::fflush(stdout);
  RitzBasis basis = ritz_vectors(*sys.op, m, seed);
  const double lanczos_seconds = seconds_since(lanczos_start);
  std::printf("dcdm: %lld Ritz vectors in %.1f s (values %.3g .. %.3g; %d null-space pair(s) left out)\n",
              static_cast<long long>(basis.vectors.size(0)), lanczos_seconds, basis.values.front(),
              basis.values.back(), basis.dropped_null);
  std::fflush(stdout);

  TrainingOptions topt = training_options(c, ctx.output_dir);
  torch::manual_seed(topt.seed);  // the weights' initialisation
  AnyNetwork net = make_network(type, options);
  const long parameters = parameter_count(*net.module);
  const auto ritz_count = basis.vectors.size(0);
  DcdmTask task(net, std::move(basis), sparse_matrix(*sys.op), fluid_mask(*sys.op), network_shape(grid.dm()),
                c.integer("data.samples"), c.real("data.low_fraction"), c.real("data.low_weight"), seed);
  const TrainingResult result = train(task, topt);

  ModelHeader header = trained_model_header("dcdm", grid.dim(), options, result, c, seconds_since(start));
  header.training["grid"] = grid.describe();
  const fs::path model_file = ctx.output_dir / (c.string("output.name") + ".pt");
  save_model(model_file, *net.module, header);

  ModelRunResult out;
  out.outputs = {model_file, ctx.output_dir / "loss.csv"};
  out.table = {{"network", type + " " + std::to_string(grid.dim()) + "D, " + std::to_string(parameters) + " parameters"},
               {"training matrix", grid.describe()},
               {"Ritz vectors", std::to_string(ritz_count) + " (" + format_number("%.1f", lanczos_seconds) + " s)"},
               {"epochs", std::to_string(result.history.size()) + " (stopped by " + result.stopped_by + ")"},
               {"best validation loss", format_number("%.4e", result.best_validation_loss) + " (epoch " +
                                            std::to_string(result.best_epoch) + ")"},
               {"training time", format_number("%.1f", result.seconds) + " s"},
               {"model", model_file.filename().string()}};
  out.results = training_summary(result);
  out.results.update({{"parameters", parameters}, {"ritz_vectors", ritz_count}, {"lanczos_seconds", lanczos_seconds}});
  return out;
}

// ---------------------------------------------------------------------------------------------
// eval: DCDM against CG on a system of the config's domain with a random right-hand side.

Schema eval_schema() {
  Schema s;
  declare_system(s, {64, 64});
  s.string("model_file", required, "The DCDM model to evaluate (a file from fluxion train, or TorchScript)")
      .integer("rhs.seed", 1, "Seed of the random right-hand side (zero mean on fluid cells)", Range::at_least(0))
      .real_list("tolerances", {1e-4, 1e-6}, "Relative residuals to report iterations for", Length::at_least(1),
                 Range::greater_than(0).and_less_than(1))
      .integer("max_iterations", 1000, "Iteration cap of every solver", Range::at_least(1).and_at_most(1000000))
      .boolean("fallback_cg", false, "Continue with CG's direction when the network's output is not finite");
  return s;
}

struct SolveRun {
  std::string name;
  std::vector<double> history;  // relative residuals per iteration
  double seconds = 0.0, network_seconds = 0.0;
  std::string reason;
};

SolveRun run_solver(const StencilOperator& op, const Field& b, const std::string& name, const std::string& ksp_type,
                    const std::string& pc_type, const std::string& model, bool fallback, double rtol, int cap) {
  PetscSolverSettings s;
  s.ksp_type = ksp_type;
  s.pc_type = pc_type;
  s.rtol = rtol;
  s.max_iterations = cap;
  s.prefix = "eval_";
  s.configure = [&](KSP ksp) {
    FLUXION_PETSC_CHECK(KSPDCDMSetModel(ksp, model.c_str()));
    FLUXION_PETSC_CHECK(KSPDCDMSetFallbackCG(ksp, fallback ? PETSC_TRUE : PETSC_FALSE));
    FLUXION_PETSC_CHECK(KSPSetResidualHistory(ksp, nullptr, PETSC_DECIDE, PETSC_TRUE));
  };
  PetscSolver solver(s);
  solver.set_operator(op);
  Field x(op.grid_ptr(), "x");
  x.fill(0.0);
  const SolveReport report = solver.solve(b, x);
  SolveRun run;
  run.name = name;
  const PetscReal* h = nullptr;
  PetscInt count = 0;
  FLUXION_PETSC_CHECK(KSPGetResidualHistory(solver.ksp(), &h, &count));
  for (PetscInt i = 0; i < count; ++i) run.history.push_back(h[i] / h[0]);
  run.seconds = report.seconds;
  run.reason = report.reason;
  long applications = 0, non_finite = 0;
  FLUXION_PETSC_CHECK(KSPDCDMGetNetworkStatistics(solver.ksp(), &applications, &run.network_seconds, &non_finite));
  return run;
}

ModelRunResult eval_dcdm(const Config& c, const ModelRunContext& ctx) {
  System sys = make_system(c, ctx.comm, ctx.config_dir);
  const fs::path model = resolve_data_file(c, "model_file", ctx.config_dir);
  Field b(sys.domain.grid, "b");
  {
    PetscRandom rng;
    FLUXION_PETSC_CHECK(PetscRandomCreate(sys.domain.grid->comm(), &rng));
    FLUXION_PETSC_CHECK(PetscRandomSetSeed(rng, static_cast<unsigned long>(c.integer("rhs.seed"))));
    FLUXION_PETSC_CHECK(PetscRandomSeed(rng));
    FLUXION_PETSC_CHECK(VecSetRandom(b.vec(), rng));
    FLUXION_PETSC_CHECK(PetscRandomDestroy(&rng));
    sys.op->zero_solid(b);
  }
  const auto tolerances = c.reals("tolerances");
  const double tightest = *std::min_element(tolerances.begin(), tolerances.end());
  const int cap = static_cast<int>(c.integer("max_iterations"));
  const bool fallback = c.boolean("fallback_cg");
  std::vector<SolveRun> runs = {
      run_solver(*sys.op, b, "dcdm", "dcdm", "none", model.string(), fallback, tightest, cap),
      run_solver(*sys.op, b, "cg", "cg", "none", "", false, tightest, cap),
      run_solver(*sys.op, b, "cg+icc", "cg", "icc", "", false, tightest, cap)};

  const std::string network =
      has_model_header(model) ? read_model_header(model).network.value("type", "dcdm") : "TorchScript";
  ModelRunResult out;
  out.table.push_back({"system", sys.domain.grid->describe()});
  out.table.push_back({"model", model.string() + " (" + network + " network)"});

  for (const auto& run : runs) {
    std::string line;
    nlohmann::json iterations = nlohmann::json::object();
    for (double tol : tolerances) {
      int its = -1;
      for (std::size_t i = 0; i < run.history.size(); ++i)
        if (run.history[i] <= tol) {
          its = static_cast<int>(i);
          break;
        }
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, "%s%d to %.0e", line.empty() ? "" : ", ", its, tol);
      line += buffer;
      char key[16];
      std::snprintf(key, sizeof key, "%.0e", tol);
      iterations[key] = its;
    }
    char t[64];
    std::snprintf(t, sizeof t, "; %.3f s (network %.3f s)", run.seconds, run.network_seconds);
    out.table.push_back({run.name, line + t});
    out.results[run.name] = {{"iterations", iterations}, {"seconds", run.seconds},
                             {"network_seconds", run.network_seconds}, {"reason", run.reason},
                             {"relative_residuals", run.history}};
    if (run.name == "dcdm") out.results[run.name]["network"] = network;
  }
  return out;
}

}  // namespace

void register_dcdm_model() {
  ModelRegistry::instance().add({"dcdm",
                                 "deep conjugate direction method: the direction network, trained on Ritz vectors",
                                 train_schema, eval_schema, train_dcdm, eval_dcdm});
}

}  // namespace fluxion::learn
