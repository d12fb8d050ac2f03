// SorSweeper: the driver of the SOR kernels (padded iterate, halo exchange, orderings, MPI).
#include "fluxion/linalg/sor.hpp"

#include <petscdmda.h>

#include <algorithm>
#include <cmath>

#include "fluxion/core/error.hpp"
#include "fluxion/linalg/sor_kernels_2d.hpp"
#include "fluxion/linalg/sor_kernels_3d.hpp"
#include "fluxion/linalg/stencil_operator.hpp"

namespace fluxion {

namespace {

void check_omega(double omega) {
  if (!(omega > 0.0 && omega < 2.0))
    throw Error("SOR: omega = " + std::to_string(omega) + " is outside (0, 2), where SOR converges for SPD matrices");
}

// Read access to a Vec's owned values for the lifetime of the object.
class ReadArray {
 public:
  ReadArray(Vec v, PetscInt expected) : v_(v) {
    PetscInt n = 0;
    FLUXION_PETSC_CHECK(VecGetLocalSize(v, &n));
    if (n != expected) throw Error("SorSweeper: a vector does not have the grid's scalar layout");
    FLUXION_PETSC_CHECK(VecGetArrayRead(v, &a_));
  }
  ~ReadArray() { VecRestoreArrayRead(v_, &a_); }
  ReadArray(const ReadArray&) = delete;
  ReadArray& operator=(const ReadArray&) = delete;
  const double* data() const { return a_; }

 private:
  Vec v_;
  const double* a_ = nullptr;
};

// The operator's weights cut into the rows the kernels take.
struct RowMaker {
  const double* d;
  const double* inv;
  const double* fx;
  const double* fy;
  const double* fz;
  PetscInt nx, ny, px, pxy;

