#include "sim/common/spatten_derivation.h"

#include <gtest/gtest.h>

namespace attnsim::common {
namespace {

models::SpattenRunResult two_steps() {
  models::SpattenRunResult run;
  models::HeadStepRecord a;
  a.iteration = 1;
  a.layer = 2;
  a.head = 3;
  a.head_dim = 64;
  a.sentence_length = 100;
  a.key_fetch = 40;
  a.value_fetch = 8;
  a.requantized = true;
  a.token_topk_after = true;
  a.token_topk_k = 20;
  run.head_steps.push_back(a);
  models::HeadStepRecord b = a;
  b.head = 4;
  b.requantized = false;
  b.token_topk_after = false;
  run.head_steps.push_back(b);
  return run;
}

TEST(SpattenDerivation, RowsCarryTheDecisionsAndTheQuantization) {
  models::SpattenParams p;
  p.token_schedule = models::PruningSchedule{{1.0, 0.5}};
  const SpattenWorkload w = to_spatten_workload(two_steps(), p, "cfg.yml");
  ASSERT_EQ(w.rows.size(), 2u);
  const SpattenWorkloadRow& r = w.rows[0];
  EXPECT_EQ(r.iteration_id, 1);
  EXPECT_EQ(r.layer_id, 2);
  EXPECT_EQ(r.head_id, 3);
  EXPECT_EQ(r.embedding_length_d, 64);
  EXPECT_EQ(r.sentence_length_l, 100);
  EXPECT_EQ(r.key_fetch_num, 40);
  EXPECT_EQ(r.value_fetch_num, 8);
  EXPECT_EQ(r.quant_key_bit, 6);
  EXPECT_EQ(r.quant_query_bit, 16);
  EXPECT_EQ(r.quant_value_bit, 6);
  EXPECT_DOUBLE_EQ(r.auto_requant_thres, 0.05);
  EXPECT_EQ(r.auto_requant_incre, 4);
  EXPECT_TRUE(r.if_requant);
  EXPECT_TRUE(r.if_accumulate_importance);
  EXPECT_TRUE(r.if_topk);
  EXPECT_EQ(r.topk, 20);
  EXPECT_FALSE(w.rows[1].if_topk);
  EXPECT_EQ(w.rows[1].topk, -1);
  EXPECT_EQ(w.config_path, "cfg.yml");
  for (std::size_t i = 0; i < w.rows.size(); ++i) {
    EXPECT_NO_THROW(validate_spatten_row(w.rows[i], "row"));
  }
}

TEST(SpattenDerivation, UnquantizedRunsMarkWidthsUnused) {
  models::SpattenParams p;
  p.quantize = false;
  models::SpattenRunResult run = two_steps();
  run.head_steps[0].requantized = false;
  const SpattenWorkload w = to_spatten_workload(run, p, "");
  EXPECT_EQ(w.rows[0].quant_key_bit, -1);
  EXPECT_EQ(w.rows[0].quant_query_bit, -1);
  EXPECT_EQ(w.rows[0].quant_value_bit, -1);
  EXPECT_EQ(w.rows[0].auto_requant_thres, -1);
  EXPECT_EQ(w.rows[0].auto_requant_incre, -1);
  EXPECT_FALSE(w.rows[0].if_accumulate_importance);  // no token schedule
}

TEST(SpattenDerivation, DecisionsJsonHasEveryHeadStep) {
  const boost::json::value j = decisions_to_json(two_steps());
  ASSERT_EQ(j.at("head_steps").as_array().size(), 2u);
  EXPECT_EQ(j.at("head_steps").at(0).at("token_topk_k").as_int64(), 20);
  EXPECT_EQ(j.at("head_steps").at(1).at("token_topk_k").as_int64(), -1);
  EXPECT_TRUE(j.at("head_steps").at(0).at("requantized").as_bool());
}

}  // namespace
}  // namespace attnsim::common
