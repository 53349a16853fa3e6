// Both mask layouts of one mask give identical layouts and results; bad arrays are named.
#include "sim/gpu/mask_formats.h"

#include <gtest/gtest.h>

#include "sim/common/input_error.h"
#include "sim/gpu/simulate.h"
#include "tests/sim/gpu/test_masks.h"
#include "tests/support/input_error_of.h"

namespace attnsim::gpu {
namespace {

using attnsim::testing::input_error_of;

using common::InputError;

const BlockLayout& sample() {
  static const BlockLayout mask =
      testing::layout_from_rows({"Fp..", "pFF.", "F..p", "...."}, /*heads=*/3);
  return mask;
}

TEST(MaskFormats, BothLayoutsOfOneMaskAreIdentical) {
  const BlockLayout from_dense =
      layout_from_dense_arrays(dense_arrays_from_layout(sample()), "a.npz");
  const BlockLayout from_flex = layout_from_flex_arrays(flex_arrays_from_layout(sample()), "b.npz");
  EXPECT_EQ(from_dense, sample());
  EXPECT_EQ(from_flex, sample());

  GpuSpec gpu{"g", 3, 1000, 3000, 50, 100};
  KernelSpec kernel;
  for (VisitRule rule : {VisitRule::kListDriven, VisitRule::kRangeDriven}) {
    kernel.visit_rule = rule;
    kernel.tile_kv = 64;
    const CostParams cost = default_cost_params(gpu, kernel);
    const Result a = simulate({"m", from_dense}, gpu, kernel, cost);
    const Result b = simulate({"m", from_flex}, gpu, kernel, cost);
    EXPECT_EQ(a.tiles_full, b.tiles_full);
    EXPECT_EQ(a.tiles_partial, b.tiles_partial);
    EXPECT_EQ(a.tiles_empty_visited, b.tiles_empty_visited);
    EXPECT_EQ(a.predicted_ms, b.predicted_ms);
    EXPECT_EQ(a.speedup_bound_sched, b.speedup_bound_sched);
  }
}

TEST(MaskFormats, FlexRowsMayListBlocksInAnyOrder) {
  FlexBlockArrays flex = flex_arrays_from_layout(sample());
  std::swap(flex.full_kv_indices[4], flex.full_kv_indices[5]);  // row 1 lists 2 before 1
  EXPECT_EQ(layout_from_flex_arrays(flex, "b.npz"), sample());
}

TEST(MaskFormats, FlexIndicesOutOfRangeAreNamed) {
  FlexBlockArrays flex = flex_arrays_from_layout(sample());
  flex.kv_indices[4] = 9;  // row [0, 0, 1], first partial block
  EXPECT_EQ(input_error_of([&] { layout_from_flex_arrays(flex, "m.npz"); }),
            "m.npz: array 'kv_indices' at [0, 0, 1, 0]: expected a kv block index in [0, 4), "
            "got 9");
}

TEST(MaskFormats, FlexCountsLargerThanNkAreNamed) {
  FlexBlockArrays flex = flex_arrays_from_layout(sample());
  flex.full_kv_num_blocks[6] = 5;  // [0, 1, 2]
  EXPECT_EQ(input_error_of([&] { layout_from_flex_arrays(flex, "m.npz"); }),
            "m.npz: array 'full_kv_num_blocks' at [0, 1, 2]: expected a block count in [0, 4] "
            "(NK = 4), got 5");
}

TEST(MaskFormats, FlexBlocksListedTwiceAreNamed) {
  FlexBlockArrays flex = flex_arrays_from_layout(sample());
  flex.kv_indices[0] = 0;  // row 0 lists block 0 as partial; it is already full
  EXPECT_NE(input_error_of([&] { layout_from_flex_arrays(flex, "m.npz"); }).find("listed twice"),
            std::string::npos);
}

TEST(MaskFormats, DenseBlocksBothFullAndPartialAreNamed) {
  DenseBlockArrays dense = dense_arrays_from_layout(sample());
  dense.partial[0] = 1;
  EXPECT_EQ(input_error_of([&] { layout_from_dense_arrays(dense, "m.npz"); }),
            "m.npz: arrays 'full' and 'partial' at [0, 0, 0, 0]: expected a block marked full "
            "or partial, not both, got both");
  dense.full.pop_back();
  EXPECT_NE(input_error_of([&] { layout_from_dense_arrays(dense, "m.npz"); }).find("array 'full'"),
            std::string::npos);
}

}  // namespace
}  // namespace attnsim::gpu