  sor_kernels::Row2d row2d(const double* b, PetscInt j) const {
    const PetscInt q = j * nx;
    return {nx, px, b + q, d + q, inv + q, fx + j * (nx + 1), fy + q, fy + q + nx};
  }
  sor_kernels::Row3d row3d(const double* b, PetscInt j, PetscInt k) const {
    const PetscInt q = (k * ny + j) * nx;
    return {nx,
            px,
            pxy,
            b + q,
            d + q,
            inv + q,
            fx + (k * ny + j) * (nx + 1),
            fy + (k * (ny + 1) + j) * nx,
            fy + (k * (ny + 1) + j + 1) * nx,
            fz + q,
            fz + q + nx * ny};
  }
};

RowMaker make_rows(const StencilOperator& op, const double* inv, const std::array<PetscInt, 3>& n, PetscInt px,
                   PetscInt pxy) {
  return {op.diagonal_data(), inv, op.face_data(0), op.face_data(1), op.grid().dim() == 3 ? op.face_data(2) : nullptr,
          n[0], n[1], px, pxy};
}

}  // namespace

SorOrdering ordering_for(SorOrdering ordering, const Grid& grid) {
  if (ordering != SorOrdering::Auto) return ordering;
  return grid.ranks() > 1 ? SorOrdering::RedBlack : SorOrdering::Lexicographic;
}

SorSweeper::SorSweeper(const StencilOperator& op) : op_(&op), dim_(op.grid().dim()) {
  const Grid& g = op.grid();
  const IndexBox& o = g.owned();
  for (int a = 0; a < 3; ++a) {
    n_[a] = o.extent(a);
    origin_[a] = o.begin[a];
  }
  px_ = n_[0] + 2;
  pxy_ = px_ * (n_[1] + 2);
  x_.assign(static_cast<std::size_t>(pxy_ * (dim_ == 3 ? n_[2] + 2 : 1)), 0.0);
  refresh_diagonal();
  scratch_.resize(2 * n_[0]);

  // Face neighbours from the DMDA's table of 3^dim ranks (x fastest, this rank in the middle);
  // a negative entry means no neighbour (a non-periodic domain boundary).
  const PetscMPIInt* ranks = nullptr;
  FLUXION_PETSC_CHECK(DMDAGetNeighbors(g.dm(), &ranks));
  const int centre = dim_ == 3 ? 13 : 4;
  const std::array<int, 3> step = {1, 3, 9};
  for (int a = 0; a < dim_; ++a)
    for (int side = 0; side < 2; ++side) {
      const PetscMPIInt r = ranks[centre + (side == 0 ? -step[a] : step[a])];
      neighbour_[a][side] = r < 0 ? MPI_PROC_NULL : r;
    }
  for (int a = dim_; a < 3; ++a) neighbour_[a] = {MPI_PROC_NULL, MPI_PROC_NULL};
  for (int a = 0; a < dim_; ++a)
    self_wrap_[a] = neighbour_[a][0] == g.rank() && neighbour_[a][1] == g.rank() && n_[a] > 1;
}

void SorSweeper::refresh_diagonal() {
  const PetscInt n = op_->grid().owned().size();
  inv_diag_.resize(n);
  const double* d = op_->diagonal_data();
  for (PetscInt p = 0; p < n; ++p) inv_diag_[p] = d[p] != 0.0 ? 1.0 / d[p] : 0.0;
}

void SorSweeper::load(Vec x) {
  ReadArray xa(x, op_->grid().owned().size());
  const double* src = xa.data();
  const PetscInt kz = dim_ == 3 ? 1 : 0;
  for (PetscInt k = 0; k < n_[2]; ++k)
    for (PetscInt j = 0; j < n_[1]; ++j, src += n_[0])
      std::copy(src, src + n_[0], x_.data() + (k + kz) * pxy_ + (j + 1) * px_ + 1);
  ghosts_fresh_ = false;
}

void SorSweeper::load_zero() {
  std::fill(x_.begin(), x_.end(), 0.0);
  ghosts_fresh_ = true;  // every rank starts from zero, so the zero ghosts are the neighbours' values
}

void SorSweeper::store(Vec x) const {
  PetscInt n = 0;
  FLUXION_PETSC_CHECK(VecGetLocalSize(x, &n));
  if (n != op_->grid().owned().size()) throw Error("SorSweeper: a vector does not have the grid's scalar layout");
  double* dst;
  FLUXION_PETSC_CHECK(VecGetArray(x, &dst));
  const PetscInt kz = dim_ == 3 ? 1 : 0;
  double* out = dst;
  for (PetscInt k = 0; k < n_[2]; ++k)
    for (PetscInt j = 0; j < n_[1]; ++j, out += n_[0]) {
      const double* row = x_.data() + (k + kz) * pxy_ + (j + 1) * px_ + 1;
      std::copy(row, row + n_[0], out);
    }
  FLUXION_PETSC_CHECK(VecRestoreArray(x, &dst));
}

void SorSweeper::exchange_ghosts() {
  const MPI_Comm comm = op_->grid().comm();
  const PetscInt kz = dim_ == 3 ? 1 : 0;
  // Offset in the padded array of the cell (i, j, k) in owned-local indices (-1 .. n).
  auto offset = [&](PetscInt i, PetscInt j, PetscInt k) { return (k + kz) * pxy_ + (j + 1) * px_ + (i + 1); };
  for (int a = 0; a < dim_; ++a) {
    // The layer at index `layer` along axis a, over the owned range of the other axes.
    const int b = (a + 1) % 3, c = (a + 2) % 3;
    const PetscInt nb = n_[b], nc = n_[c];
    const std::size_t count = static_cast<std::size_t>(nb * nc);
    auto visit = [&](PetscInt layer, auto&& f) {
      std::array<PetscInt, 3> q{};
      q[a] = layer;
      std::size_t m = 0;
      for (PetscInt v = 0; v < nc; ++v)
        for (PetscInt u = 0; u < nb; ++u, ++m) {
          q[b] = u;
          q[c] = v;
          f(m, offset(q[0], q[1], q[2]));
        }
    };
    send_.resize(count);
    receive_.resize(count);
    // Step 0: the top owned layer goes up, the bottom ghost layer comes from below; step 1: the reverse.
    for (int s = 0; s < 2; ++s) {
      const int to = neighbour_[a][s == 0 ? 1 : 0], from = neighbour_[a][s == 0 ? 0 : 1];
      if (to == MPI_PROC_NULL && from == MPI_PROC_NULL) continue;
      if (to != MPI_PROC_NULL) visit(s == 0 ? n_[a] - 1 : 0, [&](std::size_t m, PetscInt p) { send_[m] = x_[p]; });
      MPI_Sendrecv(send_.data(), static_cast<int>(count), MPI_DOUBLE, to, 700 + 2 * a + s, receive_.data(),
                   static_cast<int>(count), MPI_DOUBLE, from, 700 + 2 * a + s, comm, MPI_STATUS_IGNORE);
      if (from != MPI_PROC_NULL) visit(s == 0 ? -1 : n_[a], [&](std::size_t m, PetscInt p) { x_[p] = receive_[m]; });
    }
  }
  ghosts_fresh_ = true;
}

void SorSweeper::copy_row(PetscInt from_j, PetscInt to_j, PetscInt k) {
  const PetscInt plane = (k + (dim_ == 3 ? 1 : 0)) * pxy_;
  const double* src = x_.data() + plane + (from_j + 1) * px_ + 1;
  std::copy(src, src + n_[0], x_.data() + plane + (to_j + 1) * px_ + 1);
}

// On a periodic axis that this rank spans alone, the global (MatSOR) order sees the first
// layer's new values from the last layer: the pad behind the last layer is refreshed from the
// first one just before the last layer is swept (x: inside the row kernels).
void SorSweeper::lexicographic(const double* b, double omega, bool forward) {
  const RowMaker rows = make_rows(*op_, inv_diag_.data(), n_, px_, pxy_);
  double* a = scratch_.data();
  double* c = a + n_[0];
  const PetscInt ny = n_[1], nz = n_[2];
  if (dim_ == 2) {
    for (PetscInt jj = 0; jj < ny; ++jj) {
      const PetscInt j = forward ? jj : ny - 1 - jj;
      if (self_wrap_[1] && jj == ny - 1) copy_row(forward ? 0 : ny - 1, forward ? ny : -1, 0);
      const sor_kernels::Row2d r = rows.row2d(b, j);
      double* x = x_.data() + (j + 1) * px_ + 1;
      if (forward)
        sor_kernels::forward_row(r, x, omega, a, c, self_wrap_[0]);
      else
        sor_kernels::backward_row(r, x, omega, a, c, self_wrap_[0]);
    }
  } else {
    for (PetscInt kk = 0; kk < nz; ++kk) {
      const PetscInt k = forward ? kk : nz - 1 - kk;
      if (self_wrap_[2] && kk == nz - 1) {
        const PetscInt from = forward ? 0 : nz - 1, to = forward ? nz : -1;
        for (PetscInt j = 0; j < ny; ++j) {
          const double* src = x_.data() + (from + 1) * pxy_ + (j + 1) * px_ + 1;
          std::copy(src, src + n_[0], x_.data() + (to + 1) * pxy_ + (j + 1) * px_ + 1);
        }
      }
      for (PetscInt jj = 0; jj < ny; ++jj) {
        const PetscInt j = forward ? jj : ny - 1 - jj;
        if (self_wrap_[1] && jj == ny - 1) copy_row(forward ? 0 : ny - 1, forward ? ny : -1, k);
        const sor_kernels::Row3d r = rows.row3d(b, j, k);
        double* x = x_.data() + (k + 1) * pxy_ + (j + 1) * px_ + 1;
        if (forward)
          sor_kernels::forward_row(r, x, omega, a, c, self_wrap_[0]);
        else
          sor_kernels::backward_row(r, x, omega, a, c, self_wrap_[0]);
      }
    }
  }
  ghosts_fresh_ = false;
}

PetscInt SorSweeper::first_of_colour(int colour, PetscInt j, PetscInt k) const {
  // (i + j + k) % 2 == colour in global indices
  return static_cast<PetscInt>(((colour - (origin_[0] + origin_[1] + j + origin_[2] + k)) % 2 + 2) % 2);
}

void SorSweeper::colour_cells(const double* b, double omega, int colour, PetscInt j, PetscInt k, PetscInt begin,
                              PetscInt end) {
  PetscInt first = first_of_colour(colour, j, k);
  if (first < begin) first += (begin - first + 1) / 2 * 2;
  if (first >= end) return;
  const RowMaker rows = make_rows(*op_, inv_diag_.data(), n_, px_, pxy_);
  if (dim_ == 2)
    sor_kernels::colour_row(rows.row2d(b, j), x_.data() + (j + 1) * px_ + 1, omega, first, end);
  else
    sor_kernels::colour_row(rows.row3d(b, j, k), x_.data() + (k + 1) * pxy_ + (j + 1) * px_ + 1, omega, first, end);
}

void SorSweeper::red_black_two_pass(const double* b, double omega, int first) {
  for (int colour : {first, 1 - first}) {
    if (!ghosts_fresh_) exchange_ghosts();
    for (PetscInt k = 0; k < n_[2]; ++k)
      for (PetscInt j = 0; j < n_[1]; ++j) colour_cells(b, omega, colour, j, k, 0, n_[0]);
    ghosts_fresh_ = false;
  }
}

// The second colour follows the first one plane (3D) or row (2D) behind, where every neighbour of
// the first colour is already new: one pass over memory instead of two. The second colour's cells
// next to a ghost layer filled by the exchange (another rank, or this rank across a periodic face)
// wait until the first colour's new values have been exchanged. Every cell gets exactly the update
// of the two-pass sweep, so the result is the same to the last bit.
void SorSweeper::red_black_fused(const double* b, double omega, int first) {
  if (!ghosts_fresh_) exchange_ghosts();
  const int second = 1 - first;
  const PetscInt nx = n_[0], ny = n_[1], nz = n_[2];
  std::array<std::array<bool, 2>, 3> held{};
  bool any_held = false;
  for (int a = 0; a < dim_; ++a)
    for (int side = 0; side < 2; ++side) any_held |= held[a][side] = neighbour_[a][side] != MPI_PROC_NULL;
  const PetscInt i_begin = held[0][0] ? 1 : 0, i_end = held[0][1] ? nx - 1 : nx;
  auto row_waits = [&](PetscInt j, PetscInt k) {
    const bool y = (j == 0 && held[1][0]) || (j == ny - 1 && held[1][1]);
    const bool z = dim_ == 3 && ((k == 0 && held[2][0]) || (k == nz - 1 && held[2][1]));
    return y || z;
  };
  auto second_behind = [&](PetscInt j, PetscInt k) {
    if (!row_waits(j, k)) colour_cells(b, omega, second, j, k, i_begin, i_end);
  };
  if (dim_ == 2) {
    for (PetscInt j = 0; j <= ny; ++j) {
      if (j < ny) colour_cells(b, omega, first, j, 0, 0, nx);
      if (j > 0) second_behind(j - 1, 0);
    }
  } else {
    for (PetscInt k = 0; k <= nz; ++k) {
      if (k < nz)
        for (PetscInt j = 0; j < ny; ++j) colour_cells(b, omega, first, j, k, 0, nx);
      if (k > 0)
        for (PetscInt j = 0; j < ny; ++j) second_behind(j, k - 1);
    }
  }
  if (any_held) {
    exchange_ghosts();
    for (PetscInt k = 0; k < nz; ++k)
      for (PetscInt j = 0; j < ny; ++j) {
        if (row_waits(j, k)) {
          colour_cells(b, omega, second, j, k, 0, nx);
          continue;
        }
        if (held[0][0]) colour_cells(b, omega, second, j, k, 0, 1);
        if (held[0][1] && !(nx == 1 && held[0][0])) colour_cells(b, omega, second, j, k, nx - 1, nx);
      }
  }
  ghosts_fresh_ = false;
}

void SorSweeper::residual(Vec b, Vec r) {
  const PetscInt n = op_->grid().owned().size();
  ReadArray ba(b, n);
  if (!ghosts_fresh_) exchange_ghosts();
  PetscInt nr = 0;
  FLUXION_PETSC_CHECK(VecGetLocalSize(r, &nr));
  if (nr != n) throw Error("SorSweeper: a vector does not have the grid's scalar layout");
  double* out;
  FLUXION_PETSC_CHECK(VecGetArray(r, &out));
  const RowMaker rows = make_rows(*op_, inv_diag_.data(), n_, px_, pxy_);
  for (PetscInt k = 0; k < n_[2]; ++k)
    for (PetscInt j = 0; j < n_[1]; ++j, out += n_[0]) {
      if (dim_ == 2)
        sor_kernels::residual_row(rows.row2d(ba.data(), j), x_.data() + (j + 1) * px_ + 1, out);
      else
        sor_kernels::residual_row(rows.row3d(ba.data(), j, k), x_.data() + (k + 1) * pxy_ + (j + 1) * px_ + 1, out);
    }
  out -= n;
  FLUXION_PETSC_CHECK(VecRestoreArray(r, &out));
}

void SorSweeper::relax(Vec b, double omega, SorOrdering ordering, SweepDirection direction, int count) {
  check_omega(omega);
  ordering = ordering_for(ordering, op_->grid());
  ReadArray ba(b, op_->grid().owned().size());
  for (int s = 0; s < count; ++s) {
    if (ordering == SorOrdering::Lexicographic) {
      // One ghost refresh per sweep, also for a symmetric one (SOR_LOCAL_SYMMETRIC_SWEEP).
      if (!ghosts_fresh_) exchange_ghosts();
      if (direction != SweepDirection::Backward) lexicographic(ba.data(), omega, true);
      if (direction != SweepDirection::Forward) lexicographic(ba.data(), omega, false);
    } else {
      // Forward: red then black; backward: black then red.
      for (int first : {0, 1}) {
        if ((first == 0 && direction == SweepDirection::Backward) || (first == 1 && direction == SweepDirection::Forward))
          continue;
        if (fuse_red_black_)
          red_black_fused(ba.data(), omega, first);
        else
          red_black_two_pass(ba.data(), omega, first);
      }
    }
  }
}

void SorSweeper::sweep(Vec b, Vec x, double omega, SorOrdering ordering, SweepDirection direction, int count) {
  load(x);
  relax(b, omega, ordering, direction, count);
  store(x);
}

void SorSweeper::sweep(const Field& b, Field& x, double omega, SorOrdering ordering, SweepDirection direction,
                       int count) {
  if (b.components() != 1 || x.components() != 1) throw Error("SorSweeper::sweep: scalar fields only");
  sweep(b.vec(), x.vec(), omega, ordering, direction, count);
}

double SorSweeper::residual_norm(Vec b) {
  ReadArray ba(b, op_->grid().owned().size());
  if (!ghosts_fresh_) exchange_ghosts();
  const double* bb = ba.data();
  const RowMaker rows = make_rows(*op_, inv_diag_.data(), n_, px_, pxy_);
  const PetscInt ny = n_[1], nz = n_[2];
  double sum = 0.0;
  if (dim_ == 2) {
    for (PetscInt j = 0; j < ny; ++j) {
      const sor_kernels::Row2d r = rows.row2d(bb, j);
      sum += sor_kernels::residual_row(r, x_.data() + (j + 1) * px_ + 1);
    }
  } else {
    for (PetscInt k = 0; k < nz; ++k)
      for (PetscInt j = 0; j < ny; ++j) {
        const sor_kernels::Row3d r = rows.row3d(bb, j, k);
        sum += sor_kernels::residual_row(r, x_.data() + (k + 1) * pxy_ + (j + 1) * px_ + 1);
      }
  }
  double total = 0.0;
  MPI_Allreduce(&sum, &total, 1, MPI_DOUBLE, MPI_SUM, op_->grid().comm());
  return std::sqrt(total);
}

}  // namespace fluxion
