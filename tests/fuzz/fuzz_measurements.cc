// Fuzz target: a measurements JSON file as `tilesim calibrate` reads it.
#include "sim/gpu/calibration.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = attnsim::fuzz::scratch_file(data, size, "measurements.json");
  return attnsim::fuzz::only_input_errors([&] { attnsim::gpu::read_measurements(path); });
}
