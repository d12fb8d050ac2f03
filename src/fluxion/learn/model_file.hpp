// Model files: a network's weights with a JSON header saying what the network is (architecture,
// hyper-parameters, training grid and config, fluxion version), in one TorchScript-readable archive.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace fluxion::learn {

struct ModelHeader {
  std::string architecture;              // e.g. "dcdm"
  int dim = 0;                           // 2 or 3
  nlohmann::json network;                // the architecture's hyper-parameters
  nlohmann::json training;               // training grid, config, time, losses
  std::string fluxion_version;

  nlohmann::json to_json() const;
  static ModelHeader from_json(const nlohmann::json& j, const std::filesystem::path& file);
};

/// Writes `module`'s parameters and buffers and the header to `file` atomically (a temporary
/// name in the same folder, then rename). Throws IoError naming the file.
void save_model(const std::filesystem::path& file, torch::nn::Module& module, const ModelHeader& header);

/// True when `file` holds a fluxion header; false for a TorchScript module without one (a network
/// trained in PyTorch). Throws IoError for a missing or unreadable file ("not a model file").
bool has_model_header(const std::filesystem::path& file);
/// The header of a fluxion model file; IoError when there is none or it is corrupt.
ModelHeader read_model_header(const std::filesystem::path& file);
/// Throws IoError "<file>: a <arch> model for 2D; expected <architecture> in 3D" on a mismatch
/// (dim 0: any dimension).
void check_model_header(const ModelHeader& header, const std::filesystem::path& file, const std::string& architecture,
                        int dim);
/// Reads the weights of `file` into `module` (whose shapes the header decided); IoError when a
/// tensor is missing or has another shape.
void load_weights(const std::filesystem::path& file, torch::nn::Module& module);

/// The integer `key` of a header's network object, within [lo, hi]; throws Error naming
/// "network.<key>" when it is missing, not an integer or out of range.
int network_integer(const nlohmann::json& network, const char* key, int lo, int hi);
/// The finite number `key` of a header's network object, within [lo, hi]; the same errors.
double network_number(const nlohmann::json& network, const char* key, double lo, double hi);

}  // namespace fluxion::learn
