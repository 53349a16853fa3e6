// attn_topk (Verilated) against models/: selected indices, cycles and activity counts, on random
// jobs with heavy ties, sorted inputs, odd sizes, every k, random input gaps and output stalls.
// About 10^4 jobs in all; `topk-cosim --vectors 1000000` is the long run (rtl/README.md).
#include <gtest/gtest.h>

#include <random>

#include "models/topk_latency.h"
#include "rtl/topk/topk_equivalence.h"
#include "rtl/topk/topk_rtl.h"
#include "sim/common/input_error.h"

namespace attnsim::rtl {
namespace {

using models::TopkMicroarch;
constexpr TopkMicroarch kBoth[] = {TopkMicroarch::kSequential, TopkMicroarch::kPipelined,
                                   TopkMicroarch::kOverlapped};

std::unique_ptr<TopkRtl> engine_for(int lanes, int max_n,
                                    TopkMicroarch microarch = TopkMicroarch::kSequential) {
  TopkRtlBuild wanted;
  wanted.microarch = microarch;
  wanted.lfsr_seed = models::kLfsrDefaultSeed;
  models::TopkParams p = topk_params_of(wanted);
  p.score_bits = 32;
  p.lanes = lanes;
  p.max_n = max_n;
  return make_topk_rtl(p, "test");
}

// Runs `vectors` random jobs on each micro-architecture; stops at the first few mismatches so a
// failure stays readable.
void expect_equivalent(int lanes, int max_n, int vectors, const TopkBackpressure& backpressure,
                       std::uint64_t seed) {
  for (TopkMicroarch microarch : kBoth) {
    SCOPED_TRACE(models::to_string(microarch));
    TopkEquivalence eq(engine_for(lanes, max_n, microarch), backpressure);
    std::mt19937_64 rng(seed);
    int failures = 0;
    std::int64_t stalls = 0;
    std::int64_t gaps = 0;
    for (int i = 0; i < vectors && failures < 5; ++i) {
      const TopkVector v = random_topk_vector(rng, eq.params().score_bits, max_n);
      const TopkComparison c = eq.check(v);
      stalls += c.output_stall_cycles;
      gaps += c.input_gap_cycles;
      if (!c.mismatch.empty()) {
        ++failures;
        ADD_FAILURE() << "job " << i << ": " << c.mismatch;
      }
    }
    // The stimulus really exercised back-pressure when asked to.
    if (backpressure.output_stall > 0) {
      EXPECT_GT(stalls, vectors);
    }
    if (backpressure.input_gap > 0) {
      EXPECT_GT(gaps, vectors / 4);
    }
  }
}

TEST(TopkRtl, BuildsExist) {
  const auto builds = topk_rtl_builds();
  ASSERT_GE(builds.size(), 4u);
  for (TopkMicroarch microarch : kBoth) {
    bool spatten_engine = false;
    for (const auto& b : builds) {
      spatten_engine |= b.lanes == 16 && b.max_n >= 4096 && b.microarch == microarch;
    }
    EXPECT_TRUE(spatten_engine) << "the SpAtten engine (P = 16, n up to 4096) must be built, "
                                << models::to_string(microarch);
  }
}

TEST(TopkRtl, SevenFifteenThirtyThreeWithTies) {
  // conventions.md: odd sizes 7, 15, 33 with heavy ties, every k, both lane counts.
  for (int lanes : {16, 5}) {
    for (TopkMicroarch microarch : kBoth) {
      TopkEquivalence eq(engine_for(lanes, 600, microarch), TopkBackpressure{0.2, 0.3, 7});
      std::mt19937_64 rng(lanes);
      for (int n : {7, 15, 33}) {
        for (int k = 1; k <= n; ++k) {
          for (ScoreKind kind :
               {ScoreKind::kHeavyTies, ScoreKind::kAllEqual, ScoreKind::kUniform}) {
            const TopkComparison c = eq.check(make_topk_vector(rng, 32, n, k, kind));
            ASSERT_EQ(c.mismatch, "") << models::to_string(microarch);
          }
        }
      }
    }
  }
}

TEST(TopkRtl, NoBackpressureMatchesEveryBeatCycleP16) {
  expect_equivalent(16, 4096, 1500, TopkBackpressure{0, 0, 1}, 11);
}

TEST(TopkRtl, RandomBackpressureP16) {
  expect_equivalent(16, 4096, 1500, TopkBackpressure{0.15, 0.3, 2}, 12);
}

TEST(TopkRtl, NoBackpressureOddLanes) {
  expect_equivalent(5, 600, 3000, TopkBackpressure{0, 0, 3}, 13);
}

TEST(TopkRtl, RandomBackpressureOddLanes) {
  expect_equivalent(5, 600, 3000, TopkBackpressure{0.3, 0.5, 4}, 14);
}

TEST(TopkRtl, LatencyIsTheModelsClosedForm) {
  // A job whose cycles are known by hand: n = 32 equal scores, k = 1, P = 16. Load 2 beats; one
  // pass over 32 (2 rows): 2 + 2 + 3 + 1 = 8; output: the first element's row 0 leaves 4 cycles
  // after the output pass starts. Cycle of the beat = 2 + 8 + 0 + 4 = 14, latency 15.
  auto rtl = engine_for(16, 4096);
  std::vector<std::int64_t> scores(32, 5);
  std::vector<std::uint32_t> indices(32);
  for (std::uint32_t i = 0; i < 32; ++i) indices[i] = 100 + i;
  const TopkRtlJob job = rtl->run(models::to_in_beats(scores, indices, 16), 1);
  ASSERT_EQ(job.out.size(), 1u);
  EXPECT_EQ(job.out[0].count, 1);
  EXPECT_EQ(job.out[0].index[0], 100u);
  EXPECT_TRUE(job.out[0].last);
  EXPECT_EQ(job.cycles, 15);
}

TEST(TopkRtl, PipelinedLatencyIsTheClosedForm) {
  // The same job on the pipelined engine: the pass over 32 streams with the load (beats in cycles
  // 0 and 1), drains 3 cycles and decides in cycle 5; the output pass starts in cycle 6 and the
  // beat of row 0 leaves 4 cycles later, in cycle 10: latency 11 (against 15).
  auto rtl = engine_for(16, 4096, TopkMicroarch::kPipelined);
  std::vector<std::int64_t> scores(32, 5);
  std::vector<std::uint32_t> indices(32);
  for (std::uint32_t i = 0; i < 32; ++i) indices[i] = 100 + i;
  const TopkRtlJob job = rtl->run(models::to_in_beats(scores, indices, 16), 1);
  ASSERT_EQ(job.out.size(), 1u);
  EXPECT_EQ(job.out[0].index[0], 100u);
  EXPECT_EQ(job.cycles, 11);
  // 48 scores i mod 7, k = 16: several passes (the first with its pivot from the first beat, later
  // ones reading the pivot alongside their first row). Both engines select the same indices.
  std::vector<std::int64_t> ramp(48);
  for (int i = 0; i < 48; ++i) ramp[static_cast<std::size_t>(i)] = i % 7;
  std::vector<std::uint32_t> ids(48);
  for (std::uint32_t i = 0; i < 48; ++i) ids[i] = i;
  auto sequential = engine_for(16, 4096, TopkMicroarch::kSequential);
  const TopkRtlJob a = rtl->run(models::to_in_beats(ramp, ids, 16), 16);
  const TopkRtlJob b = sequential->run(models::to_in_beats(ramp, ids, 16), 16);
  ASSERT_EQ(a.out.size(), b.out.size());
  for (std::size_t i = 0; i < a.out.size(); ++i) {
    EXPECT_EQ(a.out[i].index, b.out[i].index);
    EXPECT_EQ(a.out[i].count, b.out[i].count);
  }
  EXPECT_LT(a.cycles, b.cycles);
}

TEST(TopkRtl, OverlappedLoadsTheNextJobWhileTheOutputStreams) {
  // Hand-derived, P = 16, all-equal scores (one fused pass). Job 1: n = 256, k = 256: beats in
  // cycles 0..15, decide in 19, output reads from 20, beat b leaves at 24 + b: 40 cycles. Job 2:
  // n = 16, k = 16. Pipelined: its beat transfers in cycle 40, decides at 44, leaves at 49: 10
  // cycles. Overlapped: it transfers in cycle 20 (the quick-select datapath is free), decides at
  // 24 and waits for job 1's last beat (39); its output reads from 40, its beat leaves at 44:
  // 25 cycles from its first beat, and the pair ends at 45 instead of 50.
  std::vector<TopkRtlInput> jobs(2);
  std::vector<std::uint32_t> ids(256);
  for (std::uint32_t i = 0; i < 256; ++i) ids[i] = i;
  jobs[0] = {models::to_in_beats(std::vector<std::int64_t>(256, 3), ids, 16), 256};
  ids.resize(16);
  jobs[1] = {models::to_in_beats(std::vector<std::int64_t>(16, 9), ids, 16), 16};
  const auto pipelined = engine_for(16, 4096, TopkMicroarch::kPipelined)->run_jobs(jobs);
  EXPECT_EQ(pipelined[0].cycles, 40);
  EXPECT_EQ(pipelined[1].first_in_cycle - pipelined[0].first_in_cycle, 40);
  EXPECT_EQ(pipelined[1].cycles, 10);
  const auto overlapped = engine_for(16, 4096, TopkMicroarch::kOverlapped)->run_jobs(jobs);
  EXPECT_EQ(overlapped[0].cycles, 40);
  EXPECT_EQ(overlapped[1].first_in_cycle - overlapped[0].first_in_cycle, 20);
  EXPECT_EQ(overlapped[1].cycles, 25);
  EXPECT_EQ(overlapped[0].out, pipelined[0].out);
  EXPECT_EQ(overlapped[1].out, pipelined[1].out);
  EXPECT_EQ(overlapped[1].perf.writes, 16);  // its own load only, not job 1's
}

TEST(TopkRtl, BatchesBackToBackWithBackpressure) {
  // Jobs run back to back (run_jobs): the overlapped build loads the next job while the
  // previous one's output streams, and every job's cycles equal models::TopkJobScheduler's
  // prediction from its first beat, input gaps and output stalls; one-job-at-a-time builds too.
  for (int lanes : {16, 5}) {
    for (TopkMicroarch microarch : kBoth) {
      SCOPED_TRACE(std::string(models::to_string(microarch)) + " P=" + std::to_string(lanes));
      for (const TopkBackpressure& bp :
           {TopkBackpressure{}, TopkBackpressure{0.1, 0.2, 3}, TopkBackpressure{0.3, 0.5, 4}}) {
        TopkEquivalence eq(engine_for(lanes, 600, microarch), bp);
        std::mt19937_64 rng(static_cast<std::uint64_t>(lanes) * 31 + 7);
        int failures = 0;
        std::int64_t waits = 0;
        for (int batch = 0; batch < 12 && failures < 5; ++batch) {
          std::vector<TopkVector> vectors;
          for (int j = 0; j < 24; ++j) vectors.push_back(random_topk_vector(rng, 32, 600));
          for (const TopkComparison& c : eq.check_batch(vectors)) {
            waits += c.output_wait_cycles;
            if (!c.mismatch.empty() && failures++ < 5) ADD_FAILURE() << c.mismatch;
          }
        }
        if (microarch == TopkMicroarch::kOverlapped) {
          EXPECT_GT(waits, 0);  // some output passes really queued behind the previous job's
        } else {
          EXPECT_EQ(waits, 0);
        }
      }
    }
  }
}

TEST(TopkRtl, LfsrCarriesAcrossJobsAsInTheModel) {
  // The same job twice: the pivots differ (the LFSR moved on), so the pass counts may differ, but
  // both runs equal the model's run from the carried state; equivalence over a sequence checks it.
  for (TopkMicroarch microarch : kBoth) {
    TopkEquivalence eq(engine_for(16, 4096, microarch), TopkBackpressure{});
    std::mt19937_64 rng(5);
    const TopkVector v = make_topk_vector(rng, 32, 1000, 300, ScoreKind::kUniform);
    std::int64_t first = 0;
    bool cycles_changed = false;
    for (int i = 0; i < 20; ++i) {
      const TopkComparison c = eq.check(v);
      ASSERT_EQ(c.mismatch, "");
      if (i == 0) first = c.rtl_cycles;
      cycles_changed |= c.rtl_cycles != first;
    }
    EXPECT_TRUE(cycles_changed)
        << "identical jobs took identical cycles 20 times: is the LFSR reset?";
  }
}

TEST(TopkRtl, RejectsParametersWithoutABuild) {
  models::TopkParams p;
  p.lanes = 7;
  EXPECT_THROW(make_topk_rtl(p, "config.yaml"), common::InputError);
  p.lanes = 16;
  p.pass_finish_cycles = 2;  // a different machine than the RTL
  EXPECT_THROW(make_topk_rtl(p, "config.yaml"), common::InputError);
  p = models::TopkParams{};
  p.max_n = 8192;
  EXPECT_THROW(make_topk_rtl(p, "config.yaml"), common::InputError);
  p = models::TopkParams{};
  p.microarch = models::TopkMicroarch::kPipelined;  // its RTL has no pivot-setup cycles
  EXPECT_THROW(make_topk_rtl(p, "config.yaml"), common::InputError);
  p.pivot_setup_cycles = 0;
  EXPECT_NO_THROW(make_topk_rtl(p, "config.yaml"));
}

TEST(TopkRtl, RejectsMalformedJobs) {
  auto rtl = engine_for(16, 4096);
  std::vector<std::int64_t> scores(20, 1);
  std::vector<std::uint32_t> indices(20, 0);
  auto beats = models::to_in_beats(scores, indices, 16);
  EXPECT_THROW(rtl->run(beats, 0), std::invalid_argument);
  EXPECT_THROW(rtl->run(beats, 21), std::invalid_argument);
  beats[0].count = 3;  // a short beat before the last
  EXPECT_THROW(rtl->run(beats, 1), std::invalid_argument);
}

}  // namespace
}  // namespace attnsim::rtl
