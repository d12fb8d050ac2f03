// SolveReport formatting.
#include "fluxion/linalg/linear_solver.hpp"

#include <cstdio>

namespace fluxion {

std::string SolveReport::summary() const {
  char buffer[512];
  std::snprintf(buffer, sizeof buffer, "%s: %s in %d iterations (%s), |r|/|r0| = %.3g, %.3g s", solver.c_str(),
                converged ? "converged" : "DID NOT CONVERGE", iterations, reason.c_str(), relative_residual(),
                seconds);
  return buffer;
}

}  // namespace fluxion
