// Argument checks of the golden kernel: host code only, so they run without a GPU.
#include <gtest/gtest.h>

#include "golden/block_sparse_attention.h"

namespace attnsim::golden {
namespace {

TEST(GoldenKernelArguments, CanRunListsEveryReason) {
  BlockLists lists;
  lists.block_q = 64;
  lists.block_kv = 96;
  const std::string reasons = can_run(ElementType::kBFloat16, {1, 3, 2, 100, 100, 96}, lists, {});
  for (const char* expected : {"head_dim must be 64 or 128", "multiple of kv_heads",
                               "block_q must be 128", "multiple of 64", "block-list arrays"}) {
    EXPECT_NE(reasons.find(expected), std::string::npos) << expected << " missing in: " << reasons;
  }
}

TEST(GoldenKernelArguments, AValidProblemHasNoReasons) {
  const std::int32_t dummy[1] = {0};
  BlockLists lists{dummy, dummy, dummy, dummy, 1, 1, 8, 8, 128, 128};
  EXPECT_EQ(can_run(ElementType::kFloat16, {1, 4, 2, 1000, 1024, 64}, lists, {}), "");
}

}  // namespace
}  // namespace attnsim::golden
