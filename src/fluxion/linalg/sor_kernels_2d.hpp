// SOR row kernels of the 2D 5-point stencil: the tight loops that SorSweeper calls row by row.
#pragma once

#include <petscsys.h>

namespace fluxion::sor_kernels {

/// x_i = a_i - c_i x_{i-1} for i = 0 .. n-1 (x_{-1} is read). Four cells at a time, each written
/// as p_m + q_m x_{i-1} with p, q built from a and c alone: the loop-carried chain is one
/// multiply and one add per four cells instead of per cell (the rest overlaps with it).
inline void forward_recurrence(double* x, const double* a, const double* c, PetscInt n) {
  double prev = x[-1];
  PetscInt i = 0;
  for (; i + 3 < n; i += 4) {
    const double p1 = a[i + 1] - c[i + 1] * a[i], q1 = c[i + 1] * c[i];
    const double p2 = a[i + 2] - c[i + 2] * p1, q2 = -c[i + 2] * q1;
    const double p3 = a[i + 3] - c[i + 3] * p2, q3 = -c[i + 3] * q2;
    x[i] = a[i] - c[i] * prev;
    x[i + 1] = p1 + q1 * prev;
    x[i + 2] = p2 + q2 * prev;
    prev = p3 + q3 * prev;
    x[i + 3] = prev;
  }
  for (; i < n; ++i) prev = x[i] = a[i] - c[i] * prev;
}

/// x_i = a_i - c_i x_{i+1} for i = n-1 .. 0 (x_n is read), four cells at a time likewise.
inline void backward_recurrence(double* x, const double* a, const double* c, PetscInt n) {
  double prev = x[n];
  PetscInt i = n - 1;
  for (; i - 3 >= 0; i -= 4) {
    const double p1 = a[i - 1] - c[i - 1] * a[i], q1 = c[i - 1] * c[i];
    const double p2 = a[i - 2] - c[i - 2] * p1, q2 = -c[i - 2] * q1;
    const double p3 = a[i - 3] - c[i - 3] * p2, q3 = -c[i - 3] * q2;
    x[i] = a[i] - c[i] * prev;
    x[i - 1] = p1 + q1 * prev;
    x[i - 2] = p2 + q2 * prev;
    prev = p3 + q3 * prev;
    x[i - 3] = prev;
  }
  for (; i >= 0; --i) prev = x[i] = a[i] - c[i] * prev;
}

/// One grid row of the 2D stencil. x (passed separately) points at the row's first owned cell in
/// the padded layout, so x[-1], x[n] and the rows x -/+ stride always exist (zeros at the domain
/// boundary, where the coupling is zero too): no branch per neighbour.
struct Row2d {
  PetscInt n;             // cells in the row
  PetscInt stride;        // padded row length
  const double* b;        // right-hand side
  const double* diag;     // a_ii
  const double* inv_diag; // 1 / a_ii
  const double* wx;       // n + 1 x-faces: wx[i] couples cells i-1 and i
  const double* wy_lo;    // the y-faces below the row
  const double* wy_hi;    // the y-faces above the row
};

/// x_i <- x_i + omega (b_i - sum_j a_ij x_j) / a_ii for i = 0 .. n-1, computed as
/// (1 - omega) x_i + omega / a_ii (b_i - sum_{j != i} a_ij x_j): the diagonal is then not read,
/// one stream less on a memory-bound loop. The terms of the cells that are not updated within
/// this row are summed first, in a loop without dependences (it vectorises); what is left is the
/// recurrence x_i = a_i - c_i x_{i-1} (forward_recurrence). `a` and `c`: scratch rows of n values.
inline void forward_row(const Row2d& r, double* x, double omega, double* a, double* c, bool wrap = false) {
  const PetscInt n = r.n, s = r.stride;
  {
    const double* __restrict b = r.b;
    const double* __restrict inv = r.inv_diag;
    const double* __restrict wx = r.wx;
    const double* __restrict lo = r.wy_lo;
    const double* __restrict hi = r.wy_hi;
    const double* __restrict xr = x;
    double* __restrict aa = a;
    double* __restrict cc = c;
    for (PetscInt i = 0; i < n; ++i) {
      const double t = b[i] - wx[i + 1] * xr[i + 1] - lo[i] * xr[i - s] - hi[i] * xr[i + s];
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
inline void backward_row(const Row2d& r, double* x, double omega, double* a, double* c, bool wrap = false) {
  const PetscInt n = r.n, s = r.stride;
  {
    const double* __restrict b = r.b;
    const double* __restrict inv = r.inv_diag;
    const double* __restrict wx = r.wx;
    const double* __restrict lo = r.wy_lo;
    const double* __restrict hi = r.wy_hi;
    const double* __restrict xr = x;
    double* __restrict aa = a;
    double* __restrict cc = c;
    for (PetscInt i = 0; i < n; ++i) {
      const double t = b[i] - wx[i] * xr[i - 1] - lo[i] * xr[i - s] - hi[i] * xr[i + s];
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
inline void colour_row(const Row2d& r, double* x, double omega, PetscInt first, PetscInt end) {
  const PetscInt s = r.stride;
  const double* __restrict b = r.b;
  const double* __restrict inv = r.inv_diag;
  const double* __restrict wx = r.wx;
  const double* __restrict lo = r.wy_lo;
  const double* __restrict hi = r.wy_hi;
  for (PetscInt i = first; i < end; i += 2) {
    const double t = b[i] - wx[i] * x[i - 1] - wx[i + 1] * x[i + 1] - lo[i] * x[i - s] - hi[i] * x[i + s];
    x[i] = (1.0 - omega) * x[i] + omega * inv[i] * t;
  }
}
inline void colour_row(const Row2d& r, double* x, double omega, PetscInt first) { colour_row(r, x, omega, first, r.n); }

/// sum_i (b - A x)_i^2 over the row.
inline double residual_row(const Row2d& r, const double* x) {
  const PetscInt n = r.n, s = r.stride;
  double sum = 0.0;
  for (PetscInt i = 0; i < n; ++i) {
    const double ax = r.diag[i] * x[i] + r.wx[i] * x[i - 1] + r.wx[i + 1] * x[i + 1] + r.wy_lo[i] * x[i - s] +
                      r.wy_hi[i] * x[i + s];
    const double res = r.b[i] - ax;
    sum += res * res;
  }
  return sum;
}

/// out = b - A x over the row.
inline void residual_row(const Row2d& r, const double* x, double* __restrict out) {
  const PetscInt n = r.n, s = r.stride;
  for (PetscInt i = 0; i < n; ++i) {
    const double ax = r.diag[i] * x[i] + r.wx[i] * x[i - 1] + r.wx[i + 1] * x[i + 1] + r.wy_lo[i] * x[i - s] +
                      r.wy_hi[i] * x[i + s];
    out[i] = r.b[i] - ax;
  }
}

}  // namespace fluxion::sor_kernels
