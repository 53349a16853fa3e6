// Cascade token pruning.
#include "models/token_pruning.h"

#include <numeric>
#include <stdexcept>
#include <utility>

namespace attnsim::models {

std::int64_t saturate_to_score(std::int64_t value, int score_bits) {
  const std::int64_t hi = (std::int64_t{1} << (score_bits - 1)) - 1;
  return value > hi ? hi : (value < -hi - 1 ? -hi - 1 : value);
}

CascadeTokenPruner::CascadeTokenPruner(PruningSchedule schedule, TopkParams topk)
    : schedule_(std::move(schedule)), topk_(topk) {}

void CascadeTokenPruner::start_iteration(int visible_tokens) {
  if (visible_tokens < static_cast<int>(importance_.size())) {
    throw std::invalid_argument("CascadeTokenPruner: the visible sequence cannot shrink");
  }
  importance_.resize(static_cast<std::size_t>(visible_tokens), 0);
  visible_tokens_ = visible_tokens;
  alive_.resize(static_cast<std::size_t>(visible_tokens));
  std::iota(alive_.begin(), alive_.end(), 0);
}

std::optional<TopkResult> CascadeTokenPruner::prune_before_layer(int layer, std::uint16_t& lfsr) {
  const int keep = schedule_.keep_count(layer, visible_tokens_);
  if (keep >= static_cast<int>(alive_.size())) return std::nullopt;
  std::vector<std::int64_t> scores;
  scores.reserve(alive_.size());
  for (int token : alive_) {
    scores.push_back(
        saturate_to_score(importance_[static_cast<std::size_t>(token)], topk_.score_bits));
  }
  TopkResult result = topk_select(scores, keep, topk_, lfsr);
  lfsr = result.lfsr_state_after;
  std::vector<int> survivors;
  survivors.reserve(result.selected.size());
  for (int position : result.selected)
    survivors.push_back(alive_[static_cast<std::size_t>(position)]);
  alive_.swap(survivors);
  return result;
}

void CascadeTokenPruner::accumulate(const std::vector<int>& rows,
                                    const std::vector<std::int64_t>& probs) {
  if (rows.size() != probs.size()) throw std::invalid_argument("accumulate: one prob per row");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    importance_[static_cast<std::size_t>(rows[i])] += probs[i];
  }
}

}  // namespace attnsim::models
