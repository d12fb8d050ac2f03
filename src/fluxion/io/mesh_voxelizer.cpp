// Mesh import: mesh_files reads a surface, VTK places and checks it; a scanline ray-parity voxelizer
// of ours marks the cells whose centres it encloses.
#include "fluxion/io/mesh_voxelizer.hpp"

#include <vtkCellArray.h>
#include <vtkCleanPolyData.h>
#include <vtkFeatureEdges.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkSmartPointer.h>
#include <vtkTransform.h>
#include <vtkTransformPolyDataFilter.h>
#include <vtkTriangleFilter.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "fluxion/core/error.hpp"
#include "fluxion/io/mesh_files.hpp"

namespace fluxion {
namespace {

/// The placed surface as triangles with coincident points merged.
vtkSmartPointer<vtkPolyData> read_surface(const std::filesystem::path& file, const MeshPlacement& placement) {
  if (!(placement.scale > 0.0) || !std::isfinite(placement.scale))
    throw IoError(file.string() + ": mesh scale must be a positive number, got " + std::to_string(placement.scale));

  vtkSmartPointer<vtkPolyData> raw = io_detail::read_mesh_file(file);

  // Merge duplicated points first (OBJ and PLY exporters often repeat them per face), so that
  // neighbouring triangles share edges; degenerate polygons collapse and are dropped below.
  auto clean = vtkSmartPointer<vtkCleanPolyData>::New();
  clean->SetInputData(raw);
  clean->PointMergingOn();
  clean->SetTolerance(0.0);
  auto triangles = vtkSmartPointer<vtkTriangleFilter>::New();
  triangles->SetInputConnection(clean->GetOutputPort());
  triangles->PassVertsOff();
  triangles->PassLinesOff();

  // VTK composes in pre-multiply order: the last call acts first on the points.
  auto transform = vtkSmartPointer<vtkTransform>::New();
  transform->Translate(placement.translate.data());
  transform->RotateZ(placement.rotate_z_degrees);
  transform->Scale(placement.scale, placement.scale, placement.scale);
  auto place = vtkSmartPointer<vtkTransformPolyDataFilter>::New();
  place->SetInputConnection(triangles->GetOutputPort());
  place->SetTransform(transform);
  place->SetOutputPointsPrecision(vtkAlgorithm::DOUBLE_PRECISION);
  io_detail::update_or_throw(place, file, "cannot read mesh");

  vtkSmartPointer<vtkPolyData> surface = place->GetOutput();
  if (surface->GetNumberOfPolys() == 0) throw IoError(file.string() + ": mesh has no triangles");
  // A scale or translation that overflows would make the inside test meaningless.
  vtkPoints* points = surface->GetPoints();
  for (vtkIdType i = 0; i < points->GetNumberOfPoints(); ++i) {
    double q[3];
    points->GetPoint(i, q);
    if (!std::isfinite(q[0]) || !std::isfinite(q[1]) || !std::isfinite(q[2]))
      throw IoError(file.string() + ": mesh coordinates overflow after placement (scale " +
                    std::to_string(placement.scale) + "); use a smaller scale or translation");
  }
  return surface;
}

std::size_t count_edges(vtkPolyData* surface, bool boundary) {
  auto edges = vtkSmartPointer<vtkFeatureEdges>::New();
  edges->SetInputData(surface);
  edges->FeatureEdgesOff();
  edges->ManifoldEdgesOff();
  edges->SetBoundaryEdges(boundary);
  edges->SetNonManifoldEdges(!boundary);
  edges->ColoringOff();
  edges->Update();
  return static_cast<std::size_t>(edges->GetOutput()->GetNumberOfLines());
}

MeshInfo describe(vtkPolyData* surface) {
  MeshInfo info;
  info.points = static_cast<std::size_t>(surface->GetNumberOfPoints());
  info.triangles = static_cast<std::size_t>(surface->GetNumberOfPolys());
  surface->GetBounds(info.bounds.data());
  info.boundary_edges = count_edges(surface, true);
  info.non_manifold_edges = count_edges(surface, false);
  info.closed = info.boundary_edges == 0 && info.non_manifold_edges == 0;
  return info;
}


// ---- The inside test: scanline ray parity with exact, simulation-of-simplicity tie-breaking ----
//
// Each grid row (fixed y, z of the cell centres; z = slice_z in 2D) is a line along x. Where it
// crosses the surface is decided in the (y, z) plane: the line meets a triangle when its point
// p = (y, z) lies inside the triangle's projection. Cells of the row whose centre has an odd number
// of crossings at or before it (x_crossing <= x_centre) are inside.
//
// Tie-breaking: p is tested as if moved by an infinitesimal (eps, eps^2) in (y, z), i.e. a point
// on no projected edge or vertex (simulation of simplicity). The orientation of p against the edge
// a -> b is then the sign of the first nonzero of
//     orient(a, b, p),   a.z - b.z,   b.y - a.y
// (the coefficients of 1, eps and eps^2 in orient(a, b, p + (eps, eps^2))), each taken exactly:
// orient by a floating-point filter with an exact expansion fallback, the other two by comparison.
// p is inside a triangle when its three edge signs are equal and nonzero. As orient(b, a, p) is
// -orient(a, b, p) exactly, a ray through an edge shared by two triangles that lie on opposite
// sides of it in projection is counted for exactly one of them, one through a vertex for as many
// triangles of its fan as a line just beside it, and a ray grazing a fold (both triangles on one
// side) 0 or 2 times; triangles parallel to x (zero projected area) never count. So
// the count along every row is that of a nearby generic line: even, and nothing is deduplicated by
// a tolerance. In effect a centre on the surface is classified like the point moved
// infinitesimally towards +x, +y and +z: an axis-aligned box whose corners are cell centres gets
// exactly the centres in [lo, hi) along each axis.
// The crossing x itself is rounded (barycentric interpolation, exact at vertices and whenever the
// exact value is representable), so a centre within rounding of a face may go either way.

/// A point of the (u, v) = (y, z) plane.
struct Point2 {
  double u, v;
};

void two_sum(double a, double b, double& sum, double& err) {
  sum = a + b;
  const double bv = sum - a;
  err = (a - (sum - bv)) + (b - bv);
}

/// Sign of sum(terms), exactly: Shewchuk's grow-expansion with zero elimination, then the sign of
/// the component of largest magnitude (the components of a nonoverlapping expansion).
int exact_sign(const std::array<double, 12>& terms) {
  std::array<double, 12> h{};
  std::size_t n = 0;
  for (double q : terms) {
    std::size_t m = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double sum = 0.0, err = 0.0;
      two_sum(q, h[i], sum, err);
      if (err != 0.0) h[m++] = err;
      q = sum;
    }
    if (q != 0.0) h[m++] = q;
    n = m;
  }
  double largest = 0.0;
  for (std::size_t i = 0; i < n; ++i)
    if (std::abs(h[i]) > std::abs(largest)) largest = h[i];
  return (largest > 0.0) - (largest < 0.0);
}

/// orient(a, b, c) = (b - a) x (c - a) in floating point; exact at c == a or c == b.
double orient_approx(const Point2& a, const Point2& b, const Point2& c) {
  return (b.u - a.u) * (c.v - a.v) - (b.v - a.v) * (c.u - a.u);
}

/// The exact sign of orient(a, b, c): a filter (Shewchuk's ccwerrboundA), else the exact sum of
/// a.u b.v - a.v b.u + b.u c.v - b.v c.u + c.u a.v - c.v a.u, each product split exactly by fma.
int orient_sign(const Point2& a, const Point2& b, const Point2& c) {
  const double left = (b.u - a.u) * (c.v - a.v);
  const double right = (b.v - a.v) * (c.u - a.u);
  const double det = left - right;
  constexpr double eps = std::numeric_limits<double>::epsilon() / 2;
  const double bound = (3.0 + 16.0 * eps) * eps * (std::abs(left) + std::abs(right));
  if (det > bound) return 1;
  if (-det > bound) return -1;
  std::array<double, 12> terms{};
  auto product = [&](std::size_t at, double x, double y) {
    terms[at] = x * y;
    terms[at + 1] = std::fma(x, y, -terms[at]);
  };
  product(0, a.u, b.v);
  product(2, -a.v, b.u);
  product(4, b.u, c.v);
  product(6, -b.v, c.u);
  product(8, c.u, a.v);
  product(10, -c.v, a.u);
  return exact_sign(terms);
}

/// Sign of orient(a, b, p + (eps, eps^2)) for infinitesimal eps (see the rule above); 0 only when
/// a and b coincide in projection.
int perturbed_sign(const Point2& a, const Point2& b, const Point2& p) {
  if (const int s = orient_sign(a, b, p); s != 0) return s;
  if (a.v != b.v) return a.v > b.v ? 1 : -1;
  if (a.u != b.u) return b.u > a.u ? 1 : -1;
  return 0;
}

/// A triangle ready for row tests: its projection, x at its corners and (y, z) bounding box.
struct RowTriangle {
  std::array<Point2, 3> p;
  std::array<double, 3> x;
  double umin, umax, vmin, vmax;
};

/// Where the line through `row` (along x) meets the triangle, or false when it misses it.
bool crossing(const RowTriangle& t, const Point2& row, double& x) {
  if (row.u < t.umin || row.u > t.umax || row.v < t.vmin || row.v > t.vmax) return false;
  const int s0 = perturbed_sign(t.p[1], t.p[2], row);  // weight of corner 0
  if (s0 == 0) return false;
  if (perturbed_sign(t.p[2], t.p[0], row) != s0 || perturbed_sign(t.p[0], t.p[1], row) != s0) return false;
  // Barycentric weights (sign-corrected, rounding noise clipped), interpolated from the heaviest
  // corner so that a line through a corner gets that corner's x exactly.
  std::array<double, 3> w{std::max(0.0, s0 * orient_approx(t.p[1], t.p[2], row)),
                          std::max(0.0, s0 * orient_approx(t.p[2], t.p[0], row)),
                          std::max(0.0, s0 * orient_approx(t.p[0], t.p[1], row))};
  const double total = w[0] + w[1] + w[2];
  const auto [lo, hi] = std::minmax({t.x[0], t.x[1], t.x[2]});
  if (!(total > 0.0)) {
    x = (t.x[0] + t.x[1] + t.x[2]) / 3.0;
  } else {
    const int m = static_cast<int>(std::max_element(w.begin(), w.end()) - w.begin());
    const int a = (m + 1) % 3, b = (m + 2) % 3;
    x = t.x[m] + (w[a] * (t.x[a] - t.x[m]) + w[b] * (t.x[b] - t.x[m])) / total;
  }
  x = std::clamp(x, lo, hi);
  return true;
}

/// 1 for every owned cell (in owned-box order) whose centre the closed surface encloses.
std::vector<unsigned char> voxelize_rows(vtkPolyData* surface, const Grid& grid, double slice_z) {
  const IndexBox& box = grid.owned();
  std::vector<unsigned char> solid(static_cast<std::size_t>(box.size()), 0);
  if (box.size() == 0) return solid;
  const bool three_d = grid.dim() == 3;
  const PetscInt k_begin = three_d ? box.begin[2] : 0, k_end = three_d ? box.end[2] : 1;
  auto row_z = [&](PetscInt k) { return three_d ? grid.center(2, k) : slice_z; };

  // The (y, z) window of this rank's rows that can meet the surface.
  std::array<double, 6> b{};
  surface->GetBounds(b.data());
  const double u0 = std::max(b[2], grid.center(1, box.begin[1])), u1 = std::min(b[3], grid.center(1, box.end[1] - 1));
  const double v0 = std::max(b[4], row_z(k_begin)), v1 = std::min(b[5], row_z(k_end - 1));
  if (!(u0 <= u1 && v0 <= v1)) return solid;

  // The triangles whose (y, z) box meets the window.
  std::vector<RowTriangle> triangles;
  vtkPoints* points = surface->GetPoints();
  vtkCellArray* polys = surface->GetPolys();
  vtkIdType n_ids = 0;
  const vtkIdType* ids = nullptr;
  for (polys->InitTraversal(); polys->GetNextCell(n_ids, ids);) {
    if (n_ids != 3) continue;  // the triangle filter leaves only triangles
    RowTriangle t{};
    for (int c = 0; c < 3; ++c) {
      double q[3];
      points->GetPoint(ids[c], q);
      t.p[c] = {q[1], q[2]};
      t.x[c] = q[0];
    }
    t.umin = std::min({t.p[0].u, t.p[1].u, t.p[2].u});
    t.umax = std::max({t.p[0].u, t.p[1].u, t.p[2].u});
    t.vmin = std::min({t.p[0].v, t.p[1].v, t.p[2].v});
    t.vmax = std::max({t.p[0].v, t.p[1].v, t.p[2].v});
    if (t.umax < u0 || t.umin > u1 || t.vmax < v0 || t.vmin > v1) continue;
    triangles.push_back(t);
  }
  if (triangles.empty()) return solid;

  // Bins over the window, about sqrt(T) per axis; a triangle goes to every bin its box touches.
  // bin_of is monotone in its coordinate, so a row inside a triangle's box finds it in its bin.
  const auto side = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(triangles.size()))));
  int nu = std::clamp(side, 1, static_cast<int>(box.extent(1)));
  int nv = three_d ? std::clamp(side, 1, static_cast<int>(box.extent(2))) : 1;
  auto bin_of = [](double c, double lo, double hi, int n) {
    if (n == 1 || !(hi > lo)) return 0;
    const double at = std::floor((c - lo) / (hi - lo) * n);  // clamped as a double: no overflow in the cast
    return static_cast<int>(std::clamp(at, 0.0, static_cast<double>(n - 1)));
  };
  // Triangles much larger than the grid's cells (a mesh of absurd size for the grid) would each
  // fill many bins: coarsen the bins until the lists stay within a few entries per triangle.
  auto entries = [&] {
    std::uint64_t n = 0;
    for (const RowTriangle& t : triangles)
      n += std::uint64_t(bin_of(t.umax, u0, u1, nu) - bin_of(t.umin, u0, u1, nu) + 1) *
           std::uint64_t(bin_of(t.vmax, v0, v1, nv) - bin_of(t.vmin, v0, v1, nv) + 1);
    return n;
  };
  while ((nu > 1 || nv > 1) && entries() > 16 * triangles.size() + 4096) {
    nu = (nu + 1) / 2;
    nv = (nv + 1) / 2;
  }
  std::vector<std::size_t> start(static_cast<std::size_t>(nu * nv) + 1, 0);
  auto for_each_bin = [&](const RowTriangle& t, auto&& f) {
    for (int bv = bin_of(t.vmin, v0, v1, nv); bv <= bin_of(t.vmax, v0, v1, nv); ++bv)
      for (int bu = bin_of(t.umin, u0, u1, nu); bu <= bin_of(t.umax, u0, u1, nu); ++bu)
        f(static_cast<std::size_t>(bv * nu + bu));
  };
  for (const RowTriangle& t : triangles) for_each_bin(t, [&](std::size_t bin) { ++start[bin + 1]; });
  for (std::size_t i = 1; i < start.size(); ++i) start[i] += start[i - 1];
  std::vector<std::uint32_t> members(start.back());
  std::vector<std::size_t> fill(start.begin(), start.end() - 1);
  for (std::size_t t = 0; t < triangles.size(); ++t)
    for_each_bin(triangles[t], [&](std::size_t bin) { members[fill[bin]++] = static_cast<std::uint32_t>(t); });

  // Each row: crossings, sorted; then a sweep along the row's owned cells.
  std::vector<double> xs;
  const PetscInt ni = box.extent(0);
  for (PetscInt k = k_begin; k < k_end; ++k) {
    const double v = row_z(k);
    if (v < v0 || v > v1) continue;
    for (PetscInt j = box.begin[1]; j < box.end[1]; ++j) {
      const double u = grid.center(1, j);
      if (u < u0 || u > u1) continue;
      const Point2 row{u, v};
      const std::size_t bin = static_cast<std::size_t>(bin_of(v, v0, v1, nv) * nu + bin_of(u, u0, u1, nu));
      xs.clear();
      for (std::size_t m = start[bin]; m < start[bin + 1]; ++m)
        if (double x = 0.0; crossing(triangles[members[m]], row, x)) xs.push_back(x);
      // Even for a closed surface (see the rule above); an odd count could only come from
      // underflow in a degenerate sliver, and then the last crossing is dropped.
      if (xs.size() % 2 != 0) xs.pop_back();
      if (xs.empty()) continue;
      std::sort(xs.begin(), xs.end());
      unsigned char* out = solid.data() + ((k - k_begin) * box.extent(1) + (j - box.begin[1])) * ni;
      std::size_t behind = 0;  // crossings at or before the centre
      for (PetscInt i = 0; i < ni; ++i) {
        const double x = grid.center(0, box.begin[0] + i);
        while (behind < xs.size() && xs[behind] <= x) ++behind;
        if (behind == xs.size()) break;
        out[i] = static_cast<unsigned char>(behind % 2);
      }
    }
  }
  return solid;
}

}  // namespace

