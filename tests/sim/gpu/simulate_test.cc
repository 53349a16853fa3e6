// simulate(): a causal triangle under each scheduler, masking rules, the memory term and GQA,
// checked against hand-computed schedules.
#include "sim/gpu/simulate.h"
#include "sim/gpu/run_store.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sim/gpu/launch_order.h"
#include "sim/gpu/memory_model.h"
#include "sim/gpu/patterns/pattern.h"
#include "tests/sim/gpu/test_masks.h"

namespace attnsim::gpu {
namespace {

using testing::causal_layout;

GpuSpec small_gpu(int sms) {
  GpuSpec gpu;
  gpu.name = "test";
  gpu.sm_count = sms;
  gpu.clock_mhz = 1000;
  gpu.hbm_gb_per_s = 1e12;  // memory never binds unless a test wants it to
  gpu.l2_mib = 50;
  gpu.peak_dense_bf16_tflops = 100;
  return gpu;
}

KernelSpec kernel_with(const std::string& scheduler) {
  KernelSpec kernel;
  kernel.name = "test";
  kernel.scheduler = scheduler;
  return kernel;
}

// A cost model whose masked tiles (of `kernel`, no mask rule) cost `masked_us`.
CostParams cost_with(double full_us, double masked_us, double cta_us, double launch_us,
                     const KernelSpec& kernel = KernelSpec{}) {
  CostParams cost;
  cost.tile_full_us = full_us;
  cost.cta_us = cta_us;
  cost.launch_us = launch_us;
  const double elements = static_cast<double>(kernel.tile_q * kernel.tile_kv);
  cost.mask_op_us = (masked_us - full_us) / (elements * mask_rule_ops(std::nullopt));
  return cost;
}

CostParams unit_cost() { return cost_with(1.0, 1.0, 0.0, 0.0); }

// Causal 8x8 blocks on 4 slots, item i costs i + 1 tiles.
TEST(Simulate, CausalTriangleOnTheNonPersistentGrid) {
  const Workload causal{"causal", causal_layout(8)};
  const Result r = simulate(causal, small_gpu(4), kernel_with("non_persistent"), unit_cost());
  // Slots start items 1..4 at t=0; items 5..8 go to slots 0..3 at t=1..4 and end at 6..12.
  EXPECT_DOUBLE_EQ(r.makespan_us, 12.0);
  EXPECT_DOUBLE_EQ(r.predicted_ms, 12.0 / 1e3);
  EXPECT_DOUBLE_EQ(r.predicted_dense_ms, 16.0 / 1e3);  // 2 waves of 8 tiles
  // The bound's sparse side is the best any dispatch could do: 36 tiles / 4 slots.
  EXPECT_DOUBLE_EQ(r.speedup_bound_sched, 16.0 / 9.0);
  EXPECT_DOUBLE_EQ(r.waves, 2.0);
  EXPECT_DOUBLE_EQ(r.wave_efficiency, 36.0 / (4 * 12.0));
  EXPECT_DOUBLE_EQ(r.tail_fraction, (12.0 - 6.0) / 12.0);
  EXPECT_EQ(r.tiles_full, 28);
  EXPECT_EQ(r.tiles_partial, 8);
  EXPECT_EQ(r.tiles_empty_visited, 0);
  EXPECT_EQ(r.tiles_dense, 64);
  EXPECT_DOUBLE_EQ(r.speedup_bound_tiles, 64.0 / 36.0);
  EXPECT_DOUBLE_EQ(r.density_tiles, 36.0 / 64.0);
  EXPECT_FALSE(r.density_tokens_exact);
}

// Causal at seq 3000 (24 Q tiles of 128, the last cut at 3000): the lists mark every block of
// the last Q row PARTIAL. A kernel that runs tiles its rule covers unmasked counts that row's 23
// blocks below the diagonal FULL; the diagonal tiles (24, the last also cut by seq_kv) stay
// PARTIAL. By hand: rows 0..22 hold 0 + 1 + ... + 22 = 253 FULL tiles.
TEST(Simulate, KernelsThatSkipCoveredTilesRunTheCutLastRowUnmasked) {
  const Workload causal{"causal", generate_pattern(make_pattern_spec(
                                      "causal", {{"seq", "3000"}, {"batch", "2"}}, "test"))};
  ASSERT_EQ(causal.mask.q_cut_rule_full.size(), 2u * 24u);
  KernelSpec masks_all = kernel_with("non_persistent");
  KernelSpec skips = masks_all;
  skips.unmasked_covered_rules = {"band", "causal"};
  const Result all = simulate(causal, small_gpu(4), masks_all, unit_cost());
  const Result skipped = simulate(causal, small_gpu(4), skips, unit_cost());
  EXPECT_EQ(all.tiles_full, 2 * 253);
  EXPECT_EQ(all.tiles_partial, 2 * (24 + 23));
  EXPECT_EQ(skipped.tiles_full, 2 * (253 + 23));
  EXPECT_EQ(skipped.tiles_partial, 2 * 24);
  // Another rule listed, not this one: nothing changes.
  skips.unmasked_covered_rules = {"band"};
  EXPECT_EQ(simulate(causal, small_gpu(4), skips, unit_cost()).tiles_partial, 2 * (24 + 23));
}

TEST(Simulate, WorstQBoundIsSetByTheLongestQTile) {
  // NATTENSim's bound: dense KV tiles per Q tile (8) over the most any Q tile visits. A causal
  // triangle has a full last row: no bound at all, though half the tiles are skipped on average.
  const Result causal = simulate({"causal", testing::causal_layout(8)}, small_gpu(4),
                                 kernel_with("non_persistent"), unit_cost());
  EXPECT_DOUBLE_EQ(causal.speedup_bound_worst_q, 1.0);
  EXPECT_DOUBLE_EQ(causal.speedup_bound_tiles, 64.0 / 36.0);
  // Two heads: a band visiting at most 3 tiles (8 / 3), and one row of 5 in the second head
  // (range-driven: the gap inside the row is visited too).
  const std::vector<std::string> band = {"Fp......", "pFp.....", ".pFp....", "..pFp...",
                                         "...pFp..", "....pFp.", ".....pFp", "......pF"};
  BlockLayout two = testing::layout_from_rows(band, 2);
  // Re-build with head 1's row 0 widened: F...F (kv 0 and 4).
  std::vector<std::string> rows = band;
  rows[0] = "F...p...";
  BlockLayout h0 = testing::layout_from_rows(band);
  BlockLayout h1 = testing::layout_from_rows(rows);
  BlockLayoutBuilder builder(two.geometry);
  for (const BlockLayout* head : {&h0, &h1}) {
    for (std::int64_t row = 0; row < 8; ++row) {
      for (std::int64_t e = head->row_begin[row]; e < head->row_begin[row + 1]; ++e) {
        builder.add(head->kv_block[e], head->is_full[e] ? BlockClass::kFull : BlockClass::kPartial);
      }
      builder.end_row();
    }
  }
  KernelSpec range = kernel_with("non_persistent");
  range.visit_rule = VisitRule::kRangeDriven;
  const Result r = simulate({"band", builder.finish()}, small_gpu(4), range, unit_cost());
  ASSERT_EQ(r.speedup_bound_worst_q_per_head.size(), 2u);
  EXPECT_DOUBLE_EQ(r.speedup_bound_worst_q_per_head[0], 8.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.speedup_bound_worst_q_per_head[1], 8.0 / 5.0);
  EXPECT_DOUBLE_EQ(r.speedup_bound_worst_q, 8.0 / 5.0);
  EXPECT_LE(r.speedup_bound_worst_q, r.speedup_bound_tiles);
}

TEST(Simulate, BaselineKernelTimesTheDenseRunWithItsOwnCostModel) {
  const Workload causal{"causal", causal_layout(8)};
  const KernelSpec kernel = kernel_with("non_persistent");
  // A baseline whose tiles cost 3 us and launch 5 us: 2 waves of 8 tiles = 48 + 5 us, while the
  // sparse run, its bounds and the kernel's own dense run are untouched.
  const Baseline slow{kernel_with("non_persistent"), cost_with(3.0, 3.0, 0.0, 5.0)};
  const Result own = simulate(causal, small_gpu(4), kernel, unit_cost());
  const Result r = simulate(causal, small_gpu(4), kernel, unit_cost(), {false, &slow});
  EXPECT_DOUBLE_EQ(r.predicted_dense_ms, (2 * 8 * 3.0 + 5.0) / 1e3);
  EXPECT_DOUBLE_EQ(r.predicted_ms, own.predicted_ms);
  EXPECT_DOUBLE_EQ(r.speedup_bound_sched, own.speedup_bound_sched);
  EXPECT_DOUBLE_EQ(r.predicted_speedup, r.predicted_dense_ms / r.predicted_ms);
  EXPECT_EQ(r.baseline_kernel, "test");
}

// A kernel that runs into the GPU's power limit under full load (the dense launch at the capped
// clock) may run a sparse launch at the maximum clock: the bound grows by the headroom listed for
// its head dim, and only for that one; the timed prediction does not change.
TEST(Simulate, ClockHeadroomOfTheKernelsHeadDimRaisesTheScheduleBound) {
  const Workload causal{"causal", causal_layout(8)};
  KernelSpec capped = kernel_with("non_persistent");
  capped.clock_headroom = {{64, 1.5}, {128, 1.25}};
  const Result r = simulate(causal, small_gpu(4), capped, unit_cost());
  EXPECT_DOUBLE_EQ(r.speedup_bound_sched, 16.0 / 9.0 * 1.25);  // head_dim 128
  EXPECT_DOUBLE_EQ(r.makespan_us, 12.0);
  EXPECT_DOUBLE_EQ(r.predicted_dense_ms, 16.0 / 1e3);
  capped.head_dim = 96;  // none listed
  EXPECT_DOUBLE_EQ(simulate(causal, small_gpu(4), capped, unit_cost()).speedup_bound_sched,
                   16.0 / 9.0);
}

TEST(Simulate, CausalTriangleUnderStaticRoundRobin) {
  const Workload causal{"causal", causal_layout(8)};
  const Result r = simulate(causal, small_gpu(4), kernel_with("static_persistent"), unit_cost());
  // Worker w runs items w and w + 4: (w + 1) + (w + 5), worst for w = 3.
  EXPECT_DOUBLE_EQ(r.makespan_us, 12.0);
  EXPECT_DOUBLE_EQ(r.tail_fraction, (12.0 - 6.0) / 12.0);
}

TEST(Simulate, CausalTriangleLongestFirstIsPerfectlyBalanced) {
  const Workload causal{"causal", causal_layout(8)};
  const Result r =
      simulate(causal, small_gpu(4), kernel_with("dynamic_longest_first"), unit_cost());
  // 8,7,6,5 then 4,3,2,1 fill each slot to 9 = 36 / 4.
  EXPECT_DOUBLE_EQ(r.makespan_us, 9.0);
  EXPECT_DOUBLE_EQ(r.speedup_bound_sched, 16.0 / 9.0);
  EXPECT_DOUBLE_EQ(r.wave_efficiency, 1.0);
  EXPECT_DOUBLE_EQ(r.tail_fraction, 0.0);
}

TEST(Simulate, ReversedLaunchOrderIsLongestFirstOnTheGrid) {
  KernelSpec kernel = kernel_with("non_persistent");
  kernel.launch_order.reverse_q = true;
  const Result r = simulate({"causal", causal_layout(8)}, small_gpu(4), kernel, unit_cost());
  EXPECT_DOUBLE_EQ(r.makespan_us, 9.0);
}

TEST(LaunchOrder, LongestFirstQSortsEachHeadsTilesStably) {
  LaunchOrder order = *parse_launch_order("q,h,b", false);
  order.longest_first_q = true;
  // One batch, two heads of three Q tiles; visited tiles by item.
  const std::vector<std::int64_t> visited = {1, 3, 2, 2, 2, 5};
  const auto key = [&](std::int64_t item) { return static_cast<double>(visited[item]); };
  EXPECT_EQ(launch_sequence(1, 2, 3, order, key), (std::vector<std::int64_t>{1, 2, 0, 5, 3, 4}));
  // Without counts (equal items) the grid order stays.
  EXPECT_EQ(launch_sequence(1, 2, 3, order), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}));
}

