#include "models/topk.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <random>
#include <set>

#include "models/beats.h"
#include "models/topk_latency.h"

namespace attnsim::models {
namespace {

// The specification, written independently of the engine: order positions by (value descending,
// position ascending), keep the first k, report them in position order.
std::vector<int> reference_topk(const std::vector<std::int64_t>& s, int k) {
  std::vector<int> order(s.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return s[a] > s[b]; });
  order.resize(static_cast<std::size_t>(k));
  std::sort(order.begin(), order.end());
  return order;
}

std::int64_t nth_largest(std::vector<std::int64_t> s, int k) {
  std::nth_element(s.begin(), s.begin() + (k - 1), s.end(), std::greater<>());
  return s[static_cast<std::size_t>(k - 1)];
}

TEST(Lfsr, IsMaximalLength) {
  std::uint16_t state = kLfsrDefaultSeed;
  int period = 0;
  do {
    state = lfsr_step(state);
    ++period;
    ASSERT_NE(state, 0);
  } while (state != kLfsrDefaultSeed && period <= 70000);
  EXPECT_EQ(period, 65535);
}

TEST(Lfsr, ScaleStaysInRange) {
  for (std::uint32_t m : {1u, 2u, 3u, 17u, 1000u, 65536u}) {
    EXPECT_EQ(lfsr_scale(0xFFFF, m), m - 1);
    EXPECT_EQ(lfsr_scale(1, m), m / 65536);
  }
}

TEST(Topk, MatchesNthElementAndTheTieRuleOnHeavyTies) {
  std::mt19937 rng(11);
  TopkParams p;
  for (int trial = 0; trial < 3000; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 300);
    const int distinct = 1 + static_cast<int>(rng() % 6);  // few distinct values: heavy ties
    std::vector<std::int64_t> s(static_cast<std::size_t>(n));
    for (auto& x : s) x = static_cast<std::int64_t>(rng() % distinct) - 2;
    const int k = 1 + static_cast<int>(rng() % n);
    p.lanes = 1 + static_cast<int>(rng() % 32);
    const auto seed = static_cast<std::uint16_t>(1 + rng() % 65535);
    const TopkResult r = topk_select(s, k, p, seed);
    ASSERT_EQ(r.selected, reference_topk(s, k)) << "n=" << n << " k=" << k;
    ASSERT_EQ(r.threshold, nth_largest(s, k));
    const auto greater = std::count_if(s.begin(), s.end(), [&](auto x) { return x > r.threshold; });
    ASSERT_EQ(r.kept_equal, k - greater);
  }
}

TEST(Topk, MatchesOnDistinctSortedAndReverseSortedData) {
  TopkParams p;
  std::mt19937 rng(12);
  for (int n : {1, 7, 15, 16, 17, 33, 128, 1000}) {
    std::vector<std::int64_t> up(static_cast<std::size_t>(n));
    std::iota(up.begin(), up.end(), -n / 2);
    std::vector<std::int64_t> down(up.rbegin(), up.rend());
    std::vector<std::int64_t> shuffled = up;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    for (int k : {1, (n + 1) / 2, n}) {
      for (const auto* s : {&up, &down, &shuffled}) {
        EXPECT_EQ(topk_select(*s, k, p).selected, reference_topk(*s, k)) << n << " " << k;
      }
    }
  }
}

TEST(Topk, PassesShrinkAndEndWhenTheRankIsAmongTheEquals) {
  std::mt19937 rng(13);
  std::vector<std::int64_t> s(1024);
  for (auto& x : s) x = static_cast<std::int64_t>(rng() % 100000);
  const TopkResult r = topk_select(s, 512, TopkParams{});
  ASSERT_FALSE(r.pass_candidates.empty());
  EXPECT_EQ(r.pass_candidates.front(), 1024);
  for (std::size_t i = 1; i < r.pass_candidates.size(); ++i) {
    EXPECT_LT(r.pass_candidates[i], r.pass_candidates[i - 1]);
  }
}

