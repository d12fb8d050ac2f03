// SpectralNs2d: FFTW (serial or MPI slabs) pseudo-spectral vorticity solver, its initial conditions and spectral truncation.
#include "fluxion/pde/spectral_ns2d.hpp"

#include <fftw3-mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <utility>

#include "fluxion/core/error.hpp"

namespace fluxion {

namespace {

using cplx = std::complex<double>;
constexpr double kPi = std::numbers::pi;

std::string number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

// A Hermitian unit-variance draw: (xi(m) + conj xi(-m)) / 2, so that the field it builds is real.
cplx hermitian_gaussian(std::uint64_t seed, long mx, long my) {
  return 0.5 * (keyed_gaussian(seed, mx, my) + std::conj(keyed_gaussian(seed, -mx, -my)));
}

void init_fftw_mpi() {
  static bool done = false;
  if (!done) {
    fftw_mpi_init();
    done = true;
  }
}

}  // namespace

std::string to_string(SpectralScheme scheme) {
  switch (scheme) {
    case SpectralScheme::CnRk2: return "cn_rk2";
    case SpectralScheme::Rk4Cn: return "rk4_cn";
    case SpectralScheme::IfRk4: return "if_rk4";
  }
  return "?";
}

SpectralScheme parse_spectral_scheme(const std::string& name) {
  if (name == "cn_rk2") return SpectralScheme::CnRk2;
  if (name == "rk4_cn") return SpectralScheme::Rk4Cn;
  if (name == "if_rk4") return SpectralScheme::IfRk4;
  throw Error("unknown spectral time scheme '" + name + "'; expected cn_rk2, rk4_cn or if_rk4");
}

int explicit_evaluations(SpectralScheme scheme) {
  switch (scheme) {
    case SpectralScheme::CnRk2: return 2;
    case SpectralScheme::Rk4Cn: return 5;
    case SpectralScheme::IfRk4: return 4;
  }
  return 0;
}

long dealias_cutoff(long n) { return n >= 1 ? (n - 1) / 3 : 0; }

std::vector<long> spectral_slab_rows(long ny, int ranks) {
  std::vector<long> rows(static_cast<std::size_t>(std::max(ranks, 1)), 0);
  const long block = (ny + ranks - 1) / ranks;
  for (int r = 0; r < ranks; ++r) rows[r] = std::clamp(ny - r * block, 0L, block);
  return rows;
}

std::optional<SpectralSpecProblem> spectral_spec_problem(const SpectralNs2dSpec& s, int ranks) {
  for (const auto& [key, n] : {std::pair<const char*, long>{"nx", s.nx}, {"ny", s.ny}})
    if (n < 4 || n % 2 != 0)
      return SpectralSpecProblem{key, "is " + std::to_string(n) +
                                          "; expected an even number of grid points >= 4 (the 2/3 dealiasing keeps "
                                          "|m| < n/3, so 4 is the least that keeps the wavenumber 1)"};
  if (!(s.length > 0.0) || !std::isfinite(s.length))
    return SpectralSpecProblem{"length", "is " + number(s.length) + "; expected a finite length > 0"};
  if (!(s.viscosity >= 0.0) || !std::isfinite(s.viscosity))
    return SpectralSpecProblem{"viscosity", "is " + number(s.viscosity) + "; expected a finite value >= 0"};
  if (!(s.drag >= 0.0) || !std::isfinite(s.drag))
    return SpectralSpecProblem{"drag", "is " + number(s.drag) + "; expected a finite value >= 0"};
  if (s.forcing.type == SpectralForcing::Type::Kolmogorov) {
    if (!std::isfinite(s.forcing.amplitude))
      return SpectralSpecProblem{"forcing.amplitude", "is " + number(s.forcing.amplitude) + "; expected a finite value"};
    if (s.forcing.wavenumber < 1)
      return SpectralSpecProblem{"forcing.wavenumber", "is " + std::to_string(s.forcing.wavenumber) + "; expected >= 1"};
    if (s.forcing.wavenumber > dealias_cutoff(s.ny))
      return SpectralSpecProblem{
          "ny", "is " + std::to_string(s.ny) + ": too few points for the forcing wavenumber " +
                    std::to_string(s.forcing.wavenumber) + " after 2/3 dealiasing (" + std::to_string(s.ny) +
                    " points keep |m| <= " + std::to_string(dealias_cutoff(s.ny)) + "); expected at least " +
                    std::to_string(3 * s.forcing.wavenumber + 1 + (3 * s.forcing.wavenumber + 1) % 2) + " points"};
  }
  const std::vector<long> rows = spectral_slab_rows(s.ny, ranks);
  for (int r = 0; r < ranks; ++r)
    if (rows[r] < 1)
      return SpectralSpecProblem{
          "ny", "is " + std::to_string(s.ny) + ": " + std::to_string(ranks) + " ranks cannot share " +
                    std::to_string(s.ny) + " rows in FFTW slabs of " + std::to_string(rows[0]) + " (rank " +
                    std::to_string(r) + " would get none); run on at most " +
                    std::to_string((s.ny + rows[0] - 1) / rows[0]) + " ranks or use more points"};
  return std::nullopt;
}

std::complex<double> random_field_coefficient(const RandomFieldSpec& spec, double length, long mx, long my) {
  if (mx == 0 && my == 0) return 0.0;
  const double k2 = (double(mx) * double(mx) + double(my) * double(my)) / (length * length);
  const double sigma = std::pow(spec.tau, spec.alpha - 1.0);  // tau^(alpha - d/2), d = 2
  const double amplitude = std::sqrt(2.0) * sigma * std::pow(4.0 * kPi * kPi * k2 + spec.tau * spec.tau, -spec.alpha / 2.0);
  return amplitude * hermitian_gaussian(spec.seed, mx, my);
}

double SpectralNs2d::taylor_green_vorticity(double amplitude, int wavenumber, double length, double viscosity,
                                            double drag, double x, double y, double t) {
  const double k = 2.0 * kPi * wavenumber / length;
  return 2.0 * amplitude * k * std::sin(k * x) * std::sin(k * y) * std::exp(-(2.0 * viscosity * k * k + drag) * t);
}

// ----------------------------------------------------------------------------------------------
// The solver's data: FFTW plans and arrays, the wavenumbers of the local spectral entries.
//
// Physical arrays are (ny, nx) row-major with rows padded to 2 (nx/2 + 1) doubles (FFTW's r2c
// layout), rows [row0, row0 + rows) on this rank. Spectral arrays hold the coefficients c_m of
// w = sum c_m exp(2 pi i m.x / L) (FFTW's forward output / (nx ny)) for mx in [0, nx/2] and all
// my: crows x ccols entries, (my rows, mx columns) unless transposed (mx rows, my columns).
struct SpectralNs2d::Impl {
  MPI_Comm comm;
  int rank = 0, size = 1;
  SpectralNs2dSpec spec;
  long nx, ny, nxh, rstride;
  long rows = 0, row0 = 0;
  bool transposed = false;
  long crows = 0, crow0 = 0, ccols = 0;
  std::size_t nc = 0;        // local spectral entries
  std::ptrdiff_t alloc = 0;  // complex entries to allocate per array
  fftw_plan forward = nullptr, inverse = nullptr;
  cplx *w = nullptr, *h = nullptr, *g = nullptr, *s = nullptr, *nl = nullptr, *f = nullptr;
  cplx* scratch[4] = {nullptr, nullptr, nullptr, nullptr};
  double* real[4] = {nullptr, nullptr, nullptr, nullptr};
  std::vector<double> kx, ky, inv_k2, lin, keep, weight;
  std::vector<long> mxs, mys;
  double time = 0.0, last_cfl = 0.0;
  long steps = 0;
  double fft_seconds = 0.0;
  long fft_count = 0;
  double cached_dt = -1.0;  // the step size the factors below were made for
  std::vector<double> factor_a, factor_b;
  mutable std::shared_ptr<const Grid> grid;

