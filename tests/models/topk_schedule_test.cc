// Job-to-job schedule of the top-k engine: hand-derived cycles for one-at-a-time and overlapped.
#include "models/topk_schedule.h"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <vector>

#include "models/topk_latency.h"

namespace attnsim::models {
namespace {

TopkParams engine(TopkMicroarch microarch) {
  TopkParams p;
  p.microarch = microarch;
  p.pivot_setup_cycles = 0;
  return p;
}

// All-equal scores, P = 16: one fused pass. n = 256, k = 256: 16 load rows, the pass drains 3
// cycles and decides in cycle 19, the output pass reads rows 0..15 from cycle 20 and beat b leaves
// at 24 + b: latency 40. n = 16, k = 16: decide in cycle 4, output read 5, beat 9: latency 10.
TEST(TopkJobScheduler, AllEqualJobsHaveTheHandDerivedOwnTiming) {
  const TopkParams p = engine(TopkMicroarch::kOverlapped);
  const TopkTiming big =
      topk_timing(topk_select(std::vector<std::int64_t>(256, 7), 256, p), 256, 256, p);
  EXPECT_EQ(big.output_start_cycle, 20);
  EXPECT_EQ(big.latency_cycles, 40);
  const TopkTiming small =
      topk_timing(topk_select(std::vector<std::int64_t>(16, 7), 16, p), 16, 16, p);
  EXPECT_EQ(small.output_start_cycle, 5);
  EXPECT_EQ(small.latency_cycles, 10);
}

TEST(TopkJobScheduler, OneJobAtATimeStartsAfterTheLastOutputBeat) {
  for (TopkMicroarch m : {TopkMicroarch::kSequential, TopkMicroarch::kPipelined}) {
    TopkJobScheduler s(engine(m));
    EXPECT_EQ(s.earliest_start(), 0);
    EXPECT_EQ(s.place(0, 0, 20, 40).end_cycle, 40);
    EXPECT_EQ(s.earliest_start(), 40);
    const TopkJobSlot second = s.place(40, 0, 5, 10);
    EXPECT_EQ(second.end_cycle, 50);
    EXPECT_EQ(second.output_wait_cycles, 0);
    EXPECT_EQ(s.earliest_start(), 50);
    EXPECT_EQ(s.place(52, 3, 5, 10).end_cycle, 65);  // 3 input-gap cycles
  }
}

TEST(TopkJobScheduler, OverlappedStartsAtTheDecideAndQueuesTheOutputPass) {
  TopkJobScheduler s(engine(TopkMicroarch::kOverlapped));
  // Job 1 (256:256): ends 40; its output pass starts at 20, and so may the next job.
  EXPECT_EQ(s.place(0, 0, 20, 40).end_cycle, 40);
  EXPECT_EQ(s.earliest_start(), 20);
  // Job 2 (16:16) from 20 decides at 24, but job 1's last beat leaves at 39: its output pass
  // starts at 40 (15 cycles later) and its beat leaves at 44: end 45. Job 3 waits for the
  // quick-select datapath, which job 2 holds until its output pass starts (40).
  const TopkJobSlot second = s.place(20, 0, 5, 10);
  EXPECT_EQ(second.output_start_cycle, 40);
  EXPECT_EQ(second.output_wait_cycles, 15);
  EXPECT_EQ(second.end_cycle, 45);
  EXPECT_EQ(s.earliest_start(), 40);
  // Job 3 from 40 decides at 44; job 2 ends at 45, so its output pass starts at 45, no wait.
  const TopkJobSlot third = s.place(40, 0, 5, 10);
  EXPECT_EQ(third.output_start_cycle, 45);
  EXPECT_EQ(third.output_wait_cycles, 0);
  EXPECT_EQ(third.end_cycle, 50);
  EXPECT_EQ(s.earliest_start(), 45);
  // 2 input-gap cycles delay the own output start to 45 + 2 + 5 = 52; 3 output stalls the end.
  const TopkJobSlot fourth = s.place(45, 2, 5, 10, 3);
  EXPECT_EQ(fourth.output_start_cycle, 52);
  EXPECT_EQ(fourth.end_cycle, 52 + 5 + 3);
  EXPECT_EQ(s.earliest_start(), 52);
}

TEST(TopkJobScheduler, OutputStallsDelayTheEndOneForOne) {
  TopkJobScheduler s(engine(TopkMicroarch::kPipelined));
  EXPECT_EQ(s.place(0, 2, 5, 10, 4).end_cycle, 16);
  EXPECT_EQ(s.earliest_start(), 16);
}

TEST(TopkJobScheduler, RefusesAJobBeforeTheEarliestStart) {
  TopkJobScheduler s(engine(TopkMicroarch::kPipelined));
  s.place(0, 0, 5, 10);
  EXPECT_THROW(s.place(9, 0, 5, 10), std::invalid_argument);
}

TEST(TopkJobScheduler, OverlappedIsNeverSlowerAndBeatsNeverCollide) {
  std::mt19937_64 rng(11);
  TopkParams pipe = engine(TopkMicroarch::kPipelined);
  TopkParams over = engine(TopkMicroarch::kOverlapped);
  TopkJobScheduler a(pipe), b(over);
  std::uint16_t lfsr_a = pipe.lfsr_seed, lfsr_b = over.lfsr_seed;
  std::int64_t last_end = 0;
  for (int job = 0; job < 500; ++job) {
    const int n = 1 + static_cast<int>(rng() % 400);
    const int k = 1 + static_cast<int>(rng() % static_cast<std::uint64_t>(n));
    std::vector<std::int64_t> s(static_cast<std::size_t>(n));
    for (auto& x : s) x = static_cast<std::int64_t>(rng() % 50);
    const TopkResult ra = topk_select(s, k, pipe, lfsr_a);
    const TopkResult rb = topk_select(s, k, over, lfsr_b);
    lfsr_a = ra.lfsr_state_after;
    lfsr_b = rb.lfsr_state_after;
    ASSERT_EQ(ra.selected, rb.selected);
    ASSERT_EQ(ra.pass_candidates, rb.pass_candidates);  // same pivots: overlap is job-level only
    const TopkTiming ta = topk_timing(ra, n, k, pipe);
    const TopkTiming tb = topk_timing(rb, n, k, over);
    const TopkJobSlot sa = a.place(a.earliest_start(), 0, ta.output_start_cycle, ta.latency_cycles);
    const TopkJobSlot sb = b.place(b.earliest_start(), 0, tb.output_start_cycle, tb.latency_cycles);
    ASSERT_LE(sb.end_cycle, sa.end_cycle);
    // The first beat of this job leaves after the previous job's last one.
    ASSERT_GE(sb.output_start_cycle + tb.output_beat_cycles.front() - tb.output_start_cycle,
              last_end);
    last_end = sb.end_cycle;
  }
  EXPECT_LT(b.earliest_start(), a.earliest_start());
}

}  // namespace
}  // namespace attnsim::models
