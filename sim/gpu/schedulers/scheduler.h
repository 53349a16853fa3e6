// GPU tile schedulers: how work items (CTAs or persistent tiles) are placed on SM slots.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace attnsim::gpu {

/// Where and when one work item runs.
struct Placement {
  std::int32_t slot = 0;  ///< SM slot: slot % sm_count is the SM
  double start = 0;
  double end = 0;
};

/// The outcome of scheduling: one placement per work item, in the order the items were given.
struct Schedule {
  std::vector<Placement> placements;
  std::vector<double> slot_finish;  ///< when each slot runs out of work (0 if it never ran)

  double makespan() const;
};

/// A scheduling policy, mirroring the kernels' own schedulers.
/// Contract: work[i] >= 0 is the duration of the i-th item in launch order; slots >= 1. The
/// result is deterministic: ties between equally free slots go to the lowest slot index, ties
/// between equally long items to the earlier launch position.
class TileScheduler {
 public:
  virtual ~TileScheduler() = default;
  virtual std::string name() const = 0;
  virtual Schedule run(const std::vector<double>& work, int slots) const = 0;
};

/// A scheduler by name: "non_persistent", "static_persistent" or "dynamic_longest_first".
/// Throws std::invalid_argument for other names (callers validate names first).
std::unique_ptr<TileScheduler> make_scheduler(const std::string& name);
bool is_scheduler_name(const std::string& name);
/// "non_persistent, static_persistent, dynamic_longest_first" (for error messages).
std::string scheduler_names();

/// The earliest-free-slot rule one item at a time: place(w) puts an item of duration w on the
/// slot that becomes free first (the lowest index among equally free ones) and returns it. The
/// starts it returns never decrease. schedule_earliest_free is this over a whole launch; simulate()
/// streams a non-persistent launch through it without storing placements.
class EarliestFreeSlots {
 public:
  explicit EarliestFreeSlots(int slots);
  /// Inline: a launch calls it once per work item.
  Placement place(double work) {
    // Bitwise & and | rather than && and ||: ties are common (equal items), and the branches
    // they made mispredicted; the same order, computed without jumps.
    const auto earlier = [](const Entry& a, const Entry& b) {
      return (a.free < b.free) | ((a.free == b.free) & (a.slot < b.slot));
    };
    const Entry top = heap_[0];
    const Entry freed{top.free + work, top.slot};
    std::size_t i = 0;
    for (;;) {
      std::size_t child = 2 * i + 1;
      if (child >= slots_) break;
      child += earlier(heap_[child + 1], heap_[child]) ? 1 : 0;
      if (!earlier(heap_[child], freed)) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = freed;
    return {top.slot, top.free, freed.free};
  }

 private:
  struct Entry {
    double free;
    std::int32_t slot;
  };
  std::vector<Entry> heap_;
  std::size_t slots_;
};

/// Places items, in the given order, each on the slot that becomes free first. Shared by the
/// non-persistent grid and the dynamic persistent scheduler, which differ only in item order.
Schedule schedule_earliest_free(const std::vector<double>& work,
                                const std::vector<std::int64_t>& order, int slots);

std::unique_ptr<TileScheduler> make_non_persistent_scheduler();
std::unique_ptr<TileScheduler> make_static_persistent_scheduler();
std::unique_ptr<TileScheduler> make_longest_first_scheduler();

}  // namespace attnsim::gpu
