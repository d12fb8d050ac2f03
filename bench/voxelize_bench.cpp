// Google Benchmark: add_mesh_obstacle (read, check and voxelize a closed surface) for the shipped
// sphere on n^3 grids. Items processed = cells. The time includes reading the file and the
// closedness check, which are the same for every n (a few ms for the 1280-triangle sphere).
//
//   voxelize_bench [--benchmark_...] [-- PETSc options]
//   mpiexec -n 2 voxelize_bench      (each rank voxelizes its own cells)
#include <benchmark/benchmark.h>

#include <filesystem>
#include <map>
#include <memory>

#include "fluxion/core/grid.hpp"
#include "fluxion/core/petsc_session.hpp"
#include "fluxion/core/solid_mask.hpp"
#include "fluxion/io/mesh_voxelizer.hpp"

#ifndef FLUXION_SOURCE_DIR
#define FLUXION_SOURCE_DIR "."
#endif

namespace {

using namespace fluxion;

const std::filesystem::path kSphere = std::filesystem::path(FLUXION_SOURCE_DIR) / "meshes" / "sphere.stl";

// One grid per size, built on first use and kept for the whole run (cleared before PETSc ends).
std::map<PetscInt, std::shared_ptr<const Grid>> grids;

std::shared_ptr<const Grid> grid_for(PetscInt n) {
  auto& g = grids[n];
  if (!g) {
    GridSpec spec;
    spec.dim = 3;
    spec.cells = {n, n, n};
    spec.lower = {-1.2, -1.2, -1.2};
    spec.upper = {1.2, 1.2, 1.2};
    g = std::make_shared<const Grid>(PETSC_COMM_WORLD, spec);
  }
  return g;
}

void BM_VoxelizeSphere(benchmark::State& state) {
  auto grid = grid_for(state.range(0));
  long long solid = 0;
  for (auto _ : state) {
    SolidMask mask(grid);
    add_mesh_obstacle(mask, kSphere, {.scale = 0.9, .translate = {0.05, -0.02, 0.01}});
    solid = mask.solid_cells();
    benchmark::DoNotOptimize(solid);
  }
  state.counters["solid"] = static_cast<double>(solid);
  state.SetItemsProcessed(state.iterations() * grid->global_cells());
}

BENCHMARK(BM_VoxelizeSphere)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);  // takes the --benchmark_* flags out of argv
  PetscSession session(&argc, &argv);
  benchmark::RunSpecifiedBenchmarks();
  grids.clear();
  benchmark::Shutdown();
  return 0;
}
