// Field storage (a DMDA global Vec) and its array views.
#include "fluxion/core/field.hpp"

#include <cmath>

#include "fluxion/core/error.hpp"

namespace fluxion {

Field::Field(std::shared_ptr<const Grid> grid, std::string name, int components)
    : grid_(std::move(grid)), name_(std::move(name)), components_(components) {
  if (!grid_) throw Error("Field '" + name_ + "': no grid");
  if (components < 1) throw Error("Field '" + name_ + "': components must be >= 1");
  FLUXION_PETSC_CHECK(DMCreateGlobalVector(grid_->dm(components_), &vec_));
  FLUXION_PETSC_CHECK(VecSet(vec_, 0.0));
}

Field::Field(const Field& other) : grid_(other.grid_), name_(other.name_), components_(other.components_) {
  FLUXION_PETSC_CHECK(VecDuplicate(other.vec_, &vec_));
  FLUXION_PETSC_CHECK(VecCopy(other.vec_, vec_));
}

Field& Field::operator=(const Field& other) {
  if (this == &other) return *this;
  Field copy(other);
  *this = std::move(copy);
  return *this;
}

Field::Field(Field&& other) noexcept
    : grid_(std::move(other.grid_)), name_(std::move(other.name_)), components_(other.components_), vec_(other.vec_) {
  other.vec_ = nullptr;
}

Field& Field::operator=(Field&& other) noexcept {
  if (this == &other) return *this;
  if (vec_) VecDestroy(&vec_);
  grid_ = std::move(other.grid_);
  name_ = std::move(other.name_);
  components_ = other.components_;
  vec_ = other.vec_;
  other.vec_ = nullptr;
  return *this;
}

Field::~Field() {
  if (vec_) VecDestroy(&vec_);
}

void Field::fill(double value) { FLUXION_PETSC_CHECK(VecSet(vec_, value)); }

void Field::assign(const std::function<double(const Point&)>& f, int component) {
  FieldWriteArray a(*this);
  const Grid& g = *grid_;
  for_each_cell(g.owned(), [&](PetscInt i, PetscInt j, PetscInt k) {
    const Point x{g.center(0, i), g.center(1, j), g.dim() == 3 ? g.center(2, k) : 0.0};
    a(i, j, k, component) = f(x);
  });
}

void Field::axpy(double alpha, const Field& x) { FLUXION_PETSC_CHECK(VecAXPY(vec_, alpha, x.vec_)); }

double Field::norm_l2() const {
  PetscReal n = 0.0;
  FLUXION_PETSC_CHECK(VecNorm(vec_, NORM_2, &n));
  return n * std::sqrt(grid_->cell_volume());
}

double Field::norm_max() const {
  PetscReal n = 0.0;
  FLUXION_PETSC_CHECK(VecNorm(vec_, NORM_INFINITY, &n));
  return n;
}

double Field::sum() const {
  PetscScalar s = 0.0;
  FLUXION_PETSC_CHECK(VecSum(vec_, &s));
  return s;
}

bool Field::all_finite() const {
  // NaN and inf propagate into the sum of absolute values.
  PetscReal n = 0.0;
  FLUXION_PETSC_CHECK(VecNorm(vec_, NORM_1, &n));
  return std::isfinite(n);
}

template <bool Const>
FieldArray<Const>::FieldArray(FieldRef field)
    : vec_(field.vec()), box_(field.grid().owned()), components_(field.components()) {
  if constexpr (Const) {
    FLUXION_PETSC_CHECK(VecGetArrayRead(vec_, &data_));
  } else {
    FLUXION_PETSC_CHECK(VecGetArray(vec_, &data_));
  }
}

template <bool Const>
FieldArray<Const>::~FieldArray() {
  if constexpr (Const) {
    VecRestoreArrayRead(vec_, &data_);
  } else {
    VecRestoreArray(vec_, &data_);
  }
}

template class FieldArray<true>;
template class FieldArray<false>;

GhostedFieldArray::GhostedFieldArray(const Field& field)
    : dm_(field.dm()), box_(field.grid().ghosted()), components_(field.components()) {
  FLUXION_PETSC_CHECK(DMGetLocalVector(dm_, &local_));
  FLUXION_PETSC_CHECK(DMGlobalToLocal(dm_, field.vec(), INSERT_VALUES, local_));
  FLUXION_PETSC_CHECK(VecGetArrayRead(local_, &data_));
}

GhostedFieldArray::~GhostedFieldArray() {
  VecRestoreArrayRead(local_, &data_);
  DMRestoreLocalVector(dm_, &local_);
}

}  // namespace fluxion
