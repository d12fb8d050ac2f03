// Mesh files read with scrutiny: STL, OBJ and PLY parsed here, VTP checked and then read by VTK.
// VTK's own STL/OBJ/PLY readers trust the counts and indices a file states (a binary STL claiming
// 2^31 triangles makes vtkSTLReader allocate 6.4e9 elements; an OBJ or PLY face index past the last
// vertex crashes), so nothing a file says is used before the file's size or content backs it.
#include "fluxion/io/mesh_files.hpp"

#include <dlfcn.h>
#include <sys/stat.h>
#include <vtkCallbackCommand.h>
#include <vtkCellArray.h>
#include <vtkCommand.h>
#include <vtkExecutive.h>
#include <vtkObjectFactory.h>
#include <vtkXMLDataParser.h>
#include <vtkPoints.h>
#include <vtkXMLPolyDataReader.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "fluxion/core/error.hpp"

namespace fluxion::io_detail {
namespace {

namespace fs = std::filesystem;

/// A mesh as it is parsed: points (float, the precision VTK's readers give) and polygons.
struct Mesh {
  std::vector<float> xyz;
  std::vector<std::vector<vtkIdType>> polygons;
  vtkIdType points() const { return static_cast<vtkIdType>(xyz.size() / 3); }
  void add_point(const double (&p)[3]) {
    for (double c : p) xyz.push_back(static_cast<float>(c));
  }
};

class Reader {
 public:
  Reader(const fs::path& file, std::string data) : file_(file), data_(std::move(data)) {}

  [[noreturn]] void fail(const std::string& what) const { throw IoError(file_.string() + ": " + what); }
  [[noreturn]] void fail_at(long line, const std::string& what) const {
    fail("line " + std::to_string(line) + ": " + what);
  }

  std::string_view data() const { return data_; }

 protected:
  const fs::path& file_;
  std::string data_;
};

/// A token (up to 40 characters) as messages quote it.
std::string quoted(std::string_view token) {
  if (token.empty()) return "the end of the file";
  std::string q(token.substr(0, 40));
  for (char& c : q)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return "'" + q + (token.size() > 40 ? "...'" : "'");
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/// Text: no control bytes other than white space (UTF-8 is fine). Returns the offset of the first
/// other byte, or npos.
std::size_t first_binary_byte(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && !is_space(s[i])) || c == 0x7f) return i;
  }
  return std::string_view::npos;
}

bool parse_number(std::string_view t, double& v) {
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  return ec == std::errc() && end == t.data() + t.size();
}

bool parse_integer(std::string_view t, long long& v) {
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  return ec == std::errc() && end == t.data() + t.size();
}

/// Whitespace-separated tokens of a text, with the line each starts on.
class Tokens {
 public:
  explicit Tokens(std::string_view text, std::size_t at = 0, long line = 1) : text_(text), at_(at), line_(line) {}
  /// The next token; empty at the end of the text.
  std::string_view next() {
    while (at_ < text_.size() && is_space(text_[at_])) line_ += text_[at_++] == '\n';
    const std::size_t begin = at_;
    while (at_ < text_.size() && !is_space(text_[at_])) ++at_;
    return text_.substr(begin, at_ - begin);
  }
  /// Skips to the start of the next line.
  void skip_line() {
    while (at_ < text_.size() && text_[at_] != '\n') ++at_;
  }
  long line() const { return line_; }
  std::size_t remaining() const { return text_.size() - at_; }

 private:
  std::string_view text_;
  std::size_t at_;
  long line_;
};

// ---- STL ----

std::uint32_t little_u32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

float little_f32(const char* p) { return std::bit_cast<float>(little_u32(p)); }

class StlReader : public Reader {
 public:
  using Reader::Reader;

