// Multigrid: the hierarchy (coarse grids, rediscretised coarse operators), the V-cycle with
// red-black Gauss-Seidel and linear / constant transfers, and the PETSc PC "fluxion_mg".
#include "fluxion/linalg/multigrid.hpp"

#include <petsc/private/pcimpl.h>

#include <algorithm>
#include <cstdio>

#include "fluxion/core/error.hpp"
#include "fluxion/linalg/sor.hpp"

namespace fluxion {

namespace {

// Non-periodic axes keep a ghost layer outside the domain too (DM_BOUNDARY_GHOSTED): the
// transfers write the reflected boundary values there.
DMBoundaryType boundary_type(bool periodic) { return periodic ? DM_BOUNDARY_PERIODIC : DM_BOUNDARY_GHOSTED; }

/// A DMDA with the grid's partition, `dof` values per cell and a box stencil of width one: its
/// ghost layer holds the edge and corner neighbours that the transfers and the coarsening read.
DM make_box_dm(const Grid& g, int dof) {
  const Grid::Ownership own = g.ownership();
  DM dm = nullptr;
  if (g.dim() == 2) {
    FLUXION_PETSC_CHECK(DMDACreate2d(g.comm(), boundary_type(g.periodic(0)), boundary_type(g.periodic(1)),
                                     DMDA_STENCIL_BOX, g.cells(0), g.cells(1), static_cast<PetscInt>(own[0].size()),
                                     static_cast<PetscInt>(own[1].size()), dof, 1, own[0].data(), own[1].data(), &dm));
  } else {
    FLUXION_PETSC_CHECK(DMDACreate3d(
        g.comm(), boundary_type(g.periodic(0)), boundary_type(g.periodic(1)), boundary_type(g.periodic(2)),
        DMDA_STENCIL_BOX, g.cells(0), g.cells(1), g.cells(2), static_cast<PetscInt>(own[0].size()),
        static_cast<PetscInt>(own[1].size()), static_cast<PetscInt>(own[2].size()), dof, 1, own[0].data(),
        own[1].data(), own[2].data(), &dm));
  }
  FLUXION_PETSC_CHECK(DMSetUp(dm));
  return dm;
}

IndexBox ghost_box(DM dm) {
  PetscInt xs, ys, zs, xm, ym, zm;
  FLUXION_PETSC_CHECK(DMDAGetGhostCorners(dm, &xs, &ys, &zs, &xm, &ym, &zm));
  IndexBox b;
  b.begin = {xs, ys, zs};
  b.end = {xs + xm, ys + ym, zs + zm};
  return b;
}

PetscInt offset(const IndexBox& b, PetscInt i, PetscInt j, PetscInt k) {
  return ((k - b.begin[2]) * b.extent(1) + (j - b.begin[1])) * b.extent(0) + (i - b.begin[0]);
}

// What each coarse cell gathers from its children to build the coarse operator.
enum Slot { kSolid = 0, kReaction = 1, kDirichlet = 2, kFaceX = 3 };  // faces: kFaceX + axis

/// The coarse operator of `fine` on `coarse` (= fine.grid().coarsen()), as described in
/// multigrid.hpp. Every owned fine cell adds its share to its parent: the parent is owned here,
/// or (a fine box that starts at an odd index) one layer below the owned coarse box, in the
/// ghost layer of a coarse box DM, whose owner sums the shares (DMLocalToGlobal, ADD_VALUES).
std::unique_ptr<StencilOperator> coarsen_operator(const StencilOperator& fine, std::shared_ptr<const Grid> coarse) {
  const Grid& fg = fine.grid();
  const int dim = fg.dim();
  const int dof = kFaceX + dim;
  const double children = 1 << dim;
  const double tangential = 1.0 / (1 << (dim - 1));  // mean over the fine faces on a coarse face

  const Grid& cg = *coarse;
  const IndexBox& co = cg.owned();
  DM cdm = make_box_dm(cg, dof);
  Vec cglobal, clocal;
  FLUXION_PETSC_CHECK(DMCreateGlobalVector(cdm, &cglobal));
  FLUXION_PETSC_CHECK(DMCreateLocalVector(cdm, &clocal));
  const IndexBox cbox = ghost_box(cdm);
  {
    const IndexBox& o = fg.owned();
    const std::vector<double>& dirichlet = fine.dirichlet_diagonal();
    const std::vector<unsigned char>& solid = fine.solid_flags();
    const double* diag = fine.diagonal_data();
    double* c;
    FLUXION_PETSC_CHECK(VecSet(clocal, 0.0));
    FLUXION_PETSC_CHECK(VecGetArray(clocal, &c));
    PetscInt n = 0;
    for (PetscInt k = o.begin[2]; k < o.end[2]; ++k)
      for (PetscInt j = o.begin[1]; j < o.end[1]; ++j)
        for (PetscInt i = o.begin[0]; i < o.end[0]; ++i, ++n) {
          double* v = c + offset(cbox, i / 2, j / 2, dim == 3 ? k / 2 : 0) * dof;
          if (solid[n]) {
            v[kSolid] += 1.0;
            continue;
          }
          const std::array<PetscInt, 3> q = {i, j, k};
          for (int ax = 0; ax < dim; ++ax)  // an even child's lower face lies on the parent's
            if ((q[ax] & 1) == 0)
              v[kFaceX + ax] += fine.face_data(ax)[fine.lower_face(ax, i - o.begin[0], j - o.begin[1], k - o.begin[2])] *
                                tangential / 4.0;
          const double coupling = fine.coupling_sum(i - o.begin[0], j - o.begin[1], k - o.begin[2]);
          v[kReaction] += (diag[n] + coupling - dirichlet[n]) / children;
          v[kDirichlet] += dirichlet[n] * tangential / 4.0;
        }
    FLUXION_PETSC_CHECK(VecRestoreArray(clocal, &c));
  }
  FLUXION_PETSC_CHECK(VecSet(cglobal, 0.0));
  FLUXION_PETSC_CHECK(DMLocalToGlobal(cdm, clocal, ADD_VALUES, cglobal));

  StencilWeights w;
  w.singular = fine.singular();
  w.diagonal.assign(co.size(), 0.0);
  w.solid.assign(co.size(), 0);
  std::vector<double> reaction(co.size(), 0.0);
  w.dirichlet.assign(co.size(), 0.0);
  std::vector<double>& dirichlet = w.dirichlet;
  {
    const double* c;
    FLUXION_PETSC_CHECK(VecGetArrayRead(cglobal, &c));
    for (PetscInt n = 0; n < co.size(); ++n) {
      w.solid[n] = c[n * dof + kSolid] == children ? 1 : 0;
      reaction[n] = c[n * dof + kReaction];
      dirichlet[n] = c[n * dof + kDirichlet];
    }
    FLUXION_PETSC_CHECK(VecRestoreArrayRead(cglobal, &c));
  }
  // Each rank also needs the lower face of the cell above its box (its own upper face).
  FLUXION_PETSC_CHECK(DMGlobalToLocal(cdm, cglobal, INSERT_VALUES, clocal));
  {
    const double* c;
    FLUXION_PETSC_CHECK(VecGetArrayRead(clocal, &c));
    for (int ax = 0; ax < dim; ++ax) {
      IndexBox faces = co;
      faces.end[ax] += 1;
      w.faces[ax].assign(faces.size(), 0.0);
      PetscInt n = 0;
      for_each_cell(faces, [&](PetscInt i, PetscInt j, PetscInt k) {
        const std::array<PetscInt, 3> q = {i, j, k};
        const bool outside = !cg.periodic(ax) && q[ax] == cg.cells(ax);  // the domain's upper face
        if (!outside) w.faces[ax][n] = c[offset(cbox, i, j, k) * dof + kFaceX + ax];
        ++n;
      });
    }
    FLUXION_PETSC_CHECK(VecRestoreArrayRead(clocal, &c));
  }
  FLUXION_PETSC_CHECK(VecDestroy(&clocal));
  FLUXION_PETSC_CHECK(VecDestroy(&cglobal));
  FLUXION_PETSC_CHECK(DMDestroy(&cdm));

  // Diagonal: reaction, minus the couplings, plus the Dirichlet faces. A fluid cell that nothing
  // couples to (cut off by obstacles at this resolution) becomes an identity row, like a solid.
  double solid_scale = 0.0;
  for (int ax = 0; ax < dim; ++ax) solid_scale += 2.0 / (cg.spacing(ax) * cg.spacing(ax));
  PetscInt n = 0;
  for_each_cell(co, [&](PetscInt i, PetscInt j, PetscInt k) {
    double diag = reaction[n] + dirichlet[n];
    diag -= StencilOperator::coupling_sum(w.faces, co, dim, i - co.begin[0], j - co.begin[1], k - co.begin[2]);
    if (w.solid[n] || !(diag > 0.0)) {
      w.solid[n] = 1;
      dirichlet[n] = 0.0;
      diag = solid_scale;
    }
    w.diagonal[n++] = diag;
  });
  return std::make_unique<StencilOperator>(std::move(coarse), fine.boundary(), std::move(w));
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Multigrid::Level {
  std::shared_ptr<const Grid> grid;
  std::unique_ptr<StencilOperator> own_op;  // coarse levels
  const StencilOperator* op = nullptr;
  std::unique_ptr<SorSweeper> sweeper;
  Vec b = nullptr, x = nullptr, r = nullptr;  // level 0: b and x are the caller's
  DM box = nullptr;                          // coarse levels: for the transfers from the level above
  Vec local = nullptr;
  IndexBox ghosted;
  std::array<double, 3> reflect{};           // per axis: -1 Dirichlet, +1 otherwise (lower face)
  std::array<double, 3> reflect_upper{};
  // Coarse levels: the prolongation terms of fine fluid cells whose coarse neighbour is solid,
  // which take the parent's value instead: x_fine[fine] += w (x[parent] - x[solid]).
  struct SolidFix {
    PetscInt fine, solid, parent;  // fine: owned index on the level above; solid, parent: in `ghosted`
    double w;
  };
  std::vector<SolidFix> fixes;
  std::vector<PetscInt> solid_cells;         // owned indices of this level's solid cells

  ~Level() {
    if (r) VecDestroy(&r);
    if (own_op) {  // level 0's b and x belong to the caller
      if (b) VecDestroy(&b);
      if (x) VecDestroy(&x);
    }
    if (local) VecDestroy(&local);
    if (box) DMDestroy(&box);
  }
};

double coefficient_contrast(const StencilOperator& op) {
  const Grid& g = op.grid();
  const IndexBox& o = g.owned();
  const std::vector<unsigned char>& solid = op.solid_flags();
  double contrast = 1.0;
  PetscInt n = 0;
  for_each_cell(o, [&](PetscInt i, PetscInt j, PetscInt k) {
    if (solid[n++]) return;
    for (int a = 0; a < g.dim(); ++a) {
      const PetscInt lower = op.lower_face(a, i - o.begin[0], j - o.begin[1], k - o.begin[2]);
      const double below = op.face_data(a)[lower], above = op.face_data(a)[lower + op.upper_face_step(a)];
      if (below != 0.0 && above != 0.0) contrast = std::max(contrast, std::max(below / above, above / below));
    }
  });
  double global = 1.0;
  MPI_Allreduce(&contrast, &global, 1, MPI_DOUBLE, MPI_MAX, g.comm());
  return global;
}

Multigrid::Multigrid(const StencilOperator& fine, MultigridSettings settings) : settings_(settings) {
  if (settings_.smoothing_steps < 1) throw Error("Multigrid: smoothing_steps must be >= 1");
  if (settings_.coarsest_cells_per_rank < 1) throw Error("Multigrid: coarsest_cells_per_rank must be >= 1");
  using P = MultigridSettings::Prolongation;
  linear_ = settings_.prolongation == P::Linear ||
            (settings_.prolongation == P::Auto && coefficient_contrast(fine) <= kStrongContrast);
  auto top = std::make_unique<Level>();
  top->grid = fine.grid_ptr();
  top->op = &fine;
  levels_.push_back(std::move(top));
  while (settings_.max_levels <= 0 || levels() < settings_.max_levels) {
    const Level& above = *levels_.back();
    if (!above.grid->can_coarsen(settings_.coarsest_cells_per_rank)) break;
    auto level = std::make_unique<Level>();
    level->grid = above.grid->coarsen();
    level->own_op = coarsen_operator(*above.op, level->grid);
    level->op = level->own_op.get();
    levels_.push_back(std::move(level));
  }
  for (std::size_t l = 0; l < levels_.size(); ++l) {
    Level& L = *levels_[l];
    const Grid& g = *L.grid;
    if (l + 1 < levels_.size()) {
      L.sweeper = std::make_unique<SorSweeper>(*L.op);
      FLUXION_PETSC_CHECK(DMCreateGlobalVector(g.dm(), &L.r));
    }
    if (l == 0) continue;
    FLUXION_PETSC_CHECK(DMCreateGlobalVector(g.dm(), &L.b));
    FLUXION_PETSC_CHECK(DMCreateGlobalVector(g.dm(), &L.x));
    L.box = make_box_dm(g, 1);
    FLUXION_PETSC_CHECK(DMCreateLocalVector(L.box, &L.local));
    L.ghosted = ghost_box(L.box);
    for (int ax = 0; ax < g.dim(); ++ax) {
      const auto& bc = L.op->boundary();
      L.reflect[ax] = bc[static_cast<Face>(2 * ax)].type == BcType::Dirichlet ? -1.0 : 1.0;
      L.reflect_upper[ax] = bc[static_cast<Face>(2 * ax + 1)].type == BcType::Dirichlet ? -1.0 : 1.0;
    }
    build_solid_fixes(l);
  }
  for (auto& level : levels_)
    for (std::size_t p = 0; p < level->op->solid_flags().size(); ++p)
      if (level->op->solid_flags()[p]) level->solid_cells.push_back(static_cast<PetscInt>(p));

  set_up_coarsest();
}

void Multigrid::update_coefficients() {
  for (std::size_t l = 1; l < levels_.size(); ++l) {
    Level& L = *levels_[l];
    L.sweeper.reset();
    L.own_op = coarsen_operator(*levels_[l - 1]->op, L.grid);
    L.op = L.own_op.get();
    if (l + 1 < levels_.size()) L.sweeper = std::make_unique<SorSweeper>(*L.op);
  }
  if (levels_[0]->sweeper) levels_[0]->sweeper->refresh_diagonal();
  set_up_coarsest();
}

// The coarsest level: a direct solve, the whole level on every rank.
void Multigrid::set_up_coarsest() {
  if (coarse_) FLUXION_PETSC_CHECK(KSPDestroy(&coarse_));
  const Level& last = *levels_.back();
  FLUXION_PETSC_CHECK(KSPCreate(last.grid->comm(), &coarse_));
  FLUXION_PETSC_CHECK(KSPSetOptionsPrefix(coarse_, "fluxion_mg_coarse_"));
  Mat A = last.op->matrix();
  FLUXION_PETSC_CHECK(KSPSetOperators(coarse_, A, A));
  coarsest_smoothed_ = last.grid->global_cells() > max_direct_cells(last.grid->dim());
  if (coarsest_smoothed_) {
    // Too large to factor on every rank (odd cell counts stop the halving early: 63^3 cells do not
    // halve at all): a fixed number of symmetric SOR sweeps from zero instead, a symmetric
    // positive linear operator, so the V-cycle stays a valid CG preconditioner. Slower to
    // converge than a solve; cell counts divisible by a power of two avoid it.
    FLUXION_PETSC_CHECK(KSPSetType(coarse_, KSPRICHARDSON));
    FLUXION_PETSC_CHECK(KSPSetTolerances(coarse_, 0.0, 0.0, PETSC_DEFAULT, kCoarsestSweeps));
    FLUXION_PETSC_CHECK(KSPSetNormType(coarse_, KSP_NORM_NONE));
    FLUXION_PETSC_CHECK(KSPSetConvergenceTest(coarse_, KSPConvergedSkip, nullptr, nullptr));
    PC pc;
    FLUXION_PETSC_CHECK(KSPGetPC(coarse_, &pc));
    FLUXION_PETSC_CHECK(PCSetType(pc, PCSOR));
    FLUXION_PETSC_CHECK(PCSORSetSymmetric(pc, SOR_LOCAL_SYMMETRIC_SWEEP));
    FLUXION_PETSC_CHECK(KSPSetUp(coarse_));
    return;
  }
  FLUXION_PETSC_CHECK(KSPSetType(coarse_, KSPPREONLY));
  PC pc, inner_pc;
  KSP inner;
  FLUXION_PETSC_CHECK(KSPGetPC(coarse_, &pc));
  FLUXION_PETSC_CHECK(PCSetType(pc, PCREDUNDANT));
  FLUXION_PETSC_CHECK(PCRedundantGetKSP(pc, &inner));
  FLUXION_PETSC_CHECK(KSPGetPC(inner, &inner_pc));
  // A singular coarsest operator (pure Neumann): the pseudo-inverse while it is small enough for a
  // dense SVD, else LU with a shift on zero pivots. The SVD's cost grows as cells^3 with a large
  // constant: a 47^2 grid (which does not halve, so its coarsest level is the whole grid) took 68 s
  // of setup with the SVD and 0.1 s for the whole run with the shifted LU (measured 2026-12-04).
  if (last.op->singular() && last.grid->global_cells() <= 512) {
    FLUXION_PETSC_CHECK(PCSetType(inner_pc, PCSVD));
  } else {
    FLUXION_PETSC_CHECK(PCSetType(inner_pc, PCLU));
    if (last.op->singular()) FLUXION_PETSC_CHECK(PCFactorSetShiftType(inner_pc, MAT_SHIFT_NONZERO));
  }
  FLUXION_PETSC_CHECK(KSPSetUp(coarse_));
}

Multigrid::~Multigrid() {
  if (coarse_) KSPDestroy(&coarse_);
}

const StencilOperator& Multigrid::op(int level) const {
  if (level < 0 || level >= levels()) throw Error("Multigrid::op: no level " + std::to_string(level));
  return *levels_[level]->op;
}

std::string Multigrid::describe() const {
  std::string s = std::to_string(levels()) + (levels() == 1 ? " level: " : " levels: ");
  for (int l = 0; l < levels(); ++l) {
    const Grid& g = *levels_[l]->grid;
    s += (l ? ", " : "") + std::to_string(g.cells(0)) + " x " + std::to_string(g.cells(1));
    if (g.dim() == 3) s += " x " + std::to_string(g.cells(2));
  }
  if (coarsest_smoothed_)
    s += " (coarsest: " + std::to_string(kCoarsestSweeps) + " SSOR sweeps, too large to factor: odd cell counts?)";
  else
    s += levels_.back()->op->singular() ? " (coarsest: SVD or shifted LU)" : " (coarsest: LU)";
  return linear_ ? s : s + ", constant transfers";
}

void Multigrid::vcycle(Vec b, Vec x) const {
  if (b == x) throw Error("Multigrid::vcycle: b and x must be different Vecs");
  Level& top = *levels_[0];
  top.b = b;
  top.x = x;
  cycle(0);
  top.b = top.x = nullptr;
}

void Multigrid::cycle(int l) const {
  Level& L = *levels_[l];
  if (l + 1 == levels()) {
    FLUXION_PETSC_CHECK(KSPSolve(coarse_, L.b, L.x));
    return;
  }
  // The iterate stays in the sweeper from the pre- to the post-smoothing.
  const int steps = settings_.smoothing_steps;
  L.sweeper->load_zero();
  L.sweeper->relax(L.b, 1.0, SorOrdering::RedBlack, SweepDirection::Forward, steps);
  L.sweeper->residual(L.b, L.r);
  restrict_residual(l);
  cycle(l + 1);
  prolong_add(l);
  L.sweeper->relax(L.b, 1.0, SorOrdering::RedBlack, SweepDirection::Backward, steps);
  L.sweeper->store(L.x);
}

// Transfers. Prolongation, per axis: the parent p = floor(i / 2) with weight 3/4 and the parent's
// neighbour on the side of the fine cell with 1/4 (linear), or the parent alone (constant). A
// neighbour outside a non-periodic domain is the ghost value sign * (the cell inside), sign -1 on
// a Dirichlet face (the correction vanishes on the wall), +1 otherwise; a solid neighbour inside
// the domain is replaced by the parent (obstacles are Neumann), through the fix list. Restriction
// is exactly the transpose over 2^d, written as a scatter of the same terms.

namespace {

struct AxisTerms {
  double wp, wq;  // weights of parent and neighbour
  PetscInt p, q;  // their global indices (q may be -1 or n: a ghost)
};

AxisTerms axis_terms(PetscInt i, bool linear, bool active) {
  if (!active) return {1.0, 0.0, 0, 0};  // z in 2D
  const PetscInt p = i / 2;
  return linear ? AxisTerms{0.75, 0.25, p, p + (i % 2 == 1 ? 1 : -1)} : AxisTerms{1.0, 0.0, p, p};
}

}  // namespace

void Multigrid::build_solid_fixes(int l) {
  const Level& F = *levels_[l - 1];
  Level& C = *levels_[l];
  if (!linear_) return;  // constant: the parent only, never solid for a fluid child
  const Grid& cg = *C.grid;
  const int dim = cg.dim();
  // Coarse solid flags with their ghosts.
  Vec flags;
  FLUXION_PETSC_CHECK(DMCreateGlobalVector(C.box, &flags));
  double* a;
  FLUXION_PETSC_CHECK(VecGetArray(flags, &a));
  for (std::size_t p = 0; p < C.op->solid_flags().size(); ++p) a[p] = C.op->solid_flags()[p];
  FLUXION_PETSC_CHECK(VecRestoreArray(flags, &a));
  FLUXION_PETSC_CHECK(VecSet(C.local, 0.0));
  FLUXION_PETSC_CHECK(DMGlobalToLocal(C.box, flags, INSERT_VALUES, C.local));
  FLUXION_PETSC_CHECK(VecDestroy(&flags));
  const double* solid;
  FLUXION_PETSC_CHECK(VecGetArrayRead(C.local, &solid));
  if (std::none_of(solid, solid + C.ghosted.size(), [](double v) { return v > 0.5; })) {
    FLUXION_PETSC_CHECK(VecRestoreArrayRead(C.local, &solid));
    return;  // no solid coarse cell within reach of this rank's fine cells
  }
  const std::vector<unsigned char>& fine_solid = F.op->solid_flags();
  PetscInt n = 0;
  for_each_cell(F.grid->owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
    const PetscInt me = n++;
    if (fine_solid[me]) return;
    const std::array<AxisTerms, 3> t = {axis_terms(i, true, true), axis_terms(j, true, true),
                                        axis_terms(k, true, dim == 3)};
    const PetscInt parent = offset(C.ghosted, t[0].p, t[1].p, t[2].p);
    for (int m = 1; m < (1 << dim); ++m) {
      std::array<PetscInt, 3> c = {t[0].p, t[1].p, t[2].p};
      double w = 1.0;
      bool inside = true;
      for (int ax = 0; ax < 3; ++ax) {
        const bool use_q = ax < dim && ((m >> ax) & 1);
        c[ax] = use_q ? t[ax].q : t[ax].p;
        w *= use_q ? t[ax].wq : t[ax].wp;
        if (ax < dim && !cg.periodic(ax) && (c[ax] < 0 || c[ax] >= cg.cells(ax))) inside = false;
      }
      const PetscInt at = offset(C.ghosted, c[0], c[1], c[2]);
      if (inside && solid[at] > 0.5) C.fixes.push_back({me, at, parent, w});
    }
  });
  FLUXION_PETSC_CHECK(VecRestoreArrayRead(C.local, &solid));
}

namespace {

/// Writes (fill) or folds back (the transpose) the ghost layer outside the non-periodic domain
/// faces of a coarse local array: ghost = sign * the cell inside, axis by axis (later axes cover
/// the earlier ones' ghosts, so corners get the product of the signs).
void outside_ghosts(const Grid& g, const IndexBox& gb, const std::array<double, 3>& lower_sign,
                    const std::array<double, 3>& upper_sign, double* v, bool fold) {
  const int dim = g.dim();
  auto pass = [&](int ax) {
    if (g.periodic(ax)) return;
    for (int side = 0; side < 2; ++side) {
      const PetscInt ghost = side == 0 ? -1 : g.cells(ax);
      const PetscInt inside = side == 0 ? 0 : g.cells(ax) - 1;
      if (ghost < gb.begin[ax] || ghost >= gb.end[ax]) continue;  // not at this rank's box
      const double sign = side == 0 ? lower_sign[ax] : upper_sign[ax];
      IndexBox plane = gb;
      plane.begin[ax] = ghost;
      plane.end[ax] = ghost + 1;
      for_each_cell(plane, [&](PetscInt i, PetscInt j, PetscInt k) {
        std::array<PetscInt, 3> in = {i, j, k};
        in[ax] = inside;
        double& out = v[offset(gb, i, j, k)];
        double& src = v[offset(gb, in[0], in[1], in[2])];
        if (fold) {
          src += sign * out;
          out = 0.0;
        } else {
          out = sign * src;
        }
      });
    }
  };
  if (fold)
    for (int ax = dim - 1; ax >= 0; --ax) pass(ax);
  else
    for (int ax = 0; ax < dim; ++ax) pass(ax);
}

/// Visits the fine owned cells row by row with the prolongation weights: f(n, rows, weights, px,
/// qx, wpx, wqx) where rows[4] are offsets of the coarse rows (p/q in y, p/q in z) at x = 0.
template <class F>
void for_each_fine_row(const Grid& fine, const IndexBox& cb, bool linear, F&& f) {
  const IndexBox& o = fine.owned();
  const int dim = fine.dim();
  PetscInt n = 0;
  for (PetscInt k = o.begin[2]; k < o.end[2]; ++k) {
    const AxisTerms tz = axis_terms(k, linear, dim == 3);
    for (PetscInt j = o.begin[1]; j < o.end[1]; ++j) {
      const AxisTerms ty = axis_terms(j, linear, true);
      const std::array<PetscInt, 4> rows = {offset(cb, 0, ty.p, tz.p), offset(cb, 0, ty.q, tz.p),
                                            offset(cb, 0, ty.p, tz.q), offset(cb, 0, ty.q, tz.q)};
      const std::array<double, 4> w = {ty.wp * tz.wp, ty.wq * tz.wp, ty.wp * tz.wq, ty.wq * tz.wq};
      f(n, o.begin[0], o.end[0], rows, w);
      n += o.extent(0);
    }
  }
}

}  // namespace

void Multigrid::restrict_residual(int l) const {
  Level& F = *levels_[l];
  Level& C = *levels_[l + 1];
  const Grid& fg = *F.grid;
  const bool linear = linear_;
  const double scale = 1.0 / (1 << fg.dim());
  FLUXION_PETSC_CHECK(VecSet(C.local, 0.0));
  double* c;
  double* r;
  FLUXION_PETSC_CHECK(VecGetArray(C.local, &c));
  FLUXION_PETSC_CHECK(VecGetArray(F.r, &r));
  for (PetscInt s : F.solid_cells) r[s] = 0.0;  // solid cells take no part (their rows are identities)
  // Per fine row: along x into a coarse-row buffer, then the buffer into the (up to) four coarse
  // rows it feeds.
  const IndexBox& cb = C.ghosted;
  std::vector<double> buffer(static_cast<std::size_t>(cb.extent(0)));
  double* t = buffer.data() - cb.begin[0];  // indexed by the global coarse x index
  for_each_fine_row(fg, cb, linear, [&](PetscInt n, PetscInt i0, PetscInt i1, const std::array<PetscInt, 4>& rows,
                                        const std::array<double, 4>& w) {
    std::fill(buffer.begin(), buffer.end(), 0.0);
    for (PetscInt i = i0; i < i1; ++i) {
      const AxisTerms tx = axis_terms(i, linear, true);
      const double v = r[n + (i - i0)] * scale;
      t[tx.p] += tx.wp * v;
      t[tx.q] += tx.wq * v;
    }
    for (int q = 0; q < 4; ++q) {
      if (w[q] == 0.0) continue;
      double* row = c + rows[q];
      for (PetscInt I = cb.begin[0]; I < cb.end[0]; ++I) row[I] += w[q] * t[I];
    }
  });
  for (const Level::SolidFix& fix : C.fixes) {
    const double v = fix.w * r[fix.fine] * scale;
    c[fix.parent] += v;
    c[fix.solid] -= v;
  }
  outside_ghosts(*C.grid, C.ghosted, C.reflect, C.reflect_upper, c, /*fold=*/true);
  FLUXION_PETSC_CHECK(VecRestoreArray(F.r, &r));
  FLUXION_PETSC_CHECK(VecRestoreArray(C.local, &c));
  FLUXION_PETSC_CHECK(VecSet(C.b, 0.0));
  FLUXION_PETSC_CHECK(DMLocalToGlobal(C.box, C.local, ADD_VALUES, C.b));
}

void Multigrid::prolong_add(int l) const {
  const Level& F = *levels_[l];
  const Level& C = *levels_[l + 1];
  const bool linear = linear_;
  FLUXION_PETSC_CHECK(DMGlobalToLocal(C.box, C.x, INSERT_VALUES, C.local));
  double* c;
  FLUXION_PETSC_CHECK(VecGetArray(C.local, &c));
  outside_ghosts(*C.grid, C.ghosted, C.reflect, C.reflect_upper, c, /*fold=*/false);
  // Into the sweeper's iterate, row by row; `cell(n)` finds an owned cell by its index.
  const IndexBox& o = F.grid->owned();
  const PetscInt nx = o.extent(0), ny = o.extent(1);
  auto cell = [&](PetscInt n) -> double& { return F.sweeper->iterate_row((n / nx) % ny, n / (nx * ny))[n % nx]; };
  // Per fine row: the (up to) four coarse rows combined into a buffer, then along x.
  const IndexBox& cb = C.ghosted;
  std::vector<double> buffer(static_cast<std::size_t>(cb.extent(0)));
  double* t = buffer.data() - cb.begin[0];  // indexed by the global coarse x index
  for_each_fine_row(*F.grid, cb, linear, [&](PetscInt n, PetscInt i0, PetscInt i1, const std::array<PetscInt, 4>& rows,
                                             const std::array<double, 4>& w) {
    const double* r0 = c + rows[0];
    const double* r1 = c + rows[1];
    const double* r2 = c + rows[2];
    const double* r3 = c + rows[3];
    if (w[2] != 0.0) {
      for (PetscInt I = cb.begin[0]; I < cb.end[0]; ++I) t[I] = w[0] * r0[I] + w[1] * r1[I] + w[2] * r2[I] + w[3] * r3[I];
    } else {
      for (PetscInt I = cb.begin[0]; I < cb.end[0]; ++I) t[I] = w[0] * r0[I] + w[1] * r1[I];
    }
    double* x = F.sweeper->iterate_row((n / nx) % ny, n / (nx * ny));
    for (PetscInt i = i0; i < i1; ++i) {
      const AxisTerms tx = axis_terms(i, linear, true);
      x[i - i0] += tx.wp * t[tx.p] + tx.wq * t[tx.q];
    }
  });
  for (const Level::SolidFix& fix : C.fixes) cell(fix.fine) += fix.w * (c[fix.parent] - c[fix.solid]);
  for (PetscInt s : F.solid_cells) cell(s) = 0.0;
  FLUXION_PETSC_CHECK(VecRestoreArray(C.local, &c));
}

// ---------------------------------------------------------------------------------------------
// The PETSc preconditioner "fluxion_mg".

namespace {

struct PcData {
  MultigridSettings settings;
  std::unique_ptr<Multigrid> mg;
};

PetscErrorCode pc_setup(PC pc) {
  auto* data = static_cast<PcData*>(pc->data);
  const StencilOperator* op = StencilOperator::from_matrix(pc->pmat);
  if (!op)
    SETERRQ(PetscObjectComm(reinterpret_cast<PetscObject>(pc)), PETSC_ERR_ARG_WRONG,
            "fluxion_mg needs a preconditioning matrix made by fluxion::StencilOperator (matrix() or shell())");
  try {
    // The same operator again: only its coefficients can have changed (StencilOperator offers no
    // other change in place), so the hierarchy is kept.
    const auto same = [](const MultigridSettings& a, const MultigridSettings& b) {
      return a.max_levels == b.max_levels && a.coarsest_cells_per_rank == b.coarsest_cells_per_rank &&
             a.smoothing_steps == b.smoothing_steps && a.prolongation == b.prolongation;
    };
    if (data->mg && &data->mg->op(0) == op && same(data->mg->settings(), data->settings)) {
      data->mg->update_coefficients();
      return 0;
    }
    data->mg.reset();
    data->mg = std::make_unique<Multigrid>(*op, data->settings);
  } catch (const std::exception& e) {
    SETERRQ(PetscObjectComm(reinterpret_cast<PetscObject>(pc)), PETSC_ERR_LIB, "fluxion_mg: %s", e.what());
  }
  return 0;
}

PetscErrorCode pc_apply(PC pc, Vec b, Vec x) {
  auto* data = static_cast<PcData*>(pc->data);
  try {
    data->mg->vcycle(b, x);
  } catch (const PetscCallError& e) {
    return static_cast<PetscErrorCode>(e.code());
  } catch (const std::exception& e) {
    SETERRQ(PetscObjectComm(reinterpret_cast<PetscObject>(pc)), PETSC_ERR_LIB, "fluxion_mg: %s", e.what());
  }
  return 0;
}

PetscErrorCode pc_destroy(PC pc) {
  delete static_cast<PcData*>(pc->data);
  pc->data = nullptr;
  return 0;
}

PetscErrorCode pc_set_from_options(PC pc, PetscOptionItems* PetscOptionsObject) {
  auto* data = static_cast<PcData*>(pc->data);
  MultigridSettings& s = data->settings;
  PetscInt levels = s.max_levels, steps = s.smoothing_steps;
  const char* kinds[] = {"auto", "linear", "constant"};
  PetscInt kind = static_cast<PetscInt>(s.prolongation);
  PetscOptionsHeadBegin(PetscOptionsObject, "fluxion geometric multigrid (fluxion_mg)");
  PetscCall(PetscOptionsInt("-pc_fluxion_mg_levels", "Levels, the fine one included (0: as many as the grid halves)",
                            "", levels, &levels, nullptr));
  PetscCall(PetscOptionsInt("-pc_fluxion_mg_smoothing_steps", "Red-black Gauss-Seidel sweeps before and after", "",
                            steps, &steps, nullptr));
  PetscCall(PetscOptionsEList("-pc_fluxion_mg_prolongation",
                              "Prolongation (restriction is its transpose); auto: constant under strong jumps in k", "",
                              kinds, 3, kinds[kind], &kind, nullptr));
  PetscOptionsHeadEnd();
  if (levels < 0) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-pc_fluxion_mg_levels must be >= 0");
  if (steps < 1) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-pc_fluxion_mg_smoothing_steps must be >= 1");
  s.max_levels = static_cast<int>(levels);
  s.smoothing_steps = static_cast<int>(steps);
  s.prolongation = static_cast<MultigridSettings::Prolongation>(kind);
  return 0;
}

PetscErrorCode pc_view(PC pc, PetscViewer viewer) {
  auto* data = static_cast<PcData*>(pc->data);
  PetscBool ascii = PETSC_FALSE;
  PetscCall(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(viewer), PETSCVIEWERASCII, &ascii));
  if (!ascii) return 0;
  const MultigridSettings& s = data->settings;
  const bool linear = data->mg ? data->mg->linear_prolongation() : s.prolongation != MultigridSettings::Prolongation::Constant;
  PetscCall(PetscViewerASCIIPrintf(viewer, "  V-cycle, %d red-black Gauss-Seidel sweep(s) before and after, %s prolongation\n",
                                   s.smoothing_steps, linear ? "linear" : "constant"));
  if (data->mg) PetscCall(PetscViewerASCIIPrintf(viewer, "  %s\n", data->mg->describe().c_str()));
  return 0;
}

PetscErrorCode pc_create(PC pc) {
  pc->data = new PcData;
  pc->ops->setup = pc_setup;
  pc->ops->apply = pc_apply;
  pc->ops->destroy = pc_destroy;
  pc->ops->setfromoptions = pc_set_from_options;
  pc->ops->view = pc_view;
  return 0;
}

}  // namespace

void register_multigrid_pc() {
  static bool registered = false;
  if (registered) return;
  FLUXION_PETSC_CHECK(PCRegister("fluxion_mg", pc_create));
  registered = true;
}

}  // namespace fluxion
