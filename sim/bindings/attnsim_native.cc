// attnsim_native: Python bindings over attnsim::gpu (tilesim's bounds and predict), so a sweep
// point costs a function call instead of a process start.
// Results are returned as the JSON text the CLIs print, built by the same to_json(), so the two
// paths cannot drift apart in field names or numbers. The typed Python API over this module is
// attnsim.gpu (scripts/python/attnsim/gpu.py); see README.md in this folder.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/common/input_error.h"
#include "sim/common/json_output.h"
#include "sim/gpu/block_layout.h"
#include "sim/gpu/calibration.h"
#include "sim/gpu/cost_model.h"
#include "sim/gpu/mask_rule.h"
#include "sim/gpu/presets.h"
#include "sim/gpu/report.h"
#include "sim/gpu/simulate.h"

namespace py = pybind11;
namespace fs = std::filesystem;

namespace {

using namespace attnsim::gpu;

// Same search order as tilesim for a build-tree binary: the caller's folders, this source tree's
// presets, then the configured install prefix.
PresetDirs resolve_preset_dirs(const std::vector<std::string>& user_dirs) {
  PresetDirs dirs(user_dirs.begin(), user_dirs.end());
  dirs.push_back(ATTNSIM_GPU_PRESETS_SOURCE_DIR);
  dirs.push_back(ATTNSIM_GPU_PRESETS_INSTALL_DIR);
  return dirs;
}

/// A loaded mask, kept on the Python side so one generated pattern serves many kernels and GPUs.
struct Mask {
  Workload workload;
};

std::shared_ptr<Mask> load_mask(const std::string& argument, std::int64_t batch, std::int64_t heads,
                                const std::string& name) {
  auto mask = std::make_shared<Mask>(Mask{load_workload(argument, argument)});
  if (!name.empty()) mask->workload.name = name;
  if (batch <= 0 && heads <= 0) return mask;
  const MaskGeometry& g = mask->workload.mask.geometry;
  const std::int64_t want_batch = batch > 0 ? batch : g.batch;
  const std::int64_t want_heads = heads > 0 ? heads : g.heads;
  std::optional<BlockLayout> broadcast =
      broadcast_layout(mask->workload.mask, want_batch, want_heads);
  if (!broadcast) {
    throw attnsim::common::InputError(
        argument, "batch/heads",
        "a mask with batch 1 or " + std::to_string(want_batch) + " and heads 1 or " +
            std::to_string(want_heads),
        "batch " + std::to_string(g.batch) + ", heads " + std::to_string(g.heads));
  }
  mask->workload.mask = std::move(*broadcast);
  return mask;
}

/// Kernel overrides with tilesim's command-line names (tile_q, tile_kv, head_dim, dtype, gqa,
/// ctas_per_sm, scheduler); a key it does not know is an error, never silently ignored.
KernelSpec kernel_with_overrides(const std::string& kernel_name, const PresetDirs& dirs,
                                 const py::dict& overrides) {
  KernelSpec kernel = load_kernel(kernel_name, dirs);
  for (const auto& item : overrides) {
    const std::string key = py::cast<std::string>(item.first);
    const py::handle value = item.second;
    if (key == "tile_q") {
      kernel.tile_q = py::cast<std::int64_t>(value);
    } else if (key == "tile_kv") {
      kernel.tile_kv = py::cast<std::int64_t>(value);
    } else if (key == "head_dim") {
      kernel.head_dim = py::cast<std::int64_t>(value);
    } else if (key == "dtype") {
      kernel.dtype = py::cast<std::string>(value);
    } else if (key == "gqa") {
      kernel.q_heads_per_kv_head = py::cast<int>(value);
    } else if (key == "ctas_per_sm") {
      kernel.ctas_per_sm = py::cast<int>(value);
    } else if (key == "scheduler") {
      kernel.scheduler = py::cast<std::string>(value);
    } else {
      throw attnsim::common::InputError(
          "kernel overrides", key,
          "one of tile_q, tile_kv, head_dim, dtype, gqa, ctas_per_sm, scheduler", "'" + key + "'");
    }
  }
  throw_if_invalid(kernel.validate(), "kernel '" + kernel_name + "' with overrides");
  return kernel;
}

/// The machine a simulation runs on: GPU, kernel (with overrides) and cost model.
struct Machine {
  GpuSpec gpu;
  KernelSpec kernel;
  CostParams cost;
  std::string cost_source;
};

Machine load_machine(const std::string& gpu_name, const std::string& kernel_name,
                     const py::dict& overrides, const std::string& calibration,
                     const std::vector<std::string>& preset_dirs) {
  const PresetDirs dirs = resolve_preset_dirs(preset_dirs);
  Machine machine{load_gpu(gpu_name, dirs),
                  kernel_with_overrides(kernel_name, dirs, overrides),
                  {},
                  "kernel preset defaults (uncalibrated)"};
  machine.cost = default_cost_params(machine.gpu, machine.kernel);
  if (!calibration.empty()) {
    machine.cost = read_calibration(calibration, machine.gpu, machine.kernel);
    machine.cost_source = calibration;
  }
  return machine;
}

Result run_simulation(const Mask& mask, const Machine& machine, bool timeline, bool predict) {
  throw_if_invalid(check_workload(mask.workload, machine.kernel), mask.workload.name);
  // Pure C++ from here: other Python threads may run meanwhile.
  py::gil_scoped_release release;
  return simulate(mask.workload, machine.gpu, machine.kernel, machine.cost,
                  {timeline, nullptr, predict});
}

/// One tilesim result as the JSON object `tilesim bounds|predict` prints in "results".
std::string simulate_mask(const Mask& mask, const std::string& gpu_name,
                          const std::string& kernel_name, const py::dict& overrides, bool predict,
                          const std::string& calibration,
                          const std::vector<std::string>& preset_dirs) {
  const Machine machine = load_machine(gpu_name, kernel_name, overrides, calibration, preset_dirs);
  const Result result = run_simulation(mask, machine, false, predict);
  return attnsim::common::to_pretty_json(
      to_json(result, predict ? ReportKind::kPredict : ReportKind::kBounds));
}

/// Everything `tilesim bounds|predict --format json` prints for one mask, as JSON text (tool,
/// command, gpu, kernel, cost_model for predict, results: [one]), and the timeline's columns
/// (TimelineEntry fields, exact doubles) when asked for.
py::tuple run_report(const Mask& mask, const std::string& gpu_name, const std::string& kernel_name,
                     const py::dict& overrides, bool predict, const std::string& calibration,
                     const std::vector<std::string>& preset_dirs, bool timeline) {
  const Machine machine = load_machine(gpu_name, kernel_name, overrides, calibration, preset_dirs);
  const Result result = run_simulation(mask, machine, timeline, predict || timeline);
  const ReportKind kind = predict ? ReportKind::kPredict : ReportKind::kBounds;
  boost::json::object report;
  report["tool"] = "tilesim";
  report["command"] = predict ? "predict" : "bounds";
  report["gpu"] = to_json(machine.gpu);
  report["kernel"] = to_json(machine.kernel);
  if (predict) {
    boost::json::object cost_json = to_json(machine.cost);
    cost_json["source"] = machine.cost_source;
    report["cost_model"] = cost_json;
  }
  report["results"] = boost::json::array{to_json(result, kind)};
  py::object columns = py::none();
  if (timeline) {
    const std::size_t n = result.timeline.size();
    std::vector<std::int64_t> batch(n), head(n), q_tile(n), slot(n), sm(n), full(n), partial(n),
        empty(n);
    std::vector<double> start(n), end(n);
    for (std::size_t i = 0; i < n; ++i) {
      const TimelineEntry& e = result.timeline[i];
      batch[i] = e.batch;
      head[i] = e.head;
      q_tile[i] = e.q_tile;
      slot[i] = e.slot;
      sm[i] = e.sm;
      start[i] = e.start_us;
      end[i] = e.end_us;
      full[i] = e.tiles.full;
      partial[i] = e.tiles.partial;
      empty[i] = e.tiles.empty_visited;
    }
    py::dict d;
    d["slot"] = slot;
    d["sm"] = sm;
    d["batch"] = batch;
    d["head"] = head;
    d["q_tile"] = q_tile;
    d["start_us"] = start;
    d["end_us"] = end;
    d["tiles_full"] = full;
    d["tiles_partial"] = partial;
    d["tiles_empty_visited"] = empty;
    columns = d;
  }
  return py::make_tuple(attnsim::common::to_pretty_json(report), columns);
}

/// `tilesim calibrate`: the calibration JSON it writes, and the summary it prints.
py::tuple calibrate_runs(const std::string& measurements, const std::string& gpu_name,
                         const std::string& kernel_name, const py::dict& overrides, int fit_runs,
                         int rule_runs, const std::string& rule_text,
                         const std::vector<std::string>& preset_dirs) {
  const PresetDirs dirs = resolve_preset_dirs(preset_dirs);
  const GpuSpec gpu = load_gpu(gpu_name, dirs);
  const KernelSpec kernel = kernel_with_overrides(kernel_name, dirs, overrides);
  Measurements runs = read_measurements(measurements);
  if (!rule_text.empty()) {
    parse_mask_rule(rule_text, "rule argument", "rule");
    for (MeasuredRun& run : runs.runs) run.rule = rule_text;
  }
  CalibrationReport report;
  {
    py::gil_scoped_release release;
    report = calibrate(runs, gpu, kernel, fit_runs, rule_runs);
  }
  return py::make_tuple(attnsim::common::to_pretty_json(to_json(report, gpu, kernel)),
                        format_calibration_summary(report));
}

}  // namespace

