#include "models/validation.h"

#include <gtest/gtest.h>

namespace attnsim::models {
namespace {

TEST(Violations, CollectsEveryFailedCheckInOrder) {
  Violations v;
  EXPECT_TRUE(v.require_in_range("lanes", 16, 1, 64));
  EXPECT_FALSE(v.require_in_range("lanes", 0, 1, 64));
  EXPECT_FALSE(v.require(false, "dtype", "one of bf16, fp16", "int8"));
  ASSERT_EQ(v.items().size(), 2u);
  EXPECT_EQ(v.items()[0].field, "lanes");
  EXPECT_EQ(v.items()[0].got, "0");
  EXPECT_EQ(v.to_string(),
            "lanes: expected a value in [1, 64], got 0\n"
            "dtype: expected one of bf16, fp16, got int8");
}

TEST(Violations, MergePrefixesFieldNames) {
  Violations inner;
  inner.require_in_range("channels", 40, 1, 32);
  Violations outer;
  outer.merge(inner, "hbm");
  EXPECT_FALSE(outer.ok());
  EXPECT_EQ(outer.items()[0].field, "hbm.channels");
}

TEST(Violations, EmptyIsOk) {
  Violations v;
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(v.to_string(), "");
}

}  // namespace
}  // namespace attnsim::models