TEST(Simulate, LongestFirstQFeedsTheStaticRoundRobin) {
  // One head whose Q tiles visit 1, 4, 2 and 3 tiles; two workers.
  const Workload rows{"rows", testing::layout_from_rows({"F...", "FFFF", "FF..", "FFF."})};
  KernelSpec kernel = kernel_with("static_persistent");
  kernel.launch_order = *parse_launch_order("q,h,b", false);
  // Grid order: worker 0 runs q0 and q2 (1 + 2), worker 1 q1 and q3 (4 + 3).
  EXPECT_DOUBLE_EQ(simulate(rows, small_gpu(2), kernel, unit_cost()).makespan_us, 7.0);
  // Longest first (q1, q3, q2, q0): worker 0 runs 4 + 2, worker 1 3 + 1.
  kernel.launch_order.longest_first_q = true;
  SimulationOptions options;
  options.record_timeline = true;
  const Result r = simulate(rows, small_gpu(2), kernel, unit_cost(), options);
  EXPECT_DOUBLE_EQ(r.makespan_us, 6.0);
  ASSERT_EQ(r.timeline.size(), 4u);
  std::vector<std::int64_t> q_order;
  for (const auto& placed : r.timeline) q_order.push_back(placed.q_tile);
  EXPECT_EQ(q_order, (std::vector<std::int64_t>{1, 3, 2, 0}));
  // The bound is the same schedule on speed-of-light work: 6 tiles against the dense 8.
  EXPECT_DOUBLE_EQ(r.speedup_bound_sched, 8.0 / 6.0);
  // A non-persistent kernel with that order is timed in it too (not streamed in grid order).
  kernel.scheduler = "non_persistent";
  EXPECT_DOUBLE_EQ(simulate(rows, small_gpu(2), kernel, unit_cost()).makespan_us, 5.0);
}

