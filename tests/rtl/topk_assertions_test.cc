// The protocol assertions of attn_topk fire on a misbehaving sender (Verilator --assert): each
// case drives the raw Verilated model into one violation and expects that assertion's message
// (Verilator prints it on stdout) and an error on the context. The equivalence tests cover
// well-behaved streams, and their driver stops on any assertion.
#include <gtest/gtest.h>
#include <verilated.h>

#include <cstdio>
#include <memory>
#include <string>

#include "Vattn_topk_p5_n600.h"  // the P = 5 build (rtl/topk/CMakeLists.txt)

namespace {

constexpr int kLanes = 5;

struct Engine {
  VerilatedContext context;
  std::unique_ptr<Vattn_topk_p5_n600> model;
  Engine() {
    context.fatalOnError(false);  // count the error and go on, so the test can look at it
    model = std::make_unique<Vattn_topk_p5_n600>(&context, "attn_topk");
    model->rst_ni = 0;
    cycle();
    cycle();
    model->rst_ni = 1;
  }
  void cycle() {
    model->clk_i = 0;
    model->eval();
    model->clk_i = 1;
    model->eval();
  }
  // One beat of `count` lanes holding `value`.
  void present(int count, bool last, std::uint32_t value, int k) {
    for (int w = 0; w < 5; ++w) model->in_score_i[w] = value;
    model->in_count_i = static_cast<CData>(count);
    model->in_last_i = last;
    model->k_i = static_cast<SData>(k);
    model->in_valid_i = 1;
  }
};

TEST(TopkAssertions, ShortBeatBeforeTheLast) {
  testing::internal::CaptureStdout();
  Engine e;
  e.present(2, false, 7, 1);  // only the last beat may carry fewer than Lanes elements
  e.cycle();
  e.cycle();
  std::fflush(stdout);
  const std::string printed = testing::internal::GetCapturedStdout();
  EXPECT_TRUE(e.context.gotError());
  EXPECT_NE(printed.find("fewer than Lanes elements"), std::string::npos) << printed;
}

TEST(TopkAssertions, KOfZero) {
  testing::internal::CaptureStdout();
  Engine e;
  e.present(kLanes, true, 7, 0);
  e.cycle();
  e.cycle();
  std::fflush(stdout);
  const std::string printed = testing::internal::GetCapturedStdout();
  EXPECT_TRUE(e.context.gotError());
  EXPECT_NE(printed.find("k_i is 0"), std::string::npos) << printed;
}

TEST(TopkAssertions, KAboveN) {
  testing::internal::CaptureStdout();
  Engine e;
  e.present(3, true, 7, 4);
  e.cycle();
  e.cycle();
  std::fflush(stdout);
  const std::string printed = testing::internal::GetCapturedStdout();
  EXPECT_TRUE(e.context.gotError());
  EXPECT_NE(printed.find("k exceeds n"), std::string::npos) << printed;
}

TEST(TopkAssertions, InputBeatWithdrawnWhileNotReady) {
  testing::internal::CaptureStdout();
  Engine e;
  e.present(kLanes, true, 7, 1);  // a one-beat job: the engine is busy after it
  e.cycle();
  e.present(kLanes, true, 9, 1);  // the next job's beat waits (in_ready low) ...
  e.cycle();
  e.model->in_valid_i = 0;  // ... and is withdrawn before it transferred
  e.cycle();
  e.cycle();
  std::fflush(stdout);
  const std::string printed = testing::internal::GetCapturedStdout();
  EXPECT_TRUE(e.context.gotError());
  EXPECT_NE(printed.find("input beat dropped or changed"), std::string::npos) << printed;
}

TEST(TopkAssertions, AWellBehavedJobRaisesNothing) {
  // The same driving code without a violation runs to the job's end: the death tests above die
  // because of their violation, not because of the harness.
  Engine e;
  e.present(kLanes, true, 7, 2);
  e.cycle();
  e.model->in_valid_i = 0;
  e.model->out_ready_i = 1;
  int cycles = 0;
  bool done = false;
  while (!done && cycles < 100) {
    e.model->clk_i = 0;
    e.model->eval();
    done = e.model->out_valid_o && e.model->out_last_o;
    e.model->clk_i = 1;
    e.model->eval();
    ++cycles;
  }
  EXPECT_TRUE(done);
  EXPECT_FALSE(e.context.gotError());
}

}  // namespace
