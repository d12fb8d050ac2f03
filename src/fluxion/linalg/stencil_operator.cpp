// StencilOperator: face and diagonal weights from k, c, boundary conditions and obstacles;
// matrix-free apply, assembly with exact preallocation, null space.
#include "fluxion/linalg/stencil_operator.hpp"

#include <algorithm>
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
  PetscInt n;
  PetscCall(VecGetLocalSize(d, &n));
  PetscCall(VecGetArray(d, &a));
  std::copy(op->diagonal_data(), op->diagonal_data() + n, a);
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

StencilOperator::StencilOperator(std::shared_ptr<const Grid> grid, BoundaryConditions bc, StencilWeights weights)
    : grid_(std::move(grid)), bc_(std::move(bc)) {
  bc_.check_against(*grid_);
  const IndexBox& o = grid_->owned();
  if (weights.diagonal.size() != static_cast<std::size_t>(o.size()) || weights.solid.size() != weights.diagonal.size())
    throw Error("StencilOperator: the diagonal and solid flags must cover the owned box");
  for (int a = 0; a < grid_->dim(); ++a)
    if (weights.faces[a].size() != static_cast<std::size_t>(face_box(a).size()))
      throw Error("StencilOperator: the face weights must cover face_box(axis)");
  diag_ = std::move(weights.diagonal);
  faces_ = std::move(weights.faces);
  is_solid_ = std::move(weights.solid);
  dirichlet_ = std::move(weights.dirichlet);
  if (dirichlet_.empty()) dirichlet_.assign(diag_.size(), 0.0);
  if (dirichlet_.size() != diag_.size()) throw Error("StencilOperator: the Dirichlet diagonal must cover the owned box");
  singular_ = weights.singular;
  build_null_space();
}

namespace {
constexpr const char* kOperatorKey = "fluxion_stencil_operator";
}

void StencilOperator::attach_to(Mat A) const {
  PetscContainer container;
  FLUXION_PETSC_CHECK(PetscContainerCreate(grid_->comm(), &container));
  FLUXION_PETSC_CHECK(PetscContainerSetPointer(container, const_cast<StencilOperator*>(this)));
  FLUXION_PETSC_CHECK(PetscObjectCompose(reinterpret_cast<PetscObject>(A), kOperatorKey,
                                         reinterpret_cast<PetscObject>(container)));
  FLUXION_PETSC_CHECK(PetscContainerDestroy(&container));
}

const StencilOperator* StencilOperator::from_matrix(Mat A) {
  PetscObject found = nullptr;
  if (!A || PetscObjectQuery(reinterpret_cast<PetscObject>(A), kOperatorKey, &found) != 0 || !found) return nullptr;
  void* pointer = nullptr;
  if (PetscContainerGetPointer(reinterpret_cast<PetscContainer>(found), &pointer) != 0) return nullptr;
  return static_cast<const StencilOperator*>(pointer);
}

StencilOperator::~StencilOperator() {
  if (matrix_) MatDestroy(&matrix_);
  if (shell_) MatDestroy(&shell_);
  if (null_vector_) VecDestroy(&null_vector_);
}

IndexBox StencilOperator::face_box(int axis) const {
  IndexBox b = grid_->owned();
  b.end[axis] += 1;
  return b;
}

double StencilOperator::diagonal(PetscInt i, PetscInt j, PetscInt k) const {
  const IndexBox& o = grid_->owned();
  return diag_[((k - o.begin[2]) * o.extent(1) + (j - o.begin[1])) * o.extent(0) + (i - o.begin[0])];
}

double StencilOperator::off_diagonal(int d, PetscInt i, PetscInt j, PetscInt k) const {
  const int a = d / 2;
  std::array<PetscInt, 3> f = {i, j, k};
  if (d % 2 == 1) f[a] += 1;  // the upper face of the cell is the lower face of the next one
  const IndexBox& o = grid_->owned();
  return faces_[a][lower_face(a, f[0] - o.begin[0], f[1] - o.begin[1], f[2] - o.begin[2])];
}

