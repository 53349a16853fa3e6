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

TEST(GoldenKernelArguments, RuleChecks) {
  const std::int32_t dummy[1] = {0};
  const BlockLists lists{dummy, dummy, dummy, dummy, 1, 1, 8, 8, 128, 128};
  TokenRuleParams document;
  document.rule = TokenRule::kDocument;
  EXPECT_NE(can_run(ElementType::kBFloat16, {1, 1, 1, 1000, 1000, 64}, lists, document)
                .find("document ids"),
            std::string::npos);
  document.document_ids = dummy;
  EXPECT_NE(can_run(ElementType::kBFloat16, {1, 1, 1, 1000, 1024, 64}, lists, document)
                .find("seq_q == seq_kv"),
            std::string::npos);
  EXPECT_EQ(can_run(ElementType::kBFloat16, {1, 1, 1, 1000, 1000, 64}, lists, document), "");
  TokenRuleParams grid;
  grid.rule = TokenRule::kNeighborhood;
  grid.grid_rank = 2;
  grid.grid_dims[0] = 30;
  grid.grid_dims[1] = 33;
  grid.neighborhood_window[0] = grid.neighborhood_window[1] = 3;
  EXPECT_NE(can_run(ElementType::kBFloat16, {1, 1, 1, 1000, 1000, 64}, lists, grid)
                .find("multiply to seq_q"),
            std::string::npos);
  grid.grid_dims[1] = 25;
  grid.grid_dims[0] = 40;
  EXPECT_EQ(can_run(ElementType::kBFloat16, {1, 1, 1, 1000, 1000, 64}, lists, grid), "");
  grid.grid_rank = 3;  // 1 x 1 x 1000: the last dimension exceeds 9 packed bits
  grid.grid_dims[0] = grid.grid_dims[1] = 1;
  grid.grid_dims[2] = 1000;
  grid.neighborhood_window[2] = 3;
  EXPECT_NE(
      can_run(ElementType::kBFloat16, {1, 1, 1, 1000, 1000, 64}, lists, grid).find("too large"),
      std::string::npos);
}

}  // namespace
}  // namespace attnsim::golden
