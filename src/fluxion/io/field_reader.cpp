// FieldReader: opens a FieldWriter run file and reads fields back by hyperslab.
#include "fluxion/io/field_reader.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "fluxion/core/error.hpp"
#include "fluxion/io/hdf5_util.hpp"

namespace fluxion {

using io_detail::H5Id;
using io_detail::h5_check;

namespace {

std::vector<std::string> group_members(hid_t file, const char* group) {
  std::vector<std::string> names;
  if (H5Lexists(file, group, H5P_DEFAULT) <= 0) return names;
  H5Id g(H5Gopen2(file, group, H5P_DEFAULT), H5Gclose);
  if (!g.valid()) return names;
  H5G_info_t info;
  H5Gget_info(g.get(), &info);
  for (hsize_t n = 0; n < info.nlinks; ++n) {
    const ssize_t len = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, n, nullptr, 0, H5P_DEFAULT);
    if (len < 0) continue;
    std::string name(static_cast<std::size_t>(len) + 1, '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, n, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<std::size_t>(len));
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

struct FieldReader::Impl {
  std::filesystem::path path;
  MPI_Comm comm = MPI_COMM_NULL;
  H5Id file;
  std::vector<double> times;

  std::string where() const { return path.string(); }

  // Numeric attribute values as doubles (any integer or float type), or throws.
  std::vector<double> numbers(const std::string& name) const {
    io_detail::QuietHdf5 quiet;
    H5Id attr(H5Aopen(file.get(), name.c_str(), H5P_DEFAULT), H5Aclose);
    if (!attr.valid()) throw IoError(where() + ": root attribute '" + name + "' is missing (not a fluxion run file?)");
    H5Id type(H5Aget_type(attr.get()), H5Tclose);
    const H5T_class_t cls = H5Tget_class(type.get());
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) throw IoError(where() + ": root attribute '" + name + "' is not numeric");
    H5Id space(H5Aget_space(attr.get()), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    std::vector<double> values(static_cast<std::size_t>(std::max<hssize_t>(n, 0)));
    h5_check(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, values.data()), where(), ("read attribute " + name).c_str());
    return values;
  }

  void read_dataset(const std::string& dataset_path, const std::string& field, Field& into) const {
    const std::string label = where() + ": dataset " + dataset_path;
    H5Id dataset;
    {
      io_detail::QuietHdf5 quiet;
      // H5Lexists needs every group on the way to exist, so walk the path.
      std::string prefix;
      std::istringstream parts(dataset_path.substr(1));
      for (std::string part; std::getline(parts, part, '/');) {
        prefix += "/" + part;
        if (H5Lexists(file.get(), prefix.c_str(), H5P_DEFAULT) <= 0)
          throw IoError(label + " is missing (no field '" + field + "' there)");
      }
      dataset = H5Id(H5Dopen2(file.get(), dataset_path.c_str(), H5P_DEFAULT), H5Dclose);
    }
    if (!dataset.valid()) throw IoError(label + ": cannot open it as a dataset");
    const Grid& grid = into.grid();
    const std::vector<hsize_t> expected = io_detail::field_dims(grid.spec(), into.components());
    H5Id file_space(H5Dget_space(dataset.get()), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(file_space.get());
    std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
    H5Sget_simple_extent_dims(file_space.get(), dims.data(), nullptr);
    if (dims != expected)
      throw IoError(label + " has shape " + io_detail::shape_text(dims) + ", but field '" + into.name() + "' (" +
                    std::to_string(into.components()) + " component(s)) on " + grid.describe() + " needs " +
                    io_detail::shape_text(expected));
    const auto [start, count] = io_detail::owned_hyperslab(grid, into.components());
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    H5Id mem_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
    FieldWriteArray a(into);
    double* data = a.box().size() > 0 ? &a(a.box().begin[0], a.box().begin[1], a.box().begin[2], 0) : nullptr;
    H5Id dxpl = io_detail::collective_transfer();
    if (H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, mem_space.get(), file_space.get(), dxpl.get(), data) < 0)
      throw IoError(label + ": read failed");
  }
};

FieldReader::FieldReader(const std::filesystem::path& path, MPI_Comm comm) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  m.comm = comm;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw IoError(path.string() + ": no such file");
  if (const std::string problem = io_detail::mpiio_path_problem(path, comm); !problem.empty())
    throw IoError(path.string() + ": cannot open it: " + problem + " (open it through a shorter path or a link)");
  {
    io_detail::QuietHdf5 quiet;
    if (H5Fis_hdf5(path.c_str()) <= 0) throw IoError(path.string() + ": not an HDF5 file");
    H5Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL);
    m.file = H5Id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  }
  if (!m.file.valid()) throw IoError(path.string() + ": cannot open the HDF5 file (is another program writing it?)");
  {
    io_detail::QuietHdf5 quiet;
    H5Id time(H5Dopen2(m.file.get(), "/time", H5P_DEFAULT), H5Dclose);
    if (!time.valid()) throw IoError(path.string() + ": dataset /time is missing (not a fluxion run file?)");
    H5Id space(H5Dget_space(time.get()), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    m.times.resize(static_cast<std::size_t>(std::max<hssize_t>(n, 0)));
    if (n > 0) {
      H5Id dxpl = io_detail::collective_transfer();
      if (H5Dread(time.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, dxpl.get(), m.times.data()) < 0)
        throw IoError(path.string() + ": dataset /time: read failed");
    }
  }
  grid_spec();  // fail early on a file without the grid attributes
}

FieldReader::~FieldReader() = default;
FieldReader::FieldReader(FieldReader&&) noexcept = default;
FieldReader& FieldReader::operator=(FieldReader&&) noexcept = default;

const std::filesystem::path& FieldReader::path() const { return impl_->path; }
int FieldReader::steps() const { return static_cast<int>(impl_->times.size()); }
const std::vector<double>& FieldReader::times() const { return impl_->times; }
std::vector<std::string> FieldReader::field_names() const { return group_members(impl_->file.get(), "/fields"); }
std::vector<std::string> FieldReader::static_names() const { return group_members(impl_->file.get(), "/static"); }

GridSpec FieldReader::grid_spec() const {
  const Impl& m = *impl_;
  GridSpec spec;
  const std::vector<double> dim = m.numbers("dim");
  if (dim.size() != 1 || (dim[0] != 2 && dim[0] != 3))
    throw IoError(m.where() + ": root attribute 'dim' must be 2 or 3");
  spec.dim = static_cast<int>(dim[0]);
  const auto axes = [&](const char* name) {
    std::vector<double> v = m.numbers(name);
    if (static_cast<int>(v.size()) != spec.dim)
      throw IoError(m.where() + ": root attribute '" + name + "' has " + std::to_string(v.size()) +
                    " values, expected " + std::to_string(spec.dim));
    return v;
  };
  const auto cells = axes("cells"), lower = axes("lower"), upper = axes("upper"), periodic = axes("periodic");
  for (int a = 0; a < spec.dim; ++a) {
    spec.cells[a] = static_cast<PetscInt>(cells[a]);
    spec.lower[a] = lower[a];
    spec.upper[a] = upper[a];
    spec.periodic[a] = periodic[a] != 0;
  }
  return spec;
}

bool FieldReader::has_attribute(const std::string& name) const {
  return H5Aexists(impl_->file.get(), name.c_str()) > 0;
}

std::string FieldReader::attribute(const std::string& name) const {
  const Impl& m = *impl_;
  if (!has_attribute(name)) throw IoError(m.where() + ": root attribute '" + name + "' is missing");
  H5Id attr(h5_check(H5Aopen(m.file.get(), name.c_str(), H5P_DEFAULT), m.where(), ("open attribute " + name).c_str()),
            H5Aclose);
  H5Id type(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(type.get()) == H5T_STRING) {
    H5Id space(H5Aget_space(attr.get()), H5Sclose);
    if (H5Sget_simple_extent_npoints(space.get()) != 1)
      throw IoError(m.where() + ": root attribute '" + name + "' is an array of strings");
    if (H5Tis_variable_str(type.get()) > 0) {
      H5Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(mem.get(), H5T_VARIABLE);
      H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
      char* data = nullptr;
      h5_check(H5Aread(attr.get(), mem.get(), &data), m.where(), ("read attribute " + name).c_str());
      std::string value = data ? data : "";
      H5free_memory(data);
      return value;
    }
    const std::size_t size = H5Tget_size(type.get());
    std::string value(size, '\0');
    h5_check(H5Aread(attr.get(), type.get(), value.data()), m.where(), ("read attribute " + name).c_str());
    value.resize(std::min(value.find('\0'), value.size()));
    return value;
  }
  std::string text;
  for (double v : m.numbers(name)) {
    if (!text.empty()) text += ' ';
    text += format_number(v);
  }
  return text;
}

void FieldReader::read(const std::string& field, int step, Field& into) const {
  char name[16];
  std::snprintf(name, sizeof name, "%06d", step);
  if (step < 0 || step >= steps())
    throw IoError(impl_->where() + ": dataset /fields/" + field + "/" + name + ": step " + std::to_string(step) +
                  " out of range (the file has " + std::to_string(steps()) + " steps)");
  impl_->read_dataset("/fields/" + field + "/" + name, field, into);
}

void FieldReader::read_static(const std::string& field, Field& into) const {
  impl_->read_dataset("/static/" + field, field, into);
}

}  // namespace fluxion
