#include "sim/accel/clock.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace attnsim::accel {
namespace {

// A module that waits a latency given in cycles, as every accelerator stage will.
SC_MODULE(CycleWaiter) {
  const Clock* clock = nullptr;
  std::uint64_t wait_cycles = 0;
  std::uint64_t finished_at_cycle = 0;
  SC_CTOR(CycleWaiter) { SC_THREAD(run); }
  void run() {
    wait(clock->cycles(wait_cycles));
    finished_at_cycle = clock->now_cycles();
  }
};

TEST(Clock, ConvertsCyclesToTimeExactly) {
  const Clock one_ghz(1e9);
  EXPECT_EQ(one_ghz.period(), sc_core::sc_time(1, sc_core::SC_NS));
  EXPECT_EQ(one_ghz.cycles(1000000), sc_core::sc_time(1, sc_core::SC_MS));
  EXPECT_EQ(one_ghz.to_cycles(sc_core::sc_time(2.5, sc_core::SC_NS)), 2u);
  const Clock slow(800e6);
  EXPECT_EQ(slow.period(), sc_core::sc_time(1250, sc_core::SC_PS));
}

TEST(Clock, RejectsNonPositiveAndUnrepresentableFrequencies) {
  EXPECT_THROW(Clock(0.0), std::invalid_argument);
  EXPECT_THROW(Clock(-1e9), std::invalid_argument);
  EXPECT_THROW(Clock(3e9), std::invalid_argument);  // 333.33 ps at 1 ps resolution
}

// One elaboration per process: this is the only test here that runs sc_start.
TEST(Clock, ModuleWaitsTheRequestedNumberOfCycles) {
  const Clock clock(1e9);
  CycleWaiter waiter("waiter");
  waiter.clock = &clock;
  waiter.wait_cycles = 12345;
  sc_core::sc_start();
  EXPECT_EQ(waiter.finished_at_cycle, 12345u);
  EXPECT_EQ(clock.now_cycles(), 12345u);
}

}  // namespace
}  // namespace attnsim::accel