  /// Binary when the size is exactly 84 + 50 n for the n of the header (whatever the first bytes
  /// say: binary files may start with "solid"); ASCII when the text starts with "solid".
  Mesh read() {
    const std::string_view d = data();
    const std::uint64_t size = d.size();
    std::uint64_t declared = 0;
    if (size >= 84) {
      declared = little_u32(d.data() + 80);
      if (size == 84 + 50 * declared) return read_binary(declared);
    }
    const std::size_t first = d.find_first_not_of(" \t\r\n");
    const bool solid = first != std::string_view::npos && d.substr(first, 5) == "solid" &&
                       (first + 5 == d.size() || is_space(d[first + 5]));
    if (solid && first_binary_byte(d) == std::string_view::npos) return read_ascii();
    if (size < 84)
      fail("not an STL file: " + std::to_string(size) +
           " bytes, too short for a binary STL (84-byte header), and not an ASCII STL (which starts with 'solid')");
    fail("binary STL header declares " + std::to_string(declared) + " triangles, which take 84 + 50 x " +
         std::to_string(declared) + " = " + std::to_string(84 + 50 * declared) + " bytes, but the file has " +
         std::to_string(size) + " bytes" +
         (solid ? " (it starts with 'solid' but holds binary bytes, so it is no ASCII STL either)" : ""));
  }

 private:
  Mesh read_binary(std::uint64_t triangles) {
    Mesh m;
    m.xyz.reserve(triangles * 9);
    m.polygons.reserve(triangles);
    const char* p = data().data() + 84;
    for (std::uint64_t t = 0; t < triangles; ++t, p += 50) {
      for (int v = 0; v < 3; ++v) {
        double q[3];
        for (int c = 0; c < 3; ++c) q[c] = little_f32(p + 12 + 12 * v + 4 * c);  // after the normal
        if (!std::isfinite(q[0]) || !std::isfinite(q[1]) || !std::isfinite(q[2]))
          fail("binary STL triangle " + std::to_string(t) + " has a NaN or infinite vertex");
        m.add_point(q);
      }
      const auto first = static_cast<vtkIdType>(3 * t);
      m.polygons.push_back({first, first + 1, first + 2});
    }
    return m;
  }

  Mesh read_ascii() {
    Mesh m;
    Tokens t(data());
    auto expect = [&](const char* word) {
      const std::string_view token = t.next();
      if (token != word) fail_at(t.line(), std::string("expected '") + word + "', found " + quoted(token));
    };
    auto coordinates = [&](double (&q)[3], bool finite) {
      for (double& c : q) {
        const std::string_view token = t.next();
        if (!parse_number(token, c) || (finite && !std::isfinite(c)))
          fail_at(t.line(), "expected a finite number, found " + quoted(token));
      }
    };
    expect("solid");
    t.skip_line();  // the solid's name
    for (std::string_view token = t.next(); !token.empty(); token = t.next()) {
      if (token == "endsolid") {
        t.skip_line();
        token = t.next();
        if (token.empty()) break;
        if (token != "solid") fail_at(t.line(), "expected 'solid' or the end of the file, found " + quoted(token));
        t.skip_line();
        continue;
      }
      if (token != "facet") fail_at(t.line(), "expected 'facet' or 'endsolid', found " + quoted(token));
      expect("normal");
      double normal[3];
      coordinates(normal, false);
      expect("outer");
      expect("loop");
      std::vector<vtkIdType> polygon;
      for (token = t.next(); token == "vertex"; token = t.next()) {
        double q[3];
        coordinates(q, true);
        polygon.push_back(m.points());
        m.add_point(q);
      }
      if (token != "endloop") fail_at(t.line(), "expected 'vertex' or 'endloop', found " + quoted(token));
      if (polygon.size() < 3)
        fail_at(t.line(), "a facet needs 3 vertices; this one has " + std::to_string(polygon.size()));
      m.polygons.push_back(std::move(polygon));
      expect("endfacet");
    }
    return m;
  }
};

// ---- OBJ ----

class ObjReader : public Reader {
 public:
  using Reader::Reader;

