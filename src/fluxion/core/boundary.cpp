// BoundaryConditions: consistency checks between faces and the grid.
#include "fluxion/core/boundary.hpp"

#include "fluxion/core/error.hpp"

namespace fluxion {

const char* to_string(BcType type) {
  switch (type) {
    case BcType::Dirichlet: return "dirichlet";
    case BcType::Neumann: return "neumann";
    case BcType::Periodic: return "periodic";
  }
  return "?";
}

BoundaryConditions BoundaryConditions::uniform(BcType type, Expression value) {
  BoundaryConditions bc;
  for (auto& f : bc.faces_) f = FaceBc{type, value};
  return bc;
}

std::array<bool, 3> BoundaryConditions::periodic_axes() const {
  std::array<bool, 3> p{};
  for (int a = 0; a < 3; ++a) p[a] = faces_[2 * a].type == BcType::Periodic;
  return p;
}

void BoundaryConditions::check_against(const Grid& grid) const {
  for (int a = 0; a < grid.dim(); ++a) {
    const bool lo = faces_[2 * a].type == BcType::Periodic, hi = faces_[2 * a + 1].type == BcType::Periodic;
    if (lo != hi)
      throw ConfigError(std::string("boundary.") + kFaceNames[2 * a] + ": periodic must be set on both " +
                        kFaceNames[2 * a] + " and " + kFaceNames[2 * a + 1]);
    if (lo != grid.periodic(a))
      throw Error(std::string("boundary conditions and grid disagree on whether axis ") + "xyz"[a] +
                  " is periodic");
  }
}

bool BoundaryConditions::determines_no_constant(int dim) const {
  for (int f = 0; f < 2 * dim; ++f)
    if (faces_[f].type == BcType::Dirichlet) return false;
  return true;
}

}  // namespace fluxion
