// PoissonProblem: sample coefficients, build the stencil operator and the right-hand side.
#include "fluxion/pde/poisson.hpp"

#include <algorithm>
#include <cmath>

#include "fluxion/core/error.hpp"

namespace fluxion {

Field sample(std::shared_ptr<const Grid> grid, const std::string& name, const Expression& e, double t) {
  Field f(std::move(grid), name);
  if (e.is_constant()) {
    f.fill(e.value());
  } else {
    f.assign([&](const Field::Point& x) { return e(x[0], x[1], x[2], t); });
  }
  return f;
}

PoissonProblem::PoissonProblem(std::shared_ptr<const Grid> grid, PoissonSpec spec,
                               std::shared_ptr<const SolidMask> solid)
    : grid_(grid),
      spec_(std::move(spec)),
      solid_(std::move(solid)),
      k_(sample(grid, "k", spec_.k)),
      c_(sample(grid, "c", spec_.c)),
      rhs_(sample(grid, "f", spec_.source)),
      u_(grid, "u") {
  op_ = std::make_unique<StencilOperator>(grid_, k_, c_, spec_.boundary, solid_);
  op_->add_boundary_terms(rhs_);
}

SolveReport PoissonProblem::solve(LinearSolver& solver) {
  solver.set_operator(*op_);
  SolveReport report = solver.solve(rhs_, u_);
  op_->zero_solid(u_);
  return report;
}

ErrorNorms error_norms(const Field& u, const Expression& exact, double t, const SolidMask* solid,
                       bool remove_mean) {
  const Grid& g = u.grid();
  std::unique_ptr<FieldReadArray> sa;
  if (solid) sa = std::make_unique<FieldReadArray>(solid->field());
  FieldReadArray ua(u);
  auto fluid = [&](PetscInt i, PetscInt j, PetscInt k) { return !sa || (*sa)(i, j, k) < 0.5; };
  auto difference = [&](PetscInt i, PetscInt j, PetscInt k) {
    return ua(i, j, k) - exact(g.center(0, i), g.center(1, j), g.dim() == 3 ? g.center(2, k) : 0.0, t);
  };
  double shift = 0.0;
  if (remove_mean) {
    double local[2] = {0.0, 0.0}, global[2];  // sum of differences, fluid cells
    for_each_cell(g.owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
      if (!fluid(i, j, k)) return;
      local[0] += difference(i, j, k);
      local[1] += 1.0;
    });
    MPI_Allreduce(local, global, 2, MPI_DOUBLE, MPI_SUM, g.comm());
    if (global[1] > 0) shift = global[0] / global[1];
  }
  double sum = 0.0, max = 0.0;
  for_each_cell(g.owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
    if (!fluid(i, j, k)) return;
    const double e = difference(i, j, k) - shift;
    sum += e * e;
    max = std::max(max, std::abs(e));
  });
  double sum_global = 0.0, max_global = 0.0;
  MPI_Allreduce(&sum, &sum_global, 1, MPI_DOUBLE, MPI_SUM, g.comm());
  MPI_Allreduce(&max, &max_global, 1, MPI_DOUBLE, MPI_MAX, g.comm());
  return {std::sqrt(sum_global * g.cell_volume()), max_global};
}

ErrorNorms PoissonProblem::error(const Expression& exact) const {
  return error_norms(u_, exact, 0.0, solid_.get(), op_->singular());
}

}  // namespace fluxion
