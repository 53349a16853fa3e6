// Workload conversion, fit checks, synthetic indices and transaction rounding.
#include "sim/accel/workload.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "sim/common/input_error.h"

namespace attnsim::accel {
namespace {

common::SpattenWorkloadRow row(int layer, int head, int l, int kf, int vf) {
  common::SpattenWorkloadRow r;
  r.layer_id = layer;
  r.head_id = head;
  r.sentence_length_l = l;
  r.key_fetch_num = kf;
  r.value_fetch_num = vf;
  r.quant_key_bit = 6;
  r.quant_query_bit = 16;
  r.quant_value_bit = 6;
  r.auto_requant_incre = 4;
  r.if_requant = true;
  return r;
}

TEST(AccelWorkload, CsvRowsBecomeShapes) {
  common::SpattenWorkload csv;
  csv.rows = {row(0, 0, 100, 40, 10)};
  csv.rows[0].quant_value_bit = -1;
  const AccelWorkload w = workload_from_csv(csv, "w.csv");
  ASSERT_EQ(w.steps.size(), 1u);
  const models::HeadStepShape& s = w.steps[0];
  EXPECT_EQ(s.key_msb_bits, 6);
  EXPECT_EQ(s.key_lsb_bits, 4);
  EXPECT_TRUE(s.requant);
  EXPECT_EQ(s.value_bits, 16);  // -1: unquantized
  EXPECT_EQ(w.max_key_bits, 10);
  EXPECT_EQ(w.max_tokens, 100);
}

TEST(AccelWorkload, EmptyOrMixedHeadDimensionsAreRejected) {
  common::SpattenWorkload csv;
  EXPECT_THROW(workload_from_csv(csv, "w.csv"), common::InputError);
  csv.rows = {row(0, 0, 10, 5, 2), row(0, 1, 10, 5, 2)};
  csv.rows[1].embedding_length_d = 32;
  try {
    workload_from_csv(csv, "w.csv");
    FAIL();
  } catch (const common::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("w.csv:3: embedding_length_D"), std::string::npos);
  }
}

TEST(AccelWorkload, FitCheckNamesTheConfigField) {
  common::SpattenWorkload csv;
  csv.rows = {row(0, 0, 4000, 5, 2)};
  const AccelWorkload w = workload_from_csv(csv, "w.csv");
  AccelConfig c;
  try {
    check_workload_fits(c, w, "spatten");
    FAIL();
  } catch (const common::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("sram.key_bytes"), std::string::npos) << e.what();
  }
}

TEST(AccelWorkload, QueryExpansionReusesKeysAndValuesAfterTheFirstQuery) {
  common::SpattenWorkload csv;
  csv.rows = {row(0, 0, 100, 40, 10), row(0, 1, 100, 40, 10)};
  csv.rows[1].if_topk = true;
  csv.rows[1].topk = 20;
  AccelWorkload w = workload_from_csv(csv, "w.csv");
  expand_queries(w, 3);
  ASSERT_EQ(w.steps.size(), 6u);
  const bool reused[] = {false, true, true, false, true, true};
  const bool topk[] = {false, false, false, false, false, true};
  const bool requant[] = {true, false, false, true, false, false};
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(w.steps[i].kv_reused, reused[i]) << i;
    EXPECT_EQ(w.steps[i].token_topk, topk[i]) << i;
    EXPECT_EQ(w.steps[i].requant, requant[i]) << i;
  }
  // Only Q moves for a reused query: 64 x 16 bits.
  EXPECT_EQ(models::step_payload_bytes(w.steps[1]).total(), 128);
  EXPECT_EQ(models::step_payload_bytes(w.steps[0]).k_msb, 40 * 64 * 6 / 8);
  EXPECT_THROW(expand_queries(w, 0), common::InputError);
}

TEST(AccelWorkload, DroppingQuantizationLeavesPruningAndWidensEverything) {
  common::SpattenWorkload csv;
  csv.rows = {row(0, 0, 100, 40, 10)};
  AccelWorkload w = workload_from_csv(csv, "w.csv");
  drop_quantization(w);
  const models::HeadStepShape& s = w.steps[0];
  EXPECT_EQ(s.key_fetch, 40);
  EXPECT_EQ(s.value_fetch, 10);
  EXPECT_FALSE(s.requant);
  const models::StepBytes b = models::step_payload_bytes(s);
  EXPECT_EQ(b.k_msb, 40 * 64 * 2);
  EXPECT_EQ(b.k_lsb, 0);
  EXPECT_EQ(b.v, 10 * 64 * 2);
  EXPECT_EQ(w.max_key_bits, 16);
  EXPECT_DOUBLE_EQ(models::dram_reduction(w.steps).quant_factor(), 1.0);
}

TEST(AccelWorkload, SyntheticKeysAreASortedSubsetSharedByTheHeadsOfALayer) {
  models::HeadStepShape s;
  s.tokens = 993;
  s.key_fetch = 204;
  const std::vector<int> a = synthetic_key_indices(s, 1);
  ASSERT_EQ(a.size(), 204u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::set<int>(a.begin(), a.end()).size(), 204u);
  EXPECT_GE(a.front(), 0);
  EXPECT_LT(a.back(), 993);
  s.head = 7;
  EXPECT_EQ(synthetic_key_indices(s, 1), a);  // same tokens for every head
  s.layer = 1;
  EXPECT_NE(synthetic_key_indices(s, 1), a);
  s.key_fetch = s.tokens;
  EXPECT_EQ(synthetic_key_indices(s, 1).size(), 993u);
}

TEST(AccelWorkload, DenseRowsRoundOnlyAtTheEnd) {
  models::HeadStepShape s;
  s.tokens = 993;
  std::vector<int> rows(993);
  for (int i = 0; i < 993; ++i) rows[static_cast<std::size_t>(i)] = i;
  std::vector<std::uint64_t> blocks;
  append_row_blocks(blocks, s, Plane::kKeyMsb, rows, 64 * 6, 32);
  // 993 x 48 bytes densely packed = 47,664 bytes = 1,489.5 transactions -> 1,490.
  EXPECT_EQ(blocks.size(), 1490u);
  EXPECT_TRUE(std::is_sorted(blocks.begin(), blocks.end()));
}

TEST(AccelWorkload, ScatteredRowsReadEveryBlockTheyTouch) {
  models::HeadStepShape s;
  std::vector<std::uint64_t> blocks;
  // 48-byte rows: row 0 covers bytes 0-47 (blocks 0, 1); row 2 covers 96-143 (blocks 3, 4);
  // row 3 covers 144-191 (blocks 4, 5): block 4 is shared and read once.
  append_row_blocks(blocks, s, Plane::kValue, {0, 2, 3}, 64 * 6, 32);
  ASSERT_EQ(blocks.size(), 5u);
  EXPECT_EQ(blocks[1] - blocks[0], 1u);
  EXPECT_EQ(blocks[2] - blocks[0], 3u);
  EXPECT_EQ(blocks[4] - blocks[0], 5u);
}

}  // namespace
}  // namespace attnsim::accel