TEST(Simulate, MaskingRulesPriceTilesAsDocumented) {
  const Workload causal{"causal", causal_layout(4)};
  const CostParams cost = cost_with(1.0, 3.0, 0.5, 10.0);
  KernelSpec kernel = kernel_with("non_persistent");
  const GpuSpec gpu = small_gpu(8);  // every item runs at once: makespan = longest item
  // Per tile: the last row has 3 full tiles and 1 partial.
  EXPECT_DOUBLE_EQ(simulate(causal, gpu, kernel, cost).makespan_us, 0.5 + 3 * 1.0 + 3.0);
  kernel.masking_rule = MaskingRule::kAlwaysMask;
  EXPECT_DOUBLE_EQ(simulate(causal, gpu, kernel, cost).makespan_us, 0.5 + 4 * 3.0);
  // Global fast path: a causal mask has partial tiles, so every tile is masked ...
  kernel.masking_rule = MaskingRule::kGlobalFastPath;
  EXPECT_DOUBLE_EQ(simulate(causal, gpu, kernel, cost).makespan_us, 0.5 + 4 * 3.0);
  // ... while a block-aligned mask of full blocks takes the fast path everywhere.
  const Workload blocky{"blocky", testing::layout_from_rows({"FF..", "..FF", "FF..", "..FF"})};
  const Result r = simulate(blocky, gpu, kernel, cost);
  EXPECT_DOUBLE_EQ(r.makespan_us, 0.5 + 2 * 1.0);
  EXPECT_DOUBLE_EQ(r.predicted_ms, (10.0 + 2.5) / 1e3);
  EXPECT_DOUBLE_EQ(r.predicted_dense_ms, (10.0 + 0.5 + 4.0) / 1e3);
}

