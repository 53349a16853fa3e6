#include "models/softmax.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "models/attention.h"

namespace attnsim::models {
namespace {

TEST(Exp2Fixed, IsExactAtZeroAndAtIntegers) {
  const SoftmaxParams p;
  const auto table = exp2_table(p);
  const std::int64_t one_t = std::int64_t{1} << p.exponent_frac_bits;
  EXPECT_EQ(exp2_fixed(0, p, table), std::int64_t{1} << p.exp_frac_bits);
  EXPECT_EQ(exp2_fixed(-one_t, p, table), std::int64_t{1} << (p.exp_frac_bits - 1));
  EXPECT_EQ(exp2_fixed(-3 * one_t, p, table), std::int64_t{1} << (p.exp_frac_bits - 3));
  EXPECT_EQ(exp2_fixed(-100 * one_t, p, table), 0);
}

// Linear interpolation of 2^x on segments of width h errs by at most (ln 2)^2 h^2 / 8 relative,
// plus half a unit of the table's rounding and one unit of the interpolation's truncation.
TEST(Exp2Fixed, RelativeErrorWithinTheInterpolationBound) {
  for (int index_bits : {3, 4, 5, 6}) {
    SoftmaxParams p;
    p.lut_index_bits = index_bits;
    const auto table = exp2_table(p);
    const double h = std::ldexp(1.0, -index_bits);
    const double bound = std::log(2.0) * std::log(2.0) * h * h / 8 + 2 * std::ldexp(1.0, -16);
    const std::int64_t one_t = std::int64_t{1} << p.exponent_frac_bits;
    for (std::int64_t t = -one_t; t <= 0; t += 7) {
      const double exact = std::exp2(std::ldexp(static_cast<double>(t), -p.exponent_frac_bits));
      const double got = std::ldexp(static_cast<double>(exp2_fixed(t, p, table)), -p.exp_frac_bits);
      EXPECT_LE(std::fabs(got - exact) / exact, bound) << "index_bits=" << index_bits << " t=" << t;
    }
  }
}

TEST(SoftmaxFixed, SumsToOneWithinRounding) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<std::int64_t> score(-40000, 40000);
  const SoftmaxParams p;
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<std::int64_t> s(1 + trial * 13);
    for (auto& x : s) x = score(rng);
    const auto probs = softmax_fixed(s, p);
    const std::int64_t sum = std::accumulate(probs.begin(), probs.end(), std::int64_t{0});
    // each rounded divide is off by at most half a code
    EXPECT_LE(std::llabs(sum - (std::int64_t{1} << p.prob_frac_bits)),
              static_cast<std::int64_t>(s.size()) / 2 + 1);
  }
}

TEST(SoftmaxFixed, CloseToFloat64Reference) {
  std::mt19937 rng(5);
  for (int prob_bits : {8, 12, 16}) {
    SoftmaxParams p;
    p.prob_frac_bits = prob_bits;
    // scores spanning about +-8 in logits after the 1/sqrt(D) scale
    std::uniform_int_distribution<std::int64_t> score(-8 * 8 * 4096, 8 * 8 * 4096);
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<std::int64_t> s(256);
      for (auto& x : s) x = score(rng);
      const auto probs = softmax_fixed(s, p);
      const auto ref = softmax_reference(s, p);
      for (std::size_t j = 0; j < s.size(); ++j) {
        // Half a probability code, plus a relative error of about twice the exp approximation's
        // (numerator and sum) and the rounding of the exponent constant times |t| (up to ~12),
        // plus one unit of the exp value over a sum of at least exp(max) = 1.
        const double bound =
            std::ldexp(0.5, -prob_bits) + std::ldexp(1.0, -p.exp_frac_bits) + 1e-3 * ref[j];
        EXPECT_LE(std::fabs(std::ldexp(static_cast<double>(probs[j]), -prob_bits) - ref[j]), bound)
            << prob_bits << " " << j;
      }
    }
  }
}

TEST(SoftmaxFixed, OrderIsPreserved) {
  const SoftmaxParams p;
  const std::vector<std::int64_t> s{100, 5000, 5000, -30000, 20000};
  const auto probs = softmax_fixed(s, p);
  EXPECT_EQ(probs[1], probs[2]);
  EXPECT_GT(probs[4], probs[1]);
  EXPECT_GE(probs[1], probs[0]);
  EXPECT_GE(probs[0], probs[3]);
}

