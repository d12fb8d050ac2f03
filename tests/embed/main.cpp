// Embedding fluxion: build a grid, set up a Poisson problem, solve it, check it, write it.
// Exits 0 when the error against the exact solution u = x(1-x) y is at round-off level (the
// scheme is exact for quadratics in x and linear in y).
#include <cstdio>

#include "fluxion/core/petsc_session.hpp"
#include "fluxion/io/field_writer.hpp"
#include "fluxion/linalg/petsc_solver.hpp"
#include "fluxion/pde/poisson.hpp"

int main(int argc, char** argv) {
  fluxion::PetscSession petsc(&argc, &argv);
  auto grid = std::make_shared<const fluxion::Grid>(
      PETSC_COMM_WORLD, fluxion::GridSpec{.dim = 2, .cells = {32, 16, 1}, .upper = {1.0, 1.0, 1.0}});
  fluxion::PoissonSpec spec;
  spec.source = fluxion::Expression("2*y");
  spec.boundary = fluxion::BoundaryConditions::uniform(fluxion::BcType::Dirichlet, fluxion::Expression("x*(1-x)*y"));
  fluxion::PoissonProblem problem(grid, spec);
  fluxion::PetscSolver solver({.rtol = 1e-12});
  const fluxion::SolveReport report = problem.solve(solver);
  const fluxion::ErrorNorms error = problem.error(fluxion::Expression("x*(1-x)*y"));
  fluxion::FieldWriter writer(grid, {.dir = argc > 1 ? argv[1] : "embed-out"});
  writer.write_step(0.0, {&problem.solution()});
  std::printf("%s\nmax error %.3e\n", report.summary().c_str(), error.max);
  return report.converged && error.max < 1e-3 ? 0 : 1;
}