  Impl(MPI_Comm c, const SpectralNs2dSpec& sp) : comm(c), spec(sp), nx(sp.nx), ny(sp.ny), nxh(sp.nx / 2 + 1), rstride(2 * nxh) {
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const unsigned flags = spec.measure_plans ? FFTW_MEASURE : FFTW_ESTIMATE;
    if (size == 1) {
      rows = ny;
      crows = ny;
      ccols = nxh;
      alloc = static_cast<std::ptrdiff_t>(ny * nxh);
    } else {
      init_fftw_mpi();
      transposed = spec.transposed;
      std::ptrdiff_t ln0 = 0, l0s = 0, ln1 = 0, l1s = 0;
      if (transposed) {
        alloc = fftw_mpi_local_size_2d_transposed(ny, nxh, comm, &ln0, &l0s, &ln1, &l1s);
        crows = ln1;
        crow0 = l1s;
        ccols = ny;
      } else {
        alloc = fftw_mpi_local_size_2d(ny, nxh, comm, &ln0, &l0s);
        crows = ln0;
        crow0 = l0s;
        ccols = nxh;
      }
      rows = ln0;
      row0 = l0s;
      if (rows != spectral_slab_rows(ny, size)[rank])
        throw Error("SpectralNs2d: FFTW's slab of rank " + std::to_string(rank) + " (" + std::to_string(rows) +
                    " rows) is not the expected one");
    }
    alloc = std::max<std::ptrdiff_t>(alloc, 1);
    nc = static_cast<std::size_t>(crows * ccols);
    for (cplx** a : {&w, &h, &g, &s, &nl, &f, &scratch[0], &scratch[1], &scratch[2], &scratch[3]})
      *a = reinterpret_cast<cplx*>(fftw_alloc_complex(alloc));
    for (double*& r : real) r = fftw_alloc_real(2 * alloc);
    // Plans first: FFTW_MEASURE overwrites the arrays it plans on.
    auto* c0 = reinterpret_cast<fftw_complex*>(scratch[0]);
    if (size == 1) {
      const int n[2] = {static_cast<int>(ny), static_cast<int>(nx)};
      const int rembed[2] = {static_cast<int>(ny), static_cast<int>(rstride)};
      const int cembed[2] = {static_cast<int>(ny), static_cast<int>(nxh)};
      forward = fftw_plan_many_dft_r2c(2, n, 1, real[0], rembed, 1, 0, c0, cembed, 1, 0, flags);
      inverse = fftw_plan_many_dft_c2r(2, n, 1, c0, cembed, 1, 0, real[0], rembed, 1, 0, flags);
    } else {
      forward = fftw_mpi_plan_dft_r2c_2d(ny, nx, real[0], c0, comm, flags | (transposed ? FFTW_MPI_TRANSPOSED_OUT : 0));
      inverse = fftw_mpi_plan_dft_c2r_2d(ny, nx, c0, real[0], comm, flags | (transposed ? FFTW_MPI_TRANSPOSED_IN : 0));
    }
    if (!forward || !inverse) throw Error("SpectralNs2d: FFTW could not plan the " + std::to_string(nx) + " x " +
                                          std::to_string(ny) + " transforms");
    for (std::size_t e = 0; e < static_cast<std::size_t>(alloc); ++e)
      w[e] = h[e] = g[e] = s[e] = nl[e] = f[e] = 0.0;
    make_wavenumbers();
    make_forcing();
  }

