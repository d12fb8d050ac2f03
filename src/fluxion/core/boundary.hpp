// Boundary conditions per face of the domain box: Dirichlet value, Neumann flux, or periodic.
#pragma once

#include <array>
#include <string>

#include "fluxion/core/expression.hpp"
#include "fluxion/core/grid.hpp"

namespace fluxion {

enum class BcType { Dirichlet, Neumann, Periodic };
const char* to_string(BcType type);

/// One face's condition. Dirichlet: u = value(x, t) on the face. Neumann: the outward normal
/// derivative du/dn = value(x, t). Periodic: the face wraps to the opposite one.
struct FaceBc {
  BcType type = BcType::Dirichlet;
  Expression value;
};

/// Conditions on all faces of a grid (4 in 2D, 6 in 3D).
class BoundaryConditions {
 public:
  BoundaryConditions() = default;
  /// All faces the same condition.
  static BoundaryConditions uniform(BcType type, Expression value = {});

  FaceBc& operator[](Face f) { return faces_[static_cast<int>(f)]; }
  const FaceBc& operator[](Face f) const { return faces_[static_cast<int>(f)]; }

  /// Throws ConfigError if a periodic face is paired with a non-periodic one, or the grid's
  /// periodic axes disagree with the conditions.
  void check_against(const Grid& grid) const;
  /// The grid's periodic flags implied by these conditions.
  std::array<bool, 3> periodic_axes() const;
  /// True when no face fixes the value (all Neumann or periodic): -div(k grad u) then has the
  /// constants as null space.
  bool determines_no_constant(int dim) const;

 private:
  std::array<FaceBc, 6> faces_{};
};

}  // namespace fluxion
