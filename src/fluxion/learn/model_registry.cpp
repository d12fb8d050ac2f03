// The model registry and the learn layer's one initialisation call.
#include "fluxion/learn/model_registry.hpp"

#include <algorithm>

#include "fluxion/learn/dcdm.hpp"

namespace fluxion::learn {

void register_dcdm_model();       // dcdm_model.cpp
void register_operator_models();  // operator_model.cpp
void register_sfno_models();      // sfno_model.cpp
void register_insr_apps();        // insr_app.cpp

ModelRegistry& ModelRegistry::instance() {
  static ModelRegistry registry;
  return registry;
}

void ModelRegistry::add(ModelInfo info) {
  auto same = std::find_if(models_.begin(), models_.end(), [&](const ModelInfo& m) { return m.name == info.name; });
  if (same != models_.end()) *same = std::move(info);
  else models_.push_back(std::move(info));
}

void ModelRegistry::add(SimulationInfo info) {
  auto same = std::find_if(simulations_.begin(), simulations_.end(),
                           [&](const SimulationInfo& s) { return s.name == info.name; });
  if (same != simulations_.end()) *same = std::move(info);
  else simulations_.push_back(std::move(info));
}

const ModelInfo* ModelRegistry::find(const std::string& name) const {
  for (const auto& m : models_)
    if (m.name == name) return &m;
  return nullptr;
}

std::vector<std::string> ModelRegistry::names() const {
  std::vector<std::string> n;
  for (const auto& m : models_) n.push_back(m.name);
  return n;
}

void initialize() {
  register_dcdm_petsc_types();
  register_dcdm_model();
  register_operator_models();
  register_sfno_models();
  register_insr_apps();
}

}  // namespace fluxion::learn
