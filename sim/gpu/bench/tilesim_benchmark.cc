// Google Benchmark for the simulator's hot path: read a mask file and simulate it (what
// `tilesim predict` does per mask), on generated masks and on mask files given as arguments.
//
//   tilesim_benchmark [benchmark flags] [--kernel=NAME] [--gpu=NAME] [MASK.npz ...]
//
// Not part of ctest: speed claims live here and in scripts/pyattnsim/tilesim_bench.py.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sim/gpu/mask_io.h"
#include "sim/gpu/patterns/pattern.h"
#include "sim/gpu/presets.h"
#include "sim/gpu/simulate.h"

namespace {

using namespace attnsim::gpu;

struct Machine {
  GpuSpec gpu;
  KernelSpec kernel;
  CostParams cost;
};

void simulate_file(benchmark::State& state, const Machine& machine, const std::string& path) {
  for (auto _ : state) {
    const Result r = simulate({path, read_mask(path)}, machine.gpu, machine.kernel, machine.cost);
    benchmark::DoNotOptimize(r.predicted_ms);
  }
}

void simulate_loaded(benchmark::State& state, const Machine& machine, const std::string& path) {
  const Workload workload{path, read_mask(path)};
  for (auto _ : state) {
    const Result r = simulate(workload, machine.gpu, machine.kernel, machine.cost);
    benchmark::DoNotOptimize(r.predicted_ms);
  }
}

void simulate_generated(benchmark::State& state, const Machine& machine,
                        const std::string& description) {
  const Workload workload{description, generate_inline_pattern(description, "benchmark")};
  state.counters["blocks"] = static_cast<double>(workload.mask.entries());
  for (auto _ : state) {
    const Result r = simulate(workload, machine.gpu, machine.kernel, machine.cost);
    benchmark::DoNotOptimize(r.predicted_ms);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::string gpu = "h200", kernel = "flexattention";
  std::vector<std::string> masks;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--kernel=", 0) == 0) {
      kernel = arg.substr(9);
    } else if (arg.rfind("--gpu=", 0) == 0) {
      gpu = arg.substr(6);
    } else {
      masks.push_back(arg);
    }
  }
  const PresetDirs dirs{ATTNSIM_GPU_PRESETS_SOURCE_DIR};
  static Machine machine;
  machine.gpu = load_gpu(gpu, dirs);
  machine.kernel = load_kernel(kernel, dirs);
  machine.cost = default_cost_params(machine.gpu, machine.kernel);
  for (const std::string& mask : masks) {
    benchmark::RegisterBenchmark(("read_and_simulate/" + mask).c_str(), simulate_file, machine,
                                 mask)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("simulate/" + mask).c_str(), simulate_loaded, machine, mask)
        ->Unit(benchmark::kMillisecond);
  }
  if (masks.empty()) {
    for (const char* description :
         {"causal,seq=32768,heads=32", "block_topk,seq=32768,heads=32,density=0.1",
          "causal,seq=131072,heads=32", "causal_window,seq=1048576,window=8192"}) {
      benchmark::RegisterBenchmark((std::string("simulate/") + description).c_str(),
                                   simulate_generated, machine, description)
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
