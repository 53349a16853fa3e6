// Calibration: fitting the four cost-model numbers to measured kernel times, and reading the
// result back for `predict --calibration`.
#pragma once

#include <boost/json.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sim/gpu/cost_model.h"
#include "sim/gpu/gpu_spec.h"
#include "sim/gpu/kernel_spec.h"
#include "sim/gpu/mask_rule.h"
#include "sim/gpu/simulate.h"

namespace attnsim::gpu {

/// One measured kernel run.
struct MeasuredRun {
  std::string mask;  ///< as written in the file (relative to it), or an inline pattern
  std::filesystem::path mask_path;  ///< resolved against the measurements file
  double ms = 0;
  std::optional<std::int64_t> head_dim;
  std::optional<std::string> dtype;
  std::optional<std::string> rule;  ///< token rule applied to this run's mask (mask_rules.md)
  std::optional<int> gqa;           ///< q heads per kv head of this run
};

/// A measurements file: {"gpu", "kernel", "runs": [{"mask", "ms", "head_dim", "dtype", "rule",
/// "gqa", "info"}]}; "rule" is a token rule applied to the run's mask, "gqa" its q heads per kv
/// head; "info" is free-form provenance from the benchmark harness and is not read.
struct Measurements {
  std::string source;
  std::string gpu;
  std::string kernel;
  std::vector<MeasuredRun> runs;
};

/// Reads and checks a measurements file; every mask must exist (paths relative to the file).
/// Throws InputError naming the file and field (e.g. "runs[2].mask").
Measurements read_measurements(const std::filesystem::path& path);

/// One run after the fit.
struct RunFit {
  std::string mask;
  double measured_ms = 0;
  double predicted_ms = 0;
  double relative_error = 0;  ///< (predicted - measured) / measured
  bool in_fit = false;
};

/// One fitted base parameter: its value, its prior (the preset's value) and what decided it.
struct ParameterFit {
  std::string name;
  double value = 0;
  double prior = 0;
  /// Share of the parameter's uncertainty the prior alone would leave (0: pinned by the runs,
  /// 1: the runs say nothing about it).
  double prior_share = 1;
  std::string determined_by;  ///< "runs", "prior" or "bound" (held at a physical bound)
};

/// One rule's fitted cost per mask operation (us), from its run.
struct RuleFit {
  std::string rule;
  std::string run;  ///< the mask of the run it came from
  double value = 0;
  double op_count_ratio = 1;  ///< value / the prior (preset's) mask_op_us
  double prior_share = 1;
  std::string determined_by;
};

/// The fitted cost model and how well it explains the runs.
struct CalibrationReport {
  CostParams cost;
  std::vector<ParameterFit> parameters;  ///< in the order of kParamNames
  std::vector<RuleFit> rule_fits;
  std::vector<RunFit> runs;
  double fit_rms_relative_error = 0;      ///< over the runs used in the fit (the residual)
  double holdout_rms_relative_error = 0;  ///< over the other runs (0 when there are none)
  double holdout_max_relative_error = 0;
  int iterations = 0;
};

/// Fits the cost model in two stages.
///  1. Base: tile_full_us, mask_op_us, cta_us, launch_us and host_floor_us to the first
///     `fit_runs` runs, by least squares on relative error with the preset's values as a Gaussian
///     prior and physical bounds (every cost >= 0, fixed costs at most a few times the preset's),
///     re-linearising around each new schedule (the time is piecewise linear in the costs).
///     Parameters the runs do not constrain stay at the prior, and the report says so.
///  2. Rules: each of the next `rule_runs` runs (one per rule name) fits its rule's cost per mask
///     operation (prior: mask_op_us), the base held fixed.
/// The two stages alternate until neither moves, so base runs whose masked tiles follow a
/// calibrated rule are priced with that rule's cost.
/// The remaining runs are held out and only predicted.
CalibrationReport calibrate(const Measurements& measurements, const GpuSpec& gpu,
                            const KernelSpec& kernel, int fit_runs, int rule_runs = 0);

boost::json::object to_json(const CalibrationReport& report, const GpuSpec& gpu,
                            const KernelSpec& kernel);
/// A few lines for the terminal: the fitted numbers, the residual and the held-out error.
std::string format_calibration_summary(const CalibrationReport& report);

/// Reads a calibration written by `tilesim calibrate`; it must be for this GPU and kernel.
CostParams read_calibration(const std::filesystem::path& path, const GpuSpec& gpu,
                            const KernelSpec& kernel);

/// A mask argument: an .npz/.npy file or "pattern:NAME,key=value,...". With `rule`, that rule is
/// applied to the mask (replacing the file's own; apply_mask_rule).
Workload load_workload(const std::string& argument, const std::filesystem::path& path,
                       const std::optional<MaskRule>& rule = std::nullopt);

}  // namespace attnsim::gpu
