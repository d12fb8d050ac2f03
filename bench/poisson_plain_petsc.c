/* The reference for bench/poisson_overhead.cpp, written directly on PETSc (no fluxion):
 * -lap u = f on n^3 cells of [0,1]^3, homogeneous Dirichlet, cell-centred 7-point stencil with the
 * ghost-cell Dirichlet treatment (diagonal 6/h^2 plus 1/h^2 per Dirichlet face, i.e. weight 2/h^2
 * to the boundary), assembled row by row with MatSetValuesStencil on a DMDA (star, width 1,
 * DMDA_Q0 interpolation, no coordinates).
 *
 * The KSP is configured as fluxion's PetscSolver does it: CG, rtol 1e-8 on the unpreconditioned
 * norm, atol 1e-50, max 10000 iterations, nonzero initial guess (x0 = 0), MAT_SYMMETRIC set; for
 * "mg": PCMG with the same number of levels (halvings, coarsest >= 2 cells per rank and axis, at
 * most 8 levels), interpolation from DMCreateInterpolation on DMCoarsen'ed DMDAs, Galerkin both.
 * KSPSetFromOptions last, so e.g. -pc_sor_symmetric or -pc_hypre_type boomeramg apply.
 *
 * Options: -bench_n 128, -bench_pc mg|gamg|hypre|sor|..., -bench_source one|sin.
 * Output: one "RESULT key=value ..." line, the same keys as poisson_overhead.
 */
#include <math.h>
#include <petscdmda.h>
#include <petscksp.h>
#include <stdio.h>
#include <string.h>

#include <petsctime.h>

static double now(void) {
  PetscLogDouble t;
  PetscTime(&t); /* gettimeofday-based wall clock, microsecond resolution */
  return (double)t;
}