  ~Impl() {
    if (forward) fftw_destroy_plan(forward);
    if (inverse) fftw_destroy_plan(inverse);
    for (cplx* a : {w, h, g, s, nl, f, scratch[0], scratch[1], scratch[2], scratch[3]})
      fftw_free(reinterpret_cast<fftw_complex*>(a));
    for (double* r : real) fftw_free(r);
  }

  void make_wavenumbers() {
    kx.resize(nc), ky.resize(nc), inv_k2.resize(nc), lin.resize(nc), keep.resize(nc), weight.resize(nc);
    mxs.resize(nc), mys.resize(nc);
    const long kcx = dealias_cutoff(nx), kcy = dealias_cutoff(ny);
    const double unit = 2.0 * kPi / spec.length;
    for (long r = 0; r < crows; ++r)
      for (long c = 0; c < ccols; ++c) {
        const std::size_t e = static_cast<std::size_t>(r * ccols + c);
        long mx, j;
        if (transposed) {
          mx = crow0 + r;
          j = c;
        } else {
          mx = c;
          j = crow0 + r;
        }
        const long my = j <= ny / 2 ? j : j - ny;
        mxs[e] = mx;
        mys[e] = my;
        kx[e] = unit * double(mx);
        ky[e] = unit * double(my);
        const double k2 = kx[e] * kx[e] + ky[e] * ky[e];
        inv_k2[e] = k2 > 0.0 ? 1.0 / k2 : 0.0;
        lin[e] = -spec.viscosity * k2 - spec.drag;
        keep[e] = (mx <= kcx && std::abs(my) <= kcy) ? 1.0 : 0.0;
        weight[e] = (mx == 0 || 2 * mx == nx) ? 1.0 : 2.0;  // r2c stores one of each pair +-mx
      }
  }

  // The forcing sampled on the grid points and transformed (exact: its modes lie in the band).
  void make_forcing() {
    using Type = SpectralForcing::Type;
    const SpectralForcing& fc = spec.forcing;
    if (fc.type == Type::None) return;
    const double L = spec.length;
    sample([&](double x, double y) {
      if (fc.type == Type::Kolmogorov) {
        const double k = 2.0 * kPi * fc.wavenumber / L;
        return -fc.amplitude * k * std::cos(k * y);
      }
      return 0.1 * (std::sin(2.0 * kPi * (x + y) / L) + std::cos(2.0 * kPi * (x + y) / L));
    }, f);
  }

  double x_of(long i) const { return spec.length * double(i) / double(nx); }
  double y_of(long j) const { return spec.length * double(j) / double(ny); }

  // out = the band-limited coefficients of fn sampled on this rank's rows.
  void sample(const std::function<double(double, double)>& fn, cplx* out) {
    for (long j = 0; j < rows; ++j)
      for (long i = 0; i < nx; ++i) real[0][j * rstride + i] = fn(x_of(i), y_of(row0 + j));
    to_spectral(real[0], out);
  }

