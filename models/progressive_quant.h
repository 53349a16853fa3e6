// Progressive quantization: scores and softmax from the K MSBs, recomputed with the LSBs when the
// largest probability is below a threshold.
#pragma once

#include <cstdint>
#include <vector>

#include "models/action_counts.h"
#include "models/attention.h"
#include "models/fixed_point.h"
#include "models/softmax.h"

namespace attnsim::models {

/// Progressive-quantization settings for one head-step.
struct ProgressiveQuantParams {
  bool enabled = true;               ///< false: always use the full K codes (no MSB-only first try)
  double max_prob_threshold = 0.05;  ///< re-quantize when max probability < this

  /// The threshold as a probability code: round(threshold * 2^prob_frac_bits).
  std::int64_t threshold_code(int prob_frac_bits) const;
};

/// Outcome of one head-step's scores and softmax.
struct ProgressiveQuantResult {
  std::vector<std::int64_t> probs;  ///< final probability codes over key_rows
  bool requantized = false;         ///< the LSBs were fetched and everything recomputed
  std::int64_t max_prob_msb = 0;    ///< largest probability of the MSB-only try
};

/// Q.K with MSB-only keys, softmax, max-reduction; when enabled and the max is below the
/// threshold, Q.K and softmax again with full keys. `full_keys` hold full (msb+lsb) codes and
/// `msb_keys` the same with the LSBs zeroed (msb_keys_of); when disabled only full_keys is read.
ProgressiveQuantResult progressive_attention_probs(
    const std::vector<std::int32_t>& query, const CodeMatrix& msb_keys, const CodeMatrix& full_keys,
    const std::vector<int>& key_rows, const SoftmaxParams& softmax,
    const ProgressiveQuantParams& params, ActionCounts* counts = nullptr);

/// The keys as the datapath sees them before re-quantization: every code's LSBs zeroed.
CodeMatrix msb_keys_of(const CodeMatrix& full_keys, int lsb_bits);

}  // namespace attnsim::models
