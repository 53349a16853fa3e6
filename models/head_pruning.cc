// Cascade head pruning.
#include "models/head_pruning.h"

#include <cstdlib>
#include <numeric>
#include <utility>

#include "models/token_pruning.h"

namespace attnsim::models {

CascadeHeadPruner::CascadeHeadPruner(int num_heads, PruningSchedule schedule, TopkParams topk)
    : num_heads_(num_heads),
      schedule_(std::move(schedule)),
      topk_(topk),
      importance_(static_cast<std::size_t>(num_heads), 0) {
  start_iteration();
}

void CascadeHeadPruner::start_iteration() {
  alive_.resize(static_cast<std::size_t>(num_heads_));
  std::iota(alive_.begin(), alive_.end(), 0);
}

std::optional<TopkResult> CascadeHeadPruner::prune_before_layer(int layer, std::uint16_t& lfsr) {
  const int keep = schedule_.keep_count(layer, num_heads_);
  if (keep >= static_cast<int>(alive_.size())) return std::nullopt;
  std::vector<std::int64_t> scores;
  for (int head : alive_) {
    scores.push_back(
        saturate_to_score(importance_[static_cast<std::size_t>(head)], topk_.score_bits));
  }
  TopkResult result = topk_select(scores, keep, topk_, lfsr);
  lfsr = result.lfsr_state_after;
  std::vector<int> survivors;
  for (int position : result.selected)
    survivors.push_back(alive_[static_cast<std::size_t>(position)]);
  alive_.swap(survivors);
  return result;
}

void CascadeHeadPruner::accumulate(int head, const std::vector<std::int64_t>& output,
                                   int output_shift) {
  std::int64_t sum = 0;
  for (std::int64_t x : output) sum += std::llabs(x) >> output_shift;
  importance_[static_cast<std::size_t>(head)] += sum;
}

}  // namespace attnsim::models
