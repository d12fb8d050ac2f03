// Incompressible Navier-Stokes on a staggered (MAC) grid by pressure projection, with passive
// smoke (density, temperature) and buoyancy.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "fluxion/core/expression.hpp"
#include "fluxion/core/field.hpp"
#include "fluxion/core/solid_mask.hpp"
#include "fluxion/linalg/linear_solver.hpp"
#include "fluxion/linalg/stencil_operator.hpp"
#include "fluxion/pde/mac_grid.hpp"

namespace fluxion {

/// A face of the domain box for the flow:
///  - wall: no-slip; `velocity` gives the wall's own (tangential) velocity, e.g. a moving lid;
///    its normal component must be 0;
///  - slip: no penetration, no shear (a symmetry plane);
///  - inflow: the velocity is `velocity` (its normal component points into the domain);
///  - outflow: pressure 0 and zero normal gradient of the velocity (fluid may leave or enter);
///  - periodic: wraps to the opposite face.
/// The pressure sees homogeneous Neumann on wall, slip and inflow faces and p = 0 on outflow faces.
enum class FlowBcType { Wall, Slip, Inflow, Outflow, Periodic };
const char* to_string(FlowBcType type);
FlowBcType parse_flow_bc(const std::string& name);  // Error for an unknown name

struct FlowFaceBc {
  FlowBcType type = FlowBcType::Wall;
  std::array<Expression, 3> velocity{};  // u, v, w of (x, y, z, t) on the face
};

/// Advection of velocity and scalars. semi_lagrangian: first order (backward characteristic,
/// linear interpolation); maccormack: the semi-Lagrangian step corrected by half the error of a
/// forward-backward round trip, second order, clamped to the values around the departure point
/// (Selle et al. 2008); upwind2: finite volumes in flux form, face values by second-order
/// (linear) upwind extrapolation, Heun's method in time (explicit: needs CFL <= about 0.5 here).
enum class AdvectionScheme { SemiLagrangian, MacCormack, Upwind2 };
const char* to_string(AdvectionScheme scheme);
AdvectionScheme parse_advection_scheme(const std::string& name);

/// Passive smoke: density rho and temperature T are advected with the flow, set to
/// (`density`, `temperature`) where `source` > 0, and push the flow with the Boussinesq force
/// f = (density_weight rho - buoyancy (T - ambient_temperature)) gravity (Fedkiw, Stam & Jensen 2001).
struct SmokeSpec {
  bool enabled = false;
  Expression source;  // > 0 inside the source region, of (x, y, z, t)
  double density = 1.0;
  double temperature = 1.0;
  double ambient_temperature = 0.0;
  double density_weight = 0.0;
  double buoyancy = 1.0;
  std::array<double, 3> gravity{0.0, -1.0, 0.0};
};

struct NavierStokesSpec {
  std::array<FlowFaceBc, 6> boundary{};
  double nu = 1e-2;                            // kinematic viscosity
  double density = 1.0;                        // rho, for the pressure and forces (the flow is kinematic)
  std::array<Expression, 3> initial{};         // u, v, w at t0
  std::array<Expression, 3> body_force{};      // f(x, y, z, t) per unit mass
  AdvectionScheme advection = AdvectionScheme::MacCormack;
  /// Backward Euler for the viscous term (one solve per component through the viscosity
  /// solvers, see set_viscosity_solvers): no viscous step limit. Otherwise explicit.
  bool implicit_viscosity = false;
  double cfl = 0.5;                            // in (0, 1]: adaptive dt takes dt sum_a max|u_a| / h_a = cfl
  double dt = 0.0;                             // > 0: fixed step (checked against the CFL and diffusion limits)
  double max_dt = 0.0;                         // > 0: upper bound of the adaptive step
  double t0 = 0.0;
  SmokeSpec smoke;
};

/// What one step did.
struct FlowStepReport {
  long step = 0;
  double time = 0.0;          // t_{n+1}
  double dt = 0.0;
  double cfl = 0.0;           // dt sum_a max|u_a^n| / h_a
  SolveReport pressure;
  std::array<SolveReport, 3> viscosity;  // implicit viscosity: the solve per component
  double divergence = 0.0;    // max |div u^{n+1}| over fluid cells, after the projection
  double change = 0.0;        // max |u^{n+1} - u^n| / dt: the distance from a steady state
  /// Force of the fluid on the obstacles (per unit depth in 2D): a momentum balance over a box of
  /// cells around them (time derivative, momentum flux, pressure and viscous stress through the
  /// box faces), which converges at first order in h; when no such box fits inside the domain,
  /// the sum of pressure and wall shear over the staircase of obstacle faces, which does not.
  std::array<double, 3> force{};
};

/// u_t + (u . grad) u = -grad p / rho + nu Lap u + f, div u = 0, by the projection method on a MAC grid:
///   1. advect u^n with itself (AdvectionScheme), the smoke with u^n; set the smoke source;
///   2. add dt (nu Lap u + f + buoyancy) (explicit viscosity), or solve
///      (I/dt - nu Lap) (u - u_adv) = nu Lap u_adv + f + buoyancy per component (implicit: backward Euler);
///   3. project: A phi = -div u* with A = -Lap (the StencilOperator of k = 1 with the pressure's
///      conditions and the obstacles), u^{n+1} = u* - grad phi, p^{n+1} = p^n + rho phi / dt.
/// Step 2 includes -grad p^n / rho (incremental pressure correction, van Kan 1986), so the
/// projection removes only the increment and a steady state does not depend on dt.
/// Faces next to an obstacle cell carry zero velocity; tangential no-slip at obstacles and walls
/// comes from mirrored ghost values (the wall half-way between samples). The time step adapts to
/// the CFL number and, with explicit viscosity, the diffusion limit (dt nu sum_a 2 / h_a^2 <= 1).
/// The implicit viscous operator of a component lives on a Grid whose cells are that component's
/// samples; it is built once and rescaled when dt changes (StencilOperator::scale_conductivity),
/// so a multigrid solver keeps its hierarchy.
class NavierStokes {
 public:
  /// Checks the conditions against the grid (ConfigError naming boundary.<face> for inflow through
  /// a wall, periodic faces paired with others, an obstacle covering every cell), samples the
  /// initial velocity and projects it.
  NavierStokes(std::shared_ptr<const Grid> grid, NavierStokesSpec spec, std::shared_ptr<const SolidMask> solid,
               LinearSolver& pressure_solver);
  ~NavierStokes();
  NavierStokes(const NavierStokes&) = delete;
  NavierStokes& operator=(const NavierStokes&) = delete;

