// Scheduler registry and the earliest-free-slot list scheduler the policies share.
#include "sim/gpu/schedulers/scheduler.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <stdexcept>
#include <utility>

namespace attnsim::gpu {
namespace {

struct SchedulerEntry {
  const char* name;
  std::unique_ptr<TileScheduler> (*make)();
};

const SchedulerEntry kSchedulers[] = {
    {"non_persistent", make_non_persistent_scheduler},
    {"static_persistent", make_static_persistent_scheduler},
    {"dynamic_longest_first", make_longest_first_scheduler},
};

}  // namespace

double Schedule::makespan() const {
  return slot_finish.empty() ? 0.0 : *std::max_element(slot_finish.begin(), slot_finish.end());
}

std::unique_ptr<TileScheduler> make_scheduler(const std::string& name) {
  for (const SchedulerEntry& entry : kSchedulers) {
    if (name == entry.name) return entry.make();
  }
  throw std::invalid_argument("unknown scheduler '" + name + "'");
}

bool is_scheduler_name(const std::string& name) {
  for (const SchedulerEntry& entry : kSchedulers) {
    if (name == entry.name) return true;
  }
  return false;
}

std::string scheduler_names() {
  std::string names;
  for (const SchedulerEntry& entry : kSchedulers) {
    if (!names.empty()) names += ", ";
    names += entry.name;
  }
  return names;
}

Schedule schedule_earliest_free(const std::vector<double>& work,
                                const std::vector<std::int64_t>& order, int slots) {
  Schedule schedule;
  schedule.placements.resize(work.size());
  schedule.slot_finish.assign(slots, 0.0);
  // Min-heap on (free time, slot index): the lowest index wins ties, as the hardware's
  // dispatcher fills idle SMs in order.
  using Entry = std::pair<double, std::int32_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> free_slots;
  for (std::int32_t s = 0; s < slots; ++s) free_slots.push({0.0, s});
  for (const std::int64_t item : order) {
    const auto [start, slot] = free_slots.top();
    free_slots.pop();
    const double end = start + work[item];
    schedule.placements[item] = {slot, start, end};
    schedule.slot_finish[slot] = end;
    free_slots.push({end, slot});
  }
  return schedule;
}

}  // namespace attnsim::gpu