TEST(Simulate, BackToBackLaunchesNeverBeatTheHostFloor) {
  const Workload causal{"causal", causal_layout(4)};
  CostParams cost = cost_with(1.0, 3.0, 0.5, 10.0);
  const KernelSpec kernel = kernel_with("non_persistent");
  const GpuSpec gpu = small_gpu(8);
  // Device time: launch 10 + the longest item 0.5 + 3 x 1 + 3 = 16.5 us.
  cost.host_floor_us = 16.0;
  Result r = simulate(causal, gpu, kernel, cost);
  EXPECT_DOUBLE_EQ(r.predicted_ms, 16.5 / 1e3);
  EXPECT_FALSE(r.host_bound);
  cost.host_floor_us = 40.0;
  r = simulate(causal, gpu, kernel, cost);
  EXPECT_DOUBLE_EQ(r.predicted_ms, 40.0 / 1e3);
  EXPECT_TRUE(r.host_bound);
  EXPECT_DOUBLE_EQ(r.predicted_dense_ms, 40.0 / 1e3);  // the dense launch is short too
}

TEST(Simulate, AMaskedTileCostsAFullOnePlusItsRulePerElement) {
  KernelSpec kernel = kernel_with("non_persistent");
  kernel.tile_q = 128;
  kernel.tile_kv = 64;
  CostParams cost;
  cost.tile_full_us = 1.0;
  cost.mask_op_us = 1e-5;
  // 8192 elements x (1.6 masked-path ops + the rule's measured ops) x 1e-5 us (mask_rules.md).
  EXPECT_NEAR(cost.masked_tile_us(kernel, MaskRule{"causal", {}}), 1.0 + 8192 * 1.6 * 1e-5, 1e-12);
  // Neighborhoods: 3-D 9.8 ops, +4.2 per dilated dimension, +1.6 per extent (or dilation) that
  // is not a power of two; 1-D 0.8.
  EXPECT_NEAR(cost.masked_tile_us(kernel, MaskRule{"gna", {{"dims", "16x16x16"}}}),
              1.0 + 8192 * (1.6 + 9.8) * 1e-5, 1e-12);
  EXPECT_NEAR(
      cost.masked_tile_us(kernel, MaskRule{"gna", {{"dims", "12x16x16"}, {"dilation", "1x2x2"}}}),
      1.0 + 8192 * (1.6 + 9.8 + 2 * 4.2 + 1.6) * 1e-5, 1e-12);
  EXPECT_NEAR(cost.masked_tile_us(kernel, MaskRule{"sliding_window", {{"dilation", "2"}}}),
              1.0 + 8192 * (1.6 + 0.8 + 4.2) * 1e-5, 1e-12);
  EXPECT_NEAR(cost.masked_tile_us(kernel, MaskRule{"sliding_window", {{"dilation", "3"}}}),
              1.0 + 8192 * (1.6 + 0.8 + 4.2 + 1.6) * 1e-5, 1e-12);
  // A kernel with its own neighborhood op counts (KernelSpec::neighborhood_ops) uses them:
  // 3-D base 6, +3 per dilated dimension, +0.5 per non-power-of-two dilation or extent.
  KernelSpec own = kernel;
  own.neighborhood_ops = {{0.0, 2.0, 6.0}, 3.0, 0.5, 0.5};
  EXPECT_NEAR(
      cost.masked_tile_us(own, MaskRule{"gna", {{"dims", "12x16x16"}, {"dilation", "1x2x2"}}}),
      1.0 + 8192 * (1.6 + 6.0 + 2 * 3.0 + 0.5) * 1e-5, 1e-12);
  EXPECT_NEAR(cost.masked_tile_us(own, MaskRule{"sliding_window", {{"dilation", "3"}}}),
              1.0 + 8192 * (1.6 + 0.0 + 3.0 + 0.5) * 1e-5, 1e-12);
  EXPECT_NEAR(cost.masked_tile_us(own, MaskRule{"band", {}}),
              cost.masked_tile_us(kernel, MaskRule{"band", {}}), 1e-12);  // other rules as before
  // A rule calibrated from a run of its own has its own cost per operation.
  cost.rule_op_us["causal"] = 7e-5;
  EXPECT_NEAR(cost.masked_tile_us(kernel, MaskRule{"causal", {}}), 1.0 + 8192 * 1.6 * 7e-5, 1e-12);
  // A kernel that precomputes rule values tests every rule with the same few operations.
  kernel.mask_evaluation = MaskEvaluation::kPrecomputed;
  EXPECT_NEAR(cost.masked_tile_us(kernel, MaskRule{"gna", {{"dims", "16x16x16"}}}),
              cost.masked_tile_us(kernel, MaskRule{"band", {}}), 1e-12);
  // ... plus, for a neighborhood, its key words' staging per grid dimension (5 + 1.2 x 3 for a
  // 3-D grid, dilated or not), and an undilated 1-D one's interval test where the kernel has it.
  kernel.precomputed_neighborhood = {1.2, 3.0};
  EXPECT_NEAR(cost.masked_tile_us(kernel, MaskRule{"gna", {{"dims", "16x16x16"}}}),
              1.0 + 8192 * (5 + 3 * 1.2) * 1e-5, 1e-12);
  EXPECT_NEAR(
      cost.masked_tile_us(kernel, MaskRule{"gna", {{"dims", "12x16x16"}, {"dilation", "1x2x2"}}}),
      1.0 + 8192 * (5 + 3 * 1.2) * 1e-5, 1e-12);
  EXPECT_NEAR(cost.masked_tile_us(kernel, MaskRule{"gna", {{"dims", "64x64"}, {"stride", "4"}}}),
              1.0 + 8192 * (5 + 2 * 1.2) * 1e-5, 1e-12);
  EXPECT_NEAR(cost.masked_tile_us(kernel, MaskRule{"sliding_window", {{"dilation", "2"}}}),
              1.0 + 8192 * (5 + 1.2) * 1e-5, 1e-12);
  EXPECT_NEAR(cost.masked_tile_us(kernel, MaskRule{"sliding_window", {{"window", "9"}}}),
              1.0 + 8192 * 3.0 * 1e-5, 1e-12);
  EXPECT_NEAR(cost.masked_tile_us(kernel, MaskRule{"gna", {{"dims", "4096"}}}),
              1.0 + 8192 * 3.0 * 1e-5, 1e-12);
  EXPECT_NEAR(cost.masked_tile_us(kernel, MaskRule{"band", {}}), 1.0 + 8192 * 5 * 1e-5, 1e-12);
  kernel.precomputed_neighborhood.interval_1d_ops.reset();  // no interval test: the word path
  EXPECT_NEAR(cost.masked_tile_us(kernel, MaskRule{"sliding_window", {{"window", "9"}}}),
              1.0 + 8192 * (5 + 1.2) * 1e-5, 1e-12);
  kernel.precomputed_neighborhood = {};
  kernel.mask_evaluation = MaskEvaluation::kExpression;
  // The mask's work does not grow with the head dim.
  kernel.head_dim = 64;
  EXPECT_NEAR(cost.masked_tile_us(kernel, MaskRule{"band", {}}), 1.0 + 8192 * 2.0 * 1e-5, 1e-12);
}

