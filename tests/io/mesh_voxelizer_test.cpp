// Tests of mesh import: the shipped meshes voxelize to the right solids, and bad meshes are refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <memory>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include "fluxion/core/error.hpp"
#include "fluxion/io/mesh_voxelizer.hpp"

namespace fluxion {
namespace {

namespace fs = std::filesystem;
using Vec3 = std::array<double, 3>;

fs::path mesh_path(const std::string& name) { return fs::path(FLUXION_SOURCE_DIR) / "meshes" / name; }

/// A fresh folder for files a test writes, removed with the object.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& test) {
    path = fs::temp_directory_path() / ("fluxion_mesh_" + test + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& file, const std::string& text) { std::ofstream(file) << text; }

/// The facets of an ASCII STL as its text blocks "facet ... endfacet\n".
std::vector<std::string> stl_facets(const std::string& text) {
  std::vector<std::string> facets;
  for (std::size_t at = text.find("facet normal"); at != std::string::npos; at = text.find("facet normal", at)) {
    const std::size_t end = text.find("endfacet", at) + std::string("endfacet\n").size();
    facets.push_back(text.substr(at, end - at));
    at = end;
  }
  return facets;
}

/// Volume enclosed by an ASCII STL, by the divergence theorem: sum over triangles of v0 . (v1 x v2) / 6.
double stl_volume(const fs::path& file) {
  std::istringstream in(read_text(file));
  std::vector<Vec3> v;
  for (std::string word; in >> word;)
    if (word == "vertex") {
      Vec3 p{};
      in >> p[0] >> p[1] >> p[2];
      v.push_back(p);
    }
  EXPECT_EQ(v.size() % 3, 0u);
  double volume = 0.0;
  for (std::size_t t = 0; t + 2 < v.size(); t += 3) {
    const Vec3 &a = v[t], &b = v[t + 1], &c = v[t + 2];
    volume += a[0] * (b[1] * c[2] - b[2] * c[1]) + a[1] * (b[2] * c[0] - b[0] * c[2]) +
              a[2] * (b[0] * c[1] - b[1] * c[0]);
  }
  return volume / 6.0;
}

std::shared_ptr<const Grid> cube_grid(MPI_Comm comm, PetscInt n, double half_width) {
  GridSpec spec;
  spec.dim = 3;
  spec.cells = {n, n, n};
  spec.lower = {-half_width, -half_width, -half_width};
  spec.upper = {half_width, half_width, half_width};
  return std::make_shared<Grid>(comm, spec);
}

std::shared_ptr<const Grid> plane_grid(PetscInt nx, PetscInt ny, Vec3 lower, Vec3 upper) {
  GridSpec spec;
  spec.dim = 2;
  spec.cells = {nx, ny, 1};
  spec.lower = lower;
  spec.upper = upper;
  return std::make_shared<Grid>(PETSC_COMM_WORLD, spec);
}

/// Calls f(centre, solid) for every owned cell of the mask.
void for_each_centre(const SolidMask& mask, const std::function<void(const Vec3&, bool)>& f) {
  const Grid& g = mask.grid();
  FieldReadArray a(mask.field());
  for_each_cell(g.owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
    f({g.center(0, i), g.center(1, j), g.dim() == 3 ? g.center(2, k) : 0.0}, a(i, j, k) > 0.5);
  });
}

double distance(const Vec3& x, const Vec3& c) {
  return std::sqrt((x[0] - c[0]) * (x[0] - c[0]) + (x[1] - c[1]) * (x[1] - c[1]) + (x[2] - c[2]) * (x[2] - c[2]));
}

/// Expects `f` to throw an IoError whose message contains every one of `parts`.
void expect_io_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no IoError thrown";
  } catch (const IoError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
  }
}

TEST(MeshVoxelizer, InspectReportsTheShippedMeshes) {
  const MeshInfo sphere = inspect_mesh(mesh_path("sphere.stl"));
  EXPECT_EQ(sphere.points, 642u);
  EXPECT_EQ(sphere.triangles, 1280u);
  EXPECT_TRUE(sphere.closed);
  for (int a = 0; a < 3; ++a) {
    EXPECT_NEAR(sphere.bounds[2 * a], -1.0, 1e-6);
    EXPECT_NEAR(sphere.bounds[2 * a + 1], 1.0, 1e-6);
  }
  const MeshInfo cylinder = inspect_mesh(mesh_path("cylinder.obj"));
  EXPECT_EQ(cylinder.triangles, 256u);
  EXPECT_TRUE(cylinder.closed);
  EXPECT_NEAR(cylinder.bounds[4], -0.5, 1e-12);
  EXPECT_NEAR(cylinder.bounds[5], 0.5, 1e-12);
  const MeshInfo wing = inspect_mesh(mesh_path("naca0012_wing.stl"));
  EXPECT_EQ(wing.triangles, 512u);
  EXPECT_TRUE(wing.closed);
  EXPECT_NEAR(wing.bounds[0], 0.0, 1e-12);
  EXPECT_NEAR(wing.bounds[1], 1.0, 1e-12);
  EXPECT_NEAR(wing.bounds[3], 0.06, 2e-3);  // 12% thick
}

