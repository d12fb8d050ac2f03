#!/usr/bin/python3
"""Grid baselines for INSR's 1D advection example (Chen et al., ICML 2023, section 5.1).

usage: /usr/bin/python3 bench/insr_grid_advection.py [--points N [N ...]] [--schemes S [S ...]]
                                                    [--time-refinement fixed|cfl|both] [--json OUT]
                                                    [--repeat R] [--lw-max-cfl NU] [--self-test]

The problem (as in the paper):
    u_t + a u_x = 0 on [-2, 2], a = 0.25, u = 0 at x = -2 (inflow) and x = 2,
    u0(x) = exp(-0.5 (x + 1.5)^2 / 0.1^2), dt = 0.05, 240 steps to t = 12,
    exact solution u(x, t) = u0(x - a t) (the pulse ends centred at x = 1.5).
u0(-2) = exp(-12.5) = 3.7e-6, not 0, and so is the exact solution at x = 2 at t = 12: the boundary
data disagree with the exact solution by 3.7e-6, a floor no scheme can go below (only the 4th-order
runs at the finest grids come near it).

The grid: N nodes x_i = -2 + i h, h = 4 / (N - 1), both end nodes included and held at 0, so the
state is N floats (N - 2 unknowns). N = 901 (h = 1/225) is "the grid of the same memory" as INSR's
901-parameter network. N = 113, 226, 451, 901, 1802 (h = 4/112, 4/225, 4/450, 4/900, 4/1801) is
the convergence series: observed orders use the actual h.

Schemes (the first three integrate the same kind of semi-discrete system u' = -a D u, D a central
difference; D is the truncation of the infinite Toeplitz stencil to the interior nodes, i.e. the
field continues as 0 beyond the ends: exactly the Dirichlet condition for the 3-point stencil, and
for the 5-point one it also zeroes the one node outside, which the solution there (< 4e-6)
justifies. A truncated antisymmetric stencil gives an antisymmetric D, so the semi-discrete energy
is conserved, and the A-stable integrators below are unconditionally stable and non-dissipative):
    cn2  Crank-Nicolson in time, 2nd-order central differences in space: order (2, 2). The classic
         implicit baseline; one tridiagonal solve per step at any CFL number.
    cn4  Crank-Nicolson, 4th-order central differences: order (2, 4); pentadiagonal.
    gl4  the 2-stage Gauss-Legendre Runge-Kutta method (4th order, A-stable, symplectic), 4th-order
         central differences: order (4, 4). For the linear system u' = L u any Runge-Kutta step is
         u^{n+1} = R(dt L) u^n with R the method's stability function; for the 2-stage Gauss method
         R is the (2,2) Pade approximant of exp, R(z) = (1 + z/2 + z^2/12) / (1 - z/2 + z^2/12),
         so a step is one banded solve (bandwidth 4): no stage vectors are formed.
    lw   Lax-Wendroff (explicit, 2nd order in space and time, the classic "second-order upwind-type"
         scheme). Explicit, so it needs CFL = a dt / h <= 1; at N = 901 the CFL number of dt = 0.05
         is 2.81, so it takes m substeps per dt = 0.05, the fewest with CFL <= --lw-max-cfl (0.5 by
         default: for constant a, Lax-Wendroff becomes exact as the CFL number goes to 1, so a
         number taken near CFL 1 would reflect that lattice coincidence rather than the scheme).

Which baseline is fair and strong at N = 901, dt = 0.05: the pulse (sigma = 0.1) is resolved by
22.5 grid spacings per sigma, but by only 8 time steps per sigma / a, and the CFL number is 2.8.
Explicit schemes cannot take INSR's step (lw substeps, so it does more work and is not "the same
dt"); the implicit A-stable ones can. With dt fixed at 0.05, Crank-Nicolson's time error
dominates at N = 901, so cn4 is hardly better than cn2 there (the tables show it). The strong
baseline at INSR's dt and memory is therefore gl4: same step, same memory, one banded solve per
step, 4th order in both space and time. cn2 is the textbook baseline the paper's comparison uses
(CN + central differences).

Measured at the final time t = 12 on the solver's own N nodes (end nodes included) against the
exact solution: max |e|, mean |e|, relative L2 = sqrt(sum e^2) / sqrt(sum u_exact^2), and the
wall time of the solve (building the matrices, factoring, the time loop; best of --repeat runs;
the exact solution and the error are not timed).

--time-refinement: fixed keeps dt = 0.05 (240 steps) at every N (the benchmark setting; at fine N
the time error takes over and the observed order falls), cfl refines dt with h (steps =
round(240 (N - 1) / 900), the same CFL number as N = 901 with dt = 0.05), which shows the combined
order: 2 for cn2, cn4 (time-limited) and lw, 4 for gl4. --self-test checks exactly that: the
observed order of the relative L2 error between N = 451 and 901 with dt refined along with h is
within 0.3 of the scheme's order (under a second).
"""
import argparse
import datetime
import json
import math
import os
import sys
import time

