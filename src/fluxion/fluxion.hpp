// Umbrella header of fluxion::fluxion: everything that was built and installed (today the
// solvers; the learn layer joins when it exists).
#pragma once

#include "fluxion/solvers.hpp"
