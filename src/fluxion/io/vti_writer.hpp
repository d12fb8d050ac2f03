// Internal (not installed): VTK ImageData output, one .vti per step plus a .pvd time collection.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "fluxion/core/field.hpp"

namespace fluxion::io_detail {

/// A field's values on rank 0 in natural order (x fastest, components innermost); empty elsewhere.
/// Collective.
std::vector<double> gather_to_root(const Field& f);

/// Writes <dir>/<name>_<step>.vti (cell data; 2D grids in the x-y plane; 2-component vectors padded
/// to 3) and rewrites <dir>/<name>.pvd atomically after each. Fields are gathered to rank 0, which
/// does all the writing. Collective.
class VtiSeries {
 public:
  VtiSeries(std::shared_ptr<const Grid> grid, std::filesystem::path dir, std::string name);
  void add_static(const Field& f);
  /// Marks the cells where `solid` > 0.5 hidden (vtkGhostType = HIDDENCELL) in every later step.
  void set_solid(const Field& solid);
  void write_step(int step, double time, const std::vector<const Field*>& fields);
  std::filesystem::path pvd_path() const { return dir_ / (name_ + ".pvd"); }

 private:
  struct Gathered {
    std::string name;
    int components;
    std::vector<double> values;
  };
  std::shared_ptr<const Grid> grid_;
  std::filesystem::path dir_;
  std::string name_;
  std::vector<Gathered> statics_;
  std::vector<unsigned char> ghost_;  // rank 0: vtkGhostType per cell; empty without a solid mask
  std::vector<std::pair<double, std::string>> written_;  // time, file name
};

}  // namespace fluxion::io_detail
