// Calibration recovers a known cost model from runs simulated with it, and predicts held-out
// runs; measurements files are checked field by field.
#include "sim/gpu/calibration.h"

#include <gtest/gtest.h>

#include <fstream>

#include "sim/common/input_error.h"
#include "sim/gpu/presets.h"
#include "tests/support/scratch_dir.h"

namespace attnsim::gpu {
namespace {

const PresetDirs kShipped{ATTNSIM_GPU_PRESETS_SOURCE_DIR};

TEST(Calibration, FiveRunsRecoverAKnownCostModelAndPredictTheRest) {
  const GpuSpec gpu = load_gpu("h200", kShipped);
  const KernelSpec kernel = load_kernel("flexattention", kShipped);
  const CostParams truth{1.1, 2.3, 4.0, 15.0};
  Measurements m;
  m.source = "synthetic";
  for (const char* mask :
       {"pattern:dense,seq=8192,heads=16", "pattern:causal,seq=16384,heads=16",
        "pattern:causal_window,seq=16384,heads=16,window=1000",
        "pattern:random,seq=16384,heads=16,density=0.1", "pattern:dense,seq=2048,heads=4",
        // held out:
        "pattern:a_shape,seq=16384,heads=16,window=1500",
        "pattern:block_topk,seq=16384,heads=16,k=8",
        "pattern:sliding_window,seq=12288,heads=16,window=999"}) {
    MeasuredRun run;
    run.mask = mask;
    run.ms = simulate(load_workload(mask, ""), gpu, kernel, truth).predicted_ms;
    m.runs.push_back(run);
  }
  const CalibrationReport report = calibrate(m, gpu, kernel, 5);
  EXPECT_LT(report.fit_rms_relative_error, 0.005);
  EXPECT_LT(report.holdout_max_relative_error, 0.01);
  EXPECT_NEAR(report.cost.tile_full_us, truth.tile_full_us, 0.05 * truth.tile_full_us);
  ASSERT_EQ(report.runs.size(), 8u);
  EXPECT_TRUE(report.runs[4].in_fit);
  EXPECT_FALSE(report.runs[5].in_fit);
}

TEST(Calibration, OneRunScalesTheDefaults) {
  const GpuSpec gpu = load_gpu("h200", kShipped);
  const KernelSpec kernel = load_kernel("flexattention", kShipped);
  Measurements m;
  MeasuredRun run;
  run.mask = "pattern:dense,seq=8192,heads=32";
  run.ms = 2.6;
  m.runs.push_back(run);
  const CalibrationReport report = calibrate(m, gpu, kernel, 5);
  EXPECT_LT(report.fit_rms_relative_error, 1e-6);
  const CostParams defaults = default_cost_params(gpu, kernel);
  EXPECT_NEAR(report.cost.tile_partial_us / report.cost.tile_full_us,
              defaults.tile_partial_us / defaults.tile_full_us, 1e-9);
}

TEST(Calibration, MeasurementsAreCheckedFieldByField) {
  const attnsim::testing::ScratchDir dir;
  const std::filesystem::path path = dir / "runs.json";
  auto error_for = [&](const std::string& text) {
    std::ofstream(path) << text;
    try {
      read_measurements(path);
    } catch (const common::InputError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(error_for(R"({"runs": []})").find("runs: expected a non-empty list"),
            std::string::npos);
  EXPECT_NE(error_for(R"({"runs": [{"mask": "pattern:causal,seq=128", "ms": -1}]})")
                .find("runs[0].ms: expected a positive time"),
            std::string::npos);
  EXPECT_NE(error_for(R"({"runs": [{"mask": "pattern:causal,seq=128", "ms": 1, "msec": 2}]})")
                .find("runs[0].msec: expected one of mask, ms, head_dim, dtype, rule, gqa, info"),
            std::string::npos);
  // The benchmark harness's provenance travels in "info" and does not trip the key check.
  EXPECT_EQ(error_for(R"({"gpu": "h200", "kernel": "golden", "runs": [{"mask": )"
                      R"("pattern:causal,seq=128", "ms": 1, "info": {"reps": 20}}]})"),
            "(no error)");
  EXPECT_NE(error_for(R"({"runs": [{"ms": 1}]})").find("runs[0].mask: expected a value"),
            std::string::npos);
}

}  // namespace
}  // namespace attnsim::gpu