TEST(Topk, SameSeedSameDecisionsAndTheLfsrAdvancesOncePerPass) {
  std::vector<std::int64_t> s(500);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::int64_t>((i * 7919) % 503);
  const TopkParams p;
  const TopkResult a = topk_select(s, 37, p);
  const TopkResult b = topk_select(s, 37, p);
  EXPECT_EQ(a.pass_candidates, b.pass_candidates);
  std::uint16_t state = p.lfsr_seed;
  for (std::size_t i = 0; i < a.pass_candidates.size(); ++i) state = lfsr_step(state);
  EXPECT_EQ(a.lfsr_state_after, state);
}

TEST(Topk, RejectsOutOfRangeArguments) {
  TopkParams p;
  p.max_n = 8;
  p.score_bits = 8;
  EXPECT_THROW(topk_select({1, 2, 3}, 0, p), std::invalid_argument);
  EXPECT_THROW(topk_select({1, 2, 3}, 4, p), std::invalid_argument);
  EXPECT_THROW(topk_select(std::vector<std::int64_t>(9, 1), 1, p), std::invalid_argument);
  EXPECT_THROW(topk_select({128}, 1, p), std::invalid_argument);
  EXPECT_THROW(topk_select({-129}, 1, p), std::invalid_argument);
  EXPECT_NO_THROW(topk_select({127, -128}, 1, p));
  EXPECT_THROW(topk_select({1}, 1, p, 0), std::invalid_argument);
}

TEST(TopkParams, ValidateReportsEachBadField) {
  TopkParams p;
  p.lanes = 0;
  p.lfsr_seed = 0;
  const Violations v = p.validate("topk");
  ASSERT_EQ(v.items().size(), 2u);
  EXPECT_EQ(v.items()[0].field, "topk.lanes");
  EXPECT_EQ(v.items()[1].field, "topk.lfsr_seed");
}

// With all scores equal the first pass ends the search and the kept elements are positions
// 0..k-1, so the schedule has a closed form: load, one pass, and the output pass up to row
// (k-1)/P, where consecutive beats never collide.
TEST(TopkLatency, ClosedFormForConstantScores) {
  for (int lanes : {1, 4, 16}) {
    for (int n : {1, 5, 16, 17, 100}) {
      for (int k : {1, n / 2 + 1, n}) {
        TopkParams p;
        p.lanes = lanes;
        const std::vector<std::int64_t> s(static_cast<std::size_t>(n), 3);
        const std::int64_t rows = (n + lanes - 1) / lanes;
        const std::int64_t expected = rows + (2 + rows + 3 + 1) + (k - 1) / lanes + 4 + 1;
        EXPECT_EQ(topk_latency_cycles(s, k, p, p.lfsr_seed), expected)
            << "P=" << lanes << " n=" << n << " k=" << k;
      }
    }
  }
}

TEST(TopkLatency, PipelinedClosedFormForConstantScores) {
  // One pass (every element equals the pivot), fused with the load: the rows arrive in cycles
  // 0 .. rows - 1, the pass drains 3 cycles and decides in the 4th; then the output pass.
  for (int lanes : {1, 4, 16}) {
    for (int n : {1, 5, 16, 17, 100}) {
      for (int k : {1, n / 2 + 1, n}) {
        TopkParams p;
        p.microarch = TopkMicroarch::kPipelined;
        p.pivot_setup_cycles = 0;
        p.lanes = lanes;
        const std::vector<std::int64_t> s(static_cast<std::size_t>(n), 3);
        const std::int64_t rows = (n + lanes - 1) / lanes;
        const std::int64_t expected = rows + (3 + 1) + (k - 1) / lanes + 4 + 1;
        EXPECT_EQ(topk_latency_cycles(s, k, p, p.lfsr_seed), expected)
            << "P=" << lanes << " n=" << n << " k=" << k;
      }
    }
  }
}

