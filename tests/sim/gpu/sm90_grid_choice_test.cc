// The sm90 kernel's grid choice (sim/gpu/schedulers/sm90_grid_choice.h) on hand-computed
// schedules, and tilesim's sm90_auto preset, which makes it on a mask and then predicts as the
// chosen grid's preset.
#include "sim/gpu/schedulers/sm90_grid_choice.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "sim/gpu/cost_model.h"
#include "sim/gpu/presets.h"
#include "sim/gpu/simulate.h"
#include "tests/sim/gpu/test_masks.h"

namespace attnsim::gpu::sm90 {
namespace {

TEST(GridChoice, FlatGridDispatchesEachItemToTheFirstFreeSm) {
  // Items of 3..10 tiles (1..8 plus an item cost of 2) on 4 SMs: 3, 4, 5, 6 start at once;
  // 7 goes after 3 (ends 10), 8 after 4 (12), 9 after 5 (14), 10 after 6 (16).
  EXPECT_DOUBLE_EQ(flat_grid_makespan({1, 2, 3, 4, 5, 6, 7, 8}, 4, 2.0), 16.0);
  EXPECT_DOUBLE_EQ(flat_grid_makespan({}, 4, 2.0), 0.0);
}

TEST(GridChoice, PersistentGridDealsItsOrderRoundRobin) {
  // Longest first (8, 7, ..., 1) on 4 CTAs: CTA 0 runs 8 and 4, CTA 1 7 and 3, ...; with an item
  // cost of 1: 14, 12, 10, 8.
  const std::vector<std::int64_t> tiles{1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<std::int32_t> longest_first{7, 6, 5, 4, 3, 2, 1, 0};
  EXPECT_DOUBLE_EQ(persistent_grid_makespan(tiles, longest_first, 4, 1.0), 14.0);
  // Fewer items than SMs: one CTA per item.
  EXPECT_DOUBLE_EQ(persistent_grid_makespan({5, 9}, {1, 0}, 132, 1.0), 10.0);
  EXPECT_THROW(persistent_grid_makespan({5}, {3}, 4, 1.0), std::invalid_argument);
  EXPECT_THROW(flat_grid_makespan({5}, 0, 1.0), std::invalid_argument);
}

TEST(GridChoice, ShortUniformItemsGoPersistentATailHeavyHeadStaysFlat) {
  // The causal triangle above: flat 16 against persistent 14 when an item costs 2 tiles on the
  // flat grid and 1 on the persistent one.
  const std::vector<std::int64_t> tiles{1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<std::int32_t> longest_first{7, 6, 5, 4, 3, 2, 1, 0};
  EXPECT_EQ(choose_grid(tiles, longest_first, 4, {2.0, 1.0}), Sm90Grid::kPersistent);
  // One long item and seven short ones on 2 SMs, no item costs: the flat grid puts every short
  // item beside the long one (makespan 10); round robin gives CTA 0 the long item and three
  // short ones (13).
  const std::vector<std::int64_t> skewed{10, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_EQ(choose_grid(skewed, {0, 1, 2, 3, 4, 5, 6, 7}, 2, {0.0, 0.0}), Sm90Grid::kFlat);
  // A tie, and no items at all: flat.
  EXPECT_EQ(choose_grid({4, 4}, {0, 1}, 2, {1.0, 1.0}), Sm90Grid::kFlat);
  EXPECT_EQ(choose_grid({}, {}, 2, {2.0, 1.0}), Sm90Grid::kFlat);
  EXPECT_STREQ(to_string(Sm90Grid::kPersistent), "persistent");
}

TEST(GridChoice, H200ItemCostsPerHeadDim) {
  // In tiles of their own head dim; the flat grid's item costs more at both.
  const GridItemCosts d64 = h200_grid_item_costs(64), d128 = h200_grid_item_costs(128);
  EXPECT_GT(d64.flat_tiles, d64.persistent_tiles);
  EXPECT_GT(d128.flat_tiles, d128.persistent_tiles);
  EXPECT_DOUBLE_EQ(h200_grid_item_costs(96).flat_tiles, d128.flat_tiles);
}

const PresetDirs kShipped{ATTNSIM_GPU_PRESETS_SOURCE_DIR};

KernelSpec shipped(const std::string& name, std::int64_t head_dim) {
  KernelSpec kernel = load_kernel(name, kShipped);
  kernel.head_dim = head_dim;  // as --head-dim sets it
  return kernel;
}

// What bsattn-bench passes choose_grid for a mask of 128 x 128 blocks: each row's visited blocks
// in grid order, and longest_first_order (each head's rows by decreasing blocks, ties in order).
Sm90Grid bench_choice(const BlockLayout& mask, int sm_count, int head_dim) {
  const std::int64_t q_tiles = mask.geometry.q_blocks();
  std::vector<std::int64_t> tiles;
  for (std::int64_t row = 0; row < mask.geometry.rows(); ++row) tiles.push_back(mask.row_size(row));
  std::vector<std::int32_t> order;
  for (std::int64_t head = 0; head < mask.geometry.batch * mask.geometry.heads; ++head) {
    std::vector<std::pair<std::int64_t, std::int32_t>> items;
    for (std::int64_t q = 0; q < q_tiles; ++q) {
      items.emplace_back(tiles[head * q_tiles + q], static_cast<std::int32_t>(head * q_tiles + q));
    }
    std::stable_sort(items.begin(), items.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (const auto& item : items) order.push_back(item.second);
  }
  return choose_grid(tiles, order, sm_count, h200_grid_item_costs(head_dim));
}

TEST(Sm90Auto, PicksTheBenchsGridAndPredictsAsThatGridsPreset) {
  const GpuSpec h200 = load_gpu("h200", kShipped);
  // Causal masks of 128 x 128 blocks. 32 heads of 32 Q tiles (1..32 tiles each): the flat grid's
  // 4 extra tiles per item (d64) cost more than round robin loses: persistent (172 against 182
  // tiles). 8 heads of 64 Q tiles: round robin deals every head's long items to the same CTAs
  // (246 against 184): flat.
  const struct {
    BlockLayout mask;
    Sm90Grid grid;
    const char* preset;
  } cases[] = {{testing::causal_layout(32, 32), Sm90Grid::kPersistent, "sm90_persistent"},
               {testing::causal_layout(64, 8), Sm90Grid::kFlat, "sm90"}};
  for (const auto& c : cases) {
    for (const int head_dim : {64, 128}) {
      const std::string what = std::string(c.preset) + " d" + std::to_string(head_dim);
      const KernelSpec auto_kernel = shipped("sm90_auto", head_dim);
      EXPECT_EQ(choose_grid(c.mask, auto_kernel, h200.sm_count), c.grid) << what;
      EXPECT_EQ(bench_choice(c.mask, h200.sm_count, head_dim), c.grid) << what;
      // The prediction is the chosen preset's, double for double, with its cost model (the
      // same: one CTA code).
      const KernelSpec chosen = shipped(c.preset, head_dim);
      const CostParams cost = default_cost_params(h200, auto_kernel);
      EXPECT_EQ(cost.tile_full_us, default_cost_params(h200, chosen).tile_full_us) << what;
      const Workload workload{"causal", c.mask};
      const Result a = simulate(workload, h200, auto_kernel, cost);
      const Result p = simulate(workload, h200, chosen, cost);
      EXPECT_EQ(a.grid, to_string(c.grid)) << what;
      EXPECT_EQ(p.grid, "") << what;  // a preset with one grid reports none
      EXPECT_EQ(a.predicted_ms, p.predicted_ms) << what;
      EXPECT_EQ(a.makespan_us, p.makespan_us) << what;
      EXPECT_EQ(a.predicted_dense_ms, p.predicted_dense_ms) << what;
      EXPECT_EQ(a.speedup_bound_sched, p.speedup_bound_sched) << what;
      EXPECT_EQ(a.tail_fraction, p.tail_fraction) << what;
      EXPECT_EQ(a.critical_items, p.critical_items) << what;
      EXPECT_EQ(a.hbm_bytes, p.hbm_bytes) << what;
      // The bounds alone pick the same grid.
      SimulationOptions bounds;
      bounds.timing = false;
      EXPECT_EQ(simulate(workload, h200, auto_kernel, cost, bounds).grid, to_string(c.grid));
    }
  }
  // The other grid predicts differently on both masks, so the equalities above are the pick's.
  const Workload persistent{"causal", testing::causal_layout(32, 32)};
  const KernelSpec flat = shipped("sm90", 64);
  EXPECT_NE(simulate(persistent, h200, flat, default_cost_params(h200, flat)).predicted_ms,
            simulate(persistent, h200, shipped("sm90_auto", 64), default_cost_params(h200, flat))
                .predicted_ms);
}

TEST(Sm90Auto, CountsTheKeyTilesAsTheBenchCountsThem) {
  // 256-key blocks are 2 of the kernel's key tiles each. With 320 keys the second block ends 64
  // keys into its second tile, past the last key tile: the bench counts 2 tiles for it (its
  // blocks times 2), the tile classifier 1. One head of 3 Q tiles: rows {block 0}, {block 1},
  // {block 1}.
  MaskGeometry g;
  g.seq_q = 3 * 128;
  g.seq_kv = 320;
  g.block_kv = 256;
  BlockLayoutBuilder builder(g);
  for (const std::int32_t block : {0, 1, 1}) {
    builder.add(block, BlockClass::kPartial);
    builder.end_row();
  }
  const BlockLayout mask = builder.finish();
  // On 2 SMs at d128 (item costs 9 and 8.5): the bench's 2, 2, 2 tiles give flat 22 against
  // persistent 21; the classifier's 2, 1, 1 would give 20 against 20, a tie (flat).
  const GridItemCosts d128 = h200_grid_item_costs(128);
  EXPECT_EQ(choose_grid({2, 2, 2}, {0, 1, 2}, 2, d128), Sm90Grid::kPersistent);
  EXPECT_EQ(choose_grid({2, 1, 1}, {0, 1, 2}, 2, d128), Sm90Grid::kFlat);
  EXPECT_EQ(choose_grid(mask, shipped("sm90_auto", 128), 2), Sm90Grid::kPersistent);
}

TEST(Sm90Auto, NeedsAKernelWithTwoGrids) {
  EXPECT_THROW(choose_grid(testing::causal_layout(4), shipped("sm90", 128), 132),
               std::invalid_argument);
}

}  // namespace
}  // namespace attnsim::gpu::sm90
