// hdf5_version and vtk_version, asked from the libraries at run time.
#include "fluxion/io/library_versions.hpp"

#include <hdf5.h>
#include <vtkVersion.h>

namespace fluxion {

std::string hdf5_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

std::string vtk_version() { return vtkVersion::GetVTKVersionFull(); }

}  // namespace fluxion
