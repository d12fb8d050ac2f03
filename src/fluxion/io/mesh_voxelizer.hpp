// Mesh import: closed triangle surfaces (STL, OBJ, PLY, VTP) turned into solid cells of a SolidMask.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>

#include "fluxion/core/solid_mask.hpp"

namespace fluxion {

/// Where a mesh goes in the domain: x' = translate + Rz(rotate_z_degrees) * (scale * x),
/// i.e. scale about the origin, then rotate about the z axis, then translate.
struct MeshPlacement {
  double scale = 1.0;
  std::array<double, 3> translate{};
  double rotate_z_degrees = 0.0;
};

/// What a surface mesh holds, after placement. `closed` is true when it has no boundary edges
/// and no non-manifold edges (every edge shared by exactly two triangles).
struct MeshInfo {
  std::size_t points = 0;
  std::size_t triangles = 0;
  std::array<double, 6> bounds{};  // xmin, xmax, ymin, ymax, zmin, zmax
  std::size_t boundary_edges = 0;
  std::size_t non_manifold_edges = 0;
  bool closed = false;
};

/// Reads a surface mesh (format by extension, case-insensitive: .stl, .obj, .ply, .vtp; polygons
/// are split into triangles) and reports its size, bounds and whether it is closed.
/// Throws IoError naming the file when it is missing, of an unknown format, unreadable or empty.
MeshInfo inspect_mesh(const std::filesystem::path& mesh_file, const MeshPlacement& placement = {});

/// Marks in `mask` every owned cell whose centre lies inside the placed surface; cells already
/// solid stay solid. In 2D the centre (x, y) is tested at z = slice_z, so a 3D body gives its
/// cross-section. Each rank reads the file and tests only its own cells. Throws IoError naming the
/// file for the errors of inspect_mesh, and when the surface is not closed (an inside needs a
/// watertight mesh).
void add_mesh_obstacle(SolidMask& mask, const std::filesystem::path& mesh_file,
                       const MeshPlacement& placement = {}, double slice_z = 0.0);

}  // namespace fluxion