  /// 'v' and 'f' lines (indices from 1, negative ones relative to the last vertex, "i/t/n" forms);
  /// other statements (vt, vn, g, usemtl, ...) are skipped.
  Mesh read() {
    Mesh m;
    const std::string_view d = data();
    long line = 0, faces = 0, max_line = 0;
    long long max_index = 0;
    for (std::size_t at = 0; at < d.size();) {
      const std::size_t end = std::min(d.find('\n', at), d.size());
      const std::string_view text = d.substr(at, end - at);
      at = end + 1;
      ++line;
      if (const std::size_t bad = first_binary_byte(text); bad != std::string_view::npos)
        fail_at(line, "is not text (byte " + std::to_string(static_cast<unsigned char>(text[bad])) +
                          " at column " + std::to_string(bad + 1) + "); not an OBJ file");
      Tokens t(text);
      const std::string_view keyword = t.next();
      if (keyword == "v") {
        double q[3];
        for (double& c : q) {
          const std::string_view token = t.next();
          if (!parse_number(token, c) || !std::isfinite(c))
            fail_at(line, "a vertex needs 3 finite coordinates, found " + quoted(token));
        }
        m.add_point(q);
      } else if (keyword == "f") {
        std::vector<vtkIdType> polygon;
        for (std::string_view token = t.next(); !token.empty(); token = t.next()) {
          long long index = 0;
          if (!parse_integer(token.substr(0, token.find('/')), index) || index == 0)
            fail_at(line, "bad face vertex " + quoted(token) + "; expected an index from 1 (or negative, counting back)");
          if (index < 0) {
            index += m.points() + 1;
            if (index < 1)
              fail_at(line, "face vertex " + quoted(token) + " counts back past the first vertex (" +
                                std::to_string(m.points()) + " vertices so far)");
          } else if (index > max_index) {
            max_index = index;
            max_line = line;
          }
          polygon.push_back(static_cast<vtkIdType>(index - 1));
        }
        if (polygon.size() < 3)
          fail_at(line, "a face needs at least 3 vertices; this one has " + std::to_string(polygon.size()));
        m.polygons.push_back(std::move(polygon));
        ++faces;
      }
    }
    if (m.points() == 0 && faces == 0) fail("has no vertex ('v') or face ('f') lines; not an OBJ mesh");
    if (max_index > m.points())
      fail_at(max_line, "face vertex index " + std::to_string(max_index) + " is out of range (the file has " +
                            std::to_string(m.points()) + " vertices)");
    return m;
  }
};

// ---- PLY ----

class PlyReader : public Reader {
 public:
  using Reader::Reader;

