// The sm90 kernel's grid choice (golden/hopper/grid_choice.h) on hand-computed schedules.
#include "golden/hopper/grid_choice.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace attnsim::golden::sm90 {
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

}  // namespace
}  // namespace attnsim::golden::sm90
