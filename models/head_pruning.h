// Cascade head pruning: cumulative |head output| per head, top-k before each pruned layer.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "models/pruning_schedule.h"
#include "models/topk.h"

namespace attnsim::models {

/// Keeps each head's cumulative importance (sum of |attention output| over queries and features,
/// carried across layers and iterations) and the heads alive in the current layer.
/// Contract: as CascadeTokenPruner: start_iteration(), then per layer prune_before_layer() and
/// accumulate() for each head-step; a head pruned in layer l stays pruned for the rest of the pass.
class CascadeHeadPruner {
 public:
  CascadeHeadPruner(int num_heads, PruningSchedule schedule, TopkParams topk);

  /// Starts a forward pass with every head alive.
  void start_iteration();
  /// Runs the head top-k when the schedule keeps fewer heads in `layer` than are alive.
  std::optional<TopkResult> prune_before_layer(int layer, std::uint16_t& lfsr);
  /// Adds sum_d (|output[d]| >> output_shift) to the importance of `head`: the shift drops the
  /// probability's fractional bits so a pass's importance fits the engine's score width.
  void accumulate(int head, const std::vector<std::int64_t>& output, int output_shift);

  const std::vector<int>& alive() const { return alive_; }
  const std::vector<std::int64_t>& importance() const { return importance_; }

 private:
  int num_heads_;
  PruningSchedule schedule_;
  TopkParams topk_;
  std::vector<std::int64_t> importance_;
  std::vector<int> alive_;
};

}  // namespace attnsim::models
