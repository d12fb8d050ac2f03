// The cell-centred operator -div(k grad u) + c u on a Grid: 5-point (2D) / 7-point (3D) stencil
// weights, applied matrix-free or assembled into a PETSc Mat.
#pragma once

#include <petscmat.h>

#include <array>
#include <memory>
#include <vector>

#include "fluxion/core/boundary.hpp"
#include "fluxion/core/field.hpp"
#include "fluxion/core/solid_mask.hpp"

namespace fluxion {

/// An operator given by its weights, in StencilOperator's storage layout (see diagonal_data() and
/// face_data()): what multigrid's coarse levels are made of.
struct StencilWeights {
  std::vector<double> diagonal;             // owned box, x fastest
  std::array<std::vector<double>, 3> faces; // face_box(axis) each (empty for z in 2D)
  std::vector<unsigned char> solid;         // owned box: 1 for a solid cell (identity row)
  std::vector<double> dirichlet;            // owned box: the part of `diagonal` that comes from
                                            // Dirichlet domain faces (empty: none)
  bool singular = false;                    // the constant on the fluid cells is a null vector
};

/// Finite-volume discretisation of A u = -div(k grad u) + c u, divided by the cell volume:
///  - interior faces carry the harmonic mean of the two cells' k;
///  - a Dirichlet face puts the ghost value 2 g - u_P behind the face (a weight 2 k_b / h^2
///    on the diagonal and 2 k_b g / h^2 in the right-hand side), with k_b the face's k linearly
///    extrapolated from the two cells behind it (second order also in the max norm);
///  - a Neumann face takes the outward flux g = k du/dn: it adds g / h to the right-hand side;
///  - periodic faces couple to the opposite side through the DMDA's ghosts;
///  - faces between a fluid and a solid cell carry no flux (homogeneous Neumann on obstacles),
///    and a solid cell's row is a scaled identity whose right-hand side is 0, so u = 0 there.
///
/// The weights are computed once and stored per face (the matrix is symmetric, so one number
/// per face serves both cells) and per cell (the diagonal). apply(), the assembled Mat and the
/// relaxation kernels all read them, so every path applies exactly the same operator.
class StencilOperator {
 public:
  StencilOperator(std::shared_ptr<const Grid> grid, const Field& k, const Field& c, BoundaryConditions bc,
                  std::shared_ptr<const SolidMask> solid = nullptr);
  /// From weights computed elsewhere (multigrid's coarse operators): the boundary conditions only
  /// say which faces are periodic and which are Dirichlet; the operator has no boundary terms.
  StencilOperator(std::shared_ptr<const Grid> grid, BoundaryConditions bc, StencilWeights weights);
  ~StencilOperator();
  StencilOperator(const StencilOperator&) = delete;
  StencilOperator& operator=(const StencilOperator&) = delete;

  const Grid& grid() const { return *grid_; }
  const std::shared_ptr<const Grid>& grid_ptr() const { return grid_; }
  const BoundaryConditions& boundary() const { return bc_; }
  const SolidMask* solid() const { return solid_.get(); }

  /// y = A x (matrix-free; x's ghosts are exchanged inside).
  void apply(const Field& x, Field& y) const;
  /// The same on raw Vecs of the grid's scalar DMDA layout (what a MATSHELL gets).
  void apply(Vec x, Vec y) const;
  /// r = b - A x
  void residual(const Field& b, const Field& x, Field& r) const;
  /// b += the boundary data's contribution at time t (Dirichlet values, Neumann fluxes);
  /// zeroes b on solid cells.
  void add_boundary_terms(Field& b, double t = 0.0) const;
  /// Sets x to 0 on solid cells (their exact value; an iterative solve leaves round-off there).
  void zero_solid(Field& x) const;

  /// The assembled AIJ matrix (built on first use, then cached; owned by this operator).
  Mat matrix() const;
  /// A MATSHELL that applies the operator matrix-free (built on first use; owned by this operator).
  Mat shell() const;

  /// True when A is singular: no Dirichlet face and c == 0 everywhere. The null space is then the
  /// constant on the fluid cells, and the solvers project it out of the right-hand side.
  bool singular() const { return singular_; }
  /// The normalised null vector (1/sqrt(n_fluid) on fluid cells, 0 on solid), or null if regular.
  Vec null_vector() const { return null_vector_; }

  /// Entries of A for an owned cell: the diagonal, and the coupling to neighbour d
  /// (0 x-, 1 x+, 2 y-, 3 y+, 4 z-, 5 z+, like Face; 0 where the face couples nothing).
  double diagonal(PetscInt i, PetscInt j, PetscInt k = 0) const;
  double off_diagonal(int d, PetscInt i, PetscInt j, PetscInt k = 0) const;

