// apply_mask_rule against brute force over every (q, kv) pair of small masks: each rule of
// mask_rules.md is re-implemented here from the spec's formulas, independently of the patterns.
#include "sim/gpu/mask_rule_apply.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>

#include "sim/common/input_error.h"
#include "sim/gpu/patterns/pattern.h"

namespace attnsim::gpu {
namespace {

using Allowed = std::function<bool(std::int64_t b, std::int64_t q, std::int64_t k)>;

// mask_rules.md's gna_range, written out again: the keys of x are [first, first + count*step).
struct Range {
  std::int64_t first, count, step;
  bool has(std::int64_t k) const {
    return k >= first && (k - first) % step == 0 && (k - first) / step < count;
  }
};
Range spec_gna_range(std::int64_t x, std::int64_t n, std::int64_t window, std::int64_t stride,
                     std::int64_t dilation) {
  const std::int64_t residue = x % dilation, m = x / dilation;
  const std::int64_t sub_n = (n - residue + dilation - 1) / dilation;
  const std::int64_t w = std::min(window, sub_n);
  const std::int64_t leader = std::min((m / stride) * stride + stride / 2, sub_n - 1);
  const std::int64_t start = std::max<std::int64_t>(0, std::min(leader - window / 2, sub_n - w));
  return {residue + start * dilation, w, dilation};
}

struct BruteForce {
  std::vector<std::uint8_t> classes;  // [b][qb][kb], FlexAttention's: FULL = whole block allowed
  std::vector<std::int64_t> pairs;    // same index
};

BruteForce brute_force(const MaskGeometry& g, const Allowed& allowed) {
  const std::int64_t nq = g.q_blocks(), nk = g.kv_blocks();
  BruteForce out;
  out.classes.assign(g.batch * nq * nk, 0);
  out.pairs.assign(g.batch * nq * nk, 0);
  for (std::int64_t b = 0; b < g.batch; ++b) {
    for (std::int64_t q = 0; q < g.seq_q; ++q) {
      for (std::int64_t k = 0; k < g.seq_kv; ++k) {
        if (allowed(b, q, k)) ++out.pairs[(b * nq + q / g.block_q) * nk + k / g.block_kv];
      }
    }
  }
  for (std::size_t i = 0; i < out.pairs.size(); ++i) {
    out.classes[i] = out.pairs[i] == 0 ? 0 : out.pairs[i] == g.block_q * g.block_kv ? 2 : 1;
  }
  return out;
}

// Heads differ in which blocks they list: head h lists the brute-force blocks (FULL as FULL,
// partial as partial) plus, for h odd, every empty block as partial, and for h = 2 every block
// as partial. Expected pairs: the brute-force pairs of the listed blocks.
struct Case {
  BlockLayout layout;
  std::vector<std::int64_t> expected;
};

Case make_case(const MaskGeometry& g, const BruteForce& bf) {
  const std::int64_t nq = g.q_blocks(), nk = g.kv_blocks();
  BlockLayoutBuilder builder(g);
  Case c;
  for (std::int64_t b = 0; b < g.batch; ++b) {
    for (std::int64_t h = 0; h < g.heads; ++h) {
      std::int64_t expected = 0;
      for (std::int64_t qb = 0; qb < nq; ++qb) {
        for (std::int64_t kb = 0; kb < nk; ++kb) {
          const std::size_t i = (b * nq + qb) * nk + kb;
          BlockClass cls = static_cast<BlockClass>(bf.classes[i]);
          if (h == 2 || (h % 2 == 1 && cls == BlockClass::kEmpty)) cls = BlockClass::kPartial;
          if (cls != BlockClass::kEmpty) expected += bf.pairs[i];
          builder.add(static_cast<std::int32_t>(kb), cls);
        }
        builder.end_row();
      }
      c.expected.push_back(expected);
    }
  }
  c.layout = builder.finish();
  return c;
}

void expect_rule_matches(const std::string& text, const MaskGeometry& g, const Allowed& allowed) {
  SCOPED_TRACE(text + " seq_q " + std::to_string(g.seq_q) + " seq_kv " + std::to_string(g.seq_kv) +
               " block " + std::to_string(g.block_q) + "x" + std::to_string(g.block_kv));
  const BruteForce bf = brute_force(g, allowed);
  Case c = make_case(g, bf);
  const MaskRule rule = parse_mask_rule(text, "test", "rule");
  apply_mask_rule(c.layout, rule, "test.npz");
  ASSERT_TRUE(c.layout.allowed_pairs.has_value());
  EXPECT_EQ(*c.layout.allowed_pairs, c.expected);
  ASSERT_TRUE(c.layout.rule.has_value());
  EXPECT_EQ(c.layout.rule->text(), text);
  // The brute force's full blocks are the only ones the rule lets stay FULL: any partial block
  // turned FULL must be rejected.
  const std::int64_t nq = g.q_blocks(), nk = g.kv_blocks();
  for (std::size_t i = 0; i < bf.classes.size(); ++i) {
    if (bf.classes[i] != 1) continue;
    BlockLayoutBuilder builder(g);
    const std::int64_t b = static_cast<std::int64_t>(i) / (nq * nk);
    for (std::int64_t bb = 0; bb < g.batch; ++bb) {
      for (std::int64_t h = 0; h < g.heads; ++h) {
        for (std::int64_t qb = 0; qb < nq; ++qb) {
          const std::int64_t at = (bb * nq + qb) * nk;
          if (bb == b && h == g.heads - 1 && at <= static_cast<std::int64_t>(i) &&
              static_cast<std::int64_t>(i) < at + nk) {
            builder.add(static_cast<std::int32_t>(i - at), BlockClass::kFull);
          }
          builder.end_row();
        }
      }
    }
    BlockLayout bad = builder.finish();
    EXPECT_THROW(apply_mask_rule(bad, rule, "bad.npz"), common::InputError);
    break;  // one per rule and geometry keeps the test fast
  }
}

std::vector<MaskGeometry> geometries(bool square) {
  std::vector<MaskGeometry> out;
  for (const auto& [sq, skv, bq, bkv] : std::vector<std::array<std::int64_t, 4>>{
           {300, 300, 64, 64}, {640, 640, 128, 128}, {500, 500, 128, 64}, {384, 520, 64, 128}}) {
    if (square && sq != skv) continue;
    MaskGeometry g;
    g.batch = 2;
    g.heads = 3;
    g.seq_q = sq;
    g.seq_kv = skv;
    g.block_q = bq;
    g.block_kv = bkv;
    out.push_back(g);
  }
  return out;
}

TEST(MaskRuleApply, SimpleRulesMatchBruteForce) {
  for (const MaskGeometry& g : geometries(false)) {
    expect_rule_matches("allow", g, [](auto, auto, auto) { return true; });
    expect_rule_matches("causal", g, [](auto, auto q, auto k) { return k <= q; });
    expect_rule_matches("causal_window,window=100", g,
                        [](auto, auto q, auto k) { return k <= q && q - k < 100; });
    expect_rule_matches("band,left=70,right=33", g,
                        [](auto, auto q, auto k) { return q - 70 <= k && k <= q + 33; });
    expect_rule_matches("prefix_lm,prefix=77", g,
                        [](auto, auto q, auto k) { return k < 77 || k <= q; });
    expect_rule_matches("a_shape,sinks=10,window=90", g,
                        [](auto, auto q, auto k) { return k <= q && (k < 10 || q - k < 90); });
  }
}

TEST(MaskRuleApply, NeighborhoodRulesMatchBruteForce) {
  for (const MaskGeometry& g : geometries(true)) {
    const std::int64_t n = g.seq_q;
    expect_rule_matches(
        "sliding_window,dilation=2,stride=3,window=21", g,
        [n](auto, auto q, auto k) { return spec_gna_range(q, n, 21, 3, 2).has(k); });
    expect_rule_matches("sliding_window,window=64", g, [n](auto, auto q, auto k) {
      return spec_gna_range(q, n, 64, 1, 1).has(k);
    });
  }
  // 2-D on a row-major 12 x 25 grid.
  MaskGeometry g = geometries(true).front();
  expect_rule_matches("gna,dilation=2x1,dims=12x25,stride=1x2,window=5x7", g,
                      [](auto, auto q, auto k) {
                        return spec_gna_range(q / 25, 12, 5, 1, 2).has(k / 25) &&
                               spec_gna_range(q % 25, 25, 7, 2, 1).has(k % 25);
                      });
  // Tile order: 16 x 32 tokens in 4 x 16 tiles (64 tokens = one block), tiles numbered row-major.
  g.seq_q = g.seq_kv = 512;
  g.block_q = g.block_kv = 64;
  const auto coords = [](std::int64_t t, std::int64_t& y, std::int64_t& x) {
    const std::int64_t tile = t / 64, inside = t % 64;
    y = (tile / 2) * 4 + inside / 16;
    x = (tile % 2) * 16 + inside % 16;
  };
  expect_rule_matches(
      "gna,dilation=1,dims=16x32,stride=1,tile=4x16,window=3x9", g, [&](auto, auto q, auto k) {
        std::int64_t qy, qx, ky, kx;
        coords(q, qy, qx);
        coords(k, ky, kx);
        return spec_gna_range(qy, 16, 3, 1, 1).has(ky) && spec_gna_range(qx, 32, 9, 1, 1).has(kx);
      });
}

TEST(MaskRuleApply, DocumentRulesMatchBruteForcePerBatchElement) {
  for (const MaskGeometry& g : geometries(true)) {
    // Batch 0: documents of 50, 1, 99, rest; batch 1: 170, rest (unaligned to the blocks).
    const std::vector<std::vector<std::int64_t>> docs = {{50, 1, 99, g.seq_q - 150},
                                                         {170, g.seq_q - 170}};
    const auto doc = [&](std::int64_t b, std::int64_t t) {
      std::int64_t d = 0, end = docs[b][0];
      while (t >= end) end += docs[b][++d];
      return d;
    };
    const std::string lengths =
        "50x1x99x" + std::to_string(g.seq_q - 150) + "/170x" + std::to_string(g.seq_q - 170);
    expect_rule_matches("document,causal=1,lengths=" + lengths, g,
                        [&](auto b, auto q, auto k) { return doc(b, q) == doc(b, k) && k <= q; });
    expect_rule_matches("document,causal=0,lengths=" + lengths, g,
                        [&](auto b, auto q, auto k) { return doc(b, q) == doc(b, k); });
    // One list for every batch element.
    expect_rule_matches("document,lengths=170x" + std::to_string(g.seq_q - 170), g,
                        [&](auto, auto q, auto k) { return doc(1, q) == doc(1, k) && k <= q; });
  }
}

TEST(MaskRuleApply, CustomKeepsThePairCountsAndRecordsTheRule) {
  BlockLayout layout = generate_pattern(
      make_pattern_spec("random", {{"seq", "1000"}, {"heads", "2"}, {"density", "0.3"}}, "test"));
  layout.allowed_pairs.reset();
  apply_mask_rule(layout, parse_mask_rule("custom", "t", "rule"), "t");
  EXPECT_FALSE(layout.allowed_pairs.has_value());
  EXPECT_EQ(layout.rule->text(), "custom");
}

TEST(MaskRuleApply, AFullBlockTheRuleMasksIsAnInputErrorNamingTheBlockAndTheRule) {
  MaskGeometry g;
  g.batch = 2;
  g.heads = 3;
  g.seq_q = g.seq_kv = 512;
  BlockLayoutBuilder builder(g);
  for (std::int64_t row = 0; row < g.rows(); ++row) {
    // (batch 1, head 2, q block 3): kv block 3 FULL, but the causal rule cuts the diagonal.
    if (row == (1 * 3 + 2) * 4 + 3) builder.add(3, BlockClass::kFull);
    builder.end_row();
  }
  BlockLayout layout = builder.finish();
  try {
    apply_mask_rule(layout, parse_mask_rule("causal", "t", "rule"), "masks/x.npz");
    FAIL() << "no error";
  } catch (const common::InputError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("masks/x.npz: rule: ", 0), 0u) << message;
    EXPECT_NE(message.find("(batch 1, head 2, q block 3, kv block 3)"), std::string::npos)
        << message;
    EXPECT_NE(message.find("'causal'"), std::string::npos) << message;
    EXPECT_NE(message.find("keeps 8256 of 16384 pairs"), std::string::npos)
        << message;  // 128*129/2
  }
}

TEST(MaskRuleApply, BlocksCutByTheSequenceEndAreNeverFull) {
  MaskGeometry g;
  g.seq_q = g.seq_kv = 200;  // the second 128-block is cut to 72 tokens
  BlockLayoutBuilder builder(g);
  builder.add(0, BlockClass::kFull);
  builder.end_row();
  builder.add(1, BlockClass::kFull);
  builder.end_row();
  BlockLayout layout = builder.finish();
  EXPECT_THROW(apply_mask_rule(layout, parse_mask_rule("allow", "t", "rule"), "t"),
               common::InputError);
  BlockLayout ok = layout;
  ok.is_full[1] = 0;
  apply_mask_rule(ok, parse_mask_rule("allow", "t", "rule"), "t");
  EXPECT_EQ(*ok.allowed_pairs, std::vector<std::int64_t>{128 * 128 + 72 * 72});
}

TEST(MaskRuleApply, RuleParametersThatDoNotFitTheGeometryAreInputErrors) {
  MaskGeometry g;
  g.seq_q = g.seq_kv = 256;
  BlockLayout layout = dense_layout(g);
  EXPECT_THROW(apply_mask_rule(layout, parse_mask_rule("document,lengths=100x100", "t", "r"), "t"),
               common::InputError);
  EXPECT_THROW(apply_mask_rule(layout, parse_mask_rule("gna,dims=10x10,window=3", "t", "r"), "t"),
               common::InputError);
}

TEST(MaskRuleApply, SixtyFourKTokensFortyEightHeadsBatchEightIsFast) {
  const BlockLayout one = generate_pattern(
      make_pattern_spec("causal_window", {{"seq", "65536"}, {"window", "4096"}}, "test"));
  BlockLayout layout = *broadcast_layout(one, 8, 48);
  const std::vector<std::int64_t> expected(8 * 48, one.allowed_pairs->front());
  layout.allowed_pairs.reset();
  const auto start = std::chrono::steady_clock::now();
  apply_mask_rule(layout, parse_mask_rule("causal_window,window=4096", "t", "r"), "t");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(*layout.allowed_pairs, expected);
  // Closed form: every query sees min(q + 1, 4096) keys.
  EXPECT_EQ(expected.front(), 4096LL * 4097 / 2 + (65536LL - 4096) * 4096);
#ifdef NDEBUG
  EXPECT_LT(seconds, 1.0);
#else
  (void)seconds;  // unoptimised builds only check the counts
#endif
}

}  // namespace
}  // namespace attnsim::gpu