TEST(Simulate, TheUnalignedVariantScalesTheMaskWorkExceptAllows) {
  KernelSpec kernel = kernel_with("non_persistent");
  kernel.tile_q = 128;
  kernel.tile_kv = 64;
  kernel.unaligned_variant = true;
  kernel.unaligned_mask_factor = 2.0;
  CostParams cost;
  cost.tile_full_us = 1.0;
  cost.mask_op_us = 1e-5;
  cost.unaligned_tile_us = 0.25;
  const MaskRule band{"band", {}};
  const double band_work = 8192 * 2.0 * 1e-5;
  MaskGeometry aligned;
  aligned.seq_q = aligned.seq_kv = 4096;
  MaskGeometry unaligned = aligned;
  unaligned.seq_q = unaligned.seq_kv = 4000;
  CostParams::TileTimes t = cost.tile_times(kernel, aligned, band);
  EXPECT_DOUBLE_EQ(t.full_us, 1.0);
  EXPECT_NEAR(t.masked_us, 1.0 + band_work, 1e-12);
  t = cost.tile_times(kernel, unaligned, band);
  EXPECT_DOUBLE_EQ(t.full_us, 1.25);
  EXPECT_NEAR(t.masked_us, 1.25 + 2.0 * band_work, 1e-12);
  // `allow`'s compare folds into the bounds check (measured): no mask work beyond the variant.
  t = cost.tile_times(kernel, unaligned, MaskRule{"allow", {}});
  EXPECT_DOUBLE_EQ(t.masked_us, 1.25);
  t = cost.tile_times(kernel, aligned, MaskRule{"allow", {}});
  EXPECT_NEAR(t.masked_us, 1.0 + 8192 * 1.6 * 1e-5, 1e-12);
}

TEST(Simulate, UnalignedWeightsFollowTheLargestMultipleDividingBothLengths) {
  KernelSpec kernel = kernel_with("non_persistent");
  kernel.tile_q = kernel.tile_kv = 128;
  kernel.unaligned_variant = true;
  kernel.unaligned_mask_factor = 2.0;
  kernel.unaligned_weights = {{32, 0.5}, {64, 0.25}};
  CostParams cost;
  cost.tile_full_us = 1.0;
  cost.mask_op_us = 1e-5;
  cost.unaligned_tile_us = 0.4;
  const auto geometry = [](std::int64_t q, std::int64_t kv) {
    MaskGeometry g;
    g.seq_q = q;
    g.seq_kv = kv;
    return g;
  };
  EXPECT_DOUBLE_EQ(unaligned_weight(kernel, geometry(8192, 8192)), 0.0);    // aligned
  EXPECT_DOUBLE_EQ(unaligned_weight(kernel, geometry(8000, 8000)), 0.25);   // 64 | 8000
  EXPECT_DOUBLE_EQ(unaligned_weight(kernel, geometry(12000, 12000)), 0.5);  // 32 | 12000
  EXPECT_DOUBLE_EQ(unaligned_weight(kernel, geometry(8000, 12000)), 0.5);   // both: 32
  EXPECT_DOUBLE_EQ(unaligned_weight(kernel, geometry(10000, 10000)), 1.0);  // 16 only
  EXPECT_DOUBLE_EQ(unaligned_weight(kernel, geometry(8192, 8001)), 1.0);
  // Both unaligned terms scale: 1 + 0.4 x 0.25 per tile; mask work x (1 + (2 - 1) x 0.25).
  const MaskRule band{"band", {}};
  const double band_work = 128 * 128 * 2.0 * 1e-5;
  const CostParams::TileTimes t = cost.tile_times(kernel, geometry(8000, 8000), band);
  EXPECT_DOUBLE_EQ(t.full_us, 1.1);
  EXPECT_NEAR(t.masked_us, 1.1 + 1.25 * band_work, 1e-12);
}

