// huge_vector / reserve_huge behave as plain vectors; the advice reaches the kernel where THP
// can be asked for.
#include "sim/common/huge_pages.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace attnsim::common {
namespace {

TEST(HugePages, VectorsKeepTheirValuesAndSizes) {
  const std::vector<std::int64_t> v = huge_vector<std::int64_t>(3'000'000, 7);
  ASSERT_EQ(v.size(), 3'000'000u);
  EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](std::int64_t x) { return x == 7; }));
  std::vector<int> w;
  reserve_huge(w, 10);
  EXPECT_GE(w.capacity(), 10u);
  EXPECT_TRUE(w.empty());
  advise_huge_pages(nullptr, 1 << 30);  // no memory: nothing to advise, no crash
  advise_huge_pages(w.data(), 40);      // under two huge pages: left alone
}

// The advised interior shows up in /proc/self/smaps as a THP-eligible range ("hg" in VmFlags)
// where the kernel supports madvise mode; elsewhere there is nothing to check.
TEST(HugePages, TheAdviceIsRecordedForTheAlignedInterior) {
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  std::getline(thp, mode);
  if (mode.find("[never]") != std::string::npos || mode.empty()) {
    GTEST_SKIP() << "transparent huge pages unavailable here: " << mode;
  }
  std::vector<std::uint8_t> v;
  reserve_huge(v, std::size_t{16} << 20);
  std::ifstream smaps("/proc/self/smaps");
  std::stringstream text;
  text << smaps.rdbuf();
  EXPECT_NE(text.str().find(" hg"), std::string::npos) << "no VmFlags 'hg' in /proc/self/smaps";
}

}  // namespace
}  // namespace attnsim::common