  /// The header, then every element in order; 'vertex' gives x, y, z and 'face' its
  /// vertex_indices (or vertex_index) list; other elements and properties are read and dropped.
  Mesh read() {
    read_header();
    check_sizes();
    Mesh m;
    for (const Element& e : elements_) {
      const bool vertex = &e == vertex_, face = &e == face_;
      for (std::uint64_t n = 0; n < e.count; ++n) {
        double q[3] = {0.0, 0.0, 0.0};
        std::vector<vtkIdType> polygon;
        for (const Property& p : e.properties) {
          if (!p.list) {
            const double v = value(p.type, e, n);
            if (vertex && p.axis >= 0) {
              if (!std::isfinite(v)) fail(where(e, n) + ": coordinate " + p.name + " is not finite");
              q[p.axis] = v;
            }
            continue;
          }
          const double count = value(p.count_type, e, n);
          const std::uint64_t min_bytes = ascii_ ? 2 : size_of(p.type);
          if (!(count >= 0.0) || count != std::floor(count) || count * double(min_bytes) > double(left()))
            fail(where(e, n) + ": list " + p.name + " declares " + number(count) + " items; only " +
                 std::to_string(left()) + " bytes are left in the file");
          const bool indices = face && &p == face_list_;
          for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(count); ++i) {
            const double v = value(p.type, e, n);
            if (!indices) continue;
            if (!(v >= 0.0 && v < static_cast<double>(vertex_->count)) || v != std::floor(v))
              fail(where(e, n) + ": vertex index " + number(v) + " is out of range (the file has " +
                   std::to_string(vertex_->count) + " vertices)");
            polygon.push_back(static_cast<vtkIdType>(v));
          }
        }
        if (vertex) m.add_point(q);
        if (face) {
          if (polygon.size() < 3)
            fail(where(e, n) + ": a face needs at least 3 vertices; this one has " + std::to_string(polygon.size()));
          m.polygons.push_back(std::move(polygon));
        }
      }
    }
    return m;
  }

 private:
  enum class Type { Int8, UInt8, Int16, UInt16, Int32, UInt32, Float32, Float64 };
  struct Property {
    std::string name;
    bool list = false;
    Type count_type = Type::UInt8, type = Type::Float32;
    int axis = -1;  // 0, 1, 2 for x, y, z of the vertex element
  };
  struct Element {
    std::string name;
    std::uint64_t count = 0;
    std::vector<Property> properties;
  };

  static std::size_t size_of(Type t) {
    constexpr std::size_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 8};
    return sizes[static_cast<int>(t)];
  }

  static std::string number(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.17g", v);
    return b;
  }

  std::string where(const Element& e, std::uint64_t n) const {
    return "element '" + e.name + "' entry " + std::to_string(n);
  }

  std::uint64_t left() const { return ascii_ ? tokens_.remaining() : data().size() - at_; }

  Type parse_type(long line, std::string_view name) const {
    static const std::pair<const char*, Type> names[] = {
        {"char", Type::Int8},     {"int8", Type::Int8},     {"uchar", Type::UInt8},  {"uint8", Type::UInt8},
        {"short", Type::Int16},   {"int16", Type::Int16},   {"ushort", Type::UInt16}, {"uint16", Type::UInt16},
        {"int", Type::Int32},     {"int32", Type::Int32},   {"uint", Type::UInt32},  {"uint32", Type::UInt32},
        {"float", Type::Float32}, {"float32", Type::Float32}, {"double", Type::Float64}, {"float64", Type::Float64}};
    for (const auto& [n, t] : names)
      if (name == n) return t;
    fail_at(line, "unknown PLY property type " + quoted(name));
  }

  void read_header() {
    const std::string_view d = data();
    long line = 0;
    bool format = false;
    for (std::size_t at = 0;;) {
      if (at >= d.size()) fail("PLY header has no end_header line (the file is truncated or not PLY)");
      const std::size_t end = std::min(d.find('\n', at), d.size());
      std::string_view text = d.substr(at, end - at);
      at = end + 1;
      ++line;
      if (first_binary_byte(text) != std::string_view::npos) fail_at(line, "PLY header line is not text");
      Tokens t(text);
      const std::string_view keyword = t.next();
      if (line == 1) {
        if (keyword != "ply") fail("not a PLY file (the first line is not 'ply')");
      } else if (keyword == "format") {
        const std::string_view kind = t.next();
        if (kind == "ascii") ascii_ = true;
        else if (kind == "binary_little_endian") big_endian_ = false;
        else if (kind == "binary_big_endian") big_endian_ = true;
        else fail_at(line, "unknown PLY format " + quoted(kind));
        format = true;
      } else if (keyword == "element") {
        Element e;
        e.name = std::string(t.next());
        long long count = 0;
        const std::string_view token = t.next();
        if (e.name.empty() || !parse_integer(token, count) || count < 0)
          fail_at(line, "expected 'element <name> <count>', found count " + quoted(token));
        e.count = static_cast<std::uint64_t>(count);
        elements_.push_back(std::move(e));
      } else if (keyword == "property") {
        if (elements_.empty()) fail_at(line, "a property before any element");
        Property p;
        std::string_view type = t.next();
        if (type == "list") {
          p.list = true;
          p.count_type = parse_type(line, t.next());
          if (p.count_type == Type::Float32 || p.count_type == Type::Float64)
            fail_at(line, "a list count must have an integer type");
          type = t.next();
        }
        p.type = parse_type(line, type);
        p.name = std::string(t.next());
        elements_.back().properties.push_back(std::move(p));
      } else if (keyword == "end_header") {
        at_ = at;
        break;
      }  // comment, obj_info: skipped
    }
    if (!format) fail("PLY header has no format line");
    for (Element& e : elements_) {
      if (e.name == "vertex" && !vertex_) vertex_ = &e;
      if (e.name == "face" && !face_) face_ = &e;
    }
    if (!vertex_ || !face_) fail("PLY file has no 'vertex' or no 'face' element");
    for (Property& p : vertex_->properties)
      if (!p.list && p.name.size() == 1 && p.name[0] >= 'x' && p.name[0] <= 'z') p.axis = p.name[0] - 'x';
    for (const char* axis : {"x", "y", "z"})
      if (std::none_of(vertex_->properties.begin(), vertex_->properties.end(),
                       [&](const Property& p) { return p.name == axis && !p.list; }))
        fail(std::string("PLY element 'vertex' has no scalar property ") + axis);
    for (const Property& p : face_->properties)
      if (p.list && (p.name == "vertex_indices" || p.name == "vertex_index")) face_list_ = &p;
    if (!face_list_) fail("PLY element 'face' has no vertex_indices list");
    tokens_ = Tokens(data(), at_, line + 1);
  }

  /// Every element needs at least so many bytes per entry (binary: its scalars and list counts;
  /// ASCII: a character and a separator per property): the counts must fit in what follows the header.
  void check_sizes() const {
    std::uint64_t need = 0;
    const std::uint64_t have = data().size() - at_;
    for (const Element& e : elements_) {
      std::uint64_t per_entry = 0;
      for (const Property& p : e.properties)
        per_entry += ascii_ ? 2 : size_of(p.list ? p.count_type : p.type);
      if (per_entry > 0 && e.count > have / per_entry)
        fail("PLY element '" + e.name + "' declares " + std::to_string(e.count) + " entries, which take at least " +
             std::to_string(per_entry) + " bytes each, but only " + std::to_string(have) +
             " bytes follow the header");
      need += e.count * per_entry;
    }
    if (need > have)
      fail("PLY header declares elements that take at least " + std::to_string(need) + " bytes, but only " +
           std::to_string(have) + " bytes follow the header");
  }

  double value(Type type, const Element& e, std::uint64_t n) {
    if (ascii_) {
      const std::string_view token = tokens_.next();
      double v = 0.0;
      if (!parse_number(token, v))
        fail_at(tokens_.line(), where(e, n) + ": expected a number, found " + quoted(token));
      return v;
    }
    const std::size_t size = size_of(type);
    if (data().size() - at_ < size) fail(where(e, n) + ": the file ends inside it (truncated)");
    unsigned char b[8];
    std::memcpy(b, data().data() + at_, size);
    at_ += size;
    if (big_endian_ != (std::endian::native == std::endian::big)) std::reverse(b, b + size);
    auto as = [&](auto v) {
      std::memcpy(&v, b, sizeof v);
      return static_cast<double>(v);
    };
    switch (type) {
      case Type::Int8: return as(std::int8_t{});
      case Type::UInt8: return as(std::uint8_t{});
      case Type::Int16: return as(std::int16_t{});
      case Type::UInt16: return as(std::uint16_t{});
      case Type::Int32: return as(std::int32_t{});
      case Type::UInt32: return as(std::uint32_t{});
      case Type::Float32: return as(float{});
      case Type::Float64: return as(double{});
    }
    return 0.0;
  }

  bool ascii_ = false, big_endian_ = false;
  std::vector<Element> elements_;
  Element* vertex_ = nullptr;
  Element* face_ = nullptr;
  const Property* face_list_ = nullptr;
  std::size_t at_ = 0;  // binary: the next byte
  Tokens tokens_{std::string_view()};
};

