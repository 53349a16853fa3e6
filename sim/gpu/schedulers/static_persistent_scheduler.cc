// Static persistent round-robin (FA3 non-causal, CUTLASS persistent kernels): a grid of one
// worker per slot, worker w runs items w, w + G, w + 2G, ... whatever their lengths.
#include "sim/gpu/schedulers/scheduler.h"

#include "sim/common/huge_pages.h"

namespace attnsim::gpu {
namespace {

class StaticPersistentScheduler final : public TileScheduler {
 public:
  std::string name() const override { return "static_persistent"; }
  Schedule run(const std::vector<double>& work, int slots) const override {
    Schedule schedule;
    common::reserve_huge(schedule.placements, work.size());
    schedule.placements.resize(work.size());
    schedule.slot_finish.assign(slots, 0.0);
    for (std::size_t item = 0; item < work.size(); ++item) {
      const auto worker = static_cast<std::int32_t>(item % static_cast<std::size_t>(slots));
      const double start = schedule.slot_finish[worker];
      schedule.placements[item] = {worker, start, start + work[item]};
      schedule.slot_finish[worker] = start + work[item];
    }
    return schedule;
  }
};

}  // namespace

std::unique_ptr<TileScheduler> make_static_persistent_scheduler() {
  return std::make_unique<StaticPersistentScheduler>();
}

}  // namespace attnsim::gpu