TEST(MeshVoxelizer, SphereVolumeMatchesThePolyhedron) {
  const double exact = stl_volume(mesh_path("sphere.stl"));
  EXPECT_NEAR(exact, 4.0 / 3.0 * std::numbers::pi, 0.05);  // the icosphere is ~1% smaller than the ball

  auto grid = cube_grid(PETSC_COMM_WORLD, 40, 1.2);
  SolidMask mask(grid);
  add_mesh_obstacle(mask, mesh_path("sphere.stl"));
  const double h = grid->spacing(0);
  const double volume = static_cast<double>(mask.solid_cells()) * grid->cell_volume();
  EXPECT_NEAR(volume, exact, 0.02 * exact);
  for_each_centre(mask, [&](const Vec3& x, bool solid) {
    const double r = distance(x, {0, 0, 0});
    if (solid) {
      EXPECT_LE(r, 1.0 + h);
    } else {
      EXPECT_GE(r, 1.0 - 2 * h);
    }
  });
}

TEST(MeshVoxelizer, PlacementScalesRotatesAndTranslates) {
  const MeshInfo wing = inspect_mesh(mesh_path("naca0012_wing.stl"), {.scale = 2.0, .translate = {1, 0, 0},
                                                                       .rotate_z_degrees = 90.0});
  // (x, y) -> (-y, x) after scaling by 2, then shifted by 1 in x.
  EXPECT_NEAR(wing.bounds[0], 1.0 - 0.12, 4e-3);
  EXPECT_NEAR(wing.bounds[1], 1.0 + 0.12, 4e-3);
  EXPECT_NEAR(wing.bounds[2], 0.0, 1e-12);
  EXPECT_NEAR(wing.bounds[3], 2.0, 1e-12);
  EXPECT_NEAR(wing.bounds[4], -1.0, 1e-12);

  const Vec3 centre{0.4, -0.3, 0.2};
  auto grid = cube_grid(PETSC_COMM_WORLD, 40, 1.0);
  SolidMask mask(grid);
  add_mesh_obstacle(mask, mesh_path("sphere.stl"), {.scale = 0.5, .translate = centre});
  const double h = grid->spacing(0);
  const double exact = stl_volume(mesh_path("sphere.stl")) * 0.125;
  EXPECT_NEAR(static_cast<double>(mask.solid_cells()) * grid->cell_volume(), exact, 0.05 * exact);
  for_each_centre(mask, [&](const Vec3& x, bool solid) {
    const double r = distance(x, centre);
    if (solid) {
      EXPECT_LE(r, 0.5 + h);
    } else {
      EXPECT_GE(r, 0.5 - 2 * h);
    }
  });
}

TEST(MeshVoxelizer, CylinderSliceIn2DIsADisc) {
  auto grid = plane_grid(100, 100, {-0.6, -0.6, 0}, {0.6, 0.6, 0});
  const double polygon_area = 0.5 * 64 * 0.25 * std::sin(2 * std::numbers::pi / 64);  // the 64-gon, r = 0.5
  for (double z : {0.0, 0.45}) {
    SolidMask mask(grid);
    add_mesh_obstacle(mask, mesh_path("cylinder.obj"), {}, z);
    EXPECT_NEAR(static_cast<double>(mask.solid_cells()) * grid->cell_volume(), polygon_area, 0.02 * polygon_area)
        << "slice z = " << z;
  }
  SolidMask above(grid);
  add_mesh_obstacle(above, mesh_path("cylinder.obj"), {}, 0.6);
  EXPECT_TRUE(above.empty());
}

TEST(MeshVoxelizer, WingSliceHasTheAirfoilArea) {
  const double airfoil_area = stl_volume(mesh_path("naca0012_wing.stl"));  // span 1
  EXPECT_NEAR(airfoil_area, 0.0817, 1e-3);
  auto grid = plane_grid(360, 72, {-0.1, -0.12, 0}, {1.1, 0.12, 0});
  SolidMask mask(grid);
  add_mesh_obstacle(mask, mesh_path("naca0012_wing.stl"), {}, 0.1);
  EXPECT_NEAR(static_cast<double>(mask.solid_cells()) * grid->cell_volume(), airfoil_area, 0.03 * airfoil_area);
  for_each_centre(mask, [&](const Vec3& x, bool solid) {
    if (solid) {
      EXPECT_TRUE(x[0] > 0.0 && x[0] < 1.0 && std::abs(x[1]) < 0.061) << x[0] << ", " << x[1];
    }
  });
}

