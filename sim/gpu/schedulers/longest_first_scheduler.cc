// Dynamic persistent longest-first (FA3 causal/local): workers take the next item from a shared
// counter over items sorted by decreasing length (LPT list scheduling, within 4/3 of optimal).
#include <algorithm>
#include <numeric>

#include "sim/gpu/schedulers/scheduler.h"

namespace attnsim::gpu {
namespace {

class LongestFirstScheduler final : public TileScheduler {
 public:
  std::string name() const override { return "dynamic_longest_first"; }
  Schedule run(const std::vector<double>& work, int slots) const override {
    std::vector<std::int64_t> order(work.size());
    std::iota(order.begin(), order.end(), 0);
    // Stable: equal items keep launch order, so the result does not depend on sort internals.
    std::stable_sort(order.begin(), order.end(),
                     [&](std::int64_t a, std::int64_t b) { return work[a] > work[b]; });
    return schedule_earliest_free(work, order, slots);
  }
};

}  // namespace

std::unique_ptr<TileScheduler> make_longest_first_scheduler() {
  return std::make_unique<LongestFirstScheduler>();
}

}  // namespace attnsim::gpu
