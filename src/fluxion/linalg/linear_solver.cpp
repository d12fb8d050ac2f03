// SolveReport formatting.
#include "fluxion/linalg/linear_solver.hpp"

#include <cstdio>

namespace fluxion {

std::string SolveReport::summary() const {
  char omega_text[32] = "";
  if (omega > 0.0) std::snprintf(omega_text, sizeof omega_text, ", omega %.4g", omega);
  char buffer[512];
  std::snprintf(buffer, sizeof buffer, "%s: %s in %d iterations (%s), |r|/|r0| = %.3g, %.3g s%s", solver.c_str(),
                converged ? "converged" : "DID NOT CONVERGE", iterations, reason.c_str(), relative_residual(),
                seconds, omega_text);
  return buffer;
}

}  // namespace fluxion
