// Trainable models by name: what `fluxion train CFG` and `fluxion eval CFG` run (the config's
// `model:` key), registered the way apps are; torch stays behind this header.
#pragma once

#include <mpi.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "fluxion/core/config.hpp"

namespace fluxion::learn {

struct ModelRunContext {
  MPI_Comm comm;
  std::filesystem::path config_dir;  // relative paths in the config resolve from here first
  std::filesystem::path output_dir;  // where the command writes (the output folder's staging area)
};

struct ModelRunResult {
  std::vector<std::pair<std::string, std::string>> table;  // the one-screen summary
  nlohmann::json results = nlohmann::json::object();       // summary.json's "results"
  std::vector<std::filesystem::path> outputs;              // files written into output_dir
};

struct ModelInfo {
  std::string name;         // the config's `model:` value
  std::string description;
  std::function<Schema()> train_schema, eval_schema;  // the model's keys (the driver adds the common ones)
  std::function<ModelRunResult(const Config&, const ModelRunContext&)> train, eval;
};

class ModelRegistry {
 public:
  static ModelRegistry& instance();
  void add(ModelInfo info);  // replaces a model of the same name
  const ModelInfo* find(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::vector<ModelInfo>& models() const { return models_; }

 private:
  std::vector<ModelInfo> models_;
};

/// Registers the learn layer: PETSc's KSP and PC types "dcdm" and the trainable models. Idempotent;
/// call after PetscInitialize.
void initialize();

}  // namespace fluxion::learn
