// StencilOperator: weights from k, c, boundary conditions and obstacles; apply, assemble, null space.
#include "fluxion/linalg/stencil_operator.hpp"

#include <cmath>

#include "fluxion/core/error.hpp"

namespace fluxion {

namespace {

// Offsets of the six stencil neighbours, in the order of Face.
constexpr std::array<std::array<int, 3>, 6> kStep = {
    {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}}};

double harmonic_mean(double a, double b) { return (a + b) > 0.0 ? 2.0 * a * b / (a + b) : 0.0; }

PetscErrorCode shell_mult(Mat A, Vec x, Vec y) {
  const StencilOperator* op = nullptr;
  PetscCall(MatShellGetContext(A, &op));
  try {
    op->apply(x, y);
  } catch (const PetscCallError& e) {
    return static_cast<PetscErrorCode>(e.code());
  }
  return 0;
}

PetscErrorCode shell_diagonal(Mat A, Vec d) {
  const StencilOperator* op = nullptr;
  PetscCall(MatShellGetContext(A, &op));
  double* a;
  PetscCall(VecGetArray(d, &a));
  std::copy(op->diagonal().begin(), op->diagonal().end(), a);
  PetscCall(VecRestoreArray(d, &a));
  return 0;
}

}  // namespace

StencilOperator::StencilOperator(std::shared_ptr<const Grid> grid, const Field& k, const Field& c,
                                 BoundaryConditions bc, std::shared_ptr<const SolidMask> solid)
    : grid_(std::move(grid)), bc_(std::move(bc)), solid_(std::move(solid)) {
  bc_.check_against(*grid_);
  if (&k.grid() != grid_.get() || &c.grid() != grid_.get() || (solid_ && &solid_->grid() != grid_.get()))
    throw Error("StencilOperator: k, c and the solid mask must live on the operator's grid");
  compute_weights(k, c);
  build_null_space();
}

StencilOperator::~StencilOperator() {
  if (matrix_) MatDestroy(&matrix_);
  if (shell_) MatDestroy(&shell_);
  if (null_vector_) VecDestroy(&null_vector_);
}

void StencilOperator::compute_weights(const Field& k, const Field& c) {
  const Grid& g = *grid_;
  const IndexBox& o = g.owned();
  const PetscInt n = o.size();
  const int nb = neighbours();
  diag_.assign(n, 0.0);
  for (int d = 0; d < kMaxNeighbours; ++d) off_[d].assign(d < nb ? n : 0, 0.0);
  boundary_faces_.clear();
  is_solid_.assign(n, 0);

  GhostedFieldArray kg(k);
  FieldReadArray ca(c);
  std::unique_ptr<GhostedFieldArray> sg;
  if (solid_) sg = std::make_unique<GhostedFieldArray>(solid_->field());
  auto solid_at = [&](PetscInt i, PetscInt j, PetscInt kk) { return sg && (*sg)(i, j, kk) > 0.5; };

  std::array<double, 3> inv_h2{};
  double solid_scale = 0.0;
  for (int a = 0; a < g.dim(); ++a) {
    inv_h2[a] = 1.0 / (g.spacing(a) * g.spacing(a));
    solid_scale += 2.0 * inv_h2[a];
  }
  bool any_c = false;
  PetscInt p = 0;
  for_each_cell(o, [&](PetscInt i, PetscInt j, PetscInt kk) {
    const double kp = kg(i, j, kk);
    if (kp < 0.0 || !std::isfinite(kp)) throw NumericalError("StencilOperator: the coefficient k must be finite and >= 0");
    if (solid_at(i, j, kk)) {
      is_solid_[p] = 1;
      diag_[p] = solid_scale * (kp > 0.0 ? kp : 1.0);  // a scaled identity keeps the spectrum compact
      ++p;
      return;
    }
    double diag = ca(i, j, kk);
    if (diag != 0.0) any_c = true;
    for (int d = 0; d < nb; ++d) {
      const int a = d / 2;
      const std::array<PetscInt, 3> q = {i + kStep[d][0], j + kStep[d][1], kk + kStep[d][2]};
      const bool outside = !g.periodic(a) && (q[a] < 0 || q[a] >= g.cells(a));
      if (outside) {
        const BcType type = bc_[static_cast<Face>(d)].type;
        if (type == BcType::Dirichlet) {
          // k at the face, extrapolated from this cell and the one behind it (when that is fluid).
          const std::array<PetscInt, 3> r = {i - kStep[d][0], j - kStep[d][1], kk - kStep[d][2]};
          const bool behind = r[a] >= 0 && r[a] < g.cells(a) && !solid_at(r[0], r[1], r[2]);
          double kb = behind ? 1.5 * kp - 0.5 * kg(r[0], r[1], r[2]) : kp;
          if (kb <= 0.5 * kp) kb = kp;  // a steep k: keep the face conductance positive
          diag += 2.0 * kb * inv_h2[a];
          boundary_faces_.push_back({{i, j, kk}, p, d, 2.0 * kb * inv_h2[a]});
        } else if (type == BcType::Neumann) {
          boundary_faces_.push_back({{i, j, kk}, p, d, 1.0 / g.spacing(a)});
        }
        continue;
      }
      if (solid_at(q[0], q[1], q[2])) continue;  // no flux into an obstacle
      const double w = harmonic_mean(kp, kg(q[0], q[1], q[2])) * inv_h2[a];
      diag += w;
      off_[d][p] = -w;
    }
    diag_[p] = diag;
    ++p;
  });

  int local_any = any_c ? 1 : 0, global_any = 0;
  MPI_Allreduce(&local_any, &global_any, 1, MPI_INT, MPI_MAX, g.comm());
  singular_ = global_any == 0 && bc_.determines_no_constant(g.dim());
}

