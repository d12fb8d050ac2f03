// Surface mesh files read with scrutiny: every count and index is checked against the file before
// anything is allocated for it (internal to the io layer; not installed).
#pragma once

#include <vtkAlgorithm.h>
#include <vtkPolyData.h>
#include <vtkSmartPointer.h>

#include <filesystem>

namespace fluxion::io_detail {

/// Reads a surface mesh (format by extension, case-insensitive: .stl, .obj, .ply, .vtp) into points
/// and polygons. STL (binary or ASCII, told apart by content), OBJ and PLY are parsed here; VTP goes
/// to VTK's XML reader once its declared sizes fit the file. Throws IoError naming the file and what
/// is wrong: missing, a folder, a FIFO or device, empty, a count the file size cannot hold, a vertex
/// index out of range, a non-finite coordinate, truncated or unparsable content. Allocations are
/// bounded by a small multiple of the file size (VTP: of its size times the compressor's largest ratio).
vtkSmartPointer<vtkPolyData> read_mesh_file(const std::filesystem::path& file);

/// Runs one VTK algorithm and turns the first error it reports into an IoError
/// "<file>: <what>: <VTK's message>" (VTK would only print it).
void update_or_throw(vtkAlgorithm* algorithm, const std::filesystem::path& file, const char* what);

}  // namespace fluxion::io_detail
