// derived_seed and keyed_gaussian: splitmix64 hashes of the seed and the key, and Box-Muller.
#include "fluxion/pde/random_draws.hpp"

#include <cmath>
#include <numbers>

namespace fluxion {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

std::uint64_t derived_seed(std::uint64_t base, std::uint64_t index) {
  return splitmix64(splitmix64(base) ^ splitmix64(index + 0x5851F42D4C957F2DULL));
}

std::complex<double> keyed_gaussian(std::uint64_t seed, long a, long b) {
  const std::uint64_t k1 = splitmix64(splitmix64(seed) ^ splitmix64(static_cast<std::uint64_t>(a) * 0x100000001B3ULL +
                                                                       splitmix64(static_cast<std::uint64_t>(b))));
  const std::uint64_t k2 = splitmix64(k1);
  const double u1 = (static_cast<double>(k1 >> 11) + 0.5) * 0x1.0p-53;  // in (0, 1)
  const double u2 = static_cast<double>(k2 >> 11) * 0x1.0p-53;
  const double r = std::sqrt(-2.0 * std::log(u1));
  return {r * std::cos(2.0 * std::numbers::pi * u2), r * std::sin(2.0 * std::numbers::pi * u2)};
}

}  // namespace fluxion