TEST(Simulate, DenseBaselineUsesTheKernelsDenseConfiguration) {
  KernelSpec kernel = kernel_with("dynamic_longest_first");
  kernel.dense_tile_kv = 256;
  kernel.dense_scheduler = "static_persistent";
  const Result r = simulate({"causal", causal_layout(8)}, small_gpu(4), kernel, unit_cost());
  // Dense: 8 items of 4 tiles (256 wide) round-robin on 4 slots: 2 x 4 = 8 tile-times; the
  // speed-of-light bound weighs tiles by area, so the dense side is 8 x 2 = 16 unit tiles.
  EXPECT_DOUBLE_EQ(r.predicted_dense_ms, 8.0 / 1e3);
  EXPECT_DOUBLE_EQ(r.speedup_bound_sched, 16.0 / 9.0);
}

TEST(Simulate, TimelineListsEveryItemInLaunchOrder) {
  const Result r = simulate({"causal", causal_layout(8, 2)}, small_gpu(4),
                            kernel_with("non_persistent"), unit_cost(), {true});
  ASSERT_EQ(r.timeline.size(), 16u);
  EXPECT_EQ(r.timeline[9].head, 1);
  EXPECT_EQ(r.timeline[9].q_tile, 1);
  EXPECT_EQ(r.timeline[9].tiles.visited(), 2);
  for (const TimelineEntry& e : r.timeline) {
    EXPECT_DOUBLE_EQ(e.end_us - e.start_us, static_cast<double>(e.tiles.visited()));
    EXPECT_EQ(e.sm, e.slot);
  }
}

TEST(Simulate, BoundsWithoutTimingAreTheSameBoundsAndNoTiming) {
  // A ragged causal mask (unaligned lengths cut tiles) on FlexAttention-like 128 x 64 tiles, and
  // a range-driven kernel: `tilesim bounds` skips the timed launch and must not change a bound.
  BlockLayout ragged = causal_layout(9, 3);
  ragged.geometry.seq_q = 9 * 128 - 37;
  ragged.geometry.seq_kv = 9 * 128 - 37;
  for (const char* visit : {"list", "range"}) {
    KernelSpec kernel = kernel_with("non_persistent");
    kernel.tile_kv = 64;
    kernel.visit_rule =
        std::string(visit) == "list" ? VisitRule::kListDriven : VisitRule::kRangeDriven;
    const Result full = simulate({"ragged", ragged}, small_gpu(4), kernel, unit_cost());
    const Result bounds =
        simulate({"ragged", ragged}, small_gpu(4), kernel, unit_cost(), {false, nullptr, false});
    EXPECT_EQ(bounds.tiles_full, full.tiles_full) << visit;
    EXPECT_EQ(bounds.tiles_partial, full.tiles_partial) << visit;
    EXPECT_EQ(bounds.tiles_empty_visited, full.tiles_empty_visited) << visit;
    EXPECT_EQ(bounds.speedup_bound_tiles, full.speedup_bound_tiles) << visit;
    EXPECT_EQ(bounds.speedup_bound_sched, full.speedup_bound_sched) << visit;
    EXPECT_EQ(bounds.speedup_bound_worst_q, full.speedup_bound_worst_q) << visit;
    EXPECT_EQ(bounds.waves, full.waves) << visit;
    EXPECT_GT(full.predicted_ms, 0) << visit;
    EXPECT_EQ(bounds.predicted_ms, 0) << visit;
    EXPECT_EQ(bounds.hbm_bytes, 0) << visit;
  }
  // The default 128 x 128 tiles: causal row i visits i + 1 tiles, in each of 3 heads.
  const Result r = simulate({"ragged", ragged}, small_gpu(4), kernel_with("non_persistent"),
                            unit_cost(), {false, nullptr, false});
  EXPECT_EQ(r.tiles_full + r.tiles_partial, 3 * 9 * 10 / 2);
}

