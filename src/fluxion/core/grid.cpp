// Grid: a DMDA with one dof per cell, star stencil of width one.
#include "fluxion/core/grid.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "fluxion/core/error.hpp"

namespace fluxion {

namespace {
DMBoundaryType boundary_type(bool periodic) { return periodic ? DM_BOUNDARY_PERIODIC : DM_BOUNDARY_NONE; }

std::string cells_text(const GridSpec& spec) {
  std::string s = "grid.cells: [";
  for (int a = 0; a < spec.dim; ++a) s += (a ? ", " : "") + std::to_string(spec.cells[a]);
  return s + "]";
}

std::string gib(double bytes) {
  char b[32];
  std::snprintf(b, sizeof b, bytes < 10.0 * (1 << 30) ? "%.2f" : "%.0f", bytes / double(1 << 30));
  return b;
}

std::string count_text(double n) {
  char b[48];
  std::snprintf(b, sizeof b, "%.0f", n);
  return b;
}

/// A cgroup's memory limit (v2, then v1), or +inf where none is set. The limit, not the headroom:
/// a cgroup's usage counts page cache that the kernel would give back.
double cgroup_limit() {
  double limit = 0.0;
  if (std::ifstream("/sys/fs/cgroup/memory.max") >> limit) return limit;  // "max" (none) does not parse
  if ((std::ifstream("/sys/fs/cgroup/memory/memory.limit_in_bytes") >> limit) && limit < 1e18)  // ~2^63: none
    return limit;
  return std::numeric_limits<double>::infinity();
}

/// Refuses, on every rank alike, a grid PetscInt cannot index or whose memory estimate exceeds what
/// the ranks' machines have (each machine counted once, through a shared-memory communicator).
void check_size(MPI_Comm comm, const GridSpec& spec) {
  double cells = 1.0;
  for (int a = 0; a < spec.dim; ++a) cells *= static_cast<double>(spec.cells[a]);
  if (cells > static_cast<double>(PETSC_MAX_INT))
    throw ConfigError(cells_text(spec) + " is " + count_text(cells) + " cells; PETSc here indexes at most " +
                      std::to_string(static_cast<long long>(PETSC_MAX_INT)) + " (" +
                      std::to_string(8 * sizeof(PetscInt)) + "-bit PetscInt)");
  if (!(spec.bytes_per_cell > 0.0)) return;
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int node_rank = 0;
  MPI_Comm_rank(node, &node_rank);
  MPI_Comm_free(&node);
  double mine[2] = {node_rank == 0 ? available_memory_bytes() : 0.0, node_rank == 0 ? 1.0 : 0.0}, all[2];
  MPI_Allreduce(mine, all, 2, MPI_DOUBLE, MPI_SUM, comm);
  const double need = cells * spec.bytes_per_cell;
  if (need > all[0])
    throw ConfigError(cells_text(spec) + " needs about " + gib(need) + " GiB; " +
                      (all[1] > 1 ? "these " + std::to_string(static_cast<int>(all[1])) + " machines have "
                                  : std::string("this machine has ")) +
                      gib(all[0]) + " GiB available");
}
}  // namespace

double available_memory_bytes() {
  double available = 0.0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string key; meminfo >> key;) {
    double kib = 0.0;
    meminfo >> kib;
    if (key == "MemAvailable:") {
      available = kib * 1024.0;
      break;
    }
    meminfo.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  if (!(available > 0.0))
    available = static_cast<double>(::sysconf(_SC_AVPHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
  return std::min(available, cgroup_limit());
}

Grid::Grid(MPI_Comm comm, const GridSpec& spec) : spec_(spec), comm_(comm) {
  check_spec_and_space_cells();
  check_size(comm_, spec_);
  create(nullptr);
}

Grid::Grid(MPI_Comm comm, const GridSpec& spec, const Ownership& ownership) : spec_(spec), comm_(comm) {
  check_spec_and_space_cells();
  spec_.bytes_per_cell = 0.0;
  for (int a = 0; a < spec_.dim; ++a) {
    PetscInt sum = 0;
    for (PetscInt n : ownership[a]) {
      if (n < 1) throw Error("Grid: every rank must own at least one cell per axis");
      sum += n;
    }
    if (sum != spec_.cells[a]) throw Error("Grid: the ownership ranges do not add up to the cell count");
  }
  create(&ownership);
}

void Grid::check_spec_and_space_cells() {
  if (spec_.dim != 2 && spec_.dim != 3) throw Error("Grid: dimension must be 2 or 3, got " + std::to_string(spec_.dim));
  if (spec_.dim == 2) {
    spec_.cells[2] = 1;
    spec_.periodic[2] = false;
  }
  for (int a = 0; a < spec_.dim; ++a) {
    if (spec_.cells[a] < 1) throw Error("Grid: the number of cells must be positive on every axis");
    if (!(spec_.upper[a] > spec_.lower[a])) throw Error("Grid: upper must be greater than lower on every axis");
    spacing_[a] = (spec_.upper[a] - spec_.lower[a]) / static_cast<double>(spec_.cells[a]);
  }
  if (spec_.dim == 2) spacing_[2] = 1.0;
}

void Grid::create(const Ownership* ownership) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  std::array<PetscInt, 3> procs = {PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE};
  std::array<const PetscInt*, 3> ranges = {nullptr, nullptr, nullptr};
  if (ownership)
    for (int a = 0; a < spec_.dim; ++a) {
      procs[a] = static_cast<PetscInt>((*ownership)[a].size());
      ranges[a] = (*ownership)[a].data();
    }
  if (spec_.dim == 2) {
    FLUXION_PETSC_CHECK(DMDACreate2d(comm_, boundary_type(spec_.periodic[0]), boundary_type(spec_.periodic[1]),
                                     DMDA_STENCIL_STAR, spec_.cells[0], spec_.cells[1], procs[0], procs[1],
                                     1, 1, ranges[0], ranges[1], &dm_));
  } else {
    FLUXION_PETSC_CHECK(DMDACreate3d(comm_, boundary_type(spec_.periodic[0]), boundary_type(spec_.periodic[1]),
                                     boundary_type(spec_.periodic[2]), DMDA_STENCIL_STAR, spec_.cells[0],
                                     spec_.cells[1], spec_.cells[2], procs[0], procs[1], procs[2], 1, 1,
                                     ranges[0], ranges[1], ranges[2], &dm_));
  }
  // Cell-centred data: coarsening halves the cell count and interpolation is Q0-compatible,
  // which is what geometric multigrid on this DMDA needs.
  FLUXION_PETSC_CHECK(DMDASetInterpolationType(dm_, DMDA_Q0));
  FLUXION_PETSC_CHECK(DMSetUp(dm_));
  // No DMDA coordinates: coarsening would inject them as vertex data, which Q0 grids cannot do;
  // Grid::center() gives cell centres instead.
  PetscInt xs, ys, zs, xm, ym, zm;
  FLUXION_PETSC_CHECK(DMDAGetCorners(dm_, &xs, &ys, &zs, &xm, &ym, &zm));
  owned_.begin = {xs, ys, zs};
  owned_.end = {xs + xm, ys + ym, zs + zm};
  FLUXION_PETSC_CHECK(DMDAGetGhostCorners(dm_, &xs, &ys, &zs, &xm, &ym, &zm));
  ghosted_.begin = {xs, ys, zs};
  ghosted_.end = {xs + xm, ys + ym, zs + zm};
}

Grid::Ownership Grid::ownership() const {
  PetscInt procs[3] = {1, 1, 1};
  FLUXION_PETSC_CHECK(DMDAGetInfo(dm_, nullptr, nullptr, nullptr, nullptr, &procs[0], &procs[1], &procs[2], nullptr,
                                  nullptr, nullptr, nullptr, nullptr, nullptr));
  const PetscInt* ranges[3] = {nullptr, nullptr, nullptr};
  FLUXION_PETSC_CHECK(DMDAGetOwnershipRanges(dm_, &ranges[0], &ranges[1], spec_.dim == 3 ? &ranges[2] : nullptr));
  Ownership o;
  for (int a = 0; a < spec_.dim; ++a) o[a].assign(ranges[a], ranges[a] + procs[a]);
  return o;
}

namespace {
// The coarse counts per process for fine counts per process: [ceil(b/2), ceil(e/2)) of [b, e).
std::vector<PetscInt> coarse_ranges(const std::vector<PetscInt>& fine) {
  std::vector<PetscInt> coarse;
  PetscInt begin = 0;
  for (PetscInt n : fine) {
    const PetscInt end = begin + n;
    coarse.push_back((end + 1) / 2 - (begin + 1) / 2);
    begin = end;
  }
  return coarse;
}

// Whether cells / ownership halve on every axis with >= min_per_rank coarse cells on each rank.
bool halvable(const std::array<PetscInt, 3>& cells, const Grid::Ownership& o, int dim, PetscInt min_per_rank) {
  for (int a = 0; a < dim; ++a) {
    if (cells[a] % 2 != 0) return false;
    for (PetscInt n : coarse_ranges(o[a]))
      if (n < min_per_rank) return false;
  }
  return true;
}
}  // namespace

bool Grid::can_coarsen(PetscInt min_per_rank) const {
  return halvable(spec_.cells, ownership(), spec_.dim, min_per_rank);
}

int Grid::halvings(PetscInt min_per_rank) const {
  std::array<PetscInt, 3> cells = spec_.cells;
  Ownership o = ownership();
  int h = 0;
  for (; halvable(cells, o, spec_.dim, min_per_rank); ++h)
    for (int a = 0; a < spec_.dim; ++a) {
      cells[a] /= 2;
      o[a] = coarse_ranges(o[a]);
    }
  return h;
}

std::shared_ptr<const Grid> Grid::coarsen() const {
  if (!can_coarsen(1)) throw Error("Grid::coarsen: " + describe() + " cannot be halved on every axis");
  Ownership o = ownership();
  GridSpec coarse = spec_;
  for (int a = 0; a < spec_.dim; ++a) {
    coarse.cells[a] /= 2;
    o[a] = coarse_ranges(o[a]);
  }
  return std::make_shared<const Grid>(comm_, coarse, o);
}

Grid::~Grid() {
  for (auto& [components, dm] : component_dms_) DMDestroy(&dm);
  DMDestroy(&dm_);
}

DM Grid::dm(int components) const {
  if (components == 1) return dm_;
  auto it = component_dms_.find(components);
  if (it != component_dms_.end()) return it->second;
  DM dm = nullptr;
  FLUXION_PETSC_CHECK(DMDACreateCompatibleDMDA(dm_, components, &dm));
  component_dms_.emplace(components, dm);
  return dm;
}

double Grid::cell_volume() const {
  double v = 1.0;
  for (int a = 0; a < spec_.dim; ++a) v *= spacing_[a];
  return v;
}

long long Grid::global_cells() const {
  long long n = 1;
  for (int a = 0; a < spec_.dim; ++a) n *= spec_.cells[a];
  return n;
}

std::string Grid::describe() const {
  std::ostringstream s;
  for (int a = 0; a < spec_.dim; ++a) s << (a ? " x " : "") << spec_.cells[a];
  s << " cells on ";
  for (int a = 0; a < spec_.dim; ++a) s << (a ? " x " : "") << "[" << spec_.lower[a] << ", " << spec_.upper[a] << "]";
  s << ", " << size_ << (size_ == 1 ? " rank" : " ranks");
  return s.str();
}

}  // namespace fluxion
