// Summary formatting shared by the apps; the builders themselves are library code (fluxion/setup/).
#include "setup.hpp"

#include <cstdio>

namespace fluxion::apps {

nlohmann::json tuner_summary(const SolverSetup& setup) { return nlohmann::json::parse(setup.tuner_summary_json()); }

}  // namespace fluxion::apps
