// Versions of the libraries the io layer is built with (for `fluxion info` and summaries).
#pragma once

#include <string>

namespace fluxion {
std::string hdf5_version();  // e.g. "1.10.8"
std::string vtk_version();   // e.g. "9.2.20220823"
}  // namespace fluxion
