// Google Benchmark for the simulator's hot path: read a mask file and simulate it (what
// `tilesim predict` does per mask), on generated masks and on mask files given as arguments;
// the in-memory parts alone: BlockMask arrays to BlockLayout (`convert/`, arrays already
// mapped), simulation of a loaded mask (`simulate/`), and generating 1M-token patterns in list
// form (`generate/`).
//
//   tilesim_benchmark [benchmark flags] [--kernel=NAME] [--gpu=NAME] [MASK.npz ...]
//
// Not part of ctest: speed claims live here and in scripts/python/attnsim/tilesim_bench.py.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sim/common/npy.h"
#include "sim/gpu/mask_formats.h"
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

// The BlockMask conversion alone, on arrays mapped once (no file reading inside the loop).
void convert_flex(benchmark::State& state, const std::string& path) {
  const attnsim::common::NpzReader npz(path);
  const auto view = [&](const char* name) {
    const attnsim::common::NpyView& v = npz.view(name);
    return IntArrayView{v.data, v.dtype, v.size()};
  };
  FlexBlockViews views;
  const std::vector<std::int64_t>& shape = npz.view("kv_indices").shape;
  views.geometry = {shape[0], shape[1], shape[2] * 128, shape[3] * 128, 128, 128};
  views.max_kv = shape[3];
  views.kv_num_blocks = view("kv_num_blocks");
  views.kv_indices = view("kv_indices");
  if (npz.has("full_kv_indices")) {
    views.full_kv_num_blocks = view("full_kv_num_blocks");
    views.full_kv_indices = view("full_kv_indices");
  }
  for (auto _ : state) {
    const BlockLayout layout = layout_from_flex_views(views, path);
    benchmark::DoNotOptimize(layout.kv_block.data());
  }
}

void generate(benchmark::State& state, const std::string& description) {
  for (auto _ : state) {
    const BlockLayout layout = generate_inline_pattern(description, "benchmark");
    state.counters["blocks"] = static_cast<double>(layout.entries());
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
    if (attnsim::common::NpzReader(mask).has("kv_indices")) {
      benchmark::RegisterBenchmark(("convert/" + mask).c_str(), convert_flex, mask)
          ->Unit(benchmark::kMillisecond);
    }
  }
  if (masks.empty()) {
    for (const char* description :
         {"causal,seq=32768,heads=32", "block_topk,seq=32768,heads=32,density=0.1",
          "causal,seq=131072,heads=32", "causal_window,seq=1048576,window=8192"}) {
      benchmark::RegisterBenchmark((std::string("simulate/") + description).c_str(),
                                   simulate_generated, machine, description)
          ->Unit(benchmark::kMillisecond);
    }
    // One head of each list-form generator at 1M tokens (the 64-head times are 64x these).
    for (const char* description :
         {"a_shape,seq=1048576,sinks=128,window=4096", "causal_window,seq=1048576,window=8192",
          "sliding_window,seq=1048576,window=4095",
          "vertical_slash,seq=1048576,verticals=64,slashes=64", "vertical_slash,seq=1048576",
          "block_topk,seq=1048576,k=16"}) {
      benchmark::RegisterBenchmark((std::string("generate/") + description).c_str(), generate,
                                   description)
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
