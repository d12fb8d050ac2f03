// Umbrella header of fluxion::fluxion: everything that was built and installed: the solvers, and
// the learn layer's torch-free interface when fluxion was built with it (FLUXION_WITH_TORCH).
#pragma once

#include "fluxion/solvers.hpp"

#if __has_include("fluxion/learn/dcdm.hpp")
#include "fluxion/learn/dcdm.hpp"
#include "fluxion/learn/direction_network.hpp"
#endif
