// SOR row kernels of the 3D 7-point stencil: the tight loops that SorSweeper calls row by row.
#pragma once

#include <petscsys.h>

#include "fluxion/linalg/sor_kernels_2d.hpp"  // the recurrences

namespace fluxion::sor_kernels {

/// One grid row of the 3D stencil, laid out as in sor_kernels_2d.hpp; the planes below and above
/// are x -/+ plane.
struct Row3d {
  PetscInt n;             // cells in the row
  PetscInt stride;        // padded row length
  PetscInt plane;         // padded plane size
  const double* b;        // right-hand side
  const double* diag;     // a_ii
  const double* inv_diag; // 1 / a_ii
  const double* wx;       // n + 1 x-faces: wx[i] couples cells i-1 and i
  const double* wy_lo;    // the y-faces below the row
  const double* wy_hi;    // the y-faces above the row
  const double* wz_lo;    // the z-faces below the row
  const double* wz_hi;    // the z-faces above the row
};

/// As forward_row of the 2D kernels, with the z neighbours among the independent terms.
inline void forward_row(const Row3d& r, double* x, double omega, double* a, double* c, bool wrap = false) {
  const PetscInt n = r.n, s = r.stride, p = r.plane;
  {
    const double* __restrict b = r.b;
    const double* __restrict inv = r.inv_diag;
    const double* __restrict wx = r.wx;
    const double* __restrict lo = r.wy_lo;
    const double* __restrict hi = r.wy_hi;
    const double* __restrict zlo = r.wz_lo;
    const double* __restrict zhi = r.wz_hi;
    const double* __restrict xr = x;
    double* __restrict aa = a;
    double* __restrict cc = c;
    for (PetscInt i = 0; i < n; ++i) {
      const double t = b[i] - wx[i + 1] * xr[i + 1] - lo[i] * xr[i - s] - hi[i] * xr[i + s] -
                       zlo[i] * xr[i - p] - zhi[i] * xr[i + p];
      const double w = omega * inv[i];
      aa[i] = (1.0 - omega) * xr[i] + w * t;
      cc[i] = w * wx[i];
    }
  }
  forward_recurrence(x, a, c, n);
  // A periodic x axis on one rank: the last cell's upper neighbour is the first cell, just
  // updated, where the independent loop read its old copy in the pad x[n].
  if (wrap) {
    x[n - 1] -= omega * r.inv_diag[n - 1] * r.wx[n] * (x[0] - x[n]);
    x[n] = x[0];  // what a backward sweep that follows must see
  }
}

/// The same from i = n-1 down to 0; the chain runs through x_{i+1}.
inline void backward_row(const Row3d& r, double* x, double omega, double* a, double* c, bool wrap = false) {
  const PetscInt n = r.n, s = r.stride, p = r.plane;
  {
    const double* __restrict b = r.b;
    const double* __restrict inv = r.inv_diag;
    const double* __restrict wx = r.wx;
    const double* __restrict lo = r.wy_lo;
    const double* __restrict hi = r.wy_hi;
    const double* __restrict zlo = r.wz_lo;
    const double* __restrict zhi = r.wz_hi;
    const double* __restrict xr = x;
    double* __restrict aa = a;
    double* __restrict cc = c;
    for (PetscInt i = 0; i < n; ++i) {
      const double t = b[i] - wx[i] * xr[i - 1] - lo[i] * xr[i - s] - hi[i] * xr[i + s] -
                       zlo[i] * xr[i - p] - zhi[i] * xr[i + p];
      const double w = omega * inv[i];
      aa[i] = (1.0 - omega) * xr[i] + w * t;
      cc[i] = w * wx[i + 1];
    }
  }
  backward_recurrence(x, a, c, n);
  if (wrap) {
    x[0] -= omega * r.inv_diag[0] * r.wx[0] * (x[n - 1] - x[-1]);
    x[-1] = x[n - 1];
  }
}

/// Red-black: the cells first, first + 2, ... (before end) of the row; their neighbours all have the other
/// colour, so the stride-2 loop has no dependence.
inline void colour_row(const Row3d& r, double* x, double omega, PetscInt first, PetscInt end) {
  const PetscInt s = r.stride, p = r.plane;
  const double* __restrict b = r.b;
  const double* __restrict inv = r.inv_diag;
  const double* __restrict wx = r.wx;
  const double* __restrict lo = r.wy_lo;
  const double* __restrict hi = r.wy_hi;
  const double* __restrict zlo = r.wz_lo;
  const double* __restrict zhi = r.wz_hi;
  for (PetscInt i = first; i < end; i += 2) {
    const double t = b[i] - wx[i] * x[i - 1] - wx[i + 1] * x[i + 1] - lo[i] * x[i - s] - hi[i] * x[i + s] -
                     zlo[i] * x[i - p] - zhi[i] * x[i + p];
    x[i] = (1.0 - omega) * x[i] + omega * inv[i] * t;
  }
}
inline void colour_row(const Row3d& r, double* x, double omega, PetscInt first) { colour_row(r, x, omega, first, r.n); }

/// sum_i (b - A x)_i^2 over the row.
inline double residual_row(const Row3d& r, const double* x) {
  const PetscInt n = r.n, s = r.stride, p = r.plane;
  double sum = 0.0;
  for (PetscInt i = 0; i < n; ++i) {
    const double ax = r.diag[i] * x[i] + r.wx[i] * x[i - 1] + r.wx[i + 1] * x[i + 1] + r.wy_lo[i] * x[i - s] +
                      r.wy_hi[i] * x[i + s] + r.wz_lo[i] * x[i - p] + r.wz_hi[i] * x[i + p];
    const double res = r.b[i] - ax;
    sum += res * res;
  }
  return sum;
}

/// out = b - A x over the row.
inline void residual_row(const Row3d& r, const double* x, double* __restrict out) {
  const PetscInt n = r.n, s = r.stride, p = r.plane;
  for (PetscInt i = 0; i < n; ++i) {
    const double ax = r.diag[i] * x[i] + r.wx[i] * x[i - 1] + r.wx[i + 1] * x[i + 1] + r.wy_lo[i] * x[i - s] +
                      r.wy_hi[i] * x[i + s] + r.wz_lo[i] * x[i - p] + r.wz_hi[i] * x[i + p];
    out[i] = r.b[i] - ax;
  }
}

}  // namespace fluxion::sor_kernels