TEST(MemoryModel, LaunchOrderSchedulesGroupWavesAsTheItemOrderedOnes) {
  // Items launched head-interleaved (0, 4, 1, 5, ...) on 4 slots: waves are formed by start
  // time, so wave 0 holds items 0, 4, 1, 5 (two heads, two Q tiles each) whether the schedule
  // is given in launch order with its sequence or re-indexed by item.
  const BlockLayout dense = dense_layout({1, 2, 512, 512, 128, 128});
  const KernelSpec kernel = kernel_with("non_persistent");
  const GpuSpec gpu = small_gpu(4);
  TileClassifier classifier(dense, 128, 128, VisitRule::kListDriven);
  std::vector<std::vector<TileRun>> runs(8);
  for (std::int64_t item = 0; item < 8; ++item) classifier.visit(item, runs[item]);
  const RunsFunction runs_of = [&](std::int64_t item) {
    return std::pair<const TileRun*, const TileRun*>(runs[item].data(),
                                                     runs[item].data() + runs[item].size());
  };
  const std::vector<std::int64_t> sequence{0, 4, 1, 5, 2, 6, 3, 7};
  const Schedule launch_order =
      make_scheduler("non_persistent")->run(std::vector<double>(8, 1.0), 4);
  Schedule item_order = launch_order;
  for (std::size_t pos = 0; pos < sequence.size(); ++pos) {
    item_order.placements[sequence[pos]] = launch_order.placements[pos];
  }
  const double kv_tile_bytes = 2.0 * 128 * 128 * 2;
  const double qo_bytes = 2.0 * 2 * 512 * 128 * 2;
  // Each wave: two heads' 4 K/V tiles each.
  const double expected = 16 * kv_tile_bytes + qo_bytes;
  EXPECT_DOUBLE_EQ(estimate_memory(item_order, runs_of, 2, 4, 4, 512, 4, kernel, gpu).hbm_bytes,
                   expected);
  EXPECT_DOUBLE_EQ(
      estimate_memory(launch_order.placements, sequence, runs_of, 2, 4, 4, 512, 4, kernel, gpu)
          .hbm_bytes,
      expected);
}

TEST(MemoryModel, WavesShareKvTilesThroughL2) {
  const BlockLayout dense = dense_layout({1, 2, 512, 512, 128, 128});
  KernelSpec kernel = kernel_with("non_persistent");
  const GpuSpec gpu = small_gpu(4);
  TileClassifier classifier(dense, 128, 128, VisitRule::kListDriven);
  const VisitFunction visit = [&](std::int64_t item, std::vector<TileRun>& out) {
    classifier.visit(item, out);
  };
  const double kv_tile_bytes = 2.0 * 128 * 128 * 2;
  const double qo_bytes = 2.0 * 2 * 512 * 128 * 2;
  // 8 items (2 heads x 4 Q tiles) on 4 slots: wave 0 is head 0, wave 1 head 1; 4 tiles each.
  Schedule two_waves = make_scheduler("non_persistent")->run(std::vector<double>(8, 1.0), 4);
  EXPECT_DOUBLE_EQ(estimate_memory(two_waves, visit, 2, 4, 4, 512, 4, kernel, gpu).hbm_bytes,
                   8 * kv_tile_bytes + qo_bytes);
  // One slot: every item is its own wave and reads its whole K/V row.
  Schedule serial = make_scheduler("non_persistent")->run(std::vector<double>(8, 1.0), 1);
  EXPECT_DOUBLE_EQ(estimate_memory(serial, visit, 2, 4, 4, 512, 1, kernel, gpu).hbm_bytes,
                   32 * kv_tile_bytes + qo_bytes);
  // GQA: both heads read one kv head; 8 slots make one wave that reads it once.
  kernel.q_heads_per_kv_head = 2;
  Schedule one_wave = make_scheduler("non_persistent")->run(std::vector<double>(8, 1.0), 8);
  const MemoryTraffic gqa = estimate_memory(one_wave, visit, 2, 4, 4, 512, 8, kernel, gpu);
  EXPECT_DOUBLE_EQ(gqa.hbm_bytes, 4 * kv_tile_bytes + qo_bytes);
  EXPECT_DOUBLE_EQ(gqa.hbm_us, gqa.hbm_bytes / (gpu.hbm_gb_per_s * 1e3));
}

