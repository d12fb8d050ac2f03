// A trained network that maps a residual to a search direction (DCDM) or a preconditioned vector,
// applied to grid vectors of any size; torch stays behind this header.
#pragma once

#include <petscdm.h>
#include <petscvec.h>

#include <filesystem>
#include <memory>
#include <string>

namespace fluxion::learn {

/// What a direction network did so far (for reports: network time against matrix time).
struct NetworkStatistics {
  long applications = 0;
  double seconds = 0.0;         // network evaluation, gathers and scatters included
  long non_finite_outputs = 0;  // applications whose output held a NaN or Inf
};

/// A model file opened for use on grids: a fluxion DCDM model (its header is checked: architecture
/// "dcdm" and the grid's dimension; network.type "dcdm", the paper's network, or "mgno") or a TorchScript module (a network trained in PyTorch that maps
/// [1, 1, (z,) y, x] to the same shape). The network runs on rank 0 of the grid's communicator with
/// the whole field gathered there (docs/dcdm.md: below ~256^3 cells this costs less than the
/// network, and results do not depend on the rank count).
class DirectionNetwork {
 public:
  /// Collective over `comm`: rank 0 reads the file, every rank gets the same IoError on failure.
  /// `threads` <= 0: the hardware threads of this machine divided by the ranks (at least 1).
  DirectionNetwork(const std::filesystem::path& file, MPI_Comm comm, int threads = 0);
  ~DirectionNetwork();
  DirectionNetwork(const DirectionNetwork&) = delete;
  DirectionNetwork& operator=(const DirectionNetwork&) = delete;

  /// out = ||in|| f(in / ||in||) on the grid of `dm` (a scalar DMDA), zero where `solid` (this
  /// rank's cells in the DMDA's order, may be null) is 1. A grid whose axes are not multiples of
  /// 2^levels is zero-padded at the upper end and cropped back; one with fewer cells than 2^levels
  /// on an axis, or of another dimension than the model, is an Error naming both. Returns false
  /// (and leaves `out` unspecified) when the network's output is not finite. Collective.
  bool apply(DM dm, const unsigned char* solid, Vec in, Vec out);

  const std::filesystem::path& file() const;
  /// "dcdm 3D, 16 channels, 1 coarsening(s), 97457 parameters" or "TorchScript module".
  std::string describe() const;
  const NetworkStatistics& statistics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fluxion::learn
