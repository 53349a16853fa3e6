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
  // T = N x tBL + floor(T / tREFI) x (tRFC + tRCD + tCL) (refreshes at k x tREFI, k >= 1): 8
  // B/cycle x (1 - 364/3900) = 7.25 B/cycle.
  HbmParams p = ramulator_hbm2_channel();
  p.t_refi_cycles = 3900;
  p.t_rfc_cycles = 350;
  auto hbm = make_hbm_model(p, HbmTiming::kBanked);
  const std::int64_t n = 40000;  // 160,000 bus cycles: about 45 refreshes
  const DramWindow w = hbm->access(sequential(static_cast<std::uint64_t>(n)), 0, 32);
  double t = n * 4.0;
  for (int i = 0; i < 20; ++i) t = n * 4.0 + std::floor(t / 3900) * (350 + 7 + 7);
  EXPECT_NEAR(static_cast<double>(w.last_cycle), t, 0.01 * t);
  EXPECT_GT(w.last_cycle, n * 4 + 40 * 350);  // refresh really cost something
}

// HBM2 in pseudo-channel mode, as `spatten-paper` configures it: every timing of Ramulator 2's
// HBM2_2Gbps row (src/dram/impl/HBM2.cpp line 19, commit 1fb94b8) and its HBM2_8Gb organisation
// (line 14: 2 pseudo-channels x 4 bank groups x 4 banks, 64 columns / prefetch 2 = 32 reads per
// row), but the data bus at 2 Gb/s x 128 pins = 32 B/cycle per channel, 16 B/cycle per
// pseudo-channel, so a 32-byte read holds its pseudo-channel's bus tBL = 2 cycles. Values are
// written out here, not read from the preset. One channel, no controller latency.
//   tCL = tRCD = tRP = 7, tRAS = 17, tRRD_S/L = 2/3, tCCD_S/L = 1/2, tFAW = 15, tBL = 2.
HbmParams hbm2_pseudo_channel_mode() {
  HbmParams p;
  p.channels = 1;
  p.bytes_per_cycle_per_channel = 32;
  p.latency_cycles = 0;
  p.pseudo_channels = 2;
  p.banks_per_channel = 32;
  p.bank_groups = 4;
  p.row_bytes = 1024;
  p.t_cl_cycles = 7;
  p.t_rcd_cycles = 7;
  p.t_rp_cycles = 7;
  p.t_ras_cycles = 17;
  p.t_rrd_cycles = 3;
  p.t_rrd_s_cycles = 2;
  p.t_ccd_l_cycles = 2;
  p.t_ccd_s_cycles = 1;
  p.t_faw_cycles = 15;
  return p;
}

// The block address of (row, bank, pseudo-channel, column) on a one-channel HBM: the documented
// mapping row : bank : column : pseudo-channel (hbm.h), 16 banks and 32 columns per
// pseudo-channel.
std::uint64_t pc_block(std::uint64_t row, std::uint64_t bank, std::uint64_t pc,
                       std::uint64_t column) {
  return ((row * 16 + bank) * 32 + column) * 2 + pc;
}

TEST(BankedHbm, Hbm2PseudoChannelIdleLatencies) {
  auto hbm = make_hbm_model(hbm2_pseudo_channel_mode(), HbmTiming::kBanked);
  // Closed bank: ACT at 100, RD at 100 + tRCD, data tCL later for tBL: 100 + 7 + 7 + 2 = 116.
  EXPECT_EQ(hbm->access({pc_block(1, 0, 0, 0)}, 100, 1).last_cycle, 116);
  // Open row (hit): RD at once: 200 + tCL + tBL = 209.
  EXPECT_EQ(hbm->access({pc_block(1, 0, 0, 1)}, 200, 1).last_cycle, 209);
  // Another row of that bank (conflict, tRAS long past): PRE, ACT, RD:
  // 300 + tRP + tRCD + tCL + tBL = 300 + 7 + 7 + 7 + 2 = 323.
  EXPECT_EQ(hbm->access({pc_block(2, 0, 0, 0)}, 300, 1).last_cycle, 323);
  const ChannelStats& c = hbm->channel_stats()[0];
  EXPECT_EQ(c.row_misses, 1);
  EXPECT_EQ(c.row_hits, 1);
  EXPECT_EQ(c.row_conflicts, 1);
}

