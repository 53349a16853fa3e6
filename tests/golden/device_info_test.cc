#include "golden/device_info.h"

#include <gtest/gtest.h>

namespace attnsim::golden {
namespace {

TEST(DeviceInfo, DescribesEveryVisibleGpu) {
  std::string why;
  const int count = cuda_device_count(&why);
  if (count == 0) GTEST_SKIP() << "no CUDA device: " << why;
  for (int i = 0; i < count; ++i) {
    const auto info = query_device(i, &why);
    ASSERT_TRUE(info) << why;
    EXPECT_FALSE(info->name.empty());
    EXPECT_GT(info->sm_count, 0);
    EXPECT_GT(info->sm_clock_mhz, 0);
    EXPECT_GT(info->driver_version, 0);
    EXPECT_GE(info->compute_capability_major, 7);
    EXPECT_EQ(to_json(*info).front(), '{');
  }
}

TEST(DeviceInfo, OutOfRangeIndexIsAnErrorNotACrash) {
  std::string why;
  const int count = cuda_device_count(&why);
  if (count == 0) GTEST_SKIP() << "no CUDA device: " << why;
  EXPECT_FALSE(query_device(count + 7, &why));
  EXPECT_FALSE(why.empty());
}

}  // namespace
}  // namespace attnsim::golden
