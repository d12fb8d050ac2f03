// Internal (not installed): RAII HDF5 handles and the field <-> dataset mapping FieldWriter and FieldReader share.
#pragma once

#include <hdf5.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "fluxion/core/error.hpp"
#include "fluxion/core/field.hpp"

namespace fluxion::io_detail {

/// Owns an HDF5 identifier and closes it with the matching H5*close.
class H5Id {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Id() = default;
  H5Id(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  H5Id(H5Id&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), closer_(o.closer_) {}
  H5Id& operator=(H5Id&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      closer_ = o.closer_;
    }
    return *this;
  }
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  ~H5Id() { reset(); }
  void reset() {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = H5I_INVALID_HID;
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  /// Gives up ownership without closing (for a close whose result the caller checks).
  hid_t release() { return std::exchange(id_, H5I_INVALID_HID); }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

/// Throws IoError("<where>: <what> failed") when an HDF5 call returned a negative value.
inline hid_t h5_check(hid_t id, const std::string& where, const char* what) {
  if (id < 0) throw IoError(where + ": " + what + " failed");
  return id;
}

/// Turns HDF5's automatic error printing off for a scope (for failures we report ourselves).
class QuietHdf5 {
 public:
  QuietHdf5() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }
  QuietHdf5(const QuietHdf5&) = delete;
  QuietHdf5& operator=(const QuietHdf5&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

/// Components a field has on disk: a 2D vector is stored with a zero z component, because
/// ParaView's Xdmf3 reader (its default for .xdmf) shows 2-component arrays as non-vectors.
inline int stored_components(int dim, int components) { return dim == 2 && components == 2 ? 3 : components; }

/// Dataset shape of a field: (nz, ny, nx) in 3D, (ny, nx) in 2D, plus (stored components) if > 1.
inline std::vector<hsize_t> field_dims(const GridSpec& spec, int components) {
  std::vector<hsize_t> dims;
  for (int axis = spec.dim - 1; axis >= 0; --axis) dims.push_back(static_cast<hsize_t>(spec.cells[axis]));
  if (components > 1) dims.push_back(static_cast<hsize_t>(stored_components(spec.dim, components)));
  return dims;
}

/// The rank's owned box as a hyperslab (start, count) in the dataset's axis order; the component
/// axis counts the field's `components` (the first ones of those stored).
inline std::pair<std::vector<hsize_t>, std::vector<hsize_t>> owned_hyperslab(const Grid& grid, int components) {
  std::vector<hsize_t> start, count;
  const IndexBox& box = grid.owned();
  for (int axis = grid.dim() - 1; axis >= 0; --axis) {
    start.push_back(static_cast<hsize_t>(box.begin[axis]));
    count.push_back(static_cast<hsize_t>(box.extent(axis)));
  }
  if (components > 1) {
    start.push_back(0);
    count.push_back(static_cast<hsize_t>(components));
  }
  return {start, count};
}

/// Dataset transfer property list for collective MPI-IO.
inline H5Id collective_transfer() {
  H5Id dxpl(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  H5Pset_dxpl_mpio(dxpl.get(), H5FD_MPIO_COLLECTIVE);
  return dxpl;
}

/// Why `path` cannot be handed to MPI-IO on `comm` (empty if it can). Open MPI 4.1's MPI-IO
/// (ompio, sharedfp/lockedfile) builds "<path>.locktest.<rank>" in a 256-byte buffer on every open
/// and aborts the process ("buffer overflow detected") when it does not fit; HDF5 passes our path
/// as it is.
inline std::string mpiio_path_problem(const std::filesystem::path& path, MPI_Comm comm) {
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  const std::size_t limit = 255 - std::string(".locktest.").size() - std::to_string(ranks - 1).size();
  const std::size_t length = path.string().size();
  if (length <= limit) return {};
  return "the path is " + std::to_string(length) + " characters; MPI-IO (Open MPI) takes at most " +
         std::to_string(limit) + " on " + std::to_string(ranks) + (ranks == 1 ? " rank" : " ranks");
}

inline std::string shape_text(const std::vector<hsize_t>& dims) {
  std::string s;
  for (std::size_t n = 0; n < dims.size(); ++n) s += (n ? " x " : "") + std::to_string(dims[n]);
  return s.empty() ? "scalar" : s;
}

}  // namespace fluxion::io_detail