  void to_spectral(double* in, cplx* out) {
    run_fft(forward, in, out, true);
    const double scale = 1.0 / (double(nx) * double(ny));
    for (std::size_t e = 0; e < nc; ++e) out[e] *= scale * keep[e];
  }

  // c2r destroys its input: callers pass scratch data.
  void to_physical(cplx* in, double* out) { run_fft(inverse, out, in, false); }

  void run_fft(fftw_plan plan, double* r, cplx* c, bool is_forward) {
    const auto start = std::chrono::steady_clock::now();
    auto* fc = reinterpret_cast<fftw_complex*>(c);
    if (size == 1) {
      if (is_forward) fftw_execute_dft_r2c(plan, r, fc);
      else fftw_execute_dft_c2r(plan, fc, r);
    } else {
      if (is_forward) fftw_mpi_execute_dft_r2c(plan, r, fc);
      else fftw_mpi_execute_dft_c2r(plan, fc, r);
    }
    fft_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++fft_count;
  }

  // out = N(in) = -(u.grad w)^ (2/3-filtered) + f^; returns this rank's max |u|^2 at the grid
  // points (+inf when a value is not finite).
  double explicit_terms(const cplx* in, cplx* out) {
    cplx *su = scratch[0], *sv = scratch[1], *swx = scratch[2], *swy = scratch[3];
    const cplx I(0.0, 1.0);
    for (std::size_t e = 0; e < nc; ++e) {
      const cplx wv = in[e];
      const cplx psi = wv * inv_k2[e];
      su[e] = I * ky[e] * psi;
      sv[e] = -I * kx[e] * psi;
      swx[e] = I * kx[e] * wv;
      swy[e] = I * ky[e] * wv;
    }
    for (int a = 0; a < 4; ++a) to_physical(scratch[a], real[a]);
    double umax2 = 0.0;
    bool nan = false;  // max() skips NaN: it would hide a blow-up
    const double *u = real[0], *v = real[1], *wx = real[2], *wy = real[3];
    double* prod = real[0];
    for (long j = 0; j < rows; ++j) {
      const long o = j * rstride;
      for (long i = o; i < o + nx; ++i) {
        const double uu = u[i], vv = v[i], m2 = uu * uu + vv * vv;
        umax2 = std::max(umax2, m2);
        nan |= std::isnan(m2);
        prod[i] = -(uu * wx[i] + vv * wy[i]);
      }
    }
    run_fft(forward, prod, out, true);
    const double scale = 1.0 / (double(nx) * double(ny));
    for (std::size_t e = 0; e < nc; ++e) out[e] = (out[e] * scale + f[e]) * keep[e];
    return nan || !std::isfinite(umax2) ? HUGE_VAL : umax2;
  }

  double global_max_velocity(double local_umax2) const {
    double local = std::isnan(local_umax2) ? HUGE_VAL : local_umax2, global = 0.0;
    MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_MAX, comm);
    return std::sqrt(global);
  }

  double spacing() const { return spec.length / double(std::max(nx, ny)); }

  // One step: N(w_n) first (it gives max|u| at t_n), then choose_dt(max|u|), then the scheme.
  void step(const std::function<double(double)>& choose_dt, bool final_step, double t_end) {
    const double umax = global_max_velocity(explicit_terms(w, nl));
    if (!std::isfinite(umax))
      throw NumericalError("SpectralNs2d: the velocity is not finite at t = " + number(time) + " (step " +
                           std::to_string(steps + 1) + "); the run diverged: use a smaller dt or CFL number");
    const double dt = choose_dt(umax);
    if (!(dt > 0.0) || !std::isfinite(dt)) throw Error("SpectralNs2d: the time step must be finite and > 0, got " + number(dt));
    switch (spec.scheme) {
      case SpectralScheme::CnRk2: cn_rk2(dt); break;
      case SpectralScheme::Rk4Cn: rk4_cn(dt); break;
      case SpectralScheme::IfRk4: if_rk4(dt); break;
    }
    last_cfl = umax * dt / spacing();
    time = final_step ? t_end : time + dt;
    ++steps;
  }

  // Heun for N, Crank-Nicolson for the linear terms (torch-cfd's IMEX RK2 with alpha = beta = 1/2):
  //   g = w + dt/2 L w,  w1 = (g + dt N(w)) / (1 - dt/2 L),  w = (g + dt (N(w) + N(w1)) / 2) / (1 - dt/2 L).
  void cn_rk2(double dt) {
    if (dt != cached_dt) {
      factor_a.resize(nc);
      for (std::size_t e = 0; e < nc; ++e) factor_a[e] = 1.0 / (1.0 - 0.5 * dt * lin[e]);
      cached_dt = dt;
    }
    for (std::size_t e = 0; e < nc; ++e) {
      g[e] = w[e] * (1.0 + 0.5 * dt * lin[e]);
      h[e] = nl[e];
      s[e] = (g[e] + dt * nl[e]) * factor_a[e];
    }
    explicit_terms(s, nl);
    for (std::size_t e = 0; e < nc; ++e) w[e] = (g[e] + 0.5 * dt * (nl[e] + h[e])) * factor_a[e];
  }

