// Head-step payload, the DRAM reduction breakdown and the analytical model, against hand
// computations.
#include "models/spatten_step.h"

#include <gtest/gtest.h>

#include "models/spatten_analytical.h"

namespace attnsim::models {
namespace {

HeadStepShape step(int head, int tokens, int keys, int values, bool requant) {
  HeadStepShape s;
  s.head = head;
  s.tokens = tokens;
  s.key_fetch = keys;
  s.value_fetch = values;
  s.key_msb_bits = 6;
  s.key_lsb_bits = 4;
  s.value_bits = 6;
  s.requant = requant;
  return s;
}

TEST(SpattenStep, PayloadIsCountTimesDimTimesBits) {
  const StepBytes b = step_payload_bytes(step(0, 100, 10, 5, true));
  EXPECT_EQ(b.q, 64 * 16 / 8);
  EXPECT_EQ(b.k_msb, 10 * 64 * 6 / 8);
  EXPECT_EQ(b.k_lsb, 10 * 64 * 4 / 8);
  EXPECT_EQ(b.v, 5 * 64 * 6 / 8);
  EXPECT_EQ(step_payload_bytes(step(0, 100, 10, 5, false)).k_lsb, 0);
  HeadStepShape reused = step(0, 100, 10, 5, true);
  reused.kv_reused = true;
  EXPECT_EQ(step_payload_bytes(reused).total(), 128);
}

TEST(SpattenStep, ReductionFactorsMultiplyToTheTotal) {
  // Heads 0 and 2 present, head 1 pruned: 3 heads in the dense baseline.
  const std::vector<HeadStepShape> steps = {step(0, 100, 50, 10, true), step(2, 100, 25, 5, false)};
  const DramReduction r = dram_reduction(steps);
  const std::int64_t dense_step = 128 + 2 * 100 * 128;  // Q + K + V at 16 bits
  EXPECT_EQ(r.dense_bytes, 3 * dense_step);
  EXPECT_EQ(r.after_head_bytes, 2 * dense_step);
  EXPECT_EQ(r.after_token_bytes, (128 + 2 * 50 * 128) + (128 + 2 * 25 * 128));
  EXPECT_EQ(r.after_local_v_bytes, (128 + 50 * 128 + 10 * 128) + (128 + 25 * 128 + 5 * 128));
  EXPECT_EQ(r.actual_bytes, (128 + 50 * 48 + 50 * 32 + 10 * 48) + (128 + 25 * 48 + 5 * 48));
  EXPECT_DOUBLE_EQ(r.head_factor(), 1.5);
  EXPECT_NEAR(r.head_factor() * r.token_factor() * r.local_v_factor() * r.quant_factor(), r.total(),
              1e-12 * r.total());
}

TEST(SpattenStep, StageCyclesAreCeilings) {
  EXPECT_EQ(qk_issue_cycles(993, 512, 64), 125);  // 8 keys per cycle
  EXPECT_EQ(qk_issue_cycles(0, 512, 64), 0);
  EXPECT_EQ(pv_issue_cycles(17, 64, 64), 17);  // 1 row per cycle
  EXPECT_EQ(softmax_pass_cycles(9, 8), 2);
}

TEST(SpattenAnalytical, AdditiveSumsEveryStageAndTheBoundIsTheBusiestStage) {
  AnalyticalParams p;  // 512/512 multipliers, 8 lanes, 512 B/cycle, latencies 11/87/4/11/40
  const HeadStepShape s = step(0, 100, 80, 16, false);
  const AnalyticalResult r = analytical_cycles({s}, p, {50});
  const std::int64_t dram = (128 + 80 * 48 + 16 * 48 + 511) / 512;  // 10 cycles
  EXPECT_EQ(r.dram_cycles, dram);
  EXPECT_EQ(r.qk_cycles, 10);
  EXPECT_EQ(r.softmax_cycles, 2 * 10);
  EXPECT_EQ(r.pv_cycles, 2);
  EXPECT_EQ(r.topk_cycles, 50);
  // Two DRAM trips, one Q x K + softmax + decision, prob x V, plus the divide pass.
  EXPECT_EQ(r.additive_cycles, dram + 10 + 20 + 10 + 2 + 50 + 2 * 40 + (11 + 87 + 4) + 11);
  EXPECT_EQ(r.bound_cycles, 50);
  EXPECT_THROW(analytical_cycles({s, s}, p, {1}), std::invalid_argument);
}

}  // namespace
}  // namespace attnsim::models
