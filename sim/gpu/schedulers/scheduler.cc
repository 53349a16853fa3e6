// Scheduler registry and the earliest-free-slot list scheduler the policies share.
#include "sim/gpu/schedulers/scheduler.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

#include "sim/common/huge_pages.h"

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

namespace {

// Equal items (a dense launch) dealt round robin without the heap: at every round all slots are
// free at the same time, built by the same additions on each, and the earliest-free rule takes
// them in slot order; round r runs from finish_r to finish_r + w. That holds while each addition
// moves the clock; if one does not (w = 0, or w lost against the sum), or the items differ,
// returns false and the heap schedules them. Placements and finishes are the heap's, bit for bit.
bool deal_equal_items(const std::vector<double>& work, const std::vector<std::int64_t>& order,
                      int slots, Schedule& schedule) {
  if (work.empty() ||
      std::any_of(work.begin(), work.end(), [&](double w) { return w != work.front(); })) {
    return false;
  }
  const auto n = static_cast<std::size_t>(slots);
  double round_start = 0;
  for (std::size_t begin = 0; begin < order.size(); begin += n) {
    const double round_end = round_start + work.front();
    if (!(round_end > round_start)) return false;
    const std::size_t end = std::min(order.size(), begin + n);
    for (std::size_t k = begin; k < end; ++k) {
      const auto slot = static_cast<std::int32_t>(k - begin);
      schedule.placements[order[k]] = {slot, round_start, round_end};
      schedule.slot_finish[slot] = round_end;
    }
    round_start = round_end;
  }
  return true;
}

}  // namespace

// Min-heap on (free time, slot index): the lowest index wins ties, as the hardware's dispatcher
// fills idle SMs in order. (time, slot) pairs are all distinct, so the top is the unique minimum
// and the placements do not depend on the heap's layout. Hand-rolled rather than
// std::priority_queue: each item replaces the top and sifts it down once, where pop + push sifted
// down to a leaf and then up again (this loop was ~40% of simulate()). One sentinel past the end,
// later than any slot, so a node's second child always exists.
EarliestFreeSlots::EarliestFreeSlots(int slots)
    : heap_(static_cast<std::size_t>(slots) + 1,
            {std::numeric_limits<double>::infinity(), std::numeric_limits<std::int32_t>::max()}),
      slots_(static_cast<std::size_t>(slots)) {
  for (std::int32_t s = 0; s < slots; ++s) heap_[s] = {0.0, s};  // sorted, hence a heap
}

Schedule schedule_earliest_free(const std::vector<double>& work,
                                const std::vector<std::int64_t>& order, int slots) {
  Schedule schedule;
  common::reserve_huge(schedule.placements, work.size());
  schedule.placements.resize(work.size());
  schedule.slot_finish.assign(slots, 0.0);
  if (deal_equal_items(work, order, slots, schedule)) return schedule;
  schedule.slot_finish.assign(slots, 0.0);
  EarliestFreeSlots free_slots(slots);
  for (const std::int64_t item : order) {
    const Placement p = free_slots.place(work[item]);
    schedule.placements[item] = p;
    schedule.slot_finish[p.slot] = p.end;
  }
  return schedule;
}

}  // namespace attnsim::gpu
