// Schedulers against closed forms: uniform waves, Graham's bounds, LPT, round-robin.
#include "sim/gpu/schedulers/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

namespace attnsim::gpu {
namespace {

const char* const kAll[] = {"non_persistent", "static_persistent", "dynamic_longest_first"};

TEST(Schedulers, UniformWorkTakesCeilNOverSWaves) {
  for (const char* name : kAll) {
    const auto scheduler = make_scheduler(name);
    for (const int slots : {1, 7, 132}) {
      for (const int items : {1, 131, 132, 133, 264, 1000}) {
        const std::vector<double> work(items, 2.5);
        const double waves = (items + slots - 1) / slots;
        EXPECT_DOUBLE_EQ(scheduler->run(work, slots).makespan(), waves * 2.5)
            << name << " items=" << items << " slots=" << slots;
      }
    }
  }
}

TEST(Schedulers, ListSchedulersStayWithinGrahamsBounds) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> length(0.1, 10.0);
  for (const char* name : {"non_persistent", "dynamic_longest_first"}) {
    const auto scheduler = make_scheduler(name);
    for (int trial = 0; trial < 50; ++trial) {
      const int slots = 1 + static_cast<int>(rng() % 40);
      std::vector<double> work(1 + rng() % 500);
      for (double& w : work) w = length(rng);
      const double sum = std::accumulate(work.begin(), work.end(), 0.0);
      const double longest = *std::max_element(work.begin(), work.end());
      const double makespan = scheduler->run(work, slots).makespan();
      EXPECT_GE(makespan + 1e-9, std::max(longest, sum / slots)) << name;
      EXPECT_LE(makespan, sum / slots + longest + 1e-9) << name;
    }
  }
}

TEST(Schedulers, LongestFirstMeetsGrahamsTightLptInstance) {
  // Graham's worst case for LPT on 2 machines: {3,3,2,2,2} gives 7 against an optimum of 6,
  // exactly (4/3 - 1/(3m)) x OPT; launch order must not matter.
  const auto scheduler = make_scheduler("dynamic_longest_first");
  EXPECT_DOUBLE_EQ(scheduler->run({2, 3, 2, 3, 2}, 2).makespan(), 7.0);
  EXPECT_DOUBLE_EQ(scheduler->run({2, 2, 2, 3, 3}, 2).makespan(), 7.0);
}

TEST(Schedulers, StaticRoundRobinGivesWorkerWItemsWPlusKG) {
  const auto scheduler = make_scheduler("static_persistent");
  // Items 0..8 with lengths 1..9 on 4 workers: worker 0 gets 1+5+9, worker 3 gets 4+8.
  std::vector<double> work(9);
  std::iota(work.begin(), work.end(), 1.0);
  const Schedule schedule = scheduler->run(work, 4);
  EXPECT_EQ(schedule.slot_finish, (std::vector<double>{15, 8, 10, 12}));
  EXPECT_EQ(schedule.placements[4].slot, 0);
  EXPECT_DOUBLE_EQ(schedule.placements[4].start, 1.0);
  EXPECT_DOUBLE_EQ(schedule.makespan(), 15.0);
}

TEST(Schedulers, EarliestFreeBreaksTiesTowardsTheLowestSlot) {
  const Schedule schedule = make_scheduler("non_persistent")->run({1, 1, 1, 1, 1}, 3);
  EXPECT_EQ(schedule.placements[3].slot, 0);
  EXPECT_EQ(schedule.placements[4].slot, 1);
  EXPECT_DOUBLE_EQ(schedule.placements[4].start, 1.0);
}

TEST(Schedulers, UnknownNamesAreRejected) {
  EXPECT_FALSE(is_scheduler_name("fifo"));
  EXPECT_THROW(make_scheduler("fifo"), std::invalid_argument);
  EXPECT_EQ(scheduler_names(), "non_persistent, static_persistent, dynamic_longest_first");
}

}  // namespace
}  // namespace attnsim::gpu
