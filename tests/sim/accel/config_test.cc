// Config loading, presets and validation: every bad parameter is reported by field.
#include "sim/accel/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/accel/buffer_ring.h"
#include "sim/accel/report.h"
#include "sim/accel/stats.h"
#include "sim/common/input_error.h"
#include "sim/common/json_output.h"

namespace attnsim::accel {
namespace {

namespace fs = std::filesystem;
const fs::path kPresets = ATTNSIM_ACCEL_PRESETS_SOURCE_DIR;

fs::path write_temp(const std::string& name, const std::string& text) {
  const fs::path dir =
      fs::temp_directory_path() / ("accel_config_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p) << text;
  return p;
}

std::string error_of(const std::string& yaml) {
  try {
    load_accel_config(write_temp("c.yaml", yaml).string(), kPresets);
  } catch (const common::InputError& e) {
    return e.what();
  }
  return "";
}

TEST(AccelConfig, PresetsLoadWithThePaperFigures) {
  const AccelConfig c = load_accel_config("spatten", kPresets);
  EXPECT_EQ(c.qk.multipliers + c.pv.multipliers, 1024);
  EXPECT_EQ(c.topk.engine.lanes, 16);
  EXPECT_EQ(c.hbm.channels, 16);
  EXPECT_EQ(c.sram.key_bytes, 196608);
  EXPECT_EQ(c.clock_hz, 1e9);
  EXPECT_EQ(c.topk.engine.lfsr_seed, 0xACE1);
  EXPECT_TRUE(c.validate().ok());
  const AccelConfig e = load_accel_config("spatten-1-8", kPresets);
  EXPECT_EQ(e.qk.multipliers + e.pv.multipliers, 128);
  EXPECT_EQ(e.hbm.channels, 2);
  EXPECT_EQ(e.sram.key_bytes, 196608);  // inherited
  EXPECT_EQ(e.name, "spatten-1/8");
}

TEST(AccelConfig, ResolvedConfigReloadsToTheSameValues) {
  const AccelConfig c = load_accel_config("spatten-1-8", kPresets);
  const std::string text = common::to_pretty_json(config_to_json(c));
  const AccelConfig back = load_accel_config(write_temp("resolved.yaml", text).string(), kPresets);
  EXPECT_EQ(common::to_pretty_json(config_to_json(back)), text);
}

TEST(AccelConfig, ZeroChannelsNamesTheField) {
  const std::string e = error_of("inherits: spatten\nhbm:\n  channels: 0\n");
  EXPECT_NE(e.find("hbm.channels: expected a value in [1, 1024], got 0"), std::string::npos) << e;
}

TEST(AccelConfig, EveryViolationIsReportedAtOnce) {
  const std::string e = error_of(
      "inherits: spatten\nhbm:\n  channels: 0\n  row_bytes: 100\nqk:\n  multipliers: -4\n");
  EXPECT_NE(e.find("hbm.channels"), std::string::npos) << e;
  EXPECT_NE(e.find("hbm.row_bytes"), std::string::npos) << e;
  EXPECT_NE(e.find("qk.multipliers"), std::string::npos) << e;
}

TEST(AccelConfig, UnknownKeysAndWrongTypesNameFileLineAndField) {
  std::string e = error_of("hbm:\n  chanels: 4\n");
  EXPECT_NE(e.find("c.yaml:2"), std::string::npos) << e;
  EXPECT_NE(e.find("hbm.chanels"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
  e = error_of("qk:\n  multipliers: many\n");
  EXPECT_NE(e.find("qk.multipliers: expected an integer, got 'many'"), std::string::npos) << e;
  e = error_of("hbm:\n  timing: fancy\n");
  EXPECT_NE(e.find("'plain' or 'banked'"), std::string::npos) << e;
  e = error_of("topk:\n  lfsr_seed: 0\n");
  EXPECT_NE(e.find("topk.lfsr_seed"), std::string::npos) << e;
  EXPECT_NE(error_of("inherits: nosuchpreset\n").find("spatten-1-8"), std::string::npos);
}

TEST(AccelConfig, BadInheritsNamesTheFileAndLineHoldingIt) {
  std::string e = error_of("clock_hz: 1e9\ninherits: nosuchpreset\n");
  EXPECT_NE(e.find("c.yaml:2: inherits: expected a YAML file or a preset name"), std::string::npos)
      << e;
  EXPECT_NE(e.find("got 'nosuchpreset': No such file or directory"), std::string::npos) << e;
  e = error_of("inherits: " + std::string(300, 'x') + "\n");
  EXPECT_NE(e.find("c.yaml:1: inherits:"), std::string::npos) << e;
  EXPECT_NE(e.find("File name too long"), std::string::npos) << e;
}

TEST(AccelConfig, ZeroTransactionBytesIsAnErrorNotADivisionByZero) {
  const std::string e = error_of("inherits: spatten\nhbm:\n  transaction_bytes: 0\n");
  EXPECT_NE(e.find("hbm.transaction_bytes: expected a power of two in [1, 4096], got 0"),
            std::string::npos)
      << e;
}

TEST(AccelConfig, DuplicateAndNonScalarKeysAreRejectedWithTheirLine) {
  std::string e = error_of("inherits: spatten\nhbm:\n  channels: 2\n  channels: 4\n");
  EXPECT_NE(e.find("c.yaml:4: hbm.channels: expected each key once in a mapping"),
            std::string::npos)
      << e;
  e = error_of("inherits: spatten\n[x]: 3\n");
  EXPECT_NE(e.find("c.yaml:2: <document>: expected keys that are plain scalars"), std::string::npos)
      << e;
}

TEST(AccelConfig, ShapeChecksMultipliersAndBuffers) {
  AccelConfig c;
  EXPECT_TRUE(c.validate_for_shape(64, 1024, 10).ok());
  c.qk.multipliers = 500;   // not a multiple of D = 64
  c.sram.key_bytes = 1000;  // smaller than one head's keys
  const models::Violations v = c.validate_for_shape(64, 1024, 10);
  const std::string text = v.to_string();
  EXPECT_NE(text.find("qk.multipliers: expected a multiple of the head dimension (D = 64)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("sram.key_bytes: expected at least 2 x 81920 bytes"), std::string::npos)
      << text;
  EXPECT_EQ(v.items().size(), 2u);
}

TEST(AccelConfig, ClockAndTopkFieldsAreNamedAsInTheFile) {
  AccelConfig c;
  c.clock_hz = 3e9;  // 333.33 ps: not representable at SystemC's 1 ps resolution
  c.topk.engine.lanes = 100;
  const std::string text = c.validate().to_string();
  EXPECT_NE(text.find("clock_hz: expected a frequency in (0, 1e12] Hz whose period"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\ntopk.lanes: expected a value in [1, 64], got 100"), std::string::npos)
      << text;
  c.clock_hz = 800e6;  // 1,250 ps
  c.topk.engine.lanes = 16;
  EXPECT_TRUE(c.validate().ok()) << c.validate().to_string();
}

TEST(AccelConfig, FifoDepthBelowTwoIsRejected) {
  // The pipeline holds up to two head-steps between the fetcher and the controller (one per key
  // buffer half); shallower FIFOs could deadlock the re-fetch loop.
  AccelConfig c;
  c.pipeline.fifo_depth = 1;
  EXPECT_NE(c.validate().to_string().find("pipeline.fifo_depth"), std::string::npos);
}

TEST(AccelArea, TopkEngineScalesItsLogicWithLanesAndItsBuffersWithMaxN) {
  AccelConfig c = load_accel_config("spatten", kPresets);
  const double reference = c.area.topk_engine_mm2;
  const double logic = c.area.topk_logic_share * reference;
  EXPECT_DOUBLE_EQ(topk_engine_area_mm2(c), reference);  // the preset is the reference engine
  c.topk.engine.lanes = 32;                              // logic doubles, buffers stay
  EXPECT_DOUBLE_EQ(topk_engine_area_mm2(c), reference + logic);
  c.topk.engine.lanes = 16;
  // max_n 2048: buffers of 2048 x (32 + 11) + 3 x 2048 x 32 bits against 4096 x (32 + 12) +
  // 3 x 4096 x 32 (the index takes ceil(log2 max_n) bits).
  c.topk.engine.max_n = 2048;
  const double buffer_ratio = (2048.0 * 43 + 3 * 2048.0 * 32) / (4096.0 * 44 + 3 * 4096.0 * 32);
  EXPECT_DOUBLE_EQ(topk_engine_area_mm2(c), logic + (reference - logic) * buffer_ratio);
  EXPECT_NEAR(area_mm2(c) - area_mm2(load_accel_config("spatten", kPresets)),
              2 * (topk_engine_area_mm2(c) - reference), 1e-12);  // a difference of sums
}

TEST(AccelArea, LogicShareOutsideZeroOneIsRejected) {
  EXPECT_NE(error_of("inherits: spatten\narea:\n  topk_logic_share: 1.5\n")
                .find("area.topk_logic_share: expected a share in [0, 1]"),
            std::string::npos);
}

TEST(AccelConfig, PaperPresetCarriesRamulatorHbm2AndThePaperChoices) {
  const AccelConfig c = load_accel_config("spatten-paper", kPresets);
  // Ramulator 2, src/dram/impl/HBM2.cpp, HBM2_2Gbps at tCK = 1 ns (README "HBM2 timings").
  EXPECT_EQ(c.hbm.latency_cycles, 0);
  EXPECT_EQ(c.hbm.pseudo_channels, 2);
  EXPECT_EQ(c.hbm.banks_per_channel, 32);
  EXPECT_EQ(c.hbm.bank_groups, 4);
  EXPECT_EQ(c.hbm.row_bytes, 1024);
  EXPECT_EQ(c.hbm.t_rrd_s_cycles, 2);
  EXPECT_EQ(c.hbm.t_ccd_l_cycles, 2);
  EXPECT_EQ(c.hbm.t_ccd_s_cycles, 1);
  EXPECT_EQ(c.hbm.pseudo_channel_burst_cycles(), 2);  // 32 B at 16 B/cycle per pseudo-channel
  EXPECT_EQ(c.hbm.t_cl_cycles, 7);
  EXPECT_EQ(c.hbm.t_rcd_cycles, 7);
  EXPECT_EQ(c.hbm.t_rp_cycles, 7);
  EXPECT_EQ(c.hbm.t_ras_cycles, 17);
  EXPECT_EQ(c.hbm.t_rrd_cycles, 3);
  EXPECT_EQ(c.hbm.t_faw_cycles, 15);
  EXPECT_EQ(c.hbm.t_refi_cycles, 3900);
  EXPECT_EQ(c.hbm.t_rfc_cycles, 350);
  EXPECT_EQ(c.topk.engine.microarch, models::TopkMicroarch::kOverlapped);
  EXPECT_EQ(c.topk.engine.pivot_setup_cycles, 0);
  EXPECT_EQ(c.pipeline.buffer_allocation, BufferAllocation::kRing);
  EXPECT_EQ(c.softmax.max_stage, MaxStage::kPipelined);
  EXPECT_EQ(c.qk.multipliers, 512);  // the rest is inherited from spatten
  const AccelConfig wide = load_accel_config("spatten-paper-16bit", kPresets);
  EXPECT_EQ(wide.sram.key_bytes, 262144);
  EXPECT_EQ(wide.topk.engine.microarch, models::TopkMicroarch::kOverlapped);
  // The resolved config says all of it and reloads.
  const std::string text = common::to_pretty_json(config_to_json(c));
  EXPECT_NE(text.find("\"microarch\": \"overlapped\""), std::string::npos);
  EXPECT_NE(text.find("\"buffer_allocation\": \"ring\""), std::string::npos);
  const AccelConfig back = load_accel_config(write_temp("paper.yaml", text).string(), kPresets);
  EXPECT_EQ(common::to_pretty_json(config_to_json(back)), text);
}

TEST(AccelConfig, NamedChoicesAndTimingsAreChecked) {
  EXPECT_NE(error_of("inherits: spatten\ntopk:\n  microarch: fast\n")
                .find("'sequential', 'pipelined' or 'overlapped'"),
            std::string::npos);
  EXPECT_NE(error_of("inherits: spatten\nsoftmax:\n  max_stage: yes\n")
                .find("'serial', 'pipelined' or 'none'"),
            std::string::npos);
  EXPECT_NE(error_of("inherits: spatten\npipeline:\n  buffer_allocation: heap\n")
                .find("'halves' or 'ring'"),
            std::string::npos);
  EXPECT_NE(error_of("inherits: spatten\nhbm:\n  t_refi_cycles: 100\n  t_rfc_cycles: 100\n")
                .find("hbm.t_rfc_cycles"),
            std::string::npos);
  EXPECT_NE(error_of("inherits: spatten\nhbm:\n  t_rfc_cycles: 5\n").find("hbm.t_rfc_cycles"),
            std::string::npos);
  EXPECT_NE(
      error_of("inherits: spatten\npipeline:\n  ring_handles: 0\n").find("pipeline.ring_handles"),
      std::string::npos);
  EXPECT_NE(
      error_of("inherits: spatten\nenergy:\n  clock_fraction: -1\n").find("energy.clock_fraction"),
      std::string::npos);
}

TEST(AccelConfig, PseudoChannelsAndBankGroupsAreChecked) {
  EXPECT_NE(
      error_of("inherits: spatten\nhbm:\n  pseudo_channels: 3\n")
          .find("hbm.bytes_per_cycle_per_channel: expected a multiple of pseudo_channels (3)"),
      std::string::npos);
  EXPECT_NE(error_of("inherits: spatten\nhbm:\n  pseudo_channels: 0\n").find("hbm.pseudo_channels"),
            std::string::npos);
  EXPECT_NE(error_of("inherits: spatten\nhbm:\n  pseudo_channels: 2\n  bank_groups: 3\n")
                .find("hbm.bank_groups: expected a divisor of banks_per_channel / "
                      "pseudo_channels (8)"),
            std::string::npos);
  EXPECT_NE(error_of("inherits: spatten\nhbm:\n  t_rrd_cycles: 2\n  t_rrd_s_cycles: 3\n")
                .find("hbm.t_rrd_s_cycles: expected in [0, t_rrd_cycles]"),
            std::string::npos);
  EXPECT_NE(error_of("inherits: spatten\nhbm:\n  t_ccd_s_cycles: 1\n")
                .find("hbm.t_ccd_s_cycles: expected in [0, t_ccd_l_cycles]"),
            std::string::npos);
}

TEST(AccelConfig, RingNeedsRoomForOneHeadHalvesForTwo) {
  AccelConfig c = load_accel_config("spatten", kPresets);
  c.sram.key_bytes = c.sram.value_bytes = 100000;  // one head at 1,024 x 64 x 10 bits = 81,920
  EXPECT_FALSE(c.validate_for_shape(64, 1024, 10).ok());
  c.pipeline.buffer_allocation = BufferAllocation::kRing;
  EXPECT_TRUE(c.validate_for_shape(64, 1024, 10).ok());
  c.sram.key_bytes = 80000;
  EXPECT_FALSE(c.validate_for_shape(64, 1024, 10).ok());
}

TEST(BufferRing, HalvesHoldTwoHeadStepsWhateverTheirSize) {
  BufferRing halves(BufferAllocation::kHalves, 1000, 16);
  EXPECT_TRUE(halves.try_allocate(0, 1));
  EXPECT_TRUE(halves.try_allocate(1, 1));
  EXPECT_FALSE(halves.try_allocate(2, 1));
  halves.release(1);  // a half frees at once, in any order
  EXPECT_TRUE(halves.try_allocate(2, 1));
  EXPECT_EQ(halves.peak_live(), 2);
}

TEST(BufferRing, RingAllocatesBySizeAndReclaimsFromItsOldestEnd) {
  BufferRing ring(BufferAllocation::kRing, 1000, 3);
  EXPECT_TRUE(ring.try_allocate(0, 400));
  EXPECT_TRUE(ring.try_allocate(1, 300));
  EXPECT_FALSE(ring.try_allocate(2, 400));  // 1,100 bytes do not fit
  EXPECT_TRUE(ring.try_allocate(2, 300));
  EXPECT_FALSE(ring.try_allocate(3, 1));  // all three handles live
  ring.release(1);                        // not the oldest: its room is not back yet
  EXPECT_EQ(ring.live(), 3);
  EXPECT_FALSE(ring.try_allocate(3, 1));
  ring.release(0);  // the oldest: 0 and 1 come back together
  EXPECT_EQ(ring.live(), 1);
  EXPECT_TRUE(ring.try_allocate(3, 700));
  EXPECT_FALSE(ring.try_allocate(4, 1));  // 300 + 700 = 1,000: full
  EXPECT_EQ(ring.peak_live(), 3);
}

TEST(AccelEnergy, AlwaysOnTermsFollowTheirDefinitions) {
  AccelConfig c = load_accel_config("spatten", kPresets);
  AccelStats s;
  s.cycles = 2000000;  // 2 ms at 1 GHz
  s.actions.macs = 1000000;
  s.actions.sram_read_bytes = 4000000;
  const EnergyBreakdown none = energy_of(c, s);
  EXPECT_EQ(none.sram_leakage_j + none.logic_leakage_j + none.clock_j + none.control_j, 0.0);
  c.energy.sram_leakage_mw_per_kib = 0.5;
  c.energy.logic_leakage_mw_per_mm2 = 10;
  c.energy.clock_fraction = 0.25;
  c.energy.control_fraction = 0.5;
  const EnergyBreakdown e = energy_of(c, s);
  // SRAM: 192 + 192 KiB of buffers + two top-k engines of 4,096 x (32 + 12) + 3 x 4,096 x 32 bits.
  const double kib = 384 + 2 * (4096.0 * 44 + 3 * 4096.0 * 32) / 8 / 1024;
  EXPECT_DOUBLE_EQ(e.sram_leakage_j, 0.5e-3 * kib * 2e-3);
  EXPECT_NEAR(e.logic_leakage_j, 10e-3 * (area_mm2(c) - kib * 0.0125) * 2e-3, 1e-15);
  const double dynamic = 1e6 * 0.65e-12 + 4e6 * 1.25e-12;
  EXPECT_DOUBLE_EQ(e.clock_j, 0.25 * dynamic);
  EXPECT_DOUBLE_EQ(e.control_j, 0.5 * dynamic);
  EXPECT_DOUBLE_EQ(e.on_chip_j(), dynamic * 1.75 + e.sram_leakage_j + e.logic_leakage_j);
}

}  // namespace
}  // namespace attnsim::accel
