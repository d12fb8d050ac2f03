// Google Benchmark: one SOR sweep on the Poisson matrix, fluxion's matrix-free SorSweeper
// (lexicographic forward, red-black forward fused and in two passes) and one fluxion_mg V-cycle,
// against PETSc's MatSOR(SOR_FORWARD_SWEEP) on the assembled AIJ matrix of the same operator (StencilOperator::matrix()), 2D 1025^2 and 3D 128^3,
// plus a STREAM triad a[i] = b[i] + s c[i] on three 64 MB arrays measured in the same run.
//
//   sor_sweep_bench [--benchmark_...]
//
// Counters: ns_per_unknown (wall time of one sweep / unknowns) and bytes_per_second from the
// bytes-per-unknown model below (B_per_unknown; "effective" bandwidth: compulsory traffic only,
// every array streamed once per pass, neighbour rows assumed to hit in cache):
//  - matrix-free lexicographic: x read + write (16), b (8), 1 / a_ii (8), one face weight per axis
//    (the faces are stored once per face: 8 per axis): 2D 48 B, 3D 56 B. The diagonal is not read
//    (the kernel uses (1 - omega) x_i + omega / a_ii (b_i - sum_{j != i} a_ij x_j)).
//  - matrix-free red-black, fused (the default): the second colour follows the first a row / plane
//    behind, one pass: the lexicographic bytes. Two passes (one per colour): each streams every
//    cache line of every array (both colours share the lines), twice the bytes: 2D 96 B, 3D 112 B.
//  - one fluxion_mg V-cycle (BM_MultigridVCycle, 2D 1024^2 so that it coarsens): time only, with
//    the residual reduction per cycle as a stationary iteration and the number of levels.
//  - MatSOR (SeqAIJ, 32-bit PetscInt): per row nnz values (8 nnz) + column indices (4 nnz) + row
//    pointer (4) + diagonal and inverse diagonal (mdiag, idiag: 16) + x read + write (16) + b (8),
//    with the exact nnz of the assembled matrix (about 5 / 7 per row): 2D ~104 B, 3D ~128 B.
//  - triad: 24 B per element (STREAM's count: no write-allocate traffic counted).
#include <benchmark/benchmark.h>
#include <petscmat.h>

#include <map>
#include <memory>
#include <random>
#include <vector>

#include "fluxion/core/grid.hpp"
#include "fluxion/core/petsc_session.hpp"
#include "fluxion/linalg/multigrid.hpp"
#include "fluxion/linalg/sor.hpp"
#include "fluxion/linalg/stencil_operator.hpp"

namespace {

using namespace fluxion;

constexpr double kOmega = 1.5;

struct Setup {
  std::shared_ptr<const Grid> grid;
  std::unique_ptr<Field> k, c, b, x;
  std::unique_ptr<StencilOperator> op;
  std::unique_ptr<SorSweeper> sweeper;
  double nnz_per_row = 0.0;

