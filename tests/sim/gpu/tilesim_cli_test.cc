// The tilesim binary end to end: outputs, determinism, and every bad input of issue #3 giving a
// named error, exit code 2 and no output file.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "sim/common/atomic_file.h"
#include "sim/common/npy.h"
#include "sim/gpu/mask_io.h"
#include "sim/gpu/patterns/pattern.h"
#include "tests/support/npy_fixtures.h"
#include "tests/support/scratch_dir.h"

namespace attnsim::gpu {
namespace {

namespace fs = std::filesystem;

struct ToolRun {
  int exit_code;
  std::string out;
  std::string err;
};

class TilesimCli : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = scratch_.path(); }

  ToolRun tilesim(const std::string& args) {
    const std::string command = std::string(TILESIM_EXE) + " " + args + " > " +
                                (dir_ / "stdout").string() + " 2> " + (dir_ / "stderr").string();
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, common::read_file(dir_ / "stdout"),
            common::read_file(dir_ / "stderr")};
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // Runs a command that must fail on bad input: exit 2, the message, no output files.
  void expect_input_error(const std::string& args, const std::string& message,
                          const std::vector<std::string>& outputs = {"result.json", "timeline.csv",
                                                                     "cal.json"}) {
    const ToolRun run = tilesim(args);
    EXPECT_EQ(run.exit_code, 2) << args << "\n" << run.err;
    EXPECT_NE(run.err.find(message), std::string::npos) << "stderr: " << run.err;
    EXPECT_TRUE(run.out.empty()) << run.out;
    for (const std::string& output : outputs) EXPECT_FALSE(fs::exists(path(output))) << args;
  }
  void gen(const std::string& args) { ASSERT_EQ(tilesim("gen " + args).exit_code, 0) << args; }

  attnsim::testing::ScratchDir scratch_;
  fs::path dir_;
};

