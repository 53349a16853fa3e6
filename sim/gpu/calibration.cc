// Cost-model calibration by iterated non-negative least squares.
#include "sim/gpu/calibration.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "sim/common/input_error.h"
#include "sim/common/json_output.h"
#include "sim/gpu/mask_io.h"
#include "sim/gpu/mask_rule_apply.h"
#include "sim/gpu/patterns/pattern.h"
#include "sim/gpu/presets.h"

namespace attnsim::gpu {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using common::InputError;

constexpr std::size_t kParams = 4;  // tile_full_us, tile_partial_us, cta_us, launch_us
using Vec = std::array<double, kParams>;

Vec as_vec(const CostParams& c) {
  return {c.tile_full_us, c.tile_partial_us, c.cta_us, c.launch_us};
}
CostParams as_cost(const Vec& v) { return {v[0], v[1], v[2], v[3]}; }

const json::value& member(const json::object& object, const std::string& key,
                          const std::string& source, const std::string& field) {
  const json::value* value = object.if_contains(key);
  if (!value) throw InputError(source, field, "a value (required field)", "nothing");
  return *value;
}

double number(const json::value& value, const std::string& source, const std::string& field) {
  if (value.is_double()) return value.get_double();
  if (value.is_int64()) return static_cast<double>(value.get_int64());
  if (value.is_uint64()) return static_cast<double>(value.get_uint64());
  throw InputError(source, field, "a number", json::serialize(value));
}

std::string text(const json::value& value, const std::string& source, const std::string& field) {
  if (!value.is_string()) throw InputError(source, field, "a string", json::serialize(value));
  return std::string(value.get_string());
}

const json::object& object_of(const json::value& value, const std::string& source,
                              const std::string& field) {
  if (!value.is_object()) throw InputError(source, field, "an object", json::serialize(value));
  return value.get_object();
}

// Solves min ||A x - b||^2 over the columns in `subset` (others 0) by normal equations.
bool solve_subset(const std::vector<Vec>& rows, const std::vector<double>& b, unsigned subset,
                  std::size_t dims, Vec& x) {
  std::array<std::size_t, kParams> cols{};
  std::size_t n = 0;
  for (std::size_t j = 0; j < dims; ++j) {
    if (subset & (1u << j)) cols[n++] = j;
  }
  double m[kParams][kParams + 1] = {};
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) m[i][j] += rows[r][cols[i]] * rows[r][cols[j]];
      m[i][n] += rows[r][cols[i]] * b[r];
    }
  }
  // Gaussian elimination with partial pivoting; a tiny ridge keeps collinear columns solvable.
  for (std::size_t i = 0; i < n; ++i) m[i][i] += 1e-12 * (1.0 + m[i][i]);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t pivot = i;
    for (std::size_t k = i + 1; k < n; ++k) {
      if (std::abs(m[k][i]) > std::abs(m[pivot][i])) pivot = k;
    }
    if (std::abs(m[pivot][i]) < 1e-300) return false;
    for (std::size_t j = 0; j <= n; ++j) std::swap(m[i][j], m[pivot][j]);
    for (std::size_t k = 0; k < n; ++k) {
      if (k == i) continue;
      const double f = m[k][i] / m[i][i];
      for (std::size_t j = i; j <= n; ++j) m[k][j] -= f * m[i][j];
    }
  }
  x.fill(0.0);
  for (std::size_t i = 0; i < n; ++i) x[cols[i]] = m[i][n] / m[i][i];
  return true;
}

// Non-negative least squares for at most four unknowns: the best feasible subset solution.
Vec nnls(const std::vector<Vec>& rows, const std::vector<double>& b, std::size_t dims) {
  Vec best{};
  double best_cost = 1e300;
  for (unsigned subset = 1; subset < (1u << dims); ++subset) {
    Vec x;
    if (!solve_subset(rows, b, subset, dims, x)) continue;
    if (std::any_of(x.begin(), x.end(), [](double v) { return v < 0; })) continue;
    double cost = 0;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      double pred = 0;
      for (std::size_t j = 0; j < dims; ++j) pred += rows[r][j] * x[j];
      cost += (pred - b[r]) * (pred - b[r]);
    }
    if (cost < best_cost) {
      best_cost = cost;
      best = x;
    }
  }
  return best;
}

