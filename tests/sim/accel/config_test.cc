// Config loading, presets and validation: every bad parameter is reported by field.
#include "sim/accel/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/accel/report.h"
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

}  // namespace
}  // namespace attnsim::accel
