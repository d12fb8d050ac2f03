// Scalar and vector cell fields on a Grid, and array views to read and write them by (i, j, k).
#pragma once

#include <petscvec.h>

#include <array>
#include <functional>
#include <memory>
#include <string>

#include "fluxion/core/grid.hpp"

namespace fluxion {

/// Values at the cell centres of a grid, `components` per cell (1: scalar, dim: vector),
/// stored in a distributed PETSc Vec laid out by the grid's DMDA.
class Field {
 public:
  using Point = std::array<double, 3>;

  Field(std::shared_ptr<const Grid> grid, std::string name, int components = 1);
  Field(const Field& other);  // deep copy
  Field& operator=(const Field& other);
  Field(Field&& other) noexcept;
  Field& operator=(Field&& other) noexcept;
  ~Field();

  const Grid& grid() const { return *grid_; }
  const std::shared_ptr<const Grid>& grid_ptr() const { return grid_; }
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  int components() const { return components_; }
  DM dm() const { return grid_->dm(components_); }
  Vec vec() const { return vec_; }

  void fill(double value);
  /// Sets one component to f(cell centre) on every owned cell.
  void assign(const std::function<double(const Point&)>& f, int component = 0);
  /// this += alpha * x
  void axpy(double alpha, const Field& x);

  /// Discrete norms over all ranks: sqrt(sum u^2 |cell|) and max |u|.
  double norm_l2() const;
  double norm_max() const;
  double sum() const;
  bool all_finite() const;

 private:
  std::shared_ptr<const Grid> grid_;
  std::string name_;
  int components_ = 1;
  Vec vec_ = nullptr;
};

/// Read-write (Const = false) or read-only view of the cells a rank owns, indexed by global
/// cell indices; in 2D k is 0. Holds the Vec array for its lifetime (RAII).
template <bool Const>
class FieldArray {
 public:
  using FieldRef = std::conditional_t<Const, const Field&, Field&>;
  using Value = std::conditional_t<Const, const double, double>;

  explicit FieldArray(FieldRef field);
  ~FieldArray();
  FieldArray(const FieldArray&) = delete;
  FieldArray& operator=(const FieldArray&) = delete;

  Value& operator()(PetscInt i, PetscInt j, PetscInt k = 0, int c = 0) const {
    return data_[offset(i, j, k) * components_ + c];
  }
  const IndexBox& box() const { return box_; }

 private:
  PetscInt offset(PetscInt i, PetscInt j, PetscInt k) const {
    return ((k - box_.begin[2]) * box_.extent(1) + (j - box_.begin[1])) * box_.extent(0) + (i - box_.begin[0]);
  }
  Vec vec_;
  Value* data_ = nullptr;
  IndexBox box_;
  int components_;
};
using FieldWriteArray = FieldArray<false>;
using FieldReadArray = FieldArray<true>;

/// Read-only view of the owned cells plus one ghost layer, filled from the neighbouring
/// ranks (and from the opposite side on periodic axes) when constructed.
class GhostedFieldArray {
 public:
  explicit GhostedFieldArray(const Field& field);
  ~GhostedFieldArray();
  GhostedFieldArray(const GhostedFieldArray&) = delete;
  GhostedFieldArray& operator=(const GhostedFieldArray&) = delete;

  double operator()(PetscInt i, PetscInt j, PetscInt k = 0, int c = 0) const { return *at(i, j, k, c); }
  /// Where the value of (i, j, k) lives: neighbours along x, y, z are 1, box().extent(0) and
  /// box().extent(0) * box().extent(1) values (times the components) away.
  const double* at(PetscInt i, PetscInt j, PetscInt k = 0, int c = 0) const {
    return data_ + (((k - box_.begin[2]) * box_.extent(1) + (j - box_.begin[1])) * box_.extent(0) +
                    (i - box_.begin[0])) * components_ + c;
  }
  const IndexBox& box() const { return box_; }

 private:
  DM dm_;
  Vec local_ = nullptr;
  const double* data_ = nullptr;
  IndexBox box_;
  int components_;
};

/// Calls f(i, j, k) for every cell in the box, k outermost.
template <class F>
inline void for_each_cell(const IndexBox& box, F&& f) {
  for (PetscInt k = box.begin[2]; k < box.end[2]; ++k)
    for (PetscInt j = box.begin[1]; j < box.end[1]; ++j)
      for (PetscInt i = box.begin[0]; i < box.end[0]; ++i) f(i, j, k);
}

}  // namespace fluxion
