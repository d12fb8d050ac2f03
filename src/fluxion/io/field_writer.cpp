// FieldWriter: parallel HDF5 run file (collective hyperslab writes), XDMF sidecar, optional VTI series.
#include "fluxion/io/field_writer.hpp"

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
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    throw IoError(where + ": field name '" + name + "' is not usable as an HDF5 name (empty, '/', '.')");
}

// Attributes are metadata: every rank calls with the same value, HDF5 writes it once.
void write_string_attribute(hid_t loc, const std::string& name, const std::string& value, const std::string& where) {
  H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  if (H5Aexists(loc, name.c_str()) > 0) H5Adelete(loc, name.c_str());
  H5Id attr(h5_check(H5Acreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), where,
                     ("create attribute " + name).c_str()),
            H5Aclose);
  const char* data = value.c_str();
  h5_check(H5Awrite(attr.get(), type.get(), &data), where, ("write attribute " + name).c_str());
}

template <class T>
void write_array_attribute(hid_t loc, const std::string& name, const std::vector<T>& values, hid_t file_type,
                           hid_t mem_type, const std::string& where) {
  const hsize_t n = values.size();
  H5Id space(n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr), H5Sclose);
  H5Id attr(h5_check(H5Acreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), where,
                     ("create attribute " + name).c_str()),
            H5Aclose);
  h5_check(H5Awrite(attr.get(), mem_type, values.data()), where, ("write attribute " + name).c_str());
}

H5Id create_group(hid_t loc, const std::string& name, const std::string& where) {
  return H5Id(h5_check(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), where,
                       ("create group " + name).c_str()),
              H5Gclose);
}

}  // namespace

struct FieldWriter::Impl {
  std::shared_ptr<const Grid> grid;
  OutputOptions options;
  std::filesystem::path h5_path, xdmf_path;
  H5Id file, fields_group, static_group, time_dataset;
  std::vector<io_detail::XdmfArray> statics;
  std::vector<io_detail::XdmfStep> steps;
  std::set<std::string> field_groups;  // groups under /fields created so far
  std::optional<io_detail::VtiSeries> vti;
  int step_count = 0;

  std::string where() const { return h5_path.string(); }

