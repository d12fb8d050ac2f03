// FieldWriter: parallel HDF5 run file (collective hyperslab writes), XDMF sidecar, optional VTI series.
#include "fluxion/io/field_writer.hpp"

#include <vtkDataSetAttributes.h>

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <optional>
#include <set>

#include "fluxion/core/error.hpp"
#include "fluxion/core/version.hpp"
#include "fluxion/io/hdf5_util.hpp"
#include "fluxion/io/vti_writer.hpp"
#include "fluxion/io/xdmf.hpp"

namespace fluxion {

using io_detail::collective_transfer;
using io_detail::H5Id;
using io_detail::h5_check;

namespace {

std::string step_name(int step) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06d", step);
  return buf;
}

void check_name(const std::string& name, const std::string& where) {
  const bool control = std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 32; });
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == ".." || control)
    throw IoError(where + ": name '" + name + "' is not usable as a file or HDF5 name (empty, '/', '.', a control character)");
}

constexpr const char* kGhostName = "vtkGhostType";
constexpr unsigned char kHiddenCell = vtkDataSetAttributes::HIDDENCELL;

// HDF5 files that could not be closed (see hdf5_files_left_open()).
std::atomic<int> unclosed_files{0};

// Bytes free for unprivileged writes on the file system holding `dir` (-1 if unknown).
long long free_bytes(const std::filesystem::path& dir) {
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) return -1;
  return static_cast<long long>(st.f_bavail) * static_cast<long long>(st.f_frsize);
}

}  // namespace

struct FieldWriter::Impl {
  std::shared_ptr<const Grid> grid;
  OutputOptions options;
  std::filesystem::path h5_path, xdmf_path, reserve_path;
  H5Id file, fields_group, static_group, time_dataset;
  bool solid_set = false;
  std::vector<io_detail::XdmfArray> statics;
  std::vector<io_detail::XdmfStep> steps;
  std::set<std::string> field_groups;  // groups under /fields created so far
  std::optional<io_detail::VtiSeries> vti;
  int step_count = 0;

  std::string where() const { return h5_path.string(); }

