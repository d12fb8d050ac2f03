// DirectionNetwork: loads a DCDM model or TorchScript module on rank 0 and applies it to grid vectors.
#include "fluxion/learn/direction_network.hpp"

#include <petsclog.h>
#include <torch/script.h>

#include <chrono>
#include <optional>
#include <thread>

#include "fluxion/core/error.hpp"
#include "fluxion/learn/model_file.hpp"
#include "fluxion/learn/operator_nets.hpp"
#include "fluxion/learn/tensor_bridge.hpp"

namespace fs = std::filesystem;

namespace fluxion::learn {

struct DirectionNetwork::Impl {
  fs::path file;
  MPI_Comm comm;
  int rank = 0;
  int threads = 1;
  int dim = 0;      // 0: unknown (TorchScript)
  int levels = 0;   // the network pools 2^levels
  std::optional<AnyNetwork> net;            // a fluxion model (rank 0)
  std::optional<torch::jit::Module> script; // a TorchScript module (rank 0)
  std::string description;
  NetworkStatistics stats;
  DM gather_dm = nullptr;
  std::unique_ptr<RootGather> gather;

  torch::Tensor run(const torch::Tensor& x) {
    if (net) return net->forward(x);
    return script->forward({x}).toTensor();
  }
};

namespace {

// Rank 0's error message reaches every rank: an IoError everywhere, or nothing.
void agree(MPI_Comm comm, int rank, const std::string& error) {
  int length = rank == 0 ? static_cast<int>(error.size()) : 0;
  MPI_Bcast(&length, 1, MPI_INT, 0, comm);
  if (length == 0) return;
  std::string message(static_cast<std::size_t>(length), '\0');
  if (rank == 0) message = error;
  MPI_Bcast(message.data(), length, MPI_CHAR, 0, comm);
  throw IoError(message);
}

// The PETSc log event of one network application (gathers and scatters included): -log_view shows
// the network's share of a solve beside MatMult's.
PetscLogEvent network_event() {
  static PetscLogEvent event = [] {
    PetscLogEvent e = 0;
    PetscClassId id = 0;
    PetscClassIdRegister("DCDM network", &id);
    PetscLogEventRegister("DCDMNetwork", id, &e);
    return e;
  }();
  return event;
}

}  // namespace

DirectionNetwork::DirectionNetwork(const fs::path& file, MPI_Comm comm, int threads) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.file = file;
  m.comm = comm;
  int ranks = 1;
  MPI_Comm_rank(comm, &m.rank);
  MPI_Comm_size(comm, &ranks);
  m.threads = threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / ranks);
  std::string error;
  if (m.rank == 0) {
    try {
      if (has_model_header(file)) {
        const ModelHeader header = read_model_header(file);
        check_model_header(header, file, "dcdm", 0);
        // network.type: the paper's network (files without the key) or an MgNO.
        const std::string type = header.network.value("type", "dcdm");
        if (type != "dcdm" && type != "mgno")
          throw IoError("model file '" + file.string() + "': network.type '" + type + "' is not dcdm or mgno");
        if (header.network.value("dim", header.dim) != header.dim)
          throw IoError("model file '" + file.string() + "': header dim and network.dim differ");
        m.net = make_network(type, header.network);
        load_weights(file, *m.net->module);
        m.net->module->eval();
        m.dim = header.dim;
        m.levels = coarsenings(header.network, type);
        m.description = type + " " + std::to_string(m.dim) + "D, " +
                        std::to_string(header.network.value("channels", 0)) + " channels, " +
                        std::to_string(m.levels) + " coarsening(s), " +
                        std::to_string(parameter_count(*m.net->module)) + " parameters";
      } else {
        m.script.emplace(torch::jit::load(file.string()));
        m.script->eval();
        m.description = "TorchScript module";
      }
    } catch (const IoError& e) {
      error = e.what();
    } catch (const std::exception& e) {
      std::string what = e.what();
      error = "model file '" + file.string() + "' cannot be used: " + what.substr(0, what.find('\n'));
    }
  }
  agree(comm, m.rank, error);
  int dims[2] = {m.dim, m.levels};
  MPI_Bcast(dims, 2, MPI_INT, 0, comm);
  m.dim = dims[0];
  m.levels = dims[1];
}

