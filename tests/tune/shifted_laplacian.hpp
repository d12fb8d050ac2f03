// The paper's small sequence for the tuner tests: a shifted 10x10 Laplacian A + c_t I with random c_t and b_t.
#pragma once

#include <memory>
#include <random>

#include "fluxion/core/field.hpp"
#include "fluxion/core/grid.hpp"
#include "fluxion/linalg/stencil_operator.hpp"

namespace fluxion::test {

/// 10 x 10 cells of width 1, zero Dirichlet faces: the 5-point Laplacian with diagonal 4 (5 or 6
/// next to a face, the cell-centred ghost), plus c_t on the diagonal. c_t = 0.6 Beta(2, 6) (the
/// paper's low-variance law without its -0.15 offset, which the cell-centred operator does not
/// tolerate as well), b_t ~ N(0, I). Everything on one rank, seeded.
class ShiftedLaplacianSequence {
 public:
  explicit ShiftedLaplacianSequence(std::uint64_t seed) : rng_(seed) {
    GridSpec s{.dim = 2, .cells = {10, 10, 1}, .lower = {0, 0, 0}, .upper = {10, 10, 1}};
    grid_ = std::make_shared<const Grid>(PETSC_COMM_SELF, s);
    b_ = std::make_unique<Field>(grid_, "b");
  }

  /// Draws the next instance; the operator stays valid until the next call.
  void next() {
    std::gamma_distribution<double> g2(2.0, 1.0), g6(6.0, 1.0);
    const double x = g2(rng_), y = g6(rng_);
    shift_ = 0.6 * x / (x + y);
    Field k(grid_, "k"), c(grid_, "c");
    k.fill(1.0);
    c.fill(shift_);
    op_ = std::make_unique<StencilOperator>(grid_, k, c, BoundaryConditions::uniform(BcType::Dirichlet));
    std::normal_distribution<double> n(0.0, 1.0);
    b_->assign([&](const Field::Point&) { return n(rng_); });
  }

  double shift() const { return shift_; }
  const StencilOperator& op() const { return *op_; }
  const Field& b() const { return *b_; }
  std::shared_ptr<const Grid> grid() const { return grid_; }

 private:
  std::mt19937_64 rng_;
  std::shared_ptr<const Grid> grid_;
  std::unique_ptr<StencilOperator> op_;
  std::unique_ptr<Field> b_;
  double shift_ = 0.0;
};

}  // namespace fluxion::test