  // Carpenter & Kennedy's five-stage, fourth-order, two-register Runge-Kutta for N with a
  // Crank-Nicolson step of the linear terms over each stage's sub-interval (Canuto et al. D.3;
  // the scheme of jax-cfd and torch-cfd's RK4CrankNicolsonStepper).
  void rk4_cn(double dt) {
    static constexpr double alpha[6] = {0.0, 0.1496590219993, 0.3704009573644, 0.6222557631345, 0.9582821306748, 1.0};
    static constexpr double beta[5] = {0.0, -0.4178904745, -1.192151694643, -1.697784692471, -1.514183444257};
    static constexpr double gamma[5] = {0.1496590219993, 0.3792103129999, 0.8229550293869, 0.6994504559488,
                                        0.1530572479681};
    for (int k = 0; k < 5; ++k) {
      if (k > 0) explicit_terms(w, nl);
      const double mu = 0.5 * dt * (alpha[k + 1] - alpha[k]);
      for (std::size_t e = 0; e < nc; ++e) {
        h[e] = nl[e] + beta[k] * (k == 0 ? cplx(0.0) : h[e]);
        w[e] = (w[e] * (1.0 + mu * lin[e]) + gamma[k] * dt * h[e]) / (1.0 - mu * lin[e]);
      }
    }
  }

  // Lawson's integrating-factor RK4: v = exp(-L t) w takes classic RK4 steps, so the linear terms
  // are integrated exactly (a Taylor-Green vortex decays with no time error).
  void if_rk4(double dt) {
    if (dt != cached_dt) {
      factor_a.resize(nc), factor_b.resize(nc);
      for (std::size_t e = 0; e < nc; ++e) {
        factor_a[e] = std::exp(lin[e] * dt);        // E
        factor_b[e] = std::exp(lin[e] * dt * 0.5);  // E^(1/2)
      }
      cached_dt = dt;
    }
    const double* E = factor_a.data();
    const double* E2 = factor_b.data();
    for (std::size_t e = 0; e < nc; ++e) {
      h[e] = E[e] * nl[e];  // accumulates E a + 2 E2 (b + c) + d
      s[e] = E2[e] * (w[e] + 0.5 * dt * nl[e]);
    }
    explicit_terms(s, nl);  // b
    for (std::size_t e = 0; e < nc; ++e) {
      h[e] += 2.0 * E2[e] * nl[e];
      s[e] = E2[e] * w[e] + 0.5 * dt * nl[e];
    }
    explicit_terms(s, nl);  // c
    for (std::size_t e = 0; e < nc; ++e) {
      h[e] += 2.0 * E2[e] * nl[e];
      s[e] = E[e] * w[e] + dt * E2[e] * nl[e];
    }
    explicit_terms(s, nl);  // d
    for (std::size_t e = 0; e < nc; ++e) w[e] = E[e] * w[e] + dt / 6.0 * (h[e] + nl[e]);
  }

  // Physical values of the spectral data `coef(e)` on this rank's rows, row-major without padding.
  std::vector<double> physical(const std::function<cplx(std::size_t)>& coef) {
    for (std::size_t e = 0; e < nc; ++e) scratch[0][e] = coef(e);
    to_physical(scratch[0], real[0]);
    std::vector<double> out(static_cast<std::size_t>(rows * nx));
    for (long j = 0; j < rows; ++j)
      std::copy(real[0] + j * rstride, real[0] + j * rstride + nx, out.begin() + j * nx);
    return out;
  }

  double sum_over_ranks(double local) const {
    double global = 0.0;
    MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_SUM, comm);
    return global;
  }
};

SpectralNs2d::SpectralNs2d(MPI_Comm comm, const SpectralNs2dSpec& spec) {
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  if (const auto problem = spectral_spec_problem(spec, ranks)) throw ConfigError(problem->key + ": " + problem->message);
  impl_ = std::make_unique<Impl>(comm, spec);
}

SpectralNs2d::~SpectralNs2d() = default;

const SpectralNs2dSpec& SpectralNs2d::spec() const { return impl_->spec; }
MPI_Comm SpectralNs2d::comm() const { return impl_->comm; }
double SpectralNs2d::time() const { return impl_->time; }
long SpectralNs2d::steps_taken() const { return impl_->steps; }
long SpectralNs2d::row_begin() const { return impl_->row0; }
long SpectralNs2d::row_end() const { return impl_->row0 + impl_->rows; }
double SpectralNs2d::fft_seconds() const { return impl_->fft_seconds; }
long SpectralNs2d::fft_count() const { return impl_->fft_count; }
void SpectralNs2d::reset_fft_timer() {
  impl_->fft_seconds = 0.0;
  impl_->fft_count = 0;
}

