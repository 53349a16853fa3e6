// Cascade token pruning: cumulative importance per token, top-k before each pruned layer.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "models/pruning_schedule.h"
#include "models/topk.h"

namespace attnsim::models {

/// Keeps each token's cumulative importance (the probability mass it received, summed over heads,
/// queries, layers and iterations) and the set of tokens alive in the current layer.
/// Contract: start_iteration() before layer 0 of each forward pass; prune_before_layer(l) before
/// layer l; accumulate() for every head-step of the layer. A token pruned in layer l stays pruned
/// in every later layer and head of the same pass; a new pass starts from all visible tokens.
class CascadeTokenPruner {
 public:
  CascadeTokenPruner(PruningSchedule schedule, TopkParams topk);

  /// Starts a forward pass over tokens 0..visible_tokens-1 (new tokens enter with importance 0).
  void start_iteration(int visible_tokens);

  /// Runs the importance top-k when the schedule keeps fewer tokens in `layer` than are alive;
  /// returns its result (positions into the previous alive list) or nothing when no top-k ran.
  /// `lfsr` is the importance engine's LFSR state, advanced by the run.
  std::optional<TopkResult> prune_before_layer(int layer, std::uint16_t& lfsr);

  /// Adds probabilities (codes) to the importance of `rows` (token ids).
  void accumulate(const std::vector<int>& rows, const std::vector<std::int64_t>& probs);

  const std::vector<int>& alive() const { return alive_; }
  const std::vector<std::int64_t>& importance() const { return importance_; }
  int visible_tokens() const { return visible_tokens_; }

 private:
  PruningSchedule schedule_;
  TopkParams topk_;
  std::vector<std::int64_t> importance_;
  std::vector<int> alive_;
  int visible_tokens_ = 0;
};

/// An importance value as the top-k engine sees it: saturated to its signed score width (the
/// accumulators are wider than the comparators).
std::int64_t saturate_to_score(std::int64_t value, int score_bits);

}  // namespace attnsim::models
