// What the apps add to the library's config builders (fluxion/setup/): summary formatting.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "fluxion/core/log.hpp"  // format_number
#include "fluxion/setup/domain_setup.hpp"
#include "fluxion/setup/solver_setup.hpp"

namespace fluxion::apps {

using fluxion::data_dir;

/// summary.json's "tuner" entry: SolverSetup::tuner_summary_json() as JSON (null without a tuner).
nlohmann::json tuner_summary(const SolverSetup& setup);

}  // namespace fluxion::apps
