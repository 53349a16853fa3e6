// Per-layer keep ratios shared by cascade token pruning and cascade head pruning.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "models/validation.h"

namespace attnsim::models {

/// keep_ratio[l] is the fraction of the full count (tokens visible to the query, or heads) still
/// alive in layer l. 1.0 means unpruned; SpAtten leaves the first layers at 1.0.
struct PruningSchedule {
  std::vector<double> keep_ratio;

  /// Expects one ratio per layer, each in (0, 1], never increasing: a pruned item stays pruned.
  Violations validate(const std::string& prefix, int num_layers) const {
    Violations v;
    v.require(static_cast<int>(keep_ratio.size()) == num_layers, prefix + ".keep_ratio",
              "one ratio per layer (" + std::to_string(num_layers) + ")", keep_ratio.size());
    for (std::size_t l = 0; l < keep_ratio.size(); ++l) {
      const std::string field = prefix + ".keep_ratio[" + std::to_string(l) + "]";
      v.require(keep_ratio[l] > 0.0 && keep_ratio[l] <= 1.0, field, "a ratio in (0, 1]",
                keep_ratio[l]);
      if (l > 0) {
        v.require(keep_ratio[l] <= keep_ratio[l - 1], field, "at most the previous layer's ratio",
                  keep_ratio[l]);
      }
    }
    return v;
  }

  /// Items alive in `layer` out of `full_count`: ceil(ratio * full_count), at least 1.
  int keep_count(int layer, int full_count) const {
    const double ratio = keep_ratio.empty() ? 1.0 : keep_ratio[static_cast<std::size_t>(layer)];
    const int keep = static_cast<int>(std::ceil(ratio * full_count));
    return keep < 1 ? 1 : (keep > full_count ? full_count : keep);
  }

  /// A schedule of num_layers layers: the first `unpruned_layers` at 1.0, the rest at `ratio`.
  static PruningSchedule step(int num_layers, int unpruned_layers, double ratio) {
    PruningSchedule s;
    for (int l = 0; l < num_layers; ++l) s.keep_ratio.push_back(l < unpruned_layers ? 1.0 : ratio);
    return s;
  }
};

}  // namespace attnsim::models