TEST(Topk, PipelinedSelectsTheSameSetFromTheFirstBeatsPivot) {
  // The fused first pass takes its pivot among the first beat's elements; the kept set, the
  // threshold and q cannot change (they are the k-th largest and the tie rule), the passes may.
  std::mt19937_64 rng(7);
  int passes_differ = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 300);
    const int k = 1 + static_cast<int>(rng() % static_cast<std::uint64_t>(n));
    std::vector<std::int64_t> s(static_cast<std::size_t>(n));
    for (auto& x : s) x = static_cast<std::int64_t>(rng() % 20);
    TopkParams seq;
    TopkParams pipe;
    pipe.microarch = TopkMicroarch::kPipelined;
    const TopkResult a = topk_select(s, k, seq);
    const TopkResult b = topk_select(s, k, pipe);
    ASSERT_EQ(a.selected, b.selected);
    ASSERT_EQ(a.threshold, b.threshold);
    ASSERT_EQ(a.kept_equal, b.kept_equal);
    passes_differ += a.pass_candidates != b.pass_candidates;
  }
  EXPECT_GT(passes_differ, 30);
}

TEST(TopkLatency, PassCostIsRowsPlusFixedOverheads) {
  TopkParams p;
  EXPECT_EQ(p.pass_cycles(1), 1 + 6);
  EXPECT_EQ(p.pass_cycles(16), 1 + 6);
  EXPECT_EQ(p.pass_cycles(17), 2 + 6);
  EXPECT_EQ(p.pass_cycles(1024), 64 + 6);
}

// P = 4, k = 6: row 0 holds 3 kept elements, row 1 the other 3. Row 1 completes the full first
// beat and the final partial one together; only one beat leaves per cycle, so the last waits.
TEST(TopkLatency, FinalBeatWaitsACycleWhenARowCompletesTwoBeats) {
  TopkParams p;
  p.lanes = 4;
  const std::vector<std::int64_t> s{9, 9, 9, 0, 9, 9, 9, 0};
  const TopkResult r = topk_select(s, 6, p);
  const TopkTiming t = topk_timing(r, 8, 6, p);
  ASSERT_EQ(t.output_beat_cycles.size(), 2u);
  EXPECT_EQ(t.output_beat_cycles[0], t.output_start_cycle + 1 + 4);
  EXPECT_EQ(t.output_beat_cycles[1], t.output_start_cycle + 1 + 4 + 1);
  EXPECT_EQ(t.latency_cycles, t.output_beat_cycles[1] + 1);
}

TEST(TopkLatency, SumsThePassesTheSelectionMade) {
  std::mt19937 rng(17);
  std::vector<std::int64_t> s(700);
  for (auto& x : s) x = static_cast<std::int64_t>(rng() % 1000);
  TopkParams p;
  const TopkResult r = topk_select(s, 100, p);
  const TopkTiming t = topk_timing(r, 700, 100, p);
  std::int64_t passes = 0;
  for (int m : r.pass_candidates) passes += 2 + (m + 15) / 16 + 3 + 1;
  EXPECT_EQ(t.load_cycles, 44);
  EXPECT_EQ(t.passes_cycles, passes);
  EXPECT_EQ(t.output_beat_cycles.size(), 7u);
  EXPECT_EQ(t.latency_cycles, t.output_beat_cycles.back() + 1);
  EXPECT_LE(t.latency_cycles, 44 + passes + 44 + 4 + 1);
  std::int64_t public_cycles = 0;
  for (int m : r.pass_candidates) public_cycles += (m + 15) / 16 + 3;
  EXPECT_EQ(public_model_cycles(r, 16), public_cycles);
}

TEST(TopkBeats, RoundTripAndLastFlag) {
  const std::vector<std::int64_t> s{5, 1, 4, 1, 5, 9, 2};
  const std::vector<std::uint32_t> idx{10, 11, 12, 13, 14, 15, 16};
  const auto in = to_in_beats(s, idx, 3);
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(in[2].count, 1);
  EXPECT_TRUE(in[2].last);
  EXPECT_FALSE(in[0].last);
  EXPECT_EQ(in[1].index[2], 15u);
  const auto out = to_out_beats({3, 4, 8, 9}, 3);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(from_out_beats(out), (std::vector<std::uint32_t>{3, 4, 8, 9}));
  TopkOutBeat a = out[1];
  a.index[5] = 77;  // beyond count: don't-care
  EXPECT_EQ(a, out[1]);
  a.index[0] = 77;
  EXPECT_NE(a, out[1]);
}

}  // namespace
}  // namespace attnsim::models
