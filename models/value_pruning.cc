// Local value pruning.
#include "models/value_pruning.h"

#include <cmath>
#include <stdexcept>

namespace attnsim::models {

int value_keep_count(double keep_ratio, int alive_keys) {
  const int keep = static_cast<int>(std::ceil(keep_ratio * alive_keys));
  return keep < 1 ? 1 : (keep > alive_keys ? alive_keys : keep);
}

ValuePruningResult local_value_pruning(const std::vector<int>& key_rows,
                                       const std::vector<std::int64_t>& probs, double keep_ratio,
                                       const TopkParams& topk, std::uint16_t& lfsr) {
  if (key_rows.size() != probs.size()) {
    throw std::invalid_argument("local_value_pruning: one probability per key row");
  }
  ValuePruningResult out;
  const int keep = value_keep_count(keep_ratio, static_cast<int>(key_rows.size()));
  if (keep == static_cast<int>(key_rows.size())) {
    out.rows = key_rows;
    out.probs = probs;
    return out;
  }
  out.ran_topk = true;
  out.topk = topk_select(probs, keep, topk, lfsr);
  lfsr = out.topk.lfsr_state_after;
  for (int position : out.topk.selected) {
    out.rows.push_back(key_rows[static_cast<std::size_t>(position)]);
    out.probs.push_back(probs[static_cast<std::size_t>(position)]);
  }
  return out;
}

}  // namespace attnsim::models
