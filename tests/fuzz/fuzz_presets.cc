// Fuzz target: kernel and GPU preset YAML (inherits resolves against the shipped presets).
#include "sim/gpu/presets.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const attnsim::gpu::PresetDirs dirs{attnsim::fuzz::source_dir() / "sim/gpu/presets"};
  const auto path = attnsim::fuzz::scratch_file(data, size, "preset.yaml");
  attnsim::fuzz::only_input_errors([&] { attnsim::gpu::load_kernel(path.string(), dirs); });
  return attnsim::fuzz::only_input_errors([&] { attnsim::gpu::load_gpu(path.string(), dirs); });
}
