// FieldReader: reads back the run files FieldWriter writes (restart, tests, post-processing).
#pragma once

#include <petscsys.h>  // MPI_Comm

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "fluxion/core/field.hpp"
#include "fluxion/core/grid.hpp"

namespace fluxion {

/// An open run file (<name>.h5 from FieldWriter). Open it on one rank (PETSC_COMM_SELF, the
/// default) or on all ranks of a communicator; in the second case the constructor and read()
/// are collective over it. Every problem (missing file, not HDF5, missing dataset, wrong shape)
/// throws IoError naming the file and, where there is one, the dataset.
class FieldReader {
 public:
  explicit FieldReader(const std::filesystem::path& path, MPI_Comm comm = PETSC_COMM_SELF);
  ~FieldReader();
  FieldReader(FieldReader&&) noexcept;
  FieldReader& operator=(FieldReader&&) noexcept;
  FieldReader(const FieldReader&) = delete;
  FieldReader& operator=(const FieldReader&) = delete;

  const std::filesystem::path& path() const;
  /// Number of steps written, and their times.
  int steps() const;
  const std::vector<double>& times() const;
  /// Names of the time-dependent fields, and of the static ones, sorted.
  std::vector<std::string> field_names() const;
  std::vector<std::string> static_names() const;
  /// The grid the run was written on.
  GridSpec grid_spec() const;
  /// A root attribute as text: strings as they are, numbers space-separated ("128 64").
  std::string attribute(const std::string& name) const;
  bool has_attribute(const std::string& name) const;

  /// Reads step `step` of `field` into `into`; each rank reads the cells it owns. The dataset's
  /// shape must match into's grid and component count.
  void read(const std::string& field, int step, Field& into) const;
  /// Reads a static field (e.g. the solid mask).
  void read_static(const std::string& field, Field& into) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fluxion