void SpectralNs2d::set_vorticity(const std::function<double(double, double)>& w, double t0) {
  impl_->sample(w, impl_->w);
  impl_->time = t0;
  impl_->steps = 0;
}

void SpectralNs2d::set_vorticity_modes(const std::function<std::complex<double>(long, long)>& c, double t0) {
  Impl& m = *impl_;
  for (std::size_t e = 0; e < m.nc; ++e) m.w[e] = m.keep[e] != 0.0 ? c(m.mxs[e], m.mys[e]) : cplx(0.0);
  m.time = t0;
  m.steps = 0;
}

void SpectralNs2d::set_random_field(const RandomFieldSpec& rf, double t0) {
  const double L = impl_->spec.length;
  set_vorticity_modes([&](long mx, long my) { return random_field_coefficient(rf, L, mx, my); }, t0);
}

void SpectralNs2d::set_mcwilliams(const McWilliamsSpec& mc, double t0) {
  const double unit = 2.0 * kPi / impl_->spec.length;
  set_vorticity_modes(
      [&](long mx, long my) -> cplx {
        const double m = std::hypot(double(mx), double(my));
        if (m == 0.0) return 0.0;
        const double psi_amplitude = std::sqrt(1.0 / (m * (1.0 + std::pow(m / mc.peak_wavenumber, 4))));
        return unit * unit * m * m * psi_amplitude * hermitian_gaussian(mc.seed, mx, my);  // w_m = |k|^2 psi_m
      },
      t0);
  const double energy = diagnostics().energy;
  if (energy > 0.0) {
    const double scale = std::sqrt(mc.energy / energy);
    for (std::size_t e = 0; e < impl_->nc; ++e) impl_->w[e] *= scale;
  }
}

void SpectralNs2d::set_taylor_green(double amplitude, int wavenumber, double t0) {
  const SpectralNs2dSpec& s = impl_->spec;
  set_vorticity([&](double x, double y) {
    return taylor_green_vorticity(amplitude, wavenumber, s.length, s.viscosity, s.drag, x, y, 0.0);
  }, t0);
}

void SpectralNs2d::step(double dt) {
  impl_->step([dt](double) { return dt; }, false, 0.0);
}