# One thread for Debian's OpenMP OpenBLAS (set before numpy loads it): the vectors here are far too
# short for threads to pay, and on a loaded 2-core machine idle OpenMP threads only add noise.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import scipy.sparse.linalg as spla  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import machine  # noqa: E402  (bench/machine.py: what the result files say of the machine)

# ---------------------------------------------------------------------------------------------
# The problem

A = 0.25            # advection speed
X_LO, X_HI = -2.0, 2.0
X0, SIGMA = -1.5, 0.1  # initial pulse centre and width
DT = 0.05           # INSR's time step
STEPS = 240         # to t = 12
T_END = DT * STEPS
N_REF = 901         # "same memory" as INSR's 901-parameter network
CONVERGENCE_POINTS = [113, 226, 451, 901, 1802]

SCHEMES = {
    # name: (description, order in time, order in space)
    "cn2": ("Crank-Nicolson + central 2nd order", 2, 2),
    "cn4": ("Crank-Nicolson + central 4th order", 2, 4),
    "gl4": ("Gauss-Legendre RK (2 stages) + central 4th order", 4, 4),
    "lw": ("Lax-Wendroff (explicit, substepped)", 2, 2),
}


def u0(x):
    return np.exp(-0.5 * (x - X0) ** 2 / SIGMA ** 2)


def exact(x, t):
    return u0(x - A * t)


def nodes(n):
    """The N grid nodes, both ends included (they hold the Dirichlet value 0)."""
    return np.linspace(X_LO, X_HI, n)


# ---------------------------------------------------------------------------------------------
# Spatial operators

def central_difference(m, h, order):
    """The (m x m) central first-derivative matrix on the interior nodes, the field taken as 0
    beyond them: 2nd order (u_{i+1} - u_{i-1}) / 2h, or 4th order
    (u_{i-2} - 8 u_{i-1} + 8 u_{i+1} - u_{i+2}) / 12h. Antisymmetric in both cases."""
    if order == 2:
        offsets, coeffs = [-1, 1], [-1.0 / (2 * h), 1.0 / (2 * h)]
    elif order == 4:
        offsets = [-2, -1, 1, 2]
        coeffs = [1.0 / (12 * h), -8.0 / (12 * h), 8.0 / (12 * h), -1.0 / (12 * h)]
    else:
        raise ValueError(f"no central difference of order {order}")
    return sp.diags([np.full(m - abs(k), c) for k, c in zip(offsets, coeffs)], offsets, shape=(m, m), format="csc")


# ---------------------------------------------------------------------------------------------
# Time integrators. Each takes the initial nodal values (ends included), advances `steps` steps of
# size dt and returns the final nodal values; the end nodes stay 0 throughout.

def implicit_rational(u, h, dt, steps, space_order, time_order):
    """Crank-Nicolson (time_order 2) or 2-stage Gauss-Legendre (time_order 4) for u' = L u,
    L = -a D: each step is u^{n+1} = R(dt L) u^n, i.e. one solve with the denominator of R
    (factored once) applied to the numerator of R times u^n."""
    m = u.size - 2
    L = -A * central_difference(m, h, space_order)
    eye = sp.identity(m, format="csc")
    if time_order == 2:
        # R(z) = (1 + z/2) / (1 - z/2): (I - dt/2 L) u^{n+1} = (I + dt/2 L) u^n
        lhs, rhs = eye - 0.5 * dt * L, eye + 0.5 * dt * L
    elif time_order == 4:
        # R(z) = (1 + z/2 + z^2/12) / (1 - z/2 + z^2/12), the 2-stage Gauss method's
        L2 = (L @ L).tocsc()
        lhs = eye - 0.5 * dt * L + (dt * dt / 12.0) * L2
        rhs = eye + 0.5 * dt * L + (dt * dt / 12.0) * L2
    else:
        raise ValueError(f"no implicit integrator of order {time_order}")
    lu = spla.splu(lhs.tocsc())  # banded: SuperLU keeps the fill inside the band
    rhs = rhs.tocsr()
    v = u[1:-1].copy()
    for _ in range(steps):
        v = lu.solve(rhs @ v)
    out = np.zeros_like(u)
    out[1:-1] = v
    return out


