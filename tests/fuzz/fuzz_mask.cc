// Fuzz target: mask files as tilesim reads them (dense and FlexAttention .npz layouts, rules,
// tilings, .npy class arrays); the first bytes choose the extension read_mask dispatches on.
#include "sim/gpu/mask_io.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const bool zip = size >= 2 && data[0] == 'P' && data[1] == 'K';
  const auto path = attnsim::fuzz::scratch_file(data, size, zip ? "mask.npz" : "mask.npy");
  return attnsim::fuzz::only_input_errors([&] { attnsim::gpu::read_mask(path); });
}
