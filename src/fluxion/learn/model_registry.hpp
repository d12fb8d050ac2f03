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

/// An app of `fluxion run` that needs the learn layer (its config's `app:` value, e.g. insr): the
/// fluxion command adds these to its apps when it is built with torch.
struct SimulationInfo {
  std::string name;
  std::string description;
  std::function<Schema()> schema;  // the app's keys (the driver adds app, title, output.*, petsc)
  std::function<ModelRunResult(const Config&, const ModelRunContext&)> run;
};

class ModelRegistry {
 public:
  static ModelRegistry& instance();
  void add(ModelInfo info);  // replaces a model of the same name
  const ModelInfo* find(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::vector<ModelInfo>& models() const { return models_; }
  void add(SimulationInfo info);  // replaces a simulation of the same name
  const std::vector<SimulationInfo>& simulations() const { return simulations_; }

 private:
  std::vector<ModelInfo> models_;
  std::vector<SimulationInfo> simulations_;
};

/// Registers the learn layer: PETSc's KSP and PC types "dcdm", the trainable models and the simulations. Idempotent;
/// call after PetscInitialize.
void initialize();

}  // namespace fluxion::learn
