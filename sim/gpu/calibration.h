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

/// The fitted cost model and how well it explains the runs.
struct CalibrationReport {
  CostParams cost;
  std::string free_parameters;  ///< which numbers were fitted (fewer with fewer runs)
  std::vector<RunFit> runs;
  double fit_rms_relative_error = 0;      ///< over the runs used in the fit (the residual)
  double holdout_rms_relative_error = 0;  ///< over the other runs (0 when there are none)
  double holdout_max_relative_error = 0;
  int iterations = 0;
};

/// Fits tile_full_us, tile_partial_us, cta_us and launch_us to the first `fit_runs` runs by
/// non-negative least squares on relative error, re-linearising around each new schedule
/// (the makespan is linear in the costs while the schedule does not change). With fewer than
/// four runs, fewer numbers are free: 3 runs tie t_partial to t_full by the kernel's ratio,
/// 2 runs scale the kernel's per-tile and per-CTA defaults together and fit launch_us, 1 run
/// scales everything.
CalibrationReport calibrate(const Measurements& measurements, const GpuSpec& gpu,
                            const KernelSpec& kernel, int fit_runs);

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