void StencilOperator::build_null_space() {
  if (!singular_) return;
  FLUXION_PETSC_CHECK(DMCreateGlobalVector(grid_->dm(), &null_vector_));
  double* a;
  FLUXION_PETSC_CHECK(VecGetArray(null_vector_, &a));
  for (std::size_t p = 0; p < is_solid_.size(); ++p) a[p] = is_solid_[p] ? 0.0 : 1.0;
  FLUXION_PETSC_CHECK(VecRestoreArray(null_vector_, &a));
  FLUXION_PETSC_CHECK(VecNormalize(null_vector_, nullptr));
}

void StencilOperator::apply(Vec x, Vec y) const {
  const Grid& g = *grid_;
  const IndexBox& o = g.owned();
  const IndexBox& gh = g.ghosted();
  Vec local;
  FLUXION_PETSC_CHECK(DMGetLocalVector(g.dm(), &local));
  FLUXION_PETSC_CHECK(DMGlobalToLocal(g.dm(), x, INSERT_VALUES, local));
  const double* xg;
  double* ya;
  FLUXION_PETSC_CHECK(VecGetArrayRead(local, &xg));
  FLUXION_PETSC_CHECK(VecGetArray(y, &ya));
  const PetscInt gx = gh.extent(0), gxy = gh.extent(0) * gh.extent(1);
  const std::array<PetscInt, 6> shift = {-1, 1, -gx, gx, -gxy, gxy};
  const int nb = neighbours();
  PetscInt n = 0;
  for (PetscInt k = o.begin[2]; k < o.end[2]; ++k)
    for (PetscInt j = o.begin[1]; j < o.end[1]; ++j) {
      PetscInt p = ((k - gh.begin[2]) * gh.extent(1) + (j - gh.begin[1])) * gx + (o.begin[0] - gh.begin[0]);
      for (PetscInt i = o.begin[0]; i < o.end[0]; ++i, ++n, ++p) {
        double s = diag_[n] * xg[p];
        for (int d = 0; d < nb; ++d) {
          // A zero weight marks a face without coupling, whose neighbour may not exist in the ghosts.
          const double w = off_[d][n];
          if (w != 0.0) s += w * xg[p + shift[d]];
        }
        ya[n] = s;
      }
    }
  FLUXION_PETSC_CHECK(VecRestoreArray(y, &ya));
  FLUXION_PETSC_CHECK(VecRestoreArrayRead(local, &xg));
  FLUXION_PETSC_CHECK(DMRestoreLocalVector(g.dm(), &local));
}

void StencilOperator::apply(const Field& x, Field& y) const {
  if (x.components() != 1 || y.components() != 1) throw Error("StencilOperator::apply: scalar fields only");
  apply(x.vec(), y.vec());
}

