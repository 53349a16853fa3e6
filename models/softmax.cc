// Integer softmax: max, base-2 exponent, piecewise-linear 2^f, shift, sum, rounded divide.
#include "models/softmax.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace attnsim::models {
namespace {

// exp underflows to 0 long before this; clamping keeps (s - max) * c inside int64.
constexpr std::int64_t kMinScoreDifference = -(std::int64_t{1} << 40);

}  // namespace

Violations SoftmaxParams::validate(const std::string& prefix) const {
  Violations v;
  v.require_in_range(prefix + ".score_frac_bits", score_frac_bits, -32, 60);
  v.require_in_range(prefix + ".head_dim", head_dim, 1, 4096);
  v.require_in_range(prefix + ".constant_frac_bits", constant_frac_bits, 1, 20);
  v.require_in_range(prefix + ".exponent_frac_bits", exponent_frac_bits, 1, 20);
  v.require_in_range(prefix + ".lut_index_bits", lut_index_bits, 0, exponent_frac_bits);
  v.require_in_range(prefix + ".exp_frac_bits", exp_frac_bits, 1, 24);
  v.require_in_range(prefix + ".prob_frac_bits", prob_frac_bits, 1, 24);
  v.require_in_range(prefix + ".exp_int_bits", exp_int_bits, 0, 20);
  v.require(score_frac_bits + constant_frac_bits >= exponent_frac_bits,
            prefix + ".exponent_frac_bits",
            "at most score_frac_bits + constant_frac_bits (the product is only shifted right)",
            exponent_frac_bits);
  v.require(
      score_frac_bits + constant_frac_bits - exponent_frac_bits <= 62, prefix + ".score_frac_bits",
      "at most 62 + exponent_frac_bits - constant_frac_bits (a 64-bit shift)", score_frac_bits);
  return v;
}

std::int64_t SoftmaxParams::exponent_constant() const {
  const double c = std::log2(std::exp(1.0)) / std::sqrt(static_cast<double>(head_dim));
  return static_cast<std::int64_t>(std::floor(std::ldexp(c, constant_frac_bits) + 0.5));
}

std::vector<std::int64_t> exp2_table(const SoftmaxParams& params) {
  const int segments = 1 << params.lut_index_bits;
  std::vector<std::int64_t> table(static_cast<std::size_t>(segments) + 1);
  for (int i = 0; i <= segments; ++i) {
    // pow rather than exp2: the NumPy reference calls the same libm function (math.pow).
    const double y = std::pow(2.0, static_cast<double>(i) / segments);
    table[static_cast<std::size_t>(i)] =
        static_cast<std::int64_t>(std::floor(std::ldexp(y, params.exp_frac_bits) + 0.5));
  }
  return table;
}

std::int64_t exp2_fixed(std::int64_t t, const SoftmaxParams& params,
                        const std::vector<std::int64_t>& table) {
  if (t > 0) throw std::invalid_argument("exp2_fixed: exponent must be <= 0");
  const int ef = params.exponent_frac_bits;
  const std::int64_t integer_part = t >> ef;                                 // floor, <= 0
  const std::int64_t fraction = t - integer_part * (std::int64_t{1} << ef);  // [0, 2^ef)
  const int remainder_bits = ef - params.lut_index_bits;
  const std::int64_t segment = fraction >> remainder_bits;
  const std::int64_t remainder = fraction - (segment << remainder_bits);
  const std::int64_t y0 = table[static_cast<std::size_t>(segment)];
  const std::int64_t y1 = table[static_cast<std::size_t>(segment) + 1];
  const std::int64_t mantissa = y0 + (((y1 - y0) * remainder) >> remainder_bits);
  // Round, not truncate, when scaling by 2^integer_part: truncation biases every small term
  // downwards, and over a thousand terms the bias in the sum shifts every probability.
  const std::int64_t shift = -integer_part;
  if (shift == 0) return mantissa;
  if (shift >= 62) return 0;
  return (mantissa + (std::int64_t{1} << (shift - 1))) >> shift;
}

std::vector<std::int64_t> softmax_fixed(const std::vector<std::int64_t>& scores,
                                        const SoftmaxParams& params, ActionCounts* counts) {
  std::vector<std::int64_t> probs(scores.size(), 0);
  if (scores.empty()) return probs;
  // Without the max pass the exponent is taken from 0: exp(s) itself, in a wider format.
  const std::int64_t reference =
      params.subtract_max ? *std::max_element(scores.begin(), scores.end()) : 0;
  const std::int64_t constant = params.exponent_constant();
  const int shift = params.score_frac_bits + params.constant_frac_bits - params.exponent_frac_bits;
  const std::vector<std::int64_t> table = exp2_table(params);
  const int ef = params.exponent_frac_bits;
  const std::int64_t t_max = std::int64_t{params.exp_int_bits} << ef;

  std::vector<std::int64_t> exps(scores.size());
  std::int64_t sum = 0;
  for (std::size_t j = 0; j < scores.size(); ++j) {
    const std::int64_t difference =
        std::clamp(scores[j] - reference, kMinScoreDifference, -kMinScoreDifference);
    std::int64_t t = (difference * constant) >> shift;
    if (t <= 0) {
      exps[j] = exp2_fixed(t, params, table);
    } else {
      // Only without the max pass: 2^t = 2^(t - w) << w for the whole w = ceil(t), saturating at
      // exp_int_bits (the format's largest exponent).
      t = std::min(t, t_max);
      const std::int64_t whole = (t + (std::int64_t{1} << ef) - 1) >> ef;
      exps[j] = exp2_fixed(t - (whole << ef), params, table) << whole;
    }
    sum += exps[j];
  }
  // With the max pass sum >= exp(max) = 2^exp_frac_bits > 0; without it every term may round to
  // 0 (all scores far below 0), and the probabilities are then 0.
  for (std::size_t j = 0; j < scores.size() && sum > 0; ++j) {
    probs[j] = ((exps[j] << params.prob_frac_bits) + sum / 2) / sum;
  }
  if (counts != nullptr) {
    const auto n = static_cast<std::int64_t>(scores.size());
    if (params.subtract_max) counts->comparisons += n - 1;
    counts->exps += n;
    counts->adds += n - 1;
    counts->divides += n;
  }
  return probs;
}

std::vector<double> softmax_reference(const std::vector<std::int64_t>& scores,
                                      const SoftmaxParams& params) {
  std::vector<double> out(scores.size(), 0.0);
  if (scores.empty()) return out;
  const double scale =
      std::ldexp(1.0, -params.score_frac_bits) / std::sqrt(static_cast<double>(params.head_dim));
  const std::int64_t max_score = *std::max_element(scores.begin(), scores.end());
  double sum = 0.0;
  for (std::size_t j = 0; j < scores.size(); ++j) {
    out[j] = std::exp(static_cast<double>(scores[j] - max_score) * scale);
    sum += out[j];
  }
  for (double& p : out) p /= sum;
  return out;
}

}  // namespace attnsim::models