TEST_F(TilesimCli, PredictReportsEveryFieldTheIssueNames) {
  gen("causal --seq 4096 --heads 4 --out " + path("causal.npz"));
  const ToolRun run = tilesim("predict " + path("causal.npz") + " pattern:causal_window,seq=4096," +
                              "heads=4,window=512 --out " + path("result.json") + " --timeline " +
                              path("timeline.csv"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const boost::json::value report = boost::json::parse(common::read_file(path("result.json")));
  const boost::json::array& results = report.at("results").as_array();
  ASSERT_EQ(results.size(), 2u);
  for (const char* field :
       {"mask", "batch", "heads", "seq_q", "seq_kv", "tiles_full", "tiles_partial",
        "tiles_empty_visited", "density_tokens", "density_tiles", "speedup_bound_flop",
        "speedup_bound_tiles", "speedup_bound_sched", "predicted_ms", "predicted_dense_ms",
        "predicted_speedup", "waves", "wave_efficiency", "tail_fraction"}) {
    EXPECT_TRUE(results[0].as_object().contains(field)) << field;
  }
  // NATTENSim's bound (issue #15), overall and one per head.
  EXPECT_TRUE(results[0].as_object().contains("speedup_bound_worst_q"));
  EXPECT_EQ(results[0].at("speedup_bound_worst_q_per_head").as_array().size(), 4u);
  EXPECT_EQ(results[0].at("heads").as_int64(), 4);
  EXPECT_DOUBLE_EQ(results[0].at("density_tokens").as_double(), 4097.0 / 8192.0);
  EXPECT_EQ(report.at("kernel").at("name").as_string(), "flexattention");
  // Timeline: a header and one row per work item (2 masks x 4 heads x 32 Q tiles).
  const std::string timeline = common::read_file(path("timeline.csv"));
  EXPECT_EQ(std::count(timeline.begin(), timeline.end(), '\n'), 1 + 2 * 4 * 32);
}

TEST_F(TilesimCli, GenIsDeterministicAndBothFormatsGiveIdenticalResults) {
  const std::string args = "block_topk --seq 8192 --heads 4 --density 0.2 --seed 9 --out ";
  gen(args + path("a1.npz"));
  gen(args + path("a2.npz"));
  gen(args + path("b.npz") + " --format flex");
  EXPECT_EQ(common::read_file(path("a1.npz")), common::read_file(path("a2.npz")));
  const ToolRun a = tilesim("predict " + path("a1.npz") + " --kernel fa2");
  const ToolRun b = tilesim("predict " + path("b.npz") + " --kernel fa2");
  ASSERT_EQ(a.exit_code, 0);
  const auto strip = [&](std::string text, const std::string& name) {
    return text.replace(text.find(name), name.size(), "MASK");
  };
  EXPECT_EQ(strip(a.out, path("a1.npz")), strip(b.out, path("b.npz")));
  gen("block_topk --seq 8192 --heads 4 --density 0.2 --seed 10 --out " + path("c.npz"));
  EXPECT_NE(common::read_file(path("a1.npz")), common::read_file(path("c.npz")));
}

// Many masks run on several threads (--jobs) and the output is the same bytes for any job count
// (issue #13): results stay in command-line order, the first bad mask in that order is reported.
TEST_F(TilesimCli, OutputIsByteIdenticalForAnyJobCount) {
  gen("block_topk --seq 8192 --heads 4 --density 0.2 --seed 3 --format flex --out " +
      path("topk.npz"));
  gen("causal_window --seq 6000 --heads 3 --window 700 --out " + path("window.npz"));
  gen("document --seq 4096 --heads 2 --doc_mean 900 --seed 5 --format flex --out " +
      path("doc.npz"));
  const std::string masks = path("topk.npz") + " " + path("window.npz") + " " + path("doc.npz") +
                            " pattern:a_shape,seq=5000,heads=2,sinks=64,window=512 " +
                            path("topk.npz") + " pattern:causal,seq=3000,heads=5";
  for (const std::string command : {"bounds", "predict"}) {
    std::string reference;
    for (const int jobs : {1, 2, 3, 0}) {
      const std::string out = path(command + "-" + std::to_string(jobs) + ".json");
      const bool predict = command == "predict";  // with the per-slot timeline too
      const ToolRun run = tilesim(command + " " + masks + " --jobs " + std::to_string(jobs) +
                                  " --out " + out + (predict ? " --timeline " + out + ".csv" : ""));
      ASSERT_EQ(run.exit_code, 0) << run.err;
      const std::string text =
          common::read_file(out) + (predict ? common::read_file(out + ".csv") : "");
      if (jobs == 1) {
        reference = text;
        // Six results, in command-line order.
        const boost::json::array results =
            boost::json::parse(common::read_file(out)).at("results").as_array();
        ASSERT_EQ(results.size(), 6u);
        EXPECT_EQ(results[1].at("mask").as_string(), path("window.npz"));
        EXPECT_EQ(results[5].at("heads").as_int64(), 5);
      } else {
        EXPECT_EQ(text, reference) << command << " --jobs " << jobs;
      }
    }
  }
  const ToolRun table1 = tilesim("predict " + masks + " --format table --jobs 1");
  const ToolRun table2 = tilesim("predict " + masks + " --format table --jobs 2");
  ASSERT_EQ(table1.exit_code, 0) << table1.err;
  EXPECT_EQ(table1.out, table2.out);
  // Two bad masks: every job count names the first one, and nothing is written.
  std::ofstream(path("bad1.npz"), std::ios::binary) << "PK\x03\x04 not really";
  std::ofstream(path("bad2.npz"), std::ios::binary) << "not even a zip";
  for (const char* jobs : {"1", "2", "4"}) {
    expect_input_error("bounds " + path("topk.npz") + " " + path("bad1.npz") + " " +
                           path("window.npz") + " " + path("bad2.npz") + " --jobs " + jobs +
                           " --out " + path("result.json"),
                       path("bad1.npz") + ": npz archive");
  }
  expect_input_error("bounds " + path("topk.npz") + " --jobs -1 --out " + path("result.json"),
                     "--jobs: jobs: expected 0 (all cores) or more, got -1");
}

// The 128-byte .npy of issue #13 whose header claims (8589934592, 2147483648, 2) int32 elements:
// exit 2 naming the file and the field, at once, as a mask and inside an .npz.
TEST_F(TilesimCli, AMaskHeaderClaimingAnAstronomicalShapeIsExitTwo) {
  const std::string file = testing::npy_claiming_an_astronomical_shape();
  ASSERT_EQ(file.size(), 128u);
  std::ofstream(path("huge.npy"), std::ios::binary) << file;
  expect_input_error("bounds " + path("huge.npy") + " --out " + path("result.json"),
                     path("huge.npy") +
                         ": npy header 'shape': expected a shape whose data fits the 0 bytes "
                         "present, got (8589934592, 2147483648, 2)");
  // As the kv_indices member of a BlockMask archive: the archive and the array are named.
  const std::string member = common::read_file(path("huge.npy"));
  // A stored member added by hand: local header, data, central directory, end record.
  std::string zip;
  const auto put16 = [](std::string& out, unsigned v) {
    out += static_cast<char>(v & 0xff);
    out += static_cast<char>((v >> 8) & 0xff);
  };
  const auto put32 = [&](std::string& out, unsigned v) {
    put16(out, v & 0xffff);
    put16(out, v >> 16);
  };
  // CRC-32 of the 128 bytes (bitwise, the zip polynomial): a test must not trust the reader's.
  unsigned crc = 0xffffffffu;
  for (const char c : member) {
    crc ^= static_cast<unsigned char>(c);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  crc ^= 0xffffffffu;
  const std::string name = "kv_indices.npy";
  put32(zip, 0x04034b50);
  put16(zip, 20);
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, 0x21);
  put32(zip, crc);
  put32(zip, 128);
  put32(zip, 128);
  put16(zip, static_cast<unsigned>(name.size()));
  put16(zip, 0);
  zip += name + member;
  const auto directory = static_cast<unsigned>(zip.size());
  put32(zip, 0x02014b50);
  put16(zip, 20);
  put16(zip, 20);
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, 0x21);
  put32(zip, crc);
  put32(zip, 128);
  put32(zip, 128);
  put16(zip, static_cast<unsigned>(name.size()));
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, 0);
  put32(zip, 0);
  put32(zip, 0);
  zip += name;
  const auto directory_size = static_cast<unsigned>(zip.size()) - directory;
  put32(zip, 0x06054b50);
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, 1);
  put16(zip, 1);
  put32(zip, directory_size);
  put32(zip, directory);
  put16(zip, 0);
  std::ofstream(path("huge.npz"), std::ios::binary) << zip;
  expect_input_error("predict " + path("huge.npz") + " --out " + path("result.json"),
                     path("huge.npz") +
                         ": array 'kv_indices': npy header 'shape': expected a shape whose data "
                         "fits the 0 bytes present, got (8589934592, 2147483648, 2)");
}

