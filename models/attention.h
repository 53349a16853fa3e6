// Integer attention arithmetic: Q.K scores and probability-weighted sums of V rows.
#pragma once

#include <cstdint>
#include <vector>

#include "models/action_counts.h"

namespace attnsim::models {

/// Row-major matrix of integer codes (keys or values: rows = tokens, cols = head dimension).
struct CodeMatrix {
  int rows = 0;
  int cols = 0;
  std::vector<std::int32_t> codes;  ///< rows * cols, row-major

  const std::int32_t* row(int r) const { return codes.data() + static_cast<std::size_t>(r) * cols; }
};

/// Exact integer dot products of `query` with the key rows listed in `key_rows` (in that order):
/// the Q x K unit. The result has the sum of the Q and K fractional bits. Adds D MACs per key.
std::vector<std::int64_t> qk_scores(const std::vector<std::int32_t>& query, const CodeMatrix& keys,
                                    const std::vector<int>& key_rows,
                                    ActionCounts* counts = nullptr);

/// out[d] = sum_i probs[i] * values[value_rows[i]][d], exact: the prob x V unit. The result has
/// the sum of the probability and V fractional bits. Adds D MACs per row.
std::vector<std::int64_t> prob_times_v(const std::vector<std::int64_t>& probs,
                                       const CodeMatrix& values, const std::vector<int>& value_rows,
                                       ActionCounts* counts = nullptr);

/// 0, 1, ..., n - 1: the row list of a dense (unpruned) head.
std::vector<int> all_rows(int n);

}  // namespace attnsim::models
