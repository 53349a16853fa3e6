// Non-persistent grid (FA2, FlexAttention, Block-Sparse-Attention): the hardware dispatches CTAs
// in blockIdx order, each to the first slot that frees up.
#include <numeric>

#include "sim/gpu/schedulers/scheduler.h"

namespace attnsim::gpu {
namespace {

class NonPersistentScheduler final : public TileScheduler {
 public:
  std::string name() const override { return "non_persistent"; }
  Schedule run(const std::vector<double>& work, int slots) const override {
    std::vector<std::int64_t> order(work.size());
    std::iota(order.begin(), order.end(), 0);
    return schedule_earliest_free(work, order, slots);
  }
};

}  // namespace

std::unique_ptr<TileScheduler> make_non_persistent_scheduler() {
  return std::make_unique<NonPersistentScheduler>();
}

}  // namespace attnsim::gpu