void StencilOperator::compute_weights(const Field& k, const Field& c) {
  const Grid& g = *grid_;
  const IndexBox& o = g.owned();
  const int dim = g.dim();
  GhostedFieldArray kg(k);
  FieldReadArray ca(c);
  std::unique_ptr<GhostedFieldArray> sg;
  if (solid_) sg = std::make_unique<GhostedFieldArray>(solid_->field());
  auto solid_at = [&](PetscInt i, PetscInt j, PetscInt kk) { return sg && (*sg)(i, j, kk) > 0.5; };

  std::array<double, 3> inv_h2{};
  double solid_scale = 0.0;
  for (int a = 0; a < dim; ++a) {
    inv_h2[a] = 1.0 / (g.spacing(a) * g.spacing(a));
    solid_scale += 2.0 * inv_h2[a];
  }

  // Face couplings: -harmonic(k) / h^2 between two fluid cells, 0 on the domain boundary and
  // next to obstacles.
  // Row by row: the face (i, j, k) lies between the cells `step` apart in the ghosted arrays.
  const IndexBox& gb = kg.box();
  for (int a = 0; a < dim; ++a) {
    const IndexBox fb = face_box(a);
    faces_[a].assign(fb.size(), 0.0);
    const PetscInt step = a == 0 ? 1 : a == 1 ? gb.extent(0) : gb.extent(0) * gb.extent(1);
    const bool walls = !g.periodic(a);
    double* out = faces_[a].data();
    for (PetscInt kk = fb.begin[2]; kk < fb.end[2]; ++kk)
      for (PetscInt j = fb.begin[1]; j < fb.end[1]; ++j) {
        const PetscInt across = a == 1 ? j : kk;  // the row's index along a (a = 1, 2)
        if (a > 0 && walls && (across == 0 || across == g.cells(a))) {
          out += fb.extent(0);  // the whole row lies on the domain boundary
          continue;
        }
        const double* k_hi = kg.at(fb.begin[0], j, kk);
        const double* s_hi = sg ? sg->at(fb.begin[0], j, kk) : nullptr;
        for (PetscInt i = fb.begin[0]; i < fb.end[0]; ++i, ++k_hi, ++out) {
          if (a == 0 && walls && (i == 0 || i == g.cells(0))) continue;
          if (s_hi && (s_hi[i - fb.begin[0]] > 0.5 || s_hi[i - fb.begin[0] - step] > 0.5)) continue;
          *out = -harmonic_mean(k_hi[-step], k_hi[0]) * inv_h2[a];
        }
      }
  }

  diag_.assign(o.size(), 0.0);
  is_solid_.assign(o.size(), 0);
  boundary_faces_.clear();
  dirichlet_.assign(o.size(), 0.0);
  bool any_c = false;
  PetscInt p = 0;
  for_each_cell(o, [&](PetscInt i, PetscInt j, PetscInt kk) {
    const double kp = kg(i, j, kk);
    if (kp < 0.0 || !std::isfinite(kp))
      throw NumericalError("StencilOperator: the coefficient k must be finite and >= 0");
    if (solid_at(i, j, kk)) {
      is_solid_[p] = 1;
      diag_[p++] = solid_scale * (kp > 0.0 ? kp : 1.0);  // a scaled identity keeps the spectrum compact
      return;
    }
    double diag = ca(i, j, kk);
    if (diag != 0.0) any_c = true;
    diag -= coupling_sum(i - o.begin[0], j - o.begin[1], kk - o.begin[2]);
    const bool at_domain_face = i == 0 || i == g.cells(0) - 1 || j == 0 || j == g.cells(1) - 1 ||
                                (dim == 3 && (kk == 0 || kk == g.cells(2) - 1));
    for (int d = 0; at_domain_face && d < 2 * dim; ++d) {
      const int a = d / 2;
      const std::array<PetscInt, 3> q = {i + kStep[d][0], j + kStep[d][1], kk + kStep[d][2]};
      if (g.periodic(a) || (q[a] >= 0 && q[a] < g.cells(a))) continue;
      const BcType type = bc_[static_cast<Face>(d)].type;
      if (type == BcType::Dirichlet) {
        // k at the face, extrapolated from this cell and the one behind it (when that is fluid).
        const std::array<PetscInt, 3> r = {i - kStep[d][0], j - kStep[d][1], kk - kStep[d][2]};
        const bool behind = r[a] >= 0 && r[a] < g.cells(a) && !solid_at(r[0], r[1], r[2]);
        double kb = behind ? 1.5 * kp - 0.5 * kg(r[0], r[1], r[2]) : kp;
        if (kb <= 0.5 * kp) kb = kp;  // a steep k: keep the face conductance positive
        diag += 2.0 * kb * inv_h2[a];
        dirichlet_[p] += 2.0 * kb * inv_h2[a];
        boundary_faces_.push_back({{i, j, kk}, d, 2.0 * kb * inv_h2[a]});
      } else if (type == BcType::Neumann) {
        boundary_faces_.push_back({{i, j, kk}, d, 1.0 / g.spacing(a)});
      }
    }
    diag_[p++] = diag;
  });

  int local_any = any_c ? 1 : 0, global_any = 0;
  MPI_Allreduce(&local_any, &global_any, 1, MPI_INT, MPI_MAX, g.comm());
  singular_ = global_any == 0 && bc_.determines_no_constant(dim);
}

