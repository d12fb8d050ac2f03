// Internal (not installed): the XDMF sidecar that lets ParaView open a FieldWriter run file.
#pragma once

#include <petscsys.h>  // MPI

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "fluxion/core/grid.hpp"

namespace fluxion::io_detail {

/// One cell-centred array of a step: its name, component count, HDF5 dataset path and type.
/// (One dataset per step and array: ParaView's XDMF readers do not read hyperslabs of a stacked
/// dataset on these meshes; the Xdmf3 reader skips them, ParaView 5.11.)
struct XdmfArray {
  std::string name;
  int components = 1;
  std::string dataset;      // "/fields/u/000003"
  bool uint8 = false;       // unsigned bytes (the vtkGhostType blanking array), else float64 ...
  bool float32 = false;     // ... or float32
};

struct XdmfStep {
  double time = 0.0;
  std::vector<XdmfArray> arrays;
};

/// The node coordinates of `axis` that a 2D document's geometry references as /geometry/x, /y,
/// /z of its HDF5 file: lower + i * spacing, i = 0 .. cells (the last exactly upper); {0} for an
/// axis beyond spec.dim. Every writer of such a file stores these.
std::vector<double> node_coordinates(const GridSpec& spec, int axis);

/// An XDMF 2 document (read by ParaView's Xdmf2 and Xdmf3 readers alike): a temporal collection
/// with one uniform grid per step, whose arrays reference `<h5_name>:<dataset>`.
std::string xdmf_document(const GridSpec& spec, const std::string& h5_name, const std::vector<XdmfStep>& steps);

/// `text` with the five XML special characters (& < > " ') written as entities, for attribute
/// values and element text. Names are user input (output.name), so nothing goes into XML raw.
std::string xml_escape(const std::string& text);

/// Writes `text` to `<path>.tmp` and renames it over `path`, so readers never see half a file; on
/// failure (a full disk) the temporary is removed and `path` is left as it was.
void write_text_atomically(const std::filesystem::path& path, const std::string& text);

/// Runs `f` on rank 0 of `comm` only; if it throws, every rank throws IoError with its message
/// (so that no rank is left waiting in the next collective call). Collective.
void on_root(MPI_Comm comm, const std::function<void()>& f);

}  // namespace fluxion::io_detail
