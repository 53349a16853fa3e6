#include "sim/common/spatten_workload_csv.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

#include "sim/common/atomic_file.h"
#include "sim/common/input_error.h"

#include "tests/support/scratch_dir.h"
namespace attnsim::common {
namespace {

const std::filesystem::path kSamples = std::filesystem::path(ATTNSIM_TRACES_DIR) / "spatten";
const char* const kPruned = "summary-gpt2-small-wikitext2-per8.csv";
const char* const kDense = "summary-gpt2-small-wikitext2-per8-step1+dedic.csv";

std::string header() {
  std::string h;
  for (const auto& c : spatten_workload_columns()) h += (h.empty() ? "" : ",") + c;
  return h + "\n";
}

const std::string kGoodRow = "0,0,0,64.0,993,993,6,16,0.05,True,4,204,6,True,False,False,-1\n";

// The error text for `row` placed on line 2 of a one-row file.
std::string error_for(const std::string& row) {
  try {
    parse_spatten_workload(header() + row, "w.csv");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SpattenWorkloadCsv, BothGpt2SmallSamplesRoundTripByteForByte) {
  for (const char* name : {kPruned, kDense, "small.csv"}) {
    const std::string text = read_file(kSamples / name);
    const SpattenWorkload w = parse_spatten_workload(text, name);
    EXPECT_EQ(format_spatten_workload(w), text) << name;
  }
}

TEST(SpattenWorkloadCsv, Gpt2SmallSamplesHaveTheDocumentedShape) {
  for (const char* name : {kPruned, kDense}) {
    const SpattenWorkload w = read_spatten_workload(kSamples / name);
    ASSERT_EQ(w.rows.size(), 4608u) << name;  // 32 iterations x 12 layers x 12 heads
    std::set<std::tuple<int, int, int>> keys;
    for (const auto& r : w.rows) keys.insert({r.iteration_id, r.layer_id, r.head_id});
    EXPECT_EQ(keys.size(), 4608u);
    EXPECT_EQ(w.rows.front().sentence_length_l, 993);
    EXPECT_EQ(w.rows.back().sentence_length_l, 1024);
    EXPECT_EQ(w.config_path.rfind("configs/gpt2/wikitext2/", 0), 0u) << w.config_path;
  }
}

// Values read straight from the file's text (first and last data rows of the pruned sample).
TEST(SpattenWorkloadCsv, FieldsOfThePrunedSample) {
  const SpattenWorkload w = read_spatten_workload(kSamples / kPruned);
  const SpattenWorkloadRow& first = w.rows.front();
  EXPECT_EQ(first.embedding_length_d, 64);
  EXPECT_EQ(first.key_fetch_num, 993);
  EXPECT_EQ(first.quant_key_bit, 6);
  EXPECT_EQ(first.quant_query_bit, 16);
  EXPECT_DOUBLE_EQ(first.auto_requant_thres, 0.05);
  EXPECT_TRUE(first.if_requant);
  EXPECT_EQ(first.auto_requant_incre, 4);
  EXPECT_EQ(first.value_fetch_num, 204);
  EXPECT_TRUE(first.if_accumulate_importance);
  const SpattenWorkloadRow& last = w.rows.back();
  EXPECT_EQ(last.iteration_id, 31);
  EXPECT_EQ(last.key_fetch_num, 102);
  EXPECT_EQ(last.value_fetch_num, 20);
  EXPECT_FALSE(last.if_requant);
  EXPECT_EQ(last.topk, -1);
}

TEST(SpattenWorkloadCsv, WriteThenReadGivesTheSameRows) {
  SpattenWorkload w;
  SpattenWorkloadRow r;
  r.sentence_length_l = 10;
  r.key_fetch_num = 7;
  r.value_fetch_num = 3;
  r.quant_key_bit = 8;
  r.auto_requant_incre = 4;
  r.auto_requant_thres = 0.1;
  r.if_requant = true;
  r.if_topk = true;
  r.topk = 5;
  w.rows.push_back(r);
  r.head_id = 1;
  r.if_requant = false;
  r.if_topk = false;
  r.topk = -1;
  w.rows.push_back(r);
  w.config_path = "configs/x.yml";
  const attnsim::testing::ScratchDir scratch;
  const std::filesystem::path dir = scratch.path();
  write_spatten_workload(dir / "w.csv", w);
  const SpattenWorkload back = read_spatten_workload(dir / "w.csv");
  EXPECT_EQ(back.rows, w.rows);
  EXPECT_EQ(back.config_path, w.config_path);
}

TEST(SpattenWorkloadCsv, MalformedRowsNameFileLineAndField) {
  EXPECT_EQ(error_for("0,0,0,64.0,993\n"),
            "w.csv:2: row: expected 17 comma-separated fields, got 5 fields");
  EXPECT_EQ(error_for("0,0,0,64.0,993,993,6,16,0.05,True,4,204,6,True,False,False,-1,9\n"),
            "w.csv:2: row: expected 17 comma-separated fields, got 18 fields");
  EXPECT_EQ(error_for(kGoodRow + "a,b\n"),
            "w.csv:3: row: expected 17 comma-separated fields, got 2 fields");
}

TEST(SpattenWorkloadCsv, NonNumericFieldsAreRejected) {
  EXPECT_EQ(error_for("0,0,x,64.0,993,993,6,16,0.05,True,4,204,6,True,False,False,-1\n"),
            "w.csv:2: head_id: expected an integer, got 'x'");
  EXPECT_EQ(error_for("0,0,0,64.0,993,99x,6,16,0.05,True,4,204,6,True,False,False,-1\n"),
            "w.csv:2: key_fetch_num: expected an integer, got '99x'");
  EXPECT_EQ(error_for("0,0,0,64.0,993,993,6,16,nan,True,4,204,6,True,False,False,-1\n"),
            "w.csv:2: auto_requant_thres: expected a finite number, got 'nan'");
  EXPECT_EQ(error_for("0,0,0,64.5,993,993,6,16,0.05,True,4,204,6,True,False,False,-1\n"),
            "w.csv:2: embedding_length_D: expected an integral number, got '64.5'");
  EXPECT_EQ(error_for("0,0,0,64.0,993,993,6,16,0.05,yes,4,204,6,True,False,False,-1\n"),
            "w.csv:2: if_requant: expected True or False, got 'yes'");
  EXPECT_EQ(error_for("0,0,0,64.0,,993,6,16,0.05,True,4,204,6,True,False,False,-1\n"),
            "w.csv:2: sentence_length_L: expected an integer, got ''");
}

TEST(SpattenWorkloadCsv, NegativeCountsAreRejected) {
  EXPECT_EQ(error_for("0,0,0,64.0,993,-5,6,16,0.05,True,4,204,6,True,False,False,-1\n"),
            "w.csv:2: key_fetch_num: expected a count in [0, sentence_length_L = 993], got -5");
  EXPECT_EQ(error_for("-1,0,0,64.0,993,993,6,16,0.05,True,4,204,6,True,False,False,-1\n"),
            "w.csv:2: iteration_id: expected a count >= 0, got -1");
  EXPECT_EQ(error_for("0,0,0,64.0,993,993,6,16,0.05,True,4,-2,6,True,False,False,-1\n"),
            "w.csv:2: value_fetch_num: expected a count in [0, sentence_length_L = 993], got -2");
}

TEST(SpattenWorkloadCsv, FetchCountsAboveTheSentenceLengthAreRejected) {
  EXPECT_EQ(error_for("0,0,0,64.0,993,994,6,16,0.05,True,4,204,6,True,False,False,-1\n"),
            "w.csv:2: key_fetch_num: expected a count in [0, sentence_length_L = 993], got 994");
  EXPECT_NE(error_for("0,0,0,64.0,993,100,6,16,0.05,True,4,204,6,True,False,False,-1\n")
                .find("value_fetch_num: expected at most key_fetch_num = 100"),
            std::string::npos);
}

TEST(SpattenWorkloadCsv, InconsistentFlagsAreRejected) {
  EXPECT_EQ(error_for("0,0,0,64.0,993,993,6,16,0.05,True,4,204,6,True,False,True,-1\n"),
            "w.csv:2: topk: expected a count >= 1 when if_topk is True, got -1");
  EXPECT_EQ(error_for("0,0,0,64.0,993,993,-1,16,0.05,True,4,204,6,True,False,False,-1\n"),
            "w.csv:2: if_requant: expected False unless quant_key_bit and auto_requant_incre are "
            "set, got 1");
  EXPECT_EQ(error_for("0,0,0,64.0,993,993,40,16,0.05,True,4,204,6,True,False,False,-1\n"),
            "w.csv:2: quant_key_bit: expected -1 (unused) or a width in [1, 32], got 40");
}

TEST(SpattenWorkloadCsv, HeaderAndConfigLineRules) {
  EXPECT_NE(error_for("").find("no error"), std::string::npos);
  try {
    parse_spatten_workload("iteration_id,layer\n", "h.csv");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("h.csv:1: header: expected 'iteration_id,", 0), 0u);
  }
  EXPECT_EQ(error_for("c.yml,,,,,,,,,,,,,,,,\n" + kGoodRow),
            "w.csv:3: row: expected nothing after the config-path line, got '" +
                kGoodRow.substr(0, kGoodRow.size() - 1) + "'");
  EXPECT_THROW(parse_spatten_workload("", "e.csv"), InputError);
}

TEST(SpattenWorkloadCsv, WriterLeavesNothingBehindOnBadRows) {
  const attnsim::testing::ScratchDir scratch;
  const std::filesystem::path dir = scratch.path();
  SpattenWorkload w;
  SpattenWorkloadRow r;
  r.sentence_length_l = 4;
  r.key_fetch_num = 5;
  w.rows.push_back(r);
  EXPECT_THROW(write_spatten_workload(dir / "w.csv", w), InputError);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

}  // namespace
}  // namespace attnsim::common
