// Local value pruning: per query, only the V rows with the top-k probabilities are fetched.
#pragma once

#include <cstdint>
#include <vector>

#include "models/topk.h"

namespace attnsim::models {

/// V rows kept out of `alive_keys`: ceil(keep_ratio * alive_keys), at least 1, at most all.
int value_keep_count(double keep_ratio, int alive_keys);

/// What local value pruning kept for one head-step.
struct ValuePruningResult {
  std::vector<int> rows;            ///< kept token ids, ascending
  std::vector<std::int64_t> probs;  ///< their probabilities (not renormalised)
  bool ran_topk = false;            ///< false when every row is kept (engine bypassed)
  TopkResult topk;                  ///< the engine's run, when ran_topk
};

/// Keeps the value_keep_count() rows with the largest probabilities (the hardware top-k with its
/// tie rule), in token order. `key_rows` are the token ids the probabilities belong to. When all
/// rows are kept the engine is bypassed and `lfsr` is untouched.
ValuePruningResult local_value_pruning(const std::vector<int>& key_rows,
                                       const std::vector<std::int64_t>& probs, double keep_ratio,
                                       const TopkParams& topk, std::uint16_t& lfsr);

}  // namespace attnsim::models