TEST_F(TilesimCli, TableFormatHasOneRowPerMask) {
  const ToolRun run =
      tilesim("bounds pattern:causal,seq=2048 pattern:dense,seq=2048 --format table");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 3);
}

TEST_F(TilesimCli, CorruptAndTruncatedNpzAreInputErrors) {
  gen("causal --seq 2048 --out " + path("good.npz"));
  const std::string bytes = common::read_file(path("good.npz"));
  std::ofstream(path("truncated.npz"), std::ios::binary) << bytes.substr(0, bytes.size() - 40);
  expect_input_error("predict " + path("good.npz") + " " + path("truncated.npz") + " --out " +
                         path("result.json") + " --timeline " + path("timeline.csv"),
                     "truncated.npz");
  std::ofstream(path("corrupt.npz"), std::ios::binary) << "PK\x03\x04 not really";
  expect_input_error("bounds " + path("corrupt.npz") + " --out " + path("result.json"),
                     "corrupt.npz: npz archive: expected a valid .npz (zip) file");
}

TEST_F(TilesimCli, WrongDtypeOrShapeIsAnInputError) {
  common::NpzWriter npz(path("float.npz"));
  npz.add("full", common::NpyArray::from<double>({1, 1, 2, 2}, {1, 0, 0, 1}));
  npz.commit();
  expect_input_error("bounds " + path("float.npz") + " --out " + path("result.json"),
                     "float.npz: array 'full': expected dtype bool or uint8, got float64");
  common::NpzWriter shape(path("shape.npz"));
  shape.add("kv_num_blocks", common::NpyArray::from<std::int32_t>({2, 2}, {1, 1, 1, 1}));
  shape.add("kv_indices", common::NpyArray::from<std::int32_t>({1, 1, 2, 2}, {0, 0, 1, 0}));
  shape.commit();
  expect_input_error("bounds " + path("shape.npz") + " --out " + path("result.json"),
                     "array 'kv_num_blocks': expected shape [B, H, NQ], got [2, 2]");
}

