// BlockLayout construction, dense round trips and allowed-pair counting.
#include "sim/gpu/block_layout.h"

#include <gtest/gtest.h>

#include "tests/sim/gpu/test_masks.h"

namespace attnsim::gpu {
namespace {

TEST(BlockLayout, DenseClassesRoundTrip) {
  const BlockLayout mask = testing::layout_from_rows({"F.p", "pp.", "..F"}, 2);
  const std::vector<std::uint8_t> classes = dense_classes(mask);
  EXPECT_EQ(classes, (std::vector<std::uint8_t>{2, 0, 1, 1, 1, 0, 0, 0, 2,  //
                                                2, 0, 1, 1, 1, 0, 0, 0, 2}));
  EXPECT_EQ(layout_from_dense_classes(mask.geometry, classes), mask);
  EXPECT_EQ(mask.block_class(1, 1), BlockClass::kPartial);
  EXPECT_EQ(mask.block_class(2, 0), BlockClass::kEmpty);
}

TEST(BlockLayout, BuilderRejectsOutOfOrderBlocks) {
  MaskGeometry g;
  g.seq_q = g.seq_kv = 256;
  BlockLayoutBuilder builder(g);
  builder.add(1, BlockClass::kFull);
  EXPECT_THROW(builder.add(0, BlockClass::kFull), std::logic_error);
  EXPECT_THROW(builder.add(2, BlockClass::kFull), std::logic_error);  // beyond kv_blocks
  EXPECT_THROW(builder.finish(), std::logic_error);                   // rows not ended
}

TEST(BlockLayout, AllowedPairsCountBlocksClippedToSequenceEnds) {
  MaskGeometry g;
  g.seq_q = 200;  // blocks of 128 and 72 rows
  g.seq_kv = 130;
  const BlockLayout full = dense_layout(g);
  EXPECT_EQ(allowed_pairs_total(full), 200 * 130);
  BlockLayout blocks_only = full;
  blocks_only.allowed_pairs.reset();
  EXPECT_EQ(allowed_pairs_total(blocks_only), 200 * 130);
}

}  // namespace
}  // namespace attnsim::gpu
