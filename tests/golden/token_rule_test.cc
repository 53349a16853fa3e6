// Mask rule -> golden token rule (token_rule_from_mask_rule), and the kernel's packed neighborhood
// test against tilesim's gna_range on every pair of small grids: host code, no GPU needed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "golden/neighborhood.h"
#include "golden/token_rule_from_mask_rule.h"
#include "sim/common/input_error.h"
#include "sim/gpu/patterns/gna.h"

namespace attnsim::golden {
namespace {

GoldenTokenRule translate(const std::string& text, int batch = 1, int seq = 1024) {
  return token_rule_from_text(text, batch, seq, seq, "--rule");
}

TEST(GoldenTokenRule, WindowFamilies) {
  EXPECT_EQ(translate("allow").params.rule, TokenRule::kAllowAll);
  const TokenRuleParams causal = translate("causal").params;
  EXPECT_EQ(causal.rule, TokenRule::kWindow);
  EXPECT_EQ(causal.window_left, 1024);
  EXPECT_EQ(causal.window_right, 0);
  const TokenRuleParams causal_window = translate("causal_window,window=256").params;
  EXPECT_EQ(causal_window.window_left, 255);  // q - W < kv <= q
  EXPECT_EQ(causal_window.window_right, 0);
  const GoldenTokenRule band = translate("band,right=7,left=100");
  EXPECT_EQ(band.params.window_left, 100);
  EXPECT_EQ(band.params.window_right, 7);
  EXPECT_EQ(band.text, "band,left=100,right=7");  // canonical: keys in order
  const GoldenTokenRule old_spelling = translate("window:200:50");
  EXPECT_EQ(old_spelling.params.rule, TokenRule::kWindow);
  EXPECT_EQ(old_spelling.params.window_left, 200);
  EXPECT_EQ(old_spelling.params.window_right, 50);
  EXPECT_EQ(old_spelling.text, "band,left=200,right=50");
}

TEST(GoldenTokenRule, PrefixAndSinks) {
  const TokenRuleParams prefix = translate("prefix_lm,prefix=300").params;
  EXPECT_EQ(prefix.rule, TokenRule::kPrefixWindow);
  EXPECT_EQ(prefix.prefix, 300);
  EXPECT_EQ(prefix.window_left, 1024);
  EXPECT_EQ(prefix.window_right, 0);
  EXPECT_FALSE(prefix.prefix_causal);
  const TokenRuleParams a_shape = translate("a_shape,sinks=64,window=512").params;
  EXPECT_EQ(a_shape.rule, TokenRule::kPrefixWindow);
  EXPECT_EQ(a_shape.prefix, 64);
  EXPECT_EQ(a_shape.window_left, 511);
  EXPECT_TRUE(a_shape.prefix_causal);
}

TEST(GoldenTokenRule, Neighborhoods) {
  const TokenRuleParams sliding = translate("sliding_window,window=65,dilation=2,stride=4").params;
  EXPECT_EQ(sliding.rule, TokenRule::kNeighborhood);
  EXPECT_EQ(sliding.grid_rank, 1);
  EXPECT_EQ(sliding.grid_dims[0], 1024);
  EXPECT_EQ(sliding.neighborhood_window[0], 65);
  EXPECT_EQ(sliding.neighborhood_stride[0], 4);
  EXPECT_EQ(sliding.neighborhood_dilation[0], 2);
  const TokenRuleParams gna = translate("gna,dims=4x16x16,window=3x5x7,stride=2").params;
  EXPECT_EQ(gna.grid_rank, 3);
  EXPECT_EQ(gna.grid_dims[0], 4);
  EXPECT_EQ(gna.grid_dims[2], 16);
  EXPECT_EQ(gna.neighborhood_window[1], 5);
  EXPECT_EQ(gna.neighborhood_stride[2], 2);  // one value for every dimension
  EXPECT_EQ(gna.neighborhood_dilation[1], 1);
}

TEST(GoldenTokenRule, DocumentIdsFromLengths) {
  const GoldenTokenRule shared = translate("document,lengths=3x5", 2, 8);
  EXPECT_EQ(shared.params.rule, TokenRule::kDocument);
  EXPECT_EQ(shared.params.window_right, 0);  // causal by default
  EXPECT_EQ(shared.document_ids,
            (std::vector<std::int32_t>{0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1}));
  const GoldenTokenRule per_batch = translate("document,lengths=8/2x2x4,causal=0", 2, 8);
  EXPECT_EQ(per_batch.params.window_left, 8);
  EXPECT_EQ(per_batch.params.window_right, 8);  // not causal
  EXPECT_EQ(per_batch.document_ids,
            (std::vector<std::int32_t>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2}));
  EXPECT_TRUE(per_batch.params.document_ids == nullptr);  // the caller uploads the ids
  // Each position's document's first and last position, per batch element.
  EXPECT_EQ(per_batch.document_runs,
            (std::vector<std::int32_t>{0, 7, 0, 7, 0, 7, 0, 7, 0, 7, 0, 7, 0, 7, 0, 7,  // b0
                                       0, 1, 0, 1, 2, 3, 2, 3, 4, 7, 4, 7, 4, 7, 4, 7}));
  EXPECT_TRUE(per_batch.params.document_runs == nullptr);
}

// Ids whose equality is not one interval per row (an id in two runs) have no runs: the kernels
// then compare ids. Each batch element is checked on its own.
TEST(GoldenTokenRule, DocumentRunsOnlyForContiguousIds) {
  EXPECT_EQ(document_runs({5, 5, 2, 9, 9, 9}, 1, 6),
            (std::vector<std::int32_t>{0, 1, 0, 1, 2, 2, 3, 5, 3, 5, 3, 5}));
  EXPECT_TRUE(document_runs({0, 0, 1, 0}, 1, 4).empty());
  EXPECT_TRUE(document_runs({0, 1, 1, 1, 0, 1}, 2, 3).empty());  // batch element 1 is 1, 0, 1
  EXPECT_EQ(document_runs({0, 1, 1, 1, 1, 0}, 2, 3),             // two elements, 0 1 1 | 1 1 0
            (std::vector<std::int32_t>{0, 0, 1, 2, 1, 2, 0, 1, 0, 1, 2, 2}));
}

// Each bad text throws InputError naming the rule's field.
TEST(GoldenTokenRule, BadTextsNameTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"document,lengths=3x4", "rule document lengths"},      // sum 7, not 8
      {"document,lengths=4x4/8/8", "rule document lengths"},  // 3 lists for batch 2
      {"document,lengths=4xq", "rule document lengths"},
      {"document,lengths=8,causal=2", "rule document causal"},
      {"gna,dims=3x3,window=3", "rule gna dims"},  // 9 tokens, not 8
      {"gna,dims=8,window=3", "rule gna dims"},    // 1-D is sliding_window
      {"gna,dims=2x4,window=3x3x3", "rule gna window"},
      {"gna,dims=2x4,window=3,tile=1x2", "rule gna tile"},
      {"gna,dims=2x4,window=3,q_tile=1x2,kv_tile=1x2", "rule gna q_tile"},
      {"gna,dims=2x4,window=3,causal=1x0", "rule gna causal"},
      {"sliding_window,window=3,causal=1", "rule sliding_window causal"},
      {"sliding_window,window=0", "rule sliding_window window"},
      {"causal_window,window=abc", "rule causal_window window"},
      {"band,left=-1,right=0", "rule band left"},
      {"prefix_lm,prefix=", "rule"},
      {"custom", "rule"},
      {"window:3", "rule"},
      {"nonsense", "rule"},
  };
  for (const auto& [text, field] : cases) {
    try {
      token_rule_from_text(text, 2, 8, 8, "--rule");
      ADD_FAILURE() << text << ": no error";
    } catch (const common::InputError& error) {
      const std::string what = error.what();
      EXPECT_NE(what.find("--rule: " + field), std::string::npos) << text << ": " << what;
    }
  }
}

