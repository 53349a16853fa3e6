#include "sim/common/attention_trace.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>

#include "sim/common/input_error.h"
#include "sim/common/npy.h"

#include "tests/support/scratch_dir.h"
namespace attnsim::common {
namespace {

namespace fs = std::filesystem;

class AttentionTraceTest : public ::testing::Test {
 protected:
  models::AttentionTensors sample() const {
    models::AttentionTensors t{2, 3, 5, 4, {}, {}, {}, {}, true, 3};
    for (int i = 0; i < 2 * 3 * 5 * 4; ++i) {
      t.q.push_back(0.25 * i);
      t.k.push_back(-0.5 * i);
      t.v.push_back(i % 7);
    }
    return t;
  }

  // Writes a trace whose arrays are those of sample(), then lets `edit` change members.
  std::string error_of(const std::function<void(std::map<std::string, NpyArray>&)>& edit) {
    const models::AttentionTensors t = sample();
    const std::vector<std::int64_t> shape{2, 3, 5, 4};
    std::map<std::string, NpyArray> members{
        {"format_version", NpyArray::from<std::int64_t>({}, std::vector<std::int64_t>{1})},
        {"q", NpyArray::from(shape, t.q)},
        {"k", NpyArray::from(shape, t.k)},
        {"v", NpyArray::from(shape, t.v)},
        {"causal", NpyArray::from<bool>({}, std::vector<bool>{true})},
        {"prompt_tokens", NpyArray::from<std::int64_t>({}, std::vector<std::int64_t>{3})}};
    edit(members);
    NpzWriter npz(dir_ / "t.npz");
    for (const auto& [name, array] : members) npz.add(name, array);
    npz.commit();
    try {
      read_attention_trace(dir_ / "t.npz");
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  }

  attnsim::testing::ScratchDir scratch_;
  const fs::path dir_ = scratch_.path();
};

TEST_F(AttentionTraceTest, WriteThenReadGivesTheSameTensors) {
  const models::AttentionTensors t = sample();
  write_attention_trace(dir_ / "t.npz", t);
  const models::AttentionTensors back = read_attention_trace(dir_ / "t.npz");
  EXPECT_EQ(back.layers, 2);
  EXPECT_EQ(back.heads, 3);
  EXPECT_EQ(back.tokens, 5);
  EXPECT_EQ(back.head_dim, 4);
  EXPECT_EQ(back.q, t.q);
  EXPECT_EQ(back.k, t.k);
  EXPECT_EQ(back.v, t.v);
  EXPECT_TRUE(back.causal);
  EXPECT_EQ(back.prompt_tokens, 3);
}

// The bundled sample (a compressed float32 .npz from attnsim.synthetic_trace): token 0 is a
// sink every query attends to, so cascade token pruning must keep it in every layer.
TEST_F(AttentionTraceTest, BundledSampleReadsAndKeepsItsSinkToken) {
  const models::AttentionTensors t = read_attention_trace(
      fs::path(ATTNSIM_TRACES_DIR) / "attention" / "synthetic-sink-2x4x64x16.npz");
  EXPECT_EQ(t.layers, 2);
  EXPECT_EQ(t.heads, 4);
  EXPECT_EQ(t.tokens, 64);
  EXPECT_EQ(t.head_dim, 16);
  EXPECT_EQ(t.prompt_tokens, 56);
  models::SpattenParams p;
  p.token_schedule = models::PruningSchedule{{1.0, 0.25}};
  p.prompt_all_queries = false;
  const models::SpattenRunResult r = models::run_spatten(t, p);
  ASSERT_EQ(r.layers.size(), 9u * 2);  // 9 iterations (prompt 56 + 8 tokens) x 2 layers
  for (const models::LayerRecord& l : r.layers) {
    ASSERT_FALSE(l.alive_tokens.empty());
    EXPECT_EQ(l.alive_tokens.front(), 0) << "iteration " << l.iteration << " layer " << l.layer;
  }
}

TEST_F(AttentionTraceTest, AcceptsFloat32AndBidirectionalTraces) {
  const std::string e = error_of([](auto& m) {
    m["q"] = NpyArray::from<float>({2, 3, 5, 4}, std::vector<float>(120, 0.5f));
    m["causal"] = NpyArray::from<bool>({}, std::vector<bool>{false});
    m.erase("prompt_tokens");  // not needed without a causal mask
  });
  EXPECT_EQ(e, "no error");
}

TEST_F(AttentionTraceTest, ProbabilitiesTraceNeedsNoQueriesOrKeys) {
  models::AttentionTensors t = sample();
  t.q.clear();
  t.k.clear();
  t.probs.assign(2 * 3 * 5 * 5, 0.2);
  write_attention_trace(dir_ / "p.npz", t);
  const models::AttentionTensors back = read_attention_trace(dir_ / "p.npz");
  EXPECT_TRUE(back.probabilities_only());
  EXPECT_EQ(back.probs, t.probs);
  EXPECT_EQ(back.v, t.v);
  EXPECT_EQ(back.head_dim, 4);
  const std::string e = error_of([](auto& m) {
    m.erase("q");
    m.erase("k");
  });
  EXPECT_NE(e.find("array 'q': expected a present array (or 'probs' without 'q' and 'k'"),
            std::string::npos)
      << e;
  const std::string bad = error_of([](auto& m) {
    m.erase("q");
    m.erase("k");
    m["probs"] = NpyArray::from<double>({2, 3, 5, 5}, std::vector<double>(150, 1.5));
  });
  EXPECT_NE(bad.find("array 'probs': expected probabilities in [0, 1], got 1.5"), std::string::npos)
      << bad;
}

TEST_F(AttentionTraceTest, MissingArraysAreNamed) {
  const std::string e = error_of([](auto& m) { m.erase("k"); });
  EXPECT_NE(e.find("t.npz: array 'k': expected a present array"), std::string::npos) << e;
  const std::string p = error_of([](auto& m) { m.erase("prompt_tokens"); });
  EXPECT_NE(p.find("array 'prompt_tokens': expected a present array"), std::string::npos) << p;
}

TEST_F(AttentionTraceTest, MismatchedShapesAreNamed) {
  const std::string e = error_of([](auto& m) {
    m["v"] = NpyArray::from<double>({2, 3, 4, 5}, std::vector<double>(120));
  });
  EXPECT_NE(e.find("array 'v' shape: expected [2, 3, 5, 4] (the shape of 'q'), got [2, 3, 4, 5]"),
            std::string::npos)
      << e;
  const std::string d = error_of([](auto& m) {
    for (const char* n : {"q", "k", "v"}) {
      m[n] = NpyArray::from<double>({6, 5, 4}, std::vector<double>(120));
    }
  });
  EXPECT_NE(d.find("array 'q' shape: expected 4 dimensions"), std::string::npos) << d;
  const std::string i = error_of([](auto& m) {
    m["q"] = NpyArray::from<std::int32_t>({2, 3, 5, 4}, std::vector<int>(120));
  });
  EXPECT_NE(i.find("array 'q': expected float16, float32 or float64, got int32"), std::string::npos)
      << i;
}

TEST_F(AttentionTraceTest, NanAndInfAreReportedWithTheirPosition) {
  const std::string n = error_of([this](auto& m) {
    auto q = sample().q;
    q[1 * 60 + 2 * 20 + 3 * 4 + 1] = std::nan("");
    m["q"] = NpyArray::from<double>({2, 3, 5, 4}, q);
  });
  EXPECT_NE(n.find("array 'q' element [1, 2, 3, 1]: expected a finite value, got nan"),
            std::string::npos)
      << n;
  const std::string i = error_of([this](auto& m) {
    auto v = sample().v;
    v[7] = -std::numeric_limits<double>::infinity();
    m["v"] = NpyArray::from<double>({2, 3, 5, 4}, v);
  });
  EXPECT_NE(i.find("array 'v' element [0, 0, 1, 3]: expected a finite value, got -inf"),
            std::string::npos)
      << i;
}

TEST_F(AttentionTraceTest, VersionAndPromptAreChecked) {
  const std::string v = error_of([](auto& m) {
    m["format_version"] = NpyArray::from<std::int64_t>({}, std::vector<std::int64_t>{2});
  });
  EXPECT_NE(v.find("array 'format_version': expected 1, got 2"), std::string::npos) << v;
  const std::string p = error_of([](auto& m) {
    m["prompt_tokens"] = NpyArray::from<std::int64_t>({}, std::vector<std::int64_t>{0});
  });
  EXPECT_NE(p.find("array 'prompt_tokens': expected a count in [1, tokens = 5], got 0"),
            std::string::npos)
      << p;
  const std::string pr = error_of([](auto& m) {
    m["probs"] = NpyArray::from<double>({2, 3, 5, 4}, std::vector<double>(120, 0.1));
  });
  EXPECT_NE(pr.find("array 'probs' shape: expected [2, 3, 5, 5]"), std::string::npos) << pr;
}

}  // namespace
}  // namespace attnsim::common
