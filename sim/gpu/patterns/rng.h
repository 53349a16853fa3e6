// A small, fully specified random generator, so generated masks are byte-identical across
// compilers and standard libraries (std:: distributions are implementation-defined).
#pragma once

#include <cmath>
#include <cstdint>

namespace attnsim::gpu {

/// SplitMix64 (Steele, Lea, Flood 2014): 64-bit state, passes BigCrush, trivially seedable.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  static constexpr std::uint64_t kGamma = 0x9E3779B97F4A7C15ull;

  /// The output for the state `z` (the state after its increment): a bijection of 64 bits.
  static constexpr std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Draw j (0-based) of a generator seeded with `seed`, without drawing the ones before it:
  /// the state is a counter, so draw j is mix(seed + (j + 1) x gamma).
  static constexpr std::uint64_t draw(std::uint64_t seed, std::uint64_t j) {
    return mix(seed + (j + 1) * kGamma);
  }
  /// uniform()'s value for a draw's 64 bits.
  static double uniform_of(std::uint64_t bits) {
    return static_cast<double>(bits >> 11) * 0x1.0p-53;
  }
  /// normal()'s value for its two draws, in order.
  static double normal_of(std::uint64_t first, std::uint64_t second) {
    const double u1 = 1.0 - uniform_of(first);  // (0, 1]: log stays finite
    const double u2 = uniform_of(second);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  std::uint64_t next() { return mix(state_ += kGamma); }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return uniform_of(next()); }
  /// Uniform integer in [0, n) (n > 0); the modulo bias is below 2^-40 for n < 2^24.
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  /// Standard normal (Box-Muller, one value per call, from two draws).
  double normal() {
    const std::uint64_t first = next();
    const std::uint64_t second = next();
    return normal_of(first, second);
  }

 private:
  std::uint64_t state_;
};

/// Independent stream for (seed, a, b), e.g. one per head: mixing, not adding, keeps streams
/// of neighbouring heads uncorrelated.
inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0) {
  SplitMix64 mix(seed ^ (a * 0xD1B54A32D192ED03ull) ^ (b * 0x8CB92BA72F3D8DD7ull));
  mix.next();
  return mix.next();
}

}  // namespace attnsim::gpu
