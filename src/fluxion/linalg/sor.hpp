// Matrix-free SOR / SSOR sweeps on a StencilOperator, in lexicographic or red-black order.
#pragma once

#include <petscvec.h>

#include <array>
#include <vector>

#include "fluxion/core/field.hpp"

namespace fluxion {

class StencilOperator;

/// The order in which a sweep visits the cells.
///  - Lexicographic: x fastest, then y, then z. On one rank a forward sweep is exactly PETSc's
///    MatSOR(A, b, omega, SOR_FORWARD_SWEEP, 0, 1, 1, x) on op.matrix(), up to round-off: the
///    additions are ordered for speed (sor_kernels_2d.hpp) and we multiply by a precomputed
///    1 / a_ii where MatSOR divides; the tests allow 1e-13 relative. Under MPI it is the processor-local (block Jacobi) version: the ghosts are
///    refreshed once at the start of each sweep and every rank sweeps its own box, like
///    MatSOR with SOR_LOCAL_FORWARD_SWEEP, so iterates depend on the number of ranks (and for
///    omega near 2 block-Jacobi SOR can diverge where SOR converges: use RedBlack in parallel).
///  - RedBlack: colour (i + j + k) % 2 in global indices; all colour-0 cells, then all colour-1
///    cells, with a halo exchange before each colour. Results are the same on any number of
///    ranks (to the last bit on the machines we tried; the tests allow round-off). With an odd
///    cell count on a periodic axis the two cells that meet across the wrap share a colour and
///    see each other's value from before the colour (still the same on any number of ranks).
///  - Auto: Lexicographic on one rank, RedBlack on several (ordering_for() resolves it), so that a
///    parallel run never does processor-block SOR unless asked to.
enum class SorOrdering { Lexicographic, RedBlack, Auto };

/// The ordering a sweep on `grid` uses for `ordering` (resolves Auto by the number of ranks).
SorOrdering ordering_for(SorOrdering ordering, const Grid& grid);

/// Forward visits the cells in the ordering's order, Backward in reverse (red-black: colour 1
/// first, then colour 0), Symmetric is Forward then Backward (one SSOR step). A symmetric
/// lexicographic sweep refreshes the ghosts once, at its start (SOR_LOCAL_SYMMETRIC_SWEEP), so
/// from a zero initial guess it is a symmetric operator on any number of ranks.
enum class SweepDirection { Forward, Backward, Symmetric };

/// SOR sweeps x <- x + omega * (b - A x)_i / a_ii, cell by cell, on the weights the operator
/// stores (variable k, obstacles and every boundary kind are already in them). The iterate lives
/// in the sweeper's own padded array (owned box + one layer on every side; zeros where the
/// domain ends, so the kernels need no branch per neighbour), so a solver loads x once, sweeps
/// as often as it needs and stores x once.
///
///     SorSweeper sweeper(op);
///     sweeper.sweep(b, x, 1.8);                              // one forward sweep, in place
///     sweeper.load(x);                                       // or: many sweeps, no copies
///     for (int it = 0; it < 10; ++it) sweeper.relax(b, 1.8, SorOrdering::RedBlack);
///     double r = sweeper.residual_norm(b);                   // ||b - A x||_2, all ranks
///     sweeper.store(x);
///
/// All calls except store() and load() are collective over the grid's communicator. A cell whose
/// diagonal is zero (a row of A without entries) is driven to zero.
class SorSweeper {
 public:
  /// The operator must outlive the sweeper.
  explicit SorSweeper(const StencilOperator& op);

  const StencilOperator& op() const { return *op_; }
  /// Reads the operator's diagonal again (after StencilOperator::scale_conductivity).
  void refresh_diagonal();

  /// `count` sweeps on x in place (copies x in and out; for many sweeps use load/relax/store).
  void sweep(const Field& b, Field& x, double omega, SorOrdering ordering = SorOrdering::Lexicographic,
             SweepDirection direction = SweepDirection::Forward, int count = 1);
  void sweep(Vec b, Vec x, double omega, SorOrdering ordering = SorOrdering::Lexicographic,
             SweepDirection direction = SweepDirection::Forward, int count = 1);

  /// The iterate: load from a field or Vec of the grid's scalar layout, or start from zero
  /// (load_zero() on every rank: the ghosts are then known to be zero without an exchange).
  void load(const Field& x) { load(x.vec()); }
  void load(Vec x);
  void load_zero();
  /// `count` sweeps on the loaded iterate.
  void relax(const Field& b, double omega, SorOrdering ordering = SorOrdering::Lexicographic,
             SweepDirection direction = SweepDirection::Forward, int count = 1) {
    relax(b.vec(), omega, ordering, direction, count);
  }
  void relax(Vec b, double omega, SorOrdering ordering = SorOrdering::Lexicographic,
             SweepDirection direction = SweepDirection::Forward, int count = 1);
  /// ||b - A x||_2 of the loaded iterate over all ranks (refreshes the ghosts if needed).
  double residual_norm(const Field& b) { return residual_norm(b.vec()); }
  double residual_norm(Vec b);
  void store(Field& x) const { store(x.vec()); }
  void store(Vec x) const;
  /// r = b - A x of the loaded iterate (refreshes the ghosts if needed).
  void residual(Vec b, Vec r);
  /// The loaded iterate's owned row (j, k) (owned-box indices from 0, x fastest), to change in
  /// place (a multigrid correction); the ghosts count as stale afterwards.
  double* iterate_row(PetscInt j, PetscInt k) {
    ghosts_fresh_ = false;
    return x_.data() + (k + (dim_ == 3 ? 1 : 0)) * pxy_ + (j + 1) * px_ + 1;
  }

  /// A red-black sweep makes one pass over memory (the default) or two, one per colour; both give
  /// the same iterate to the last bit. The choice is there to measure and to test the fused one.
  void fuse_red_black(bool fused) { fuse_red_black_ = fused; }

 private:
  void exchange_ghosts();
  void copy_row(PetscInt from_j, PetscInt to_j, PetscInt k);
  void lexicographic(const double* b, double omega, bool forward);
  PetscInt first_of_colour(int colour, PetscInt j, PetscInt k) const;
  /// The cells of `colour` in [begin, end) of owned row (j, k).
  void colour_cells(const double* b, double omega, int colour, PetscInt j, PetscInt k, PetscInt begin, PetscInt end);
  /// Colour `first`, then the other.
  void red_black_two_pass(const double* b, double omega, int first);
  void red_black_fused(const double* b, double omega, int first);

  const StencilOperator* op_;
  int dim_;
  std::array<PetscInt, 3> n_{1, 1, 1};       // owned extents
  std::array<PetscInt, 3> origin_{0, 0, 0};  // global index of the first owned cell
  PetscInt px_ = 0, pxy_ = 0;                // strides of the padded array
  std::vector<double> x_;                    // padded iterate
  std::vector<double> inv_diag_;             // 1 / a_ii (0 where a_ii = 0)
  std::vector<double> scratch_;              // two rows for the lexicographic kernels
  std::array<std::array<int, 2>, 3> neighbour_{};  // rank below / above along each axis, or MPI_PROC_NULL
  std::vector<double> send_, receive_;
  std::array<bool, 3> self_wrap_{};  // periodic axis with this rank its own neighbour
  bool ghosts_fresh_ = false;
  bool fuse_red_black_ = true;
};

}  // namespace fluxion
