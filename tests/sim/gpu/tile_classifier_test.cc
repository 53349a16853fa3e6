// Tile classification: list vs range visits, tiles smaller and larger than mask blocks, sequence
// ends.
#include "sim/gpu/tile_classifier.h"

#include <gtest/gtest.h>

#include "sim/gpu/patterns/pattern.h"
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

// Each kv tile of one work item classified on its own from the blocks it overlaps (the rules in
// the header), for the checks below: written apart from the classifier's run building.
std::vector<BlockClass> brute_force_classes(const BlockLayout& layout,
                                            const std::vector<std::uint8_t>& classes,
                                            std::int64_t tile_q, std::int64_t tile_kv,
                                            std::int64_t item) {
  const MaskGeometry& g = layout.geometry;
  const std::int64_t q_tiles = (g.seq_q + tile_q - 1) / tile_q;
  const std::int64_t kv_tiles = (g.seq_kv + tile_kv - 1) / tile_kv;
  const std::int64_t bh = item / q_tiles, i = item % q_tiles;
  const std::int64_t q0 = i * tile_q, q1 = std::min(g.seq_q, q0 + tile_q);
  std::vector<BlockClass> out(kv_tiles, BlockClass::kEmpty);
  for (std::int64_t j = 0; j < kv_tiles; ++j) {
    const std::int64_t k0 = j * tile_kv, k1 = std::min(g.seq_kv, k0 + tile_kv);
    bool any = false, all_full = true;
    for (std::int64_t qb = q0 / g.block_q; qb * g.block_q < q1; ++qb) {
      for (std::int64_t kb = k0 / g.block_kv; kb * g.block_kv < k1; ++kb) {
        const std::uint8_t c = classes[(bh * g.q_blocks() + qb) * g.kv_blocks() + kb];
        any = any || c != 0;
        all_full = all_full && c == static_cast<std::uint8_t>(BlockClass::kFull);
      }
    }
    if (!any) continue;
    const bool cut = q1 - q0 < tile_q || k1 - k0 < tile_kv;
    out[j] = all_full && !cut ? BlockClass::kFull : BlockClass::kPartial;
  }
  return out;
}

TEST(TileClassifier, VisitsAndCountsEqualEachTileClassifiedOnItsOwn) {
  // Random block classes, sparse and dense (long stretches of adjacent blocks of one class, which
  // visits step over 8 blocks at a time), at lengths that are and are not multiples of the tiles
  // and blocks; tiles that subdivide the blocks (row walks) and tiles that do not.
  std::uint64_t state = 12345;
  const auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  int checked = 0;
  std::vector<TileRun> runs;
  for (const int density : {30, 90, 99}) {
    for (const std::int64_t seq_q : {1000, 1024, 1030}) {
      for (const std::int64_t seq_kv : {4096, 4000, 3964, 129}) {
        for (const auto& [tile_q, tile_kv] : {std::pair<std::int64_t, std::int64_t>{128, 64},
                                              {128, 128},
                                              {64, 32},
                                              {256, 128},
                                              {128, 96}}) {
          MaskGeometry g;
          g.heads = 2;
          g.seq_q = seq_q;
          g.seq_kv = seq_kv;
          std::vector<std::uint8_t> classes(g.rows() * g.kv_blocks());
          for (std::uint8_t& c : classes) {
            const auto roll = static_cast<int>(next() % 100);
            c = roll >= density ? 0 : (next() % 8 == 0 ? 1 : 2);  // mostly full when dense
          }
          for (std::int64_t kb = 0; kb < g.kv_blocks(); ++kb) classes[kb] = 2;  // a full row
          const BlockLayout layout = layout_from_dense_classes(g, classes);
          TileClassifier classifier(layout, tile_q, tile_kv, VisitRule::kListDriven);
          for (std::int64_t item = 0; item < classifier.items(); ++item) {
            const std::vector<BlockClass> want =
                brute_force_classes(layout, classes, tile_q, tile_kv, item);
            classifier.visit(item, runs);
            std::vector<BlockClass> got(want.size(), BlockClass::kEmpty);
            TileCounts want_counts;
            for (std::size_t r = 0; r < runs.size(); ++r) {
              ASSERT_LT(runs[r].begin, runs[r].end);
              if (r > 0) {  // runs are maximal: a neighbour is apart or of another class
                ASSERT_TRUE(runs[r - 1].end < runs[r].begin ||
                            runs[r - 1].tile_class != runs[r].tile_class);
              }
              for (std::int32_t j = runs[r].begin; j < runs[r].end; ++j) {
                got[j] = runs[r].tile_class;
              }
            }
            for (const BlockClass c : want) {
              if (c == BlockClass::kFull) want_counts.full += 1;
              if (c == BlockClass::kPartial) want_counts.partial += 1;
            }
            ASSERT_EQ(got, want) << seq_q << " " << seq_kv << " " << tile_q << "x" << tile_kv
                                 << " item " << item;
            const TileCounts counts = classifier.count(item);
            ASSERT_EQ(counts.full, want_counts.full) << seq_q << " " << seq_kv << " item " << item;
            ASSERT_EQ(counts.partial, want_counts.partial) << seq_q << " " << seq_kv;
            ASSERT_EQ(counts.empty_visited, 0);
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 1500);
}

}  // namespace
}  // namespace attnsim::gpu

namespace attnsim::gpu {
namespace {

BlockLayout tiled_gna(const std::string& dims, const std::string& window,
                      const std::string& dilation, const std::string& tile,
                      const std::string& block) {
  return generate_pattern(make_pattern_spec("gna",
                                            {{"seq", "256"},
                                             {"dims", dims},
                                             {"window", window},
                                             {"dilation", dilation},
                                             {"tile", tile},
                                             {"block", block}},
                                            "test"));
}

TEST(TileClassifier, OneDimensionalTileOrderMatchesTheOneDimensionalRange) {
  // In 1-D, tile order is token order: per-dimension ranges equal the plain range.
  BlockLayout tiled = tiled_gna("256", "4", "8", "4", "4");
  ASSERT_TRUE(tiled.tiling.has_value());
  const TileCounts box = total(count_tiles(tiled, 4, 4, VisitRule::kRangeDriven));
  tiled.tiling.reset();
  const TileCounts plain = total(count_tiles(tiled, 4, 4, VisitRule::kRangeDriven));
  EXPECT_EQ(box.visited(), plain.visited());
  EXPECT_EQ(box.empty_visited, plain.empty_visited);
  // Dilation 8 over tiles of 4 skips every other tile: ranges visit empty tiles.
  EXPECT_GT(box.empty_visited, 0);
}

TEST(TileClassifier, RangesArePerDimensionOnTileOrderLayouts) {
  // 16 x 16 tokens in 4 x 4 tiles; dilation 8 hits every other tile column and row.
  const BlockLayout mask = tiled_gna("16x16", "2", "8", "4x4", "16");
  const std::vector<TileCounts> list = count_tiles(mask, 16, 16, VisitRule::kListDriven);
  const std::vector<TileCounts> range = count_tiles(mask, 16, 16, VisitRule::kRangeDriven);
  ASSERT_EQ(list.size(), 16u);
  for (std::size_t i = 0; i < list.size(); ++i) {
    // Query tile (a, b) reaches key tiles {a%2, a%2+2} x {b%2, b%2+2}: 4 listed, a 3 x 3 box.
    EXPECT_EQ(list[i].visited(), 4) << i;
    EXPECT_EQ(range[i].visited(), 9) << i;
    EXPECT_EQ(range[i].empty_visited, 5) << i;
  }
}

}  // namespace
}  // namespace attnsim::gpu
