// The 16-bit Galois LFSR that picks top-k pivots; the RTL uses the same polynomial and seed.
#pragma once

#include <cstdint>

namespace attnsim::models {

/// Feedback mask of x^16 + x^14 + x^13 + x^11 + 1 in right-shifting Galois form: maximal length,
/// so the state visits all 65,535 non-zero values before repeating.
inline constexpr std::uint16_t kLfsrTaps = 0xB400;
/// Reset state of the pivot LFSR (any non-zero value works; zero would lock up).
inline constexpr std::uint16_t kLfsrDefaultSeed = 0xACE1;

/// One step: shift right; when the bit shifted out is 1, XOR the taps in.
constexpr std::uint16_t lfsr_step(std::uint16_t state) {
  const auto shifted = static_cast<std::uint16_t>(state >> 1);
  return (state & 1u) != 0 ? static_cast<std::uint16_t>(shifted ^ kLfsrTaps) : shifted;
}

/// Maps an LFSR state onto [0, m): floor(state * m / 2^16), a multiply and a shift in hardware
/// (no modulo unit). Requires 1 <= m <= 65,536.
constexpr std::uint32_t lfsr_scale(std::uint16_t state, std::uint32_t m) {
  return static_cast<std::uint32_t>((std::uint64_t{state} * m) >> 16);
}

}  // namespace attnsim::models