  // The outcome of a collective HDF5 call, agreed by all ranks: a write that failed on one rank
  // (a full disk) throws on every rank, so that no rank waits alone in the next collective call.
  // On failure the reserve is released first, so that closing the file can still flush metadata.
  hid_t check(hid_t status, const std::string& what) {
    int ok = status >= 0 ? 1 : 0, all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, grid->comm());
    if (all) return status;
    const long long free = free_bytes(options.dir);
    release_reserve();
    std::string why;
    if (free >= 0 && free < (1LL << 20))
      why = " (the file system is full: " + std::to_string(free) + " bytes free outside the writer's reserve)";
    throw IoError(where() + ": " + what + " failed" + why);
  }

  // Rank 0 sets aside up to 1 MiB (a quarter of the free space) before the run file exists.
  void make_reserve() {
    if (grid->rank() != 0) return;
    const long long free = free_bytes(options.dir);
    const off_t size = static_cast<off_t>(std::min<long long>(1LL << 20, free / 4) / 4096 * 4096);
    if (size <= 0) return;
    const int fd = ::open(reserve_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;  // the run file's creation reports the folder's problem
    const bool ok = posix_fallocate(fd, 0, size) == 0;
    ::close(fd);
    if (!ok) ::unlink(reserve_path.c_str());
  }

  void release_reserve() {
    if (grid->rank() == 0 && !reserve_path.empty()) ::unlink(reserve_path.c_str());
  }

  // Closes every handle, the file last; returns false (on every rank) if the file did not close.
  // The reserve goes first: closing flushes metadata, which needs space on a full disk. A failed
  // H5Fclose is never retried (HDF5 1.10 crashes on a second close of the same file).
  bool close_file() {
    time_dataset.reset();
    static_group.reset();
    fields_group.reset();
    release_reserve();
    if (!file.valid()) return true;
    io_detail::QuietHdf5 quiet;
    const int ok = H5Fclose(file.release()) >= 0 ? 1 : 0;
    int all = ok;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, grid->comm());
    if (!ok) ++unclosed_files;
    return all != 0;
  }

  // Attributes are metadata: every rank calls with the same value, HDF5 writes it once.
  void write_string_attribute(hid_t loc, const std::string& name, const std::string& value) {
    H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
    if (H5Aexists(loc, name.c_str()) > 0) H5Adelete(loc, name.c_str());
    H5Id attr(check(H5Acreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                    "create attribute " + name),
              H5Aclose);
    const char* data = value.c_str();
    check(H5Awrite(attr.get(), type.get(), &data), "write attribute " + name);
  }

  template <class T>
  void write_array_attribute(hid_t loc, const std::string& name, const std::vector<T>& values, hid_t file_type,
                             hid_t mem_type) {
    const hsize_t n = values.size();
    H5Id space(n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr), H5Sclose);
    H5Id attr(check(H5Acreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                    "create attribute " + name),
              H5Aclose);
    check(H5Awrite(attr.get(), mem_type, values.data()), "write attribute " + name);
  }

  H5Id create_group(hid_t loc, const std::string& name) {
    return H5Id(check(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create group " + name),
                H5Gclose);
  }

  void create_file(const std::string& config) {
    const GridSpec& spec = grid->spec();
    H5Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    h5_check(H5Pset_fapl_mpio(fapl.get(), grid->comm(), MPI_INFO_NULL), where(), "H5Pset_fapl_mpio");
    // 1.8 file format: large attributes (a long config) go to dense storage; readable by HDF5 >= 1.8.
    h5_check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18), where(), "H5Pset_libver_bounds");
    make_reserve();
    file = H5Id(H5Fcreate(h5_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
    {
      int ok = file.valid() ? 1 : 0, all = 0;
      MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, grid->comm());
      if (!all) {
        file.reset();
        release_reserve();
        throw IoError(where() + ": cannot create the HDF5 file (is the folder writable?)");
      }
    }
    const hid_t root = file.get();
    const int d = spec.dim;
    std::vector<long long> cells(spec.cells.begin(), spec.cells.begin() + d);
    std::vector<double> lower(spec.lower.begin(), spec.lower.begin() + d);
    std::vector<double> upper(spec.upper.begin(), spec.upper.begin() + d);
    std::vector<double> spacing;
    std::vector<int> periodic;
    for (int a = 0; a < d; ++a) {
      spacing.push_back(grid->spacing(a));
      periodic.push_back(spec.periodic[a] ? 1 : 0);
    }
    write_array_attribute(root, "dim", std::vector<int>{d}, H5T_STD_I32LE, H5T_NATIVE_INT);
    write_array_attribute(root, "cells", cells, H5T_STD_I64LE, H5T_NATIVE_LLONG);
    write_array_attribute(root, "lower", lower, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
    write_array_attribute(root, "upper", upper, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
    write_array_attribute(root, "spacing", spacing, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
    write_array_attribute(root, "periodic", periodic, H5T_STD_I8LE, H5T_NATIVE_INT);
    write_string_attribute(root, "fluxion_version", kVersion);
    write_string_attribute(root, "config", config);

    fields_group = create_group(root, "fields");
    static_group = create_group(root, "static");
    write_node_coordinates(root);

    const hsize_t zero = 0, unlimited = H5S_UNLIMITED, chunk = 256;
    H5Id space(H5Screate_simple(1, &zero, &unlimited), H5Sclose);
    H5Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_chunk(dcpl.get(), 1, &chunk);
    time_dataset = H5Id(check(H5Dcreate2(root, "time", H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, dcpl.get(),
                                         H5P_DEFAULT),
                              "create /time"),
                        H5Dclose);
    flush();
  }

  void flush() { check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "H5Fflush"); }

  // /geometry/x, /y, /z: the node coordinates of each axis (z = {0} in 2D), which the XDMF of a 2D
  // run references (see xdmf.cpp). Rank 0 writes them; the calls are collective.
  void write_node_coordinates(hid_t root) {
    H5Id group = create_group(root, "geometry");
    const GridSpec& spec = grid->spec();
    for (int axis = 0; axis < 3; ++axis) {
      const std::vector<double> nodes = io_detail::node_coordinates(spec, axis);
      const hsize_t size = nodes.size();
      H5Id file_space(H5Screate_simple(1, &size, nullptr), H5Sclose);
      H5Id mem_space(H5Screate_simple(1, &size, nullptr), H5Sclose);
      const std::string name(1, "xyz"[axis]);
      H5Id dataset(check(H5Dcreate2(group.get(), name.c_str(), H5T_IEEE_F64LE, file_space.get(), H5P_DEFAULT,
                                    H5P_DEFAULT, H5P_DEFAULT),
                         "create /geometry/" + name),
                   H5Dclose);
      if (grid->rank() != 0) {
        H5Sselect_none(file_space.get());
        H5Sselect_none(mem_space.get());
      }
      H5Id dxpl = collective_transfer();
      check(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, mem_space.get(), file_space.get(), dxpl.get(), nodes.data()),
            "write /geometry/" + name);
    }
  }

  void check_field(const Field& f) const {
    const Grid& g = f.grid();
    const bool same = &g == grid.get() || (g.dim() == grid->dim() && g.spec().cells == grid->spec().cells &&
                                           g.owned().begin == grid->owned().begin && g.owned().end == grid->owned().end);
    if (!same)
      throw IoError(where() + ": field '" + f.name() + "' is on a different grid than the writer");
    check_name(f.name(), where());
  }

  // Each rank writes its owned box of `f` into a new dataset (collective).
  void write_dataset(hid_t loc, const std::string& name, const Field& f, std::optional<double> time) {
    const std::string label = "dataset " + name + " of field '" + f.name() + "'";
    const std::vector<hsize_t> dims = io_detail::field_dims(grid->spec(), f.components());
    auto [start, count] = io_detail::owned_hyperslab(*grid, f.components());
    H5Id file_space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    H5Id dataset(check(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, file_space.get(), H5P_DEFAULT, H5P_DEFAULT,
                                  H5P_DEFAULT),
                       "create " + label),
                 H5Dclose);
    const int stored = io_detail::stored_components(grid->dim(), f.components());
    count.back() = f.components() > 1 ? static_cast<hsize_t>(stored) : count.back();
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    H5Id mem_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
    FieldReadArray a(f);  // holds the owned values, x fastest, components innermost: the hyperslab's order
    const double* data = a.box().size() > 0 ? &a(a.box().begin[0], a.box().begin[1], a.box().begin[2], 0) : nullptr;
    std::vector<double> padded;  // a 2D vector with its zero z component
    if (stored != f.components() && data) {
      const std::size_t cells = static_cast<std::size_t>(a.box().size());
      padded.assign(cells * stored, 0.0);
      for (std::size_t n = 0; n < cells; ++n)
        for (int c = 0; c < f.components(); ++c) padded[n * stored + c] = data[n * f.components() + c];
      data = padded.data();
    }
    H5Id dxpl = collective_transfer();
    check(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, mem_space.get(), file_space.get(), dxpl.get(), data),
          "write " + label);
    if (time) write_array_attribute(dataset.get(), "time", std::vector<double>{*time}, H5T_IEEE_F64LE,
                                    H5T_NATIVE_DOUBLE);
  }

  // /static/vtkGhostType: VTK's HIDDENCELL (32) where `solid` > 0.5, else 0, one byte per cell.
  void write_ghost_dataset(const Field& solid) {
    const std::vector<hsize_t> dims = io_detail::field_dims(grid->spec(), 1);
    auto [start, count] = io_detail::owned_hyperslab(*grid, 1);
    H5Id file_space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    H5Id dataset(check(H5Dcreate2(static_group.get(), kGhostName, H5T_STD_U8LE, file_space.get(), H5P_DEFAULT,
                                  H5P_DEFAULT, H5P_DEFAULT),
                       std::string("create /static/") + kGhostName),
                 H5Dclose);
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    H5Id mem_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
    std::vector<unsigned char> ghost;
    {
      FieldReadArray a(solid);
      ghost.reserve(static_cast<std::size_t>(a.box().size()));
      for_each_cell(a.box(), [&](PetscInt i, PetscInt j, PetscInt k) {
        ghost.push_back(a(i, j, k, 0) > 0.5 ? kHiddenCell : 0);
      });
    }
    H5Id dxpl = collective_transfer();
    check(H5Dwrite(dataset.get(), H5T_NATIVE_UCHAR, mem_space.get(), file_space.get(), dxpl.get(),
                   ghost.empty() ? nullptr : ghost.data()),
          std::string("write /static/") + kGhostName);
  }

  void append_time(double time) {
    const hsize_t n = static_cast<hsize_t>(step_count), size = n + 1, one = 1;
    check(H5Dset_extent(time_dataset.get(), &size), "extend /time");
    H5Id file_space(H5Dget_space(time_dataset.get()), H5Sclose);
    H5Id mem_space(H5Screate_simple(1, &one, nullptr), H5Sclose);
    if (grid->rank() == 0) {
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &n, nullptr, &one, nullptr);
    } else {
      H5Sselect_none(file_space.get());
      H5Sselect_none(mem_space.get());
    }
    H5Id dxpl = collective_transfer();
    check(H5Dwrite(time_dataset.get(), H5T_NATIVE_DOUBLE, mem_space.get(), file_space.get(), dxpl.get(), &time),
          "write /time");
  }

  void rewrite_xdmf() {
    if (steps.empty()) return;
    std::vector<io_detail::XdmfStep> shown = steps;
    for (auto& s : shown) s.arrays.insert(s.arrays.begin(), statics.begin(), statics.end());
    const std::string text = io_detail::xdmf_document(grid->spec(), h5_path.filename().string(), shown);
    io_detail::on_root(grid->comm(), [&] { io_detail::write_text_atomically(xdmf_path, text); });
  }
};

