// Counter-based random draws: seeds derived from (base, index), and standard normals keyed by integers.
#pragma once

#include <complex>
#include <cstdint>

namespace fluxion {

/// A seed for item `index` of a data set (a trajectory, a sample) derived from `base` (splitmix64
/// of both): distinct streams, the same on any rank count and in any order.
std::uint64_t derived_seed(std::uint64_t base, std::uint64_t index);

/// A standard complex normal (real and imaginary parts independent N(0, 1)) that depends only on
/// (seed, a, b): a counter-based draw (splitmix64, Box-Muller), so a random field whose mode (a, b)
/// takes it is the same on every rank and on every grid that holds the mode.
std::complex<double> keyed_gaussian(std::uint64_t seed, long a, long b);

}  // namespace fluxion
