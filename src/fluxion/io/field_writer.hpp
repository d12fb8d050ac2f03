// FieldWriter: the one writer of simulation output, an HDF5 run file with an XDMF sidecar for ParaView.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "fluxion/core/field.hpp"
#include "fluxion/core/grid.hpp"

namespace fluxion {

/// Where and what a FieldWriter writes.
struct OutputOptions {
  std::filesystem::path dir;  // created if missing
  std::string name = "run";   // files are <dir>/<name>.h5, <dir>/<name>.xdmf, ...
  bool hdf5 = true;           // <name>.h5 + <name>.xdmf (open the .xdmf in ParaView)
  bool vti = false;           // also <name>_<step>.vti per step + <name>.pvd (gathered to rank 0)
};

/// Writes the fields of a run, step by step, in the spirit of MFEM's DataCollection.
///
/// HDF5 layout of <name>.h5 (datasets are (nz, ny, nx) in 3D, (ny, nx) in 2D, with a trailing
/// component axis when a field has more than one component; a 2D vector is stored as (ny, nx, 3)
/// with z = 0, so that ParaView shows it as a vector, and group attribute `components` says 2):
///   /fields/<field>/<step, 6 digits>   one dataset per step, attribute `time`
///   /time                              the step times, one per step
///   /static/<field>                    fields written once (e.g. the solid mask)
///   /geometry/x, /geometry/y, /geometry/z   node coordinates per axis (z = {0} in 2D)
///   root attributes: dim, cells, lower, upper, spacing, periodic (x, y[, z] order),
///                    fluxion_version, config (the resolved YAML), and any set_attribute().
/// The file is flushed after every step, so a killed run leaves every step written so far
/// readable. <name>.xdmf is rewritten (atomically) after every step.
///
/// Every member function except the accessors is collective over grid->comm().
class FieldWriter {
 public:
  FieldWriter(std::shared_ptr<const Grid> grid, OutputOptions options, std::string resolved_config_yaml = "");
  ~FieldWriter();
  FieldWriter(FieldWriter&&) noexcept;
  FieldWriter& operator=(FieldWriter&&) noexcept;
  FieldWriter(const FieldWriter&) = delete;
  FieldWriter& operator=(const FieldWriter&) = delete;

  /// Writes a field once; it is shown at every time step. Its name must be new.
  void add_static(const Field& f);
  /// Appends one time step holding `fields` (distinct names, all on this writer's grid).
  void write_step(double time, const std::vector<const Field*>& fields);
  /// Sets a string attribute on the root group (e.g. a summary); same value on every rank.
  void set_attribute(std::string name, std::string value);

  int steps() const;
  std::filesystem::path hdf5_path() const;
  std::filesystem::path xdmf_path() const;
  std::filesystem::path pvd_path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fluxion
