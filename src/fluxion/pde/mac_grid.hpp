// The staggered (MAC) layout over a cell-centred Grid: velocity components on the faces normal to
// their axis, scalars at cell centres, each with a two-cell ghost layer for semi-Lagrangian advection.
#pragma once

#include <petscdmda.h>

#include <algorithm>
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
  /// The point of sample (i, j, k) (z = 0 in 2D).
  std::array<double, 3> position(MacLocation where, PetscInt i, PetscInt j, PetscInt k) const {
    return {coordinate(where, 0, static_cast<double>(i)), coordinate(where, 1, static_cast<double>(j)),
            dim() == 3 ? coordinate(where, 2, static_cast<double>(k)) : 0.0};
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

/// Linear interpolation of a MacField at any point within its ghost layers, set up once per field
/// so that the per-point work is a few multiplications (the semi-Lagrangian steps call it ~10 times
/// per sample). Along non-periodic axes a point outside the domain is moved onto its boundary
/// first; indices are clamped to the ghost layers, which only guards memory (CFL <= 1 keeps
/// departure points inside).
class MacSampler {
 public:
  explicit MacSampler(const MacField& q) : q_(&q), dim_(q.grid().dim()) {
    const Grid& g = q.grid().cells();
    const IndexBox& gh = q.ghosted();
    for (int a = 0; a < 3; ++a) {
      const bool active = a < dim_;
      periodic_[a] = active && g.periodic(a);
      lower_[a] = active ? g.lower(a) : 0.0;
      upper_[a] = active ? g.upper(a) : 0.0;
      inv_h_[a] = active ? 1.0 / g.spacing(a) : 0.0;
      shift_[a] = active && static_cast<int>(q.location()) != a ? 0.5 : 0.0;
      first_[a] = gh.begin[a];
      last_[a] = active ? gh.end[a] - 2 : gh.begin[a];
      stride_[a] = q.stride(a);
    }
  }

  double operator()(const std::array<double, 3>& x, double* lo = nullptr, double* hi = nullptr) const {
    PetscInt offset = 0;
    double t[3] = {0.0, 0.0, 0.0};
    for (int a = 0; a < dim_; ++a) {
      double xa = x[a];
      if (!periodic_[a]) xa = std::clamp(xa, lower_[a], upper_[a]);
      const double s = (xa - lower_[a]) * inv_h_[a] - shift_[a];
      PetscInt i = static_cast<PetscInt>(s);
      if (static_cast<double>(i) > s) --i;  // floor without a library call
      double frac = s - static_cast<double>(i);
      if (i < first_[a]) {
        i = first_[a];
        frac = 0.0;
      } else if (i > last_[a]) {
        i = last_[a];
        frac = 1.0;
      }
      offset += (i - first_[a]) * stride_[a];
      t[a] = frac;
    }
    const double* d = q_->data() + offset;
    const PetscInt sy = stride_[1];
    if (dim_ == 2) {
      const double a00 = d[0], a10 = d[1], a01 = d[sy], a11 = d[sy + 1];
      if (lo) {
        *lo = std::min(std::min(a00, a10), std::min(a01, a11));
        *hi = std::max(std::max(a00, a10), std::max(a01, a11));
      }
      return (1 - t[1]) * (a00 + t[0] * (a10 - a00)) + t[1] * (a01 + t[0] * (a11 - a01));
    }
    const PetscInt sz = stride_[2];
    const double a000 = d[0], a100 = d[1], a010 = d[sy], a110 = d[sy + 1];
    const double a001 = d[sz], a101 = d[sz + 1], a011 = d[sz + sy], a111 = d[sz + sy + 1];
    if (lo) {
      *lo = std::min({a000, a100, a010, a110, a001, a101, a011, a111});
      *hi = std::max({a000, a100, a010, a110, a001, a101, a011, a111});
    }
    const double b0 = (1 - t[1]) * (a000 + t[0] * (a100 - a000)) + t[1] * (a010 + t[0] * (a110 - a010));
    const double b1 = (1 - t[1]) * (a001 + t[0] * (a101 - a001)) + t[1] * (a011 + t[0] * (a111 - a011));
    return b0 + t[2] * (b1 - b0);
  }

 private:
  const MacField* q_;
  int dim_;
  bool periodic_[3];
  double lower_[3], upper_[3], inv_h_[3], shift_[3];
  PetscInt first_[3], last_[3], stride_[3];
};

}  // namespace fluxion
