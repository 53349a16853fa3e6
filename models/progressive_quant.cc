// Progressive quantization.
#include "models/progressive_quant.h"

#include <algorithm>
#include <cmath>

namespace attnsim::models {

std::int64_t ProgressiveQuantParams::threshold_code(int prob_frac_bits) const {
  return static_cast<std::int64_t>(
      std::floor(std::ldexp(max_prob_threshold, prob_frac_bits) + 0.5));
}

ProgressiveQuantResult progressive_attention_probs(
    const std::vector<std::int32_t>& query, const CodeMatrix& msb_keys, const CodeMatrix& full_keys,
    const std::vector<int>& key_rows, const SoftmaxParams& softmax,
    const ProgressiveQuantParams& params, ActionCounts* counts) {
  ProgressiveQuantResult out;
  if (!params.enabled) {
    out.probs = softmax_fixed(qk_scores(query, full_keys, key_rows, counts), softmax, counts);
    out.max_prob_msb =
        out.probs.empty() ? 0 : *std::max_element(out.probs.begin(), out.probs.end());
    return out;
  }
  out.probs = softmax_fixed(qk_scores(query, msb_keys, key_rows, counts), softmax, counts);
  out.max_prob_msb = out.probs.empty() ? 0 : *std::max_element(out.probs.begin(), out.probs.end());
  if (counts != nullptr) counts->comparisons += static_cast<std::int64_t>(out.probs.size());
  if (out.max_prob_msb < params.threshold_code(softmax.prob_frac_bits)) {
    out.requantized = true;
    out.probs = softmax_fixed(qk_scores(query, full_keys, key_rows, counts), softmax, counts);
  }
  return out;
}

CodeMatrix msb_keys_of(const CodeMatrix& full_keys, int lsb_bits) {
  CodeMatrix msb = full_keys;
  for (std::int32_t& code : msb.codes) code = msb_only_code(code, lsb_bits);
  return msb;
}

}  // namespace attnsim::models
