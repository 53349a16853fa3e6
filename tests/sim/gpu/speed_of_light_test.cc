// Shared-SM speed of light: hand-computed processor-sharing schedules, and agreement with the
// slot model where they must agree.
#include "sim/gpu/speed_of_light.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
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

TEST(SpeedOfLight, AnyOrderBoundIsExactForEqualItems) {
  // 10 equal items on 4 SMs: one SM takes 3 of them whatever the order.
  EXPECT_DOUBLE_EQ(any_order_makespan_lower_bound(std::vector<double>(10, 3.0), 4, 1), 9.0);
  EXPECT_DOUBLE_EQ(any_order_makespan_lower_bound(std::vector<double>(10, 3.0), 4, 2), 4.5);
  EXPECT_DOUBLE_EQ(any_order_makespan_lower_bound(std::vector<double>(8, 3.0), 4, 1), 6.0);
}

TEST(SpeedOfLight, AnyOrderBoundHandComputed) {
  // A causal triangle of 8 rows on 4 SMs: 36 / 4 = 9, reached by pairing 8+1, 7+2, 6+3, 5+4.
  EXPECT_DOUBLE_EQ(any_order_makespan_lower_bound({1, 2, 3, 4, 5, 6, 7, 8}, 4, 1), 9.0);
  EXPECT_DOUBLE_EQ(any_order_makespan_lower_bound({10, 1, 1, 1}, 2, 1), 10.0);  // the longest
  EXPECT_DOUBLE_EQ(any_order_makespan_lower_bound({5, 5, 5}, 2, 1), 10.0);      // two share an SM
  EXPECT_DOUBLE_EQ(any_order_makespan_lower_bound({5, 5, 5}, 2, 2), 5.0);
  EXPECT_DOUBLE_EQ(any_order_makespan_lower_bound({}, 2, 1), 0.0);
}

// The best assignment of a few items to SMs, by trying them all.
double best_assignment(const std::vector<double>& work, int sms, int ctas_per_sm) {
  std::vector<int> sm(work.size(), 0);
  double best = std::numeric_limits<double>::infinity();
  while (true) {
    std::vector<double> load(sms, 0.0);
    for (std::size_t i = 0; i < work.size(); ++i) load[sm[i]] += work[i];
    best = std::min(best, *std::max_element(load.begin(), load.end()) / ctas_per_sm);
    std::size_t i = 0;
    while (i < sm.size() && ++sm[i] == sms) sm[i++] = 0;
    if (i == sm.size()) return best;
  }
}

TEST(SpeedOfLight, AnyOrderBoundIsBelowEveryScheduleAndTheBestAssignment) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> length(0.1, 8.0);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> work(1 + rng() % 8);
    for (double& w : work) w = length(rng);
    const int sms = 1 + static_cast<int>(rng() % 3);
    for (const int per_sm : {1, 2}) {
      const double bound = any_order_makespan_lower_bound(work, sms, per_sm);
      EXPECT_LE(bound, best_assignment(work, sms, per_sm) + 1e-9);
      for (const char* scheduler :
           {"non_persistent", "static_persistent", "dynamic_longest_first"}) {
        EXPECT_LE(bound, shared_sm_makespan(work, sms, per_sm, scheduler) + 1e-9) << scheduler;
      }
    }
  }
}

TEST(SpeedOfLight, InPlaceBoundIsTheSameDoubleInAnyItemOrder) {
  // simulate() sums the items in launch order and hands them over by item index, sorted in
  // place: the bound must be the same double as from the launch-ordered list.
  std::uint64_t state = 99;
  const auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 40) / 7.0;
  };
  for (const int sms : {1, 3, 132}) {
    for (const std::size_t n : {1u, 2u, 131u, 132u, 133u, 1000u, 4097u}) {
      std::vector<double> launch(n);
      for (double& w : launch) w = n % 2 ? next() : std::floor(next() / 1000) * 64;  // ties too
      double total = 0;
      for (const double w : launch) total += w;
      std::vector<double> any_order(launch.rbegin(), launch.rend());
      for (const int per_sm : {1, 2}) {
        std::vector<double> items = any_order;
        EXPECT_EQ(any_order_makespan_lower_bound_in_place(items, total, sms, per_sm),
                  any_order_makespan_lower_bound(launch, sms, per_sm))
            << sms << " SMs, " << n << " items";
        EXPECT_TRUE(std::is_sorted(items.rbegin(), items.rend()));
      }
    }
  }
}

TEST(SpeedOfLight, StaticPersistentKeepsItsAssignment) {
  // Its CTAs cannot move, so the bound is that assignment's makespan, not the any-order one.
  const std::vector<double> work = {8, 1, 8, 1, 1, 1};
  EXPECT_DOUBLE_EQ(sparse_speed_of_light(work, 2, 1, "static_persistent"), 17.0);  // 8+8+1
  EXPECT_DOUBLE_EQ(sparse_speed_of_light(work, 2, 1, "non_persistent"), 10.0);     // 20 / 2
  EXPECT_DOUBLE_EQ(sparse_speed_of_light(work, 2, 2, "static_persistent"),
                   shared_sm_makespan(work, 2, 2, "static_persistent"));
}

}  // namespace
}  // namespace attnsim::gpu