TEST(MeshVoxelizer, AllFormatsGiveTheSameCells) {
  TempDir tmp("formats");
  fs::copy_file(mesh_path("sphere.stl"), tmp.path / "SPHERE.STL");
  auto grid = cube_grid(PETSC_COMM_WORLD, 24, 1.2);
  SolidMask reference(grid);
  add_mesh_obstacle(reference, mesh_path("sphere.stl"));
  ASSERT_GT(reference.solid_cells(), 0);
  for (const fs::path& file : {mesh_path("sphere.obj"), mesh_path("sphere.ply"), mesh_path("sphere.vtp"),
                               tmp.path / "SPHERE.STL"}) {
    EXPECT_TRUE(inspect_mesh(file).closed) << file;
    SolidMask mask(grid);
    add_mesh_obstacle(mask, file);
    Field difference = mask.field();
    difference.axpy(-1.0, reference.field());
    EXPECT_EQ(difference.norm_max(), 0.0) << file;
  }
}

TEST(MeshVoxelizer, OpenSurfaceIsRejected) {
  TempDir tmp("open");
  const std::string text = read_text(mesh_path("sphere.stl"));
  const std::string facet = stl_facets(text).at(100);
  std::string open = text;
  open.erase(open.find(facet), facet.size());
  const fs::path file = tmp.path / "holed.stl";
  write_text(file, open);

  const MeshInfo info = inspect_mesh(file);
  EXPECT_EQ(info.triangles, 1279u);
  EXPECT_EQ(info.boundary_edges, 3u);
  EXPECT_FALSE(info.closed);
  auto grid = cube_grid(PETSC_COMM_WORLD, 8, 1.2);
  SolidMask mask(grid);
  expect_io_error([&] { add_mesh_obstacle(mask, file); },
                  {file.string(), "surface is not closed (3 boundary edges)", "watertight"});
  EXPECT_TRUE(mask.empty());
}

TEST(MeshVoxelizer, NonManifoldSurfaceIsRejected) {
  TempDir tmp("nonmanifold");
  std::string text = read_text(mesh_path("sphere.stl"));
  const std::string facet = stl_facets(text).at(7);
  text.insert(text.find(facet), facet);  // one triangle twice: its 3 edges now have 3 faces each
  const fs::path file = tmp.path / "doubled.stl";
  write_text(file, text);

  EXPECT_EQ(inspect_mesh(file).non_manifold_edges, 3u);
  auto grid = cube_grid(PETSC_COMM_WORLD, 8, 1.2);
  SolidMask mask(grid);
  expect_io_error([&] { add_mesh_obstacle(mask, file); }, {file.string(), "not closed", "3 non-manifold edges"});
}

TEST(MeshVoxelizer, BadFilesNameTheFile) {
  TempDir tmp("bad");
  auto grid = cube_grid(PETSC_COMM_WORLD, 8, 1.2);
  SolidMask mask(grid);

  const fs::path missing = tmp.path / "missing.stl";
  expect_io_error([&] { add_mesh_obstacle(mask, missing); }, {missing.string(), "not found"});
  expect_io_error([&] { inspect_mesh(missing); }, {missing.string(), "not found"});

  const fs::path unknown = tmp.path / "shape.xyz";
  write_text(unknown, "1 2 3\n");
  expect_io_error([&] { add_mesh_obstacle(mask, unknown); }, {unknown.string(), "unknown mesh format '.xyz'"});

  const fs::path empty = tmp.path / "empty.stl";
  write_text(empty, "");
  expect_io_error([&] { add_mesh_obstacle(mask, empty); }, {empty.string()});

  const fs::path no_faces = tmp.path / "points.obj";
  write_text(no_faces, "v 0 0 0\nv 1 0 0\nv 0 1 0\n");
  expect_io_error([&] { add_mesh_obstacle(mask, no_faces); }, {no_faces.string(), "no triangles"});

  const fs::path garbage = tmp.path / "garbage.vtp";
  write_text(garbage, "this is not XML\n");
  expect_io_error([&] { add_mesh_obstacle(mask, garbage); }, {garbage.string()});

  expect_io_error([&] { add_mesh_obstacle(mask, mesh_path("sphere.stl"), {.scale = -1.0}); },
                  {"sphere.stl", "scale"});
  EXPECT_TRUE(mask.empty());
}

TEST(MeshVoxelizer, MpiSphereCountMatchesSerial) {
  auto serial_grid = cube_grid(PETSC_COMM_SELF, 32, 1.2);
  SolidMask serial(serial_grid);
  add_mesh_obstacle(serial, mesh_path("sphere.stl"), {.scale = 0.9, .translate = {0.1, 0.0, -0.05}});
  auto grid = cube_grid(PETSC_COMM_WORLD, 32, 1.2);
  SolidMask mask(grid);
  add_mesh_obstacle(mask, mesh_path("sphere.stl"), {.scale = 0.9, .translate = {0.1, 0.0, -0.05}});
  EXPECT_GT(serial.solid_cells(), 0);
  EXPECT_EQ(mask.solid_cells(), serial.solid_cells());
}

}  // namespace
}  // namespace fluxion