void StencilOperator::residual(const Field& b, const Field& x, Field& r) const {
  apply(x, r);
  FLUXION_PETSC_CHECK(VecAYPX(r.vec(), -1.0, b.vec()));
}

void StencilOperator::add_boundary_terms(Field& b, double t) const {
  const Grid& g = *grid_;
  FieldWriteArray ba(b);
  for (const BoundaryFace& f : boundary_faces_) {
    const int a = f.direction / 2;
    std::array<double, 3> x = {g.center(0, f.cell[0]), g.center(1, f.cell[1]),
                               g.dim() == 3 ? g.center(2, f.cell[2]) : 0.0};
    x[a] = f.direction % 2 == 1 ? g.upper(a) : g.lower(a);
    const double value = bc_[static_cast<Face>(f.direction)].value(x[0], x[1], x[2], t);
    ba(f.cell[0], f.cell[1], f.cell[2]) += f.weight * value;
  }
  PetscInt p = 0;
  for_each_cell(g.owned(), [&](PetscInt i, PetscInt j, PetscInt kk) {
    if (is_solid_[p++]) ba(i, j, kk) = 0.0;
  });
}

void StencilOperator::zero_solid(Field& x) const {
  if (!solid_) return;
  FieldWriteArray xa(x);
  PetscInt p = 0;
  for_each_cell(grid_->owned(), [&](PetscInt i, PetscInt j, PetscInt kk) {
    if (is_solid_[p++]) xa(i, j, kk) = 0.0;
  });
}

Mat StencilOperator::matrix() const {
  if (matrix_) return matrix_;
  const Grid& g = *grid_;
  FLUXION_PETSC_CHECK(DMCreateMatrix(g.dm(), &matrix_));
  FLUXION_PETSC_CHECK(MatZeroEntries(matrix_));
  const int nb = neighbours();
  PetscInt p = 0;
  for_each_cell(g.owned(), [&](PetscInt i, PetscInt j, PetscInt kk) {
    MatStencil row{};
    row.i = i;
    row.j = j;
    row.k = kk;
    std::array<MatStencil, 7> cols{};
    std::array<double, 7> vals{};
    int m = 0;
    cols[m] = row;
    vals[m++] = diag_[p];
    for (int d = 0; d < nb; ++d) {
      if (off_[d][p] == 0.0) continue;
      cols[m].i = i + kStep[d][0];
      cols[m].j = j + kStep[d][1];
      cols[m].k = kk + kStep[d][2];
      vals[m++] = off_[d][p];
    }
    // ADD_VALUES: on a periodic axis with two cells both neighbours are the same column.
    FLUXION_PETSC_CHECK(MatSetValuesStencil(matrix_, 1, &row, m, cols.data(), vals.data(), ADD_VALUES));
    ++p;
  });
  FLUXION_PETSC_CHECK(MatAssemblyBegin(matrix_, MAT_FINAL_ASSEMBLY));
  FLUXION_PETSC_CHECK(MatAssemblyEnd(matrix_, MAT_FINAL_ASSEMBLY));
  FLUXION_PETSC_CHECK(MatSetOption(matrix_, MAT_SYMMETRIC, PETSC_TRUE));
  return matrix_;
}

Mat StencilOperator::shell() const {
  if (shell_) return shell_;
  const Grid& g = *grid_;
  const PetscInt n = g.owned().size();
  const PetscInt N = g.global_cells();
  FLUXION_PETSC_CHECK(MatCreateShell(g.comm(), n, n, N, N, const_cast<StencilOperator*>(this), &shell_));
  FLUXION_PETSC_CHECK(MatShellSetOperation(shell_, MATOP_MULT, reinterpret_cast<void (*)(void)>(shell_mult)));
  FLUXION_PETSC_CHECK(
      MatShellSetOperation(shell_, MATOP_GET_DIAGONAL, reinterpret_cast<void (*)(void)>(shell_diagonal)));
  FLUXION_PETSC_CHECK(MatSetDM(shell_, g.dm()));
  FLUXION_PETSC_CHECK(MatSetOption(shell_, MAT_SYMMETRIC, PETSC_TRUE));
  return shell_;
}

}  // namespace fluxion