TEST_F(TilesimCli, OutOfRangeIndicesAndCountsAreInputErrors) {
  common::NpzWriter index(path("index.npz"));
  index.add("kv_num_blocks", common::NpyArray::from<std::int32_t>({1, 1, 2}, {1, 1}));
  index.add("kv_indices", common::NpyArray::from<std::int32_t>({1, 1, 2, 2}, {0, 0, 5, 0}));
  index.commit();
  expect_input_error("predict " + path("index.npz") + " --out " + path("result.json"),
                     "index.npz: array 'kv_indices' at [0, 0, 1, 0]: expected a kv block index "
                     "in [0, 2), got 5");
  common::NpzWriter count(path("count.npz"));
  count.add("kv_num_blocks", common::NpyArray::from<std::int32_t>({1, 1, 2}, {3, 1}));
  count.add("kv_indices", common::NpyArray::from<std::int32_t>({1, 1, 2, 2}, {0, 1, 1, 0}));
  count.commit();
  expect_input_error("predict " + path("count.npz") + " --out " + path("result.json"),
                     "count.npz: array 'kv_num_blocks' at [0, 0, 0]: expected a block count in "
                     "[0, 2] (NK = 2), got 3");
}

TEST_F(TilesimCli, UnknownPresetsAndNegativeTilesAreInputErrors) {
  expect_input_error("predict pattern:causal,seq=1024 --gpu h300 --out " + path("result.json"),
                     "unknown gpu preset 'h300' (known: a100, b200, h100, h200");
  expect_input_error("bounds pattern:causal,seq=1024 --kernel fa9 --out " + path("result.json"),
                     "unknown kernel preset 'fa9'");
  expect_input_error("bounds pattern:causal,seq=1024 --tile-q -64 --out " + path("result.json"),
                     "tile_q: expected a value in [1, 65536], got -64");
  expect_input_error("gen causal --seq 1024 --block -128 --out " + path("result.json"),
                     "block: expected an integer in [1, 65536], got '-128'");
}

TEST_F(TilesimCli, BaselineIsAnotherKernelsDenseRun) {
  // NATTEN's 3-D layout made by gen alone, predicted against cuDNN's dense run (issue #15).
  const std::string mask =
      "pattern:gna,dims=8x16x16,window=4x8x8,q_tile=2x8x8,kv_tile=2x8x8,heads=2";
  const ToolRun own = tilesim("predict " + mask + " --kernel natten_hopper --gpu h100");
  const ToolRun vs =
      tilesim("predict " + mask + " --kernel natten_hopper --gpu h100 --baseline cudnn");
  ASSERT_EQ(own.exit_code, 0) << own.err;
  ASSERT_EQ(vs.exit_code, 0) << vs.err;
  const boost::json::value a = boost::json::parse(own.out), b = boost::json::parse(vs.out);
  EXPECT_EQ(a.at("results").at(0).at("baseline_kernel").as_string(), "natten_hopper");
  EXPECT_EQ(b.at("results").at(0).at("baseline_kernel").as_string(), "cudnn");
  EXPECT_EQ(b.at("baseline").at("name").as_string(), "cudnn");
  EXPECT_EQ(a.at("results").at(0).at("predicted_ms"), b.at("results").at(0).at("predicted_ms"));
  EXPECT_NE(a.at("results").at(0).at("predicted_dense_ms"),
            b.at("results").at(0).at("predicted_dense_ms"));
  expect_input_error("predict " + mask + " --baseline fa9 --out " + path("result.json"),
                     "unknown kernel preset 'fa9'");
}

TEST_F(TilesimCli, EnvironmentErrorsAndStrictPresetsAreInputErrors) {
  const std::string long_name(300, 'k');
  expect_input_error(
      "bounds pattern:causal,seq=1024 --kernel " + long_name + ".yaml --out " + path("result.json"),
      "--kernel: cannot open kernel file '" + long_name + ".yaml': File name too long");
  expect_input_error("bounds pattern:causal,seq=1024 --out /dev/null/result.json",
                     "/dev/null/result.json: cannot create output file: Not a directory");
  std::ofstream(path("dup.yaml")) << "inherits: fa2\ntile_q: 64\ntile_q: -5\n";
  expect_input_error("bounds pattern:causal,seq=1024 --kernel " + path("dup.yaml") + " --out " +
                         path("result.json"),
                     path("dup.yaml") +
                         ":3: tile_q: expected each key once in a mapping, got a "
                         "second 'tile_q' (the first is on line 2)");
  std::ofstream(path("base.yaml")) << "tile_q: 64\ninherits: fa9\n";
  expect_input_error("bounds pattern:causal,seq=1024 --kernel " + path("base.yaml") + " --out " +
                         path("result.json"),
                     path("base.yaml") + ":2: inherits: unknown kernel preset 'fa9'");
}