TEST(BankedHbm, Hbm2PseudoChannelsHaveTheirOwnBuses) {
  // Two reads of one row issued together. The same pseudo-channel: the second RD waits for the
  // bus (RD at 7 + tBL = 9, data at 16, done 18). The two pseudo-channels: each activates and
  // reads on its own, both done at 7 + 7 + 2 = 16.
  auto same = make_hbm_model(hbm2_pseudo_channel_mode(), HbmTiming::kBanked);
  EXPECT_EQ(same->access({pc_block(1, 0, 0, 0), pc_block(1, 0, 0, 1)}, 0, 32).last_cycle, 18);
  auto both = make_hbm_model(hbm2_pseudo_channel_mode(), HbmTiming::kBanked);
  EXPECT_EQ(both->access({pc_block(1, 0, 0, 0), pc_block(1, 0, 1, 0)}, 0, 32).last_cycle, 16);
}

TEST(BankedHbm, Hbm2ActivatesAreTrrdLongWithinABankGroup) {
  // Two closed banks of one pseudo-channel, reads issued together, ACT of the first at 0.
  // Same bank group (banks 0 and 4): second ACT at tRRD_L = 3, RD 10, data 17, done 19.
  auto same_group = make_hbm_model(hbm2_pseudo_channel_mode(), HbmTiming::kBanked);
  EXPECT_EQ(same_group->access({pc_block(1, 0, 0, 0), pc_block(1, 4, 0, 0)}, 0, 32).last_cycle, 19);
  // Other bank group (banks 0 and 1): second ACT at tRRD_S = 2, RD 9, data 16 (the first read's
  // data holds the bus 14-16), done 18.
  auto other_group = make_hbm_model(hbm2_pseudo_channel_mode(), HbmTiming::kBanked);
  EXPECT_EQ(other_group->access({pc_block(1, 0, 0, 0), pc_block(1, 1, 0, 0)}, 0, 32).last_cycle,
            18);
}

TEST(BankedHbm, Hbm2ReadsAreTccdLongWithinABankGroup) {
  // A bus twice as wide (tBL = 1) so that tCCD, not the bus, spaces the reads.
  HbmParams p = hbm2_pseudo_channel_mode();
  p.bytes_per_cycle_per_channel = 64;
  // 32 reads of one open row (one bank group): RD every tCCD_L = 2 cycles from 7; the last RD at
  // 7 + 31 x 2 = 69, done 69 + tCL + tBL = 77 (the bus alone would allow 7 + 31 + 8 = 46).
  std::vector<std::uint64_t> row;
  for (std::uint64_t col = 0; col < 32; ++col) row.push_back(pc_block(1, 0, 0, col));
  auto one_group = make_hbm_model(p, HbmTiming::kBanked);
  EXPECT_EQ(one_group->access(row, 0, 32).last_cycle, 77);
  // Banks 0 and 1 (two groups) opened first, then 32 hits alternating between them from cycle
  // 100: RD every tCCD_S = 1 cycle (each group's reads stay tCCD_L = 2 apart): the last RD at 131,
  // done 131 + 7 + 1 = 139.
  auto two_groups = make_hbm_model(p, HbmTiming::kBanked);
  two_groups->access({pc_block(1, 0, 0, 0), pc_block(1, 1, 0, 0)}, 0, 32);
  std::vector<std::uint64_t> alternating;
  for (std::uint64_t col = 1; col <= 16; ++col) {
    alternating.push_back(pc_block(1, 0, 0, col));
    alternating.push_back(pc_block(1, 1, 0, col));
  }
  EXPECT_EQ(two_groups->access(alternating, 100, 32).last_cycle, 139);
}

TEST(BankedHbm, Hbm2PseudoChannelStreamRunsAtThirtyTwoBytesPerCycle) {
  // 4,096 sequential 32-byte reads on one channel: they alternate pseudo-channels, 2,048 each,
  // filling 64 rows of 32 reads over the 16 banks of each. Every activate (at most 4 per 15
  // cycles, well ahead of the bus: a row lasts 64 bus cycles) hides behind the data bus, so each
  // pseudo-channel's bus runs back to back from the first data at tRCD + tCL:
  // T = tRCD + tCL + (N / 2) x tBL = 14 + 2,048 x 2 = 4,110: 4,096 x 32 / 4,110 = 31.9 B/cycle.
  auto hbm = make_hbm_model(hbm2_pseudo_channel_mode(), HbmTiming::kBanked);
  const std::int64_t n = 4096;
  const DramWindow w = hbm->access(sequential(static_cast<std::uint64_t>(n)), 0, 32);
  EXPECT_EQ(w.first_cycle, 7 + 7 + 2);  // idle latency tRCD + tCL + tBL
  EXPECT_EQ(w.last_cycle, 14 + n);
  const ChannelStats& c = hbm->channel_stats()[0];
  EXPECT_EQ(c.row_misses + c.row_conflicts, 128);
  EXPECT_EQ(c.busy_cycles, n);  // in channel-bus cycles: 32 B at 32 B/cycle
}

