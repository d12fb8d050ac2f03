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
///   /static/vtkGhostType               uint8 per cell, 32 (VTK's HIDDENCELL) in solid cells, 0
///                                      elsewhere (with set_solid): ParaView hides those cells
///   /geometry/x, /geometry/y, /geometry/z   node coordinates per axis (z = {0} in 2D)
///   root attributes: dim, cells, lower, upper, spacing, periodic (x, y[, z] order),
///                    fluxion_version, config (the resolved YAML), and any set_attribute().
/// The file is flushed after every step, so a killed run leaves every step written so far
/// readable. <name>.xdmf is rewritten (atomically) after every step, so it always describes steps
/// that are complete in the HDF5 file.
///
/// Failures (a full disk, a folder that cannot be written) throw IoError naming the file on every
/// rank, even when only one rank's write failed. A small reserve file (.<name>.h5.reserve, at most
/// 1 MiB) is released on failure so that HDF5 can still close the file cleanly.
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

  /// Why `options` cannot be written on `comm` (empty if they can): a file name longer than
  /// NAME_MAX, a path longer than PATH_MAX, or an HDF5 path longer than MPI-IO takes. The
  /// constructor checks this; a driver calls it first to blame the right setting.
  static std::string path_problem(const OutputOptions& options, MPI_Comm comm);

  /// Writes a field once; it is shown at every time step. Its name must be new.
  void add_static(const Field& f);
  /// Writes the solid mask (`solid` > 0.5 in solid cells) as a static field and marks those cells
  /// hidden (vtkGhostType) in the XDMF and the VTI files, so ParaView neither draws them nor
  /// counts their values in colour ranges. Call it once, before the first step.
  void set_solid(const Field& solid);
  /// Appends one time step holding `fields` (distinct names, all on this writer's grid).
  void write_step(double time, const std::vector<const Field*>& fields);
  /// Sets a string attribute on the root group (e.g. a summary); same value on every rank.
  void set_attribute(std::string name, std::string value);
  /// Closes the HDF5 file; throws IoError if that fails. The destructor closes too, silently.
  void close();

  int steps() const;
  std::filesystem::path hdf5_path() const;
  std::filesystem::path xdmf_path() const;
  std::filesystem::path pvd_path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True when an HDF5 file could not be closed even after its reserve was released. HDF5 1.10
/// then holds a half-closed file that crashes MPI_Finalize; the program should exit without it.
bool hdf5_files_left_open();

}  // namespace fluxion