FieldWriter::FieldWriter(std::shared_ptr<const Grid> grid, OutputOptions options, std::string resolved_config_yaml)
    : impl_(std::make_unique<Impl>()) {
  if (!grid) throw IoError("FieldWriter: no grid");
  Impl& m = *impl_;
  m.grid = std::move(grid);
  m.options = std::move(options);
  if (m.options.dir.empty()) m.options.dir = ".";
  check_name(m.options.name, "FieldWriter output");
  if (const std::string problem = path_problem(m.options, m.grid->comm()); !problem.empty())
    throw IoError(m.options.dir.string() + ": cannot write output named '" + m.options.name + "' here: " + problem);
  m.h5_path = m.options.dir / (m.options.name + ".h5");
  m.xdmf_path = m.options.dir / (m.options.name + ".xdmf");
  m.reserve_path = m.options.dir / ("." + m.options.name + ".h5.reserve");
  io_detail::on_root(m.grid->comm(), [&] {
    std::error_code ec;
    std::filesystem::create_directories(m.options.dir, ec);
    if (ec) throw IoError(m.options.dir.string() + ": cannot create the output folder: " + ec.message());
  });
  io_detail::QuietHdf5 quiet;  // failures are reported as IoError, not as HDF5's error stack
  try {
    if (m.options.hdf5) m.create_file(resolved_config_yaml);
  } catch (...) {
    m.close_file();
    throw;
  }
  if (m.options.vti) m.vti.emplace(m.grid, m.options.dir, m.options.name);
}