KernelSpec kernel_for(const MeasuredRun& run, const KernelSpec& kernel) {
  KernelSpec k = kernel;
  if (run.head_dim) k.head_dim = *run.head_dim;
  if (run.dtype) k.dtype = *run.dtype;
  if (run.gqa) k.q_heads_per_kv_head = *run.gqa;
  return k;
}

double rms(const std::vector<RunFit>& runs, bool in_fit) {
  double sum = 0;
  int n = 0;
  for (const RunFit& r : runs) {
    if (r.in_fit != in_fit) continue;
    sum += r.relative_error * r.relative_error;
    ++n;
  }
  return n ? std::sqrt(sum / n) : 0.0;
}

}  // namespace

Workload load_workload(const std::string& argument, const fs::path& path,
                       const std::optional<MaskRule>& rule) {
  const std::string prefix = "pattern:";
  Workload workload{argument,
                    argument.rfind(prefix, 0) == 0
                        ? generate_inline_pattern(argument.substr(prefix.size()), argument)
                        : read_mask(path)};
  if (rule) apply_mask_rule(workload.mask, *rule, argument);
  return workload;
}

Measurements read_measurements(const fs::path& path) {
  const std::string source = path.string();
  const json::value root = common::read_json_file(path);
  const json::object& top = object_of(root, source, "<document>");
  Measurements m;
  m.source = source;
  if (top.if_contains("gpu")) m.gpu = text(top.at("gpu"), source, "gpu");
  if (top.if_contains("kernel")) m.kernel = text(top.at("kernel"), source, "kernel");
  const json::value& runs = member(top, "runs", source, "runs");
  if (!runs.is_array() || runs.get_array().empty()) {
    throw InputError(source, "runs", "a non-empty list of runs", json::serialize(runs));
  }
  const fs::path base = path.parent_path();
  for (std::size_t i = 0; i < runs.get_array().size(); ++i) {
    const std::string field = "runs[" + std::to_string(i) + "]";
    const json::object& run = object_of(runs.get_array()[i], source, field);
    for (const auto& entry : run) {
      const std::string key = entry.key();
      // "info" carries the harness's provenance (shape, repetitions, all timings) and is ignored.
      if (key != "mask" && key != "ms" && key != "head_dim" && key != "dtype" && key != "rule" &&
          key != "gqa" && key != "info") {
        throw InputError(source, field + "." + key,
                         "one of mask, ms, head_dim, dtype, rule, gqa, info",
                         "unknown key '" + key + "'");
      }
    }
    MeasuredRun r;
    r.mask = text(member(run, "mask", source, field + ".mask"), source, field + ".mask");
    r.ms = number(member(run, "ms", source, field + ".ms"), source, field + ".ms");
    if (!(r.ms > 0) || !std::isfinite(r.ms)) {
      throw InputError(source, field + ".ms", "a positive time in milliseconds",
                       std::to_string(r.ms));
    }
    if (run.if_contains("head_dim")) {
      const double d = number(run.at("head_dim"), source, field + ".head_dim");
      if (d < 1 || d > 1024 || d != std::floor(d)) {
        throw InputError(source, field + ".head_dim", "an integer in [1, 1024]", std::to_string(d));
      }
      r.head_dim = static_cast<std::int64_t>(d);
    }
    if (run.if_contains("dtype")) r.dtype = text(run.at("dtype"), source, field + ".dtype");
    if (run.if_contains("rule")) {
      r.rule = text(run.at("rule"), source, field + ".rule");
      parse_mask_rule(*r.rule, source, field + ".rule");  // checked now, applied with the mask
    }
    if (run.if_contains("gqa")) {
      const double q = number(run.at("gqa"), source, field + ".gqa");
      if (q < 1 || q > 1024 || q != std::floor(q)) {
        throw InputError(source, field + ".gqa", "an integer in [1, 1024] (q heads per kv head)",
                         json::serialize(run.at("gqa")));
      }
      r.gqa = static_cast<int>(q);
    }
    if (r.mask.rfind("pattern:", 0) != 0) {
      r.mask_path = fs::path(r.mask).is_absolute() ? fs::path(r.mask) : base / r.mask;
      if (!fs::is_regular_file(r.mask_path)) {
        throw InputError(source, field + ".mask",
                         "an existing mask file (paths are relative to the measurements file)",
                         "'" + r.mask + "' (" + r.mask_path.string() + " is not a file)");
      }
    }
    m.runs.push_back(std::move(r));
  }
  return m;
}

