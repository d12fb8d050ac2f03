// Tests of mesh import: the shipped meshes voxelize to the right solids, and bad meshes are refused.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vtkCellLocator.h>
#include <vtkCleanPolyData.h>
#include <vtkOBJReader.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkSTLReader.h>
#include <vtkSelectEnclosedPoints.h>
#include <vtkSmartPointer.h>
#include <vtkTransform.h>
#include <vtkTransformPolyDataFilter.h>
#include <vtkTriangleFilter.h>
#include <vtkXMLPolyDataReader.h>
#include <vtkXMLPolyDataWriter.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
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

/// A grid of n cells of width h per axis from `lower`; with dyadic lower and h every centre is exact.
std::shared_ptr<const Grid> lattice(int dim, Vec3 lower, double h, std::array<PetscInt, 3> n) {
  GridSpec spec;
  spec.dim = dim;
  spec.cells = n;
  spec.lower = lower;
  for (int a = 0; a < 3; ++a) spec.upper[a] = lower[a] + static_cast<double>(n[a]) * h;
  return std::make_shared<Grid>(PETSC_COMM_WORLD, spec);
}

/// The placed surface as add_mesh_obstacle reads it (the same VTK pipeline), for the reference.
vtkSmartPointer<vtkPolyData> placed_surface(const fs::path& file, const MeshPlacement& placement) {
  vtkSmartPointer<vtkAbstractPolyDataReader> reader;
  if (file.extension() == ".obj") {
    reader = vtkSmartPointer<vtkOBJReader>::New();
  } else {
    reader = vtkSmartPointer<vtkSTLReader>::New();
  }
  reader->SetFileName(file.string().c_str());
  auto clean = vtkSmartPointer<vtkCleanPolyData>::New();
  clean->SetInputConnection(reader->GetOutputPort());
  clean->PointMergingOn();
  clean->SetTolerance(0.0);
  auto triangles = vtkSmartPointer<vtkTriangleFilter>::New();
  triangles->SetInputConnection(clean->GetOutputPort());
  auto transform = vtkSmartPointer<vtkTransform>::New();
  transform->Translate(placement.translate.data());
  transform->RotateZ(placement.rotate_z_degrees);
  transform->Scale(placement.scale, placement.scale, placement.scale);
  auto place = vtkSmartPointer<vtkTransformPolyDataFilter>::New();
  place->SetInputConnection(triangles->GetOutputPort());
  place->SetTransform(transform);
  place->SetOutputPointsPrecision(vtkAlgorithm::DOUBLE_PRECISION);
  place->Update();
  return place->GetOutput();
}

/// How add_mesh_obstacle and vtkSelectEnclosedPoints compare on the owned cells of a grid.
struct Agreement {
  long long cells = 0, solid = 0;
  long long on_surface = 0;         // centres within 1e-9 of the surface
  long long differ_on_surface = 0;  // cells the two disagree on, their centre within 1e-9 of the surface
  long long differ_elsewhere = 0;   // cells the two disagree on, anywhere else (must be none)
};

