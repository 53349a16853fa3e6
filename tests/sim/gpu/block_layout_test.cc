// BlockLayout construction, dense round trips and allowed-pair counting.
#include "sim/gpu/block_layout.h"

#include <gtest/gtest.h>

#include "sim/common/input_error.h"
#include "sim/common/memory_limit.h"
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

TEST(BlockLayout, BuilderStopsAtTheMemoryLimitWithAnInputError) {
  MaskGeometry g;
  g.seq_q = g.seq_kv = 1024 * 128;  // 1024 x 1024 blocks: 5 MiB of entries when dense
  common::set_max_memory_bytes(1 << 20);
  std::string message;
  try {
    BlockLayoutBuilder builder(g);
    for (std::int32_t q = 0; q < 1024; ++q) {
      for (std::int32_t kv = 0; kv < 1024; ++kv) builder.add(kv, BlockClass::kFull);
      builder.end_row();
    }
  } catch (const common::InputError& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("mask of 1 x 1 x 1024 x 1024 blocks: block layout: expected at most "
                         "1048576 bytes (raise with --max-memory or ATTNSIM_MAX_MEMORY), got "),
            std::string::npos)
      << message;
  common::set_max_memory_bytes(0);
  BlockLayoutBuilder unlimited(g);
  for (std::int32_t kv = 0; kv < 1024; ++kv) unlimited.add(kv, BlockClass::kFull);
  EXPECT_EQ(unlimited.entries(), 1024);
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

namespace attnsim::gpu {
namespace {

TEST(BlockLayout, BroadcastRepeatsSingleHeadMasks) {
  BlockLayout one = testing::layout_from_rows({"F.", "pF"});
  one.allowed_pairs = std::vector<std::int64_t>{1000};
  const std::optional<BlockLayout> many = broadcast_layout(one, 2, 3);
  ASSERT_TRUE(many.has_value());
  EXPECT_EQ(many->geometry.rows(), 2 * 3 * 2);
  EXPECT_EQ(many->entries(), 6 * one.entries());
  EXPECT_EQ(many->block_class(2 * 5 + 1, 0), BlockClass::kPartial);  // last head, row 1
  EXPECT_EQ(*many->allowed_pairs, std::vector<std::int64_t>(6, 1000));
  EXPECT_FALSE(broadcast_layout(*many, 2, 4).has_value());  // 3 heads cannot become 4
  EXPECT_EQ(*broadcast_layout(*many, 2, 3), *many);
}

}  // namespace
}  // namespace attnsim::gpu