// ---- VTP ----

/// The value of attribute `name` in the tag text `tag` (between '<' and '>'), or npos-empty.
bool attribute(std::string_view tag, std::string_view name, std::string_view& value) {
  for (std::size_t at = tag.find(name); at != std::string_view::npos; at = tag.find(name, at + 1)) {
    if (at == 0 || !is_space(tag[at - 1])) continue;
    std::size_t p = at + name.size();
    while (p < tag.size() && is_space(tag[p])) ++p;
    if (p >= tag.size() || tag[p] != '=') continue;
    ++p;
    while (p < tag.size() && is_space(tag[p])) ++p;
    if (p >= tag.size() || (tag[p] != '"' && tag[p] != '\'')) continue;
    const std::size_t close = tag.find(tag[p], p + 1);
    if (close == std::string_view::npos) return false;
    value = tag.substr(p + 1, close - p - 1);
    return true;
  }
  return false;
}

/// The declared sizes of every Piece must fit the file: a point takes at least 3 bytes and a cell
/// 2 (uncompressed), times zlib's largest ratio (about 1032) when the file is compressed; the
/// XML must end with </VTKFile> (VTK reports a truncated file only after printing its own errors).
void check_vtp(const Reader& r) {
  std::string_view d = r.data();
  const std::size_t last = d.find_last_not_of(" \t\r\n\f\v\0", std::string_view::npos, 7);
  if (last == std::string_view::npos || last < 9 || d.substr(last - 9, 10) != "</VTKFile>")
    r.fail("VTP file is truncated or not VTK XML: it does not end with </VTKFile>");
  const std::size_t appended = d.find("<AppendedData");
  if (appended != std::string_view::npos) d = d.substr(0, appended);  // raw bytes follow
  const std::size_t file_tag = d.find("<VTKFile");
  std::string_view type;
  if (file_tag == std::string_view::npos ||
      !attribute(d.substr(file_tag, d.find('>', file_tag) - file_tag), "type", type) || type != "PolyData")
    r.fail("not a VTK PolyData file (no <VTKFile type=\"PolyData\">)");
  std::string_view compressor;
  const bool compressed = attribute(d.substr(file_tag, d.find('>', file_tag) - file_tag), "compressor", compressor) &&
                          !compressor.empty();
  const double budget = static_cast<double>(r.data().size()) * (compressed ? 1100.0 : 1.0);
  int piece = 0;
  for (std::size_t at = d.find("<Piece"); at != std::string_view::npos; at = d.find("<Piece", at + 1), ++piece) {
    const std::size_t close = d.find('>', at);
    if (close == std::string_view::npos) r.fail("VTP Piece " + std::to_string(piece) + " tag is not closed");
    const std::string_view tag = d.substr(at, close - at);
    for (const char* name : {"NumberOfPoints", "NumberOfVerts", "NumberOfLines", "NumberOfStrips", "NumberOfPolys"}) {
      std::string_view text;
      if (!attribute(tag, name, text)) continue;
      long long count = 0;
      if (!parse_integer(text, count) || count < 0)
        r.fail("VTP Piece " + std::to_string(piece) + ": " + name + "=" + quoted(text) + " is not a count");
      const double bytes = static_cast<double>(count) * (std::string_view(name) == "NumberOfPoints" ? 3.0 : 2.0);
      if (bytes > budget)
        r.fail("VTP Piece " + std::to_string(piece) + " declares " + name + "=" + std::to_string(count) +
               ", more than a file of " + std::to_string(r.data().size()) + " bytes can hold" +
               (compressed ? " even compressed" : ""));
    }
  }
  if (piece == 0) r.fail("VTP file has no <Piece>");
}

