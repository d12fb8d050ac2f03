// Uniform cell-centred 2D/3D grids distributed over MPI ranks by a PETSc DMDA.
#pragma once

#include <petscdmda.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fluxion {

/// The six faces of the domain box; in 2D only the first four exist.
enum class Face : int { XLower = 0, XUpper = 1, YLower = 2, YUpper = 3, ZLower = 4, ZUpper = 5 };
inline constexpr std::array<const char*, 6> kFaceNames = {"x_lower", "x_upper", "y_lower",
                                                          "y_upper", "z_lower", "z_upper"};
inline constexpr int face_axis(Face f) { return static_cast<int>(f) / 2; }
inline constexpr bool face_is_upper(Face f) { return static_cast<int>(f) % 2 == 1; }

/// What a grid is: dimension, cells per axis, the box [lower, upper], periodic axes.
struct GridSpec {
  int dim = 2;
  std::array<PetscInt, 3> cells{1, 1, 1};
  std::array<double, 3> lower{0.0, 0.0, 0.0};
  std::array<double, 3> upper{1.0, 1.0, 1.0};
  std::array<bool, 3> periodic{false, false, false};
  /// Memory a run needs per cell, for the check before the grid is allocated: the default is what
  /// the poisson and heat apps take (fields, stencil weights, the assembled matrix, multigrid and
  /// Krylov vectors; measured at 64^3..128^3: about 510 and 630 bytes). 0 skips the check.
  double bytes_per_cell = kDefaultBytesPerCell;
  static constexpr double kDefaultBytesPerCell = 600.0;
};

/// Memory this process's machine can still give (MemAvailable, or less under a cgroup limit), in bytes.
double available_memory_bytes();

/// Index box [begin, end) in global cell indices; in 2D the z range is [0, 1).
struct IndexBox {
  std::array<PetscInt, 3> begin{0, 0, 0};
  std::array<PetscInt, 3> end{1, 1, 1};
  PetscInt extent(int axis) const { return end[axis] - begin[axis]; }
  PetscInt size() const { return extent(0) * extent(1) * extent(2); }
  bool contains(PetscInt i, PetscInt j, PetscInt k) const {
    return i >= begin[0] && i < end[0] && j >= begin[1] && j < end[1] && k >= begin[2] && k < end[2];
  }
};

/// A uniform cell-centred grid. Cell (i, j, k) has centre lower + (index + 1/2) * spacing.
/// The same code runs on 1 or N ranks: each rank owns the box `owned()` and sees one
/// layer of ghost cells (`ghosted()`) through the DMDA's star stencil.
/// The constructor is collective. Before allocating anything it refuses (ConfigError naming
/// grid.cells) a cell count that PetscInt cannot index, and one whose estimated memory
/// (cells x spec.bytes_per_cell) exceeds what the machines of the ranks have available.
class Grid {
 public:
  Grid(MPI_Comm comm, const GridSpec& spec);
  /// Cells per rank along each axis of the process grid (as DMDAGetOwnershipRanges gives them).
  using Ownership = std::array<std::vector<PetscInt>, 3>;
  /// A grid with this exact partition (ownership[a] has one entry per process along axis a, each
  /// >= 1, summing to spec.cells[a]); no memory check (spec.bytes_per_cell is ignored).
  Grid(MPI_Comm comm, const GridSpec& spec, const Ownership& ownership);
  ~Grid();
  Grid(const Grid&) = delete;
  Grid& operator=(const Grid&) = delete;

  const GridSpec& spec() const { return spec_; }
  int dim() const { return spec_.dim; }
  PetscInt cells(int axis) const { return spec_.cells[axis]; }
  double lower(int axis) const { return spec_.lower[axis]; }
  double upper(int axis) const { return spec_.upper[axis]; }
  bool periodic(int axis) const { return spec_.periodic[axis]; }
  double spacing(int axis) const { return spacing_[axis]; }
  double cell_volume() const;
  double center(int axis, PetscInt index) const { return spec_.lower[axis] + (index + 0.5) * spacing_[axis]; }
  long long global_cells() const;

  MPI_Comm comm() const { return comm_; }
  int rank() const { return rank_; }
  int ranks() const { return size_; }

  /// Cells this rank owns, and those plus the ghost layer it can read.
  const IndexBox& owned() const { return owned_; }
  const IndexBox& ghosted() const { return ghosted_; }

  /// The scalar DMDA (one dof per cell), and a cached DMDA with `components` dofs and the same layout.
  DM dm() const { return dm_; }
  DM dm(int components) const;

  std::string describe() const;  // "128 x 64 cells on [0, 1] x [0, 0.5], 2 ranks"

  /// This rank's cells per process along each axis.
  Ownership ownership() const;
  /// Whether coarsen() can make a grid of half the cells on every axis: every axis has an even
  /// number of cells and every rank keeps at least `min_per_rank` coarse cells per axis.
  bool can_coarsen(PetscInt min_per_rank = 2) const;
  /// How many times in a row coarsen() could be applied with can_coarsen(min_per_rank) holding
  /// each time (counted without building the grids).
  int halvings(PetscInt min_per_rank = 2) const;
  /// The grid of half the cells on every axis, same box and periodicity, partitioned so that the
  /// children 2I, 2I+1 of a coarse cell I owned by a rank are owned by it or lie in its ghost
  /// layer: a rank owns the coarse cells [ceil(b / 2), ceil(e / 2)) of its fine cells [b, e).
  /// Collective; throws fluxion::Error unless can_coarsen(1).
  std::shared_ptr<const Grid> coarsen() const;

 private:
  /// Checks spec_ (dimension, cell counts, extent), fixes the unused z of a 2D grid and sets the spacing.
  void check_spec_and_space_cells();
  void create(const Ownership* ownership);

  GridSpec spec_;
  std::array<double, 3> spacing_{1.0, 1.0, 1.0};
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  DM dm_ = nullptr;
  mutable std::map<int, DM> component_dms_;
  IndexBox owned_, ghosted_;
};

}  // namespace fluxion