  const Grid& grid() const { return *grid_; }
  const MacGrid& mac() const { return mac_; }
  const NavierStokesSpec& spec() const { return spec_; }
  double time() const { return time_; }
  long steps_taken() const { return step_; }
  /// The pressure operator (fixed for the run), for solvers that want to see it.
  const StencilOperator& pressure_operator() const { return *laplacian_; }
  /// What the projection of the initial field did.
  const SolveReport& initial_projection() const { return initial_projection_; }

  /// The largest steps the CFL number (dt sum_a max|u_a| / h_a <= 1; infinite at rest) and
  /// explicit viscosity (dt nu sum_a 2 / h_a^2 <= 1) allow for the current velocity.
  double cfl_limit_dt() const;
  double diffusion_limit_dt() const;
  /// The step step() takes without an output time to meet: the fixed dt, or
  /// min(cfl * cfl_limit_dt(), diffusion_limit_dt(), max_dt).
  double stable_dt() const;
  /// The step that step(solver, max_dt) will take: max_dt when that is below stable_dt(), else
  /// (adaptive steps) max_dt divided into the fewest equal steps no longer than stable_dt().
  double step_size(double max_dt) const;
  /// Advances by step_size(max_dt). A pressure solve that does not converge is reported;
  /// non-finite fields throw NumericalError and leave the state as it was.
  [[nodiscard]] FlowStepReport step(LinearSolver& pressure_solver, double max_dt);