MeshInfo inspect_mesh(const std::filesystem::path& mesh_file, const MeshPlacement& placement) {
  return describe(read_surface(mesh_file, placement));
}

void add_mesh_obstacle(SolidMask& mask, const std::filesystem::path& mesh_file, const MeshPlacement& placement,
                       double slice_z) {
  vtkSmartPointer<vtkPolyData> surface = read_surface(mesh_file, placement);
  const MeshInfo info = describe(surface);
  if (!info.closed) {
    std::string counts;
    if (info.boundary_edges > 0) counts = std::to_string(info.boundary_edges) + " boundary edges";
    if (info.non_manifold_edges > 0)
      counts += (counts.empty() ? "" : ", ") + std::to_string(info.non_manifold_edges) + " non-manifold edges";
    throw IoError(mesh_file.string() + ": surface is not closed (" + counts +
                  "); obstacles need a watertight mesh");
  }

  // Mark the owned cells row by row (see voxelize_rows), then hand them to the mask.
  const Grid& grid = mask.grid();
  const IndexBox& box = grid.owned();
  const std::vector<unsigned char> solid = voxelize_rows(surface, grid, slice_z);

  // SolidMask::add hands us cell centres; map each back to its owned-box offset.
  auto offset_of = [&](const std::array<double, 3>& x) {
    std::array<PetscInt, 3> index{0, 0, 0};
    for (int a = 0; a < grid.dim(); ++a)
      index[a] = static_cast<PetscInt>(std::floor((x[a] - grid.lower(a)) / grid.spacing(a))) - box.begin[a];
    return static_cast<std::size_t>((index[2] * box.extent(1) + index[1]) * box.extent(0) + index[0]);
  };
  mask.add([&](const std::array<double, 3>& x) { return solid[offset_of(x)] != 0; });
}

}  // namespace fluxion
