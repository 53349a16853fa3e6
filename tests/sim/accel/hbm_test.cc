// HBM timing: closed forms for bandwidth-bound streams, row-buffer behaviour of the banked model.
#include "sim/accel/hbm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace attnsim::accel {
namespace {

std::vector<std::uint64_t> sequential(std::uint64_t n, std::uint64_t first = 0) {
  std::vector<std::uint64_t> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

TEST(PlainHbm, SequentialStreamIsBandwidthBound) {
  HbmParams p;  // 16 channels, one 32-byte transaction per channel per cycle, 40 cycles latency
  auto hbm = make_hbm_model(p, HbmTiming::kPlain);
  // 16,000 transactions over 16 channels: 1,000 cycles of data bus each, then the latency.
  const DramWindow w = hbm->access(sequential(16000), 0, 32);
  EXPECT_EQ(w.first_cycle, 1 + 40);
  EXPECT_EQ(w.last_cycle, 1000 + 40);
  for (const ChannelStats& c : hbm->channel_stats()) EXPECT_EQ(c.transactions, 1000);
}

TEST(PlainHbm, IssueRateLimitsWhenFewerPortsThanChannels) {
  HbmParams p;
  p.latency_cycles = 0;
  auto hbm = make_hbm_model(p, HbmTiming::kPlain);
  // One request per cycle: transaction i issues at cycle i and finishes a burst later.
  EXPECT_EQ(hbm->access(sequential(320), 0, 1).last_cycle, 320);
}

TEST(PlainHbm, OneChannelSerialisesEverything) {
  HbmParams p;
  p.channels = 1;
  p.bytes_per_cycle_per_channel = 8;  // 4 cycles per 32-byte transaction
  p.latency_cycles = 10;
  auto hbm = make_hbm_model(p, HbmTiming::kPlain);
  EXPECT_EQ(hbm->access(sequential(100), 5, 32).last_cycle, 5 + 400 + 10);
  // State carries over: the channel is busy until cycle 405.
  EXPECT_EQ(hbm->access(sequential(1), 0, 32).last_cycle, 405 + 4 + 10);
}

TEST(BankedHbm, SequentialStreamHitsOpenRows) {
  HbmParams p;
  auto hbm = make_hbm_model(p, HbmTiming::kBanked);
  const std::uint64_t n = 16 * 64 * 4;  // 4 rows of 64 columns in every channel
  const DramWindow w = hbm->access(sequential(n), 0, 32);
  std::int64_t hits = 0, misses = 0, conflicts = 0;
  for (const ChannelStats& c : hbm->channel_stats()) {
    hits += c.row_hits;
    misses += c.row_misses;
    conflicts += c.row_conflicts;
  }
  EXPECT_EQ(misses, 16 * 4);  // one activate per (channel, bank) opened
  EXPECT_EQ(conflicts, 0);
  EXPECT_EQ(hits, static_cast<std::int64_t>(n) - 16 * 4);
  // Bandwidth bound (256 cycles) plus one activate + CAS latency + controller latency at most
  // once per bank switch that is not hidden; at least the bound.
  EXPECT_GE(w.last_cycle, 256 + p.t_rcd_cycles + p.t_cl_cycles + p.latency_cycles);
  EXPECT_LE(w.last_cycle, 256 + 4 * (p.t_rcd_cycles + p.t_cl_cycles) + p.latency_cycles + 4);
}

TEST(BankedHbm, RowConflictsCostPrechargeAndActivate) {
  HbmParams p;
  p.channels = 1;
  p.banks_per_channel = 1;
  p.latency_cycles = 0;
  auto hbm = make_hbm_model(p, HbmTiming::kBanked);
  const std::uint64_t columns = 2048 / 32;
  const DramWindow a = hbm->access({0}, 0, 1);
  EXPECT_EQ(a.last_cycle, p.t_rcd_cycles + p.t_cl_cycles + 1);
  // Another row of the same bank: wait tRAS from the activate, precharge, activate, read.
  const DramWindow b = hbm->access({columns}, a.last_cycle, 1);
  EXPECT_EQ(b.last_cycle, std::max<std::int64_t>(a.last_cycle, p.t_ras_cycles) + p.t_rp_cycles +
                              p.t_rcd_cycles + p.t_cl_cycles + 1);
  EXPECT_EQ(hbm->channel_stats()[0].row_conflicts, 1);
}

// HBM2 as Ramulator 2 times it (src/dram/impl/HBM2.cpp, preset HBM2_2Gbps, tCK = 1 ns): nCL 7,
// nRCD 7, nRP 7, nRAS 17, nBL 4 (a 32-byte burst of a 64-bit pseudo-channel: 8 B/cycle),
// nRRD_L 3, nFAW 15, nREFI 3900, nRFC 350 (8 Gb). Written out here, not read from a preset, so the
// closed forms below check the model against the source's numbers. One channel, no controller
// latency (Ramulator's read latency is nCL + nBL after the read command).
HbmParams ramulator_hbm2_channel() {
  HbmParams p;
  p.channels = 1;
  p.bytes_per_cycle_per_channel = 8;
  p.latency_cycles = 0;
  p.t_cl_cycles = 7;
  p.t_rcd_cycles = 7;
  p.t_rp_cycles = 7;
  p.t_ras_cycles = 17;
  p.t_rrd_cycles = 3;
  p.t_faw_cycles = 15;
  return p;
}

TEST(BankedHbm, Hbm2IdleReadLatencyIsActivatePlusCasPlusBurst) {
  auto hbm = make_hbm_model(ramulator_hbm2_channel(), HbmTiming::kBanked);
  const DramWindow w = hbm->access({0}, 100, 1);
  EXPECT_EQ(w.first_cycle, 100 + 7 + 7 + 4);  // tRCD + tCL + tBL: 18 ns
  // A row hit right after: tCL + tBL after its read, which waits one burst behind the first.
  EXPECT_EQ(hbm->access({1}, 118, 1).last_cycle, 118 + 7 + 4);
}

TEST(BankedHbm, Hbm2StreamRunsAtTheBurstRate) {
  // 4,096 sequential 32-byte reads: 64 rows opened over 16 banks, every activate hidden behind
  // the data bus, so the stream takes tRCD + tCL + N x tBL: 8 B/cycle.
  auto hbm = make_hbm_model(ramulator_hbm2_channel(), HbmTiming::kBanked);
  const std::int64_t n = 4096;
  const DramWindow w = hbm->access(sequential(static_cast<std::uint64_t>(n)), 0, 32);
  EXPECT_EQ(w.last_cycle, 7 + 7 + n * 4);
  EXPECT_EQ(hbm->channel_stats()[0].row_misses + hbm->channel_stats()[0].row_conflicts, 64);
}

TEST(BankedHbm, Hbm2RandomRowsAreBoundByTheFourActivateWindow) {
  // Every read opens a new row, banks in rotation, 32 B/cycle of bus (so the bus never limits):
  // at most four activates per tFAW = 15 cycles -> 128 B per 15 cycles = 8.53 B/cycle (tRRD = 3
  // alone would allow 10.7, the 16 banks with tRAS + tRP = 24 would allow 21.3).
  HbmParams p = ramulator_hbm2_channel();
  p.bytes_per_cycle_per_channel = 32;
  auto hbm = make_hbm_model(p, HbmTiming::kBanked);
  const std::uint64_t columns = static_cast<std::uint64_t>(p.row_bytes / p.transaction_bytes);
  const std::uint64_t banks = static_cast<std::uint64_t>(p.banks_per_channel);
  std::vector<std::uint64_t> blocks;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t bank = static_cast<std::uint64_t>(i) % banks;
    const std::uint64_t row = static_cast<std::uint64_t>(i) / banks + 1;
    blocks.push_back((row * banks + bank) * columns);
  }
  const DramWindow w = hbm->access(blocks, 0, 32);
  const double expected_cycles = n / 4.0 * 15;  // 15,000
  EXPECT_NEAR(static_cast<double>(w.last_cycle), expected_cycles, 0.01 * expected_cycles);
  const double bytes_per_cycle = n * 32.0 / static_cast<double>(w.last_cycle);
  EXPECT_NEAR(bytes_per_cycle, 128.0 / 15, 0.1);
}

TEST(BankedHbm, Hbm2RefreshTakesItsShareOfTheStream) {
  // With all-bank refresh every 3,900 cycles for 350 (and the rows it closes reopened, tRCD + tCL
  // before data flows again), a long stream of N reads takes T with
  // T = N x tBL + ceil(T / tREFI) x (tRFC + tRCD + tCL): 8 B/cycle x (1 - 364/3900) = 7.25 B/cycle.
  HbmParams p = ramulator_hbm2_channel();
  p.t_refi_cycles = 3900;
  p.t_rfc_cycles = 350;
  auto hbm = make_hbm_model(p, HbmTiming::kBanked);
  const std::int64_t n = 40000;  // 160,000 bus cycles: about 45 refreshes
  const DramWindow w = hbm->access(sequential(static_cast<std::uint64_t>(n)), 0, 32);
  double t = n * 4.0;
  for (int i = 0; i < 20; ++i) t = n * 4.0 + std::ceil(t / 3900) * (350 + 7 + 7);
  EXPECT_NEAR(static_cast<double>(w.last_cycle), t, 0.01 * t);
  EXPECT_GT(w.last_cycle, n * 4 + 40 * 350);  // refresh really cost something
}

}  // namespace
}  // namespace attnsim::accel
