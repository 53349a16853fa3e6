// Fuzz target: an attention trace .npz (traces/README.md) as spatten-sim and spatten-trace read it.
#include "sim/common/attention_trace.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = attnsim::fuzz::scratch_file(data, size, "trace.npz");
  return attnsim::fuzz::only_input_errors([&] { attnsim::common::read_attention_trace(path); });
}