DirectionNetwork::~DirectionNetwork() = default;

const fs::path& DirectionNetwork::file() const { return impl_->file; }
std::string DirectionNetwork::describe() const { return impl_->description; }
const NetworkStatistics& DirectionNetwork::statistics() const { return impl_->stats; }

bool DirectionNetwork::apply(DM dm, const unsigned char* solid, Vec in, Vec out) {
  Impl& m = *impl_;
  const auto start = std::chrono::steady_clock::now();
  FLUXION_PETSC_CHECK(PetscLogEventBegin(network_event(), 0, 0, 0, 0));
  // Ends the log event on every way out, exceptions included.
  struct EventEnd {
    ~EventEnd() { PetscLogEventEnd(network_event(), 0, 0, 0, 0); }
  } event_end;
  const std::vector<int64_t> shape = network_shape(dm);
  const int dim = static_cast<int>(shape.size()) - 2;
  if (m.dim != 0 && dim != m.dim)
    throw Error("model file '" + m.file.string() + "' holds a " + std::to_string(m.dim) + "D network; the grid is " +
                std::to_string(dim) + "D");
  const int64_t multiple = int64_t{1} << m.levels;
  for (std::size_t a = 2; a < shape.size(); ++a)
    if (shape[a] < multiple)
      throw Error("model file '" + m.file.string() + "': its network pools " + std::to_string(m.levels) +
                  " time(s), so every axis needs at least " + std::to_string(multiple) + " cells; the grid has " +
                  std::to_string(shape[a]));
  if (dm != m.gather_dm) {
    m.gather = std::make_unique<RootGather>(dm);
    m.gather_dm = dm;
  }
  PetscReal norm = 0.0;
  FLUXION_PETSC_CHECK(VecNorm(in, NORM_2, &norm));
  torch::Tensor x = m.gather->gather(in);
  int finite = 1;
  torch::Tensor y;
  std::string error;
  if (m.rank == 0) try {
    torch::NoGradGuard no_grad;
    torch::set_num_threads(m.threads);
    if (norm > 0.0) x.div_(static_cast<float>(norm));
    // Zero padding up to a multiple of 2^levels on every axis (upper ends), cropped after.
    std::vector<int64_t> pad;
    for (std::size_t a = shape.size() - 1; a >= 2; --a) {
      pad.push_back(0);
      pad.push_back((multiple - shape[a] % multiple) % multiple);
    }
    const bool padded = std::any_of(pad.begin(), pad.end(), [](int64_t p) { return p != 0; });
    if (padded) x = torch::constant_pad_nd(x, pad, 0.0);
    y = m.run(x);
    if (y.sizes() != x.sizes())
      throw Error("model file '" + m.file.string() + "': the network maps " + c10::str(x.sizes()) + " to " +
                  c10::str(y.sizes()) + "; a direction network keeps the shape");
    if (padded) {
      for (std::size_t a = 2; a < shape.size(); ++a) y = y.narrow(static_cast<int64_t>(a), 0, shape[a]);
    }
    finite = torch::isfinite(y).all().item<bool>() ? 1 : 0;
    if (finite) y = y.mul(norm);
  } catch (const std::exception& e) {
    std::string what = e.what();
    error = what.substr(0, what.find('\n'));
  }
  agree(m.comm, m.rank, error);
  MPI_Bcast(&finite, 1, MPI_INT, 0, m.comm);
  ++m.stats.applications;
  if (!finite) {
    ++m.stats.non_finite_outputs;
    m.stats.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return false;
  }
  m.gather->scatter(y, out);
  if (solid) {
    PetscScalar* data = nullptr;
    PetscInt n = 0;
    FLUXION_PETSC_CHECK(VecGetLocalSize(out, &n));
    FLUXION_PETSC_CHECK(VecGetArray(out, &data));
    for (PetscInt i = 0; i < n; ++i)
      if (solid[i]) data[i] = 0.0;
    FLUXION_PETSC_CHECK(VecRestoreArray(out, &data));
  }
  m.stats.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return true;
}

}  // namespace fluxion::learn