CalibrationReport calibrate(const Measurements& measurements, const GpuSpec& gpu,
                            const KernelSpec& kernel, int fit_runs) {
  if (!measurements.gpu.empty() && measurements.gpu != gpu.name) {
    throw InputError(measurements.source, "gpu", "'" + gpu.name + "' (the --gpu in use)",
                     "'" + measurements.gpu + "'");
  }
  if (!measurements.kernel.empty() && measurements.kernel != kernel.name) {
    throw InputError(measurements.source, "kernel", "'" + kernel.name + "' (the --kernel in use)",
                     "'" + measurements.kernel + "'");
  }
  if (fit_runs < 1) {
    throw InputError("--fit-runs", "fit-runs", "at least 1", std::to_string(fit_runs));
  }
  // Every mask is read (and checked) before any fitting starts.
  std::vector<Workload> workloads;
  std::vector<KernelSpec> kernels;
  for (std::size_t r = 0; r < measurements.runs.size(); ++r) {
    const MeasuredRun& run = measurements.runs[r];
    // One cost model per kernel configuration: a tile's time depends on head_dim and dtype.
    const std::string field = "runs[" + std::to_string(r) + "]";
    if (run.head_dim && *run.head_dim != kernel.head_dim) {
      throw InputError(measurements.source, field + ".head_dim",
                       std::to_string(kernel.head_dim) +
                           " (the kernel's; calibrate one head dim at a time, --head-dim)",
                       std::to_string(*run.head_dim));
    }
    if (run.dtype && *run.dtype != kernel.dtype) {
      throw InputError(
          measurements.source, field + ".dtype",
          "'" + kernel.dtype + "' (the kernel's; calibrate one dtype at a time, --dtype)",
          "'" + *run.dtype + "'");
    }
    std::optional<MaskRule> rule;
    if (run.rule) rule = parse_mask_rule(*run.rule, measurements.source, field + ".rule");
    workloads.push_back(load_workload(run.mask, run.mask_path, rule));
    kernels.push_back(kernel_for(run, kernel));
    throw_if_invalid(check_workload(workloads.back(), kernels.back()),
                     measurements.source + ": " + field + ".mask");
    throw_if_invalid(kernels.back().validate(), measurements.source + ": run '" + run.mask + "'");
  }
  const std::size_t n_fit = std::min<std::size_t>(fit_runs, measurements.runs.size());

  // Free directions in parameter space, fewer when there are fewer runs than numbers.
  const CostParams defaults = default_cost_params(gpu, kernel);
  const Vec d0 = as_vec(defaults);
  std::vector<Vec> directions;
  CalibrationReport report;
  if (n_fit >= 4) {
    directions = {Vec{1, 0, 0, 0}, Vec{0, 1, 0, 0}, Vec{0, 0, 1, 0}, Vec{0, 0, 0, 1}};
    report.free_parameters = "tile_full_us, tile_partial_us, cta_us, launch_us";
  } else if (n_fit == 3) {
    directions = {Vec{1, kernel.partial_tile_cost_ratio, 0, 0}, Vec{0, 0, 1, 0}, Vec{0, 0, 0, 1}};
    report.free_parameters =
        "tile_full_us (tile_partial_us tied by the kernel's ratio), cta_us, "
        "launch_us";
  } else if (n_fit == 2) {
    directions = {Vec{d0[0], d0[1], d0[2], 0}, Vec{0, 0, 0, 1}};
    report.free_parameters = "one scale of the per-tile and per-CTA defaults, launch_us";
  } else {
    directions = {d0};
    report.free_parameters = "one scale of every default";
  }

  Vec params = d0;
  double best_objective = 1e300;
  Vec best = params;
  for (int iteration = 1; iteration <= 30; ++iteration) {
    report.iterations = iteration;
    // Linearise: prediction = launch + critical-slot terms, or launch + memory time.
    std::vector<Vec> rows;
    std::vector<double> targets;
    for (std::size_t r = 0; r < n_fit; ++r) {
      const Result res = simulate(workloads[r], gpu, kernels[r], as_cost(params));
      const double y = measurements.runs[r].ms * 1e3;
      Vec a{};
      double constant = 0;
      if (res.memory_bound) {
        a = {0, 0, 0, 1};
        constant = res.hbm_us;
      } else {
        a = {res.critical_full_tiles, res.critical_masked_tiles, res.critical_items, 1};
      }
      Vec row{};
      for (std::size_t j = 0; j < directions.size(); ++j) {
        for (std::size_t p = 0; p < kParams; ++p) row[j] += a[p] * directions[j][p];
      }
      // Relative error: divide each equation by its measurement.
      for (double& v : row) v /= y;
      rows.push_back(row);
      targets.push_back((y - constant) / y);
    }
    const Vec c = nnls(rows, targets, directions.size());
    Vec next{};
    for (std::size_t j = 0; j < directions.size(); ++j) {
      for (std::size_t p = 0; p < kParams; ++p) next[p] += c[j] * directions[j][p];
    }
    // Score the new point with real schedules (the linearisation may have moved them).
    double objective = 0;
    for (std::size_t r = 0; r < n_fit; ++r) {
      const double predicted = simulate(workloads[r], gpu, kernels[r], as_cost(next)).predicted_ms;
      const double e = (predicted - measurements.runs[r].ms) / measurements.runs[r].ms;
      objective += e * e;
    }
    if (objective < best_objective - 1e-15) {
      best_objective = objective;
      best = next;
    }
    const bool converged = std::equal(
        next.begin(), next.end(), params.begin(),
        [](double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); });
    params = next;
    if (converged) break;
  }

  report.cost = as_cost(best);
  for (std::size_t r = 0; r < measurements.runs.size(); ++r) {
    RunFit fit;
    fit.mask = measurements.runs[r].mask;
    fit.measured_ms = measurements.runs[r].ms;
    fit.predicted_ms = simulate(workloads[r], gpu, kernels[r], report.cost).predicted_ms;
    fit.relative_error = (fit.predicted_ms - fit.measured_ms) / fit.measured_ms;
    fit.in_fit = r < n_fit;
    if (!fit.in_fit) {
      report.holdout_max_relative_error =
          std::max(report.holdout_max_relative_error, std::abs(fit.relative_error));
    }
    report.runs.push_back(fit);
  }
  report.fit_rms_relative_error = rms(report.runs, true);
  report.holdout_rms_relative_error = rms(report.runs, false);
  return report;
}

