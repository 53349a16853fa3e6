#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "models/head_pruning.h"
#include "models/progressive_quant.h"
#include "models/spatten_functional.h"
#include "models/token_pruning.h"
#include "models/value_pruning.h"

namespace attnsim::models {
namespace {

TEST(PruningSchedule, KeepCountsAndValidation) {
  const PruningSchedule s = PruningSchedule::step(4, 2, 0.25);
  EXPECT_EQ(s.keep_count(0, 100), 100);
  EXPECT_EQ(s.keep_count(2, 100), 25);
  EXPECT_EQ(s.keep_count(3, 101), 26);  // ceil
  EXPECT_EQ(s.keep_count(3, 2), 1);
  EXPECT_TRUE(s.validate("t", 4).ok());
  EXPECT_FALSE(s.validate("t", 5).ok());
  const PruningSchedule growing{{1.0, 0.5, 0.6}};
  const Violations v = growing.validate("t", 3);
  ASSERT_EQ(v.items().size(), 1u);
  EXPECT_EQ(v.items()[0].field, "t.keep_ratio[2]");
}

TEST(CascadeTokenPruner, KeepsTheMostImportantAndNeverRevives) {
  CascadeTokenPruner pruner(PruningSchedule{{1.0, 0.5, 0.25}}, TopkParams{});
  pruner.start_iteration(8);
  std::uint16_t lfsr = kLfsrDefaultSeed;
  EXPECT_FALSE(pruner.prune_before_layer(0, lfsr).has_value());
  pruner.accumulate({0, 1, 2, 3, 4, 5, 6, 7}, {5, 1, 7, 7, 0, 9, 2, 3});
  ASSERT_TRUE(pruner.prune_before_layer(1, lfsr).has_value());
  EXPECT_EQ(pruner.alive(), (std::vector<int>{0, 2, 3, 5}));
  // Token 1 now becomes the most important, but it was pruned: it must stay out.
  pruner.accumulate({1}, {1000});
  pruner.accumulate({0, 2, 3, 5}, {0, 0, 1, 0});
  ASSERT_TRUE(pruner.prune_before_layer(2, lfsr).has_value());
  EXPECT_EQ(pruner.alive(), (std::vector<int>{3, 5}));  // 3 (8) beats 2 (7) and 0 (5)
  // A new pass starts from every visible token, new ones with importance 0.
  pruner.start_iteration(9);
  EXPECT_EQ(pruner.alive().size(), 9u);
  EXPECT_EQ(pruner.importance()[8], 0);
  EXPECT_EQ(pruner.importance()[1], 1001);
}

TEST(CascadeTokenPruner, TiesKeepTheEarlierToken) {
  CascadeTokenPruner pruner(PruningSchedule{{1.0, 0.5}}, TopkParams{});
  pruner.start_iteration(6);
  std::uint16_t lfsr = kLfsrDefaultSeed;
  pruner.accumulate({0, 1, 2, 3, 4, 5}, {4, 4, 4, 4, 4, 9});
  pruner.prune_before_layer(1, lfsr);
  EXPECT_EQ(pruner.alive(), (std::vector<int>{0, 1, 5}));
}

TEST(CascadeTokenPruner, SaturatesImportanceAtTheEngineWidth) {
  EXPECT_EQ(saturate_to_score(std::int64_t{1} << 40, 32), (std::int64_t{1} << 31) - 1);
  EXPECT_EQ(saturate_to_score(-(std::int64_t{1} << 40), 32), -(std::int64_t{1} << 31));
  EXPECT_EQ(saturate_to_score(12345, 32), 12345);
}

TEST(CascadeHeadPruner, RanksByAbsoluteOutputAndCascades) {
  CascadeHeadPruner pruner(4, PruningSchedule{{1.0, 0.5, 0.25}}, TopkParams{});
  std::uint16_t lfsr = kLfsrDefaultSeed;
  EXPECT_FALSE(pruner.prune_before_layer(0, lfsr).has_value());
  pruner.accumulate(0, {-64, 0}, 4);    // 4
  pruner.accumulate(1, {16, 16}, 4);    // 2
  pruner.accumulate(2, {-160, 15}, 4);  // 10 + 0
  pruner.accumulate(3, {32, -32}, 4);   // 4
  EXPECT_EQ(pruner.importance(), (std::vector<std::int64_t>{4, 2, 10, 4}));
  pruner.prune_before_layer(1, lfsr);
  EXPECT_EQ(pruner.alive(), (std::vector<int>{0, 2}));  // tie 0 vs 3: the lower index
  pruner.prune_before_layer(2, lfsr);
  EXPECT_EQ(pruner.alive(), (std::vector<int>{2}));
}

TEST(LocalValuePruning, KeepsTopProbabilitiesInTokenOrder) {
  std::uint16_t lfsr = kLfsrDefaultSeed;
  const auto r =
      local_value_pruning({3, 8, 9, 12, 20}, {100, 900, 50, 900, 400}, 0.5, TopkParams{}, lfsr);
  EXPECT_TRUE(r.ran_topk);
  EXPECT_EQ(r.rows, (std::vector<int>{8, 12, 20}));
  EXPECT_EQ(r.probs, (std::vector<std::int64_t>{900, 900, 400}));
  EXPECT_NE(lfsr, kLfsrDefaultSeed);
  std::uint16_t untouched = kLfsrDefaultSeed;
  const auto all = local_value_pruning({1, 2}, {5, 6}, 1.0, TopkParams{}, untouched);
  EXPECT_FALSE(all.ran_topk);
  EXPECT_EQ(untouched, kLfsrDefaultSeed);
  EXPECT_EQ(value_keep_count(0.1, 5), 1);
  EXPECT_EQ(value_keep_count(0.21, 10), 3);
}

CodeMatrix random_keys(int rows, int cols, int bits, std::mt19937& rng) {
  std::uniform_int_distribution<std::int32_t> code(-(1 << (bits - 1)), (1 << (bits - 1)) - 1);
  CodeMatrix m{rows, cols, std::vector<std::int32_t>(static_cast<std::size_t>(rows) * cols)};
  for (auto& c : m.codes) c = code(rng);
  return m;
}

TEST(ProgressiveQuant, RecomputesExactlyWhenTheMsbMaximumIsBelowThreshold) {
  std::mt19937 rng(21);
  SoftmaxParams softmax;
  softmax.head_dim = 16;
  softmax.score_frac_bits = 10;
  int requantized = 0;
  int kept = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const CodeMatrix full = random_keys(30, 16, 10, rng);
    const CodeMatrix msb = msb_keys_of(full, 4);
    // Small queries give near-uniform attention (re-quantize), large ones a clear maximum.
    const int range = 1 + trial % 60;
    std::uniform_int_distribution<std::int32_t> qcode(-range, range);
    std::vector<std::int32_t> q(16);
    for (auto& c : q) c = qcode(rng);
    ProgressiveQuantParams p;
    p.max_prob_threshold = 0.1;
    const auto rows = all_rows(30);
    const auto r = progressive_attention_probs(q, msb, full, rows, softmax, p);
    const auto msb_probs = softmax_fixed(qk_scores(q, msb, rows), softmax);
    const auto full_probs = softmax_fixed(qk_scores(q, full, rows), softmax);
    const std::int64_t max_msb = *std::max_element(msb_probs.begin(), msb_probs.end());
    EXPECT_EQ(r.max_prob_msb, max_msb);
    EXPECT_EQ(r.requantized, max_msb < p.threshold_code(softmax.prob_frac_bits));
    EXPECT_EQ(r.probs, r.requantized ? full_probs : msb_probs);
    (r.requantized ? requantized : kept) += 1;
  }
  EXPECT_GT(requantized, 0);  // both branches exercised
  EXPECT_GT(kept, 0);
}

TEST(ChooseFracBits, LargestScaleThatFits) {
  EXPECT_EQ(choose_frac_bits(1.0, 8), 6);      // 64 <= 127 < 128
  EXPECT_EQ(choose_frac_bits(0.9, 8), 7);      // 115.2 <= 127
  EXPECT_EQ(choose_frac_bits(1000.0, 6), -6);  // 1000/32 = 31.25 > 31, 1000/64 fits
  EXPECT_EQ(choose_frac_bits(0.0, 8), 0);
}

AttentionTensors random_tensors(int layers, int heads, int tokens, int dim, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  AttentionTensors t{layers, heads, tokens, dim, {}, {}, {}, {}, true, tokens - 3};
  const std::size_t n = static_cast<std::size_t>(layers) * heads * tokens * dim;
  for (auto* x : {&t.q, &t.k, &t.v}) {
    x->resize(n);
    for (double& e : *x) e = normal(rng);
  }
  return t;
}

TEST(RunSpatten, DenseUnquantizedRunFetchesEverythingOnce) {
  const AttentionTensors t = random_tensors(2, 3, 12, 8, 1);
  SpattenParams p;
  p.quantize = false;
  const SpattenRunResult r = run_spatten(t, p);
  ASSERT_EQ(r.head_steps.size(), 4u * 2 * 3);  // 4 iterations (prompt 9 + 3 tokens)
  std::int64_t expected_dram = 0;
  for (const HeadStepRecord& s : r.head_steps) {
    EXPECT_EQ(s.key_fetch, s.sentence_length);  // causal: the last query sees every token
    EXPECT_EQ(s.value_fetch, s.key_fetch);
    EXPECT_FALSE(s.requantized);
    // Each query reads Q once and K, V rows for every visible token at 16 bits.
    EXPECT_EQ(s.counts.dram_read_bytes, s.queries * 8 * 2 + (s.key_fetch_total * 2) * 8 * 2);
    EXPECT_EQ(s.counts.macs, 2 * s.key_fetch_total * 8);
    expected_dram += s.counts.dram_read_bytes;
  }
  EXPECT_EQ(r.total.dram_read_bytes, expected_dram);
}

TEST(RunSpatten, PrunedRunRespectsTheSchedulesAndIsDeterministic) {
  const AttentionTensors t = random_tensors(3, 4, 20, 8, 2);
  SpattenParams p;
  p.token_schedule = PruningSchedule{{1.0, 0.5, 0.25}};
  p.head_schedule = PruningSchedule{{1.0, 0.75, 0.5}};
  p.value_keep_ratio = 0.3;
  const SpattenRunResult a = run_spatten(t, p);
  const SpattenRunResult b = run_spatten(t, p);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    const LayerRecord& l = a.layers[i];
    EXPECT_EQ(l.alive_tokens, b.layers[i].alive_tokens);
    const int visible = t.prompt_tokens + l.iteration;
    EXPECT_EQ(static_cast<int>(l.alive_tokens.size()),
              p.token_schedule.keep_count(l.layer, visible));
    EXPECT_EQ(static_cast<int>(l.alive_heads.size()), p.head_schedule.keep_count(l.layer, 4));
    if (l.layer > 0) {  // cascade: alive sets only shrink within a pass
      const LayerRecord& prev = a.layers[i - 1];
      EXPECT_TRUE(std::includes(prev.alive_tokens.begin(), prev.alive_tokens.end(),
                                l.alive_tokens.begin(), l.alive_tokens.end()));
      EXPECT_TRUE(std::includes(prev.alive_heads.begin(), prev.alive_heads.end(),
                                l.alive_heads.begin(), l.alive_heads.end()));
    }
  }
  for (const HeadStepRecord& s : a.head_steps) {
    EXPECT_EQ(s.value_fetch, value_keep_count(0.3, s.key_fetch));
  }
  EXPECT_EQ(a.total, b.total);
}

TEST(RunSpatten, TinyAndZeroTensorsAreHandled) {
  AttentionTensors t = random_tensors(1, 2, 6, 4, 4);
  for (double& x : t.q) x *= 1e-12;
  for (double& x : t.k) x *= 1e-12;
  std::fill(t.v.begin(), t.v.end(), 0.0);
  const SpattenRunResult r = run_spatten(t, SpattenParams{});
  ASSERT_FALSE(r.head_steps.empty());
  EXPECT_EQ(r.head_steps.back().key_fetch, 6);
  EXPECT_EQ(choose_frac_bits(1e-12, 16), 24);
}

TEST(RunSpatten, RejectsInconsistentInput) {
  AttentionTensors t = random_tensors(1, 1, 4, 2, 3);
  t.v.pop_back();
  EXPECT_THROW(run_spatten(t, SpattenParams{}), std::invalid_argument);
  t = random_tensors(2, 1, 4, 2, 3);
  SpattenParams p;
  p.token_schedule = PruningSchedule{{1.0}};  // one ratio for two layers
  EXPECT_THROW(run_spatten(t, p), std::invalid_argument);
}

}  // namespace
}  // namespace attnsim::models
