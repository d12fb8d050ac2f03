// SpectralNs2d: 2D incompressible Navier-Stokes in vorticity form on the periodic box, pseudo-spectral with FFTW.
#pragma once

#include <petscsys.h>  // mpi.h without its C++ bindings

#include <complex>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fluxion/core/field.hpp"
#include "fluxion/core/grid.hpp"
#include "fluxion/pde/random_draws.hpp"  // derived_seed, keyed_gaussian

namespace fluxion {

/// Time schemes; each treats the linear terms (viscosity, drag) implicitly or exactly and the
/// advection and forcing explicitly.
///   cn_rk2: Crank-Nicolson + Heun (second order; torch-cfd's IMEX RK2, 2 evaluations per step),
///   rk4_cn: Carpenter-Kennedy low-storage RK4 + Crank-Nicolson per stage (jax-cfd / torch-cfd's
///           default; second order in the linear terms, fourth in the explicit ones; 5 evaluations),
///   if_rk4: integrating factor + classic RK4 (Lawson; the linear terms exactly; 4 evaluations).
enum class SpectralScheme { CnRk2, Rk4Cn, IfRk4 };
std::string to_string(SpectralScheme scheme);
/// Throws Error for a name other than cn_rk2, rk4_cn, if_rk4.
SpectralScheme parse_spectral_scheme(const std::string& name);
/// Evaluations of the explicit terms per step (each costs 4 inverse and 1 forward FFT).
int explicit_evaluations(SpectralScheme scheme);

/// The vorticity forcing f(x, y), time-independent.
///   none,
///   kolmogorov: the body force (A sin(k y), 0) with k = 2 pi n / L, i.e. f = -A k cos(k y),
///   li: f = 0.1 (sin(2 pi (x + y) / L) + cos(2 pi (x + y) / L)) (Li et al.'s FNO data; L = 1 there).
struct SpectralForcing {
  enum class Type { None, Kolmogorov, Li };
  Type type = Type::None;
  double amplitude = 1.0;  // kolmogorov: A
  int wavenumber = 4;      // kolmogorov: n, waves per box length
};

/// What a SpectralNs2d solves and how.
struct SpectralNs2dSpec {
  long nx = 256, ny = 256;   // grid points per axis: even, >= 4
  double length = 1.0;       // the box [0, L)^2
  double viscosity = 1e-3;   // nu >= 0
  double drag = 0.0;         // linear drag mu >= 0: dw/dt = ... - mu w
  SpectralForcing forcing;
  SpectralScheme scheme = SpectralScheme::CnRk2;
  /// FFTW planning: false = FFTW_ESTIMATE (deterministic plans: the same bits on every run, what
  /// data sets need), true = FFTW_MEASURE (times candidate plans; faster steps, slower setup).
  bool measure_plans = false;
  /// On several ranks: leave the spectral data transposed between the forward and the inverse
  /// FFT (one all-to-all per transform instead of two).
  bool transposed = true;
};

/// A spec's first problem, with the spec member it is about ("nx", "forcing.wavenumber").
struct SpectralSpecProblem {
  std::string key;
  std::string message;
};
/// Checks sizes (even, >= 4, enough points to keep the forcing's modes after 2/3 dealiasing),
/// length, viscosity, drag, and that `ranks` ranks each get at least one row of the FFTW slabs.
std::optional<SpectralSpecProblem> spectral_spec_problem(const SpectralNs2dSpec& spec, int ranks);
/// The rows (y) per rank of FFTW's slab decomposition of ny rows over `ranks` (ceil(ny / ranks)
/// each, the last ranks fewer or none).
std::vector<long> spectral_slab_rows(long ny, int ranks);
/// Largest |m| kept by the 2/3 rule on n points (the largest integer below n / 3).
long dealias_cutoff(long n);

/// Diagnostics of the current state, domain averages: energy 1/2 <|u|^2>, enstrophy 1/2 <w^2>,
/// max |u| over the grid points, and the CFL number max|u| dt / h of the last step.
struct SpectralDiagnostics {
  double time = 0.0;
  long steps = 0;
  double energy = 0.0;
  double enstrophy = 0.0;
  double max_velocity = 0.0;
  double cfl = 0.0;  // of the last step (0 before the first)
};

/// How advance() chooses the steps: fixed dt > 0 (shortened evenly so that the end time is hit
/// exactly), or dt = cfl h / max|u| capped at dt_max (the last steps shortened to hit it).
struct TimeControl {
  double dt = 0.0;       // > 0: fixed; 0: CFL-adaptive
  double cfl = 0.5;      // the CFL number of adaptive steps, and the limit a fixed dt is checked against
  double dt_max = 1e-2;  // adaptive steps never exceed it
};

/// What advance() did.
struct AdvanceReport {
  long steps = 0;
  double min_dt = 0.0, max_dt = 0.0;
  double max_cfl = 0.0;
  double seconds = 0.0;
};

/// Gaussian random field on the box with spectrum (4 pi^2 |k|^2 + tau^2)^(-alpha/2), |k| = |m| / L,
/// scaled as torch-cfd's GRF2d (sigma = tau^(alpha - 1)), zero mean. The coefficient of wavenumber
/// m is drawn from a counter-based generator keyed by (seed, m): the same field on any rank count
/// and any grid holding m.
struct RandomFieldSpec {
  double alpha = 2.5;
  double tau = 7.0;
  std::uint64_t seed = 0;
};
/// Fourier coefficient c_m of the random field w = sum_m c_m exp(2 pi i m.x / L) (Hermitian in m).
std::complex<double> random_field_coefficient(const RandomFieldSpec& spec, double length, long mx, long my);

/// McWilliams (1984) decaying-turbulence initial vorticity: stream function amplitudes
/// |psi_m|^2 ~ |m|^-1 (1 + (|m| / k0)^4)^-1 (|m| in waves per box length), random phases from
/// (seed, m), scaled to the mean kinetic energy `energy` = 1/2 <|u|^2>.
struct McWilliamsSpec {
  double peak_wavenumber = 6.0;
  double energy = 0.5;
  std::uint64_t seed = 0;
};

/// The solver. The state is the vorticity's Fourier coefficients on the grid points
/// x_i = i L / nx, y_j = j L / ny, kept inside the 2/3 band (|mx| < nx / 3, |my| < ny / 3), so that
/// the product u.grad w is computed without aliasing. Distributed over `comm` in FFTW slabs of
/// rows (y); on one rank the transforms are serial FFTW plans.
/// The constructor is collective and throws ConfigError "<key>: <message>" (spectral_spec_problem).
class SpectralNs2d {
 public:
  SpectralNs2d(MPI_Comm comm, const SpectralNs2dSpec& spec);
  ~SpectralNs2d();
  SpectralNs2d(const SpectralNs2d&) = delete;
  SpectralNs2d& operator=(const SpectralNs2d&) = delete;