TEST_F(TilesimCli, BroadcastsOverTheMemoryLimitAreInputErrorsWithTheNumbers) {
  expect_input_error(
      "bounds pattern:causal,seq=8192,heads=1 --batch 1000000000 --heads 1000000 "
      "--out " +
          path("result.json"),
      "pattern:causal,seq=8192,heads=1: --batch/--heads broadcast layout: expected "
      "at most 8589934592 bytes (raise with --max-memory or ATTNSIM_MAX_MEMORY), "
      "got ");
  expect_input_error("bounds pattern:causal,seq=8192,heads=1 --batch 4 --max-memory 32K --out " +
                         path("result.json"),
                     "--batch/--heads broadcast layout: expected at most 32768 bytes");
  expect_input_error(
      "bounds pattern:causal,seq=8192 --max-memory lots --out " + path("result.json"),
      "--max-memory: memory size: expected bytes or a size like 512M, 8G, 1T");
  expect_input_error(
      "bounds pattern:causal,seq=1048576,heads=8 --max-memory 1M --out " + path("result.json"),
      "pattern:causal,seq=1048576,heads=8: mask of 1 x 8 x 8192 x 8192 blocks: "
      "block layout (estimated from 64 rows of the first head, before generating): expected at "
      "most 1048576 bytes");
  // Just past the limit the estimate's margin lets generation start; the builder's exact check
  // still refuses (8 heads x 64 rows of about 32 blocks: 84 KB listed, limit 64K).
  expect_input_error(
      "bounds pattern:causal,seq=8192,heads=8 --max-memory 64K --out " + path("result.json"),
      "pattern:causal,seq=8192,heads=8: mask of 1 x 8 x 64 x 64 blocks: block layout: expected "
      "at most 65536 bytes");
  const ToolRun ok = tilesim("bounds pattern:causal,seq=8192,heads=1 --batch 4 --max-memory 1M");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(TilesimCli, MeasurementsWithMissingMasksAreInputErrors) {
  gen("causal --seq 2048 --out " + path("present.npz"));
  std::ofstream(path("runs.json")) << R"({"gpu": "h200", "kernel": "flexattention", "runs": [
           {"mask": "present.npz", "ms": 0.5},
           {"mask": "absent.npz", "ms": 0.7}]})";
  expect_input_error("calibrate --measurements " + path("runs.json") + " --out " + path("cal.json"),
                     "runs.json: runs[1].mask: expected an existing mask file (paths are "
                     "relative to the measurements file), got 'absent.npz'");
  const std::string long_name(300, 'm');
  std::ofstream(path("long.json")) << R"({"gpu": "h200", "kernel": "flexattention", "runs": [
           {"mask": ")" + long_name + R"(.npz", "ms": 0.5}]})";
  expect_input_error("calibrate --measurements " + path("long.json") + " --out " + path("cal.json"),
                     "long.json: runs[0].mask: expected an existing mask file");
  std::ofstream(path("pattern.json")) << R"({"gpu": "h200", "kernel": "flexattention", "runs": [
           {"mask": "pattern:causal,seq=2048", "ms": 0.5},
           {"mask": "pattern:nosuchfamily,seq=2048", "ms": 0.7}]})";
  expect_input_error(
      "calibrate --measurements " + path("pattern.json") + " --out " + path("cal.json"),
      "pattern.json: runs[1].mask: pattern:nosuchfamily,seq=2048: ");
  std::ofstream(path("dup.json")) << R"({"gpu": "h200", "kernel": "flexattention",
    "runs": [{"mask": "pattern:causal,seq=2048", "ms": 0.5, "ms": 0.7}]})";
  expect_input_error("calibrate --measurements " + path("dup.json") + " --out " + path("cal.json"),
                     "dup.json:2:64: runs[0].ms: expected each key once in an object");
}

TEST_F(TilesimCli, CalibrationRoundTripsIntoPredict) {
  std::ofstream(path("runs.json")) << R"({"gpu": "h200", "kernel": "flexattention", "runs": [
      {"mask": "pattern:dense,seq=8192,heads=32", "ms": 2.6},
      {"mask": "pattern:dense,seq=32768,heads=32", "ms": 40.5},
      {"mask": "pattern:causal,seq=8192,heads=32", "ms": 1.45},
      {"mask": "pattern:causal_window,seq=16384,heads=32,window=2048", "ms": 1.2}]})";
  const ToolRun fit =
      tilesim("calibrate --measurements " + path("runs.json") + " --out " + path("cal.json"));
  ASSERT_EQ(fit.exit_code, 0) << fit.err;
  EXPECT_NE(fit.out.find("fit residual"), std::string::npos);
  const ToolRun predicted =
      tilesim("predict pattern:dense,seq=32768,heads=32 --calibration " + path("cal.json"));
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  const double ms =
      boost::json::parse(predicted.out).at("results").at(0).at("predicted_ms").as_double();
  EXPECT_NEAR(ms, 40.5, 40.5 * 0.05);
  expect_input_error("predict pattern:dense,seq=1024 --kernel fa2 --calibration " +
                         path("cal.json") + " --out " + path("result.json"),
                     "cal.json: kernel: expected 'fa2' (the --kernel in use), got 'flexattention'",
                     {"result.json"});
}

