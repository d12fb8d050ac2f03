// PoissonProblem: sample coefficients, build the stencil operator and the right-hand side.
#include "fluxion/pde/poisson.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

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

namespace {

std::string number(double v) {
  if (std::isnan(v)) return "NaN";  // printf may say "-nan" (sqrt(-1) sets the sign bit)
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

}  // namespace

void check_sampled(const Field& f, const Expression& e, const std::string& symbol, Sign sign, double t,
                   bool name_time) {
  const Grid& g = f.grid();
  auto bad = [sign](double v) {
    return !std::isfinite(v) || (sign == Sign::Positive && !(v > 0.0)) || (sign == Sign::NonNegative && !(v >= 0.0));
  };
  double found[4] = {0.0, 0.0, 0.0, 0.0};  // value, x, y, z of this rank's first bad cell
  int rank = g.ranks();
  {
    FieldReadArray a(f);
    const IndexBox& o = g.owned();
    for (PetscInt k = o.begin[2]; k < o.end[2] && rank == g.ranks(); ++k)
      for (PetscInt j = o.begin[1]; j < o.end[1] && rank == g.ranks(); ++j)
        for (PetscInt i = o.begin[0]; i < o.end[0]; ++i)
          if (bad(a(i, j, k))) {
            found[0] = a(i, j, k);
            found[1] = g.center(0, i);
            found[2] = g.center(1, j);
            found[3] = g.dim() == 3 ? g.center(2, k) : 0.0;
            rank = g.rank();
            break;
          }
  }
  int first = 0;
  MPI_Allreduce(&rank, &first, 1, MPI_INT, MPI_MIN, g.comm());
  if (first == g.ranks()) return;
  MPI_Bcast(found, 4, MPI_DOUBLE, first, g.comm());
  const bool labelled = e.where() != "expression" && e.where() != "constant";
  std::string at = g.dim() == 3 ? "(x, y, z) = (" + number(found[1]) + ", " + number(found[2]) + ", " +
                                      number(found[3]) + ")"
                                : "(x, y) = (" + number(found[1]) + ", " + number(found[2]) + ")";
  if (name_time) at += " at t = " + number(t);
  const char* rule = sign == Sign::Positive      ? " must be finite and > 0"
                     : sign == Sign::NonNegative ? " must be finite and >= 0"
                                                 : " must be finite";
  throw NumericalError((labelled ? e.where() + ": " : std::string()) + symbol + " = " + number(found[0]) + " at " +
                       at + "; " + symbol + rule + (e.is_constant() ? "" : " (expression '" + e.excerpt() + "')"));
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
  // Checked where sampled, so a bad value is named by key and point (PETSc would only report a
  // zero diagonal on some row).
  check_sampled(k_, spec_.k, "k", Sign::Positive);
  build();
}

PoissonProblem::PoissonProblem(std::shared_ptr<const Grid> grid, Field k, PoissonSpec spec,
                               std::shared_ptr<const SolidMask> solid)
    : grid_(grid),
      spec_(std::move(spec)),
      solid_(std::move(solid)),
      k_(std::move(k)),
      c_(sample(grid, "c", spec_.c)),
      rhs_(sample(grid, "f", spec_.source)),
      u_(grid, "u") {
  if (&k_.grid() != grid_.get() || k_.components() != 1)
    throw Error("PoissonProblem: the coefficient field '" + k_.name() + "' is not a scalar field on the problem's grid");
  k_.set_name("k");
  check_sampled(k_, Expression(), "k", Sign::Positive);  // no expression: the message names the point only
  build();
}

void PoissonProblem::build() {
  check_sampled(c_, spec_.c, "c", Sign::NonNegative);
  check_sampled(rhs_, spec_.source, "f", Sign::Any);
  op_ = std::make_unique<StencilOperator>(grid_, k_, c_, spec_.boundary, solid_);
  op_->add_boundary_terms(rhs_);
  if (op_->singular()) measure_compatibility();
}

void PoissonProblem::measure_compatibility() {
  // The solver removes the rhs's component along the null vector (1 on fluid cells): its mean there.
  const Grid& g = *grid_;
  std::unique_ptr<FieldReadArray> sa;
  if (solid_) sa = std::make_unique<FieldReadArray>(solid_->field());
  FieldReadArray b(rhs_);
  double local[3] = {0.0, 0.0, 0.0}, global[3];  // sum, sum |.|, fluid cells
  for_each_cell(g.owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
    if (sa && (*sa)(i, j, k) > 0.5) return;
    local[0] += b(i, j, k);
    local[1] += std::abs(b(i, j, k));
    local[2] += 1.0;
  });
  MPI_Allreduce(local, global, 3, MPI_DOUBLE, MPI_SUM, g.comm());
  compatibility_.singular = true;
  if (global[2] > 0) {
    compatibility_.mean_removed = global[0] / global[2];
    compatibility_.mean_abs = global[1] / global[2];
  }
  compatibility_.relative =
      compatibility_.mean_abs > 0 ? std::abs(compatibility_.mean_removed) / compatibility_.mean_abs : 0.0;
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
  // std::max and MPI_MAX skip NaN (or not, by argument order): count non-finite errors apart.
  double local[2] = {0.0, 0.0}, max = 0.0;  // sum e^2, NaN errors
  for_each_cell(g.owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
    if (!fluid(i, j, k)) return;
    const double e = difference(i, j, k) - shift;
    if (std::isnan(e)) {
      local[1] += 1.0;
      return;
    }
    local[0] += e * e;
    max = std::max(max, std::abs(e));
  });
  double global[2], max_global = 0.0;
  MPI_Allreduce(local, global, 2, MPI_DOUBLE, MPI_SUM, g.comm());
  MPI_Allreduce(&max, &max_global, 1, MPI_DOUBLE, MPI_MAX, g.comm());
  if (global[1] > 0) return {std::nan(""), std::nan("")};
  return {std::sqrt(global[0] * g.cell_volume()), max_global};
}

ErrorNorms PoissonProblem::error(const Expression& exact) const {
  return error_norms(u_, exact, 0.0, solid_.get(), op_->singular());
}

}  // namespace fluxion