// The kernel's packed neighborhood test against tilesim's gna_range on every (query, key) pair.
void expect_packed_matches_gna(const std::vector<int>& dims, const std::vector<int>& window,
                               const std::vector<int>& stride, const std::vector<int>& dilation) {
  TokenRuleParams p;
  p.rule = TokenRule::kNeighborhood;
  p.grid_rank = static_cast<int>(dims.size());
  int seq = 1;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    p.grid_dims[d] = dims[d];
    p.neighborhood_window[d] = window[d];
    p.neighborhood_stride[d] = stride[d];
    p.neighborhood_dilation[d] = dilation[d];
    seq *= dims[d];
  }
  const std::uint32_t guards = neighborhood_guards(p.grid_rank);
  long kept = 0;
  for (int q = 0; q < seq; ++q) {
    std::uint32_t low = 0, span = 0;
    neighborhood_row_words(p, q, &low, &span);
    for (int kv = 0; kv < seq; ++kv) {
      bool want = true;
      int qr = q, kr = kv;
      for (int d = p.grid_rank - 1; d >= 0; --d) {
        const int x = qr % dims[d], c = kr % dims[d];
        qr /= dims[d];
        kr /= dims[d];
        const gpu::GnaRange r = gpu::gna_range(x, dims[d], window[d], stride[d], dilation[d]);
        want =
            want && c >= r.start && c < r.start + r.count * r.step && (c - r.start) % r.step == 0;
        const NeighborhoodRange mine =
            neighborhood_range(x, dims[d], window[d], stride[d], dilation[d]);
        ASSERT_EQ(mine.residue + mine.start * dilation[d], r.start);
        ASSERT_EQ(mine.count, r.count);
      }
      const bool got = neighborhood_allows(neighborhood_key_word(p, kv), low, span, guards);
      ASSERT_EQ(got, want) << "q " << q << " kv " << kv;
      kept += want;
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, static_cast<long>(seq) * seq);
}

TEST(GoldenNeighborhood, PackedTestMatchesTilesimGnaRange) {
  expect_packed_matches_gna({37}, {7}, {1}, {1});
  expect_packed_matches_gna({53}, {9}, {3}, {2});
  expect_packed_matches_gna({40}, {64}, {1}, {3});  // window wider than the sub-grid
  expect_packed_matches_gna({9, 11}, {3, 5}, {2, 1}, {1, 2});
  expect_packed_matches_gna({12, 10}, {5, 5}, {5, 5}, {1, 1});  // blocked (stride = window)
  expect_packed_matches_gna({4, 5, 6}, {3, 3, 4}, {1, 2, 1}, {1, 2, 2});
}

}  // namespace
}  // namespace attnsim::golden
