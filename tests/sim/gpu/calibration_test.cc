// Calibration recovers a known cost model from runs simulated with it, and predicts held-out
// runs; measurements files are checked field by field.
#include "sim/gpu/calibration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <stdexcept>

#include "sim/common/input_error.h"
#include "sim/gpu/presets.h"
#include "tests/support/scratch_dir.h"

namespace attnsim::gpu {
namespace {

const PresetDirs kShipped{ATTNSIM_GPU_PRESETS_SOURCE_DIR};

// Runs "measured" as `truth` simulates them times a factor per run (1: the fit's model family
// exactly, so a perfect fit exists; 0.97: a run 3 % faster than the model says).
Measurements scaled_runs(const std::vector<std::pair<std::string, double>>& masks,
                         const GpuSpec& gpu, const KernelSpec& kernel, const CostParams& truth) {
  Measurements m;
  m.source = "synthetic";
  for (const auto& [mask, factor] : masks) {
    MeasuredRun run;
    run.mask = mask;
    run.ms = factor * simulate(load_workload(mask, ""), gpu, kernel, truth).predicted_ms;
    m.runs.push_back(run);
  }
  return m;
}

Measurements simulated_runs(const std::vector<std::string>& masks, const GpuSpec& gpu,
                            const KernelSpec& kernel, const CostParams& truth) {
  std::vector<std::pair<std::string, double>> exact;
  for (const std::string& mask : masks) exact.emplace_back(mask, 1.0);
  return scaled_runs(exact, gpu, kernel, truth);
}

const ParameterFit& parameter(const CalibrationReport& report, const std::string& name) {
  for (const ParameterFit& p : report.parameters) {
    if (p.name == name) return p;
  }
  throw std::logic_error("no parameter " + name);
}

TEST(Calibration, FiveRunsRecoverAKnownCostModelAndPredictTheRest) {
  const GpuSpec gpu = load_gpu("h200", kShipped);
  // A kernel whose mask cost per operation is not a measured one (precomputed rule values), so
  // the runs set it freely (MeasuredMaskCostHoldsAgainstAFewMaskedTiles: FlexAttention's).
  KernelSpec kernel = load_kernel("flexattention", kShipped);
  kernel.mask_evaluation = MaskEvaluation::kPrecomputed;
  CostParams truth;
  truth.tile_full_us = 1.1;
  truth.mask_op_us = 3e-5;
  truth.cta_us = 4.0;
  truth.launch_us = 15.0;
  truth.host_floor_us = 45.0;
  const Measurements m = simulated_runs(
      {"pattern:dense,seq=8192,heads=16",
       // a window of 1000 keys: most visited tiles are masked, which pins mask_op_us
       "pattern:causal_window,seq=16384,heads=16,window=1000",
       "pattern:random,seq=16384,heads=16,density=0.1",
       // short: launch_us weighs much more than in the long runs
       "pattern:dense,seq=2048,heads=4",
       // shorter still, under the host floor: it pins host_floor_us
       "pattern:causal_window,seq=2048,heads=2,window=256",
       // held out:
       "pattern:a_shape,seq=16384,heads=16,window=1500",
       "pattern:block_topk,seq=16384,heads=16,k=8",
       "pattern:sliding_window,seq=12288,heads=16,window=999", "pattern:causal,seq=16384,heads=16"},
      gpu, kernel, truth);
  const CalibrationReport report = calibrate(m, gpu, kernel, 5);
  EXPECT_LT(report.fit_rms_relative_error, 0.005);
  EXPECT_LT(report.holdout_max_relative_error, 0.01);
  EXPECT_NEAR(report.cost.tile_full_us, truth.tile_full_us, 0.03 * truth.tile_full_us);
  EXPECT_NEAR(report.cost.host_floor_us, truth.host_floor_us, 0.01 * truth.host_floor_us);
  EXPECT_EQ(parameter(report, "tile_full_us").determined_by, "runs");
  EXPECT_EQ(parameter(report, "host_floor_us").determined_by, "runs");
  EXPECT_EQ(parameter(report, "launch_us").determined_by, "runs");
  EXPECT_EQ(parameter(report, "mask_op_us").determined_by, "runs");
  ASSERT_EQ(report.runs.size(), 9u);
  EXPECT_TRUE(report.runs[4].in_fit);
  EXPECT_FALSE(report.runs[5].in_fit);
}

TEST(Calibration, ARuleRunFitsThatRulesCostOnTopOfTheBase) {
  const GpuSpec gpu = load_gpu("h200", kShipped);
  const KernelSpec kernel = load_kernel("flexattention", kShipped);
  CostParams truth = default_cost_params(gpu, kernel);
  // The document rule costs 2.5x its op count's estimate.
  const double document_us = 2.5 * truth.mask_op_us;
  truth.rule_op_us["document"] = document_us;
  const std::vector<std::string> base = {
      "pattern:dense,seq=8192,heads=16", "pattern:dense,seq=32768,heads=8",
      "pattern:causal,seq=16384,heads=16", "pattern:random,seq=16384,heads=16,density=0.1",
      "pattern:causal_window,seq=8192,heads=16,window=700"};
  // Held out: another document mix, other shapes.
  const std::string held_out =
      "pattern:document,seq=8192,heads=24,batch=2,doc_mean=700,doc_dist=uniform";
  // A rule run whose masked tiles are most of its work (short documents).
  std::vector<std::string> runs = base;
  runs.push_back("pattern:document,seq=16384,heads=16,doc_mean=200,doc_dist=uniform");
  runs.push_back(held_out);
  const Measurements m = simulated_runs(runs, gpu, kernel, truth);
  const CalibrationReport before = calibrate(m, gpu, kernel, 5, 0);
  const CalibrationReport report = calibrate(m, gpu, kernel, 5, 1);
  ASSERT_EQ(report.rule_fits.size(), 1u);
  EXPECT_EQ(report.rule_fits[0].rule, "document");
  EXPECT_NEAR(report.cost.rule_op_us.at("document"), document_us, 0.03 * document_us);
  EXPECT_NEAR(report.rule_fits[0].op_count_ratio, 2.5, 0.08);
  EXPECT_EQ(report.rule_fits[0].determined_by, "runs");
  // Without the rule run the held-out document mask is off; with it, it is predicted.
  EXPECT_GT(std::abs(before.runs[6].relative_error), 0.02);
  EXPECT_LT(std::abs(report.runs[6].relative_error), 0.01);
  EXPECT_TRUE(report.runs[5].in_fit);
  EXPECT_FALSE(report.runs[6].in_fit);

  // A rule run with few masked tiles (four long documents) moves the rule's measured count only
  // part of the way: its time cannot tell a rule cost from the rest of the model's error.
  runs = base;
  runs.push_back("pattern:document,seq=16384,heads=16,lengths=3000x5000x2000x6384");
  runs.push_back(held_out);
  const CalibrationReport weak =
      calibrate(simulated_runs(runs, gpu, kernel, truth), gpu, kernel, 5, 1);
  ASSERT_EQ(weak.rule_fits.size(), 1u);
  EXPECT_GT(weak.rule_fits[0].op_count_ratio, 1.0);
  EXPECT_LT(weak.rule_fits[0].op_count_ratio, 2.4);
  EXPECT_GT(weak.rule_fits[0].prior_share, report.rule_fits[0].prior_share);
}

TEST(Calibration, StaysPhysicalAndSaysWhatTheRunsDidNotDetermine) {
  const GpuSpec gpu = load_gpu("h200", kShipped);
  KernelSpec kernel = load_kernel("flexattention", kShipped);
  kernel.mask_evaluation = MaskEvaluation::kPrecomputed;  // the weak prior on mask_op_us
  // A causal run measured faster than its full tiles alone allow: an unconstrained fit would
  // make a masked tile cheaper than a full one.
  const CostParams defaults = default_cost_params(gpu, kernel);
  const Measurements m = scaled_runs({{"pattern:dense,seq=8192,heads=32", 1.0},
                                      {"pattern:dense,seq=16384,heads=16", 1.0},
                                      {"pattern:causal,seq=16384,heads=16", 0.8}},
                                     gpu, kernel, defaults);
  const CalibrationReport report = calibrate(m, gpu, kernel, 3);
  EXPECT_GE(report.cost.mask_op_us, 0.0);
  EXPECT_GE(report.cost.masked_tile_us(kernel, std::nullopt), report.cost.tile_full_us);
  EXPECT_EQ(parameter(report, "mask_op_us").determined_by, "bound");
  // No run is short: nothing tells the host floor apart, so it stays the preset's.
  EXPECT_EQ(parameter(report, "host_floor_us").determined_by, "prior");
  EXPECT_DOUBLE_EQ(report.cost.host_floor_us, defaults.host_floor_us);
  for (const ParameterFit& p : report.parameters) EXPECT_GE(p.value, 0.0) << p.name;
}

TEST(Calibration, MeasuredMaskCostHoldsAgainstAFewMaskedTiles) {
  // FlexAttention's mask cost per operation is measured (mask_rules.md), so five base runs whose
  // only masked tiles are a causal diagonal do not move it far: here the causal run comes out 3 %
  // faster than the preset's model says (a session's noise), which with a weak prior drives the
  // mask cost to 0 and every rule cost scaled from it with it (blind6, 2026-12-03).
  const GpuSpec gpu = load_gpu("h200", kShipped);
  const KernelSpec flex = load_kernel("flexattention", kShipped);
  const CostParams defaults = default_cost_params(gpu, flex);
  const Measurements m =
      scaled_runs({{"pattern:dense,seq=10240,heads=20,batch=2", 1.0},
                   {"pattern:dense,seq=24576,heads=12", 1.0},
                   {"pattern:dense,seq=4096,heads=16,batch=8", 1.0},
                   {"pattern:causal,seq=4096,heads=16,batch=8", 0.97},
                   {"pattern:random,seq=8192,heads=12,batch=4,density=0.06", 1.0}},
                  gpu, flex, defaults);
  const CalibrationReport measured = calibrate(m, gpu, flex, 5);
  EXPECT_GT(measured.cost.mask_op_us, 0.7 * defaults.mask_op_us);
  EXPECT_LT(measured.cost.mask_op_us, 1.3 * defaults.mask_op_us);
  EXPECT_EQ(parameter(measured, "mask_op_us").determined_by, "prior");
  // The same runs with the weak prior of a kernel whose mask cost is not measured: the bound.
  KernelSpec precomputed = flex;
  precomputed.mask_evaluation = MaskEvaluation::kPrecomputed;
  const CalibrationReport weak = calibrate(m, gpu, precomputed, 5);
  EXPECT_LT(weak.cost.mask_op_us, 0.5 * defaults.mask_op_us);
}

TEST(Calibration, ARuleRunFitsItsCostWhenTheBaseRunsZeroTheGenericMaskCost) {
  // A kernel with the weak mask-cost prior (not measured): base runs whose only masked tiles are
  // a causal diagonal, 3 % fast, drive the generic cost per mask op to 0. A document run must
  // still fit the document rule's own cost: rule costs are in units of the preset's cost per op,
  // not the base fit's (before, every rule cost was 0 whatever its run said: blind7, sm90 d128,
  // fit residual 16 %).
  const GpuSpec gpu = load_gpu("h200", kShipped);
  KernelSpec kernel = load_kernel("flexattention", kShipped);
  kernel.mask_evaluation = MaskEvaluation::kPrecomputed;
  CostParams truth = default_cost_params(gpu, kernel);
  const double document_us = 2.0 * truth.mask_op_us;
  truth.rule_op_us["document"] = document_us;
  const Measurements m =
      scaled_runs({{"pattern:dense,seq=10240,heads=20,batch=2", 1.0},
                   {"pattern:dense,seq=24576,heads=12", 1.0},
                   {"pattern:dense,seq=4096,heads=16,batch=8", 1.0},
                   {"pattern:causal,seq=4096,heads=16,batch=8", 0.97},
                   {"pattern:dense,seq=8192,heads=12,batch=4", 1.0},
                   {"pattern:document,seq=16384,heads=16,doc_mean=200,doc_dist=uniform", 1.0}},
                  gpu, kernel, truth);
  const CalibrationReport report = calibrate(m, gpu, kernel, 5, 1);
  EXPECT_LT(report.cost.mask_op_us, 0.5 * truth.mask_op_us);  // the base runs moved it down
  ASSERT_EQ(report.rule_fits.size(), 1u);
  EXPECT_EQ(report.rule_fits[0].determined_by, "runs");
  EXPECT_NEAR(report.cost.rule_op_us.at("document"), document_us, 0.1 * document_us);
  EXPECT_LT(std::abs(report.runs[5].relative_error), 0.01);
}

TEST(Calibration, RuleRunsNeedARuleEach) {
  const GpuSpec gpu = load_gpu("h200", kShipped);
  const KernelSpec kernel = load_kernel("flexattention", kShipped);
  const Measurements m = simulated_runs(
      {"pattern:dense,seq=8192,heads=16", "pattern:random,seq=8192,heads=16,density=0.1"}, gpu,
      kernel, default_cost_params(gpu, kernel));
  try {
    calibrate(m, gpu, kernel, 1, 1);
    ADD_FAILURE() << "a rule run without a rule was accepted";
  } catch (const common::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("runs[1].rule"), std::string::npos) << e.what();
  }
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