/* fluxion::multigrid_levels, restated. */
static PetscErrorCode mg_levels(DM da, PetscInt *levels) {
  PetscInt M[3], p[3];
  PetscFunctionBeginUser;
  PetscCall(DMDAGetInfo(da, NULL, &M[0], &M[1], &M[2], &p[0], &p[1], &p[2], NULL, NULL, NULL, NULL, NULL, NULL));
  *levels = 1;
  while (*levels < 8) {
    PetscBool ok = PETSC_TRUE;
    for (int a = 0; a < 3; ++a)
      ok = ok && M[a] % 2 == 0 && M[a] / 2 >= 2 * p[a] && (M[a] / 2) % p[a] == 0 ? PETSC_TRUE : PETSC_FALSE;
    if (!ok) break;
    for (int a = 0; a < 3; ++a) M[a] /= 2;
    ++*levels;
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv) {
  PetscInt n = 128, xs, ys, zs, xm, ym, zm, levels = 1, its;
  char pc_name[64] = "mg", source[16] = "one";
  DM da;
  Mat A;
  Vec b, x;
  KSP ksp;
  PC pc;
  KSPConvergedReason reason;
  PetscReal norm2;
  double t, t_grid, t_matrix, t_rhs, t_setup, t_solve;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_n", &n, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-bench_pc", pc_name, sizeof pc_name, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-bench_source", source, sizeof source, NULL));
  const PetscBool smooth = strcmp(source, "sin") == 0 ? PETSC_TRUE : PETSC_FALSE;
  const double h = 1.0 / (double)n, ih2 = 1.0 / (h * h);

  t = now();
  PetscCall(DMDACreate3d(PETSC_COMM_WORLD, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR,
                         n, n, n, PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE, 1, 1, NULL, NULL, NULL, &da));
  PetscCall(DMDASetInterpolationType(da, DMDA_Q0));
  PetscCall(DMSetFromOptions(da)); /* -dm_mat_type hyprestruct for hypre's PFMG */
  PetscCall(DMSetUp(da));
  t_grid = now() - t;
  PetscCall(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));

  /* ---- assemble: matrix, right-hand side, solution vector ---- */
  t = now();
  PetscCall(DMCreateMatrix(da, &A));
  for (PetscInt k = zs; k < zs + zm; ++k)
    for (PetscInt j = ys; j < ys + ym; ++j)
      for (PetscInt i = xs; i < xs + xm; ++i) {
        MatStencil row = {.k = k, .j = j, .i = i, .c = 0}, col[7];
        PetscScalar v[7];
        PetscInt m = 1;
        double diag = 0.0;
        const PetscInt idx[3] = {i, j, k};
        col[0] = row;
        for (int d = 0; d < 6; ++d) { /* x-, x+, y-, y+, z-, z+ */
          const int a = d / 2, s = d % 2 ? 1 : -1;
          const PetscInt q = idx[a] + s;
          if (q < 0 || q >= n) {
            diag += 2.0 * ih2; /* ghost value -u_P behind the Dirichlet face */
            continue;
          }
          diag += ih2;
          col[m] = row;
          if (a == 0) col[m].i = q;
          else if (a == 1) col[m].j = q;
          else col[m].k = q;
          v[m++] = -ih2;
        }
        v[0] = diag;
        PetscCall(MatSetValuesStencil(A, 1, &row, m, col, v, INSERT_VALUES));
      }
  PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatSetOption(A, MAT_SYMMETRIC, PETSC_TRUE));
  t_matrix = now() - t;

  t = now();
  PetscCall(DMCreateGlobalVector(da, &b));
  PetscCall(DMCreateGlobalVector(da, &x));
  PetscCall(VecSet(x, 0.0));
  if (smooth) {
    PetscScalar ***bb;
    PetscCall(DMDAVecGetArray(da, b, &bb));
    for (PetscInt k = zs; k < zs + zm; ++k)
      for (PetscInt j = ys; j < ys + ym; ++j)
        for (PetscInt i = xs; i < xs + xm; ++i)
          bb[k][j][i] = 3.0 * PETSC_PI * PETSC_PI * sin(PETSC_PI * (i + 0.5) * h) * sin(PETSC_PI * (j + 0.5) * h) *
                        sin(PETSC_PI * (k + 0.5) * h);
    PetscCall(DMDAVecRestoreArray(da, b, &bb));
  } else {
    PetscCall(VecSet(b, 1.0));
  }
  t_rhs = now() - t;

  /* ---- setup ---- */
  t = now();
  PetscCall(KSPCreate(PETSC_COMM_WORLD, &ksp));
  PetscCall(KSPSetOperators(ksp, A, A));
  PetscCall(KSPSetType(ksp, KSPCG));
  PetscCall(KSPGetPC(ksp, &pc));
  if (strcmp(pc_name, "mg") == 0) {
    DM dms[8];
    PetscCall(PCSetType(pc, PCMG));
    PetscCall(mg_levels(da, &levels));
    PetscCall(PCMGSetLevels(pc, levels, NULL));
    dms[levels - 1] = da;
    for (PetscInt l = levels - 1; l > 0; --l) PetscCall(DMCoarsen(dms[l], PETSC_COMM_WORLD, &dms[l - 1]));
    for (PetscInt l = 1; l < levels; ++l) {
      Mat P;
      PetscCall(DMCreateInterpolation(dms[l - 1], dms[l], &P, NULL));
      PetscCall(PCMGSetInterpolation(pc, l, P));
      PetscCall(MatDestroy(&P));
    }
    for (PetscInt l = 0; l < levels - 1; ++l) PetscCall(DMDestroy(&dms[l]));
    PetscCall(PCMGSetGalerkin(pc, PC_MG_GALERKIN_BOTH));
  } else {
    PetscCall(PCSetType(pc, pc_name));
  }
  PetscCall(KSPSetTolerances(ksp, 1e-8, 1e-50, PETSC_DEFAULT, 10000));
  PetscCall(KSPSetNormType(ksp, KSP_NORM_UNPRECONDITIONED));
  PetscCall(KSPSetInitialGuessNonzero(ksp, PETSC_TRUE));
  PetscCall(KSPSetFromOptions(ksp));
  PetscCall(KSPSetUp(ksp));
  t_setup = now() - t;

  /* ---- solve ---- */
  t = now();
  PetscCall(KSPSolve(ksp, b, x));
  t_solve = now() - t;

  PetscCall(KSPGetIterationNumber(ksp, &its));
  PetscCall(KSPGetConvergedReason(ksp, &reason));
  PetscCall(VecNorm(x, NORM_2, &norm2));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "plain %d^3 cells, cg+%s: %s in %d iterations\n", (int)n, pc_name,
                        KSPConvergedReasons[reason], (int)its));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "RESULT impl=plain pc=%s n=%d source=%s grid=%.4f assemble=%.4f problem=%.4f matrix=%.4f "
                        "setup=%.4f solve=%.4f ksp_solve=%.4f its=%d converged=%d norm2=%.12e norm_l2=%.12e\n",
                        pc_name, (int)n, source, t_grid, t_matrix + t_rhs, t_rhs, t_matrix, t_setup, t_solve, t_solve,
                        (int)its, reason > 0 ? 1 : 0, (double)norm2, (double)norm2 * pow(h, 1.5)));

  PetscCall(KSPDestroy(&ksp));
  PetscCall(VecDestroy(&b));
  PetscCall(VecDestroy(&x));
  PetscCall(MatDestroy(&A));
  PetscCall(DMDestroy(&da));
  PetscCall(PetscFinalize());
  return 0;
}