/// Keeps the first error a VTK algorithm reports, instead of letting VTK print it.
class ErrorObserver : public vtkCommand {
 public:
  static ErrorObserver* New() { return new ErrorObserver; }
  void Execute(vtkObject*, unsigned long, void* call_data) override {
    if (!message_.empty()) return;
    std::string text = call_data ? static_cast<const char*>(call_data) : "unknown VTK error";
    // VTK formats "ERROR: In file, line N\nvtkClass (0x...): what\n\n"; keep "what".
    if (const auto colon = text.find("): "); colon != std::string::npos) text = text.substr(colon + 3);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (const auto newline = text.find('\n'); newline != std::string::npos) text.resize(newline);
    message_ = text.empty() ? "unknown VTK error" : text;
  }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

}  // namespace

void update_or_throw(vtkAlgorithm* algorithm, const fs::path& file, const char* what) {
  auto observer = vtkSmartPointer<ErrorObserver>::New();
  algorithm->AddObserver(vtkCommand::ErrorEvent, observer);
  algorithm->GetExecutive()->AddObserver(vtkCommand::ErrorEvent, observer);
  // Readers warn about what they then cope with; only errors count.
  algorithm->AddObserver(vtkCommand::WarningEvent, vtkSmartPointer<vtkCallbackCommand>::New());
  algorithm->Update();
  if (!observer->message().empty()) throw IoError(file.string() + ": " + what + ": " + observer->message());
}

namespace {

/// VTK 9.2's XML data parser stops at <AppendedData> by feeding expat the bytes up to that tag and
/// then finishing the document; expat's reparse deferral (Debian 12's security updates backport it:
/// present in 2.5.0-1+deb12u5, absent in deb12u1) holds such a chunk back, so the parser runs on
/// into the appended bytes and fails ("not well-formed (invalid token)") on every appended file,
/// which is what ParaView writes by default. Later VTK switches the deferral off; so does this.
class PromptXmlDataParser : public vtkXMLDataParser {
 public:
  static PromptXmlDataParser* New();
  vtkTypeMacro(PromptXmlDataParser, vtkXMLDataParser);

 protected:
  int CreateParser() override {
    if (!vtkXMLDataParser::CreateParser()) return 0;
    // XML_Bool XML_SetReparseDeferralEnabled(XML_Parser, XML_Bool), looked up at run time: the
    // expat headers this is built against may predate it.
    using Switch = unsigned char (*)(void*, unsigned char);
    static const auto disable = reinterpret_cast<Switch>(dlsym(RTLD_DEFAULT, "XML_SetReparseDeferralEnabled"));
    if (disable && this->Parser) disable(this->Parser, 0);
    return 1;
  }
};
vtkStandardNewMacro(PromptXmlDataParser);

class PolyDataReader : public vtkXMLPolyDataReader {
 public:
  static PolyDataReader* New();
  vtkTypeMacro(PolyDataReader, vtkXMLPolyDataReader);

