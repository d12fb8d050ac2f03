// Ways to assemble StencilOperator's weights into a PETSc AIJ matrix, timed against each other
// (the evidence for the assembly fix proposed in docs/benchmarks.md). All build the same matrix
// from StencilOperator::diagonal() / off_diagonal() and check it against StencilOperator::matrix().
//
//   stencil:  what StencilOperator::matrix() does: DMCreateMatrix, MatZeroEntries,
//             MatSetValuesStencil(ADD_VALUES) row by row
//   stencil_insert: the same without MatZeroEntries, INSERT_VALUES
//   coo:      DMCreateMatrix, MatSetPreallocationCOOLocal once (ghosted-local indices, so it is
//             parallel as is), then MatSetValuesCOO with all values in one call; a reassembly
//             (new coefficients, same pattern) is the MatSetValuesCOO call alone ("coo values")
//
//   assembly_variants -bench_n 128 -bench_reps 3
#include <petscdmda.h>
#include <petscmat.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "fluxion/core/grid.hpp"
#include "fluxion/core/petsc_session.hpp"
#include "fluxion/linalg/stencil_operator.hpp"

namespace {

using namespace fluxion;
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

constexpr int kStep[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};

Mat assemble_stencil(const StencilOperator& op, bool zero_then_add) {
  const Grid& g = op.grid();
  Mat A;
  DMCreateMatrix(g.dm(), &A);
  if (zero_then_add) MatZeroEntries(A);
  const int nb = op.neighbours();
  PetscInt p = 0;
  for_each_cell(g.owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
    MatStencil row{};
    row.i = i;
    row.j = j;
    row.k = k;
    MatStencil cols[7];
    double vals[7];
    int m = 0;
    cols[m] = row;
    vals[m++] = op.diagonal()[p];
    for (int d = 0; d < nb; ++d) {
      const double w = op.off_diagonal(d)[p];
      if (w == 0.0) continue;
      cols[m] = row;
      cols[m].i += kStep[d][0];
      cols[m].j += kStep[d][1];
      cols[m].k += kStep[d][2];
      vals[m++] = w;
    }
    MatSetValuesStencil(A, 1, &row, m, cols, vals, zero_then_add ? ADD_VALUES : INSERT_VALUES);
    ++p;
  });
  MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY);
  MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY);
  return A;
}

// The COO pattern in ghosted-local numbering (what DMCreateMatrix's local-to-global mapping takes).
void coo_pattern(const StencilOperator& op, std::vector<PetscInt>& ri, std::vector<PetscInt>& ci) {
  const Grid& g = op.grid();
  const IndexBox& gh = g.ghosted();
  const PetscInt gx = gh.extent(0), gxy = gh.extent(0) * gh.extent(1);
  const int nb = op.neighbours();
  auto local = [&](PetscInt i, PetscInt j, PetscInt k) {
    return (k - gh.begin[2]) * gxy + (j - gh.begin[1]) * gx + (i - gh.begin[0]);
  };
  ri.clear();
  ci.clear();
  ri.reserve(static_cast<std::size_t>(g.owned().size()) * (nb + 1));
  ci.reserve(ri.capacity());
  PetscInt p = 0;
  for_each_cell(g.owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
    const PetscInt r = local(i, j, k);
    ri.push_back(r);
    ci.push_back(r);
    for (int d = 0; d < nb; ++d) {
      if (op.off_diagonal(d)[p] == 0.0) continue;
      ri.push_back(r);
      ci.push_back(local(i + kStep[d][0], j + kStep[d][1], k + kStep[d][2]));
    }
    ++p;
  });
}

void coo_values(const StencilOperator& op, std::vector<double>& v) {
  const PetscInt n = op.grid().owned().size();
  const int nb = op.neighbours();
  v.clear();
  v.reserve(static_cast<std::size_t>(n) * (nb + 1));
  for (PetscInt p = 0; p < n; ++p) {
    v.push_back(op.diagonal()[p]);
    for (int d = 0; d < nb; ++d)
      if (const double w = op.off_diagonal(d)[p]; w != 0.0) v.push_back(w);
  }
}

bool same_matrix(Mat A, Mat B) {
  Mat D;
  MatDuplicate(A, MAT_COPY_VALUES, &D);
  MatAXPY(D, -1.0, B, DIFFERENT_NONZERO_PATTERN);
  PetscReal diff = 0.0, ref = 0.0;
  MatNorm(D, NORM_FROBENIUS, &diff);
  MatNorm(B, NORM_FROBENIUS, &ref);
  MatDestroy(&D);
  return diff <= 1e-14 * ref;
}

}  // namespace

int main(int argc, char** argv) {
  PetscSession session(&argc, &argv);
  {
    PetscInt n = 128, reps = 3;
    PetscOptionsGetInt(nullptr, nullptr, "-bench_n", &n, nullptr);
    PetscOptionsGetInt(nullptr, nullptr, "-bench_reps", &reps, nullptr);
    GridSpec spec;
    spec.dim = 3;
    spec.cells = {n, n, n};
    auto grid = std::make_shared<const Grid>(PETSC_COMM_WORLD, spec);
    Field k(grid, "k"), c(grid, "c");
    k.fill(1.0);
    c.fill(0.0);
    auto t = Clock::now();
    StencilOperator op(grid, k, c, BoundaryConditions::uniform(BcType::Dirichlet));
    std::printf("weights (StencilOperator constructor): %.4f s\n", since(t));
    Mat ref = op.matrix();

    double best[5] = {1e30, 1e30, 1e30, 1e30, 1e30};
    bool ok = true;
    for (PetscInt r = 0; r < reps; ++r) {
      t = Clock::now();
      Mat A = assemble_stencil(op, true);
      best[0] = std::min(best[0], since(t));
      ok = ok && same_matrix(A, ref);
      MatDestroy(&A);

      t = Clock::now();
      A = assemble_stencil(op, false);
      best[1] = std::min(best[1], since(t));
      ok = ok && same_matrix(A, ref);
      MatDestroy(&A);

      t = Clock::now();
      std::vector<PetscInt> ri, ci;
      std::vector<double> v;
      DMCreateMatrix(grid->dm(), &A);
      coo_pattern(op, ri, ci);
      MatSetPreallocationCOOLocal(A, static_cast<PetscCount>(ri.size()), ri.data(), ci.data());
      const double t_pattern = since(t);
      auto t2 = Clock::now();
      coo_values(op, v);
      MatSetValuesCOO(A, v.data(), INSERT_VALUES);
      const double t_values = since(t2);
      best[2] = std::min(best[2], t_pattern + t_values);
      best[3] = std::min(best[3], t_pattern);
      // A reassembly with the pattern known: refill the values only.
      t2 = Clock::now();
      coo_values(op, v);
      MatSetValuesCOO(A, v.data(), INSERT_VALUES);
      best[4] = std::min(best[4], since(t2));
      ok = ok && same_matrix(A, ref);
      MatDestroy(&A);
    }
    std::printf("n=%d cells=%lld best of %d (s):\n", static_cast<int>(n), grid->global_cells(), static_cast<int>(reps));
    std::printf("  stencil (StencilOperator::matrix as is)   %.4f\n", best[0]);
    std::printf("  stencil, no MatZeroEntries, INSERT_VALUES %.4f\n", best[1]);
    std::printf("  coo first assembly (pattern + values)     %.4f  (pattern %.4f)\n", best[2], best[3]);
    std::printf("  coo reassembly (values only)              %.4f\n", best[4]);
    std::printf("  all variants equal StencilOperator::matrix(): %s\n", ok ? "yes" : "NO");
  }
  return 0;
}
