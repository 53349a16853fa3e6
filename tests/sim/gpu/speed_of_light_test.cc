// Shared-SM speed of light: hand-computed processor-sharing schedules, and agreement with the
// slot model where they must agree.
#include "sim/gpu/speed_of_light.h"

#include <gtest/gtest.h>

#include <random>

#include "sim/gpu/schedulers/scheduler.h"

namespace attnsim::gpu {
namespace {

TEST(SpeedOfLight, ALoneCtaUsesTheWholeSm) {
  EXPECT_DOUBLE_EQ(shared_sm_makespan({4}, 1, 2, "non_persistent"), 2.0);
  EXPECT_DOUBLE_EQ(shared_sm_makespan({4, 4}, 1, 2, "non_persistent"), 4.0);
  // 1 and 3 share the SM until t=1; the 3 then has 2 left, alone at rate 2: done at t=2.
  EXPECT_DOUBLE_EQ(shared_sm_makespan({1, 3}, 1, 2, "non_persistent"), 2.0);
  // 2 and 4 share; at t=2 the third item joins the 4 (2 left): both end at t=4.
  EXPECT_DOUBLE_EQ(shared_sm_makespan({2, 4, 2}, 1, 2, "non_persistent"), 4.0);
  // Two SMs, two slots each: items go to SMs 0, 1, 0, 1 and share pairwise.
  EXPECT_DOUBLE_EQ(shared_sm_makespan({2, 6, 2, 6}, 2, 2, "non_persistent"), 6.0);
}

TEST(SpeedOfLight, OneCtaPerSmIsTheSlotModel) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> length(0.5, 5.0);
  for (const char* scheduler : {"non_persistent", "static_persistent", "dynamic_longest_first"}) {
    std::vector<double> work(300);
    for (double& w : work) w = length(rng);
    EXPECT_NEAR(shared_sm_makespan(work, 17, 1, scheduler),
                make_scheduler(scheduler)->run(work, 17).makespan(), 1e-9)
        << scheduler;
  }
}

TEST(SpeedOfLight, SharingNeverEndsLaterThanFixedRateSlots) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> length(0.1, 8.0);
  for (const char* scheduler : {"non_persistent", "static_persistent", "dynamic_longest_first"}) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<double> work(1 + rng() % 200);
      for (double& w : work) w = length(rng);
      const double shared = shared_sm_makespan(work, 5, 2, scheduler);
      EXPECT_LE(shared, make_scheduler(scheduler)->run(work, 10).makespan() + 1e-9) << scheduler;
      double total = 0;
      for (const double w : work) total += w;
      EXPECT_GE(shared + 1e-9, total / 10);  // 5 SMs x 2 units per time
    }
  }
}

}  // namespace
}  // namespace attnsim::gpu