def lax_wendroff(u, h, dt, steps, substeps):
    """Lax-Wendroff with `substeps` equal substeps per step: u_i <- u_i - nu/2 (u_{i+1} - u_{i-1})
    + nu^2/2 (u_{i+1} - 2 u_i + u_{i-1}), nu = a dt_sub / h, on the interior nodes; ends held at 0."""
    nu = A * dt / substeps / h
    u = u.copy()
    for _ in range(steps * substeps):
        left, mid, right = u[:-2], u[1:-1], u[2:]
        u[1:-1] = mid - 0.5 * nu * (right - left) + 0.5 * nu * nu * (right - 2.0 * mid + left)
    return u


def lw_substeps(n, dt, max_cfl):
    """The fewest substeps per dt that bring Lax-Wendroff's CFL number to at most max_cfl."""
    h = (X_HI - X_LO) / (n - 1)
    return max(1, math.ceil(A * dt / h / max_cfl - 1e-12))


# ---------------------------------------------------------------------------------------------
# One run

def run(scheme, n, steps, repeat=1, lw_max_cfl=0.5):
    """Solve to t = T_END with `steps` steps on N nodes; errors at the final time and wall time."""
    x = nodes(n)
    h = x[1] - x[0]
    dt = T_END / steps
    u_init = u0(x)
    u_init[0] = u_init[-1] = 0.0  # the Dirichlet values (u0 there is 3.7e-6 and 0)
    substeps = lw_substeps(n, dt, lw_max_cfl) if scheme == "lw" else 1
    _, time_order, space_order = SCHEMES[scheme]
    best = math.inf
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        if scheme == "lw":
            u = lax_wendroff(u_init, h, dt, steps, substeps)
        else:
            u = implicit_rational(u_init, h, dt, steps, space_order, time_order)
        best = min(best, time.perf_counter() - start)
    ue = exact(x, T_END)
    e = u - ue
    return dict(scheme=scheme, points=n, h=h, dt=dt, steps=steps, substeps=substeps,
                cfl=A * dt / substeps / h, state_floats=n,
                max_abs_error=float(np.max(np.abs(e))), mean_abs_error=float(np.mean(np.abs(e))),
                rel_l2_error=float(np.linalg.norm(e) / np.linalg.norm(ue)),
                wall_seconds=best, finite=bool(np.all(np.isfinite(u))))


def steps_for(n, mode):
    """fixed: INSR's 240 steps of 0.05 at every N; cfl: dt refined with h (the CFL number of N = 901)."""
    if mode == "fixed":
        return STEPS
    return max(1, round(STEPS * (n - 1) / (N_REF - 1)))


def observed_order(r_coarse, r_fine, key="rel_l2_error"):
    """log(e_coarse / e_fine) / log(h_coarse / h_fine)."""
    ec, ef = r_coarse[key], r_fine[key]
    if not (ec > 0 and ef > 0):
        return float("nan")
    return math.log(ec / ef) / math.log(r_coarse["h"] / r_fine["h"])


# ---------------------------------------------------------------------------------------------
# Output

def print_table(records, mode, scheme):
    rows = [r for r in records if r["mode"] == mode and r["scheme"] == scheme]
    if not rows:
        return
    rows.sort(key=lambda r: r["points"])
    desc, pt, px = SCHEMES[scheme]
    label = "dt = 0.05 at every N" if mode == "fixed" else "dt refined with h (CFL of N = 901)"
    print(f"\n{scheme}: {desc}, order ({pt} in time, {px} in space); {label}")
    print(f"{'N':>6} {'h':>9} {'steps':>6} {'sub':>4} {'CFL':>6} {'max|e|':>10} {'mean|e|':>10} "
          f"{'rel L2':>10} {'order':>6} {'wall ms':>8}")
    prev = None
    for r in rows:
        order = "" if prev is None else f"{observed_order(prev, r):.2f}"
        print(f"{r['points']:>6} {r['h']:>9.3e} {r['steps']:>6} {r['substeps']:>4} {r['cfl']:>6.3f} "
              f"{r['max_abs_error']:>10.3e} {r['mean_abs_error']:>10.3e} {r['rel_l2_error']:>10.3e} "
              f"{order:>6} {1e3 * r['wall_seconds']:>8.2f}")
        prev = r


