// 3D Poisson -lap u = f on n^3 cells of [0,1]^3, homogeneous Dirichlet, solved through fluxion
// (Grid -> PoissonProblem -> PetscSolver). Times assemble / setup / solve separately so that
// bench/poisson_plain_petsc.c, the same discretisation written directly on a DMDA, can be
// compared line by line (bench/run_poisson_overhead.sh runs both).
//
// Options (PETSc options database; every other PETSc option is honoured too, e.g. -pc_sor_symmetric):
//   -bench_n 128          cells per axis
//   -bench_pc mg          mg | fluxion_mg | gamg | hypre | sor | any PETSc PC
//   -bench_source one     one: f = 1;  sin: f = 3 pi^2 sin(pi x) sin(pi y) sin(pi z) (a muparser expression)
//   -bench_breakdown      also time the pieces of the assembly (sampling, weights, boundary terms)
//                         in a second, separate build of the same problem
//
// Output: one "RESULT key=value ..." line (parsed by the driver) and a short human summary.
#include <petscksp.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "fluxion/core/grid.hpp"
#include "fluxion/core/petsc_session.hpp"
#include "fluxion/linalg/petsc_solver.hpp"
#include "fluxion/linalg/stencil_operator.hpp"
#include "fluxion/pde/poisson.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Seconds PETSc's log attributes to an event (0 when logging is off).
double event_seconds(const char* name) {
  PetscLogEvent ev;
  if (PetscLogEventGetId(name, &ev)) return 0.0;
  PetscEventPerfInfo info;
  if (PetscLogEventGetPerfInfo(PETSC_DETERMINE, ev, &info)) return 0.0;
  return info.time;
}

}  // namespace

int main(int argc, char** argv) {
  fluxion::PetscSession session(&argc, &argv);
  PetscCall(PetscLogDefaultBegin());  // only to read KSPSolve's own time out of fluxion's solve()
  {
    PetscInt n = 128;
    char pc[64] = "mg", source[16] = "one";
    PetscBool breakdown = PETSC_FALSE;
    PetscCall(PetscOptionsGetInt(nullptr, nullptr, "-bench_n", &n, nullptr));
    PetscCall(PetscOptionsGetString(nullptr, nullptr, "-bench_pc", pc, sizeof pc, nullptr));
    PetscCall(PetscOptionsGetString(nullptr, nullptr, "-bench_source", source, sizeof source, nullptr));
    PetscCall(PetscOptionsGetBool(nullptr, nullptr, "-bench_breakdown", &breakdown, nullptr));
    const bool smooth = std::strcmp(source, "sin") == 0;

    auto t = Clock::now();
    fluxion::GridSpec gs;
    gs.dim = 3;
    gs.cells = {n, n, n};
    auto grid = std::make_shared<const fluxion::Grid>(PETSC_COMM_WORLD, gs);
    const double t_grid = since(t);

    fluxion::PoissonSpec spec;
    spec.boundary = fluxion::BoundaryConditions::uniform(fluxion::BcType::Dirichlet);
    spec.source = smooth ? fluxion::Expression("3*pi^2*sin(pi*x)*sin(pi*y)*sin(pi*z)", "bench source")
                         : fluxion::Expression::constant(1.0);

    // assemble = sample k, c, f + stencil weights + boundary terms (PoissonProblem's constructor)
    //            + the AIJ matrix (StencilOperator::matrix(), otherwise built lazily in set_operator)
    t = Clock::now();
    fluxion::PoissonProblem problem(grid, spec);
    const double t_problem = since(t);
    // fluxion_mg is matrix-free (operator and preconditioner): no AIJ matrix is assembled for it.
    t = Clock::now();
    const bool matrix_free = std::string(pc) == "fluxion_mg";
    Mat A = matrix_free ? problem.op().shell() : problem.op().matrix();
    const double t_matrix = since(t);
    const double t_assemble = t_problem + t_matrix;

    // setup = KSP configuration (incl. the DMDA hierarchy for mg) + KSPSetUp
    fluxion::PetscSolverSettings settings;
    settings.pc_type = pc;
    fluxion::PetscSolver solver(settings);
    t = Clock::now();
    solver.set_operator(problem.op());
    PetscCall(KSPSetUp(solver.ksp()));  // solve() then finds the KSP set up and skips it
    const double t_setup = since(t);

    // solve = fluxion's solve(): initial residual, KSPSolve, final residual, report
    const double ksp_before = event_seconds("KSPSolve");
    t = Clock::now();
    const fluxion::SolveReport report = solver.solve(problem.rhs(), problem.solution());
    const double t_solve = since(t);
    const double t_ksp = event_seconds("KSPSolve") - ksp_before;

    PetscReal norm2 = 0.0;
    PetscCall(VecNorm(problem.solution().vec(), NORM_2, &norm2));
    PetscInt nnz_rows = 0;
    PetscCall(MatGetSize(A, &nnz_rows, nullptr));

    std::printf("fluxion %s  %s\n", grid->describe().c_str(), report.summary().c_str());
    std::printf(
        "RESULT impl=fluxion pc=%s n=%d source=%s grid=%.4f assemble=%.4f problem=%.4f matrix=%.4f setup=%.4f "
        "solve=%.4f ksp_solve=%.4f its=%d converged=%d norm2=%.12e norm_l2=%.12e\n",
        pc, static_cast<int>(n), source, t_grid, t_assemble, t_problem, t_matrix, t_setup, t_solve, t_ksp,
        report.iterations, report.converged ? 1 : 0, static_cast<double>(norm2), problem.solution().norm_l2());

    if (breakdown) {
      // The same steps PoissonProblem's constructor takes, timed one by one.
      auto tb = Clock::now();
      fluxion::Field k = fluxion::sample(grid, "k", spec.k);
      fluxion::Field c = fluxion::sample(grid, "c", spec.c);
      const double t_kc = since(tb);
      tb = Clock::now();
      fluxion::Field f = fluxion::sample(grid, "f", spec.source);
      const double t_f = since(tb);
      tb = Clock::now();
      fluxion::StencilOperator op(grid, k, c, spec.boundary);
      const double t_weights = since(tb);
      tb = Clock::now();
      op.add_boundary_terms(f);
      const double t_bterms = since(tb);
      tb = Clock::now();
      (void)op.matrix();
      const double t_mat = since(tb);
      tb = Clock::now();
      fluxion::Field u(grid, "u");
      const double t_u = since(tb);
      std::printf(
          "BREAKDOWN impl=fluxion n=%d source=%s sample_k_c=%.4f sample_f=%.4f weights=%.4f boundary_terms=%.4f "
          "matrix=%.4f field_u=%.4f\n",
          static_cast<int>(n), source, t_kc, t_f, t_weights, t_bterms, t_mat, t_u);
    }
  }
  return 0;
}