TEST(Simulate, AStreamedLaunchEqualsItsScheduleReplayed) {
  // A non-persistent launch is timed as a stream, keeping nothing per item. Replay its timeline
  // through the stored-schedule functions: the memory model over the re-indexed schedule
  // (which sorts by start itself), the schedule's statistics and the critical slot's sums must
  // equal what the stream reported. Head-interleaved launch order, GQA, unequal items with many
  // equal starts (ties broken by item index), random heads, a ragged length, list and range
  // visits.
  MaskGeometry g;
  g.heads = 4;
  g.seq_q = g.seq_kv = 12 * 128 - 50;
  std::vector<std::uint8_t> classes(g.rows() * g.kv_blocks());
  std::uint64_t state = 7;
  for (std::uint8_t& c : classes) {  // heads differ; rows visit 0-12 blocks, so lengths repeat
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<std::uint8_t>((state >> 33) % 3);
  }
  const BlockLayout mask = layout_from_dense_classes(g, classes);
  for (const VisitRule visit : {VisitRule::kListDriven, VisitRule::kRangeDriven}) {
    KernelSpec kernel = kernel_with("non_persistent");
    kernel.launch_order = *parse_launch_order("h,q,b", false);
    kernel.q_heads_per_kv_head = 2;
    kernel.tile_kv = 64;
    kernel.visit_rule = visit;
    const GpuSpec gpu = small_gpu(5);
    // Unit tiles: items of equal length end together on several slots, so the next items start
    // together in groups that straddle the waves of 5 (and hand-over order decides the waves).
    const Result r = simulate({"causal", mask}, gpu, kernel, unit_cost(), {true});
    ASSERT_EQ(r.timeline.size(), 48u);
    TileClassifier classifier(mask, kernel.tile_q, kernel.tile_kv, kernel.visit_rule);
    Schedule by_item;
    by_item.placements.resize(48);
    by_item.slot_finish.assign(5, 0.0);
    std::vector<double> work;
    for (const TimelineEntry& e : r.timeline) {
      const std::int64_t item = (e.batch * 4 + e.head) * classifier.q_tiles() + e.q_tile;
      by_item.placements[item] = {e.slot, e.start_us, e.end_us};
      by_item.slot_finish[e.slot] = e.end_us;
      work.push_back(e.end_us - e.start_us);
    }
    const VisitFunction visit_of = [&](std::int64_t item, std::vector<TileRun>& out) {
      classifier.visit(item, out);
    };
    const MemoryTraffic memory =
        estimate_memory(by_item, visit_of, 4, classifier.q_tiles(), classifier.kv_tiles(),
                        mask.geometry.seq_q, 5, kernel, gpu);
    EXPECT_EQ(r.hbm_bytes, memory.hbm_bytes);
    EXPECT_EQ(r.makespan_us, by_item.makespan());
    EXPECT_EQ(r.wave_efficiency, schedule_stats(by_item, work).wave_efficiency);
    // Starts never decrease in launch order (the stream hands items to the memory model by it).
    for (std::size_t pos = 1; pos < r.timeline.size(); ++pos) {
      EXPECT_LE(r.timeline[pos - 1].start_us, r.timeline[pos].start_us);
    }
    double critical_items = 0;
    const auto critical = std::max_element(by_item.slot_finish.begin(), by_item.slot_finish.end()) -
                          by_item.slot_finish.begin();
    for (const TimelineEntry& e : r.timeline) critical_items += e.slot == critical ? 1 : 0;
    EXPECT_EQ(r.critical_items, critical_items);
  }
}

TEST(Simulate, AStreamedDenseBaselineEqualsTheStoredOne) {
  // Equal dense items: longest-first keeps their launch order, so its stored schedule is the
  // non-persistent grid's, and the streamed launch (dealt round robin without the heap) must give
  // the same double. Several waves with a partial last one, GQA, a cut kv tile.
  BlockLayout mask = causal_layout(12, 6);
  mask.geometry.seq_kv = 12 * 128 - 40;
  for (const int sms : {4, 7}) {
    for (const double hbm : {1e12, 0.05}) {  // the schedule decides, then the memory term
      KernelSpec streamed = kernel_with("non_persistent");
      streamed.q_heads_per_kv_head = 3;
      KernelSpec stored = streamed;
      stored.scheduler = "dynamic_longest_first";
      const CostParams cost = cost_with(1.0, 1.7, 0.3, 2.0, streamed);
      GpuSpec gpu = small_gpu(sms);
      gpu.hbm_gb_per_s = hbm;
      const Result a = simulate({"causal", mask}, gpu, streamed, cost);
      const Result b = simulate({"causal", mask}, gpu, stored, cost);
      EXPECT_GT(a.predicted_dense_ms, 0);
      EXPECT_EQ(a.predicted_dense_ms, b.predicted_dense_ms) << sms << " SMs, " << hbm;
    }
  }
}

TEST(Simulate, MemoryBoundLaunchesAreTimedByBandwidth) {
  GpuSpec gpu = small_gpu(4);
  gpu.hbm_gb_per_s = 1e-3;  // 1000 bytes per second: hopelessly memory-bound
  const Result r =
      simulate({"causal", causal_layout(8)}, gpu, kernel_with("non_persistent"), unit_cost());
  EXPECT_TRUE(r.memory_bound);
  EXPECT_DOUBLE_EQ(r.predicted_ms, r.hbm_us / 1e3);
  EXPECT_GT(r.hbm_us, r.makespan_us);
}

}  // namespace
}  // namespace attnsim::gpu

namespace attnsim::gpu {
namespace {

TEST(RunStore, KeepsEveryRunInOrderAcrossASpillPastItsRoom) {
  RunStore store(3);
  store.append({{0, 2, BlockClass::kFull}, {5, 6, BlockClass::kPartial}});
  store.append({{7, 9, BlockClass::kEmpty}});
  ASSERT_EQ(store.size(), 3u);
  store.append({{10, 11, BlockClass::kFull}, {12, 20, BlockClass::kPartial}});  // over the room
  ASSERT_EQ(store.size(), 5u);
  const std::vector<std::int32_t> begins{0, 5, 7, 10, 12};
  const std::vector<std::int32_t> ends{2, 6, 9, 11, 20};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(store.data()[i].begin, begins[i]) << i;
    EXPECT_EQ(store.data()[i].end, ends[i]) << i;
  }
  EXPECT_EQ(store.data()[4].tile_class, BlockClass::kPartial);
  store.clear();
  EXPECT_EQ(store.size(), 0u);
  RunStore empty(0);  // no room at all: a vector from the start
  empty.append({{1, 2, BlockClass::kFull}});
  EXPECT_EQ(empty.data()[0].end, 2);
}

}  // namespace
}  // namespace attnsim::gpu