  /// Raw storage for kernels. The diagonal is in the owned box's x-fastest order. The face
  /// couplings normal to `axis` live on face_box(axis): the owned box with one more layer at the
  /// upper end of that axis; entry (i, j, k) is the face between cells i-1 and i along the axis.
  const double* diagonal_data() const { return diag_.data(); }
  const double* face_data(int axis) const { return faces_[axis].data(); }
  IndexBox face_box(int axis) const;
  /// Index in face_data(axis) of the lower face of cell (i, j, k) of the owned box `o`, counted
  /// from its first cell; its upper face is at that index plus upper_face_step(o, axis). Static
  /// forms for face arrays in this layout that belong to no operator yet (StencilWeights).
  static PetscInt lower_face(const IndexBox& o, int axis, PetscInt i, PetscInt j, PetscInt k) {
    const PetscInt ex = o.extent(0) + (axis == 0), ey = o.extent(1) + (axis == 1);
    return (k * ey + j) * ex + i;
  }
  static PetscInt upper_face_step(const IndexBox& o, int axis) {
    return axis == 0 ? 1 : axis == 1 ? o.extent(0) : o.extent(0) * o.extent(1);
  }
  /// The sum of the couplings (face weights, <= 0) around cell (i, j, k) of the owned box `o`.
  static double coupling_sum(const std::array<std::vector<double>, 3>& faces, const IndexBox& o, int dim, PetscInt i,
                             PetscInt j, PetscInt k) {
    double sum = 0.0;
    for (int a = 0; a < dim; ++a) {
      const PetscInt lower = lower_face(o, a, i, j, k);
      sum += faces[a][lower] + faces[a][lower + upper_face_step(o, a)];
    }
    return sum;
  }
  /// The same for this operator's owned cells (owned-box indices from 0).
  PetscInt lower_face(int axis, PetscInt i, PetscInt j, PetscInt k) const {
    return lower_face(grid_->owned(), axis, i, j, k);
  }
  PetscInt upper_face_step(int axis) const { return upper_face_step(grid_->owned(), axis); }
  double coupling_sum(PetscInt i, PetscInt j, PetscInt k) const {
    return coupling_sum(faces_, grid_->owned(), grid_->dim(), i, j, k);
  }
  /// 1 for a solid owned cell, in the diagonal's order.
  const std::vector<unsigned char>& solid_flags() const { return is_solid_; }
  /// The owned cell's weight on its Dirichlet domain faces (2 k_b / h^2 each, summed; 0 for
  /// cells on no Dirichlet face), in the diagonal's order: the part of the diagonal that comes
  /// from boundary conditions.
  const std::vector<double>& dirichlet_diagonal() const { return dirichlet_; }

  /// In place: the operator as if built with k * factor (factor > 0; c, boundary types and
  /// obstacles unchanged): faces and Dirichlet weights scaled, the diagonal rebuilt, the assembled
  /// matrix (if any) refilled and the shell's state advanced, so that a KSP using either sets its
  /// preconditioner up again on the next solve (LinearSolver::operator_changed()).
  void scale_conductivity(double factor);

  /// The operator that made a PETSc Mat (matrix() or shell() of some StencilOperator), or null:
  /// how a PETSc preconditioner handed only the Mat finds the stencil.
  static const StencilOperator* from_matrix(Mat A);

 private:
  using Storage = std::vector<double>;

  void compute_weights(const Field& k, const Field& c);
  void build_null_space();
  void attach_to(Mat A) const;
  void fill_matrix() const;

  std::shared_ptr<const Grid> grid_;
  BoundaryConditions bc_;
  std::shared_ptr<const SolidMask> solid_;
  Storage diag_;
  std::array<Storage, 3> faces_;
  // A fluid cell's face on the domain boundary, with the factor (Dirichlet: 2 k_face / h^2,
  // Neumann: 1 / h) that multiplies the boundary value in the right-hand side.
  struct BoundaryFace {
    std::array<PetscInt, 3> cell;
    int direction;
    double weight;
  };
  std::vector<BoundaryFace> boundary_faces_;
  Storage dirichlet_;
  std::vector<unsigned char> is_solid_;
  bool singular_ = false;
  Vec null_vector_ = nullptr;
  mutable Mat matrix_ = nullptr;
  mutable Mat shell_ = nullptr;
};

}  // namespace fluxion
