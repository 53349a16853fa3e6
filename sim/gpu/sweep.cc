// Sweep expansion, execution and CSV output.
#include "sim/gpu/sweep.h"

#include <cstdio>
#include <iostream>

#include "sim/common/progress.h"
#include "sim/common/yaml_reader.h"
#include "sim/gpu/calibration.h"
#include "sim/gpu/patterns/pattern.h"
#include "sim/gpu/simulate.h"

namespace attnsim::gpu {
namespace {

using common::YamlReader;

std::vector<std::string> scalar_or_list(const YamlReader& node) {
  std::vector<std::string> values;
  if (node.node().IsSequence()) {
    for (std::size_t i = 0; i < node.node().size(); ++i) {
      if (!node.node()[i].IsScalar()) node.fail("a scalar or a list of scalars", "a nested value");
      values.push_back(node.node()[i].Scalar());
    }
    if (values.empty()) node.fail("a non-empty list", "an empty list");
  } else {
    values.push_back(node.as<std::string>());
  }
  return values;
}

// Every combination of the axes' values, last axis fastest.
std::vector<std::map<std::string, std::string>> expand(const SweepPattern& pattern) {
  std::vector<std::map<std::string, std::string>> points{{}};
  for (const auto& [key, values] : pattern.axes) {
    std::vector<std::map<std::string, std::string>> next;
    for (const auto& point : points) {
      for (const std::string& value : values) {
        auto extended = point;
        extended[key] = value;
        next.push_back(std::move(extended));
      }
    }
    points = std::move(next);
  }
  return points;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

SweepSpec read_sweep_spec(const std::filesystem::path& path) {
  const YamlReader root = YamlReader::load_file(path);
  root.reject_unknown_keys({"gpus", "kernels", "patterns", "calibrations"});
  SweepSpec spec;
  spec.source = path.string();
  spec.gpus = scalar_or_list(root.child("gpus"));
  spec.kernels = scalar_or_list(root.child("kernels"));
  for (const YamlReader& entry : root.list("patterns")) {
    SweepPattern pattern;
    pattern.family = entry.get<std::string>("pattern");
    find_pattern_family(pattern.family, entry.location());
    for (const auto& item : entry.node()) {
      const std::string key = item.first.as<std::string>();
      if (key == "pattern") continue;
      pattern.axes.push_back({key, scalar_or_list(entry.child(key))});
    }
    spec.patterns.push_back(std::move(pattern));
  }
  if (root.has("calibrations")) {
    for (const YamlReader& entry : root.list("calibrations")) {
      entry.reject_unknown_keys({"gpu", "kernel", "file"});
      const std::filesystem::path file = entry.get<std::string>("file");
      spec.calibrations.push_back({entry.get<std::string>("gpu"), entry.get<std::string>("kernel"),
                                   file.is_absolute() ? file : path.parent_path() / file});
    }
  }
  return spec;
}

std::string run_sweep(const SweepSpec& spec, const PresetDirs& dirs, bool show_progress) {
  // Presets and every pattern point are checked before the first simulation.
  std::vector<GpuSpec> gpus;
  for (const std::string& name : spec.gpus) gpus.push_back(load_gpu(name, dirs));
  std::vector<KernelSpec> kernels;
  for (const std::string& name : spec.kernels) kernels.push_back(load_kernel(name, dirs));
  // Cost model per (GPU, kernel): a listed calibration, else the kernel's defaults.
  std::vector<CostParams> costs;
  std::vector<std::string> cost_sources;
  for (const GpuSpec& gpu : gpus) {
    for (const KernelSpec& kernel : kernels) {
      costs.push_back(default_cost_params(gpu, kernel));
      cost_sources.push_back("uncalibrated");
      for (const SweepCalibration& c : spec.calibrations) {
        if (c.gpu != gpu.name || c.kernel != kernel.name) continue;
        costs.back() = read_calibration(c.file, gpu, kernel);
        cost_sources.back() = c.file.string();
      }
    }
  }
  std::vector<PatternSpec> points;
  std::vector<std::string> labels;
  for (const SweepPattern& pattern : spec.patterns) {
    for (const auto& params : expand(pattern)) {
      points.push_back(make_pattern_spec(pattern.family, params, spec.source));
      std::string label;
      for (const auto& [key, value] : params)
        label += (label.empty() ? "" : ";") + key + "=" + value;
      labels.push_back(label);
    }
  }

  std::string csv =
      "pattern,params,gpu,kernel,batch,heads,seq_q,seq_kv,tiles_full,tiles_partial,"
      "tiles_empty_visited,density_tokens,density_tiles,speedup_bound_flop,speedup_bound_tiles,"
      "speedup_bound_sched,speedup_bound_worst_q,predicted_ms,predicted_dense_ms,"
      "predicted_speedup,waves,"
      "wave_efficiency,tail_fraction,memory_bound,cost_model\n";
  common::ProgressLine progress("sweep", points.size() * gpus.size() * kernels.size(), std::cerr,
                                show_progress);
  char numbers[512];
  for (std::size_t p = 0; p < points.size(); ++p) {
    const Workload workload{labels[p], generate_pattern(points[p])};
    for (std::size_t gi = 0; gi < gpus.size(); ++gi) {
      for (std::size_t ki = 0; ki < kernels.size(); ++ki) {
        const GpuSpec& gpu = gpus[gi];
        const KernelSpec& kernel = kernels[ki];
        const std::size_t pair = gi * kernels.size() + ki;
        throw_if_invalid(check_workload(workload, kernel), spec.source + ": " + labels[p]);
        const Result r = simulate(workload, gpu, kernel, costs[pair]);
        std::snprintf(numbers, sizeof numbers,
                      "%lld,%lld,%lld,%lld,%lld,%lld,%lld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,"
                      "%.9g,%.9g,%.9g,%.9g,%.9g,%d,",
                      static_cast<long long>(r.batch), static_cast<long long>(r.heads),
                      static_cast<long long>(r.seq_q), static_cast<long long>(r.seq_kv),
                      static_cast<long long>(r.tiles_full), static_cast<long long>(r.tiles_partial),
                      static_cast<long long>(r.tiles_empty_visited), r.density_tokens,
                      r.density_tiles, r.speedup_bound_flop, r.speedup_bound_tiles,
                      r.speedup_bound_sched, r.speedup_bound_worst_q, r.predicted_ms,
                      r.predicted_dense_ms, r.predicted_speedup, r.waves, r.wave_efficiency,
                      r.tail_fraction, r.memory_bound ? 1 : 0);
        csv += points[p].family + "," + csv_field(labels[p]) + "," + csv_field(gpu.name) + "," +
               csv_field(kernel.name) + "," + numbers + csv_field(cost_sources[pair]) + "\n";
        progress.advance();
      }
    }
  }
  progress.finish();
  return csv;
}

std::string sweep_help() {
  return "Sweep YAML:\n"
         "  gpus: [h200, h100]              # presets or YAML paths\n"
         "  kernels: [flexattention, fa3]\n"
         "  patterns:\n"
         "    - pattern: causal_window       # a `tilesim gen` family\n"
         "      seq: [8192, 32768]           # any gen parameter; lists are swept\n"
         "      heads: 32\n"
         "      window: [512, 1024, 2048]\n"
         "  calibrations:                    # optional, per (GPU, kernel); paths relative to\n"
         "    - {gpu: h200, kernel: golden, file: ../calibrations/h200_golden_d128.json}\n"
         "Every combination of list values is one mask; each mask runs on every GPU x kernel\n"
         "with its calibration, else the kernel's uncalibrated cost model (column cost_model).\n"
         "CSV columns match the JSON field names.\n";
}

}  // namespace attnsim::gpu