TEST(BankedHbm, Hbm2PseudoChannelRandomRowsAreBoundByTheFourActivateWindow) {
  // Every read opens a new row: read i goes to pseudo-channel i mod 2, bank (i / 2) mod 16 (its
  // bank group (i / 2) mod 4), row i / 32 + 1. In each pseudo-channel the k-th activate (k = i / 2)
  // is bound by tRRD_S = 2 after the previous (consecutive activates change bank group, and one
  // group's are 4 activates >= 8 cycles > tRRD_L apart) and tFAW = 15 after the fourth last;
  // a bank comes back every 16 activates (>= 60 cycles > tRAS + tRP = 24). Hence
  //   ACT_k = 15 x floor(k / 4) + 2 x (k mod 4), done_k = ACT_k + tRCD + tCL + tBL,
  // and the data bus (2 cycles per read, reads >= 2 apart) never binds. N = 4,000: the last
  // k = 1,999 gives ACT 7,491 and T = 7,507; both pseudo-channels together move 8 x 32 B per 15
  // cycles = 17.07 B/cycle (a legacy-mode channel with the same tFAW: half that).
  auto hbm = make_hbm_model(hbm2_pseudo_channel_mode(), HbmTiming::kBanked);
  std::vector<std::uint64_t> blocks;
  const std::uint64_t n = 4000;
  for (std::uint64_t i = 0; i < n; ++i) {
    blocks.push_back(pc_block(i / 32 + 1, (i / 2) % 16, i % 2, 0));
  }
  const DramWindow w = hbm->access(blocks, 0, 32);
  EXPECT_EQ(w.first_cycle, 16);
  EXPECT_EQ(w.last_cycle, 15 * (1999 / 4) + 2 * (1999 % 4) + 7 + 7 + 2);
  const double bytes_per_cycle = static_cast<double>(n) * 32.0 / static_cast<double>(w.last_cycle);
  EXPECT_NEAR(bytes_per_cycle, 8.0 * 32.0 / 15.0, 0.05);
  const ChannelStats& c = hbm->channel_stats()[0];
  EXPECT_EQ(c.row_hits, 0);
  EXPECT_EQ(c.row_misses, 32);  // each of the 2 x 16 banks once, then conflicts
  EXPECT_EQ(c.row_conflicts, static_cast<std::int64_t>(n) - 32);
}

TEST(BankedHbm, Hbm2PseudoChannelRefreshTakesItsShareOfTheStream) {
  // All-bank refresh every tREFI = 3,900 cycles for tRFC = 350 holds both pseudo-channels and
  // closes their rows (reopened tRCD + tCL before data flows again). Each pseudo-channel streams
  // N / 2 reads of tBL = 2, so T = N + floor(T / tREFI) x (tRFC + tRCD + tCL) (refreshes at k x
  // tREFI, k >= 1): 32 B/cycle x
  // (1 - 364 / 3,900) = 29 B/cycle.
  HbmParams p = hbm2_pseudo_channel_mode();
  p.t_refi_cycles = 3900;
  p.t_rfc_cycles = 350;
  auto hbm = make_hbm_model(p, HbmTiming::kBanked);
  const std::int64_t n = 160000;  // 160,000 bus cycles: about 45 refreshes
  const DramWindow w = hbm->access(sequential(static_cast<std::uint64_t>(n)), 0, 32);
  double t = static_cast<double>(n);
  for (int i = 0; i < 20; ++i) t = static_cast<double>(n) + std::floor(t / 3900) * (350 + 7 + 7);
  EXPECT_NEAR(static_cast<double>(w.last_cycle), t, 0.01 * t);
  EXPECT_GT(w.last_cycle, n + 40 * 350);  // refresh really cost something
}

}  // namespace
}  // namespace attnsim::accel