TEST_F(TilesimCli, CalibratedAsLetsAPersistentGridUseItsFlatGridsCalibration) {
  std::ofstream(path("runs.json")) << R"({"gpu": "h200", "kernel": "sm90", "runs": [
      {"mask": "pattern:dense,seq=8192,heads=32", "ms": 1.9},
      {"mask": "pattern:dense,seq=32768,heads=8", "ms": 7.5},
      {"mask": "pattern:causal,seq=8192,heads=32", "ms": 1.05}]})";
  const ToolRun fit = tilesim("calibrate --kernel sm90 --measurements " + path("runs.json") +
                              " --out " + path("cal.json"));
  ASSERT_EQ(fit.exit_code, 0) << fit.err;
  const auto predicted_ms = [&](const std::string& kernel) {
    const ToolRun run = tilesim("predict pattern:causal,seq=16384,heads=16 --kernel " + kernel +
                                " --calibration " + path("cal.json"));
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return boost::json::parse(run.out).at("results").at(0).at("predicted_ms").as_double();
  };
  // sm90_persistent says `calibrated_as: sm90`: the same costs, another schedule (its static
  // round robin over 16 heads of 128 Q tiles loses to the flat grid on a causal mask).
  EXPECT_GT(predicted_ms("sm90_persistent"), predicted_ms("sm90") * 1.1);
  expect_input_error("predict pattern:dense,seq=1024 --kernel golden --calibration " +
                         path("cal.json") + " --out " + path("result.json"),
                     "cal.json: kernel: expected 'golden' (the --kernel in use), got 'sm90'",
                     {"result.json"});
}

TEST_F(TilesimCli, Sm90AutoPredictsOnTheGridItPicksWithSm90sCalibration) {
  std::ofstream(path("runs.json")) << R"({"gpu": "h200", "kernel": "sm90", "runs": [
      {"mask": "pattern:dense,seq=8192,heads=32", "ms": 1.9},
      {"mask": "pattern:dense,seq=32768,heads=8", "ms": 7.5},
      {"mask": "pattern:causal,seq=8192,heads=32", "ms": 1.05}]})";
  ASSERT_EQ(tilesim("calibrate --kernel sm90 --head-dim 64 --measurements " + path("runs.json") +
                    " --out " + path("cal.json"))
                .exit_code,
            0);
  // 32 heads of 32 causal Q tiles go persistent, 8 heads of 64 stay flat (sm90_grid_choice.h).
  const std::string masks = "pattern:causal,seq=4096,heads=32 pattern:causal,seq=8192,heads=8";
  const auto results = [&](const std::string& kernel) {
    const ToolRun run = tilesim("predict " + masks + " --head-dim 64 --kernel " + kernel +
                                " --calibration " + path("cal.json"));
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return boost::json::parse(run.out).at("results").as_array();
  };
  const boost::json::array automatic = results("sm90_auto"), flat = results("sm90"),
                           persistent = results("sm90_persistent");
  EXPECT_EQ(automatic.at(0).at("grid"), "persistent");
  EXPECT_EQ(automatic.at(0).at("predicted_ms"), persistent.at(0).at("predicted_ms"));
  EXPECT_NE(automatic.at(0).at("predicted_ms"), flat.at(0).at("predicted_ms"));
  EXPECT_EQ(automatic.at(1).at("grid"), "flat");
  EXPECT_EQ(automatic.at(1).at("predicted_ms"), flat.at(1).at("predicted_ms"));
  EXPECT_EQ(flat.at(0).as_object().count("grid"), 0u);  // one grid: no field
  // The table names the grid in its last column.
  const ToolRun table = tilesim("bounds " + masks + " --kernel sm90_auto --format table");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find(" grid\n"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(" persistent\n"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(" flat\n"), std::string::npos) << table.out;
  // Its grids' schedulers are its own choice: --scheduler cannot override them.
  expect_input_error(
      "predict pattern:causal,seq=4096 --kernel sm90_auto --scheduler "
      "static_persistent",
      "--scheduler: kernel: expected a kernel with one grid", {});
}

