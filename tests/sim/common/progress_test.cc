#include "sim/common/progress.h"

#include <gtest/gtest.h>

#include <sstream>

namespace attnsim::common {
namespace {

TEST(ProgressLine, FormatShowsCountPercentRateAndEta) {
  EXPECT_EQ(ProgressLine::format("sweep", 25, 100, 5.0), "sweep  25/100 (25%)  5.0/s  ETA 15s");
  EXPECT_EQ(ProgressLine::format("sweep", 100, 100, 10.0), "sweep  100/100 (100%)  10.0/s");
}

TEST(ProgressLine, DisabledPrintsNothing) {
  std::ostringstream out;
  ProgressLine line("x", 10, out, /*enabled=*/false);
  line.advance(10);
  line.finish();
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressLine, EnabledEndsWithTheFinalCountAndANewline) {
  std::ostringstream out;
  ProgressLine line("x", 3, out, /*enabled=*/true, std::chrono::milliseconds(0));
  line.advance();
  line.advance(2);
  line.finish();
  const std::string text = out.str();
  EXPECT_NE(text.find("\rx  3/3 (100%)"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace attnsim::common
