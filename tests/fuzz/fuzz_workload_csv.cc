// Fuzz target: a SpAtten workload CSV as spatten-sim reads it.
#include <string>

#include "sim/common/spatten_workload_csv.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return attnsim::fuzz::only_input_errors(
      [&] { attnsim::common::parse_spatten_workload(text, "workload.csv"); });
}
