// Google Benchmark: y = A x for the 3D Poisson operator, fluxion's matrix-free
// StencilOperator::apply against PETSc's MatMult of the assembled AIJ matrix
// (StencilOperator::matrix()). Items processed = cells; bytes are not reported because the two
// paths move different data (7 weight arrays vs. AIJ values + column indices).
//
//   stencil_apply_bench [--benchmark_...] [-- PETSc options]
#include <benchmark/benchmark.h>
#include <petscmat.h>

#include <map>
#include <memory>
#include <random>

#include "fluxion/core/grid.hpp"
#include "fluxion/core/petsc_session.hpp"
#include "fluxion/linalg/stencil_operator.hpp"

namespace {

using namespace fluxion;

// One operator per grid size, built on first use and kept for the whole run.
struct Setup {
  std::shared_ptr<const Grid> grid;
  std::unique_ptr<Field> k, c, x, y;
  std::unique_ptr<StencilOperator> op;

  explicit Setup(PetscInt n) {
    GridSpec spec;
    spec.dim = 3;
    spec.cells = {n, n, n};
    grid = std::make_shared<const Grid>(PETSC_COMM_WORLD, spec);
    k = std::make_unique<Field>(grid, "k");
    c = std::make_unique<Field>(grid, "c");
    x = std::make_unique<Field>(grid, "x");
    y = std::make_unique<Field>(grid, "y");
    k->fill(1.0);
    c->fill(0.0);
    std::mt19937 rng(42);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    x->assign([&](const Field::Point&) { return u(rng); });
    op = std::make_unique<StencilOperator>(grid, *k, *c, BoundaryConditions::uniform(BcType::Dirichlet));
    (void)op->matrix();
  }
};

// Cleared before PETSc is finalised.
std::map<PetscInt, std::unique_ptr<Setup>> cache;

Setup& setup_for(PetscInt n) {
  auto& s = cache[n];
  if (!s) s = std::make_unique<Setup>(n);
  return *s;
}

void BM_StencilApply(benchmark::State& state) {
  Setup& s = setup_for(state.range(0));
  for (auto _ : state) {
    s.op->apply(s.x->vec(), s.y->vec());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * s.grid->global_cells());
}

void BM_MatMult(benchmark::State& state) {
  Setup& s = setup_for(state.range(0));
  Mat A = s.op->matrix();
  for (auto _ : state) {
    MatMult(A, s.x->vec(), s.y->vec());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * s.grid->global_cells());
}

BENCHMARK(BM_StencilApply)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MatMult)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);  // takes the --benchmark_* flags out of argv
  PetscSession session(&argc, &argv);
  benchmark::RunSpecifiedBenchmarks();
  cache.clear();
  benchmark::Shutdown();
  return 0;
}
