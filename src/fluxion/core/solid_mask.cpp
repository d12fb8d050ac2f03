// SolidMask: marks cells whose centre lies inside an obstacle.
#include "fluxion/core/solid_mask.hpp"

#include <cmath>

namespace fluxion {

bool contains(const Shape& shape, const std::array<double, 3>& x, int dim) {
  return std::visit(
      [&](const auto& s) -> bool {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, BoxShape>) {
          for (int a = 0; a < dim; ++a)
            if (x[a] < s.lower[a] || x[a] > s.upper[a]) return false;
          return true;
        } else if constexpr (std::is_same_v<S, SphereShape>) {
          double r2 = 0.0;
          for (int a = 0; a < dim; ++a) r2 += (x[a] - s.center[a]) * (x[a] - s.center[a]);
          return r2 <= s.radius * s.radius;
        } else {
          if (x[s.axis] < s.axis_min || x[s.axis] > s.axis_max) return false;
          double r2 = 0.0;
          for (int a = 0; a < dim; ++a)
            if (a != s.axis) r2 += (x[a] - s.center[a]) * (x[a] - s.center[a]);
          return r2 <= s.radius * s.radius;
        }
      },
      shape);
}

SolidMask::SolidMask(std::shared_ptr<const Grid> grid) : field_(std::move(grid), "solid") {}

void SolidMask::add(const Shape& shape) {
  const int dim = grid().dim();
  add([&](const std::array<double, 3>& x) { return contains(shape, x, dim); });
}

void SolidMask::add(const std::function<bool(const std::array<double, 3>&)>& inside) {
  const Grid& g = grid();
  FieldWriteArray a(field_);
  for_each_cell(g.owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
    const std::array<double, 3> x{g.center(0, i), g.center(1, j), g.dim() == 3 ? g.center(2, k) : 0.0};
    if (inside(x)) a(i, j, k) = 1.0;
  });
}

long long SolidMask::solid_cells() const { return std::llround(field_.sum()); }

}  // namespace fluxion