TEST_F(TilesimCli, SingleHeadMasksBroadcastOverHeads) {
  gen("causal --seq 4096 --heads 1 --format flex --out " + path("one.npz"));
  gen("causal --seq 4096 --heads 8 --format flex --out " + path("eight.npz"));
  const ToolRun broadcast = tilesim("predict --heads 8 " + path("one.npz"));
  const ToolRun native = tilesim("predict " + path("eight.npz"));
  ASSERT_EQ(broadcast.exit_code, 0) << broadcast.err;
  const auto result = [](const std::string& text) {
    boost::json::object r = boost::json::parse(text).at("results").at(0).as_object();
    r.erase("mask");
    return r;
  };
  EXPECT_EQ(result(broadcast.out), result(native.out));
  expect_input_error("predict --heads 3 " + path("eight.npz") + " --out " + path("result.json"),
                     "--batch/--heads: expected a mask with batch 1 or 1 and heads 1 or 3, got "
                     "batch 1, heads 8");
}

TEST_F(TilesimCli, SweepWritesOneRowPerPointWithItsCostModel) {
  std::ofstream(path("runs.json")) << R"({"gpu": "h200", "kernel": "fa2", "runs": [
      {"mask": "pattern:dense,seq=4096,heads=8", "ms": 0.9}]})";
  ASSERT_EQ(tilesim("calibrate --kernel fa2 --measurements " + path("runs.json") + " --out " +
                    path("cal.json"))
                .exit_code,
            0);
  std::ofstream(path("sweep.yaml")) << "gpus: [h200, a100]\n"
                                       "kernels: fa2\n"
                                       "patterns:\n"
                                       "  - pattern: causal_window\n"
                                       "    seq: [2048, 4096]\n"
                                       "    heads: 4\n"
                                       "    window: [256, 512, 1024]\n"
                                       "calibrations:\n"
                                       "  - {gpu: h200, kernel: fa2, file: cal.json}\n";
  const ToolRun run = tilesim("sweep --spec " + path("sweep.yaml") + " --out " + path("sweep.csv"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string csv = common::read_file(path("sweep.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 2 * 3 * 2);
  EXPECT_EQ(csv.rfind("pattern,params,gpu,kernel,batch,heads,seq_q", 0), 0u);
  EXPECT_NE(csv.find("heads=4;seq=2048;window=256,h200,fa2,"), std::string::npos);
  std::size_t calibrated = 0;
  for (std::size_t at = csv.find("cal.json"); at != std::string::npos;
       at = csv.find("cal.json", at + 1)) {
    ++calibrated;
  }
  EXPECT_EQ(calibrated, 6u);  // the h200 rows only
  std::ofstream(path("bad.yaml")) << "gpus: h200\nkernels: fa2\npatterns:\n"
                                     "  - pattern: spiral\n    seq: 1024\n";
  expect_input_error("sweep --spec " + path("bad.yaml") + " --out " + path("result.json"),
                     "PATTERN: expected one of dense", {"result.json"});
  expect_input_error("sweep --out " + path("result.json"), "--spec: expected a sweep description",
                     {"result.json"});
  // The old spelling still works for one release and says so in one line.
  const ToolRun old = tilesim("sweep --config " + path("sweep.yaml") + " --out " + path("old.csv"));
  ASSERT_EQ(old.exit_code, 0) << old.err;
  EXPECT_EQ(common::read_file(path("old.csv")), csv);
  EXPECT_EQ(old.err,
            "tilesim: sweep --config FILE is deprecated (kept for one release): use --spec FILE\n");
}

TEST_F(TilesimCli, OutputsThroughSymlinksKeepTheLink) {
  // Renaming over a link (think /dev/stdout) would replace it with a plain file.
  fs::create_symlink(path("target.json"), path("link.json"));
  ASSERT_EQ(tilesim("bounds pattern:causal,seq=1024 --out " + path("link.json")).exit_code, 0);
  EXPECT_TRUE(fs::is_symlink(path("link.json")));
  EXPECT_NE(common::read_file(path("target.json")).find("\"results\""), std::string::npos);
  // Binary outputs go through the link too (sim/common's AtomicFile and NpzWriter rule).
  ASSERT_EQ(tilesim("gen causal --seq 1024 --out " + path("link.json")).exit_code, 0);
  EXPECT_TRUE(fs::is_symlink(path("link.json")));
  EXPECT_EQ(common::read_file(path("target.json")).rfind("PK", 0), 0u);  // a zip (.npz) now
}

TEST_F(TilesimCli, UsageErrorsExitTwo) {
  EXPECT_EQ(tilesim("").exit_code, 2);
  expect_input_error("frobnicate", "command: expected one of bounds, predict");
  expect_input_error("predict --format xml pattern:causal,seq=1024", "--format");
  expect_input_error("predict --out " + path("result.json"), "MASK: expected at least one mask");
  expect_input_error("predict pattern:causal,seq=1024,heads=4 --gqa 3 --out " + path("result.json"),
                     "heads: expected a multiple of q_heads_per_kv_head (3, --gqa), got 4");
}

TEST_F(TilesimCli, RulesGiveExactDensityAndAreReported) {
  gen("causal_window --seq 1000 --heads 2 --window 100 --out " + path("w.npz"));
  gen("causal_window --seq 1000 --heads 2 --window 100 --format flex --out " + path("wf.npz"));
  // A block-only copy: the same blocks without the rule or pair counts.
  {
    const common::NpzReader npz(path("w.npz"));
    common::NpzWriter out(path("blocks.npz"));
    for (const std::string& n : npz.names()) {
      if (n != "rule" && n != "allowed_pairs") out.add(n, npz.get(n));
    }
    out.commit();
  }
  const ToolRun run =
      tilesim("bounds " + path("w.npz") + " " + path("wf.npz") + " " + path("blocks.npz") +
              " pattern:document,seq=1000,heads=2,lengths=400x600 --out " + path("result.json"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const boost::json::array results =
      boost::json::parse(common::read_file(path("result.json"))).at("results").as_array();
  // Closed form: query q keeps min(q + 1, 100) keys.
  const double window_density = (100.0 * 101 / 2 + 900.0 * 100) / (1000.0 * 1000);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(results[i].at("mask_rule").as_string(), "causal_window,window=100");
    EXPECT_TRUE(results[i].at("density_tokens_exact").as_bool());
    EXPECT_DOUBLE_EQ(results[i].at("density_tokens").as_double(), window_density);
  }
  EXPECT_TRUE(results[2].at("mask_rule").is_null());
  EXPECT_FALSE(results[2].at("density_tokens_exact").as_bool());
  EXPECT_EQ(results[3].at("mask_rule").as_string(), "document,causal=1,lengths=400x600");
  EXPECT_DOUBLE_EQ(results[3].at("density_tokens").as_double(),
                   (400.0 * 401 / 2 + 600.0 * 601 / 2) / 1e6);
  // --rule gives the block-only file its rule (and exact density).
  const ToolRun with_rule = tilesim("bounds " + path("blocks.npz") +
                                    " --rule causal_window,window=100 --out " + path("r2.json"));
  ASSERT_EQ(with_rule.exit_code, 0) << with_rule.err;
  const boost::json::value r2 =
      boost::json::parse(common::read_file(path("r2.json"))).at("results").as_array()[0];
  EXPECT_TRUE(r2.at("density_tokens_exact").as_bool());
  EXPECT_DOUBLE_EQ(r2.at("density_tokens").as_double(), window_density);
  EXPECT_EQ(r2.at("mask_rule").as_string(), "causal_window,window=100");
}

TEST_F(TilesimCli, ARuleThatMasksAFullBlockExitsTwoWithNoOutput) {
  gen("dense --seq 512 --heads 2 --out " + path("dense.npz"));
  expect_input_error("bounds " + path("dense.npz") + " --rule causal --out " + path("result.json"),
                     path("dense.npz") + ": rule: expected FULL blocks that rule 'causal'");
  expect_input_error(
      "predict " + path("dense.npz") + " --rule band,left=1 --out " + path("result.json"),
      "--rule: expected rule 'band' with key 'right'");
  // The same through a measurements file's run rule.
  std::ofstream(path("runs.json"))
      << R"({"runs": [{"mask": "dense.npz", "ms": 1.0, "rule": "causal_window,window=64"}]})";
  expect_input_error("calibrate --measurements " + path("runs.json") + " --out " + path("cal.json"),
                     "(batch 0, head 0, q block 0, kv block 0)");
  std::ofstream(path("runs2.json")) << R"({"runs": [{"mask": "dense.npz", "ms": 1.0, "gqa": 3}]})";
  expect_input_error(
      "calibrate --measurements " + path("runs2.json") + " --out " + path("cal.json"),
      "runs2.json");
}

}  // namespace
}  // namespace attnsim::gpu
