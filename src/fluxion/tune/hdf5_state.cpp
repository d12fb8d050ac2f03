// HDF5 state files: MemoryState entries <-> groups and datasets, atomic replace, checks on read.
//
// This lives in the tune layer, not io: the StateWriter/StateReader interfaces belong to tune, and
// io (above tune) may not see them. It reuses io's internal RAII handles (hdf5_util.hpp, header-only).
#include "fluxion/tune/hdf5_state.hpp"

#include <algorithm>
#include <map>
#include <system_error>

#include "fluxion/core/error.hpp"
#include "fluxion/io/hdf5_util.hpp"

namespace fluxion {

using io_detail::H5Id;

namespace {

constexpr const char* kMarker = "fluxion_state";
constexpr const char* kMarkerValue = "learner state, format 1";

class Writer {
 public:
  Writer(hid_t file, std::string where) : file_(file), where_(std::move(where)) {}

  void write(const std::string& name, const MemoryState::Value& value) {
    check_name(name);
    const hid_t parent = parent_group(name);
    const std::string leaf = name.substr(name.rfind('/') + 1);
    if (const auto* d = std::get_if<std::vector<double>>(&value)) {
      write_array(parent, leaf, name, d->data(), d->size(), H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
    } else if (const auto* i = std::get_if<std::vector<std::int64_t>>(&value)) {
      write_array(parent, leaf, name, i->data(), i->size(), H5T_STD_I64LE, H5T_NATIVE_INT64);
    } else {
      const std::string& text = std::get<std::string>(value);
      H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(type.get(), text.size() + 1);
      H5Tset_strpad(type.get(), H5T_STR_NULLTERM);
      H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
      H5Id set = create(parent, leaf, name, type.get(), space.get());
      check(H5Dwrite(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, text.c_str()), "write", name);
    }
  }

 private:
  void check_name(const std::string& name) const {
    bool ok = !name.empty() && name.front() != '/' && name.back() != '/' && name.find("//") == std::string::npos;
    for (std::size_t start = 0; ok && start < name.size();) {
      const std::size_t end = std::min(name.find('/', start), name.size());
      const std::string part = name.substr(start, end - start);
      ok = part != "." && part != "..";
      start = end + 1;
    }
    if (!ok) throw IoError(where_ + ": state entry name '" + name + "' is not a '/'-separated path of names");
  }

  void check(herr_t status, const char* what, const std::string& name) const {
    if (status < 0) throw IoError(where_ + ": cannot " + std::string(what) + " state entry '" + name + "'");
  }

  // Opens or creates the groups above the entry; they stay open until the file closes.
  hid_t parent_group(const std::string& name) {
    hid_t loc = file_;
    std::string path;
    for (std::size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
      path = name.substr(0, slash);
      auto it = groups_.find(path);
      if (it == groups_.end()) {
        const std::string leaf = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
        hid_t g = H5Lexists(loc, leaf.c_str(), H5P_DEFAULT) > 0 ? -1
                                                                  : H5Gcreate2(loc, leaf.c_str(), H5P_DEFAULT,
                                                                               H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0)
          throw IoError(where_ + ": state entry '" + name + "' needs a group '" + path +
                        "', but that name is taken by an entry");
        it = groups_.emplace(path, H5Id(g, H5Gclose)).first;
      }
      loc = it->second.get();
    }
    return loc;
  }

  H5Id create(hid_t parent, const std::string& leaf, const std::string& name, hid_t type, hid_t space) {
    if (H5Lexists(parent, leaf.c_str(), H5P_DEFAULT) > 0)
      throw IoError(where_ + ": state entry '" + name + "' clashes with a group of the same name");
    const hid_t id = H5Dcreate2(parent, leaf.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (id < 0) throw IoError(where_ + ": cannot create state entry '" + name + "'");
    return H5Id(id, H5Dclose);
  }

  template <class T>
  void write_array(hid_t parent, const std::string& leaf, const std::string& name, const T* data, std::size_t n,
                   hid_t file_type, hid_t mem_type) {
    const hsize_t dims = n;
    H5Id space(H5Screate_simple(1, &dims, nullptr), H5Sclose);
    H5Id set = create(parent, leaf, name, file_type, space.get());
    if (n > 0) check(H5Dwrite(set.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write", name);
  }

  hid_t file_;
  std::string where_;
  std::map<std::string, H5Id> groups_;
};

struct ReadContext {
  std::string where;
  MemoryState* state;
  std::string error;
};

void read_dataset(hid_t file, const std::string& name, ReadContext& ctx) {
  auto fail = [&](const std::string& what) { throw IoError(ctx.where + ": state entry '" + name + "' " + what); };
  H5Id set(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!set.valid()) fail("cannot be opened");
  H5Id type(H5Dget_type(set.get()), H5Tclose);
  H5Id space(H5Dget_space(set.get()), H5Sclose);
  if (!type.valid() || !space.valid()) fail("cannot be read");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  const hssize_t points = H5Sget_simple_extent_npoints(space.get());
  if (rank < 0 || points < 0) fail("has an unreadable shape");
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls == H5T_STRING) {
    if (rank != 0 || H5Tis_variable_str(type.get()) > 0) fail("is not a fixed-length text scalar");
    const std::size_t size = H5Tget_size(type.get());
    H5Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), size + 1);
    H5Tset_strpad(mem.get(), H5T_STR_NULLTERM);
    std::string text(size + 1, '\0');
    if (H5Dread(set.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, text.data()) < 0) fail("cannot be read");
    text.resize(text.find('\0') == std::string::npos ? size : text.find('\0'));
    ctx.state->put(name, std::string_view(text));
    return;
  }
  if (rank != 1) fail("is not a 1D array");
  if (cls == H5T_FLOAT) {
    std::vector<double> v(static_cast<std::size_t>(points));
    if (points > 0 && H5Dread(set.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
      fail("cannot be read");
    ctx.state->put(name, std::span<const double>(v));
  } else if (cls == H5T_INTEGER) {
    std::vector<std::int64_t> v(static_cast<std::size_t>(points));
    if (points > 0 && H5Dread(set.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
      fail("cannot be read");
    ctx.state->put(name, std::span<const std::int64_t>(v));
  } else {
    fail("has an unsupported type (expected float64, int64 or text)");
  }
}

herr_t visit_link(hid_t group, const char* name, const H5L_info_t* info, void* data) {
  auto& ctx = *static_cast<ReadContext*>(data);
  try {
    if (info->type != H5L_TYPE_HARD) throw IoError(ctx.where + ": '" + name + "' is a link, not a state entry");
    H5Id object(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
    if (!object.valid()) throw IoError(ctx.where + ": '" + name + "' cannot be opened");
    if (H5Iget_type(object.get()) == H5I_DATASET) read_dataset(group, name, ctx);
    return 0;
  } catch (const std::exception& e) {
    ctx.error = e.what();
    return -1;
  }
}

}  // namespace

void write_state_file(const std::filesystem::path& path, const MemoryState& state) {
  const std::string where = path.string();
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  io_detail::QuietHdf5 quiet;
  try {
    {
      H5Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
      H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18);
      H5Id file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
      if (!file.valid()) throw IoError(where + ": cannot create '" + tmp.string() + "' (is the folder writable?)");
      {
        H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(type.get(), std::string(kMarkerValue).size() + 1);
        H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
        H5Id attr(H5Acreate2(file.get(), kMarker, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
        if (!attr.valid() || H5Awrite(attr.get(), type.get(), kMarkerValue) < 0)
          throw IoError(where + ": cannot write the file's marker attribute");
      }
      Writer writer(file.get(), where);
      for (const auto& [name, value] : state.entries()) writer.write(name, value);
      if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) throw IoError(where + ": flushing the state file failed");
    }  // groups, then the file close here, before the rename
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw IoError(where + ": cannot rename '" + tmp.filename().string() + "' over it: " + ec.message());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
}

MemoryState read_state_file(const std::filesystem::path& path) {
  const std::string where = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw IoError(where + ": no such state file");
  io_detail::QuietHdf5 quiet;
  if (H5Fis_hdf5(path.c_str()) <= 0) throw IoError(where + ": not an HDF5 file (corrupt or another format)");
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.valid()) throw IoError(where + ": cannot open the HDF5 file (corrupt?)");
  if (H5Aexists(file.get(), kMarker) <= 0)
    throw IoError(where + ": an HDF5 file, but not a fluxion learner state (no '" + std::string(kMarker) +
                  "' attribute)");
  MemoryState state;
  ReadContext ctx{where, &state, {}};
  const herr_t status = H5Lvisit(file.get(), H5_INDEX_NAME, H5_ITER_INC, visit_link, &ctx);
  if (!ctx.error.empty()) throw IoError(ctx.error);
  if (status < 0) throw IoError(where + ": the file's groups cannot be read (corrupt?)");
  return state;
}

void save_tuner_state(const std::filesystem::path& path, const OmegaTuner& tuner) {
  MemoryState state;
  tuner.save(state);
  write_state_file(path, state);
}

bool load_tuner_state(const std::filesystem::path& path, OmegaTuner& tuner, IfMissing if_missing) {
  std::error_code ec;
  if (if_missing == IfMissing::Ignore && !std::filesystem::exists(path, ec) && !ec) return false;
  const MemoryState state = read_state_file(path);
  try {
    tuner.load(state);
  } catch (const IoError& e) {
    throw IoError(path.string() + ": " + e.what());
  }
  return true;
}

}  // namespace fluxion
