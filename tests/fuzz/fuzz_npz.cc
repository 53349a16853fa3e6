// Fuzz target: .npz archives (zip directory, zip64 records, deflate, CRC-32, member headers).
#include "sim/common/npy.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = attnsim::fuzz::scratch_file(data, size, "fuzz.npz");
  return attnsim::fuzz::only_input_errors([&] {
    const attnsim::common::NpzReader reader(path);
    for (const std::string& name : reader.names()) reader.view(name);
  });
}