 protected:
  void CreateXMLParser() override {
    if (this->XMLParser) this->DestroyXMLParser();
    this->XMLParser = PromptXmlDataParser::New();
  }
};
vtkStandardNewMacro(PolyDataReader);

/// VTK's XML reader, after check_vtp; its output's cells must index its points.
vtkSmartPointer<vtkPolyData> read_vtp(const Reader& r, const fs::path& file) {
  check_vtp(r);
  auto reader = vtkSmartPointer<PolyDataReader>::New();
  reader->SetFileName(file.string().c_str());
  update_or_throw(reader, file, "cannot read mesh");
  vtkSmartPointer<vtkPolyData> surface = reader->GetOutput();
  const vtkIdType points = surface->GetNumberOfPoints();
  for (vtkCellArray* cells : {surface->GetPolys(), surface->GetStrips()}) {
    vtkIdType n = 0;
    const vtkIdType* ids = nullptr;
    for (cells->InitTraversal(); cells->GetNextCell(n, ids);)
      for (vtkIdType i = 0; i < n; ++i)
        if (ids[i] < 0 || ids[i] >= points)
          r.fail("VTP cell refers to point " + std::to_string(ids[i]) + " of " + std::to_string(points));
  }
  if (vtkPoints* p = surface->GetPoints()) {
    double b[6];
    p->GetBounds(b);
    if (!std::all_of(b, b + 6, [](double v) { return std::isfinite(v); })) r.fail("VTP points are not all finite");
  }
  return surface;
}

vtkSmartPointer<vtkPolyData> to_polydata(const Mesh& m) {
  auto points = vtkSmartPointer<vtkPoints>::New();  // float, like VTK's readers
  points->SetNumberOfPoints(m.points());
  for (vtkIdType i = 0; i < m.points(); ++i) points->SetPoint(i, m.xyz[3 * i], m.xyz[3 * i + 1], m.xyz[3 * i + 2]);
  auto polys = vtkSmartPointer<vtkCellArray>::New();
  for (const auto& polygon : m.polygons) polys->InsertNextCell(static_cast<vtkIdType>(polygon.size()), polygon.data());
  auto surface = vtkSmartPointer<vtkPolyData>::New();
  surface->SetPoints(points);
  surface->SetPolys(polys);
  return surface;
}

std::string lowercase_extension(const fs::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

/// The whole file, after checking that it is a regular, non-empty file (a FIFO would block the
/// read and /dev/zero never ends).
std::string read_whole(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) throw IoError(file.string() + ": mesh file not found");
  if (S_ISDIR(st.st_mode)) throw IoError(file.string() + ": is a folder, not a mesh file");
  if (!S_ISREG(st.st_mode))
    throw IoError(file.string() + ": is not a regular file (a FIFO, device or socket); a mesh must be a file");
  if (st.st_size == 0) throw IoError(file.string() + ": mesh file is empty");
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::ifstream in(file, std::ios::binary);
  if (!in.read(data.data(), static_cast<std::streamsize>(data.size())) || in.gcount() != st.st_size)
    throw IoError(file.string() + ": cannot read the mesh file (" + std::strerror(errno) + ")");
  return data;
}

}  // namespace

vtkSmartPointer<vtkPolyData> read_mesh_file(const fs::path& file) {
  const std::string ext = lowercase_extension(file);
  if (ext != ".stl" && ext != ".obj" && ext != ".ply" && ext != ".vtp") {
    std::error_code ec;
    if (!fs::exists(file, ec)) throw IoError(file.string() + ": mesh file not found");
    throw IoError(file.string() + ": unknown mesh format '" + ext + "' (expected .stl, .obj, .ply or .vtp)");
  }
  std::string data = read_whole(file);
  if (ext == ".vtp") return read_vtp(Reader(file, std::move(data)), file);
  if (ext == ".stl") return to_polydata(StlReader(file, std::move(data)).read());
  if (ext == ".obj") return to_polydata(ObjReader(file, std::move(data)).read());
  return to_polydata(PlyReader(file, std::move(data)).read());
}

}  // namespace fluxion::io_detail
