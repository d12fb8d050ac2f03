#!/usr/bin/python3
"""The time error of INSR's Taylor-Green scheme itself: the authors' splitting (semi-Lagrangian
advection u_adv(x) = u_n(x - dt u_n(x)), then the projection u = u_adv - grad p onto divergence-free
fields) carried out exactly in space, so that what remains is the error of the time stepping alone,
the floor that INSR's networks can at best reach (as the midpoint rule's Fourier series is for the
advection example).

"Exactly in space": the field lives on its Fourier series over the 2-periodic square [-1, 1)^2 (the
Taylor-Green field u = (sin X cos Y, -cos X sin Y) / pi, X = (x + 1) pi, is 2-periodic, and its
slip walls are symmetry lines of the periodic flow). Each step evaluates the series at the departure
points (a non-uniform discrete Fourier sum, exact for the band-limited field) and projects with the
FFT. --modes M keeps M x M modes; the result does not change when M doubles (checked by
--self-test), so the spatial error is negligible.

  /usr/bin/python3 bench/insr_splitting_reference.py [--dt 0.05] [--steps 100] [--modes 32] [--json OUT]
  /usr/bin/python3 bench/insr_splitting_reference.py --self-test"""
import argparse
import json
import sys

import numpy as np


def exact(x, y):
    X, Y = (x + 1) * np.pi, (y + 1) * np.pi
    return np.stack([np.sin(X) * np.cos(Y), -np.cos(X) * np.sin(Y)]) / np.pi


def evaluate(coef, k, px, py):
    """The Fourier series sum_k coef[:, b, a] exp(i (k_a (px + 1) + k_b (py + 1))) at the points (px, py)."""
    ex = np.exp(1j * np.outer(px + 1, k))  # [points, m]
    ey = np.exp(1j * np.outer(py + 1, k))
    return np.stack([np.real(np.einsum("pa,ba,pb->p", ex, c, ey, optimize=True)) for c in coef])


def run(dt, steps, m, at=None):
    """Relative L2 error of the exact-in-space splitting after each step (grid of m x m points), and
    with `at` = (x, y) arrays of points also the final field there, [2, points]."""
    c = -1 + 2 * np.arange(m) / m  # the periodic grid's points
    x, y = np.meshgrid(c, c, indexing="xy")
    k = np.fft.fftfreq(m, 1.0 / m) * np.pi  # wave numbers of period 2
    kx, ky = np.meshgrid(k, k, indexing="xy")
    k2 = kx ** 2 + ky ** 2
    k2[0, 0] = 1.0
    u = exact(x, y)
    ref = np.linalg.norm(u)
    errors = []
    for _ in range(steps):
        coef = np.fft.fft2(u) / (m * m)  # u(p) = sum_k coef_k exp(i k . (p + 1))
        adv = evaluate(coef, k, (x - dt * u[0]).ravel(), (y - dt * u[1]).ravel()).reshape(2, m, m)
        a = np.fft.fft2(adv)
        div = kx * a[0] + ky * a[1]
        a[0] -= kx * div / k2
        a[1] -= ky * div / k2
        u = np.real(np.fft.ifft2(a))
        errors.append(float(np.linalg.norm(u - exact(x, y)) / ref))
    if at is None:
        return errors
    return errors, evaluate(np.fft.fft2(u) / (m * m), k, np.ravel(at[0]), np.ravel(at[1]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dt", type=float, default=0.05)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--modes", type=int, default=32)
    ap.add_argument("--json", metavar="OUT")
    ap.add_argument("--self-test", action="store_true", help="the error does not change when the modes double")
    a = ap.parse_args()
    if a.self_test:
        coarse, fine = run(a.dt, 10, 16)[-1], run(a.dt, 10, 32)[-1]
        assert abs(coarse - fine) <= 1e-3 * fine, (coarse, fine)
        half = run(a.dt / 2, 20, 32)[-1]
        order = np.log2(fine / half)
        assert 0.7 < order < 1.3, order  # the splitting is first order in dt
        print(f"self-test: 16 vs 32 modes {coarse:.6e} vs {fine:.6e}; observed order in dt {order:.2f}")
        return
    errors = run(a.dt, a.steps, a.modes)
    print(f"exact-in-space splitting, dt {a.dt}, {a.steps} steps, {a.modes}^2 modes: relative L2 error "
          f"{errors[0]:.3e} after one step, {errors[-1]:.3e} at t = {a.dt * a.steps:g}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"dt": a.dt, "steps": a.steps, "modes": a.modes, "command": " ".join(sys.argv),
                       "relative_l2_error": errors}, f, indent=1)


if __name__ == "__main__":
    main()