  const SpectralNs2dSpec& spec() const;
  MPI_Comm comm() const;
  double time() const;
  long steps_taken() const;
  /// The rows y in [row_begin, row_end) this rank holds in physical space.
  long row_begin() const;
  long row_end() const;

  /// Initial conditions (each resets time to t0 and the step count to 0; all filtered to the 2/3 band).
  void set_vorticity(const std::function<double(double x, double y)>& w, double t0 = 0.0);
  /// From Fourier coefficients c(mx, my) of w = sum c_m exp(2 pi i m.x / L); c must be Hermitian.
  void set_vorticity_modes(const std::function<std::complex<double>(long mx, long my)>& c, double t0 = 0.0);
  void set_random_field(const RandomFieldSpec& spec, double t0 = 0.0);
  void set_mcwilliams(const McWilliamsSpec& spec, double t0 = 0.0);
  /// The Taylor-Green vortex of taylor_green_vorticity() at t0.
  void set_taylor_green(double amplitude, int wavenumber, double t0 = 0.0);
  /// The Taylor-Green vortex psi = A sin(k x) sin(k y) / k, w = 2 A k sin(k x) sin(k y), with
  /// k = 2 pi n / L: the nonlinear term vanishes, so w(t) = w(0) exp(-(2 nu k^2 + mu) t) exactly
  /// (unforced).
  static double taylor_green_vorticity(double amplitude, int wavenumber, double length, double viscosity,
                                       double drag, double x, double y, double t);

  /// One step of size dt (> 0). Throws NumericalError when the velocity is not finite (the state is
  /// then lost: write before stepping). Collective.
  void step(double dt);
  /// Steps to exactly t_end (> time()) as `control` says. A fixed dt whose CFL number exceeds
  /// control.cfl at the start of advance() throws ConfigError naming "dt". Collective.
  AdvanceReport advance(double t_end, const TimeControl& control);

  /// Collective (reductions over the ranks).
  SpectralDiagnostics diagnostics() const;
  double max_velocity() const;
  /// E(k) = sum over |m| in [k - 1/2, k + 1/2) of 1/2 |u_m|^2, k = 0 .. kmax (box units, |m| = waves
  /// per box length); sums to the energy. Same vector on every rank.
  std::vector<double> energy_spectrum() const;

  /// Physical values on this rank's rows, row-major (row_end - row_begin rows of nx).
  std::vector<double> vorticity_values() const;
  std::vector<double> stream_function_values() const;
  /// u (dpsi/dy) and v (-dpsi/dx).
  std::vector<double> velocity_values(int component) const;
  /// The forcing f on this rank's rows.
  std::vector<double> forcing_values() const;

  /// The periodic fluxion Grid whose cells are the grid points (cell centres x_i = i L / nx, so its
  /// box is [-h/2, L - h/2]) and whose ownership matches the FFTW slabs. Collective on first call.
  std::shared_ptr<const Grid> grid() const;
  Field vorticity() const;       // "vorticity"
  Field velocity() const;        // "velocity", 2 components
  Field stream_function() const; // "stream_function"
  Field forcing() const;         // "forcing"

  /// Seconds spent in the FFTs since construction (or the last reset_fft_timer()), and how many
  /// ran: the bench compares a step's time with its own transforms'.
  double fft_seconds() const;
  long fft_count() const;
  void reset_fft_timer();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Spectral truncation with its FFTW plans made once (the data-set app truncates every snapshot).
class SpectralTruncation {
 public:
  /// Throws Error unless all sizes are even and 2 <= cn <= fn per axis.
  SpectralTruncation(long fnx, long fny, long cnx, long cny);
  ~SpectralTruncation();
  SpectralTruncation(const SpectralTruncation&) = delete;
  SpectralTruncation& operator=(const SpectralTruncation&) = delete;
  std::vector<double> operator()(const std::vector<double>& fine);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Spectral truncation of a real periodic field sampled on (fny, fnx) points (row-major, x fastest,
/// points i L / n) to (cny, cnx) points: the Fourier coefficients with |mx| < cnx / 2 and
/// |my| < cny / 2 are kept (the coarse Nyquist modes dropped), then transformed back. Exact (to
/// round-off) for a field whose modes all lie inside that band. Serial (FFTW_ESTIMATE plans).
std::vector<double> spectral_truncate(const std::vector<double>& fine, long fnx, long fny, long cnx, long cny);

}  // namespace fluxion
