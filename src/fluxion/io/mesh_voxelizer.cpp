// Mesh import through VTK: read, place and check a surface, then mark the cells whose centres it encloses.
#include "fluxion/io/mesh_voxelizer.hpp"

#include <vtkCallbackCommand.h>
#include <vtkCleanPolyData.h>
#include <vtkCommand.h>
#include <vtkExecutive.h>
#include <vtkFeatureEdges.h>
#include <vtkOBJReader.h>
#include <vtkPLYReader.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkSTLReader.h>
#include <vtkSelectEnclosedPoints.h>
#include <vtkSmartPointer.h>
#include <vtkTransform.h>
#include <vtkTransformPolyDataFilter.h>
#include <vtkTriangleFilter.h>
#include <vtkXMLPolyDataReader.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "fluxion/core/error.hpp"

namespace fluxion {
namespace {

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

std::string lowercase_extension(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

vtkSmartPointer<vtkAbstractPolyDataReader> make_surface_reader(const std::filesystem::path& file,
                                                               const std::string& ext) {
  if (ext == ".stl") return vtkSmartPointer<vtkSTLReader>::New();
  if (ext == ".obj") return vtkSmartPointer<vtkOBJReader>::New();
  if (ext == ".ply") return vtkSmartPointer<vtkPLYReader>::New();
  throw IoError(file.string() + ": unknown mesh format '" + ext + "' (expected .stl, .obj, .ply or .vtp)");
}

/// Runs one algorithm and turns any error it reports into an IoError naming the file.
void update_or_throw(vtkAlgorithm* algorithm, const std::filesystem::path& file, const char* what) {
  auto observer = vtkSmartPointer<ErrorObserver>::New();
  algorithm->AddObserver(vtkCommand::ErrorEvent, observer);
  algorithm->GetExecutive()->AddObserver(vtkCommand::ErrorEvent, observer);
  // Readers warn about what they then cope with (an ASCII STL first tried as binary); only errors count.
  algorithm->AddObserver(vtkCommand::WarningEvent, vtkSmartPointer<vtkCallbackCommand>::New());
  algorithm->Update();
  if (!observer->message().empty()) throw IoError(file.string() + ": " + what + ": " + observer->message());
}

/// The placed surface as triangles with coincident points merged.
vtkSmartPointer<vtkPolyData> read_surface(const std::filesystem::path& file, const MeshPlacement& placement) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) throw IoError(file.string() + ": mesh file not found");
  const std::string ext = lowercase_extension(file);
  if (!(placement.scale > 0.0) || !std::isfinite(placement.scale))
    throw IoError(file.string() + ": mesh scale must be a positive number, got " + std::to_string(placement.scale));

  vtkSmartPointer<vtkAlgorithm> reader;
  if (ext == ".vtp") {
    auto xml = vtkSmartPointer<vtkXMLPolyDataReader>::New();
    xml->SetFileName(file.string().c_str());
    reader = xml;
  } else {
    auto surface_reader = make_surface_reader(file, ext);
    surface_reader->SetFileName(file.string().c_str());
    reader = surface_reader;
  }
  update_or_throw(reader, file, "cannot read mesh");

  // Merge duplicated points first (OBJ and PLY exporters often repeat them per face), so that
  // neighbouring triangles share edges; degenerate polygons collapse and are dropped below.
  auto clean = vtkSmartPointer<vtkCleanPolyData>::New();
  clean->SetInputConnection(reader->GetOutputPort());
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
  update_or_throw(place, file, "cannot read mesh");

  vtkSmartPointer<vtkPolyData> surface = place->GetOutput();
  if (surface->GetNumberOfPolys() == 0) throw IoError(file.string() + ": mesh has no triangles");
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

  // Only centres inside the surface's bounding box can be inside; test those in one VTK call.
  const Grid& grid = mask.grid();
  const IndexBox& box = grid.owned();
  const auto& b = info.bounds;
  std::vector<vtkIdType> candidate(static_cast<std::size_t>(box.size()), -1);
  auto centres = vtkSmartPointer<vtkPoints>::New();
  centres->SetDataTypeToDouble();
  std::size_t n = 0;
  for_each_cell(box, [&](PetscInt i, PetscInt j, PetscInt k) {
    const double x[3] = {grid.center(0, i), grid.center(1, j), grid.dim() == 3 ? grid.center(2, k) : slice_z};
    if (x[0] >= b[0] && x[0] <= b[1] && x[1] >= b[2] && x[1] <= b[3] && x[2] >= b[4] && x[2] <= b[5])
      candidate[n] = centres->InsertNextPoint(x);
    ++n;
  });
  if (centres->GetNumberOfPoints() == 0) return;

  auto cloud = vtkSmartPointer<vtkPolyData>::New();
  cloud->SetPoints(centres);
  auto select = vtkSmartPointer<vtkSelectEnclosedPoints>::New();
  select->SetInputData(cloud);
  select->SetSurfaceData(surface);
  select->CheckSurfaceOff();  // checked above, with a better message
  update_or_throw(select, mesh_file, "inside test failed");

  // SolidMask::add hands us cell centres; map each back to its owned-box offset.
  auto offset_of = [&](const std::array<double, 3>& x) {
    std::array<PetscInt, 3> index{0, 0, 0};
    for (int a = 0; a < grid.dim(); ++a)
      index[a] = static_cast<PetscInt>(std::floor((x[a] - grid.lower(a)) / grid.spacing(a))) - box.begin[a];
    return static_cast<std::size_t>((index[2] * box.extent(1) + index[1]) * box.extent(0) + index[0]);
  };
  mask.add([&](const std::array<double, 3>& x) {
    const vtkIdType id = candidate[offset_of(x)];
    return id >= 0 && select->IsInside(id) != 0;
  });
}

}  // namespace fluxion
