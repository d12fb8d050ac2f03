// Internal (not installed): an HDF5 file of whole arrays written by one process and committed
// atomically (the data-set apps' splits, the learned models' predictions).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "fluxion/io/hdf5_util.hpp"

namespace fluxion::io_detail {

/// One HDF5 file (a data set's split <name>_train.h5, ...), written by one rank (serial HDF5 calls on the
/// parallel library) into "<path>.tmp" and renamed to `path` by commit(), so that an interrupted
/// run never leaves a partial file under the final name. No object timestamps: equal data give
/// equal bytes. Datasets are little-endian; errors are IoError naming the file.
class DatasetFile {
 public:
  explicit DatasetFile(std::filesystem::path path);
  ~DatasetFile();  // without commit(): the temporary is removed
  DatasetFile(const DatasetFile&) = delete;
  DatasetFile& operator=(const DatasetFile&) = delete;

  const std::filesystem::path& path() const { return path_; }

  /// Names may hold groups ("geometry/x"): they are created as needed.
  /// A dataset of shape `dims` (float32 when `single`, else float64) filled by write_row().
  void create(const std::string& name, const std::vector<std::size_t>& dims, bool single);
  /// Row `row` (the index along the first axis) of a created dataset: the product of the other dims values.
  void write_row(const std::string& name, long row, const std::vector<double>& values);
  /// Whole datasets, written at once (float64, or float32 when `single`; uint64, int64).
  void write(const std::string& name, const std::vector<std::size_t>& dims, const std::vector<double>& values,
             bool single = false);
  void write(const std::string& name, const std::vector<std::uint64_t>& values);
  void write(const std::string& name, const std::vector<std::int64_t>& values);
  /// Attributes of the root group: a string, a float64 array.
  void text_attribute(const std::string& name, const std::string& value);
  void number_attribute(const std::string& name, const std::vector<double>& values);
  /// Closes the file and renames it to path(): from here on it is complete.
  void commit();

 private:
  hid_t check(hid_t id, const std::string& what) const;
  template <class T>
  void write_integers(const std::string& name, const std::vector<T>& values, hid_t file_type, hid_t memory_type);

  std::filesystem::path path_, temporary_;
  io_detail::H5Id file_, dcpl_, lcpl_;
  std::map<std::string, io_detail::H5Id> datasets_;  // those create() made
};

}  // namespace fluxion::io_detail
