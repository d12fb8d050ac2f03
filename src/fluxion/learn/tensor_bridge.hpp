// Bridge between fluxion fields (PETSc Vecs on a DMDA) and torch tensors: zero-copy views of a
// rank's block, and whole-grid float32 tensors gathered on rank 0 for networks.
#pragma once

#include <petscvec.h>
#include <torch/torch.h>

#include "fluxion/core/field.hpp"
#include "fluxion/core/grid.hpp"

#include <petscdm.h>

namespace fluxion::learn {

/// This rank's block of a scalar Field as a float64 tensor [(z,) y, x] on the Vec's own memory:
/// writes through, no copy. Valid while the object lives (it holds the Vec's array).
class FieldView {
 public:
  explicit FieldView(Field& field);
  ~FieldView();
  FieldView(const FieldView&) = delete;
  FieldView& operator=(const FieldView&) = delete;
  const torch::Tensor& tensor() const { return tensor_; }

 private:
  Vec vec_;
  PetscScalar* data_ = nullptr;
  torch::Tensor tensor_;
};

/// The shape of a whole grid as a network sees it: [1, 1, (z,) y, x] (the grid's scalar DMDA).
std::vector<int64_t> network_shape(DM dm);

/// Moves whole fields between the ranks of a grid and one float32 tensor on rank 0 (networks run
/// there; docs/dcdm.md says why). On one rank nothing moves: the values are converted in place
/// order. Collective: every rank calls gather/scatter together.
class RootGather {
 public:
  /// `dm`: a scalar DMDA (a Grid's dm()); it must outlive this object.
  explicit RootGather(DM dm);
  ~RootGather();
  RootGather(const RootGather&) = delete;
  RootGather& operator=(const RootGather&) = delete;

  /// The grid vector `v` (grid's scalar DMDA layout) as [1, 1, (z,) y, x] float32 on rank 0; an
  /// undefined tensor on the other ranks.
  torch::Tensor gather(Vec v);
  /// The inverse: rank 0's tensor (same shape; other ranks pass anything) into `v`.
  void scatter(const torch::Tensor& t, Vec v);

 private:
  DM dm_;
  std::vector<int64_t> shape_;
  int rank_ = 0;
  Vec natural_ = nullptr, root_ = nullptr;
  VecScatter to_root_ = nullptr;
};

}  // namespace fluxion::learn
