// Quantization and MSB/LSB splitting.
#include "models/fixed_point.h"

#include <cmath>
#include <stdexcept>

namespace attnsim::models {

Violations FixedFormat::validate(const std::string& prefix) const {
  Violations v;
  v.require_in_range(prefix + ".total_bits", total_bits, 1, 32);
  v.require_in_range(prefix + ".frac_bits", frac_bits, -16, 48);
  return v;
}

std::int64_t FixedFormat::min_code() const {
  return is_signed ? -(std::int64_t{1} << (total_bits - 1)) : 0;
}

std::int64_t FixedFormat::max_code() const {
  return is_signed ? (std::int64_t{1} << (total_bits - 1)) - 1
                   : (std::int64_t{1} << total_bits) - 1;
}

std::int32_t quantize(double x, const FixedFormat& format) {
  if (std::isnan(x)) throw std::domain_error("quantize: NaN has no fixed-point code");
  const double scaled = std::ldexp(x, format.frac_bits);
  const double lo = static_cast<double>(format.min_code());
  const double hi = static_cast<double>(format.max_code());
  // Saturate before rounding so infinities and huge values never reach an integer conversion.
  if (scaled <= lo) return static_cast<std::int32_t>(format.min_code());
  if (scaled >= hi) return static_cast<std::int32_t>(format.max_code());
  const double rounded = std::copysign(std::floor(std::fabs(scaled) + 0.5), scaled);
  return static_cast<std::int32_t>(rounded);
}

std::vector<std::int32_t> quantize(const std::vector<double>& xs, const FixedFormat& format) {
  std::vector<std::int32_t> out;
  out.reserve(xs.size());
  for (double x : xs) out.push_back(quantize(x, format));
  return out;
}

double dequantize(std::int64_t code, int frac_bits) {
  return std::ldexp(static_cast<double>(code), -frac_bits);
}

Violations SplitFormat::validate(const std::string& prefix) const {
  Violations v;
  v.require_in_range(prefix + ".msb_bits", msb_bits, 1, 24);
  v.require_in_range(prefix + ".lsb_bits", lsb_bits, 0, 16);
  v.require_in_range(prefix + ".frac_bits", frac_bits, -16, 48);
  return v;
}

SplitCode split_code(std::int32_t code, int lsb_bits) {
  const std::int32_t msb = code >> lsb_bits;  // arithmetic: floor division by 2^lsb_bits
  const std::uint32_t lsb = static_cast<std::uint32_t>(code - msb * (std::int32_t{1} << lsb_bits));
  return {msb, lsb};
}

std::int32_t join_code(SplitCode parts, int lsb_bits) {
  return parts.msb * (std::int32_t{1} << lsb_bits) + static_cast<std::int32_t>(parts.lsb);
}

std::int32_t msb_only_code(std::int32_t code, int lsb_bits) {
  return join_code({split_code(code, lsb_bits).msb, 0}, lsb_bits);
}

}  // namespace attnsim::models
