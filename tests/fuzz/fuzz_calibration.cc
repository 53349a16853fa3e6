// Fuzz target: a calibration JSON file as `tilesim predict --calibration` reads it, against the
// shipped h200 and the kernel the file names (so the checks past the header are reached).
#include <boost/json.hpp>

#include "sim/common/json_output.h"
#include "sim/gpu/calibration.h"
#include "sim/gpu/presets.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const attnsim::gpu::PresetDirs dirs{attnsim::fuzz::source_dir() / "sim/gpu/presets"};
  static const attnsim::gpu::GpuSpec gpu = attnsim::gpu::load_gpu("h200", dirs);
  static const attnsim::gpu::KernelSpec base = attnsim::gpu::load_kernel("flexattention", dirs);
  const auto path = attnsim::fuzz::scratch_file(data, size, "calibration.json");
  return attnsim::fuzz::only_input_errors([&] {
    attnsim::gpu::KernelSpec kernel = base;
    const boost::json::value root = attnsim::common::read_json_file(path);
    if (const auto* object = root.if_object()) {
      if (const auto* name = object->if_contains("kernel"); name && name->is_string()) {
        kernel.name = std::string(name->get_string());
      }
    }
    attnsim::gpu::read_calibration(path, gpu, kernel);
  });
}