json::object to_json(const CalibrationReport& report, const GpuSpec& gpu,
                     const KernelSpec& kernel) {
  json::object o;
  o["tool"] = "tilesim calibrate";
  o["gpu"] = gpu.name;
  o["kernel"] = kernel.name;
  o["kernel_config"] = json::object{{"tile_q", kernel.tile_q},
                                    {"tile_kv", kernel.tile_kv},
                                    {"head_dim", kernel.head_dim},
                                    {"dtype", kernel.dtype}};
  o["cost_model"] = json::object{{"tile_full_us", report.cost.tile_full_us},
                                 {"tile_partial_us", report.cost.tile_partial_us},
                                 {"cta_us", report.cost.cta_us},
                                 {"launch_us", report.cost.launch_us}};
  o["fit"] = json::object{{"free_parameters", report.free_parameters},
                          {"iterations", report.iterations},
                          {"fit_rms_relative_error", report.fit_rms_relative_error},
                          {"holdout_rms_relative_error", report.holdout_rms_relative_error},
                          {"holdout_max_relative_error", report.holdout_max_relative_error}};
  json::array runs;
  for (const RunFit& r : report.runs) {
    runs.push_back(json::object{{"mask", r.mask},
                                {"measured_ms", r.measured_ms},
                                {"predicted_ms", r.predicted_ms},
                                {"relative_error", r.relative_error},
                                {"in_fit", r.in_fit}});
  }
  o["runs"] = runs;
  return o;
}

