// The staggered (MAC) layout over a cell-centred Grid: velocity components on the faces normal to
// their axis, scalars at cell centres, each with a two-cell ghost layer for semi-Lagrangian advection.
#pragma once

#include <petscdmda.h>

#include <array>
#include <memory>

#include "fluxion/core/field.hpp"
#include "fluxion/core/grid.hpp"

namespace fluxion {

/// Where a MAC variable lives: at cell centres, or on the faces normal to axis 0, 1 or 2.
/// Face location `a` has sample (i, j, k) on the lower face of cell (i, j, k) along a; along a
/// non-periodic axis there is one more sample than cells (index n is the upper domain face).
enum class MacLocation : int { FaceX = 0, FaceY = 1, FaceZ = 2, Cell = 3 };
inline constexpr MacLocation face_location(int axis) { return static_cast<MacLocation>(axis); }

/// The DMDAs of a staggered grid. Every layout has the cell grid's partition (a rank's last
/// face along a non-periodic axis is the upper domain face when it owns the upper cells), a box
/// stencil and kGhostWidth ghost layers; along non-periodic axes the ghost layers extend beyond
/// the domain (DM_BOUNDARY_GHOSTED), where the caller fills them from boundary conditions.
class MacGrid {
 public:
  /// Semi-Lagrangian departure points stay within one cell (CFL <= 1) and interpolation reads one
  /// more sample beyond them.
  static constexpr int kGhostWidth = 2;

  /// Collective. Throws ConfigError when a rank owns fewer than kGhostWidth cells along an axis
  /// (the DMDA cannot give it two ghost layers).
  explicit MacGrid(std::shared_ptr<const Grid> cells);
  ~MacGrid();
  MacGrid(const MacGrid&) = delete;
  MacGrid& operator=(const MacGrid&) = delete;

  const Grid& cells() const { return *cells_; }
  const std::shared_ptr<const Grid>& cells_ptr() const { return cells_; }
  int dim() const { return cells_->dim(); }
  DM dm(MacLocation where) const { return dms_[static_cast<int>(where)]; }
  /// Samples along `axis` over the whole domain.
  PetscInt samples(MacLocation where, int axis) const;
  const IndexBox& owned(MacLocation where) const { return owned_[static_cast<int>(where)]; }
  const IndexBox& ghosted(MacLocation where) const { return ghosted_[static_cast<int>(where)]; }
  /// The coordinate along `axis` of sample `index`.
  double coordinate(MacLocation where, int axis, double index) const {
    const bool on_face = static_cast<int>(where) == axis;
    return cells_->lower(axis) + (index + (on_face ? 0.0 : 0.5)) * cells_->spacing(axis);
  }
  /// The (fractional) sample index of coordinate x along `axis` (inverse of coordinate()).
  double index_of(MacLocation where, int axis, double x) const {
    const bool on_face = static_cast<int>(where) == axis;
    return (x - cells_->lower(axis)) / cells_->spacing(axis) - (on_face ? 0.0 : 0.5);
  }

 private:
  std::shared_ptr<const Grid> cells_;
  std::array<DM, 4> dms_{};
  std::array<IndexBox, 4> owned_{}, ghosted_{};
};

/// One scalar on a MacGrid location, stored as the DMDA's local (ghosted) vector: owned samples
/// are written in place, exchange() refreshes the ghosts from the neighbours (boundary ghosts are
/// the owner's business: see NavierStokes).
class MacField {
 public:
  MacField(const MacGrid& grid, MacLocation where);
  ~MacField();
  MacField(const MacField& other);
  MacField& operator=(const MacField& other);
  MacField(MacField&& other) noexcept;
  MacField& operator=(MacField&& other) noexcept;

  MacLocation location() const { return where_; }
  const IndexBox& owned() const { return grid_->owned(where_); }
  const IndexBox& ghosted() const { return grid_->ghosted(where_); }
  const MacGrid& grid() const { return *grid_; }

  double& operator()(PetscInt i, PetscInt j, PetscInt k = 0) { return data_[offset(i, j, k)]; }
  double operator()(PetscInt i, PetscInt j, PetscInt k = 0) const { return data_[offset(i, j, k)]; }
  /// Distance in the array between neighbours along `axis`.
  PetscInt stride(int axis) const { return stride_[axis]; }
  double* data() { return data_; }
  const double* data() const { return data_; }
  PetscInt offset(PetscInt i, PetscInt j, PetscInt k) const {
    const IndexBox& g = ghosted();
    return (k - g.begin[2]) * stride_[2] + (j - g.begin[1]) * stride_[1] + (i - g.begin[0]);
  }

  void fill(double value);
  /// Copies the owned samples of the neighbours into this rank's ghost layers (periodic wrap
  /// included). Collective.
  void exchange();
  /// max |value| over the owned samples of all ranks. Collective.
  double norm_max() const;
  /// True when every owned sample on every rank is finite. Collective.
  bool all_finite() const;

 private:
  const MacGrid* grid_;
  MacLocation where_;
  Vec local_ = nullptr;
  double* data_ = nullptr;  // local_'s array, held for the object's life
  std::array<PetscInt, 3> stride_{};
  void attach();
  void detach();
};

}  // namespace fluxion
