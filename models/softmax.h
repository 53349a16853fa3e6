// Softmax in the accelerator's integer arithmetic: base-2 exponent, piecewise-linear 2^f, divide.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/action_counts.h"
#include "models/validation.h"

namespace attnsim::models {

/// Parameters of the softmax datapath; see models/README.md ("Softmax") for the arithmetic.
struct SoftmaxParams {
  int score_frac_bits = 12;     ///< fractional bits of the integer Q.K scores (q frac + k frac)
  int head_dim = 64;            ///< D; the 1/sqrt(D) scale is folded into the exponent constant
  int constant_frac_bits = 16;  ///< fractional bits of the constant log2(e)/sqrt(D)
  int exponent_frac_bits = 16;  ///< fractional bits of the base-2 exponent t = (s - max) * c
  int lut_index_bits = 5;       ///< 2^lut_index_bits linear segments for 2^f on [0, 1)
  int exp_frac_bits = 20;       ///< fractional bits of exp values; exp(max) = 2^exp_frac_bits
  int prob_frac_bits = 12;      ///< fractional bits of the unsigned probabilities
  /// true: subtract the max score first (a max pass; exp(max) = 1). false: the public design's
  /// stage list (dequant, exp, accumulate, divide, quant) with no max pass: exp of the raw score,
  /// whose values then need exp_int_bits integer bits above 1.0 and saturate beyond them.
  bool subtract_max = true;
  int exp_int_bits = 11;  ///< subtract_max = false: exp values are 1 + 11 + 20 = 32 bits wide

  Violations validate(const std::string& prefix) const;
  /// round(log2(e) / sqrt(head_dim) * 2^constant_frac_bits): the one multiplier constant.
  std::int64_t exponent_constant() const;
};

/// The table of 2^(i / 2^lut_index_bits) * 2^exp_frac_bits, rounded, for i = 0..2^lut_index_bits
/// (one more entry than segments, so every segment has both end points).
std::vector<std::int64_t> exp2_table(const SoftmaxParams& params);

/// The hardware's 2^t for a fixed-point exponent t <= 0 (exponent_frac_bits fractional bits),
/// in exp_frac_bits fixed point. `table` is exp2_table(params).
std::int64_t exp2_fixed(std::int64_t t, const SoftmaxParams& params,
                        const std::vector<std::int64_t>& table);

/// Softmax of integer scores in the hardware's arithmetic; returns probability codes with
/// prob_frac_bits fractional bits. Adds to `counts` (when given) the comparisons of the max
/// reduction (none without subtract_max), the exp evaluations, adds and divides.
std::vector<std::int64_t> softmax_fixed(const std::vector<std::int64_t>& scores,
                                        const SoftmaxParams& params,
                                        ActionCounts* counts = nullptr);

/// float64 softmax of scores * 2^-score_frac_bits / sqrt(head_dim): the reference the fixed-point
/// version is measured against.
std::vector<double> softmax_reference(const std::vector<std::int64_t>& scores,
                                      const SoftmaxParams& params);

}  // namespace attnsim::models