std::string format_calibration_summary(const CalibrationReport& report) {
  char line[256];
  std::string out;
  std::snprintf(line, sizeof line,
                "fitted: tile_full_us %.4g, tile_partial_us %.4g, cta_us %.4g, launch_us %.4g\n",
                report.cost.tile_full_us, report.cost.tile_partial_us, report.cost.cta_us,
                report.cost.launch_us);
  out += line;
  int fit = 0;
  for (const RunFit& r : report.runs) fit += r.in_fit;
  std::snprintf(line, sizeof line, "fit residual (RMS relative error over %d run(s)): %.2f%%\n",
                fit, 100 * report.fit_rms_relative_error);
  out += line;
  if (static_cast<int>(report.runs.size()) > fit) {
    std::snprintf(line, sizeof line, "held-out error over %d run(s): RMS %.2f%%, max %.2f%%\n",
                  static_cast<int>(report.runs.size()) - fit,
                  100 * report.holdout_rms_relative_error, 100 * report.holdout_max_relative_error);
    out += line;
  }
  return out;
}

CostParams read_calibration(const fs::path& path, const GpuSpec& gpu, const KernelSpec& kernel) {
  const std::string source = path.string();
  const json::value root = common::read_json_file(path);
  const json::object& top = object_of(root, source, "<document>");
  const std::string cal_gpu = text(member(top, "gpu", source, "gpu"), source, "gpu");
  const std::string cal_kernel = text(member(top, "kernel", source, "kernel"), source, "kernel");
  if (cal_gpu != gpu.name) {
    throw InputError(source, "gpu", "'" + gpu.name + "' (the --gpu in use)", "'" + cal_gpu + "'");
  }
  if (cal_kernel != kernel.name) {
    throw InputError(source, "kernel", "'" + kernel.name + "' (the --kernel in use)",
                     "'" + cal_kernel + "'");
  }
  // Tile costs hold for the tile shape, head dim and dtype they were fitted on.
  const json::object& config =
      object_of(member(top, "kernel_config", source, "kernel_config"), source, "kernel_config");
  const auto require_same = [&](const char* key, const std::string& in_use) {
    const json::value& value = member(config, key, source, std::string("kernel_config.") + key);
    const std::string fitted =
        value.is_string() ? std::string(value.get_string()) : json::serialize(value);
    if (fitted != in_use) {
      throw InputError(source, std::string("kernel_config.") + key,
                       in_use + " (the kernel in use; calibrate for it)", fitted);
    }
  };
  require_same("tile_q", std::to_string(kernel.tile_q));
  require_same("tile_kv", std::to_string(kernel.tile_kv));
  require_same("head_dim", std::to_string(kernel.head_dim));
  require_same("dtype", kernel.dtype);
  const json::object& c =
      object_of(member(top, "cost_model", source, "cost_model"), source, "cost_model");
  CostParams cost;
  auto read = [&](const char* key) {
    const std::string field = std::string("cost_model.") + key;
    return number(member(c, key, source, field), source, field);
  };
  cost.tile_full_us = read("tile_full_us");
  cost.tile_partial_us = read("tile_partial_us");
  cost.cta_us = read("cta_us");
  cost.launch_us = read("launch_us");
  models::Violations v = cost.validate();
  throw_if_invalid(v, source);
  return cost;
}

}  // namespace attnsim::gpu
