// The staggered layout's DMDAs and the ghosted scalar that lives on them.
#include "fluxion/pde/mac_grid.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "fluxion/core/error.hpp"

namespace fluxion {

namespace {

DMBoundaryType boundary_type(bool periodic) { return periodic ? DM_BOUNDARY_PERIODIC : DM_BOUNDARY_GHOSTED; }

IndexBox box_of(DM dm, bool ghosted) {
  PetscInt b[3] = {0, 0, 0}, e[3] = {1, 1, 1};
  if (ghosted)
    FLUXION_PETSC_CHECK(DMDAGetGhostCorners(dm, &b[0], &b[1], &b[2], &e[0], &e[1], &e[2]));
  else
    FLUXION_PETSC_CHECK(DMDAGetCorners(dm, &b[0], &b[1], &b[2], &e[0], &e[1], &e[2]));
  IndexBox box;
  for (int a = 0; a < 3; ++a) {
    box.begin[a] = b[a];
    box.end[a] = b[a] + std::max<PetscInt>(e[a], 1);
  }
  return box;
}

}  // namespace

MacGrid::MacGrid(std::shared_ptr<const Grid> cells) : cells_(std::move(cells)) {
  if (!cells_) throw Error("MacGrid: no grid");
  const Grid& g = *cells_;
  const int dim = g.dim();
  const Grid::Ownership ownership = g.ownership();
  for (int a = 0; a < dim; ++a)
    for (PetscInt n : ownership[a])
      if (n < kGhostWidth)
        throw ConfigError("grid.cells: the staggered grid needs at least " + std::to_string(kGhostWidth) +
                          " cells per rank along each axis, but a rank owns " + std::to_string(n) + " along " +
                          "xyz"[a] + " (" + g.describe() + "): use fewer ranks or more cells");
  std::vector<int> locations{static_cast<int>(MacLocation::Cell)};
  for (int a = 0; a < dim; ++a) locations.push_back(a);
  for (int where : locations) {
    std::array<std::vector<PetscInt>, 3> ranges = ownership;
    std::array<PetscInt, 3> n{g.cells(0), g.cells(1), dim == 3 ? g.cells(2) : 1};
    if (where < dim && !g.periodic(where)) {
      ranges[where].back() += 1;
      n[where] += 1;
    }
    DM dm = nullptr;
    if (dim == 2) {
      FLUXION_PETSC_CHECK(DMDACreate2d(g.comm(), boundary_type(g.periodic(0)), boundary_type(g.periodic(1)),
                                       DMDA_STENCIL_BOX, n[0], n[1], static_cast<PetscInt>(ranges[0].size()),
                                       static_cast<PetscInt>(ranges[1].size()), 1, kGhostWidth, ranges[0].data(),
                                       ranges[1].data(), &dm));
    } else {
      FLUXION_PETSC_CHECK(DMDACreate3d(g.comm(), boundary_type(g.periodic(0)), boundary_type(g.periodic(1)),
                                       boundary_type(g.periodic(2)), DMDA_STENCIL_BOX, n[0], n[1], n[2],
                                       static_cast<PetscInt>(ranges[0].size()),
                                       static_cast<PetscInt>(ranges[1].size()),
                                       static_cast<PetscInt>(ranges[2].size()), 1, kGhostWidth, ranges[0].data(),
                                       ranges[1].data(), ranges[2].data(), &dm));
    }
    FLUXION_PETSC_CHECK(DMSetUp(dm));
    dms_[where] = dm;
    owned_[where] = box_of(dm, false);
    ghosted_[where] = box_of(dm, true);
  }
}

MacGrid::~MacGrid() {
  for (DM& dm : dms_)
    if (dm) DMDestroy(&dm);
}

PetscInt MacGrid::samples(MacLocation where, int axis) const {
  const int w = static_cast<int>(where);
  return cells_->cells(axis) + (w == axis && !cells_->periodic(axis) ? 1 : 0);
}

MacField::MacField(const MacGrid& grid, MacLocation where) : grid_(&grid), where_(where) {
  if (!grid.dm(where)) throw Error("MacField: a 2D grid has no z faces");
  FLUXION_PETSC_CHECK(DMCreateLocalVector(grid.dm(where), &local_));
  FLUXION_PETSC_CHECK(VecSet(local_, 0.0));
  attach();
}

MacField::~MacField() { detach(); }

MacField::MacField(const MacField& other) : grid_(other.grid_), where_(other.where_) {
  FLUXION_PETSC_CHECK(VecDuplicate(other.local_, &local_));
  FLUXION_PETSC_CHECK(VecCopy(other.local_, local_));
  attach();
}

MacField& MacField::operator=(const MacField& other) {
  if (this == &other) return *this;
  if (grid_ == other.grid_ && where_ == other.where_) {
    std::copy(other.data_, other.data_ + offset(ghosted().end[0] - 1, ghosted().end[1] - 1, ghosted().end[2] - 1) + 1,
              data_);
    return *this;
  }
  MacField copy(other);
  *this = std::move(copy);
  return *this;
}

MacField::MacField(MacField&& other) noexcept
    : grid_(other.grid_), where_(other.where_), local_(other.local_), data_(other.data_), stride_(other.stride_) {
  other.local_ = nullptr;
  other.data_ = nullptr;
}

MacField& MacField::operator=(MacField&& other) noexcept {
  if (this == &other) return *this;
  detach();
  grid_ = other.grid_;
  where_ = other.where_;
  local_ = other.local_;
  data_ = other.data_;
  stride_ = other.stride_;
  other.local_ = nullptr;
  other.data_ = nullptr;
  return *this;
}

void MacField::attach() {
  const IndexBox& g = ghosted();
  stride_ = {1, g.extent(0), g.extent(0) * g.extent(1)};
  FLUXION_PETSC_CHECK(VecGetArray(local_, &data_));
}

void MacField::detach() {
  if (!local_) return;
  if (data_) VecRestoreArray(local_, &data_);
  VecDestroy(&local_);
  local_ = nullptr;
  data_ = nullptr;
}

void MacField::fill(double value) {
  const IndexBox& g = ghosted();
  std::fill(data_, data_ + g.size(), value);
}

void MacField::exchange() {
  // PETSc needs the array back while it scatters.
  FLUXION_PETSC_CHECK(VecRestoreArray(local_, &data_));
  DM dm = grid_->dm(where_);
  FLUXION_PETSC_CHECK(DMLocalToLocalBegin(dm, local_, INSERT_VALUES, local_));
  FLUXION_PETSC_CHECK(DMLocalToLocalEnd(dm, local_, INSERT_VALUES, local_));
  FLUXION_PETSC_CHECK(VecGetArray(local_, &data_));
}

double MacField::norm_max() const {
  double m = 0.0;
  for_each_cell(owned(), [&](PetscInt i, PetscInt j, PetscInt k) { m = std::max(m, std::abs((*this)(i, j, k))); });
  double global = 0.0;
  MPI_Allreduce(&m, &global, 1, MPI_DOUBLE, MPI_MAX, grid_->cells().comm());
  return global;
}

bool MacField::all_finite() const {
  int ok = 1;
  for_each_cell(owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
    if (!std::isfinite((*this)(i, j, k))) ok = 0;
  });
  int global = 0;
  MPI_Allreduce(&ok, &global, 1, MPI_INT, MPI_MIN, grid_->cells().comm());
  return global == 1;
}

}  // namespace fluxion
