// RunningStats against statistics worked out by hand.
#include "sim/common/running_stats.h"

#include <gtest/gtest.h>

namespace attnsim::common {
namespace {

TEST(RunningStats, MeanSpreadAndRangeOfAKnownStream) {
  RunningStats s;
  for (double x : {2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0}) s.add(x);  // mean 5, sd 2
  EXPECT_EQ(s.count(), 8);
  EXPECT_DOUBLE_EQ(s.mean(), 5.0);
  EXPECT_DOUBLE_EQ(s.stddev(), 2.0);
  EXPECT_EQ(s.min(), 2.0);
  EXPECT_EQ(s.max(), 9.0);
}

TEST(RunningStats, MergeEqualsOneStream) {
  RunningStats a, b, whole;
  for (double x : {3.0, -1.0, 8.0}) {
    a.add(x);
    whole.add(x);
  }
  for (double x : {10.0, 0.5}) {
    b.add(x);
    whole.add(x);
  }
  RunningStats empty;
  a.merge(empty);
  a.merge(b);
  EXPECT_EQ(a.count(), 5);
  EXPECT_DOUBLE_EQ(a.mean(), whole.mean());
  EXPECT_DOUBLE_EQ(a.stddev(), whole.stddev());
  EXPECT_EQ(a.min(), -1.0);
  EXPECT_EQ(a.max(), 10.0);
  empty.merge(b);  // into an empty one: takes the other's range
  EXPECT_EQ(empty.min(), 0.5);
  EXPECT_EQ(empty.max(), 10.0);
}

TEST(RunningStats, AnEmptyStreamReportsZeros) {
  const RunningStats s;
  EXPECT_EQ(s.count(), 0);
  EXPECT_EQ(s.mean(), 0.0);
  EXPECT_EQ(s.stddev(), 0.0);
}

}  // namespace
}  // namespace attnsim::common
