// VTK ImageData output through vtkXMLImageDataWriter, gathered to rank 0.
#include "fluxion/io/vti_writer.hpp"

#include <petscdmda.h>
#include <vtkCellData.h>
#include <vtkDataSetAttributes.h>
#include <vtkDoubleArray.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkUnsignedCharArray.h>
#include <vtkXMLImageDataWriter.h>

#include <cstdio>
#include <sstream>

#include "fluxion/core/error.hpp"
#include "fluxion/io/xdmf.hpp"

namespace fluxion::io_detail {

std::vector<double> gather_to_root(const Field& f) {
  DM dm = f.dm();
  Vec natural = nullptr, root = nullptr;
  VecScatter scatter = nullptr;
  FLUXION_PETSC_CHECK(DMDACreateNaturalVector(dm, &natural));
  FLUXION_PETSC_CHECK(DMDAGlobalToNaturalBegin(dm, f.vec(), INSERT_VALUES, natural));
  FLUXION_PETSC_CHECK(DMDAGlobalToNaturalEnd(dm, f.vec(), INSERT_VALUES, natural));
  FLUXION_PETSC_CHECK(VecScatterCreateToZero(natural, &scatter, &root));
  FLUXION_PETSC_CHECK(VecScatterBegin(scatter, natural, root, INSERT_VALUES, SCATTER_FORWARD));
  FLUXION_PETSC_CHECK(VecScatterEnd(scatter, natural, root, INSERT_VALUES, SCATTER_FORWARD));
  std::vector<double> values;
  PetscInt n = 0;
  FLUXION_PETSC_CHECK(VecGetLocalSize(root, &n));
  if (n > 0) {
    const PetscScalar* a = nullptr;
    FLUXION_PETSC_CHECK(VecGetArrayRead(root, &a));
    values.assign(a, a + n);
    FLUXION_PETSC_CHECK(VecRestoreArrayRead(root, &a));
  }
  VecScatterDestroy(&scatter);
  VecDestroy(&root);
  VecDestroy(&natural);
  return values;
}

VtiSeries::VtiSeries(std::shared_ptr<const Grid> grid, std::filesystem::path dir, std::string name)
    : grid_(std::move(grid)), dir_(std::move(dir)), name_(std::move(name)) {}

void VtiSeries::add_static(const Field& f) { statics_.push_back({f.name(), f.components(), gather_to_root(f)}); }

void VtiSeries::set_solid(const Field& solid) {
  const std::vector<double> values = gather_to_root(solid);
  ghost_.resize(values.size());
  for (std::size_t n = 0; n < values.size(); ++n)
    ghost_[n] = values[n] > 0.5 ? vtkDataSetAttributes::HIDDENCELL : 0;
}

namespace {

void add_cell_array(vtkImageData* image, const std::string& name, int components, const std::vector<double>& values,
                    int dim) {
  const vtkIdType cells = image->GetNumberOfCells();
  // ParaView's vectors have 3 components: a 2D vector gets a zero z.
  const int out_components = (components == 2 && dim == 2) ? 3 : components;
  vtkNew<vtkDoubleArray> array;
  array->SetName(name.c_str());
  array->SetNumberOfComponents(out_components);
  array->SetNumberOfTuples(cells);
  for (vtkIdType id = 0; id < cells; ++id)
    for (int c = 0; c < out_components; ++c)
      array->SetTypedComponent(id, c, c < components ? values[static_cast<std::size_t>(id) * components + c] : 0.0);
  image->GetCellData()->AddArray(array);
  if (out_components == 3 && !image->GetCellData()->GetVectors()) image->GetCellData()->SetActiveVectors(name.c_str());
}

std::string pvd_document(const std::vector<std::pair<double, std::string>>& written) {
  std::ostringstream s;
  s << "<?xml version=\"1.0\"?>\n"
    << "<VTKFile type=\"Collection\" version=\"0.1\" byte_order=\"LittleEndian\">\n  <Collection>\n";
  for (const auto& [time, file] : written) {
    char t[32];
    std::snprintf(t, sizeof t, "%.17g", time);
    s << "    <DataSet timestep=\"" << t << "\" group=\"\" part=\"0\" file=\"" << xml_escape(file) << "\"/>\n";
  }
  s << "  </Collection>\n</VTKFile>\n";
  return s.str();
}

}  // namespace

void VtiSeries::write_step(int step, double time, const std::vector<const Field*>& fields) {
  std::vector<Gathered> gathered;
  for (const Field* f : fields) gathered.push_back({f->name(), f->components(), gather_to_root(*f)});
  char file[64];
  std::snprintf(file, sizeof file, "_%06d.vti", step);
  const std::string file_name = name_ + file;
  written_.emplace_back(time, file_name);
  on_root(grid_->comm(), [&] {
    const Grid& g = *grid_;
    vtkNew<vtkImageData> image;
    const int nz = g.dim() == 3 ? static_cast<int>(g.cells(2)) + 1 : 1;
    image->SetDimensions(static_cast<int>(g.cells(0)) + 1, static_cast<int>(g.cells(1)) + 1, nz);
    image->SetOrigin(g.lower(0), g.lower(1), g.dim() == 3 ? g.lower(2) : 0.0);
    image->SetSpacing(g.spacing(0), g.spacing(1), g.dim() == 3 ? g.spacing(2) : 1.0);
    for (const Gathered& a : statics_) add_cell_array(image, a.name, a.components, a.values, g.dim());
    for (const Gathered& a : gathered) add_cell_array(image, a.name, a.components, a.values, g.dim());
    if (!ghost_.empty()) {  // ParaView neither draws nor colour-scales hidden cells
      vtkNew<vtkUnsignedCharArray> ghost;
      ghost->SetName(vtkDataSetAttributes::GhostArrayName());
      ghost->SetNumberOfValues(static_cast<vtkIdType>(ghost_.size()));
      for (std::size_t n = 0; n < ghost_.size(); ++n) ghost->SetValue(static_cast<vtkIdType>(n), ghost_[n]);
      image->GetCellData()->AddArray(ghost);
    }

    const std::filesystem::path path = dir_ / file_name;
    std::filesystem::path tmp = path;
    tmp += ".tmp";
    vtkNew<vtkXMLImageDataWriter> writer;
    writer->SetFileName(tmp.c_str());
    writer->SetInputData(image);
    // Inline base64, no <AppendedData> section: with Debian 12's expat security updates (seen with
    // 2.5.0-1+deb12u5, not with deb12u1: reparse deferral) ParaView 5.11's XML reader cannot stop at an <AppendedData> tag and
    // fails on every appended file ("not well-formed (invalid token)" for raw bytes, "junk after
    // document element" for base64). Inline data is plain well-formed XML.
    writer->SetDataModeToBinary();
    std::error_code ec;
    if (writer->Write() != 1) {
      std::filesystem::remove(tmp, ec);  // no half-written temporary is left behind (a full disk)
      throw IoError(path.string() + ": cannot write it (vtkXMLImageDataWriter failed; is the disk full?)");
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
      const std::string why = ec.message();
      std::filesystem::remove(tmp, ec);
      throw IoError(path.string() + ": cannot rename " + tmp.filename().string() + " over it: " + why);
    }
    write_text_atomically(pvd_path(), pvd_document(written_));
  });
}

}  // namespace fluxion::io_detail
