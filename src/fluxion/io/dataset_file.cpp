// DatasetFile: see dataset_file.hpp.
#include "fluxion/io/dataset_file.hpp"

#include <system_error>

#include "fluxion/core/error.hpp"

namespace fluxion::io_detail {



DatasetFile::DatasetFile(std::filesystem::path path) : path_(std::move(path)), temporary_(path_.string() + ".tmp") {
  H5Id fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
  H5Pset_obj_track_times(fcpl.get(), false);  // no timestamps: equal data give equal files
  file_ = H5Id(check(H5Fcreate(temporary_.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT), "create"), H5Fclose);
  dcpl_ = H5Id(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_obj_track_times(dcpl_.get(), false);
  lcpl_ = H5Id(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl_.get(), 1);  // "geometry/x" creates /geometry
}

DatasetFile::~DatasetFile() {
  if (!file_.valid()) return;
  datasets_.clear();
  dcpl_.reset();
  file_.reset();
  std::error_code ec;
  std::filesystem::remove(temporary_, ec);
}

hid_t DatasetFile::check(hid_t id, const std::string& what) const {
  return h5_check(id, path_.string(), what.c_str());
}

void DatasetFile::create(const std::string& name, const std::vector<std::size_t>& dims, bool single) {
  const std::vector<hsize_t> shape(dims.begin(), dims.end());
  H5Id space(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr), H5Sclose);
  datasets_[name] = H5Id(check(H5Dcreate2(file_.get(), name.c_str(), single ? H5T_IEEE_F32LE : H5T_IEEE_F64LE,
                                          space.get(), lcpl_.get(), dcpl_.get(), H5P_DEFAULT),
                               "create /" + name),
                         H5Dclose);
}

void DatasetFile::write_row(const std::string& name, long row, const std::vector<double>& values) {
  const H5Id& d = datasets_.at(name);
  H5Id file_space(H5Dget_space(d.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(file_space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank)), start(dims.size(), 0);
  H5Sget_simple_extent_dims(file_space.get(), dims.data(), nullptr);
  start[0] = static_cast<hsize_t>(row);
  dims[0] = 1;
  hsize_t size = 1;
  for (hsize_t n : dims) size *= n;
  if (values.size() != size)
    throw Error("DatasetFile: row of /" + name + " has " + std::to_string(values.size()) + " values; expected " +
                std::to_string(size));
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, dims.data(), nullptr);
  H5Id memory(H5Screate_simple(rank, dims.data(), nullptr), H5Sclose);
  check(H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, memory.get(), file_space.get(), H5P_DEFAULT, values.data()),
        "write row " + std::to_string(row) + " of /" + name);
}

void DatasetFile::write(const std::string& name, const std::vector<std::size_t>& dims,
                        const std::vector<double>& values, bool single) {
  const std::vector<hsize_t> shape(dims.begin(), dims.end());
  H5Id space(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr), H5Sclose);
  H5Id d(check(H5Dcreate2(file_.get(), name.c_str(), single ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, space.get(),
                          lcpl_.get(), dcpl_.get(), H5P_DEFAULT),
               "create /" + name),
         H5Dclose);
  check(H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "write /" + name);
}

template <class T>
void DatasetFile::write_integers(const std::string& name, const std::vector<T>& values, hid_t file_type,
                                 hid_t memory_type) {
  const hsize_t n = values.size();
  H5Id space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  H5Id d(check(H5Dcreate2(file_.get(), name.c_str(), file_type, space.get(), lcpl_.get(), dcpl_.get(), H5P_DEFAULT),
               "create /" + name),
         H5Dclose);
  check(H5Dwrite(d.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "write /" + name);
}

void DatasetFile::write(const std::string& name, const std::vector<std::uint64_t>& values) {
  write_integers(name, values, H5T_STD_U64LE, H5T_NATIVE_UINT64);
}

void DatasetFile::write(const std::string& name, const std::vector<std::int64_t>& values) {
  write_integers(name, values, H5T_STD_I64LE, H5T_NATIVE_INT64);
}

void DatasetFile::text_attribute(const std::string& name, const std::string& value) {
  H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), std::max<std::size_t>(value.size(), 1));
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Id a(check(H5Acreate2(file_.get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
               "attribute " + name),
         H5Aclose);
  check(H5Awrite(a.get(), type.get(), value.c_str()), "attribute " + name);
}

void DatasetFile::number_attribute(const std::string& name, const std::vector<double>& values) {
  const hsize_t n = values.size();
  H5Id space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  H5Id a(check(H5Acreate2(file_.get(), name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
               "attribute " + name),
         H5Aclose);
  check(H5Awrite(a.get(), H5T_NATIVE_DOUBLE, values.data()), "attribute " + name);
}

void DatasetFile::commit() {
  datasets_.clear();
  dcpl_.reset();
  std::error_code ec;
  if (H5Fclose(file_.release()) < 0) {
    std::filesystem::remove(temporary_, ec);
    throw IoError(path_.string() + ": closing the file failed");
  }
  std::filesystem::rename(temporary_, path_, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(temporary_, ec);
    throw IoError(path_.string() + ": cannot rename the finished file to it: " + why);
  }
}

}  // namespace fluxion::io_detail