FieldWriter::~FieldWriter() {
  if (!impl_) return;  // moved from
  try {
    impl_->close_file();
  } catch (...) {
  }
}
FieldWriter::FieldWriter(FieldWriter&&) noexcept = default;
FieldWriter& FieldWriter::operator=(FieldWriter&&) noexcept = default;

namespace {
// A path cut to its two ends, for messages about paths that are too long to print whole.
std::string shortened(const std::string& path) {
  return path.size() <= 100 ? path : path.substr(0, 50) + "..." + path.substr(path.size() - 40);
}
}  // namespace

std::string FieldWriter::path_problem(const OutputOptions& options, MPI_Comm comm) {
  namespace fs = std::filesystem;
  constexpr std::size_t name_max = 255, path_max = 4095;  // Linux NAME_MAX and PATH_MAX - 1
  const fs::path dir = options.dir.empty() ? fs::path(".") : options.dir;
  std::error_code ec;
  const fs::path absolute = fs::absolute(dir, ec);
  for (const fs::path& part : ec ? dir : absolute)
    if (part.string().size() > name_max)
      return "the folder name '" + shortened(part.string()) + "' is " + std::to_string(part.string().size()) +
             " characters; a file system takes at most " + std::to_string(name_max);
  // The longest name the writer makes: a VTI temporary, else the reserve next to the run file.
  const std::string longest = options.vti ? options.name + "_000000.vti.tmp" : "." + options.name + ".h5.reserve";
  if (longest.size() > name_max)
    return "the name '" + shortened(options.name) + "' is " + std::to_string(options.name.size()) +
           " characters; with what the writer adds to it (up to " + std::to_string(longest.size() - options.name.size()) +
           ") a file name would exceed the file system's " + std::to_string(name_max);
  const std::string deepest = ((ec ? dir : absolute) / longest).string();
  if (deepest.size() > path_max)
    return "the path '" + shortened(deepest) + "' would be " + std::to_string(deepest.size()) +
           " characters; the system takes at most " + std::to_string(path_max);
  if (!options.hdf5) return {};
  const fs::path h5 = dir / (options.name + ".h5");
  const std::string problem = io_detail::mpiio_path_problem(h5, comm);
  return problem.empty() ? problem : "the run file '" + shortened(h5.string()) + "': " + problem;
}

