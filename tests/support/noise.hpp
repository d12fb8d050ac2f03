// A rank-independent pseudo-random field value, for tests that need "any" vector that every rank
// count reproduces exactly.
#pragma once

#include <cmath>

#include "fluxion/core/field.hpp"

namespace fluxion::test {

/// A value in [-1, 1] that depends only on the cell centre x.
inline double noise(const Field::Point& x) {
  const double v = std::sin(12.9898 * x[0] + 78.233 * x[1] + 37.719 * x[2]) * 43758.5453;
  return 2.0 * (v - std::floor(v)) - 1.0;
}

}  // namespace fluxion::test
