// Pattern families against brute force on small sizes and closed forms on large ones.
#include "sim/gpu/patterns/pattern.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "sim/common/input_error.h"
#include "sim/common/npy.h"
#include "sim/gpu/patterns/gna.h"
#include "tests/support/scratch_dir.h"

namespace attnsim::gpu {
namespace {

using Allowed = std::function<bool(std::int64_t q, std::int64_t k)>;

BlockLayout generate(const std::string& family, std::map<std::string, std::string> params) {
  return generate_pattern(make_pattern_spec(family, std::move(params), "test"));
}

// Block classes and allowed pairs from an explicit S x S predicate (single head).
void expect_matches_brute_force(const BlockLayout& layout, const Allowed& allowed) {
  const MaskGeometry& g = layout.geometry;
  std::int64_t total = 0;
  for (std::int64_t qb = 0; qb < g.q_blocks(); ++qb) {
    for (std::int64_t kb = 0; kb < g.kv_blocks(); ++kb) {
      std::int64_t pairs = 0, area = 0;
      for (std::int64_t q = qb * g.block_q; q < std::min(g.seq_q, (qb + 1) * g.block_q); ++q) {
        for (std::int64_t k = kb * g.block_kv; k < std::min(g.seq_kv, (kb + 1) * g.block_kv); ++k) {
          pairs += allowed(q, k);
          ++area;
        }
      }
      total += pairs;
      const BlockClass expected = pairs == 0      ? BlockClass::kEmpty
                                  : pairs == area ? BlockClass::kFull
                                                  : BlockClass::kPartial;
      ASSERT_EQ(layout.block_class(qb, kb), expected) << "block " << qb << ", " << kb;
    }
  }
  ASSERT_TRUE(layout.allowed_pairs.has_value());
  EXPECT_EQ(layout.allowed_pairs->front(), total);
}

TEST(Patterns, CausalMatchesBruteForceIncludingUnevenSequenceEnds) {
  expect_matches_brute_force(generate("causal", {{"seq", "1000"}, {"block", "64"}}),
                             [](std::int64_t q, std::int64_t k) { return k <= q; });
  expect_matches_brute_force(generate("causal", {{"seq_q", "300"},
                                                 {"seq_kv", "500"},
                                                 {"align", "bottom_right"},
                                                 {"block_q", "64"},
                                                 {"block_kv", "32"}}),
                             [](std::int64_t q, std::int64_t k) { return k <= q + 200; });
}

TEST(Patterns, CausalWindowAndAShapeMatchBruteForce) {
  expect_matches_brute_force(
      generate("causal_window", {{"seq", "777"}, {"window", "100"}, {"block", "32"}}),
      [](std::int64_t q, std::int64_t k) { return k <= q && k > q - 100; });
  expect_matches_brute_force(
      generate("a_shape", {{"seq", "900"}, {"sinks", "40"}, {"window", "130"}, {"block", "64"}}),
      [](std::int64_t q, std::int64_t k) { return k <= q && (k < 40 || k > q - 130); });
}

TEST(Patterns, BandIsAnAsymmetricClippedWindow) {
  expect_matches_brute_force(
      generate("band", {{"seq", "1000"}, {"left", "200"}, {"right", "50"}, {"block", "64"}}),
      [](std::int64_t q, std::int64_t k) { return k >= q - 200 && k <= q + 50; });
}

// NATTEN's neighborhood with dilation and stride, written out per key.
Allowed natten_1d(std::int64_t s, std::int64_t w, std::int64_t dil, std::int64_t stride) {
  return [=](std::int64_t q, std::int64_t k) {
    if (k % dil != q % dil) return false;
    const std::int64_t n = (s - q % dil + dil - 1) / dil;  // this dilation group's size
    const std::int64_t leader = std::min(q / dil / stride * stride + stride / 2, n - 1);
    const std::int64_t start = std::clamp<std::int64_t>(leader - w / 2, 0, n - w);
    return k / dil >= start && k / dil < start + w;
  };
}

TEST(Patterns, SlidingWindowIsNattensShiftedNeighborhood) {
  // 600 tokens in blocks of 64: per-query key lists (the sequence is not a whole number of
  // blocks).
  expect_matches_brute_force(
      generate("sliding_window",
               {{"seq", "600"}, {"window", "75"}, {"dilation", "3"}, {"block", "64"}}),
      natten_1d(600, 75, 3, 1));
  // 640 tokens: whole blocks, classified through the per-tile tables instead.
  expect_matches_brute_force(
      generate(
          "sliding_window",
          {{"seq", "640"}, {"window", "75"}, {"dilation", "3"}, {"stride", "5"}, {"block", "64"}}),
      natten_1d(640, 75, 3, 5));
  EXPECT_FALSE(generate("sliding_window", {{"seq", "640"}, {"window", "75"}, {"block", "64"}})
                   .tiling.has_value());
}

TEST(Patterns, BlockedGnaIn2DIsBlockDiagonalOverTiles) {
  // 32 x 32 image, 8 x 8 windows with stride 8: each query sees exactly its own 8 x 8 tile.
  const auto same_tile = [](std::int64_t q, std::int64_t k) {
    return q / 32 / 8 == k / 32 / 8 && q % 32 / 8 == k % 32 / 8;
  };
  expect_matches_brute_force(
      generate(
          "gna",
          {{"seq", "1024"}, {"dims", "32x32"}, {"window", "8"}, {"stride", "8"}, {"block", "64"}}),
      same_tile);
}

TEST(Patterns, GnaNeighborhoodIn3DSeesWindowVolumeKeys) {
  const BlockLayout layout = generate("gna", {{"seq", "4096"},
                                              {"dims", "16x16x16"},
                                              {"window", "4x6x8"},
                                              {"heads", "2"},
                                              {"block", "64"}});
  EXPECT_EQ(layout.allowed_pairs->at(0), 4096 * 4 * 6 * 8);
  EXPECT_EQ(layout.allowed_pairs->at(1), 4096 * 4 * 6 * 8);
}

TEST(Patterns, GnaRangeLeadersShareWindows) {
  // Stride 4, window 6 on 20 tokens: queries 4..7 share the leader 6 -> keys 3..8.
  for (std::int64_t x = 4; x < 8; ++x) {
    const GnaRange r = gna_range(x, 20, 6, 4, 1);
    EXPECT_EQ(r.start, 3);
    EXPECT_EQ(r.count, 6);
  }
  EXPECT_EQ(gna_range(19, 20, 6, 4, 1).start, 14);  // clamped at the end
}

TEST(Patterns, RadialWindowsHalveWithTemporalDistance) {
  const std::int64_t t = 64;
  expect_matches_brute_force(generate("radial", {{"seq", "512"}, {"frames", "8"}, {"block", "64"}}),
                             [&](std::int64_t q, std::int64_t k) {
                               const std::int64_t d = std::abs(q / t - k / t);
                               if (d == 0) return true;
                               std::int64_t half = t;
                               for (std::int64_t p = 1; p <= d; p *= 2) half /= 2;
                               return std::abs(q % t - k % t) <= half;
                             });
}

TEST(Patterns, VerticalSlashMatchesItsColumnsAndDiagonals) {
  // With no random columns or offsets the pattern is sinks + local band: an A-shape.
  expect_matches_brute_force(
      generate("vertical_slash", {{"seq", "700"},
                                  {"verticals", "20"},
                                  {"sinks", "20"},
                                  {"slashes", "50"},
                                  {"local", "50"},
                                  {"block", "64"}}),
      [](std::int64_t q, std::int64_t k) { return k <= q && (k < 20 || q - k < 50); });
  // Random columns and offsets: every row keeps its causal structure and the sinks.
  const BlockLayout layout = generate("vertical_slash", {{"seq", "4096"}, {"seed", "3"}});
  EXPECT_NE(layout.block_class(10, 0), BlockClass::kEmpty);     // the 64 sinks
  EXPECT_EQ(layout.block_class(10, 10), BlockClass::kPartial);  // diagonal (offsets 0..63)
  EXPECT_EQ(layout.block_class(10, 11), BlockClass::kEmpty);    // above the diagonal
}

TEST(Patterns, RandomBlocksHitTheirDensityAndDependOnlyOnTheSeed) {
  const std::map<std::string, std::string> params{
      {"seq", "32768"}, {"density", "0.2"}, {"diagonal", "false"}, {"seed", "5"}};
  const BlockLayout a = generate("random", params);
  const double density = static_cast<double>(a.entries()) / (256.0 * 256.0);
  EXPECT_NEAR(density, 0.2, 0.01);  // 65536 Bernoulli draws: sd 0.0016
  EXPECT_EQ(generate("random", params), a);
  auto other = params;
  other["seed"] = "6";
  EXPECT_FALSE(generate("random", other) == a);
}

TEST(Patterns, BlockTopkKeepsKBlocksPlusTheDiagonal) {
  const BlockLayout layout =
      generate("block_topk", {{"seq", "4096"}, {"k", "4"}, {"heads", "3"}, {"seed", "1"}});
  const std::int64_t nq = 32;
  for (std::int64_t row = 0; row < layout.geometry.rows(); ++row) {
    const std::int64_t qb = row % nq;
    EXPECT_GE(layout.row_size(row), std::min<std::int64_t>(4, qb + 1));
    EXPECT_LE(layout.row_size(row), std::min<std::int64_t>(5, qb + 1));
    EXPECT_EQ(layout.block_class(row, qb), BlockClass::kPartial);  // the causal diagonal
  }
}

TEST(Patterns, BlockTopkReadsScoresFromAFile) {
  // 8 x 8 blocks; every row scores block 3 highest, then block 6.
  std::vector<float> scores(64, 0.0f);
  for (int row = 0; row < 8; ++row) {
    scores[row * 8 + 3] = 2.0f;
    scores[row * 8 + 6] = 1.0f;
  }
  const attnsim::testing::ScratchDir dir;
  const std::filesystem::path file = dir / "scores.npy";
  common::write_npy(file, common::NpyArray::from<float>({1, 8, 8}, scores));
  const BlockLayout open = generate(
      "block_topk", {{"seq", "1024"}, {"k", "1"}, {"causal", "false"}, {"scores", file.string()}});
  for (std::int64_t qb = 0; qb < 8; ++qb) {
    ASSERT_EQ(open.row_size(qb), 1);
    EXPECT_EQ(open.block_class(qb, 3), BlockClass::kFull);
  }
  const BlockLayout causal =
      generate("block_topk", {{"seq", "1024"}, {"k", "1"}, {"scores", file.string()}});
  // Row 1's candidates 0 and 1 tie at 0: the lower block wins, and the diagonal is kept too.
  EXPECT_EQ(causal.row_size(1), 2);
  EXPECT_EQ(causal.block_class(1, 0), BlockClass::kFull);
  EXPECT_EQ(causal.block_class(5, 3), BlockClass::kFull);
  EXPECT_EQ(causal.block_class(5, 5), BlockClass::kPartial);  // plus its diagonal
  EXPECT_EQ(causal.row_size(5), 2);
}

TEST(Patterns, BlockTopkThresholdKeepsTheWholeRowAtTauOne) {
  const BlockLayout layout =
      generate("block_topk", {{"seq", "2048"}, {"select", "threshold"}, {"tau", "1"}});
  for (std::int64_t qb = 0; qb < 16; ++qb) EXPECT_EQ(layout.row_size(qb), qb + 1);
}

TEST(Patterns, PermutationPacksImportantKeysIntoFewerBlocks) {
  std::map<std::string, std::string> params{
      {"seq", "16384"}, {"k", "128"}, {"segment", "2048"}, {"important", "0.01"}};
  const BlockLayout permuted = generate("permuted_block_sparse", params);
  params["permute"] = "false";
  const BlockLayout scattered = generate("permuted_block_sparse", params);
  // ~20 important keys per 2048-key segment: one block after permutation, most of 16 before.
  EXPECT_LT(permuted.entries() * 3, scattered.entries());
}

TEST(Patterns, MixtureAssignsHeadsInOrder) {
  const BlockLayout layout = generate("mixture", {{"seq", "4096"},
                                                  {"heads", "4"},
                                                  {"dense_heads", "0.25"},
                                                  {"streaming_heads", "0.5"},
                                                  {"sinks", "128"},
                                                  {"window", "256"},
                                                  {"k", "2"}});
  const std::int64_t causal_pairs = 4096LL * 4097 / 2;
  EXPECT_EQ(layout.allowed_pairs->at(0), causal_pairs);
  EXPECT_LT(layout.allowed_pairs->at(1), causal_pairs / 4);
  EXPECT_EQ(layout.allowed_pairs->at(1), layout.allowed_pairs->at(2));
  EXPECT_NE(layout.allowed_pairs->at(3), layout.allowed_pairs->at(1));
}

TEST(Patterns, AMillionTokensNeedNoSquareMatrix) {
  const BlockLayout layout = generate("causal_window", {{"seq", "1048576"}, {"window", "4096"}});
  EXPECT_EQ(layout.geometry.q_blocks(), 8192);
  // 4096-key windows: 32 full blocks + 1 partial diagonal, plus one partial trailing block.
  EXPECT_EQ(layout.row_size(8191), 33);
  const std::int64_t s = 1048576, w = 4096;
  EXPECT_EQ(layout.allowed_pairs->front(), w * (w + 1) / 2 + (s - w) * w);
}

TEST(Patterns, BadParametersAreNamed) {
  auto message = [](const std::string& family, std::map<std::string, std::string> params) {
    try {
      generate(family, std::move(params));
    } catch (const common::InputError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(message("causal_window", {{"seq", "1024"}, {"window", "-3"}}),
            "test: window: expected an integer in [1, 1024], got '-3'");
  EXPECT_NE(message("causal", {{"seq", "1024"}, {"windw", "3"}}).find("unknown 'windw'"),
            std::string::npos);
  EXPECT_NE(message("spiral", {{"seq", "1024"}}).find("PATTERN: expected one of dense, causal"),
            std::string::npos);
  EXPECT_NE(message("gna", {{"seq", "1000"}, {"dims", "32x32"}, {"window", "8"}}).find("dims"),
            std::string::npos);
  EXPECT_NE(message("causal", {}).find("seq"), std::string::npos);
}

}  // namespace
}  // namespace attnsim::gpu
