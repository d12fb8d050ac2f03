// Obstacle cells of a grid: analytic shapes (box, sphere/circle, cylinder) and any inside-test.
#pragma once

#include <array>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <variant>

#include "fluxion/core/field.hpp"

namespace fluxion {

/// Axis-aligned box [lower, upper].
struct BoxShape {
  std::array<double, 3> lower{}, upper{};
};
/// Ball (a disc in 2D) of `radius` around `center`.
struct SphereShape {
  std::array<double, 3> center{};
  double radius = 0.0;
};
/// Infinite cylinder (3D) whose axis runs through `center` along `axis` (0, 1, 2), optionally
/// cut to [axis_min, axis_max] along that axis. In 2D use a SphereShape.
struct CylinderShape {
  std::array<double, 3> center{};
  double radius = 0.0;
  int axis = 2;
  double axis_min = -std::numeric_limits<double>::infinity();
  double axis_max = std::numeric_limits<double>::infinity();
};
using Shape = std::variant<BoxShape, SphereShape, CylinderShape>;

/// True when the point (z ignored in 2D) lies inside the shape.
bool contains(const Shape& shape, const std::array<double, 3>& x, int dim);

/// Which cells are solid: a cell is solid when its centre is inside an obstacle. Stored as a
/// scalar field (1 solid, 0 fluid) so that it distributes, ghosts and writes like any field.
class SolidMask {
 public:
  explicit SolidMask(std::shared_ptr<const Grid> grid);

  void add(const Shape& shape);
  void add(const std::function<bool(const std::array<double, 3>&)>& inside);

  const Field& field() const { return field_; }
  const Grid& grid() const { return field_.grid(); }
  long long solid_cells() const;  // over all ranks
  bool empty() const { return solid_cells() == 0; }

 private:
  Field field_;
};

}  // namespace fluxion