  void create_file(const std::string& config) {
    const GridSpec& spec = grid->spec();
    H5Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    h5_check(H5Pset_fapl_mpio(fapl.get(), grid->comm(), MPI_INFO_NULL), where(), "H5Pset_fapl_mpio");
    // 1.8 file format: large attributes (a long config) go to dense storage; readable by HDF5 >= 1.8.
    h5_check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18), where(), "H5Pset_libver_bounds");
    {
      io_detail::QuietHdf5 quiet;
      file = H5Id(H5Fcreate(h5_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
    }
    if (!file.valid()) throw IoError(where() + ": cannot create the HDF5 file (is the folder writable?)");
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
    write_array_attribute(root, "dim", std::vector<int>{d}, H5T_STD_I32LE, H5T_NATIVE_INT, where());
    write_array_attribute(root, "cells", cells, H5T_STD_I64LE, H5T_NATIVE_LLONG, where());
    write_array_attribute(root, "lower", lower, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, where());
    write_array_attribute(root, "upper", upper, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, where());
    write_array_attribute(root, "spacing", spacing, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, where());
    write_array_attribute(root, "periodic", periodic, H5T_STD_I8LE, H5T_NATIVE_INT, where());
    write_string_attribute(root, "fluxion_version", kVersion, where());
    write_string_attribute(root, "config", config, where());

    fields_group = create_group(root, "fields", where());
    static_group = create_group(root, "static", where());
    write_node_coordinates(root);

    const hsize_t zero = 0, unlimited = H5S_UNLIMITED, chunk = 256;
    H5Id space(H5Screate_simple(1, &zero, &unlimited), H5Sclose);
    H5Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_chunk(dcpl.get(), 1, &chunk);
    time_dataset = H5Id(h5_check(H5Dcreate2(root, "time", H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, dcpl.get(),
                                            H5P_DEFAULT),
                                 where(), "create /time"),
                        H5Dclose);
    flush();
  }

  void flush() { h5_check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), where(), "H5Fflush"); }

  // /geometry/x, /y, /z: the node coordinates of each axis (z = {0} in 2D), which the XDMF of a 2D
  // run references (see xdmf.cpp). Rank 0 writes them; the calls are collective.
  void write_node_coordinates(hid_t root) {
    H5Id group = create_group(root, "geometry", where());
    const GridSpec& spec = grid->spec();
    for (int axis = 0; axis < 3; ++axis) {
      std::vector<double> nodes{0.0};
      if (axis < spec.dim) {
        nodes.resize(static_cast<std::size_t>(spec.cells[axis]) + 1);
        for (std::size_t n = 0; n < nodes.size(); ++n) nodes[n] = spec.lower[axis] + n * grid->spacing(axis);
        nodes.back() = spec.upper[axis];
      }
      const hsize_t size = nodes.size();
      H5Id file_space(H5Screate_simple(1, &size, nullptr), H5Sclose);
      H5Id mem_space(H5Screate_simple(1, &size, nullptr), H5Sclose);
      const std::string name(1, "xyz"[axis]);
      H5Id dataset(h5_check(H5Dcreate2(group.get(), name.c_str(), H5T_IEEE_F64LE, file_space.get(), H5P_DEFAULT,
                                       H5P_DEFAULT, H5P_DEFAULT),
                            where(), ("create /geometry/" + name).c_str()),
                   H5Dclose);
      if (grid->rank() != 0) {
        H5Sselect_none(file_space.get());
        H5Sselect_none(mem_space.get());
      }
      H5Id dxpl = collective_transfer();
      h5_check(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, mem_space.get(), file_space.get(), dxpl.get(), nodes.data()),
               where(), ("write /geometry/" + name).c_str());
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
    H5Id dataset(h5_check(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, file_space.get(), H5P_DEFAULT, H5P_DEFAULT,
                                     H5P_DEFAULT),
                          where(), ("create " + label).c_str()),
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
    h5_check(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, mem_space.get(), file_space.get(), dxpl.get(), data), where(),
             ("write " + label).c_str());
    if (time) write_array_attribute(dataset.get(), "time", std::vector<double>{*time}, H5T_IEEE_F64LE,
                                    H5T_NATIVE_DOUBLE, where());
  }

  void append_time(double time) {
    const hsize_t n = static_cast<hsize_t>(step_count), size = n + 1, one = 1;
    h5_check(H5Dset_extent(time_dataset.get(), &size), where(), "extend /time");
    H5Id file_space(H5Dget_space(time_dataset.get()), H5Sclose);
    H5Id mem_space(H5Screate_simple(1, &one, nullptr), H5Sclose);
    if (grid->rank() == 0) {
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &n, nullptr, &one, nullptr);
    } else {
      H5Sselect_none(file_space.get());
      H5Sselect_none(mem_space.get());
    }
    H5Id dxpl = collective_transfer();
    h5_check(H5Dwrite(time_dataset.get(), H5T_NATIVE_DOUBLE, mem_space.get(), file_space.get(), dxpl.get(), &time),
             where(), "write /time");
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
  m.h5_path = m.options.dir / (m.options.name + ".h5");
  m.xdmf_path = m.options.dir / (m.options.name + ".xdmf");
  io_detail::on_root(m.grid->comm(), [&] {
    std::error_code ec;
    std::filesystem::create_directories(m.options.dir, ec);
    if (ec) throw IoError(m.options.dir.string() + ": cannot create the output folder: " + ec.message());
  });
  if (m.options.hdf5) m.create_file(resolved_config_yaml);
  if (m.options.vti) m.vti.emplace(m.grid, m.options.dir, m.options.name);
}

FieldWriter::~FieldWriter() = default;
FieldWriter::FieldWriter(FieldWriter&&) noexcept = default;
FieldWriter& FieldWriter::operator=(FieldWriter&&) noexcept = default;

void FieldWriter::add_static(const Field& f) {
  Impl& m = *impl_;
  m.check_field(f);
  for (const auto& s : m.statics)
    if (s.name == f.name()) throw IoError(m.where() + ": static field '" + f.name() + "' was already added");
  if (m.options.hdf5) {
    m.write_dataset(m.static_group.get(), f.name(), f, std::nullopt);
    m.flush();
  }
  m.statics.push_back({f.name(), f.components(), "/static/" + f.name()});
  if (m.vti) m.vti->add_static(f);
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
  const std::string step = step_name(m.step_count);
  if (m.options.hdf5) {
    io_detail::XdmfStep xdmf_step{time, {}};
    for (const Field* f : fields) {
      if (m.field_groups.insert(f->name()).second) {
        H5Id group = create_group(m.fields_group.get(), f->name(), m.where());
        write_array_attribute(group.get(), "components", std::vector<int>{f->components()}, H5T_STD_I32LE,
                              H5T_NATIVE_INT, m.where());
      }
      H5Id group(h5_check(H5Gopen2(m.fields_group.get(), f->name().c_str(), H5P_DEFAULT), m.where(),
                          ("open group /fields/" + f->name()).c_str()),
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
  write_string_attribute(m.file.get(), name, value, m.where());
  m.flush();
}

int FieldWriter::steps() const { return impl_->step_count; }
std::filesystem::path FieldWriter::hdf5_path() const { return impl_->h5_path; }
std::filesystem::path FieldWriter::xdmf_path() const { return impl_->xdmf_path; }
std::filesystem::path FieldWriter::pvd_path() const {
  return impl_->options.dir / (impl_->options.name + ".pvd");
}

}  // namespace fluxion
