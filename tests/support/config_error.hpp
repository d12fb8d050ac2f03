// config_error(): the message of the ConfigError an action throws, for tests of bad input.
#pragma once

#include <functional>
#include <string>

#include "fluxion/core/error.hpp"

namespace fluxion::test_support {

/// The message of the ConfigError that `action` throws, or a note that it threw none.
inline std::string config_error(const std::function<void()>& action) {
  try {
    action();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no ConfigError thrown)";
}

}  // namespace fluxion::test_support
