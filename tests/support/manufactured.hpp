// Manufactured solutions for -div(k grad u) + c u = f: the exact u, its gradient, and the f
// and boundary data that go with it, as expression strings (derived by hand, not by the code
// under test).
#pragma once

#include <string>

#include "fluxion/core/boundary.hpp"
#include "fluxion/core/expression.hpp"

namespace fluxion::testing {

struct Manufactured {
  // u and its first derivatives and Laplacian; k and its first derivatives; c.
  std::string u, ux, uy, uz = "0", lap;
  std::string k = "1", kx = "0", ky = "0", kz = "0";
  std::string c = "0";

  std::string source() const {
    return "-((" + kx + ")*(" + ux + ") + (" + ky + ")*(" + uy + ") + (" + kz + ")*(" + uz + ") + (" + k + ")*(" +
           lap + ")) + (" + c + ")*(" + u + ")";
  }
  /// Outward flux k du/dn on a face, the Neumann data fluxion takes.
  std::string outward_flux(Face f) const {
    const std::string* d[3] = {&ux, &uy, &uz};
    const std::string sign = face_is_upper(f) ? "" : "-";
    return sign + "(" + k + ")*(" + *d[face_axis(f)] + ")";
  }
  /// Dirichlet on faces where `dirichlet[f]`, Neumann (the exact flux) elsewhere, over 2*dim faces.
  BoundaryConditions boundary(int dim, const std::array<bool, 6>& dirichlet) const {
    BoundaryConditions bc;
    for (int f = 0; f < 2 * dim; ++f) {
      const Face face = static_cast<Face>(f);
      bc[face] = dirichlet[f] ? FaceBc{BcType::Dirichlet, Expression(u)}
                              : FaceBc{BcType::Neumann, Expression(outward_flux(face))};
    }
    return bc;
  }
};

// u = sin(2x+0.3) cos(3y+0.2) in 2D (times cos(z+0.1) in 3D).
inline Manufactured trig2d() {
  Manufactured m;
  m.u = "sin(2*x+0.3)*cos(3*y+0.2)";
  m.ux = "2*cos(2*x+0.3)*cos(3*y+0.2)";
  m.uy = "-3*sin(2*x+0.3)*sin(3*y+0.2)";
  m.lap = "-13*sin(2*x+0.3)*cos(3*y+0.2)";
  return m;
}
inline Manufactured trig3d() {
  Manufactured m;
  m.u = "sin(2*x+0.3)*cos(3*y+0.2)*cos(z+0.1)";
  m.ux = "2*cos(2*x+0.3)*cos(3*y+0.2)*cos(z+0.1)";
  m.uy = "-3*sin(2*x+0.3)*sin(3*y+0.2)*cos(z+0.1)";
  m.uz = "-sin(2*x+0.3)*cos(3*y+0.2)*sin(z+0.1)";
  m.lap = "-14*sin(2*x+0.3)*cos(3*y+0.2)*cos(z+0.1)";
  return m;
}
// k = 2 + sin(x + 2y + z) (z term vanishes in 2D).
inline Manufactured with_variable_k(Manufactured m) {
  m.k = "(2+sin(x+2*y+z))";
  m.kx = "cos(x+2*y+z)";
  m.ky = "2*cos(x+2*y+z)";
  m.kz = "cos(x+2*y+z)";
  return m;
}

}  // namespace fluxion::testing
