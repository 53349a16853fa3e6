// Fixed-point formats and quantization, including the MSB/LSB split of progressive quantization.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/validation.h"

namespace attnsim::models {

/// A two's-complement (or unsigned) fixed-point format: a code c stands for c * 2^-frac_bits.
struct FixedFormat {
  int total_bits = 16;  ///< 1..32, sign bit included when is_signed
  int frac_bits = 8;    ///< -16..48: negative steps are coarser than 1 (a power-of-two scale)
  bool is_signed = true;

  /// Every reason the format is unusable; fields are prefixed with `prefix` ("q_format").
  Violations validate(const std::string& prefix) const;
  std::int64_t min_code() const;
  std::int64_t max_code() const;
};

/// Rounds x * 2^frac_bits to the nearest integer (halves away from zero) and saturates to the
/// format's range. Throws std::domain_error for NaN: a NaN has no code, and silently mapping it
/// to 0 would hide bad input.
std::int32_t quantize(double x, const FixedFormat& format);

/// quantize() applied element-wise.
std::vector<std::int32_t> quantize(const std::vector<double>& xs, const FixedFormat& format);

/// The real value of a code: code * 2^-frac_bits.
double dequantize(std::int64_t code, int frac_bits);

/// A value quantized to msb_bits + lsb_bits bits and stored as two parts, so DRAM can deliver the
/// MSBs first and the LSBs only when progressive quantization asks for them (6+4, 8+4, ...).
struct SplitFormat {
  int msb_bits = 6;   ///< the part always fetched, sign included; 1..24
  int lsb_bits = 4;   ///< the part fetched on re-quantization; 0..16
  int frac_bits = 6;  ///< fractional bits of the full (msb+lsb)-bit code, -16..48

  Violations validate(const std::string& prefix) const;
  /// The full-precision format the split parts come from.
  FixedFormat full() const { return {msb_bits + lsb_bits, frac_bits, true}; }
};

/// The two stored parts of a full code: code == msb * 2^lsb_bits + lsb, 0 <= lsb < 2^lsb_bits.
struct SplitCode {
  std::int32_t msb = 0;
  std::uint32_t lsb = 0;
};

/// Splits a full code (arithmetic shift, so negative codes split consistently).
SplitCode split_code(std::int32_t code, int lsb_bits);
/// Inverse of split_code.
std::int32_t join_code(SplitCode parts, int lsb_bits);
/// The full-format code the datapath sees when only the MSBs were fetched: the LSBs read as
/// zero (hardware zero-fills), which truncates towards minus infinity.
std::int32_t msb_only_code(std::int32_t code, int lsb_bits);

}  // namespace attnsim::models
