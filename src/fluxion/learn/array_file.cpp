// Data-file arrays and attributes: see array_file.hpp.
#include "fluxion/learn/array_file.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "fluxion/core/error.hpp"
#include "fluxion/io/hdf5_util.hpp"

namespace fluxion::learn {

namespace fs = std::filesystem;
using io_detail::H5Id;

namespace {

H5Id open_file(const fs::path& file) {
  const std::string where = "data file '" + file.string() + "'";
  if (!fs::exists(file)) throw IoError(where + " does not exist");
  H5Id f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f.valid()) throw IoError(where + " is not an HDF5 file");
  return f;
}

}  // namespace

torch::Tensor read_float_array(const fs::path& file, const std::string& name, int rank, const char* layout,
                               torch::ScalarType scalar_type) {
  if (scalar_type != torch::kFloat32 && scalar_type != torch::kFloat64)
    throw Error("read_float_array: reads float32 or float64 tensors only");
  io_detail::QuietHdf5 quiet;
  const std::string where = "data file '" + file.string() + "'";
  const H5Id f = open_file(file);
  if (H5Lexists(f.get(), name.c_str(), H5P_DEFAULT) <= 0)
    throw IoError(where + " has no dataset '" + name + "' (see docs/datasets.md for the layout)");
  H5Id d(H5Dopen2(f.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  H5Id space(H5Dget_space(d.get()), H5Sclose);
  const int found = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(found, 0)));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  H5Id type(H5Dget_type(d.get()), H5Tclose);
  const bool floats = H5Tget_class(type.get()) == H5T_FLOAT;
  if (found != rank || !floats)
    throw IoError(where + ": dataset '" + name + "' is " + io_detail::shape_text(dims) +
                  (floats ? "" : " and not floating point") + "; expected floats of shape " + layout);
  std::vector<int64_t> shape(dims.begin(), dims.end());
  torch::Tensor t = torch::empty(shape, scalar_type);
  const hid_t memory_type = scalar_type == torch::kFloat64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT;
  if (H5Dread(d.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()) < 0)
    throw IoError(where + ": reading dataset '" + name + "' failed");
  if (!torch::isfinite(t).all().item<bool>()) throw IoError(where + ": dataset '" + name + "' holds non-finite values");
  return t;
}

std::optional<double> read_number_attribute(const fs::path& file, const std::string& name) {
  io_detail::QuietHdf5 quiet;
  const H5Id f = open_file(file);
  if (H5Aexists(f.get(), name.c_str()) <= 0) return std::nullopt;
  H5Id attr(H5Aopen(f.get(), name.c_str(), H5P_DEFAULT), H5Aclose);
  H5Id type(H5Aget_type(attr.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.get());
  H5Id space(H5Aget_space(attr.get()), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if ((cls != H5T_INTEGER && cls != H5T_FLOAT) || n < 1)
    throw IoError("data file '" + file.string() + "': root attribute '" + name + "' is not a number");
  std::vector<double> values(static_cast<std::size_t>(n));
  if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, values.data()) < 0)
    throw IoError("data file '" + file.string() + "': reading root attribute '" + name + "' failed");
  return values[0];
}

std::optional<std::string> read_text_attribute(const fs::path& file, const std::string& name) {
  io_detail::QuietHdf5 quiet;
  const H5Id f = open_file(file);
  if (H5Aexists(f.get(), name.c_str()) <= 0) return std::nullopt;
  H5Id attr(H5Aopen(f.get(), name.c_str(), H5P_DEFAULT), H5Aclose);
  H5Id type(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0)
    throw IoError("data file '" + file.string() + "': root attribute '" + name + "' is not a fixed-length string");
  std::string value(H5Tget_size(type.get()), '\0');
  if (H5Aread(attr.get(), type.get(), value.data()) < 0)
    throw IoError("data file '" + file.string() + "': reading root attribute '" + name + "' failed");
  value.resize(std::strlen(value.c_str()));  // drop the padding
  return value;
}

}  // namespace fluxion::learn
