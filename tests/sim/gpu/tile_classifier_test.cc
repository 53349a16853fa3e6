// Tile classification: list vs range visits, tiles smaller and larger than mask blocks, sequence
// ends.
#include "sim/gpu/tile_classifier.h"

#include <gtest/gtest.h>

#include "tests/sim/gpu/test_masks.h"

namespace attnsim::gpu {
namespace {

using testing::causal_layout;
using testing::layout_from_rows;

TileCounts total(const std::vector<TileCounts>& counts) {
  TileCounts sum;
  for (const TileCounts& c : counts) sum += c;
  return sum;
}

TEST(TileClassifier, SameSizeTilesInheritTheBlockClasses) {
  const BlockLayout causal = causal_layout(8);
  const std::vector<TileCounts> counts = count_tiles(causal, 128, 128, VisitRule::kListDriven);
  ASSERT_EQ(counts.size(), 8u);
  for (std::int64_t i = 0; i < 8; ++i) {
    EXPECT_EQ(counts[i].full, i);
    EXPECT_EQ(counts[i].partial, 1);
    EXPECT_EQ(counts[i].empty_visited, 0);
  }
}

TEST(TileClassifier, RangeDrivenVisitsCountTheEmptyTilesBetween) {
  // A-shape (sink + local window): row i has block 0 and blocks i-1, i.
  const BlockLayout a_shape = layout_from_rows({"p.....",  //
                                                "Fp....",  //
                                                "FFp...",  //
                                                "F.Fp..",  //
                                                "F..Fp.",  //
                                                "F...Fp"});
  const TileCounts list = total(count_tiles(a_shape, 128, 128, VisitRule::kListDriven));
  const TileCounts range = total(count_tiles(a_shape, 128, 128, VisitRule::kRangeDriven));
  EXPECT_EQ(list.full, 9);
  EXPECT_EQ(list.partial, 6);
  EXPECT_EQ(list.empty_visited, 0);
  EXPECT_EQ(range.full, 9);
  EXPECT_EQ(range.partial, 6);
  // Rows 3, 4, 5 skip 1, 2 and 3 blocks between the sink and the window.
  EXPECT_EQ(range.empty_visited, 1 + 2 + 3);
}

TEST(TileClassifier, SmallerTilesSplitEachBlockIntoTilesOfItsClass) {
  const BlockLayout mask = layout_from_rows({"Fp", ".F"});
  const TileCounts counts = total(count_tiles(mask, 64, 32, VisitRule::kListDriven));
  // Each 128x128 block holds 2 x 4 tiles of 64x32.
  EXPECT_EQ(counts.full, 16);
  EXPECT_EQ(counts.partial, 8);
  TileClassifier classifier(mask, 64, 32, VisitRule::kListDriven);
  EXPECT_EQ(classifier.q_tiles(), 4);
  EXPECT_EQ(classifier.kv_tiles(), 8);
  std::vector<TileRun> runs;
  classifier.visit(2, runs);  // Q tile 2 lies in block row 1: kv tiles 4..7, all full
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs.front().begin, 4);
  EXPECT_EQ(runs.front().end, 8);
  EXPECT_EQ(runs.front().tile_class, BlockClass::kFull);
  classifier.visit(0, runs);  // row 0: full kv tiles 0..3, partial 4..7
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].begin, 4);
  EXPECT_EQ(runs[1].tile_class, BlockClass::kPartial);
}

TEST(TileClassifier, LargerTilesArePartialUnlessEveryCoveredBlockIsFull) {
  // 256-wide kv tiles over 128 blocks: tile 0 covers blocks 0-1, tile 1 covers 2-3.
  const BlockLayout mask = layout_from_rows({"FF.F", "FFFF"});
  const std::vector<TileCounts> counts = count_tiles(mask, 256, 256, VisitRule::kListDriven);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].full, 1);     // blocks (0..1) x (0..1) all full
  EXPECT_EQ(counts[0].partial, 1);  // block (0, 2) is empty
}

TEST(TileClassifier, TilesCutBySequenceEndsArePartial) {
  MaskGeometry g;
  g.seq_q = 1000;
  g.seq_kv = 300;
  const std::int64_t nq = g.q_blocks(), nk = g.kv_blocks();
  ASSERT_EQ(nq, 8);
  ASSERT_EQ(nk, 3);
  const BlockLayout all_full = layout_from_dense_classes(g, std::vector<std::uint8_t>(nq * nk, 2));
  const TileCounts counts = total(count_tiles(all_full, 128, 128, VisitRule::kListDriven));
  // Last kv tile (256..300) and last q tile (896..1000) are cut: 7 rows x 2 full tiles.
  EXPECT_EQ(counts.full, 14);
  EXPECT_EQ(counts.partial, 7 + 3);
}

TEST(TileClassifier, EmptyRowsVisitNothingUnderEitherRule) {
  const BlockLayout mask = layout_from_rows({"....", "..F."});
  for (VisitRule rule : {VisitRule::kListDriven, VisitRule::kRangeDriven}) {
    const std::vector<TileCounts> counts = count_tiles(mask, 128, 128, rule);
    EXPECT_EQ(counts[0].visited(), 0);
    EXPECT_EQ(counts[1].visited(), 1);
  }
}

}  // namespace
}  // namespace attnsim::gpu
