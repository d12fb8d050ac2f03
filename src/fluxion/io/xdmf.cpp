// The XDMF sidecar: grid geometry and per-step references into the HDF5 run file.
#include "fluxion/io/xdmf.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "fluxion/core/error.hpp"
#include "fluxion/core/petsc_session.hpp"
#include "fluxion/io/hdf5_util.hpp"

namespace fluxion::io_detail {

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// XDMF lists axes slowest first (z y x). A 2D grid is a 3D mesh one node thick in z, so that it
// lands in ParaView's x-y plane (the 2DCoRectMesh lands in the y-z plane). It is a rectilinear
// mesh (3DRectMesh, node coordinates from /geometry/x, /y, /z of the run file), not a uniform one:
// ParaView shows a flat uniform image with its "Slice" representation by default, which draws
// nothing for these cell arrays, while a flat rectilinear grid gets "Surface" and is visible at
// once. 3D grids are uniform (3DCoRectMesh; ParaView shows their outline, as for any volume).
// (The legacy Xdmf2 reader gets the geometry right but cannot read cell data on a mesh one node
// thick; a zero-thickness cell layer would satisfy it, at the price of a zero z spacing that breaks
// probing and picking in ParaView.)
struct MeshAxes {
  std::string node_dims, cell_dims, origin, spacing;
};

MeshAxes mesh_axes(const GridSpec& spec) {
  std::ostringstream nodes, cells, origin, spacing;
  if (spec.dim == 2) {
    nodes << "1 ";
    origin << "0 ";
    spacing << "1 ";
  }
  for (int axis = spec.dim - 1; axis >= 0; --axis) {
    const char* sep = axis ? " " : "";
    const double h = (spec.upper[axis] - spec.lower[axis]) / static_cast<double>(spec.cells[axis]);
    nodes << spec.cells[axis] + 1 << sep;
    cells << spec.cells[axis] << sep;
    origin << number(spec.lower[axis]) << sep;
    spacing << number(h) << sep;
  }
  return {nodes.str(), cells.str(), origin.str(), spacing.str()};
}

std::string attribute(const GridSpec& spec, const MeshAxes& m, const std::string& h5_name, const XdmfArray& a) {
  const int stored = stored_components(spec.dim, a.components);
  const char* number_type = a.uint8     ? "NumberType=\"UChar\" Precision=\"1\""
                            : a.float32 ? "NumberType=\"Float\" Precision=\"4\""
                                        : "NumberType=\"Float\" Precision=\"8\"";
  // 3 components are a vector (2D vectors are stored with a zero z); other counts a matrix,
  // which ParaView shows as a multi-component array.
  const char* type = stored == 1 ? "Scalar" : stored == 3 ? "Vector" : "Matrix";
  const std::string dims = stored == 1 ? m.cell_dims : m.cell_dims + " " + std::to_string(stored);
  return "      <Attribute Name=\"" + xml_escape(a.name) + "\" AttributeType=\"" + type + "\" Center=\"Cell\">\n" +
         "        <DataItem Dimensions=\"" + dims + "\" " + number_type + " Format=\"HDF\">" +
         xml_escape(h5_name + ":" + a.dataset) + "</DataItem>\n" + "      </Attribute>\n";
}

}  // namespace

std::vector<double> node_coordinates(const GridSpec& spec, int axis) {
  if (axis >= spec.dim) return {0.0};
  const double h = (spec.upper[axis] - spec.lower[axis]) / static_cast<double>(spec.cells[axis]);
  std::vector<double> nodes(static_cast<std::size_t>(spec.cells[axis]) + 1);
  for (std::size_t n = 0; n < nodes.size(); ++n) nodes[n] = spec.lower[axis] + static_cast<double>(n) * h;
  nodes.back() = spec.upper[axis];
  return nodes;
}

std::string xdmf_document(const GridSpec& spec, const std::string& h5_name, const std::vector<XdmfStep>& steps) {
  const MeshAxes m = mesh_axes(spec);
  std::string s;
  s += "<?xml version=\"1.0\" ?>\n";
  s += "<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n";
  s += "<Xdmf Version=\"2.0\" xmlns:xi=\"http://www.w3.org/2001/XInclude\">\n";
  s += "  <Domain>\n";
  s += "    <Grid Name=\"TimeSeries\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
  for (std::size_t n = 0; n < steps.size(); ++n) {
    char name[32];
    std::snprintf(name, sizeof name, "step_%06zu", n);
    s += "    <Grid Name=\"" + std::string(name) + "\" GridType=\"Uniform\">\n";
    s += "      <Time Value=\"" + number(steps[n].time) + "\"/>\n";
    if (spec.dim == 2) {
      s += "      <Topology TopologyType=\"3DRectMesh\" Dimensions=\"" + m.node_dims + "\"/>\n";
      s += "      <Geometry GeometryType=\"VXVYVZ\">\n";
      for (int axis = 0; axis < 3; ++axis) {
        const long long nodes = axis < 2 ? spec.cells[axis] + 1 : 1;
        s += "        <DataItem Dimensions=\"" + std::to_string(nodes) +
             "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">" + xml_escape(h5_name) + ":/geometry/" + "xyz"[axis] +
             "</DataItem>\n";
      }
      s += "      </Geometry>\n";
    } else {
      s += "      <Topology TopologyType=\"3DCoRectMesh\" Dimensions=\"" + m.node_dims + "\"/>\n";
      s += "      <Geometry GeometryType=\"ORIGIN_DXDYDZ\">\n";
      s += "        <DataItem Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">" + m.origin +
           "</DataItem>\n";
      s += "        <DataItem Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">" + m.spacing +
           "</DataItem>\n";
      s += "      </Geometry>\n";
    }
    for (const XdmfArray& a : steps[n].arrays) s += attribute(spec, m, h5_name, a);
    s += "    </Grid>\n";
  }
  s += "    </Grid>\n";
  s += "  </Domain>\n";
  s += "</Xdmf>\n";
  return s;
}

std::string xml_escape(const std::string& text) {
  std::string s;
  s.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': s += "&amp;"; break;
      case '<': s += "&lt;"; break;
      case '>': s += "&gt;"; break;
      case '"': s += "&quot;"; break;
      case '\'': s += "&apos;"; break;
      default: s += c;
    }
  }
  return s;
}

void write_text_atomically(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  std::error_code ec;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError(tmp.string() + ": cannot open for writing: " + std::strerror(errno));
    out << text;
    out.close();  // the data reaches the file system here; a full disk shows as a failed close
    if (!out) {
      const std::string why = std::strerror(errno);
      std::filesystem::remove(tmp, ec);
      throw IoError(path.string() + ": cannot write it (through " + tmp.filename().string() + "): " + why);
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(tmp, ec);
    throw IoError(path.string() + ": cannot rename " + tmp.filename().string() + " over it: " + why);
  }
}

void on_root(MPI_Comm comm, const std::function<void()>& f) { fluxion::on_root(comm, f); }

}  // namespace fluxion::io_detail
