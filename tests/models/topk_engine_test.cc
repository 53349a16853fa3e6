#include "models/topk_engine.h"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

namespace attnsim::models {
namespace {

std::vector<TopkInBeat> beats_of(const std::vector<std::int64_t>& scores, int lanes) {
  std::vector<std::uint32_t> indices;
  for (std::size_t i = 0; i < scores.size(); ++i) indices.push_back(1000 + 3 * i);
  return to_in_beats(scores, indices, lanes);
}

TEST(TopkEngine, OutputsTheSelectedIndexFieldsInInputOrder) {
  TopkParams p;
  p.lanes = 4;
  TopkEngine engine(p);
  const TopkJob job = engine.run(beats_of({5, 9, 1, 9, 7, 3, 9}, 4), 3);
  // 9, 9, 9 at positions 1, 3, 6 -> index fields 1003, 1009, 1018
  EXPECT_EQ(from_out_beats(job.out), (std::vector<std::uint32_t>{1003, 1009, 1018}));
  ASSERT_EQ(job.out.size(), 1u);
  EXPECT_TRUE(job.out.back().last);
  EXPECT_EQ(job.timing.latency_cycles, topk_timing(job.result, 7, 3, p).latency_cycles);
}

TEST(TopkEngine, CarriesTheLfsrAcrossJobsLikeTheRtl) {
  std::mt19937 rng(5);
  std::vector<std::int64_t> s(300);
  for (auto& x : s) x = static_cast<std::int64_t>(rng() % 1000);
  TopkEngine engine{TopkParams{}};
  const TopkJob first = engine.run(beats_of(s, 16), 40);
  EXPECT_EQ(engine.lfsr_state(), first.result.lfsr_state_after);
  const TopkJob second = engine.run(beats_of(s, 16), 40);
  // Same data, different start state: same selection, the second job's passes from the new state.
  EXPECT_EQ(second.result.selected, first.result.selected);
  EXPECT_EQ(second.result.pass_candidates,
            topk_select(s, 40, TopkParams{}, first.result.lfsr_state_after).pass_candidates);
  engine.reset();
  EXPECT_EQ(engine.run(beats_of(s, 16), 40).timing.latency_cycles, first.timing.latency_cycles);
}

TEST(TopkEngine, RejectsMalformedJobsAndParams) {
  TopkParams p;
  p.lanes = 4;
  TopkEngine engine(p);
  std::vector<TopkInBeat> in = beats_of({1, 2, 3, 4, 5, 6}, 4);
  in[0].count = 3;  // a partial beat before the last
  EXPECT_THROW(engine.run(in, 2), std::invalid_argument);
  in = beats_of({1, 2, 3, 4, 5, 6}, 4);
  in.back().last = false;
  EXPECT_THROW(engine.run(in, 2), std::invalid_argument);
  EXPECT_THROW(engine.run({}, 1), std::invalid_argument);
  EXPECT_THROW(engine.run(beats_of({1, 2}, 4), 3), std::invalid_argument);
  p.lanes = 0;
  EXPECT_THROW(TopkEngine{p}, std::invalid_argument);
}

TEST(TopkBeats, CheckJobBeatsCountsElementsAndNamesTheBadBeat) {
  EXPECT_EQ(check_job_beats(beats_of({1, 2, 3, 4, 5, 6}, 4), 4), 6);
  EXPECT_EQ(check_job_beats(beats_of({1, 2, 3, 4}, 4), 4), 4);
  std::vector<TopkInBeat> in = beats_of({1, 2, 3, 4, 5, 6, 7, 8, 9}, 4);
  in[1].last = true;  // `last` before the final beat
  try {
    check_job_beats(in, 4);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("beat 1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(check_job_beats(beats_of({1, 2, 3, 4, 5}, 4), 3), std::invalid_argument);
}

}  // namespace
}  // namespace attnsim::models
