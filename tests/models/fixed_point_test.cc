#include "models/fixed_point.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace attnsim::models {
namespace {

TEST(Quantize, RoundsHalvesAwayFromZero) {
  const FixedFormat f{8, 2, true};  // steps of 0.25
  EXPECT_EQ(quantize(0.125, f), 1);
  EXPECT_EQ(quantize(-0.125, f), -1);
  EXPECT_EQ(quantize(0.124, f), 0);
  EXPECT_EQ(quantize(1.0, f), 4);
  EXPECT_EQ(quantize(-0.376, f), -2);
}

TEST(Quantize, SaturatesIncludingInfinities) {
  const FixedFormat f{6, 0, true};
  EXPECT_EQ(quantize(1e9, f), 31);
  EXPECT_EQ(quantize(-1e9, f), -32);
  EXPECT_EQ(quantize(std::numeric_limits<double>::infinity(), f), 31);
  const FixedFormat u{4, 1, false};
  EXPECT_EQ(quantize(-3.0, u), 0);
  EXPECT_EQ(quantize(100.0, u), 15);
}

TEST(Quantize, NanIsRejected) {
  EXPECT_THROW(quantize(std::nan(""), FixedFormat{}), std::domain_error);
}

TEST(Quantize, ErrorIsAtMostHalfAStepInsideTheRange) {
  const FixedFormat f{12, 7, true};
  for (double x = -15.9; x < 15.9; x += 0.0137) {
    EXPECT_LE(std::fabs(dequantize(quantize(x, f), f.frac_bits) - x), 0.5 / 128 + 1e-12) << x;
  }
}

TEST(FixedFormat, ValidateNamesTheField) {
  EXPECT_TRUE((FixedFormat{16, 8, true}.validate("q").ok()));
  const Violations v = FixedFormat{40, 50, true}.validate("q");
  ASSERT_EQ(v.items().size(), 2u);
  EXPECT_EQ(v.items()[0].field, "q.total_bits");
  EXPECT_EQ(v.items()[1].field, "q.frac_bits");
}

TEST(SplitCode, JoinInvertsSplitForEveryTenBitCode) {
  for (std::int32_t code = -512; code < 512; ++code) {
    const SplitCode parts = split_code(code, 4);
    EXPECT_LT(parts.lsb, 16u);
    EXPECT_GE(parts.msb, -32);
    EXPECT_LT(parts.msb, 32);  // the 6 MSBs of a 10-bit code fit 6 signed bits
    EXPECT_EQ(join_code(parts, 4), code);
  }
}

TEST(SplitCode, MsbOnlyIsFloorToAMultipleOfTheLsbRange) {
  for (std::int32_t code = -2048; code < 2048; ++code) {
    const auto expected = static_cast<std::int32_t>(std::floor(code / 16.0) * 16.0);
    EXPECT_EQ(msb_only_code(code, 4), expected) << code;
  }
  EXPECT_EQ(msb_only_code(37, 0), 37);
}

TEST(SplitFormat, FullFormatHasAllBits) {
  const SplitFormat s{8, 4, 9};
  EXPECT_EQ(s.full().total_bits, 12);
  EXPECT_EQ(s.full().frac_bits, 9);
  EXPECT_TRUE(s.validate("k").ok());
  EXPECT_FALSE((SplitFormat{0, 4, 2}.validate("k").ok()));
}

}  // namespace
}  // namespace attnsim::models
