// Pattern families against brute force on small sizes and closed forms on large ones.
#include "sim/gpu/patterns/pattern.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>

#include "sim/common/input_error.h"
#include "sim/common/memory_limit.h"
#include "sim/common/npy.h"
#include "sim/gpu/patterns/gna.h"
#include "sim/gpu/patterns/rng.h"
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
      std::int64_t pairs = 0;
      for (std::int64_t q = qb * g.block_q; q < std::min(g.seq_q, (qb + 1) * g.block_q); ++q) {
        for (std::int64_t k = kb * g.block_kv; k < std::min(g.seq_kv, (kb + 1) * g.block_kv); ++k) {
          pairs += allowed(q, k);
        }
      }
      total += pairs;
      // FULL only when the whole block is allowed: a block cut by a sequence end is PARTIAL, as
      // FlexAttention's create_block_mask pads the mask with False.
      const BlockClass expected = pairs == 0                        ? BlockClass::kEmpty
                                  : pairs == g.block_q * g.block_kv ? BlockClass::kFull
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

// causal_window, band and a_shape classify rows in closed form (BandMask, issue #13): odd
// geometries against the token predicate (unequal block sizes, seq_q above and below seq_kv,
// sinks beyond the window or beyond a block, windows of one key and of many blocks).
TEST(Patterns, BandRowsInClosedFormMatchBruteForceOnOddGeometries) {
  for (const char* seq_kv : {"500", "613", "777"}) {
    const std::int64_t nk = std::stoll(seq_kv);
    const auto keys = [nk](std::int64_t k) { return k < nk; };
    expect_matches_brute_force(generate("causal_window", {{"seq_q", "613"},
                                                          {"seq_kv", seq_kv},
                                                          {"window", "1"},
                                                          {"block_q", "48"},
                                                          {"block_kv", "32"}}),
                               [&](std::int64_t q, std::int64_t k) { return keys(k) && k == q; });
    expect_matches_brute_force(
        generate("causal_window", {{"seq_q", "613"},
                                   {"seq_kv", seq_kv},
                                   {"window", "300"},
                                   {"block_q", "32"},
                                   {"block_kv", "48"}}),
        [&](std::int64_t q, std::int64_t k) { return keys(k) && k <= q && k > q - 300; });
    expect_matches_brute_force(
        generate("band", {{"seq_q", "613"},
                          {"seq_kv", seq_kv},
                          {"left", "0"},
                          {"right", "70"},
                          {"block_q", "16"},
                          {"block_kv", "64"}}),
        [&](std::int64_t q, std::int64_t k) { return keys(k) && k >= q && k <= q + 70; });
    for (const char* sinks : {"3", "100", "450"}) {
      const std::int64_t s = std::stoll(sinks);
      expect_matches_brute_force(generate("a_shape", {{"seq_q", "613"},
                                                      {"seq_kv", seq_kv},
                                                      {"sinks", sinks},
                                                      {"window", "90"},
                                                      {"block_q", "40"},
                                                      {"block_kv", "24"}}),
                                 [&](std::int64_t q, std::int64_t k) {
                                   return keys(k) && k <= q && (k < s || k > q - 90);
                                 });
    }
  }
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

// vertical_slash is classified per block row from its columns and diagonals (issue #13), not
// query by query: checked against the token matrix those columns and diagonals give, drawn here
// as the family's help describes (first `sinks` keys, then uniform columns; offsets 0..local-1,
// then log-uniform in [local, seq)), for uneven lengths and several heads and seeds.
TEST(Patterns, VerticalSlashMatchesBruteForceWithRandomColumnsAndDiagonals) {
  for (const std::uint64_t seed : {1u, 7u}) {
    const std::int64_t seq = 1000, verticals = 30, slashes = 40, sinks = 5, local = 8;
    const BlockLayout layout = generate("vertical_slash", {{"seq", std::to_string(seq)},
                                                           {"verticals", "30"},
                                                           {"slashes", "40"},
                                                           {"sinks", "5"},
                                                           {"local", "8"},
                                                           {"heads", "2"},
                                                           {"block", "64"},
                                                           {"seed", std::to_string(seed)}});
    for (std::int64_t head = 0; head < 2; ++head) {
      SplitMix64 rng(derive_seed(seed, static_cast<std::uint64_t>(head)));
      std::vector<bool> column(seq, false), offset(seq, false);
      for (std::int64_t k = 0; k < sinks; ++k) column[k] = true;
      for (std::int64_t n = sinks; n < verticals; ++n) column[rng.below(seq)] = true;
      for (std::int64_t o = 0; o < local; ++o) offset[o] = true;
      const double log_span = std::log(static_cast<double>(seq) / local);
      for (std::int64_t n = local; n < slashes; ++n) {
        const double o = local * std::exp(rng.uniform() * log_span);
        offset[std::min(static_cast<std::int64_t>(o), seq - 1)] = true;
      }
      // One head of the layout as a layout of its own.
      BlockLayout one;
      one.geometry = layout.geometry;
      one.geometry.heads = 1;
      const std::int64_t rows = one.geometry.q_blocks();
      const std::int64_t first = layout.row_begin[head * rows];
      for (std::int64_t r = 1; r <= rows; ++r) {
        one.row_begin.push_back(layout.row_begin[head * rows + r] - first);
      }
      one.kv_block.assign(layout.kv_block.begin() + first,
                          layout.kv_block.begin() + layout.row_begin[(head + 1) * rows]);
      one.is_full.assign(layout.is_full.begin() + first,
                         layout.is_full.begin() + layout.row_begin[(head + 1) * rows]);
      one.allowed_pairs = std::vector<std::int64_t>{(*layout.allowed_pairs)[head]};
      expect_matches_brute_force(one, [&](std::int64_t q, std::int64_t k) {
        return k <= q && (column[k] || offset[q - k]);
      });
    }
  }
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

TEST(Patterns, DocumentMatchesBruteForceWithUnalignedLengths) {
  // Documents [0,100), [100,101), [101,500), [500,1000).
  const auto doc = [](std::int64_t t) { return t < 100 ? 0 : t < 101 ? 1 : t < 500 ? 2 : 3; };
  for (const char* block_kv : {"64", "128"}) {
    expect_matches_brute_force(
        generate("document", {{"seq", "1000"},
                              {"block_q", "64"},
                              {"block_kv", block_kv},
                              {"lengths", "100x1x399x500"}}),
        [&](std::int64_t q, std::int64_t k) { return doc(q) == doc(k) && k <= q; });
    expect_matches_brute_force(generate("document", {{"seq", "1000"},
                                                     {"block_q", "128"},
                                                     {"block_kv", block_kv},
                                                     {"lengths", "100x1x399x500"},
                                                     {"causal", "0"}}),
                               [&](std::int64_t q, std::int64_t k) { return doc(q) == doc(k); });
  }
}

TEST(Patterns, DocumentListsPerBatchElementApplyToTheirOwnBatch) {
  const BlockLayout layout = generate("document", {{"seq", "300"},
                                                   {"batch", "2"},
                                                   {"heads", "2"},
                                                   {"block", "64"},
                                                   {"lengths", "100x200/300"},
                                                   {"causal", "0"}});
  // Closed form: batch 0 has 100^2 + 200^2 pairs, batch 1 300^2, the same for both heads.
  EXPECT_EQ(*layout.allowed_pairs, (std::vector<std::int64_t>{50000, 50000, 90000, 90000}));
  EXPECT_EQ(layout.rule->text(), "document,causal=0,lengths=100x200/300");
}

std::vector<std::vector<std::int64_t>> rule_lengths(const BlockLayout& layout) {
  const std::string text = layout.rule->params.at("lengths");
  std::vector<std::vector<std::int64_t>> lists(1);
  std::string number;
  for (const char c : text + "/") {
    if (c == 'x' || c == '/') {
      lists.back().push_back(std::stoll(number));
      number.clear();
      if (c == '/') lists.emplace_back();
    } else {
      number += c;
    }
  }
  lists.pop_back();
  return lists;
}

TEST(Patterns, DocumentGeneratedLengthsAreSeededPerBatchElementAndWrittenOut) {
  const std::map<std::string, std::string> params{{"seq", "5000"},      {"batch", "3"},
                                                  {"doc_mean", "200"},  {"doc_dist", "lognormal"},
                                                  {"doc_sigma", "0.8"}, {"seed", "5"}};
  const BlockLayout a = generate("document", params);
  const auto lists = rule_lengths(a);
  ASSERT_EQ(lists.size(), 3u);
  EXPECT_NE(lists[0], lists[1]);
  for (const auto& lengths : lists) {
    std::int64_t sum = 0;
    for (const std::int64_t l : lengths) {
      sum += l;
      EXPECT_GE(l, 1);
    }
    EXPECT_EQ(sum, 5000);
    EXPECT_GT(lengths.size(), 5u);  // mean 200 over 5000 tokens: about 25 documents
  }
  EXPECT_EQ(generate("document", params), a);
  auto other = params;
  other["seed"] = "6";
  EXPECT_NE(rule_lengths(generate("document", other)), lists);
  // The rule written out generates the same mask.
  const BlockLayout again = generate(
      "document", {{"seq", "5000"}, {"batch", "3"}, {"lengths", a.rule->params.at("lengths")}});
  EXPECT_EQ(again, a);

  // fixed: 300-token documents, the last cut; one list for all batch elements.
  const BlockLayout fixed =
      generate("document", {{"seq", "1000"}, {"batch", "2"}, {"doc_mean", "300"}});
  EXPECT_EQ(fixed.rule->text(), "document,causal=1,lengths=300x300x300x100");
  // uniform: lengths in [1, 2M - 1], except the last one which is cut.
  const auto uniform = rule_lengths(
      generate("document", {{"seq", "20000"}, {"doc_mean", "50"}, {"doc_dist", "uniform"}}));
  for (std::size_t i = 0; i + 1 < uniform[0].size(); ++i) {
    EXPECT_GE(uniform[0][i], 1);
    EXPECT_LE(uniform[0][i], 99);
  }
}

TEST(Patterns, PrefixLmMatchesBruteForce) {
  expect_matches_brute_force(
      generate("prefix_lm", {{"seq", "1000"}, {"block", "64"}, {"prefix", "77"}}),
      [](std::int64_t q, std::int64_t k) { return k < 77 || k <= q; });
  expect_matches_brute_force(generate("prefix_lm", {{"seq_q", "300"},
                                                    {"seq_kv", "500"},
                                                    {"block_q", "128"},
                                                    {"block_kv", "64"},
                                                    {"prefix", "450"}}),
                             [](std::int64_t q, std::int64_t k) { return k < 450 || k <= q; });
  expect_matches_brute_force(generate("prefix_lm", {{"seq", "700"}, {"prefix", "0"}}),
                             [](std::int64_t q, std::int64_t k) { return k <= q; });
}

TEST(Patterns, GeneratedMasksCarryTheirRuleWithEveryParameter) {
  const auto rule_of = [](const std::string& family, std::map<std::string, std::string> params) {
    params["seq"] = params.count("seq") ? params["seq"] : "1024";
    const BlockLayout layout = generate(family, params);
    return layout.rule ? layout.rule->text() : std::string("none");
  };
  EXPECT_EQ(rule_of("dense", {}), "allow");
  EXPECT_EQ(rule_of("causal", {}), "causal");
  EXPECT_EQ(rule_of("causal", {{"seq_q", "256"}, {"seq_kv", "1024"}, {"align", "bottom_right"}}),
            "band,left=1024,right=768");
  EXPECT_EQ(rule_of("causal", {{"seq_q", "1024"}, {"seq_kv", "256"}, {"align", "bottom_right"}}),
            "none");
  EXPECT_EQ(rule_of("causal_window", {}), "causal_window,window=1024");
  EXPECT_EQ(rule_of("band", {{"left", "30"}}), "band,left=30,right=0");
  EXPECT_EQ(rule_of("a_shape", {{"window", "256"}}), "a_shape,sinks=128,window=256");
  EXPECT_EQ(rule_of("sliding_window", {{"window", "65"}}),
            "sliding_window,dilation=1,stride=1,window=65");
  EXPECT_EQ(rule_of("gna", {{"dims", "32x32"}, {"window", "5x7"}, {"dilation", "2"}}),
            "gna,dilation=2x2,dims=32x32,stride=1x1,window=5x7");
  EXPECT_EQ(rule_of("gna", {{"dims", "32x32"}, {"window", "5"}, {"tile", "8x16"}}),
            "gna,dilation=1x1,dims=32x32,stride=1x1,tile=8x16,window=5x5");
  EXPECT_EQ(rule_of("prefix_lm", {{"prefix", "100"}}), "prefix_lm,prefix=100");
  EXPECT_EQ(rule_of("document", {{"lengths", "1000x24"}}), "document,causal=1,lengths=1000x24");
  EXPECT_EQ(rule_of("random", {{"causal", "true"}}), "causal");
  EXPECT_EQ(rule_of("random", {}), "none");
  EXPECT_EQ(rule_of("block_topk", {{"k", "2"}}), "causal");
  EXPECT_EQ(rule_of("block_topk", {{"k", "2"}, {"causal", "false"}}), "none");
  for (const char* family : {"vertical_slash", "radial", "mixture", "permuted_block_sparse"}) {
    std::map<std::string, std::string> params;
    if (family == std::string("radial")) params["frames"] = "8";
    const std::string rule = rule_of(family, params);
    EXPECT_EQ(rule, "none") << family;
  }
}

// NATTEN's multi-dimensional tiling, written out from NATTEN's own mask definition (its Flex
// backend's mask_mod: stride-group leaders, clamped window centres, causal windows ending at the
// query, dilation groups) and its token permutation (per dimension: dilation group, then tiles
// of the group's slots padded to a tile multiple), independent of gna.cc.
struct NattenDim {
  std::int64_t n, window, stride, dilation, causal, q_tile, kv_tile;
};

bool natten_keeps(const NattenDim& d, std::int64_t x, std::int64_t k) {
  if (x % d.dilation != k % d.dilation) return false;
  const std::int64_t xs = x / d.dilation, ks = k / d.dilation;
  const std::int64_t r = x % d.dilation;
  const std::int64_t n = (d.n - r + d.dilation - 1) / d.dilation;  // coordinates of the group
  if (d.causal) {
    const std::int64_t leader = std::min((xs / d.stride) * d.stride + d.stride - 1, n - 1);
    return xs - ks >= 0 && leader - ks < d.window;
  }
  const std::int64_t leader = std::min((xs / d.stride) * d.stride + d.stride / 2, n - 1);
  const std::int64_t left = d.window / 2, right = d.window / 2 + (d.window % 2 - 1);
  const std::int64_t centre = std::clamp(leader, left, n - 1 - right);
  return (centre - ks >= 0 && centre - ks <= left) || (ks - centre >= 0 && ks - centre <= right);
}

// Tile coordinate and offset of coordinate x in NATTEN's permuted, padded layout.
std::pair<std::int64_t, std::int64_t> natten_place(const NattenDim& d, std::int64_t x,
                                                   std::int64_t tile) {
  const std::int64_t slots = (d.n + d.dilation - 1) / d.dilation;
  const std::int64_t tiles_per_group = (slots + tile - 1) / tile;
  const std::int64_t m = x / d.dilation;
  return {(x % d.dilation) * tiles_per_group + m / tile, m % tile};
}

std::int64_t natten_tiles(const NattenDim& d, std::int64_t tile) {
  const std::int64_t slots = (d.n + d.dilation - 1) / d.dilation;
  return d.dilation * ((slots + tile - 1) / tile);
}

void expect_natten_layout(const std::vector<NattenDim>& dims) {
  std::map<std::string, std::string> params;
  auto join = [&](auto field) {
    std::string out;
    for (const NattenDim& d : dims) out += (out.empty() ? "" : "x") + std::to_string(field(d));
    return out;
  };
  params["dims"] = join([](const NattenDim& d) { return d.n; });
  params["window"] = join([](const NattenDim& d) { return d.window; });
  params["stride"] = join([](const NattenDim& d) { return d.stride; });
  params["dilation"] = join([](const NattenDim& d) { return d.dilation; });
  params["causal"] = join([](const NattenDim& d) { return d.causal; });
  params["q_tile"] = join([](const NattenDim& d) { return d.q_tile; });
  params["kv_tile"] = join([](const NattenDim& d) { return d.kv_tile; });
  const BlockLayout layout = generate("gna", params);
  const MaskGeometry& g = layout.geometry;

  // Brute force over real tokens: pairs per (Q tile, KV tile) and real queries per Q tile.
  std::int64_t q_volume = 1, kv_volume = 1, tokens = 1, q_tiles = 1, kv_tiles = 1;
  for (const NattenDim& d : dims) {
    q_volume *= d.q_tile;
    kv_volume *= d.kv_tile;
    tokens *= d.n;
    q_tiles *= natten_tiles(d, d.q_tile);
    kv_tiles *= natten_tiles(d, d.kv_tile);
  }
  ASSERT_EQ(g.block_q, q_volume);
  ASSERT_EQ(g.block_kv, kv_volume);
  ASSERT_EQ(g.q_blocks(), q_tiles);
  ASSERT_EQ(g.kv_blocks(), kv_tiles);
  ASSERT_EQ(g.seq_q, q_tiles * q_volume);  // padding counted: whole tiles
  ASSERT_EQ(g.seq_kv, kv_tiles * kv_volume);
  std::vector<std::int64_t> pairs(q_tiles * kv_tiles, 0), real_q(q_tiles, 0);
  const auto coords = [&](std::int64_t token, std::vector<std::int64_t>& c) {
    c.resize(dims.size());
    for (std::size_t i = dims.size(); i-- > 0;) {
      c[i] = token % dims[i].n;
      token /= dims[i].n;
    }
  };
  const auto tile_of = [&](const std::vector<std::int64_t>& c, bool q) {
    std::int64_t t = 0;
    for (std::size_t i = 0; i < dims.size(); ++i) {
      const std::int64_t size = q ? dims[i].q_tile : dims[i].kv_tile;
      t = t * natten_tiles(dims[i], size) + natten_place(dims[i], c[i], size).first;
    }
    return t;
  };
  std::vector<std::int64_t> qc, kc;
  std::int64_t total = 0;
  for (std::int64_t q = 0; q < tokens; ++q) {
    coords(q, qc);
    const std::int64_t qt = tile_of(qc, true);
    ++real_q[qt];
    for (std::int64_t k = 0; k < tokens; ++k) {
      coords(k, kc);
      bool keep = true;
      for (std::size_t i = 0; keep && i < dims.size(); ++i)
        keep = natten_keeps(dims[i], qc[i], kc[i]);
      if (keep) {
        ++pairs[qt * kv_tiles + tile_of(kc, false)];
        ++total;
      }
    }
  }
  EXPECT_EQ(layout.allowed_pairs->front(), total);
  for (std::int64_t qt = 0; qt < q_tiles; ++qt) {
    for (std::int64_t kt = 0; kt < kv_tiles; ++kt) {
      const std::int64_t p = pairs[qt * kv_tiles + kt];
      // FULL: every real query keeps every key slot of the KV tile (padding keys are never kept).
      const BlockClass expected = p == 0                        ? BlockClass::kEmpty
                                  : p == real_q[qt] * kv_volume ? BlockClass::kFull
                                                                : BlockClass::kPartial;
      ASSERT_EQ(layout.block_class(qt, kt), expected) << "q tile " << qt << ", kv tile " << kt;
    }
  }
}

TEST(Patterns, NattenTilingMatchesNattensMaskDefinition) {
  // 1-D: Q 8 / KV 4 tiles over 37 tokens (padded to 40), strided, and causal with dilation.
  expect_natten_layout({{37, 9, 3, 1, 0, 8, 4}});
  expect_natten_layout({{37, 5, 2, 3, 1, 4, 8}});
  expect_natten_layout({{29, 7, 4, 1, 1, 4, 2}});  // causal stride groups: leader is the last
  // 2-D: independent Q and KV shapes, padding in both dimensions, one causal dimension, dilation.
  expect_natten_layout({{7, 3, 2, 2, 1, 2, 4}, {10, 5, 3, 1, 0, 4, 2}});
  expect_natten_layout({{12, 6, 6, 1, 0, 4, 2}, {9, 4, 1, 2, 0, 2, 2}});
  expect_natten_layout({{11, 5, 3, 2, 1, 2, 4}, {9, 4, 4, 1, 0, 4, 4}});
  // 3-D with every feature at once.
  expect_natten_layout({{6, 3, 1, 1, 1, 2, 1}, {5, 2, 2, 2, 0, 2, 2}, {8, 5, 4, 1, 0, 4, 2}});
}

TEST(Patterns, NattenLayoutCountsPaddingAsNattenDoes) {
  // Hunyuan Video's 30 frames in Q tiles of 4 frames: 8 tiles (32 frames), the last half padding;
  // KV tiles of 2 frames divide 30: no KV padding.
  const BlockLayout layout = generate(
      "gna",
      {{"dims", "30x48x80"}, {"window", "18x24x24"}, {"q_tile", "4x8x8"}, {"kv_tile", "2x8x8"}});
  EXPECT_EQ(layout.geometry.seq_q, 32 * 48 * 80);
  EXPECT_EQ(layout.geometry.seq_kv, 30 * 48 * 80);
  EXPECT_EQ(layout.geometry.block_q, 256);
  EXPECT_EQ(layout.geometry.block_kv, 128);
  ASSERT_TRUE(layout.tiling.has_value());
  EXPECT_EQ(layout.tiling->tokens(), 30 * 48 * 80);
  EXPECT_EQ(layout.rule->text(),
            "gna,dilation=1x1x1,dims=30x48x80,kv_tile=2x8x8,q_tile=4x8x8,stride=1x1x1,"
            "window=18x24x24");
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

namespace attnsim::gpu {
namespace {

// Families whose heads are alike build one head and repeat its rows; the result must be what
// building every head gives. Every family runs with its defaults (plus what it requires), over
// two batch elements and three heads with an uneven sequence end.
TEST(Patterns, RepeatedAlikeHeadsEqualHeadsBuiltOneByOne) {
  const std::map<std::string, std::map<std::string, std::string>> required = {
      {"radial", {{"frames", "4"}}},          {"gna", {{"dims", "20x50"}, {"window", "7"}}},
      {"document", {{"lengths", "300x700"}}}, {"sliding_window", {{"window", "33"}}},
      {"prefix_lm", {{"prefix", "300"}}},
  };
  int alike = 0;
  for (const PatternFamily* family : pattern_families()) {
    std::map<std::string, std::string> params{{"batch", "2"}, {"heads", "3"}, {"seq", "1000"}};
    const auto extra = required.find(family->name());
    if (extra != required.end()) params.insert(extra->second.begin(), extra->second.end());
    PatternSpec spec = make_pattern_spec(family->name(), params, "test");
    spec.seed = 7;
    const BlockLayout repeated = generate_pattern(spec);
    spec.repeat_alike_heads = false;
    const BlockLayout one_by_one = generate_pattern(spec);
    EXPECT_TRUE(repeated == one_by_one) << family->name();
    PatternParams p(spec.params, "test");
    if (family->configure(p, spec.geometry)->heads_alike()) ++alike;
  }
  // a_shape, band, causal, causal_window, dense, gna, prefix_lm, radial, sliding_window.
  EXPECT_EQ(alike, 9);
}

TEST(BlockLayoutBuilder, RepeatRowsAppendsCopiesAndRefusesOpenRows) {
  BlockLayoutBuilder builder({1, 2, 256, 384, 128, 128});
  builder.add(0, BlockClass::kFull);
  builder.end_row();
  builder.add(1, BlockClass::kPartial);
  builder.add(2, BlockClass::kFull);
  builder.end_row();
  builder.repeat_rows(0, 2);
  const BlockLayout layout = builder.finish();
  EXPECT_EQ(layout.row_begin, (std::vector<std::int64_t>{0, 1, 3, 4, 6}));
  EXPECT_EQ(layout.kv_block, (std::vector<std::int32_t>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(layout.block_class(3, 1), BlockClass::kPartial);
  BlockLayoutBuilder open({1, 2, 256, 384, 128, 128});
  open.add(0, BlockClass::kFull);
  EXPECT_THROW(open.repeat_rows(0, 1), std::logic_error);
}

}  // namespace
}  // namespace attnsim::gpu

namespace attnsim::gpu {
namespace {

// A pattern far past the memory limit is refused from a sample of its rows before it is built
// (issue #17); one that fits is built as before. Limit 1 MiB: 16 heads x 512 x 512 blocks at
// density 1 need about 16 x 512 x 512 x 5 = 21 MB, at density 0.01 about 16 x 512 x 5 x 5 +
// rows = 0.3 MB.
TEST(Patterns, FarPastTheMemoryLimitIsRefusedBeforeGenerating) {
  common::set_max_memory_bytes(1 << 20);
  const std::string dense_one = [] {
    try {
      generate_inline_pattern("random,seq=65536,heads=16,density=1", "test");
    } catch (const common::InputError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  }();
  const BlockLayout sparse =
      generate_inline_pattern("random,seq=65536,heads=16,density=0.01", "test");
  common::set_max_memory_bytes(0);
  EXPECT_NE(dense_one.find("estimated from 64 rows of the first head, before generating"),
            std::string::npos)
      << dense_one;
  EXPECT_NE(dense_one.find("expected at most 1048576 bytes"), std::string::npos) << dense_one;
  EXPECT_GT(sparse.kv_block.size(), 0u);
  EXPECT_LT(sparse.kv_block.size(), 16u * 512u * 12u);
}

}  // namespace
}  // namespace attnsim::gpu