Agreement compare_with_vtk(const fs::path& file, const MeshPlacement& placement,
                           const std::shared_ptr<const Grid>& grid) {
  SolidMask mask(grid);
  add_mesh_obstacle(mask, file, placement);
  const auto surface = placed_surface(file, placement);
  auto centres = vtkSmartPointer<vtkPoints>::New();
  centres->SetDataTypeToDouble();
  std::vector<bool> ours;
  for_each_centre(mask, [&](const Vec3& x, bool solid) {
    centres->InsertNextPoint(x.data());
    ours.push_back(solid);
  });
  auto cloud = vtkSmartPointer<vtkPolyData>::New();
  cloud->SetPoints(centres);
  auto select = vtkSmartPointer<vtkSelectEnclosedPoints>::New();
  select->SetInputData(cloud);
  select->SetSurfaceData(surface);
  // VTK's default tolerance (1e-4 of the bounds' diagonal) calls centres ~5e-5 outside the wing inside.
  select->SetTolerance(1e-12);
  select->Update();
  auto locator = vtkSmartPointer<vtkCellLocator>::New();
  locator->SetDataSet(surface);
  locator->BuildLocator();

  Agreement agreement;
  for (vtkIdType id = 0; id < centres->GetNumberOfPoints(); ++id) {
    double x[3], closest[3], dist2 = 0.0;
    centres->GetPoint(id, x);
    vtkIdType cell = 0;
    int sub = 0;
    locator->FindClosestPoint(x, closest, cell, sub, dist2);
    const bool on_surface = std::sqrt(dist2) <= 1e-9;
    const bool vtk_solid = select->IsInside(id) != 0;
    ++agreement.cells;
    agreement.solid += ours[id] ? 1 : 0;
    agreement.on_surface += on_surface ? 1 : 0;
    if (vtk_solid == ours[id]) continue;
    if (on_surface) {
      ++agreement.differ_on_surface;
    } else if (++agreement.differ_elsewhere <= 5) {
      ADD_FAILURE() << file.filename() << ": centre (" << x[0] << ", " << x[1] << ", " << x[2]
                    << ") at distance " << std::sqrt(dist2) << " from the surface: ours " << ours[id]
                    << ", VTK " << vtk_solid;
    }
  }
  return agreement;
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

// What ParaView's "Save Data" writes by default: appended raw, zlib-compressed. With a current
// Debian 12 expat (reparse deferral) VTK 9.2's own reader fails on it; fluxion's must not.
TEST(MeshVoxelizer, AnAppendedRawVtpAsParaViewSavesItGivesTheSameCells) {
  TempDir tmp("appended");
  auto original = vtkSmartPointer<vtkXMLPolyDataReader>::New();
  original->SetFileName(mesh_path("sphere.vtp").c_str());
  original->Update();
  ASSERT_GT(original->GetOutput()->GetNumberOfPolys(), 0);
  const fs::path file = tmp.path / "saved by paraview.vtp";
  auto writer = vtkSmartPointer<vtkXMLPolyDataWriter>::New();
  writer->SetFileName(file.c_str());
  writer->SetInputData(original->GetOutput());
  writer->SetDataModeToAppended();
  writer->EncodeAppendedDataOff();
  writer->SetCompressorTypeToZLib();
  ASSERT_EQ(writer->Write(), 1);
  ASSERT_NE(read_text(file).find("<AppendedData encoding=\"raw\">"), std::string::npos);

  auto grid = cube_grid(PETSC_COMM_WORLD, 24, 1.2);
  SolidMask reference(grid), mask(grid);
  add_mesh_obstacle(reference, mesh_path("sphere.stl"));
  add_mesh_obstacle(mask, file);
  ASSERT_GT(reference.solid_cells(), 0);
  Field difference = mask.field();
  difference.axpy(-1.0, reference.field());
  EXPECT_EQ(difference.norm_max(), 0.0);
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

void write_bytes(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string u32_bytes(std::uint32_t v) {
  std::string b(4, '\0');
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return b;
}

/// A binary STL of the given triangles (normals zero, little-endian floats) after an 80-byte header.
std::string binary_stl(const std::string& header, const std::vector<std::array<Vec3, 3>>& triangles) {
  std::string bytes = header;
  bytes.resize(80, ' ');
  bytes += u32_bytes(static_cast<std::uint32_t>(triangles.size()));
  for (const auto& t : triangles) {
    bytes += std::string(12, '\0');
    for (const Vec3& v : t)
      for (double c : v) {
        const float f = static_cast<float>(c);
        std::uint32_t u;
        std::memcpy(&u, &f, 4);
        bytes += u32_bytes(u);
      }
    bytes += std::string(2, '\0');
  }
  return bytes;
}

/// Runs inspect_mesh(file) in a forked child whose address space may grow by at most 256 MiB over
/// the parent's, so that a reader that trusts a hostile count fails (or dies) instead of taking
/// the machine's memory. Returns the IoError's message; any other outcome is a test failure.
std::string inspect_error_in_limited_child(const fs::path& file) {
  long pages = 0;
  std::ifstream("/proc/self/statm") >> pages;
  const rlim_t limit = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + (256u << 20);
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    rlimit r{limit, limit};
    ::setrlimit(RLIMIT_AS, &r);
    std::string message;
    int code = 0;
    try {
      inspect_mesh(file);
      message = "no error";
      code = 3;
    } catch (const IoError& e) {
      message = e.what();
    } catch (const std::exception& e) {
      message = std::string("not an IoError: ") + e.what();
      code = 4;
    }
    if (::write(fds[1], message.data(), message.size()) < 0) code = 5;
    ::_exit(code);  // no destructors, no MPI: the parent owns those
  }
  ::close(fds[1]);
  std::string message;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) message.append(buffer, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << file << ": child " << (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                                    : "exit " + std::to_string(WEXITSTATUS(status)))
      << ": " << message;
  return message;
}

/// Each hostile file gives one IoError that names it and says what is wrong, before anything is
/// allocated for what the file merely claims.
TEST(MeshVoxelizer, HostileFilesGiveOneClearErrorWithoutAllocating) {
  TempDir tmp("hostile");
  struct Case {
    std::string name, bytes;
    std::vector<std::string> parts;
  };
  const std::string ply_header = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                                 "property float z\nelement face 1\n";
  std::string vtp = read_text(mesh_path("sphere.vtp"));
  std::string lying_vtp = vtp;
  lying_vtp.replace(lying_vtp.find("NumberOfPoints=\"642\""), 20, "NumberOfPoints=\"2000000000\"");
  const std::string stl = read_text(mesh_path("sphere.stl"));
  const std::vector<Case> cases = {
      // The file: 80 zero bytes, a count of 0x7fffffff, 100 bytes of data.
      {"huge.stl", std::string(80, '\0') + u32_bytes(0x7fffffff) + std::string(100, '\0'),
       {"binary STL header declares 2147483647 triangles", "84 + 50 x 2147483647 = 107374182434 bytes",
        "the file has 184 bytes"}},
      {"solid_binary.stl", "solid but binary" + std::string(64, '\0') + u32_bytes(1000) + std::string(50, '\1'),
       {"declares 1000 triangles", "starts with 'solid' but holds binary bytes"}},
      {"short.stl", "hello", {"not an STL file: 5 bytes"}},
      {"truncated.stl", stl.substr(0, stl.size() / 2), {"line ", "expected"}},
      {"nan.stl", "solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 nan\n", {"line 4", "finite number"}},
      {"absurd.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 2000000000\nf 1 2 4\n",
       {"line 5", "face vertex index 2000000000 is out of range (the file has 4 vertices)"}},
      {"backwards.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf -1 -2 -2000000000\n", {"line 4", "counts back past the first"}},
      {"binary.obj", std::string("v 0 0 0\n\x01\x02\x03\xff garbage\n", 21), {"line 2", "not text", "not an OBJ"}},
      {"words.obj", "hello\nworld\n", {"no vertex ('v') or face ('f') lines"}},
      {"huge_count.ply", "ply\nformat ascii 1.0\nelement vertex 2000000000\nproperty float x\nproperty float y\n"
                         "property float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n"
                         "0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n",
       {"element 'vertex' declares 2000000000 entries", "bytes follow the header"}},
      {"huge_list.ply", ply_header + "property list int int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n"
                                     "2000000000 0 1 2\n",
       {"element 'face' entry 0", "declares 2000000000 items"}},
      {"bad_index.ply", ply_header + "property list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n"
                                     "3 0 1 2000000\n",
       {"vertex index 2000000 is out of range (the file has 3 vertices)"}},
      {"no_end.ply", "ply\nformat ascii 1.0\nelement vertex 3\n", {"no end_header"}},
      {"truncated.vtp", vtp.substr(0, vtp.size() / 2), {"truncated", "</VTKFile>"}},
      {"lying.vtp", lying_vtp, {"declares NumberOfPoints=2000000000", "more than a file of"}},
      {"empty.obj", "", {"is empty"}},
  };
  for (const Case& c : cases) {
    const fs::path file = tmp.path / c.name;
    write_bytes(file, c.bytes);
    const std::string message = inspect_error_in_limited_child(file);
    EXPECT_EQ(message.rfind(file.string() + ": ", 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    for (const auto& part : c.parts) EXPECT_NE(message.find(part), std::string::npos) << c.name << ": " << message;
  }

  // Not files: a folder, a FIFO (reading it would block) and a link to /dev/zero (it never ends).
  fs::create_directory(tmp.path / "folder.stl");
  ASSERT_EQ(::mkfifo((tmp.path / "fifo.stl").c_str(), 0600), 0);
  fs::create_symlink("/dev/zero", tmp.path / "zero.ply");
  for (const auto& [name, part] : std::vector<std::pair<std::string, std::string>>{
           {"folder.stl", "is a folder"}, {"fifo.stl", "not a regular file"}, {"zero.ply", "not a regular file"}})
    expect_io_error([&] { inspect_mesh(tmp.path / name); }, {(tmp.path / name).string(), part});
}

/// Files VTK would misread: a binary STL whose header starts with "solid", and an ASCII STL whose
/// name is UTF-8 (VTK takes its non-ASCII bytes for a binary file).
TEST(MeshVoxelizer, StlTypeIsToldByContent) {
  TempDir tmp("stl_type");
  const std::vector<std::array<Vec3, 3>> tetrahedron = {{{{0, 0, 0}, {0, 1, 0}, {1, 0, 0}}},
                                                        {{{0, 0, 0}, {1, 0, 0}, {0, 0, 1}}},
                                                        {{{0, 0, 0}, {0, 0, 1}, {0, 1, 0}}},
                                                        {{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}};
  const fs::path binary = tmp.path / "solid_header.stl";
  write_bytes(binary, binary_stl("solid tetrahedron written as binary", tetrahedron));
  const MeshInfo t = inspect_mesh(binary);
  EXPECT_EQ(t.points, 4u);
  EXPECT_EQ(t.triangles, 4u);
  EXPECT_TRUE(t.closed);

  const fs::path utf8 = tmp.path / "utf8.stl";
  std::string text = read_text(mesh_path("sphere.stl"));
  text.replace(0, std::string("solid sphere").size(), "solid Kugel \xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc");
  write_text(utf8, text);
  const MeshInfo sphere = inspect_mesh(utf8);
  EXPECT_EQ(sphere.points, 642u);
  EXPECT_EQ(sphere.triangles, 1280u);
  EXPECT_TRUE(sphere.closed);
}

/// A mesh far larger or smaller than the grid, or one whose placement overflows.
TEST(MeshVoxelizer, MeshesOfAbsurdSizeForTheGrid) {
  auto grid = cube_grid(PETSC_COMM_WORLD, 16, 1.0);
  SolidMask huge(grid);
  add_mesh_obstacle(huge, mesh_path("sphere.stl"), {.scale = 1e6});  // the grid lies deep inside
  EXPECT_EQ(huge.solid_cells(), grid->global_cells());
  SolidMask tiny(grid);
  add_mesh_obstacle(tiny, mesh_path("sphere.stl"), {.scale = 1e-9});  // between the cell centres
  EXPECT_EQ(tiny.solid_cells(), 0);
  SolidMask overflow(grid);
  expect_io_error([&] { add_mesh_obstacle(overflow, mesh_path("sphere.stl"), {.scale = 1e308, .translate = {1.7e308, 0, 0}}); },
                  {"sphere.stl", "overflow after placement"});
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

/// The counts of an Agreement summed over the ranks.
Agreement sum_over_ranks(Agreement a) {
  long long v[5] = {a.cells, a.solid, a.on_surface, a.differ_on_surface, a.differ_elsewhere};
  MPI_Allreduce(MPI_IN_PLACE, v, 5, MPI_LONG_LONG, MPI_SUM, PETSC_COMM_WORLD);
  return {v[0], v[1], v[2], v[3], v[4]};
}

TEST(MeshVoxelizer, MatchesVtkSelectEnclosedPointsOffTheSurface) {
  struct Case {
    std::string mesh;
    MeshPlacement placement;
    std::shared_ptr<const Grid> grid;
    bool centres_on_surface;  // the placement puts cell centres exactly on vertices, edges or faces
  };
  const double e = 1.0 / 8, s = 1.0 / 16, w = 1.0 / 32;
  const std::vector<Case> cases = {
      // Centres on multiples of 1/8: rows through the vertices (+-1, 0, 0), (0, 0, +-1), (-0.5, ...).
      {"sphere.stl", {}, lattice(3, {-8.5 * e, -8.5 * e, -8.5 * e}, e, {17, 17, 17}), true},
      // Half size, its vertex (-1, 0, 0) moved to the centre (-0.25, 0.5, 0) of the 1/16 lattice.
      {"sphere.stl", {.scale = 0.5, .translate = {0.25, 0.5, 0.0}},
       lattice(3, {-5.5 * s, -1.5 * s, -9.5 * s}, s, {19, 19, 19}), true},
      {"sphere.stl", {.scale = 0.9, .translate = {0.1, 0.0, -0.05}}, lattice(3, {-1.2, -1.2, -1.2}, 0.1, {24, 24, 24}),
       false},
      // Caps at z = +-0.5 on centre planes, rows through the cap centres, the fan edges and the side
      // vertices (+-0.5, 0, z).
      {"cylinder.obj", {}, lattice(3, {-6.5 * e, -6.5 * e, -6.5 * e}, e, {13, 13, 13}), true},
      {"cylinder.obj", {.scale = 2.0, .translate = {0.25, -0.25, 0.5}, .rotate_z_degrees = 30.0},
       lattice(3, {-8.5 * e, -12.5 * e, -6.5 * e}, e, {19, 19, 22}), true},
      // Leading edge x = 0 and trailing edge x = 1 on the row y = 0; end caps z = +-0.5 on centre planes.
      {"naca0012_wing.stl", {}, lattice(3, {-4.5 * w, -4.5 * w, -18.5 * w}, w, {41, 9, 37}), true},
      {"naca0012_wing.stl", {.scale = 1.5, .rotate_z_degrees = 8.0}, lattice(3, {-0.1, -0.15, -0.8}, 0.05, {34, 9, 32}),
       false},
  };
  for (const Case& c : cases) {
    const Agreement a = sum_over_ranks(compare_with_vtk(mesh_path(c.mesh), c.placement, c.grid));
    SCOPED_TRACE(c.mesh + " at scale " + std::to_string(c.placement.scale));
    EXPECT_EQ(a.cells, c.grid->global_cells());
    EXPECT_GT(a.solid, 0);
    EXPECT_EQ(a.differ_elsewhere, 0);
    EXPECT_LE(a.differ_on_surface, a.on_surface);
    if (c.centres_on_surface) {
      EXPECT_GT(a.on_surface, 0);
    }
    int rank = 0;
    MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
    if (rank == 0)
      std::cout << "[ vs VTK   ] " << c.mesh << " scale " << c.placement.scale << ": " << a.cells << " cells, "
                << a.solid << " solid, " << a.on_surface << " centres on the surface, " << a.differ_on_surface
                << " of them differ, " << a.differ_elsewhere << " differ elsewhere\n";
  }
}

using Triangle = std::array<Vec3, 3>;

/// Writes triangles as an ASCII STL, each turned to face away from `inside`.
void write_stl(const fs::path& file, std::vector<Triangle> triangles, const Vec3& inside) {
  std::ostringstream out;
  out.precision(17);
  out << "solid test\n";
  for (Triangle& t : triangles) {
    Vec3 u{}, v{}, n{};
    for (int a = 0; a < 3; ++a) {
      u[a] = t[1][a] - t[0][a];
      v[a] = t[2][a] - t[0][a];
    }
    n = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
    double outward = 0.0;
    for (int a = 0; a < 3; ++a) outward += n[a] * (t[0][a] - inside[a]);
    if (outward < 0) std::swap(t[1], t[2]);
    out << "facet normal 0 0 0\nouter loop\n";
    for (const Vec3& p : t) out << "vertex " << p[0] << " " << p[1] << " " << p[2] << "\n";
    out << "endloop\nendfacet\n";
  }
  out << "endsolid test\n";
  write_text(file, out.str());
}

/// The 12 triangles of the box [lo, hi]^3, each face split along a diagonal.
std::vector<Triangle> cube_triangles(double lo, double hi) {
  std::vector<Triangle> triangles;
  for (int a = 0; a < 3; ++a) {
    const int b = (a + 1) % 3, c = (a + 2) % 3;
    for (double side : {lo, hi}) {
      auto corner = [&](double cb, double cc) {
        Vec3 p{};
        p[a] = side;
        p[b] = cb;
        p[c] = cc;
        return p;
      };
      triangles.push_back({corner(lo, lo), corner(hi, lo), corner(hi, hi)});
      triangles.push_back({corner(lo, lo), corner(hi, hi), corner(lo, hi)});
    }
  }
  return triangles;
}

/// The 8 triangles of the octahedron |x - c|_1 <= r.
std::vector<Triangle> octahedron_triangles(const Vec3& c, double r) {
  std::vector<Triangle> triangles;
  for (double sx : {-r, r})
    for (double sy : {-r, r})
      for (double sz : {-r, r})
        triangles.push_back({Vec3{c[0] + sx, c[1], c[2]}, Vec3{c[0], c[1] + sy, c[2]}, Vec3{c[0], c[1], c[2] + sz}});
  return triangles;
}

// Rows along x that run exactly through vertices and edges, and cell centres exactly on faces:
// bodies whose corners are cell centres. The tie-breaking rule classifies a centre on the surface
// like the point moved infinitesimally towards +x, +y, +z, which gives exact counts.
TEST(MeshVoxelizer, MpiGrazingRowsThroughEdgesAndVerticesCountExactly) {
  TempDir tmp("grazing");
  auto grid = lattice(3, {0, 0, 0}, 1.0, {10, 10, 10});  // centres at 0.5, 1.5, ..., 9.5

  // Cube [2.5, 6.5]^3: rows along its 4 x-edges and through the diagonals of its x-faces, rows
  // lying in its y- and z-faces, centres on its x-faces. Solid: the centres in [2.5, 6.5) per axis.
  const fs::path cube = tmp.path / "cube.stl";
  write_stl(cube, cube_triangles(2.5, 6.5), {4.5, 4.5, 4.5});
  ASSERT_TRUE(inspect_mesh(cube).closed);
  SolidMask cube_mask(grid);
  add_mesh_obstacle(cube_mask, cube);
  EXPECT_EQ(cube_mask.solid_cells(), 4 * 4 * 4);
  for_each_centre(cube_mask, [&](const Vec3& x, bool solid) {
    const bool expected = x[0] >= 2.5 && x[0] < 6.5 && x[1] >= 2.5 && x[1] < 6.5 && x[2] >= 2.5 && x[2] < 6.5;
    EXPECT_EQ(solid, expected) << x[0] << ", " << x[1] << ", " << x[2];
  });

  // Octahedron |x - (4.5, 4.5, 4.5)|_1 <= 3: rows through its 6 vertices and along and across its
  // 12 skew edges. Solid: the 25 centres with |d|_1 < 3, and of the 38 on the surface the 13 with
  // d_x < 0 (moved by +x they are inside); d = x - centre.
  const fs::path octahedron = tmp.path / "octahedron.stl";
  write_stl(octahedron, octahedron_triangles({4.5, 4.5, 4.5}, 3.0), {4.5, 4.5, 4.5});
  ASSERT_TRUE(inspect_mesh(octahedron).closed);
  SolidMask octahedron_mask(grid);
  add_mesh_obstacle(octahedron_mask, octahedron);
  EXPECT_EQ(octahedron_mask.solid_cells(), 25 + 13);
  for_each_centre(octahedron_mask, [&](const Vec3& x, bool solid) {
    const Vec3 d{x[0] - 4.5, x[1] - 4.5, x[2] - 4.5};
    const double norm = std::abs(d[0]) + std::abs(d[1]) + std::abs(d[2]);
    EXPECT_EQ(solid, norm < 3.0 || (norm == 3.0 && d[0] < 0.0)) << x[0] << ", " << x[1] << ", " << x[2];
  });

  // 2D slices exactly through the cube's lower and upper faces: [2.5, 6.5) again.
  auto plane = lattice(2, {0, 0, 0}, 1.0, {10, 10, 1});
  for (const auto& [z, cells] : {std::pair{2.5, 16LL}, std::pair{6.5, 0LL}, std::pair{4.5, 16LL}}) {
    SolidMask slice(plane);
    add_mesh_obstacle(slice, cube, {}, z);
    EXPECT_EQ(slice.solid_cells(), cells) << "slice z = " << z;
  }
}

}  // namespace
}  // namespace fluxion
