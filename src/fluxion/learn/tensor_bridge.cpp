// Field <-> tensor: from_blob views of PETSc arrays; a DMDA natural-order gather onto rank 0.
#include "fluxion/learn/tensor_bridge.hpp"

#include <petscdmda.h>

#include "fluxion/core/error.hpp"

namespace fluxion::learn {

namespace {

std::vector<int64_t> box_shape(const Grid& g, const IndexBox& box) {
  if (g.dim() == 2) return {box.extent(1), box.extent(0)};
  return {box.extent(2), box.extent(1), box.extent(0)};
}

}  // namespace

FieldView::FieldView(Field& field) : vec_(field.vec()) {
  if (field.components() != 1) throw Error("FieldView: field '" + field.name() + "' is not scalar");
  FLUXION_PETSC_CHECK(VecGetArray(vec_, &data_));
  tensor_ = torch::from_blob(data_, box_shape(field.grid(), field.grid().owned()), torch::kFloat64);
}

FieldView::~FieldView() { VecRestoreArray(vec_, &data_); }

std::vector<int64_t> network_shape(DM dm) {
  PetscInt dim = 0, m = 0, n = 0, p = 0, dof = 0;
  FLUXION_PETSC_CHECK(DMDAGetInfo(dm, &dim, &m, &n, &p, nullptr, nullptr, nullptr, &dof, nullptr, nullptr, nullptr,
                                  nullptr, nullptr));
  if (dof != 1) throw Error("network_shape: the DMDA has " + std::to_string(dof) + " components per cell, not 1");
  if (dim == 2) return {1, 1, n, m};
  if (dim == 3) return {1, 1, p, n, m};
  throw Error("network_shape: a " + std::to_string(dim) + "D DMDA; networks take 2D or 3D grids");
}

RootGather::RootGather(DM dm) : dm_(dm), shape_(network_shape(dm)) {
  MPI_Comm comm = PetscObjectComm(reinterpret_cast<PetscObject>(dm));
  int ranks = 1;
  MPI_Comm_rank(comm, &rank_);
  MPI_Comm_size(comm, &ranks);
  if (ranks == 1) return;
  FLUXION_PETSC_CHECK(DMDACreateNaturalVector(dm, &natural_));
  FLUXION_PETSC_CHECK(VecScatterCreateToZero(natural_, &to_root_, &root_));
}

RootGather::~RootGather() {
  if (to_root_) VecScatterDestroy(&to_root_);
  if (root_) VecDestroy(&root_);
  if (natural_) VecDestroy(&natural_);
}

torch::Tensor RootGather::gather(Vec v) {
  Vec source = v;
  if (to_root_) {
    FLUXION_PETSC_CHECK(DMDAGlobalToNaturalBegin(dm_, v, INSERT_VALUES, natural_));
    FLUXION_PETSC_CHECK(DMDAGlobalToNaturalEnd(dm_, v, INSERT_VALUES, natural_));
    FLUXION_PETSC_CHECK(VecScatterBegin(to_root_, natural_, root_, INSERT_VALUES, SCATTER_FORWARD));
    FLUXION_PETSC_CHECK(VecScatterEnd(to_root_, natural_, root_, INSERT_VALUES, SCATTER_FORWARD));
    if (rank_ != 0) return {};
    source = root_;
  }
  const PetscScalar* data = nullptr;
  FLUXION_PETSC_CHECK(VecGetArrayRead(source, &data));
  torch::Tensor t = torch::from_blob(const_cast<PetscScalar*>(data), shape_, torch::kFloat64)
                        .to(torch::kFloat32);  // the conversion is the one copy
  FLUXION_PETSC_CHECK(VecRestoreArrayRead(source, &data));
  return t;
}

void RootGather::scatter(const torch::Tensor& t, Vec v) {
  Vec target = to_root_ ? root_ : v;
  if (rank_ == 0) {
    const torch::Tensor values = t.to(torch::kFloat64).contiguous();
    PetscInt n = 0;
    FLUXION_PETSC_CHECK(VecGetLocalSize(target, &n));
    if (values.numel() != n) throw Error("RootGather::scatter: tensor has " + std::to_string(values.numel()) +
                                         " values, the grid " + std::to_string(n));
    PetscScalar* data = nullptr;
    FLUXION_PETSC_CHECK(VecGetArray(target, &data));
    std::copy(values.data_ptr<double>(), values.data_ptr<double>() + n, data);
    FLUXION_PETSC_CHECK(VecRestoreArray(target, &data));
  }
  if (!to_root_) return;
  FLUXION_PETSC_CHECK(VecScatterBegin(to_root_, root_, natural_, INSERT_VALUES, SCATTER_REVERSE));
  FLUXION_PETSC_CHECK(VecScatterEnd(to_root_, root_, natural_, INSERT_VALUES, SCATTER_REVERSE));
  FLUXION_PETSC_CHECK(DMDANaturalToGlobalBegin(dm_, natural_, INSERT_VALUES, v));
  FLUXION_PETSC_CHECK(DMDANaturalToGlobalEnd(dm_, natural_, INSERT_VALUES, v));
}

}  // namespace fluxion::learn