  Setup(int dim, PetscInt n) {
    GridSpec spec;
    spec.dim = dim;
    spec.cells = {n, n, dim == 3 ? n : 1};
    grid = std::make_shared<const Grid>(PETSC_COMM_WORLD, spec);
    k = std::make_unique<Field>(grid, "k");
    c = std::make_unique<Field>(grid, "c");
    b = std::make_unique<Field>(grid, "b");
    x = std::make_unique<Field>(grid, "x");
    k->fill(1.0);
    c->fill(0.0);
    std::mt19937 rng(42);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    b->assign([&](const Field::Point&) { return u(rng); });
    x->assign([&](const Field::Point&) { return u(rng); });
    op = std::make_unique<StencilOperator>(grid, *k, *c, BoundaryConditions::uniform(BcType::Dirichlet));
    Mat A = op->matrix();
    MatInfo info;
    MatGetInfo(A, MAT_LOCAL, &info);
    nnz_per_row = info.nz_used / static_cast<double>(grid->global_cells());
    sweeper = std::make_unique<SorSweeper>(*op);
    sweeper->load(*x);
    // One MatSOR outside the timing: PETSc builds mdiag / idiag on the first call.
    MatSOR(A, b->vec(), kOmega, SOR_FORWARD_SWEEP, 0.0, 1, 1, x->vec());
  }
};

std::map<std::pair<int, PetscInt>, std::unique_ptr<Setup>> cache;

Setup& setup_for(int dim, PetscInt n) {
  auto& s = cache[{dim, n}];
  if (!s) s = std::make_unique<Setup>(dim, n);
  return *s;
}

void counters(benchmark::State& state, double unknowns, double bytes_per_unknown) {
  const double items = static_cast<double>(state.iterations()) * unknowns;
  state.counters["ns_per_unknown"] = benchmark::Counter(items * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["B_per_unknown"] = bytes_per_unknown;
  state.SetBytesProcessed(static_cast<int64_t>(items * bytes_per_unknown));
  state.SetItemsProcessed(static_cast<int64_t>(items));
}

// Arguments: dim, cells per axis.
void BM_MatrixFreeSOR_Lexicographic(benchmark::State& state) {
  const int dim = static_cast<int>(state.range(0));
  Setup& s = setup_for(dim, state.range(1));
  for (auto _ : state) {
    s.sweeper->relax(s.b->vec(), kOmega, SorOrdering::Lexicographic, SweepDirection::Forward, 1);
    benchmark::ClobberMemory();
  }
  counters(state, static_cast<double>(s.grid->global_cells()), dim == 2 ? 48.0 : 56.0);
}

// Red-black with the two colours fused into one pass over memory (third argument 1, the default)
// or one pass per colour (0).
void BM_MatrixFreeSOR_RedBlack(benchmark::State& state) {
  const int dim = static_cast<int>(state.range(0));
  const bool fused = state.range(2) == 1;
  Setup& s = setup_for(dim, state.range(1));
  s.sweeper->fuse_red_black(fused);
  for (auto _ : state) {
    s.sweeper->relax(s.b->vec(), kOmega, SorOrdering::RedBlack, SweepDirection::Forward, 1);
    benchmark::ClobberMemory();
  }
  s.sweeper->fuse_red_black(true);
  counters(state, static_cast<double>(s.grid->global_cells()), (dim == 2 ? 48.0 : 56.0) * (fused ? 1 : 2));
}

// One V-cycle of fluxion_mg (the preconditioner application: x = M b) on the same operator, with
// the residual reduction per cycle as a stationary iteration (measured once, before the timing).
void BM_MultigridVCycle(benchmark::State& state) {
  const int dim = static_cast<int>(state.range(0));
  Setup& s = setup_for(dim, state.range(1));
  Multigrid mg(*s.op);
  Field x(s.grid, "x"), r(s.grid, "r"), e(s.grid, "e");
  double before = 0.0, factor = 0.0;
  for (int cycle = 0; cycle < 6; ++cycle) {
    s.op->residual(*s.b, x, r);
    double now = 0.0;
    VecNorm(r.vec(), NORM_2, &now);
    if (cycle > 0) factor = now / before;  // the last one: the asymptotic rate
    before = now;
    mg.vcycle(r.vec(), e.vec());
    x.axpy(1.0, e);
  }
  for (auto _ : state) {
    mg.vcycle(s.b->vec(), x.vec());
    benchmark::ClobberMemory();
  }
  counters(state, static_cast<double>(s.grid->global_cells()), 0.0);
  state.counters["residual_reduction"] = factor;
  state.counters["levels"] = mg.levels();
}

void BM_PetscMatSOR_Forward(benchmark::State& state) {
  const int dim = static_cast<int>(state.range(0));
  Setup& s = setup_for(dim, state.range(1));
  Mat A = s.op->matrix();
  for (auto _ : state) {
    MatSOR(A, s.b->vec(), kOmega, SOR_FORWARD_SWEEP, 0.0, 1, 1, s.x->vec());
    benchmark::ClobberMemory();
  }
  counters(state, static_cast<double>(s.grid->global_cells()), 12.0 * s.nnz_per_row + 4.0 + 16.0 + 24.0);
}

// STREAM triad on three arrays of 8 Mi doubles (64 MiB each), first-touched before timing.
void BM_StreamTriad(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  std::vector<double> a(n, 0.0), b(n, 1.0), c(n, 2.0);
  const double s = 3.0;
  double* __restrict pa = a.data();
  const double* __restrict pb = b.data();
  const double* __restrict pc = c.data();
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) pa[i] = pb[i] + s * pc[i];
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(a.data());
  counters(state, static_cast<double>(n), 24.0);
}

constexpr int64_t kTriadN = 8 * 1024 * 1024;

BENCHMARK(BM_StreamTriad)->Arg(kTriadN)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MatrixFreeSOR_Lexicographic)->Args({2, 1025})->Args({3, 128})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MatrixFreeSOR_RedBlack)
    ->Args({2, 1025, 1})
    ->Args({2, 1025, 0})
    ->Args({3, 128, 1})
    ->Args({3, 128, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_MultigridVCycle)->Args({2, 1024})->Args({3, 128})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PetscMatSOR_Forward)->Args({2, 1025})->Args({3, 128})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StreamTriad)->Name("BM_StreamTriad_again")->Arg(kTriadN)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);  // takes the --benchmark_* flags out of argv
  PetscSession session(&argc, &argv);
  benchmark::RunSpecifiedBenchmarks();
  cache.clear();
  benchmark::Shutdown();
  return 0;
}