AdvanceReport SpectralNs2d::advance(double t_end, const TimeControl& control) {
  Impl& m = *impl_;
  const auto start = std::chrono::steady_clock::now();
  AdvanceReport report;
  report.min_dt = HUGE_VAL;
  const auto record = [&](double dt) {
    report.min_dt = std::min(report.min_dt, dt);
    report.max_dt = std::max(report.max_dt, dt);
    return dt;
  };
  const double h = m.spacing();
  if (!(t_end > m.time)) throw Error("SpectralNs2d::advance: the end time " + number(t_end) + " is not after t = " + number(m.time));
  if (control.dt > 0.0) {
    const double span = t_end - m.time;
    const long n = std::max(1L, static_cast<long>(std::ceil(span / control.dt - 1e-9)));
    const double dt = span / double(n);
    for (long k = 0; k < n; ++k) {
      m.step([&](double umax) {
        if (m.steps == 0 && umax * control.dt / h > control.cfl)
          throw ConfigError("dt: the fixed time step " + number(control.dt) + " gives the CFL number max|u| dt / h = " +
                            number(umax * control.dt / h) + " (max|u| " + number(umax) + ", h " + number(h) +
                            ") above the limit " + number(control.cfl) + "; expected dt <= " +
                            number(control.cfl * h / umax));
        return record(dt);
      }, k == n - 1, t_end);
      report.max_cfl = std::max(report.max_cfl, m.last_cfl);
      ++report.steps;
    }
  } else {
    bool last = false;
    while (!last) {
      m.step([&](double umax) {
        double dt = umax > 0.0 ? std::min(control.cfl * h / umax, control.dt_max) : control.dt_max;
        const double remaining = t_end - m.time;
        if (remaining <= dt * (1.0 + 1e-9)) {
          dt = remaining;
          last = true;
        } else if (remaining < 2.0 * dt) {
          dt = 0.5 * remaining;  // two even steps rather than a tiny last one
        }
        return record(dt);
      }, false, t_end);
      if (last) m.time = t_end;
      report.max_cfl = std::max(report.max_cfl, m.last_cfl);
      ++report.steps;
    }
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

double SpectralNs2d::max_velocity() const {
  Impl& m = *impl_;
  const cplx I(0.0, 1.0);
  const std::vector<double> u = m.physical([&](std::size_t e) { return I * m.ky[e] * m.inv_k2[e] * m.w[e]; });
  const std::vector<double> v = m.physical([&](std::size_t e) { return -I * m.kx[e] * m.inv_k2[e] * m.w[e]; });
  double umax2 = 0.0;
  bool nan = false;
  for (std::size_t i = 0; i < u.size(); ++i) {
    umax2 = std::max(umax2, u[i] * u[i] + v[i] * v[i]);
    nan |= std::isnan(u[i] * u[i] + v[i] * v[i]);
  }
  return m.global_max_velocity(nan || !std::isfinite(umax2) ? HUGE_VAL : umax2);
}

SpectralDiagnostics SpectralNs2d::diagnostics() const {
  const Impl& m = *impl_;
  double energy = 0.0, enstrophy = 0.0;
  for (std::size_t e = 0; e < m.nc; ++e) {
    const double a2 = std::norm(m.w[e]) * m.weight[e];
    enstrophy += 0.5 * a2;
    energy += 0.5 * a2 * m.inv_k2[e];
  }
  SpectralDiagnostics d;
  d.time = m.time;
  d.steps = m.steps;
  d.energy = m.sum_over_ranks(energy);
  d.enstrophy = m.sum_over_ranks(enstrophy);
  d.max_velocity = max_velocity();
  d.cfl = m.last_cfl;
  return d;
}

std::vector<double> SpectralNs2d::energy_spectrum() const {
  const Impl& m = *impl_;
  const long kmax = static_cast<long>(std::ceil(std::hypot(double(m.nx / 2), double(m.ny / 2))));
  std::vector<double> local(static_cast<std::size_t>(kmax + 1), 0.0), global(local.size(), 0.0);
  for (std::size_t e = 0; e < m.nc; ++e) {
    const long shell = std::lround(std::hypot(double(m.mxs[e]), double(m.mys[e])));
    local[static_cast<std::size_t>(shell)] += 0.5 * std::norm(m.w[e]) * m.weight[e] * m.inv_k2[e];
  }
  MPI_Allreduce(local.data(), global.data(), static_cast<int>(local.size()), MPI_DOUBLE, MPI_SUM, m.comm);
  return global;
}

std::vector<double> SpectralNs2d::vorticity_values() const {
  const Impl& m = *impl_;
  return impl_->physical([&](std::size_t e) { return m.w[e]; });
}

std::vector<double> SpectralNs2d::stream_function_values() const {
  const Impl& m = *impl_;
  return impl_->physical([&](std::size_t e) { return m.w[e] * m.inv_k2[e]; });
}

std::vector<double> SpectralNs2d::velocity_values(int component) const {
  const Impl& m = *impl_;
  const cplx I(0.0, 1.0);
  if (component == 0) return impl_->physical([&](std::size_t e) { return I * m.ky[e] * m.inv_k2[e] * m.w[e]; });
  return impl_->physical([&](std::size_t e) { return -I * m.kx[e] * m.inv_k2[e] * m.w[e]; });
}

std::vector<double> SpectralNs2d::forcing_values() const {
  const Impl& m = *impl_;
  return impl_->physical([&](std::size_t e) { return m.f[e]; });
}

std::shared_ptr<const Grid> SpectralNs2d::grid() const {
  Impl& m = *impl_;
  if (m.grid) return m.grid;
  std::vector<long> rows(static_cast<std::size_t>(m.size));
  long mine = m.rows;
  MPI_Allgather(&mine, 1, MPI_LONG, rows.data(), 1, MPI_LONG, m.comm);
  GridSpec gs;
  gs.dim = 2;
  gs.cells = {static_cast<PetscInt>(m.nx), static_cast<PetscInt>(m.ny), 1};
  const double hx = m.spec.length / double(m.nx), hy = m.spec.length / double(m.ny);
  gs.lower = {-0.5 * hx, -0.5 * hy, 0.0};
  gs.upper = {m.spec.length - 0.5 * hx, m.spec.length - 0.5 * hy, 1.0};
  gs.periodic = {true, true, false};
  Grid::Ownership own;
  own[0] = {static_cast<PetscInt>(m.nx)};
  for (long r : rows) own[1].push_back(static_cast<PetscInt>(r));
  own[2] = {1};
  m.grid = std::make_shared<const Grid>(m.comm, gs, own);
  if (m.grid->owned().begin[1] != m.row0 || m.grid->owned().end[1] != m.row0 + m.rows)
    throw Error("SpectralNs2d: the grid's ownership does not match the FFTW slabs");
  return m.grid;
}

namespace {

void fill_field(Field& field, const std::vector<double>& values, long row0, long nx, int component) {
  FieldWriteArray a(field);
  for_each_cell(a.box(), [&](PetscInt i, PetscInt j, PetscInt k) {
    a(i, j, k, component) = values[static_cast<std::size_t>((j - row0) * nx + i)];
  });
}

}  // namespace

Field SpectralNs2d::vorticity() const {
  Field f(grid(), "vorticity");
  fill_field(f, vorticity_values(), impl_->row0, impl_->nx, 0);
  return f;
}

Field SpectralNs2d::velocity() const {
  Field f(grid(), "velocity", 2);
  for (int c = 0; c < 2; ++c) fill_field(f, velocity_values(c), impl_->row0, impl_->nx, c);
  return f;
}

Field SpectralNs2d::stream_function() const {
  Field f(grid(), "stream_function");
  fill_field(f, stream_function_values(), impl_->row0, impl_->nx, 0);
  return f;
}

Field SpectralNs2d::forcing() const {
  Field f(grid(), "forcing");
  fill_field(f, forcing_values(), impl_->row0, impl_->nx, 0);
  return f;
}

// ----------------------------------------------------------------------------------------------

struct SpectralTruncation::Impl {
  long fnx, fny, cnx, cny;
  double *fr = nullptr, *cr = nullptr;
  fftw_complex *fc = nullptr, *cc = nullptr;
  fftw_plan forward = nullptr, inverse = nullptr;

  ~Impl() {
    if (forward) fftw_destroy_plan(forward);
    if (inverse) fftw_destroy_plan(inverse);
    fftw_free(fr), fftw_free(cr), fftw_free(fc), fftw_free(cc);
  }
};

SpectralTruncation::SpectralTruncation(long fnx, long fny, long cnx, long cny) : impl_(std::make_unique<Impl>()) {
  for (long n : {fnx, fny, cnx, cny})
    if (n < 2 || n % 2 != 0) throw Error("spectral truncation: grid sizes must be even and >= 2, got " + std::to_string(n));
  if (cnx > fnx || cny > fny)
    throw Error("spectral truncation: the coarse grid " + std::to_string(cnx) + " x " + std::to_string(cny) +
                " is larger than the fine grid " + std::to_string(fnx) + " x " + std::to_string(fny));
  Impl& m = *impl_;
  m.fnx = fnx, m.fny = fny, m.cnx = cnx, m.cny = cny;
  m.fr = fftw_alloc_real(static_cast<std::size_t>(fnx * fny));
  m.cr = fftw_alloc_real(static_cast<std::size_t>(cnx * cny));
  m.fc = fftw_alloc_complex(static_cast<std::size_t>(fny * (fnx / 2 + 1)));
  m.cc = fftw_alloc_complex(static_cast<std::size_t>(cny * (cnx / 2 + 1)));
  m.forward = fftw_plan_dft_r2c_2d(static_cast<int>(fny), static_cast<int>(fnx), m.fr, m.fc, FFTW_ESTIMATE);
  m.inverse = fftw_plan_dft_c2r_2d(static_cast<int>(cny), static_cast<int>(cnx), m.cc, m.cr, FFTW_ESTIMATE);
  if (!m.forward || !m.inverse) throw Error("spectral truncation: FFTW could not plan the transforms");
}

SpectralTruncation::~SpectralTruncation() = default;

std::vector<double> SpectralTruncation::operator()(const std::vector<double>& fine) {
  Impl& m = *impl_;
  if (fine.size() != static_cast<std::size_t>(m.fnx * m.fny))
    throw Error("spectral truncation: got " + std::to_string(fine.size()) + " values for a " + std::to_string(m.fnx) +
                " x " + std::to_string(m.fny) + " grid");
  std::copy(fine.begin(), fine.end(), m.fr);
  fftw_execute(m.forward);
  const long fh = m.fnx / 2 + 1, ch = m.cnx / 2 + 1;
  const double scale = 1.0 / (double(m.fnx) * double(m.fny));
  for (long j = 0; j < m.cny; ++j) {
    const long my = j <= m.cny / 2 ? j : j - m.cny;
    const long fj = my >= 0 ? my : my + m.fny;
    for (long i = 0; i < ch; ++i) {
      const bool kept = i < m.cnx / 2 && std::abs(my) < m.cny / 2;  // the coarse Nyquist modes are dropped
      for (int c = 0; c < 2; ++c) m.cc[j * ch + i][c] = kept ? m.fc[fj * fh + i][c] * scale : 0.0;
    }
  }
  fftw_execute(m.inverse);
  return std::vector<double>(m.cr, m.cr + m.cnx * m.cny);
}

std::vector<double> spectral_truncate(const std::vector<double>& fine, long fnx, long fny, long cnx, long cny) {
  SpectralTruncation truncate(fnx, fny, cnx, cny);
  return truncate(fine);
}

}  // namespace fluxion