PYBIND11_MODULE(attnsim_native, m) {
  m.doc() = "attnsim simulators in-process: tilesim bounds and predict";
  // Bad input surfaces as ValueError carrying the InputError text (file, field, expected).
  py::register_exception<attnsim::common::InputError>(m, "InputError", PyExc_ValueError);

  // module_local: an installed copy and a build-tree copy can both be loaded in one process.
  py::class_<Mask, std::shared_ptr<Mask>>(m, "Mask", py::module_local())
      .def_property_readonly("name", [](const Mask& mask) { return mask.workload.name; })
      .def_property_readonly("batch",
                             [](const Mask& mask) { return mask.workload.mask.geometry.batch; })
      .def_property_readonly("heads",
                             [](const Mask& mask) { return mask.workload.mask.geometry.heads; });

  m.def("load_mask", &load_mask, py::arg("mask"), py::arg("batch") = 0, py::arg("heads") = 0,
        py::arg("name") = "",
        "A mask file (.npz/.npy) or inline pattern 'pattern:NAME,key=value,...', optionally "
        "broadcast to batch/heads (as tilesim's --batch/--heads); `name` replaces the argument "
        "as the result's \"mask\" field.");
  m.def("simulate", &simulate_mask, py::arg("mask"), py::arg("gpu") = "h200",
        py::arg("kernel") = "flexattention", py::arg("overrides") = py::dict(),
        py::arg("predict") = true, py::arg("calibration") = "",
        py::arg("preset_dirs") = std::vector<std::string>(),
        "JSON text of one result, exactly as `tilesim predict` (or bounds, predict=False) prints "
        "it; overrides use tilesim's option names with underscores (tile_q, gqa, scheduler, ...).");
  m.def("report", &run_report, py::arg("mask"), py::arg("gpu") = "h200",
        py::arg("kernel") = "flexattention", py::arg("overrides") = py::dict(),
        py::arg("predict") = true, py::arg("calibration") = "",
        py::arg("preset_dirs") = std::vector<std::string>(), py::arg("timeline") = false,
        "(JSON text of the whole `tilesim predict|bounds --format json` report for this one "
        "mask, timeline columns as lists or None).");
  m.def("calibrate", &calibrate_runs, py::arg("measurements"), py::arg("gpu") = "h200",
        py::arg("kernel") = "flexattention", py::arg("overrides") = py::dict(),
        py::arg("fit_runs") = 5, py::arg("rule_runs") = 0, py::arg("rule") = "",
        py::arg("preset_dirs") = std::vector<std::string>(),
        "(JSON text `tilesim calibrate` writes, the summary it prints) for a measurements file.");
}