  /// Velocity component `axis` on its faces (ghosts valid after each step).
  const MacField& velocity(int axis) const { return u_[axis]; }
  /// With implicit viscosity: one solver per component (null entries: not given), each kept for
  /// the run (their operators are set on the first step). Must be called before the first step.
  void set_viscosity_solvers(std::vector<LinearSolver*> solvers);
  /// For tests and initial data: set a component, then call project().
  MacField& velocity(int axis) { return u_[axis]; }
  /// Projects the current velocity onto divergence-free fields (as a step of dt = 1: the pressure
  /// gains rho phi); returns the solve. The constructor projects the initial field this way.
  SolveReport project(LinearSolver& pressure_solver);
  /// max |div u| over the fluid cells.
  double max_divergence() const;

  /// Cell-centred fields for output (averages of the two faces; vorticity by central differences
  /// of those): velocity has dim() components; vorticity is w_z in 2D and |curl u| in 3D.
  void cell_velocity(Field& out) const;
  void vorticity(Field& out) const;
  /// The pressure p^n (0 before the first step; defined up to a constant in closed domains).
  const Field& pressure() const { return pressure_; }
  /// Smoke density and temperature (null without smoke).
  const MacField* density() const { return spec_.smoke.enabled ? &rho_ : nullptr; }
  const MacField* temperature() const { return spec_.smoke.enabled ? &temp_ : nullptr; }
  /// Copies a cell-located MacField's owned values into a Field on grid().
  static void to_field(const MacField& from, Field& out);

  /// Kinetic energy 1/2 sum |u|^2 dV over fluid cells (cell-centred velocity).
  double kinetic_energy() const;

 private:
  struct BoundaryCache;
  void check_spec() const;
  void build_solid_flags();
  void refresh_boundary_values(double t);
  void set_boundary_samples(MacField& u, int axis) const;
  void fill_ghosts(MacField& f, int axis_or_scalar, double scalar_inflow = 0.0) const;
  void exchange_velocity();
  void advect(const MacField& q, MacField& out, double dt, int axis_or_scalar, double scalar_inflow) const;
  void advection_rate(const MacField& q, MacField& rate) const;  // div(u^n q), upwind2
  void exchange(MacField& q, int axis_or_scalar, double scalar_inflow) const;
  void viscous_and_body_forces(double t);  // work_ = nu Lap u + f + buoyancy
  void apply_smoke_source(double t);
  SolveReport project_with(LinearSolver& solver, double dt);
  std::array<double, 3> obstacle_force(double dt) const;
  std::array<double, 3> staircase_force() const;
  std::array<double, 3> control_volume_force(double dt) const;
  double max_abs_over_h() const;
  /// Component a of u at the centre of cell p: the mean of the cell's two a-faces.
  static double cell_average(const std::vector<MacField>& u, int a, std::array<PetscInt, 3> p);
  /// div u^{n+1} in cell (i, j, k), from its faces.
  double divergence(PetscInt i, PetscInt j, PetscInt k) const;
  struct ViscousSystem;
  void build_viscous_systems(double dt);
  void solve_viscous(double dt, FlowStepReport& report);

  std::shared_ptr<const Grid> grid_;
  NavierStokesSpec spec_;
  std::shared_ptr<const SolidMask> solid_;
  MacGrid mac_;
  std::vector<MacField> u_, work_, previous_;  // per component; work_: scratch, previous_: u^n
  MacField rho_, temp_, scalar_work_;
  MacField solid_cells_;                 // 1 in obstacle cells (ghosts too), 0 elsewhere
  std::vector<MacField> solid_faces_;    // per component: 1 on faces touching an obstacle cell
  std::unique_ptr<StencilOperator> laplacian_;
  Field phi_, rhs_, pressure_;
  std::unique_ptr<BoundaryCache> boundary_;
  std::vector<LinearSolver*> viscosity_solvers_;
  std::vector<std::unique_ptr<ViscousSystem>> viscous_;
  double viscous_dt_ = 0.0;  // the dt the viscous operators stand for now
  IndexBox force_box_;        // cells around every obstacle, for the momentum balance
  bool force_box_fits_ = false;  // the box lies inside the domain (else: the staircase sum)
  SolveReport initial_projection_;
  double time_;
  long step_ = 0;
};

}  // namespace fluxion
