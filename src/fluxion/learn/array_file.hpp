// Whole arrays and root attributes of the HDF5 data files the learned models read (the layouts of
// docs/datasets.md), as torch tensors.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <optional>
#include <string>

namespace fluxion::learn {

/// The floating-point dataset `name` of `file`, whole, as float32 (or `type`: kFloat64). Throws IoError naming the file
/// and dataset when the file is missing or not HDF5, the dataset is missing, its rank is not `rank`
/// (`layout` says what was expected, e.g. "samples x ny x nx") or it holds non-finite values.
torch::Tensor read_float_array(const std::filesystem::path& file, const std::string& name, int rank, const char* layout,
                               torch::ScalarType type = torch::kFloat32);

/// The first value of the numeric root attribute `name` of `file`; nullopt when there is none.
/// Throws IoError when the file cannot be opened or the attribute is not numeric.
std::optional<double> read_number_attribute(const std::filesystem::path& file, const std::string& name);
/// The string root attribute `name` of `file`; nullopt when there is none. Throws IoError when the
/// file cannot be opened or the attribute is not a string.
std::optional<std::string> read_text_attribute(const std::filesystem::path& file, const std::string& name);

}  // namespace fluxion::learn
