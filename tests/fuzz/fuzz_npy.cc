// Fuzz target: .npy bytes, parsed in place and converted as the readers of masks and traces do.
#include "sim/common/npy.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return attnsim::fuzz::only_input_errors([&] {
    const attnsim::common::NpyView view =
        attnsim::common::parse_npy_view(data, size, nullptr, "fuzz.npy");
    const attnsim::common::NpyArray array = view.copy();
    if (array.size() <= (1 << 16)) {
      array.to_float64("fuzz.npy", "a");
      array.to_int64("fuzz.npy", "a");
      array.to_text("fuzz.npy", "a");
    }
  });
}