void StencilOperator::scale_conductivity(double factor) {
  if (!(factor > 0.0) || !std::isfinite(factor))
    throw Error("StencilOperator::scale_conductivity: the factor must be finite and > 0, not " + std::to_string(factor));
  // The diagonal is c - (couplings) + (Dirichlet weights), and the last two scale with k.
  const IndexBox& o = grid_->owned();
  PetscInt p = 0;
  for_each_cell(o, [&](PetscInt i, PetscInt j, PetscInt kk) {
    if (is_solid_[p]) {
      diag_[p] *= factor;  // the scaled identity scales with k, as when built
    } else {
      diag_[p] += (factor - 1.0) * (dirichlet_[p] - coupling_sum(i - o.begin[0], j - o.begin[1], kk - o.begin[2]));
      dirichlet_[p] *= factor;
    }
    ++p;
  });
  for (Storage& faces : faces_)
    for (double& w : faces) w *= factor;
  for (BoundaryFace& f : boundary_faces_)
    if (bc_[static_cast<Face>(f.direction)].type == BcType::Dirichlet) f.weight *= factor;
  if (matrix_) fill_matrix();
  if (shell_) {  // an assembly advances the Mat's state: PCSetUp then sees a changed operator
    FLUXION_PETSC_CHECK(MatAssemblyBegin(shell_, MAT_FINAL_ASSEMBLY));
    FLUXION_PETSC_CHECK(MatAssemblyEnd(shell_, MAT_FINAL_ASSEMBLY));
  }
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
  const PetscInt nx = o.extent(0), ny = o.extent(1);
  const PetscInt gx = gh.extent(0), gxy = gh.extent(0) * gh.extent(1);
  const bool three_d = g.dim() == 3;
  const double* fx = faces_[0].data();
  const double* fy = faces_[1].data();
  const double* fz = three_d ? faces_[2].data() : nullptr;
  // A zero coupling marks a face without a neighbour to read (domain boundary, obstacle): its
  // ghost may not exist, so it is skipped rather than multiplied by zero.
  auto term = [](double w, const double* xn) { return w != 0.0 ? w * *xn : 0.0; };
  PetscInt n = 0;
  for (PetscInt k = o.begin[2]; k < o.end[2]; ++k)
    for (PetscInt j = o.begin[1]; j < o.end[1]; ++j) {
      const PetscInt kk = k - o.begin[2], jj = j - o.begin[1];
      const double* wx = fx + (kk * ny + jj) * (nx + 1);
      const double* wy = fy + (kk * (ny + 1) + jj) * nx;
      const double* wz = three_d ? fz + (kk * ny + jj) * nx : nullptr;
      const double* xp = xg + ((k - gh.begin[2]) * gh.extent(1) + (j - gh.begin[1])) * gx + (o.begin[0] - gh.begin[0]);
      for (PetscInt i = 0; i < nx; ++i, ++n) {
        double s = diag_[n] * xp[i] + term(wx[i], xp + i - 1) + term(wx[i + 1], xp + i + 1) +
                   term(wy[i], xp + i - gx) + term(wy[i + nx], xp + i + gx);
        if (three_d) s += term(wz[i], xp + i - gxy) + term(wz[i + nx * ny], xp + i + gxy);
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
  zero_solid(b);
}

void StencilOperator::zero_solid(Field& x) const {
  if (!solid_) return;
  FieldWriteArray xa(x);
  PetscInt p = 0;
  for_each_cell(grid_->owned(), [&](PetscInt i, PetscInt j, PetscInt kk) {
    if (is_solid_[p++]) xa(i, j, kk) = 0.0;
  });
}

namespace {

/// The rows of an operator's matrix in global numbering, each sorted by column; on a periodic
/// axis of one or two cells a neighbour can repeat a column, and its weight is summed into that
/// entry.
class MatrixRows {
 public:
  struct Row {
    PetscInt row;
    int size = 0;
    std::array<PetscInt, 7> cols;
    std::array<double, 7> values;
  };

  explicit MatrixRows(const StencilOperator& op) : op_(op), gh_(op.grid().ghosted()) {
    FLUXION_PETSC_CHECK(DMGetLocalToGlobalMapping(op.grid().dm(), &ltog_));
    FLUXION_PETSC_CHECK(ISLocalToGlobalMappingGetIndices(ltog_, &global_of_));
  }
  ~MatrixRows() { ISLocalToGlobalMappingRestoreIndices(ltog_, &global_of_); }
  MatrixRows(const MatrixRows&) = delete;
  MatrixRows& operator=(const MatrixRows&) = delete;

  ISLocalToGlobalMapping mapping() const { return ltog_; }

  /// Row of owned cell (i, j, k), the p-th in the owned box.
  Row row(PetscInt i, PetscInt j, PetscInt k, PetscInt p) const {
    Row r;
    r.row = global(i, j, k);
    // Insertion into the sorted row: std::sort on a 7-entry array made GCC 12 warn about its
    // 16-element code path (-Warray-bounds), and a row has at most 7 entries anyway.
    auto insert = [&r](PetscInt col, double w) {
      int m = 0;
      while (m < r.size && r.cols[m] < col) ++m;
      if (m < r.size && r.cols[m] == col) {
        r.values[m] += w;
        return;
      }
      for (int q = r.size; q > m; --q) {
        r.cols[q] = r.cols[q - 1];
        r.values[q] = r.values[q - 1];
      }
      r.cols[m] = col;
      r.values[m] = w;
      ++r.size;
    };
    insert(r.row, op_.diagonal_data()[p]);
    for (int d = 0; d < 2 * op_.grid().dim(); ++d) {
      const double w = op_.off_diagonal(d, i, j, k);
      if (w != 0.0) insert(global(i + kStep[d][0], j + kStep[d][1], k + kStep[d][2]), w);
    }
    return r;
  }

 private:
  PetscInt global(PetscInt i, PetscInt j, PetscInt k) const {
    return global_of_[((k - gh_.begin[2]) * gh_.extent(1) + (j - gh_.begin[1])) * gh_.extent(0) + (i - gh_.begin[0])];
  }

  const StencilOperator& op_;
  IndexBox gh_;
  ISLocalToGlobalMapping ltog_ = nullptr;
  const PetscInt* global_of_ = nullptr;
};

}  // namespace

void StencilOperator::fill_matrix() const {
  const MatrixRows rows(*this);
  PetscInt p = 0;
  for_each_cell(grid_->owned(), [&](PetscInt i, PetscInt j, PetscInt kk) {
    const MatrixRows::Row r = rows.row(i, j, kk, p++);
    FLUXION_PETSC_CHECK(MatSetValues(matrix_, 1, &r.row, r.size, r.cols.data(), r.values.data(), INSERT_VALUES));
  });
  FLUXION_PETSC_CHECK(MatAssemblyBegin(matrix_, MAT_FINAL_ASSEMBLY));
  FLUXION_PETSC_CHECK(MatAssemblyEnd(matrix_, MAT_FINAL_ASSEMBLY));
}

Mat StencilOperator::matrix() const {
  if (matrix_) return matrix_;
  const Grid& g = *grid_;
  const PetscInt n = g.owned().size();
  const MatrixRows rows(*this);
  const ISLocalToGlobalMapping ltog = rows.mapping();

  FLUXION_PETSC_CHECK(MatCreate(g.comm(), &matrix_));
  FLUXION_PETSC_CHECK(MatSetSizes(matrix_, n, n, PETSC_DETERMINE, PETSC_DETERMINE));
  FLUXION_PETSC_CHECK(MatSetType(matrix_, MATAIJ));
  FLUXION_PETSC_CHECK(MatSetLocalToGlobalMapping(matrix_, ltog, ltog));
  FLUXION_PETSC_CHECK(MatSetUp(matrix_));
  PetscInt first = 0, last = 0;
  FLUXION_PETSC_CHECK(MatGetOwnershipRange(matrix_, &first, &last));
  // Exact preallocation (entries per row inside and outside this rank's column block), then each
  // row written once straight into PETSc's arrays: no extra copy of the matrix is ever made.
  std::vector<PetscInt> inside(n, 0), outside(n, 0);
  PetscInt p = 0;
  for_each_cell(g.owned(), [&](PetscInt i, PetscInt j, PetscInt kk) {
    const MatrixRows::Row r = rows.row(i, j, kk, p);
    for (int m = 0; m < r.size; ++m) ++(r.cols[m] >= first && r.cols[m] < last ? inside : outside)[p];
    ++p;
  });
  FLUXION_PETSC_CHECK(MatXAIJSetPreallocation(matrix_, 1, inside.data(), outside.data(), nullptr, nullptr));
  FLUXION_PETSC_CHECK(MatSetOption(matrix_, MAT_NO_OFF_PROC_ENTRIES, PETSC_TRUE));
  fill_matrix();
  FLUXION_PETSC_CHECK(MatSetDM(matrix_, g.dm()));
  FLUXION_PETSC_CHECK(MatSetOption(matrix_, MAT_SYMMETRIC, PETSC_TRUE));
  attach_to(matrix_);
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
  attach_to(shell_);
  return shell_;
}


}  // namespace fluxion
