// HBM timing: closed forms for bandwidth-bound streams, row-buffer behaviour of the banked model.
#include "sim/accel/hbm.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace attnsim::accel