void FieldWriter::add_static(const Field& f) {
  Impl& m = *impl_;
  m.check_field(f);
  if (f.name() == kGhostName) throw IoError(m.where() + ": the field name '" + f.name() + "' is reserved");
  for (const auto& s : m.statics)
    if (s.name == f.name()) throw IoError(m.where() + ": static field '" + f.name() + "' was already added");
  io_detail::QuietHdf5 quiet;
  if (m.options.hdf5) {
    m.write_dataset(m.static_group.get(), f.name(), f, std::nullopt);
    m.flush();
  }
  m.statics.push_back({f.name(), f.components(), "/static/" + f.name()});
  if (m.vti) m.vti->add_static(f);
  if (m.options.hdf5) m.rewrite_xdmf();
}

void FieldWriter::set_solid(const Field& solid) {
  Impl& m = *impl_;
  if (m.solid_set) throw IoError(m.where() + ": set_solid was already called");
  if (m.step_count > 0) throw IoError(m.where() + ": set_solid must come before the first step");
  if (solid.components() != 1) throw IoError(m.where() + ": the solid mask '" + solid.name() + "' must be scalar");
  add_static(solid);
  io_detail::QuietHdf5 quiet;
  if (m.options.hdf5) {
    m.write_ghost_dataset(solid);
    m.flush();
  }
  m.statics.push_back({kGhostName, 1, std::string("/static/") + kGhostName, true});
  if (m.vti) m.vti->set_solid(solid);
  m.solid_set = true;
  if (m.options.hdf5) m.rewrite_xdmf();
}

void FieldWriter::write_step(double time, const std::vector<const Field*>& fields) {
  Impl& m = *impl_;
  std::set<std::string> names;
  for (const Field* f : fields) {
    if (!f) throw IoError(m.where() + ": write_step got a null field");
    m.check_field(*f);
    if (!names.insert(f->name()).second)
      throw IoError(m.where() + ": field '" + f->name() + "' appears twice in one step");
    for (const auto& s : m.statics)
      if (s.name == f->name())
        throw IoError(m.where() + ": field '" + f->name() + "' has the name of a static field");
  }
  io_detail::QuietHdf5 quiet;
  const std::string step = step_name(m.step_count);
  if (m.options.hdf5) {
    io_detail::XdmfStep xdmf_step{time, {}};
    for (const Field* f : fields) {
      if (m.field_groups.insert(f->name()).second) {
        H5Id group = m.create_group(m.fields_group.get(), f->name());
        m.write_array_attribute(group.get(), "components", std::vector<int>{f->components()}, H5T_STD_I32LE,
                                H5T_NATIVE_INT);
      }
      H5Id group(m.check(H5Gopen2(m.fields_group.get(), f->name().c_str(), H5P_DEFAULT),
                         "open group /fields/" + f->name()),
                 H5Gclose);
      m.write_dataset(group.get(), step, *f, time);
      xdmf_step.arrays.push_back({f->name(), f->components(), "/fields/" + f->name() + "/" + step});
    }
    m.append_time(time);
    m.flush();
    m.steps.push_back(std::move(xdmf_step));
  }
  if (m.vti) m.vti->write_step(m.step_count, time, fields);
  ++m.step_count;
  if (m.options.hdf5) m.rewrite_xdmf();
}

void FieldWriter::set_attribute(std::string name, std::string value) {
  Impl& m = *impl_;
  if (!m.options.hdf5) return;
  static const std::set<std::string> reserved = {"dim", "cells", "lower", "upper", "spacing", "periodic"};
  if (name.empty() || reserved.count(name))
    throw IoError(m.where() + ": attribute name '" + name + "' is empty or reserved for the grid");
  io_detail::QuietHdf5 quiet;
  m.write_string_attribute(m.file.get(), name, value);
  m.flush();
}

void FieldWriter::close() {
  if (!impl_->close_file())
    throw IoError(impl_->where() + ": closing the HDF5 file failed (is the disk full?)");
}

int FieldWriter::steps() const { return impl_->step_count; }
std::filesystem::path FieldWriter::hdf5_path() const { return impl_->h5_path; }
std::filesystem::path FieldWriter::xdmf_path() const { return impl_->xdmf_path; }
std::filesystem::path FieldWriter::pvd_path() const {
  return impl_->options.dir / (impl_->options.name + ".pvd");
}

bool hdf5_files_left_open() { return unclosed_files.load() > 0; }

}  // namespace fluxion