def self_test():
    """Observed order between N = 451 and 901, dt refined with h: within 0.3 of the scheme's order."""
    ok = True
    for scheme, (desc, pt, px) in SCHEMES.items():
        expected = min(pt, px)
        coarse = run(scheme, 451, steps_for(451, "cfl"))
        fine = run(scheme, 901, steps_for(901, "cfl"))
        p = observed_order(coarse, fine)
        good = abs(p - expected) <= 0.3 and fine["finite"]
        ok &= good
        print(f"self-test {scheme:4s}: observed order {p:.2f} (expected {expected}), "
              f"rel L2 {coarse['rel_l2_error']:.2e} -> {fine['rel_l2_error']:.2e}: {'ok' if good else 'FAILED'}")
    # The benchmark setting itself must also be sane: every scheme below 10% relative L2 at N = 901.
    for scheme in SCHEMES:
        r = run(scheme, N_REF, STEPS)
        good = r["finite"] and r["rel_l2_error"] < 0.1
        ok &= good
        if not good:
            print(f"self-test {scheme}: N = 901, dt = 0.05: rel L2 {r['rel_l2_error']:.3e}: FAILED")
    assert ok, "insr_grid_advection self-test failed"
    print("self-test passed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, nargs="+", default=[N_REF],
                    help=f"grid nodes N, ends included (default {N_REF}); several print a convergence table, "
                         f"e.g. --points {' '.join(map(str, CONVERGENCE_POINTS))}")
    ap.add_argument("--convergence", action="store_true",
                    help=f"shorthand for --points {' '.join(map(str, CONVERGENCE_POINTS))}")
    ap.add_argument("--schemes", nargs="+", default=list(SCHEMES), choices=list(SCHEMES))
    ap.add_argument("--time-refinement", choices=["fixed", "cfl", "both"], default=None,
                    help="fixed: dt = 0.05 at every N; cfl: dt refined with h; both (default with several N; "
                         "fixed with one N)")
    ap.add_argument("--repeat", type=int, default=3, help="time each run this many times, keep the best (3)")
    ap.add_argument("--lw-max-cfl", type=float, default=0.5, help="Lax-Wendroff substeps to CFL <= this (0.5)")
    ap.add_argument("--json", metavar="OUT", help="write the results here")
    ap.add_argument("--self-test", action="store_true", help="check the observed orders and stop")
    a = ap.parse_args()
    if a.self_test:
        self_test()
        return
    points = CONVERGENCE_POINTS if a.convergence else a.points
    if any(n < 6 for n in points):
        ap.error("--points: at least 6 nodes")
    if not 0 < a.lw_max_cfl <= 1:
        ap.error("--lw-max-cfl: in (0, 1]")
    mode = a.time_refinement or ("both" if len(points) > 1 else "fixed")
    modes = ["fixed", "cfl"] if mode == "both" else [mode]

    records = []
    for m in modes:
        for scheme in a.schemes:
            for n in points:
                r = run(scheme, n, steps_for(n, m), a.repeat, a.lw_max_cfl)
                r["mode"] = m
                records.append(r)
    print(f"1D advection, a = {A}, [-2, 2], u0 = exp(-0.5 (x + 1.5)^2 / 0.1^2), to t = {T_END:g}; "
          f"errors at t = {T_END:g} on the N nodes; wall: best of {a.repeat}, "
          f"{machine.cpus()} CPUs ({machine.cpu_model()}), load {os.getloadavg()[0]:.2f}")
    for m in modes:
        for scheme in a.schemes:
            print_table(records, m, scheme)
    if a.json:
        out = dict(problem=dict(equation="u_t + a u_x = 0", a=A, domain=[X_LO, X_HI], boundary="u = 0 at both ends",
                                initial="exp(-0.5 (x + 1.5)^2 / 0.1^2)", dt=DT, steps=STEPS, t_end=T_END,
                                grid="N nodes, ends included, h = 4 / (N - 1); state = N floats"),
                   schemes={k: dict(description=v[0], time_order=v[1], space_order=v[2]) for k, v in SCHEMES.items()},
                   lw_max_cfl=a.lw_max_cfl, repeat=a.repeat,
                   machine=dict(cpu=machine.cpu_model(), cpus=machine.cpus(), load=os.getloadavg()),
                   date=datetime.datetime.now().isoformat(timespec="seconds"), command=" ".join(sys.argv),
                   results=records)
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
        print(f"\nwrote {a.json}")


if __name__ == "__main__":
    main()