TEST(SoftmaxFixed, WithoutTheMaxPassLogitsInRangeGiveTheSameProbabilities) {
  // Logits in [-4, 4): far inside the 11 integer bits of the no-max exp format (up to 2^11, logit
  // 7.6). Every code within 2 of the max-subtract result, and no max-reduction comparisons.
  SoftmaxParams with_max;
  SoftmaxParams no_max;
  no_max.subtract_max = false;
  std::mt19937_64 rng(3);
  const double to_score = 8.0 * 4096;  // sqrt(D) x 2^score_frac_bits: logit 1
  std::vector<std::int64_t> s(500);
  for (auto& x : s)
    x = static_cast<std::int64_t>((static_cast<double>(rng() % 8000) / 1000 - 4) * to_score);
  ActionCounts counts;
  const auto a = softmax_fixed(s, with_max);
  const auto b = softmax_fixed(s, no_max, &counts);
  for (std::size_t j = 0; j < s.size(); ++j) EXPECT_NEAR(a[j], b[j], 2) << j;
  EXPECT_EQ(counts.comparisons, 0);
  EXPECT_EQ(counts.exps, 500);
}

TEST(SoftmaxFixed, WithoutTheMaxPassLargeLogitsSaturate) {
  // Logits 20 and 10: exact p = 0.99995 / 0.00005. Without the max pass both exceed the format's
  // largest exponent (11 bits: logit 7.6), saturate to the same value and split 50/50.
  SoftmaxParams no_max;
  no_max.subtract_max = false;
  const std::vector<std::int64_t> s{20 * 8 * 4096, 10 * 8 * 4096};
  const auto p = softmax_fixed(s, no_max);
  EXPECT_EQ(p[0], 2048);
  EXPECT_EQ(p[1], 2048);
  EXPECT_EQ(softmax_fixed(s, SoftmaxParams{})[0], 4096);  // the max pass gets it right
}

TEST(SoftmaxFixed, CountsActions) {
  ActionCounts counts;
  softmax_fixed({1, 2, 3, 4}, SoftmaxParams{}, &counts);
  EXPECT_EQ(counts.exps, 4);
  EXPECT_EQ(counts.divides, 4);
  EXPECT_EQ(counts.comparisons, 3);
}

TEST(SoftmaxParams, ValidateRejectsAnImpossibleShift) {
  SoftmaxParams p;
  p.score_frac_bits = 0;
  p.constant_frac_bits = 4;
  p.exponent_frac_bits = 10;
  const Violations v = p.validate("softmax");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.items()[0].field, "softmax.exponent_frac_bits");
  EXPECT_TRUE(SoftmaxParams{}.validate("softmax").ok());
}

TEST(Attention, ScoresAndOutputsMatchDoubleArithmetic) {
  std::mt19937 rng(9);
  std::uniform_int_distribution<std::int32_t> code(-512, 511);
  CodeMatrix keys{10, 8, std::vector<std::int32_t>(80)};
  for (auto& c : keys.codes) c = code(rng);
  std::vector<std::int32_t> q(8);
  for (auto& c : q) c = code(rng);
  const std::vector<int> rows{7, 2, 9};
  ActionCounts counts;
  const auto s = qk_scores(q, keys, rows, &counts);
  ASSERT_EQ(s.size(), 3u);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    double expected = 0;
    for (int d = 0; d < 8; ++d) expected += double(q[d]) * keys.row(rows[i])[d];
    EXPECT_EQ(static_cast<double>(s[i]), expected);
  }
  EXPECT_EQ(counts.macs, 24);
  const std::vector<std::int64_t> probs{100, 0, 3996};
  const auto out = prob_times_v(probs, keys, rows, &counts);
  for (int d = 0; d < 8; ++d) {
    double expected = 0;
    for (std::size_t i = 0; i < rows.size(); ++i)
      expected += double(probs[i]) * keys.row(rows[i])[d];
    EXPECT_EQ(static_cast<double>(out[d]), expected);
  }
  EXPECT_EQ(counts.macs, 48);
}

}  // namespace
}  // namespace attnsim::models
